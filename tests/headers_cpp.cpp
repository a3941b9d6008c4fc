// The public headers must compile as C++ (extern "C", no C-only syntax in
// macros) with every warning an error; the options INIT macros must be
// usable from C++ too. After xkbcommon's test/headers-compatibility.cpp.
#include <shopcrm.h>
#include <shopcrm.h> // include guards

#include <cstdio>
#include <cstring>

int main()
{
    static_assert(SCRM_OK == 0, "SCRM_OK is 0");
    static_assert(SCRM_VERSION_NUMBER ==
                      SCRM_VERSION_MAJOR * 10000 + SCRM_VERSION_MINOR * 100 + SCRM_VERSION_PATCH,
                  "version number");

    // Every options INIT macro must be a valid C++ initialiser.
    scrm_dataset_options dopts = SCRM_DATASET_OPTIONS_INIT;
    scrm_csv_options copts = SCRM_CSV_OPTIONS_INIT;
    scrm_rfm_options ropts = SCRM_RFM_OPTIONS_INIT;
    scrm_kpi_options kopts = SCRM_KPI_OPTIONS_INIT;
    if (dopts.version != SCRM_DATASET_OPTIONS_VERSION || copts.version != SCRM_CSV_OPTIONS_VERSION ||
        ropts.version != SCRM_RFM_OPTIONS_VERSION || kopts.version != SCRM_KPI_OPTIONS_VERSION)
        return 1;

    // Linking from C++ must find the C symbols (extern "C").
    if (std::strcmp(scrm_version(), SCRM_VERSION_STRING) != 0) {
        std::fprintf(stderr, "scrm_version() = %s, header says %s\n", scrm_version(),
                     SCRM_VERSION_STRING);
        return 1;
    }
    scrm_dataset *ds = nullptr;
    if (scrm_dataset_new(&ds, &dopts) != SCRM_OK)
        return 1;
    scrm_dataset_free(ds);
    std::puts("headers compile and link as C++");
    return 0;
}
