/*
 * Private interface between the hand-written part of the Node addon
 * (addon.c: module init, errors, handles, columns, options) and the
 * generated glue (gen_functions.c, written by bindings/gen/gen_node.py).
 *
 * Conventions of every helper: return 1 on success; on failure throw a
 * JavaScript exception (or leave the pending one) and return 0.
 */
#ifndef SHOPCRM_NODE_ADDON_H
#define SHOPCRM_NODE_ADDON_H

#include <node_api.h>
#include <shopcrm.h>
#include <stddef.h>
#include <stdint.h>

/* Every napi_* status goes through this macro (nodejs doc/api/n-api.md,
 * NAPI_CALL): on failure it throws an Error built from
 * napi_get_last_error_info() unless an exception is already pending, then
 * runs ON_FAIL (return NULL, return 0, goto done). */
#define SN_NAPI(env, call, on_fail)                  \
    do {                                             \
        napi_status sn_status_ = (call);             \
        if (sn_status_ != napi_ok) {                 \
            sn_throw_napi((env), sn_status_, #call); \
            on_fail;                                 \
        }                                            \
    } while (0)
/** The common case: in a napi_callback, return NULL on failure. */
#define NAPI_CALL(env, call) SN_NAPI(env, call, return NULL)

void sn_throw_napi(napi_env env, napi_status status, const char *call);

/* ---- handles ---------------------------------------------------------- */

/* The handle types (enum sn_handle_type, one JS wrapper class each), generated
 * from the handle typedefs of the headers. */
#include "gen_handles.h"

/** What the wrapper of a handle type needs (generated: sn_gen_handle_types). */
typedef struct sn_handle_info {
    const char *class_name;
    void (*free_fn)(void *); /* scrm_x_free */
    napi_type_tag tag;       /* napi_type_tag_object: type-checked unwrap */
} sn_handle_info;
extern const sn_handle_info sn_gen_handle_types[SN_HANDLE_COUNT];

/** A wrapped handle (addon.c): the native pointer, its pins and its owner. */
typedef struct sn_handle sn_handle;

/** Unwrap a handle of type @p type (a closed handle throws SCRM_ESTATE).
 *  With @p nullable, null/undefined give *out = NULL. */
int sn_get_handle(napi_env env, napi_value v, sn_handle_type type, int nullable,
                  const char *what, void **out);
/** Like sn_get_handle, for a parameter the C function changes (`scrm_x *`,
 *  not const): refused while another running call uses the handle. */
int sn_get_handle_mut(napi_env env, napi_value v, sn_handle_type type, int nullable,
                      const char *what, void **out);
/** Wrap a new handle that the wrapper owns (freed by its finalizer or close). */
napi_value sn_wrap_handle(napi_env env, sn_handle_type type, void *ptr);
/** Implementation of scrm_x_free(handle): close the wrapper. */
napi_value sn_close_handle(napi_env env, napi_callback_info info, sn_handle_type type);
/** Like sn_get_handle (not nullable), also giving the wrapper, for results
 *  whose memory must outlive the call (columns, borrowed handles). */
int sn_get_handle_ref(napi_env env, napi_value v, sn_handle_type type, const char *what,
                      sn_handle **h, void **out);
/** Wrap @p ptr, owned by the native object of @p owner, which stays pinned
 *  while the new wrapper lives (a getter's result lives as long as its parent). */
napi_value sn_wrap_borrowed(napi_env env, sn_handle_type type, void *ptr, sn_handle *owner);
/** A TypedArray over @p count elements at @p data, owned by @p h: an external
 *  ArrayBuffer that pins @p h until collected (a copy where external buffers
 *  are not allowed, or when @p data is NULL or @p count is 0). */
napi_value sn_column(napi_env env, sn_handle *h, const void *data, size_t count, size_t elem,
                     napi_typedarray_type type);

/* ---- arguments -------------------------------------------------------- */

/** Get exactly the first @p n arguments (missing ones are undefined). */
int sn_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv);
int sn_get_i32(napi_env env, napi_value v, const char *what, int32_t *out);
int sn_get_u32(napi_env env, napi_value v, const char *what, uint32_t *out);
int sn_get_int(napi_env env, napi_value v, const char *what, int *out);
int sn_get_uint(napi_env env, napi_value v, const char *what, unsigned *out);
int sn_get_i64(napi_env env, napi_value v, const char *what, int64_t *out);
int sn_get_u64(napi_env env, napi_value v, const char *what, uint64_t *out);
int sn_get_double(napi_env env, napi_value v, const char *what, double *out);

/** Byte strings: a JS string (encoded as UTF-8) or a Buffer/Uint8Array.
 *  Always NUL-terminated; *len excludes the NUL. Release with sn_bytes_free. */
typedef struct sn_bytes {
    char *data;
    size_t len;
    int owned; /* data was malloc'd */
} sn_bytes;
/* need_nul 0: the C function takes an explicit length, so a Buffer is
 * borrowed (not terminated); 1: a C string, copied and checked for NULs. */
int sn_get_bytes(napi_env env, napi_value v, int nullable, int need_nul, const char *what,
                 sn_bytes *out);
void sn_bytes_free(sn_bytes *b);
/** The length argument of bytes @p b: undefined means all of them; a value
 *  must not exceed them (a negative int64 length means "NUL-terminated"). */
int sn_get_len_i64(napi_env env, napi_value v, const sn_bytes *b, const char *what, int64_t *out);
int sn_get_len_u64(napi_env env, napi_value v, const sn_bytes *b, const char *what, uint64_t *out);

/** A TypedArray argument of type @p type with at least @p min_len elements
 *  (borrowed for the call). With @p nullable, null/undefined give NULL. */
int sn_get_array(napi_env env, napi_value v, napi_typedarray_type type, int nullable,
                 uint64_t min_len, const char *what, void **data, size_t *len);

/* ---- results ---------------------------------------------------------- */

napi_value sn_from_i32(napi_env env, int32_t v);
napi_value sn_from_u32(napi_env env, uint32_t v);
napi_value sn_from_i64(napi_env env, int64_t v); /* BigInt */
napi_value sn_from_u64(napi_env env, uint64_t v); /* BigInt */
napi_value sn_from_double(napi_env env, double v);
napi_value sn_from_string(napi_env env, const char *s); /* NULL gives null */
napi_value sn_from_string_len(napi_env env, const char *s, size_t len);
napi_value sn_undefined(napi_env env);
napi_value sn_null(napi_env env);
/** Throw a RangeError "what: detail"; returns NULL. */
napi_value sn_throw_range(napi_env env, const char *what, const char *detail);
/** A new TypedArray of @p count elements of @p elem bytes that JS owns; its
 *  memory in *data (for outputs the library writes). */
napi_value sn_new_typedarray(napi_env env, napi_typedarray_type type, size_t count, size_t elem,
                             void **data);
/** Set @p obj[name] = @p v; 0 on failure (exception pending). */
int sn_set(napi_env env, napi_value obj, const char *name, napi_value v);

/** Throw a ShopcrmError for library return code @p rc (with scrm_last_error()
 *  and scrm_last_error_index()); returns NULL for `return sn_throw_scrm(...)`. */
napi_value sn_throw_scrm(napi_env env, int rc);

/* ---- options structs -------------------------------------------------- */

typedef enum sn_field_kind {
    SN_F_INT,
    SN_F_UINT,
    SN_F_I32,
    SN_F_U32,
    SN_F_I64,
    SN_F_U64,
    SN_F_DOUBLE,
    SN_F_STRING,    /* const char *: a JS string, copied for the call */
    SN_F_F64_ARRAY, /* const double *: Float64Array or Array of numbers */
    SN_F_I64_ARRAY, /* const int64_t *: BigInt64Array or Array of integers */
    SN_F_STR_ARRAY, /* const char *const *: Array of strings, copied for the call */
    SN_F_HANDLE,    /* const scrm_x *: a wrapped handle (handle_type) */
    SN_F_PROGRESS,  /* scrm_progress_fn: a JS function, called synchronously */
    SN_F_PAYLOAD    /* void *: the payload of the preceding callback; not from JS */
} sn_field_kind;

typedef struct sn_field {
    const char *name;
    size_t offset;
    sn_field_kind kind;
    int handle_type; /* SN_F_HANDLE only */
} sn_field;

struct sn_scratch;
typedef struct sn_struct {
    const char *name;   /* C type name */
    size_t size;
    unsigned version;   /* the *_OPTIONS_VERSION the addon was built with */
    int (*init)(void *opts, unsigned version);
    const sn_field *fields;
    size_t n_fields;
    /* The declared lengths of its array fields (@scrm_len), checked once all
     * fields are read; NULL when there are none. */
    int (*check)(napi_env env, const void *opts, const struct sn_scratch *scr);
} sn_struct;

#define SN_SCRATCH_MAX 32
/* Room for the short texts of (char *buf, uint32_t cap) outputs: period and
 * cohort labels, times, money (each header bounds them far below). */
#define SN_TEXT_MAX 128
/** Per-call state of an options conversion: copies to free, progress callback. */
typedef struct sn_scratch {
    void *allocs[SN_SCRATCH_MAX];
    size_t n_allocs;
    size_t array_len[SN_SCRATCH_MAX]; /* element count of SN_F_*_ARRAY fields, by field index */
    napi_env env;
    napi_value progress;  /* the JS callback, valid during the call */
    napi_ref exception;   /* what the callback threw, rethrown after the call */
    int napi_failed;      /* calling the callback failed inside N-API */
} sn_scratch;

void sn_scratch_init(sn_scratch *s, napi_env env);
/** Right before the C call (after every argument conversion): look the
 *  borrowed inputs of the call up again (JavaScript may have detached them)
 *  and, when @p scr has a progress callback, copy them into C memory.
 *  @p scr may be NULL. */
int sn_call_ready(napi_env env, const sn_scratch *scr);
/** Fill @p out from JS object @p v (null/undefined: defaults) via s->init first. */
int sn_options_from_js(napi_env env, napi_value v, const sn_struct *s, void *out,
                       sn_scratch *scr);
/** The scalar fields of @p opts as a new JS object (pointers as null). */
napi_value sn_options_to_js(napi_env env, const sn_struct *s, const void *opts);
/** After the library call: free the scratch and, when rc < 0, throw (what the
 *  progress callback threw, else a ShopcrmError). Returns 1 when rc >= 0. */
int sn_scratch_finish(napi_env env, sn_scratch *scr, int rc);

/* ---- export tables ---------------------------------------------------- */

typedef struct sn_export {
    const char *name;
    napi_callback fn;
} sn_export;

typedef struct sn_constant {
    const char *name;
    int64_t value;
} sn_constant;

/* Generated (gen_functions.c). */
extern const sn_export sn_gen_functions[];
extern const size_t sn_gen_function_count;
extern const sn_constant sn_gen_constants[];
extern const size_t sn_gen_constant_count;
extern const sn_constant sn_gen_error_names[]; /* the scrm_error enum: name, value */
extern const size_t sn_gen_error_name_count;
extern const sn_struct *const sn_gen_structs[];
extern const size_t sn_gen_struct_count;
/** The options struct description of C type @p name, or NULL. */
const sn_struct *sn_gen_struct(const char *name);

#endif /* SHOPCRM_NODE_ADDON_H */
