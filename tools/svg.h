/* A self-contained SVG heatmap writer for the `shopcrm cohorts` command
 * (no dependency beyond libc and libm). */
#ifndef SHOPCRM_TOOLS_SVG_H
#define SHOPCRM_TOOLS_SVG_H

#include <stdint.h>
#include <stdio.h>

/* A rows x cols matrix to draw. A cell is drawn when present[r * cols + c]
 * is non-zero (unobservable cells are left blank); its colour comes from
 * value[...] on the scale [lo, hi] (NaN: grey, "no value"), its caption is
 * text[...] (may be ""). */
struct svg_heatmap {
    const char *title;          /* first line, e.g. "Retention by monthly cohort" */
    const char *subtitle;       /* second line (file, mode, ...), may be NULL */
    const char *row_header;     /* header of the label column, e.g. "cohort" */
    const char *col_header;     /* caption over the columns, e.g. "months since acquisition" */
    uint32_t rows, cols;
    const char *const *row_label; /* rows labels ("2024-01") */
    const char *const *row_note;  /* rows short notes shown right of the label ("n=42"), or NULL */
    const double *value;        /* rows * cols values (row-major) */
    const char *const *text;    /* rows * cols captions */
    const unsigned char *present; /* rows * cols flags */
    double lo, hi;              /* colour scale; lo < hi */
    const char *lo_text, *hi_text; /* legend captions of lo and hi */
    const char *mid_text;       /* legend caption of (lo + hi) / 2 */
    const unsigned char *partial; /* rows * cols flags: cells of a partly observed
                                   * period (hatched, class "cell partial"), or NULL */
    const char *partial_text;   /* legend caption of the hatching, e.g. "2011-12: partial" */
};

/* Write the heatmap as an SVG 1.1 document. Cells are <rect class="cell">
 * (class "cell na" for a present cell without value, "partial" added for a
 * partial one, which a hatched <rect class="partial-mark"> covers) with data-row and
 * data-col attributes; returns 0, or -1 on a write error. *width_out and
 * *height_out (may be NULL) receive the picture's size in pixels. */
int svg_heatmap_write(FILE *f, const struct svg_heatmap *h, uint32_t *width_out,
                      uint32_t *height_out);

#endif
