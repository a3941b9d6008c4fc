/*
 * Node binding of libshopcrm: the hand-written part of the N-API addon.
 *
 * The mechanical glue (one wrapper per C function with plain arguments,
 * options-struct field tables, constants) is generated into
 * gen_functions.c by bindings/gen/gen_node.py; this file holds what needs
 * judgement: module init, the ShopcrmError class, handle wrappers and their
 * lifetime, zero-copy columns (sn_column; the getters themselves are
 * generated from the @scrm_len declarations of the headers), options
 * conversion with progress callbacks, and the two functions whose arguments
 * cannot be described (an array of strings; C allocator callbacks).
 *
 * Only <node_api.h> is used (ABI-stable across Node versions), NAPI_VERSION 8.
 */
#include "addon.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uchar.h>

/* ------------------------------------------------------------------------ */
/* Per-environment state (one per Node worker thread)                         */
/* ------------------------------------------------------------------------ */

typedef struct sn_state {
    napi_ref ctor[SN_HANDLE_COUNT]; /* wrapper class of each handle type */
    napi_ref error_ctor;            /* ShopcrmError */
    int constructing;               /* wrapper constructors refuse calls from JS */
    /* The handles and borrowed inputs of the calls now running (a stack:
     * a progress callback may call the addon again). Each exported function
     * runs through sn_call, which pops what its call pushed. */
    struct sn_pin *pins;
    size_t n_pins, cap_pins;
    struct sn_input *inputs;
    size_t n_inputs, cap_inputs;
    size_t frame_inputs; /* first input of the innermost call */
} sn_state;

static sn_state *sn_get_state(napi_env env)
{
    void *data = NULL;
    if (napi_get_instance_data(env, &data) != napi_ok)
        return NULL;
    return data;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                     */
/* ------------------------------------------------------------------------ */

void sn_throw_napi(napi_env env, napi_status status, const char *call)
{
    /* napi_get_last_error_info must come first: any other call resets it. */
    const napi_extended_error_info *info = NULL;
    char msg[256];
    const char *what = "unknown N-API error";
    if (napi_get_last_error_info(env, &info) == napi_ok && info && info->error_message)
        what = info->error_message;
    snprintf(msg, sizeof msg, "N-API call failed (%s, status %d): %s", call, (int)status, what);
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
        return;
    napi_throw_error(env, NULL, msg);
}

static const char *sn_code_name(int code)
{
    for (size_t i = 0; i < sn_gen_error_name_count; i++)
        if (sn_gen_error_names[i].value == code)
            return sn_gen_error_names[i].name;
    return "SCRM_EUNKNOWN";
}

/* Throw a ShopcrmError(message, code, codeName, index). Returns NULL. */
static napi_value sn_throw_error(napi_env env, int code, const char *message, int64_t index)
{
    sn_state *st = sn_get_state(env);
    napi_value ctor, argv[4], err;
    if (!st || !st->error_ctor) {
        napi_throw_error(env, NULL, message);
        return NULL;
    }
    NAPI_CALL(env, napi_get_reference_value(env, st->error_ctor, &ctor));
    NAPI_CALL(env, napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &argv[0]));
    NAPI_CALL(env, napi_create_int32(env, code, &argv[1]));
    NAPI_CALL(env, napi_create_string_utf8(env, sn_code_name(code), NAPI_AUTO_LENGTH, &argv[2]));
    NAPI_CALL(env, napi_create_int64(env, index, &argv[3]));
    NAPI_CALL(env, napi_new_instance(env, ctor, 4, argv, &err));
    NAPI_CALL(env, napi_throw(env, err));
    return NULL;
}

napi_value sn_throw_scrm(napi_env env, int rc)
{
    /* Read both right after the failing call, before anything else. */
    const char *msg = scrm_last_error();
    int64_t index = scrm_last_error_index();
    if (!msg || !*msg)
        msg = scrm_strerror(rc);
    return sn_throw_error(env, rc, msg, index);
}

/* new ShopcrmError(message, code, codeName, index): an Error subclass defined
 * here so the low-level layer throws it too; index.js re-exports it. */
static napi_value sn_error_construct(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4], self, global, error_fn, capture, msg;
    NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
    napi_value undef;
    NAPI_CALL(env, napi_get_undefined(env, &undef));
    for (size_t i = argc; i < 4; i++)
        argv[i] = undef;
    NAPI_CALL(env, napi_coerce_to_string(env, argv[0], &msg));
    napi_property_descriptor props[] = {
        {"message", NULL, NULL, NULL, NULL, msg, napi_writable | napi_configurable, NULL},
        {"code", NULL, NULL, NULL, NULL, argv[1], napi_default_jsproperty, NULL},
        {"codeName", NULL, NULL, NULL, NULL, argv[2], napi_default_jsproperty, NULL},
        {"index", NULL, NULL, NULL, NULL, argv[3], napi_default_jsproperty, NULL},
    };
    NAPI_CALL(env, napi_define_properties(env, self, 4, props));
    /* Error.captureStackTrace(this) gives it a .stack like any Error. */
    NAPI_CALL(env, napi_get_global(env, &global));
    NAPI_CALL(env, napi_get_named_property(env, global, "Error", &error_fn));
    NAPI_CALL(env, napi_get_named_property(env, error_fn, "captureStackTrace", &capture));
    napi_valuetype t;
    NAPI_CALL(env, napi_typeof(env, capture, &t));
    if (t == napi_function)
        NAPI_CALL(env, napi_call_function(env, error_fn, capture, 1, &self, NULL));
    return self;
}

/* class ShopcrmError extends Error, built with napi_define_class and
 * Object.setPrototypeOf (N-API has no direct way to subclass Error). */
static napi_value sn_define_error_class(napi_env env, sn_state *st)
{
    napi_value ctor, name, proto, global, object, set_proto, error_fn, error_proto;
    NAPI_CALL(env, napi_create_string_utf8(env, "ShopcrmError", NAPI_AUTO_LENGTH, &name));
    napi_property_descriptor props[] = {
        {"name", NULL, NULL, NULL, NULL, name, napi_writable | napi_configurable, NULL},
    };
    NAPI_CALL(env, napi_define_class(env, "ShopcrmError", NAPI_AUTO_LENGTH, sn_error_construct,
                                     NULL, 1, props, &ctor));
    NAPI_CALL(env, napi_get_named_property(env, ctor, "prototype", &proto));
    NAPI_CALL(env, napi_get_global(env, &global));
    NAPI_CALL(env, napi_get_named_property(env, global, "Object", &object));
    NAPI_CALL(env, napi_get_named_property(env, object, "setPrototypeOf", &set_proto));
    NAPI_CALL(env, napi_get_named_property(env, global, "Error", &error_fn));
    NAPI_CALL(env, napi_get_named_property(env, error_fn, "prototype", &error_proto));
    napi_value a1[2] = {proto, error_proto}, a2[2] = {ctor, error_fn};
    NAPI_CALL(env, napi_call_function(env, object, set_proto, 2, a1, NULL));
    NAPI_CALL(env, napi_call_function(env, object, set_proto, 2, a2, NULL));
    NAPI_CALL(env, napi_create_reference(env, ctor, 1, &st->error_ctor));
    return ctor;
}

static napi_value sn_throw_type(napi_env env, const char *what, const char *expected)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: expected %s", what, expected);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
}

napi_value sn_throw_range(napi_env env, const char *what, const char *detail)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", what, detail);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Handles                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * A wrapped handle. The native object is freed once nobody can reach it:
 * the JS wrapper was closed or collected AND no pin is left. Pins are taken
 * by zero-copy columns (external ArrayBuffers over the handle's arrays) and
 * by every call that uses the handle, for the length of the call (sn_pin_handle;
 * released by sn_call), and by borrowed child handles (the segment map of an
 * RFM result). So close() inside a progress callback, or a finalizer, only
 * marks the handle: it is freed when the call returns (deferred close). The struct
 * itself lives until the wrapper is collected and the last pin is gone.
 * Finalizers run on the JS thread: no locking.
 */
struct sn_handle {
    sn_handle_type type;
    void *ptr;               /* NULL once freed */
    unsigned pins;           /* running calls using it + borrowed children */
    unsigned readers;        /* running calls reading it (const parameter) */
    unsigned writers;        /* running calls changing it (append, load, add) */
    int js_alive;            /* the wrapper object is not collected yet */
    int closed;              /* close() / scrm_x_free() was called */
    struct sn_handle *owner; /* borrowed handle: ptr belongs to owner (pinned) */
};

static void sn_handle_unpin(sn_handle *h);

static void sn_handle_release_native(sn_handle *h)
{
    if (!h->ptr || h->pins > 0 || (h->js_alive && !h->closed))
        return;
    if (h->owner) {
        sn_handle *owner = h->owner;
        h->owner = NULL;
        h->ptr = NULL;
        sn_handle_unpin(owner);
    } else {
        sn_gen_handle_types[h->type].free_fn(h->ptr);
        h->ptr = NULL;
    }
}

static void sn_handle_unpin(sn_handle *h)
{
    h->pins--;
    sn_handle_release_native(h);
    if (!h->js_alive && h->pins == 0)
        free(h);
}

static void sn_handle_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    sn_handle *h = data;
    h->js_alive = 0;
    sn_handle_release_native(h);
    if (h->pins == 0)
        free(h);
}

/* The wrapper classes can only be instantiated from C. */
static napi_value sn_handle_construct(napi_env env, napi_callback_info info)
{
    napi_value self;
    NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
    sn_state *st = sn_get_state(env);
    if (!st || !st->constructing) {
        napi_throw_type_error(env, NULL,
                              "shopcrm handles are created by library functions, not with new");
        return NULL;
    }
    return self;
}

/* Wrap an sn_handle in a new instance of its class; on failure the handle
 * struct is freed but not the native pointer (the caller frees that). */
static napi_value sn_wrap(napi_env env, sn_handle *h)
{
    sn_state *st = sn_get_state(env);
    napi_value ctor, obj;
    if (!st) {
        free(h);
        napi_throw_error(env, NULL, "shopcrm addon state missing");
        return NULL;
    }
    SN_NAPI(env, napi_get_reference_value(env, st->ctor[h->type], &ctor), goto fail);
    st->constructing = 1;
    napi_status s = napi_new_instance(env, ctor, 0, NULL, &obj);
    st->constructing = 0;
    SN_NAPI(env, s, goto fail);
    SN_NAPI(env, napi_type_tag_object(env, obj, &sn_gen_handle_types[h->type].tag), goto fail);
    SN_NAPI(env, napi_wrap(env, obj, h, sn_handle_finalize, NULL, NULL), goto fail);
    return obj;
fail:
    free(h);
    return NULL;
}

napi_value sn_wrap_handle(napi_env env, sn_handle_type type, void *ptr)
{
    sn_handle *h = calloc(1, sizeof *h);
    if (!h) {
        sn_gen_handle_types[type].free_fn(ptr);
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    h->type = type;
    h->ptr = ptr;
    h->js_alive = 1;
    napi_value obj = sn_wrap(env, h);
    if (!obj)
        sn_gen_handle_types[type].free_fn(ptr);
    return obj;
}

/* A handle whose memory belongs to @p owner (kept alive by a pin). */
napi_value sn_wrap_borrowed(napi_env env, sn_handle_type type, void *ptr, sn_handle *owner)
{
    sn_handle *h = calloc(1, sizeof *h);
    if (!h) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    h->type = type;
    h->ptr = ptr;
    h->js_alive = 1;
    h->owner = owner;
    owner->pins++;
    napi_value obj = sn_wrap(env, h);
    if (!obj)
        sn_handle_unpin(owner);
    return obj;
}

/* Find the sn_handle of @p v, checking its type; closed handles are returned. */
static int sn_unwrap_raw(napi_env env, napi_value v, sn_handle_type type, const char *what,
                         sn_handle **out)
{
    napi_valuetype t;
    bool ok = false;
    void *data = NULL;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    if (t == napi_object)
        SN_NAPI(env, napi_check_object_type_tag(env, v, &sn_gen_handle_types[type].tag, &ok),
                return 0);
    if (!ok) {
        sn_throw_type(env, what, sn_gen_handle_types[type].class_name);
        return 0;
    }
    SN_NAPI(env, napi_unwrap(env, v, &data), return 0);
    *out = data;
    return 1;
}

typedef struct sn_pin {
    sn_handle *h;
    sn_handle *guard; /* whose readers/writers count it (sn_guard_of(h)) */
    int mut;
} sn_pin;

/* The reader/writer guard of a handle is its root owner's: a second wrapper of
 * the same native object (retainHandle) or a borrowed child shares it, so a
 * progress callback cannot read the dataset through a result's reference
 * while an append changes it. */
static sn_handle *sn_guard_of(sn_handle *h)
{
    while (h->owner)
        h = h->owner;
    return h;
}

typedef struct sn_input {
    napi_value v;   /* the TypedArray / Buffer, alive in the call's handle scope */
    void **slot;    /* where the call reads the data pointer from */
    size_t bytes;   /* as checked when the argument was converted */
    const char *what;
    void *copy;     /* C-owned copy, freed when the call returns */
} sn_input;

static int sn_grow(napi_env env, void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p) {
        napi_throw_error(env, NULL, "out of memory");
        return 0;
    }
    *arr = p;
    *cap = ncap;
    return 1;
}

/* Pin @p h for the running call: it cannot be freed (close() and finalizers
 * are deferred) until sn_call returns. The C rule "no append while anything
 * reads the dataset, no two appends" is enforced here: in one isolate the only
 * way to break it is from a progress callback, which then gets SCRM_ESTATE. */
static int sn_pin_handle(napi_env env, sn_handle *h, int mut, const char *what)
{
    sn_state *st = sn_get_state(env);
    char msg[256];
    if (!st) {
        napi_throw_error(env, NULL, "shopcrm addon state missing");
        return 0;
    }
    const char *cls = sn_gen_handle_types[h->type].class_name;
    if (mut && h->owner) {
        snprintf(msg, sizeof msg, "%s: this %s belongs to a result and is read-only", what, cls);
        sn_throw_error(env, SCRM_ESTATE, msg, -1);
        return 0;
    }
    sn_handle *g = sn_guard_of(h);
    if ((mut && (g->readers || g->writers)) || (!mut && g->writers)) {
        snprintf(msg, sizeof msg,
                 "%s: the %s is in use by a running call (%s); a progress callback "
                 "cannot %s it", what, cls, g->writers ? "an append or load" : "an analysis",
                 mut ? "change" : "read");
        sn_throw_error(env, SCRM_ESTATE, msg, -1);
        return 0;
    }
    if (!sn_grow(env, (void **)&st->pins, &st->cap_pins, st->n_pins + 1, sizeof *st->pins))
        return 0;
    st->pins[st->n_pins++] = (sn_pin){h, g, mut};
    h->pins++;
    if (mut)
        g->writers++;
    else
        g->readers++;
    return 1;
}

static int sn_get_handle_mode(napi_env env, napi_value v, sn_handle_type type, int nullable,
                              int mut, const char *what, void **out, sn_handle **h_out)
{
    if (nullable) {
        napi_valuetype t;
        SN_NAPI(env, napi_typeof(env, v, &t), return 0);
        if (t == napi_null || t == napi_undefined) {
            *out = NULL;
            return 1;
        }
    }
    sn_handle *h;
    if (!sn_unwrap_raw(env, v, type, what, &h))
        return 0;
    if (h->closed || !h->ptr) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s: the %s handle is closed", what,
                 sn_gen_handle_types[type].class_name);
        sn_throw_error(env, SCRM_ESTATE, msg, -1);
        return 0;
    }
    if (!sn_pin_handle(env, h, mut, what))
        return 0;
    *out = h->ptr;
    if (h_out)
        *h_out = h;
    return 1;
}

int sn_get_handle(napi_env env, napi_value v, sn_handle_type type, int nullable,
                  const char *what, void **out)
{
    return sn_get_handle_mode(env, v, type, nullable, 0, what, out, NULL);
}

int sn_get_handle_mut(napi_env env, napi_value v, sn_handle_type type, int nullable,
                      const char *what, void **out)
{
    return sn_get_handle_mode(env, v, type, nullable, 1, what, out, NULL);
}

int sn_get_handle_ref(napi_env env, napi_value v, sn_handle_type type, const char *what,
                      sn_handle **h, void **out)
{
    return sn_get_handle_mode(env, v, type, 0, 0, what, out, h);
}

/* Remember a borrowed input (TypedArray or Buffer memory) of the running
 * call, so that sn_call_ready can look it up again or copy it. */
static int sn_register_input(napi_env env, napi_value v, void **slot, size_t bytes,
                             const char *what)
{
    sn_state *st = sn_get_state(env);
    if (!st) {
        napi_throw_error(env, NULL, "shopcrm addon state missing");
        return 0;
    }
    if (!sn_grow(env, (void **)&st->inputs, &st->cap_inputs, st->n_inputs + 1,
                 sizeof *st->inputs))
        return 0;
    st->inputs[st->n_inputs++] = (sn_input){v, slot, bytes, what, NULL};
    return 1;
}

/*
 * Called by every wrapper after its last argument conversion, right before
 * the C call. Converting arguments can run JavaScript (getters of an options
 * object, of an Array's elements), and so can a progress callback during the
 * call; either may detach or shrink an input's ArrayBuffer (a transfer, a
 * resize), which would leave the library reading freed memory. So: the data
 * pointer of every borrowed input is looked up again here, and when the call
 * has a progress callback the input is copied into C-owned memory first (the
 * copy is freed when the call returns). Without a callback no JavaScript runs
 * between here and the end of the call, and nothing is copied.
 */
int sn_call_ready(napi_env env, const sn_scratch *scr)
{
    sn_state *st = sn_get_state(env);
    if (!st)
        return 1;
    int copy = scr && scr->progress;
    for (size_t i = st->frame_inputs; i < st->n_inputs; i++) {
        sn_input *in = &st->inputs[i];
        if (in->copy)
            continue;
        void *data = NULL;
        size_t bytes = 0;
        bool is_ta = false;
        SN_NAPI(env, napi_is_typedarray(env, in->v, &is_ta), return 0);
        if (is_ta) {
            napi_typedarray_type tt;
            size_t n;
            napi_value ab;
            size_t off;
            SN_NAPI(env, napi_get_typedarray_info(env, in->v, &tt, &n, &data, &ab, &off),
                    return 0);
            size_t elem = tt == napi_float64_array || tt == napi_bigint64_array ||
                                  tt == napi_biguint64_array ? 8
                          : tt == napi_int32_array || tt == napi_uint32_array ||
                                  tt == napi_float32_array ? 4
                          : tt == napi_int16_array || tt == napi_uint16_array ? 2 : 1;
            bytes = n * elem;
        }
        if (bytes < in->bytes || (in->bytes && !data)) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s: the array was detached or shrunk before the call",
                     in->what);
            napi_throw_type_error(env, NULL, msg);
            return 0;
        }
        if (copy && in->bytes) {
            in->copy = malloc(in->bytes);
            if (!in->copy) {
                napi_throw_error(env, NULL, "out of memory");
                return 0;
            }
            memcpy(in->copy, data, in->bytes);
            data = in->copy;
        }
        if (in->bytes)
            *in->slot = data;
    }
    return 1;
}

/* Every exported function runs through this: the handles it pins and the
 * inputs it copies are released when it returns, whatever happened. */
static napi_value sn_call(napi_env env, napi_callback_info info)
{
    void *data = NULL;
    NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, NULL, &data));
    const sn_export *e = data;
    sn_state *st = sn_get_state(env);
    if (!st) {
        napi_throw_error(env, NULL, "shopcrm addon state missing");
        return NULL;
    }
    size_t pin_base = st->n_pins, in_base = st->n_inputs, saved_frame = st->frame_inputs;
    st->frame_inputs = in_base;
    napi_value r = e->fn(env, info);
    while (st->n_inputs > in_base)
        free(st->inputs[--st->n_inputs].copy);
    st->frame_inputs = saved_frame;
    while (st->n_pins > pin_base) {
        sn_pin p = st->pins[--st->n_pins];
        if (p.mut)
            p.guard->writers--;
        else
            p.guard->readers--;
        sn_handle_unpin(p.h); /* frees it now if it was closed during the call */
    }
    return r;
}

napi_value sn_new_typedarray(napi_env env, napi_typedarray_type type, size_t count, size_t elem,
                             void **data)
{
    napi_value ab, ta;
    NAPI_CALL(env, napi_create_arraybuffer(env, count * elem, data, &ab));
    NAPI_CALL(env, napi_create_typedarray(env, type, count, ab, 0, &ta));
    return ta;
}

napi_value sn_close_handle(napi_env env, napi_callback_info info, sn_handle_type type)
{
    napi_value argv[1];
    if (!sn_args(env, info, 1, argv))
        return NULL;
    napi_valuetype t;
    NAPI_CALL(env, napi_typeof(env, argv[0], &t));
    if (t != napi_null && t != napi_undefined) { /* like scrm_x_free(NULL) */
        sn_handle *h;
        if (!sn_unwrap_raw(env, argv[0], type, "handle", &h))
            return NULL;
        h->closed = 1; /* closing twice is harmless, as free(NULL) */
        sn_handle_release_native(h);
    }
    return sn_undefined(env);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                  */
/* ------------------------------------------------------------------------ */

int sn_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv)
{
    size_t argc = n;
    SN_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), return 0);
    if (argc < n) {
        napi_value undef;
        SN_NAPI(env, napi_get_undefined(env, &undef), return 0);
        for (size_t i = argc; i < n; i++)
            argv[i] = undef;
    }
    return 1;
}

/* How a wrong value is named in a message, as index.js's shown() and the
 * Python binding's repr() name it: 1.5, 'text' (quoted), null, true, an object. */
static void sn_shown(napi_env env, napi_value v, char *buf, size_t cap)
{
    napi_valuetype t = napi_undefined;
    snprintf(buf, cap, "a value");
    if (napi_typeof(env, v, &t) != napi_ok)
        return;
    if (t == napi_object || t == napi_function || t == napi_symbol || t == napi_external) {
        snprintf(buf, cap, "%s", t == napi_function ? "a function"
                                 : t == napi_symbol ? "a symbol" : "an object");
        return;
    }
    napi_value str;
    char text[41]; /* 40 characters at most, as index.js's shown() */
    size_t len = 0;
    if (napi_coerce_to_string(env, v, &str) != napi_ok ||
        napi_get_value_string_utf8(env, str, text, sizeof text, &len) != napi_ok) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending) {
            napi_value ignored;
            napi_get_and_clear_last_exception(env, &ignored);
        }
        return;
    }
    const char *more = len + 1 >= sizeof text ? "..." : "";
    if (t == napi_string)
        snprintf(buf, cap, "'%s%s'", text, more);
    else
        snprintf(buf, cap, "%s%s", text, more);
}

/* The wording is the Python binding's too (bindings/python/shopcrm/_conv.py):
 * TypeError "what: expected an integer, got V", RangeError
 * "what: V is outside LO..HI". */
static int sn_integer_error(napi_env env, napi_value v, const char *what, int range, int is_signed,
                            int64_t lo, uint64_t hi)
{
    char shown[96], detail[200];
    sn_shown(env, v, shown, sizeof shown);
    if (!range) {
        snprintf(detail, sizeof detail, "an integer, got %s", shown);
        sn_throw_type(env, what, detail); /* "what: expected an integer, got V" */
        return 0;
    }
    if (is_signed)
        snprintf(detail, sizeof detail, "%s is outside %" PRId64 "..%" PRIu64, shown, lo, hi);
    else
        snprintf(detail, sizeof detail, "%s is outside 0..%" PRIu64, shown, hi);
    sn_throw_range(env, what, detail);
    return 0;
}

/* An integer argument (Number with an integral value, or BigInt) as a
 * signed or unsigned 64-bit value within [lo, hi]. */
static int sn_get_integer(napi_env env, napi_value v, const char *what, int is_signed,
                          int64_t lo, uint64_t hi, int64_t *s_out, uint64_t *u_out)
{
    napi_valuetype t;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    if (t == napi_number) {
        double d;
        SN_NAPI(env, napi_get_value_double(env, v, &d), return 0);
        if (!isfinite(d) || d != trunc(d))
            return sn_integer_error(env, v, what, 0, is_signed, lo, hi);
        /* 2^63 and 2^64 are exact doubles: compare against them. */
        if (d < (double)lo || (is_signed ? d >= 9223372036854775808.0 : d >= 18446744073709551616.0) ||
            (is_signed ? d > (double)(int64_t)hi : d > (double)hi))
            return sn_integer_error(env, v, what, 1, is_signed, lo, hi);
        if (is_signed) {
            int64_t x = (int64_t)d;
            if (x < lo || (x > 0 && (uint64_t)x > hi))
                return sn_integer_error(env, v, what, 1, is_signed, lo, hi);
            *s_out = x;
        } else {
            uint64_t x = (uint64_t)d;
            if (x > hi)
                return sn_integer_error(env, v, what, 1, is_signed, lo, hi);
            *u_out = x;
        }
        return 1;
    }
    if (t == napi_bigint) {
        bool lossless;
        if (is_signed) {
            int64_t x;
            SN_NAPI(env, napi_get_value_bigint_int64(env, v, &x, &lossless), return 0);
            if (!lossless || x < lo || (x > 0 && (uint64_t)x > hi))
                return sn_integer_error(env, v, what, 1, is_signed, lo, hi);
            *s_out = x;
        } else {
            uint64_t x;
            SN_NAPI(env, napi_get_value_bigint_uint64(env, v, &x, &lossless), return 0);
            if (!lossless || x > hi)
                return sn_integer_error(env, v, what, 1, is_signed, lo, hi);
            *u_out = x;
        }
        return 1;
    }
    return sn_integer_error(env, v, what, 0, is_signed, lo, hi);
}

int sn_get_i32(napi_env env, napi_value v, const char *what, int32_t *out)
{
    int64_t x;
    if (!sn_get_integer(env, v, what, 1, INT32_MIN, INT32_MAX, &x, NULL))
        return 0;
    *out = (int32_t)x;
    return 1;
}

int sn_get_int(napi_env env, napi_value v, const char *what, int *out)
{
    int32_t x;
    if (!sn_get_i32(env, v, what, &x))
        return 0;
    *out = x;
    return 1;
}

int sn_get_u32(napi_env env, napi_value v, const char *what, uint32_t *out)
{
    uint64_t x;
    if (!sn_get_integer(env, v, what, 0, 0, UINT32_MAX, NULL, &x))
        return 0;
    *out = (uint32_t)x;
    return 1;
}

int sn_get_uint(napi_env env, napi_value v, const char *what, unsigned *out)
{
    uint32_t x;
    if (!sn_get_u32(env, v, what, &x))
        return 0;
    *out = x;
    return 1;
}

int sn_get_i64(napi_env env, napi_value v, const char *what, int64_t *out)
{
    return sn_get_integer(env, v, what, 1, INT64_MIN, INT64_MAX, out, NULL);
}

int sn_get_u64(napi_env env, napi_value v, const char *what, uint64_t *out)
{
    return sn_get_integer(env, v, what, 0, 0, UINT64_MAX, NULL, out);
}

int sn_get_double(napi_env env, napi_value v, const char *what, double *out)
{
    napi_valuetype t;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    if (t != napi_number) {
        sn_throw_type(env, what, "a number");
        return 0;
    }
    SN_NAPI(env, napi_get_value_double(env, v, out), return 0);
    return 1;
}

static int sn_is_nullish(napi_env env, napi_value v, int *out)
{
    napi_valuetype t;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    *out = t == napi_null || t == napi_undefined;
    return 1;
}

/* napi_get_value_string_utf8 turns a lone surrogate ('\uD800') into U+FFFD,
 * so two distinct keys would become one: refuse them, as Python does. Only
 * strings whose UTF-8 holds U+FFFD (EF BF BD) are looked at again in UTF-16. */
static int sn_check_well_formed(napi_env env, napi_value v, const char *utf8, size_t len,
                                const char *what)
{
    int suspect = 0;
    for (size_t i = 0; i + 2 < len + 0 && !suspect; i++)
        suspect = (unsigned char)utf8[i] == 0xEF && (unsigned char)utf8[i + 1] == 0xBF &&
                  (unsigned char)utf8[i + 2] == 0xBD;
    if (!suspect)
        return 1;
    size_t n16;
    SN_NAPI(env, napi_get_value_string_utf16(env, v, NULL, 0, &n16), return 0);
    char16_t *u = malloc((n16 + 1) * sizeof *u);
    if (!u) {
        napi_throw_error(env, NULL, "out of memory");
        return 0;
    }
    SN_NAPI(env, napi_get_value_string_utf16(env, v, u, n16 + 1, &n16), {
        free(u);
        return 0;
    });
    for (size_t i = 0; i < n16; i++) {
        unsigned c = u[i];
        int lone = 0;
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (i + 1 < n16 && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF)
                i++;
            else
                lone = 1;
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            lone = 1;
        }
        if (lone) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "%s: lone surrogate U+%04X at string index %zu (not valid Unicode; it "
                     "would become U+FFFD and merge with other strings)", what, c, i);
            free(u);
            napi_throw_type_error(env, NULL, msg);
            return 0;
        }
    }
    free(u);
    return 1;
}

/* Strings are copied as UTF-8; a Buffer/Uint8Array is borrowed when the C
 * function takes an explicit length (need_nul 0), else copied and terminated. */
static int sn_get_bytes_ex(napi_env env, napi_value v, int nullable, int need_nul,
                           const char *what, sn_bytes *out)
{
    napi_valuetype t;
    out->data = NULL;
    out->len = 0;
    out->owned = 0;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    if (nullable && (t == napi_null || t == napi_undefined))
        return 1;
    if (t == napi_string) {
        size_t len;
        SN_NAPI(env, napi_get_value_string_utf8(env, v, NULL, 0, &len), return 0);
        char *buf = malloc(len + 1);
        if (!buf) {
            napi_throw_error(env, NULL, "out of memory");
            return 0;
        }
        SN_NAPI(env, napi_get_value_string_utf8(env, v, buf, len + 1, &len), {
            free(buf);
            return 0;
        });
        out->data = buf;
        out->len = len;
        out->owned = 1;
        if (!sn_check_well_formed(env, v, buf, len, what)) {
            sn_bytes_free(out);
            return 0;
        }
    } else {
        bool is_ta = false;
        napi_typedarray_type tt = napi_int8_array;
        void *data = NULL;
        size_t len = 0;
        if (t == napi_object)
            SN_NAPI(env, napi_is_typedarray(env, v, &is_ta), return 0);
        if (is_ta)
            SN_NAPI(env, napi_get_typedarray_info(env, v, &tt, &len, &data, NULL, NULL), return 0);
        if (!is_ta || tt != napi_uint8_array) {
            sn_throw_type(env, what, nullable ? "a string, a Buffer or null" : "a string or a Buffer");
            return 0;
        }
        if (need_nul) {
            char *buf = malloc(len + 1);
            if (!buf) {
                napi_throw_error(env, NULL, "out of memory");
                return 0;
            }
            if (len)
                memcpy(buf, data, len);
            buf[len] = '\0';
            out->data = buf;
            out->owned = 1;
        } else {
            out->data = len ? data : (char *)"";
            if (len && !sn_register_input(env, v, (void **)&out->data, len, what))
                return 0;
        }
        out->len = len;
    }
    /* A C string stops at the first NUL: refuse rather than truncate. */
    if (need_nul && memchr(out->data, '\0', out->len)) {
        sn_bytes_free(out);
        sn_throw_type(env, what, "a string without NUL characters");
        return 0;
    }
    return 1;
}

int sn_get_bytes(napi_env env, napi_value v, int nullable, int need_nul, const char *what,
                 sn_bytes *out)
{
    return sn_get_bytes_ex(env, v, nullable, need_nul, what, out);
}

void sn_bytes_free(sn_bytes *b)
{
    if (b->owned)
        free(b->data);
    b->data = NULL;
    b->len = 0;
    b->owned = 0;
}

int sn_get_len_i64(napi_env env, napi_value v, const sn_bytes *b, const char *what, int64_t *out)
{
    int nullish;
    if (!sn_is_nullish(env, v, &nullish))
        return 0;
    if (nullish) {
        *out = (int64_t)b->len;
        return 1;
    }
    if (!sn_get_i64(env, v, what, out))
        return 0;
    if (*out < 0 && !b->owned) { /* a borrowed Buffer has no terminating NUL */
        sn_throw_range(env, what, "a negative length (NUL-terminated) needs a string");
        return 0;
    }
    if (*out >= 0 && (uint64_t)*out > b->len) {
        sn_throw_range(env, what, "longer than the bytes given");
        return 0;
    }
    return 1;
}

int sn_get_len_u64(napi_env env, napi_value v, const sn_bytes *b, const char *what, uint64_t *out)
{
    int nullish;
    if (!sn_is_nullish(env, v, &nullish))
        return 0;
    if (nullish) {
        *out = b->len;
        return 1;
    }
    if (!sn_get_u64(env, v, what, out))
        return 0;
    if (*out > b->len) {
        sn_throw_range(env, what, "longer than the bytes given");
        return 0;
    }
    return 1;
}

static const char *sn_typedarray_name(napi_typedarray_type t)
{
    switch (t) {
    case napi_int8_array: return "an Int8Array";
    case napi_uint8_array: return "a Uint8Array";
    case napi_uint8_clamped_array: return "a Uint8ClampedArray";
    case napi_int16_array: return "an Int16Array";
    case napi_uint16_array: return "a Uint16Array";
    case napi_int32_array: return "an Int32Array";
    case napi_uint32_array: return "a Uint32Array";
    case napi_float32_array: return "a Float32Array";
    case napi_float64_array: return "a Float64Array";
    case napi_bigint64_array: return "a BigInt64Array";
    case napi_biguint64_array: return "a BigUint64Array";
    }
    return "a TypedArray";
}

int sn_get_array(napi_env env, napi_value v, napi_typedarray_type type, int nullable,
                 uint64_t min_len, const char *what, void **data, size_t *len)
{
    napi_valuetype t;
    bool is_ta = false;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    if (nullable && (t == napi_null || t == napi_undefined)) {
        *data = NULL;
        if (len)
            *len = 0;
        return 1;
    }
    if (t == napi_object)
        SN_NAPI(env, napi_is_typedarray(env, v, &is_ta), return 0);
    napi_typedarray_type tt = napi_int8_array;
    size_t n = 0;
    void *p = NULL;
    if (is_ta)
        SN_NAPI(env, napi_get_typedarray_info(env, v, &tt, &n, &p, NULL, NULL), return 0);
    if (!is_ta || tt != type) {
        sn_throw_type(env, what, sn_typedarray_name(type));
        return 0;
    }
    if (n < min_len) {
        sn_throw_range(env, what, "fewer elements than the count given");
        return 0;
    }
    /* An empty TypedArray may have no memory at all (data NULL): the C
     * function then gets a valid pointer to nothing, as from C or Python, so
     * that it reports the empty input ("no answers (n = 0)") rather than a
     * NULL pointer the caller never passed. Nothing reads or writes it. */
    static uint64_t sn_empty_array[1];
    *data = n ? p : (void *)sn_empty_array;
    if (len)
        *len = n;
    /* borrowed for the call: checked again (or copied) by sn_call_ready */
    size_t elem = 0;
    switch (type) {
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    default: elem = 1; break;
    }
    return sn_register_input(env, v, data, n * elem, what);
}

/* ------------------------------------------------------------------------ */
/* Results                                                                    */
/* ------------------------------------------------------------------------ */

napi_value sn_from_i32(napi_env env, int32_t v)
{
    napi_value r;
    NAPI_CALL(env, napi_create_int32(env, v, &r));
    return r;
}

napi_value sn_from_u32(napi_env env, uint32_t v)
{
    napi_value r;
    NAPI_CALL(env, napi_create_uint32(env, v, &r));
    return r;
}

napi_value sn_from_i64(napi_env env, int64_t v)
{
    napi_value r;
    NAPI_CALL(env, napi_create_bigint_int64(env, v, &r));
    return r;
}

napi_value sn_from_u64(napi_env env, uint64_t v)
{
    napi_value r;
    NAPI_CALL(env, napi_create_bigint_uint64(env, v, &r));
    return r;
}

napi_value sn_from_double(napi_env env, double v)
{
    napi_value r;
    NAPI_CALL(env, napi_create_double(env, v, &r));
    return r;
}

napi_value sn_from_string(napi_env env, const char *s)
{
    napi_value r;
    if (!s)
        NAPI_CALL(env, napi_get_null(env, &r));
    else
        NAPI_CALL(env, napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r));
    return r;
}

napi_value sn_from_string_len(napi_env env, const char *s, size_t len)
{
    napi_value r;
    if (!s)
        NAPI_CALL(env, napi_get_null(env, &r));
    else
        NAPI_CALL(env, napi_create_string_utf8(env, s, len, &r));
    return r;
}

napi_value sn_null(napi_env env)
{
    napi_value r;
    NAPI_CALL(env, napi_get_null(env, &r));
    return r;
}

napi_value sn_undefined(napi_env env)
{
    napi_value r;
    NAPI_CALL(env, napi_get_undefined(env, &r));
    return r;
}

int sn_set(napi_env env, napi_value obj, const char *name, napi_value v)
{
    if (!v)
        return 0;
    SN_NAPI(env, napi_set_named_property(env, obj, name, v), return 0);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Options structs and progress callbacks                                     */
/* ------------------------------------------------------------------------ */

void sn_scratch_init(sn_scratch *s, napi_env env)
{
    memset(s, 0, sizeof *s);
    s->env = env;
}

static void *sn_scratch_alloc(napi_env env, sn_scratch *s, size_t size)
{
    void *p = NULL;
    if (s->n_allocs < SN_SCRATCH_MAX)
        p = malloc(size ? size : 1);
    if (!p) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    s->allocs[s->n_allocs++] = p;
    return p;
}

/* Called by the library on the calling (JS) thread during the call: run the
 * JS callback synchronously. Returning false or throwing cancels; a throw
 * (or the TypeError of a wrong return value) is kept and rethrown once the
 * library has returned. */
static int sn_progress_trampoline(uint64_t done, uint64_t total, void *payload)
{
    sn_scratch *s = payload;
    napi_env env = s->env;
    napi_handle_scope scope;
    int cancel = 1;
    if (s->exception || s->napi_failed)
        return 1;
    SN_NAPI(env, napi_open_handle_scope(env, &scope), {
        s->napi_failed = 1;
        return 1;
    });
    napi_value argv[2], global, result;
    SN_NAPI(env, napi_create_double(env, (double)done, &argv[0]), goto fail);
    SN_NAPI(env, napi_create_double(env, (double)total, &argv[1]), goto fail);
    SN_NAPI(env, napi_get_global(env, &global), goto fail);
    napi_status st = napi_call_function(env, global, s->progress, 2, argv, &result);
    bool pending = false;
    SN_NAPI(env, napi_is_exception_pending(env, &pending), goto fail);
    if (pending) {
        napi_value exc;
        SN_NAPI(env, napi_get_and_clear_last_exception(env, &exc), goto fail);
        SN_NAPI(env, napi_create_reference(env, exc, 1, &s->exception), goto fail);
    } else {
        /* One convention with Python: false cancels, undefined or true
         * continue, anything else (a Promise from an async function, 1, a
         * string) is a TypeError, so a mistake never cancels silently. */
        SN_NAPI(env, st, goto fail);
        napi_valuetype rt;
        SN_NAPI(env, napi_typeof(env, result, &rt), goto fail);
        if (rt == napi_undefined) {
            cancel = 0;
        } else if (rt == napi_boolean) {
            bool go = true;
            SN_NAPI(env, napi_get_value_bool(env, result, &go), goto fail);
            cancel = !go;
        } else {
            napi_value msg, err;
            bool is_promise = false;
            SN_NAPI(env, napi_is_promise(env, result, &is_promise), goto fail);
            const char *text =
                is_promise ? "progress: the callback returned a Promise (an async function?); "
                             "it must return false to cancel, or undefined or true to continue"
                           : "progress: the callback must return false to cancel, or undefined "
                             "or true to continue";
            SN_NAPI(env, napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg), goto fail);
            SN_NAPI(env, napi_create_type_error(env, NULL, msg, &err), goto fail);
            SN_NAPI(env, napi_create_reference(env, err, 1, &s->exception), goto fail);
        }
    }
    goto out;
fail:
    s->napi_failed = 1;
out:
    SN_NAPI(env, napi_close_handle_scope(env, scope), s->napi_failed = 1);
    return cancel;
}

/* Element readers for sn_field_array. */
static int get_f64(napi_env env, napi_value v, const char *what, void *out)
{
    return sn_get_double(env, v, what, out);
}
static int get_i64(napi_env env, napi_value v, const char *what, void *out)
{
    return sn_get_i64(env, v, what, out);
}

/* An options field that points at an array of numbers: null/undefined gives
 * NULL; a JS Array is converted element by element into scratch memory that
 * lives until the call returns; a TypedArray of type `tt` is used in place.
 * The length is kept in the scratch for the caller's count checks. */
static int sn_field_array(napi_env env, napi_value v, const sn_field *f, size_t fi,
                          sn_scratch *scr, size_t elem, napi_typedarray_type tt,
                          int (*get)(napi_env, napi_value, const char *, void *), void *dst)
{
    const void *p = NULL;
    size_t n = 0;
    bool is_array = false;
    int nullish;
    if (!sn_is_nullish(env, v, &nullish))
        return 0;
    if (!nullish) {
        SN_NAPI(env, napi_is_array(env, v, &is_array), return 0);
        if (is_array) {
            uint32_t len;
            SN_NAPI(env, napi_get_array_length(env, v, &len), return 0);
            char *copy = sn_scratch_alloc(env, scr, (size_t)len * elem);
            if (!copy)
                return 0;
            for (uint32_t i = 0; i < len; i++) {
                napi_value e;
                SN_NAPI(env, napi_get_element(env, v, i, &e), return 0);
                if (!get(env, e, f->name, copy + (size_t)i * elem))
                    return 0;
            }
            p = copy;
            n = len;
        } else {
            /* the struct field itself is the input's slot (sn_call_ready) */
            if (!sn_get_array(env, v, tt, 0, 0, f->name, (void **)dst, &n))
                return 0;
            if (fi < SN_SCRATCH_MAX)
                scr->array_len[fi] = n;
            return 1;
        }
    }
    if (fi < SN_SCRATCH_MAX)
        scr->array_len[fi] = n;
    memcpy(dst, &p, sizeof p);
    return 1;
}

/* An Array of strings (or null) as a const char *const * field: one copy
 * holding the pointers (NULL-terminated) and then the bytes. */
static int sn_field_strings(napi_env env, napi_value v, const sn_field *f, size_t fi,
                            sn_scratch *scr, void *dst)
{
    int nullish;
    const char *const *p = NULL;
    uint32_t len = 0;
    if (!sn_is_nullish(env, v, &nullish))
        return 0;
    if (!nullish) {
        bool is_array;
        SN_NAPI(env, napi_is_array(env, v, &is_array), return 0);
        if (!is_array) {
            sn_throw_type(env, f->name, "an Array of strings or null");
            return 0;
        }
        SN_NAPI(env, napi_get_array_length(env, v, &len), return 0);
        size_t bytes = ((size_t)len + 1) * sizeof(char *);
        for (int pass = 0; pass < 2; pass++) {
            char **ptrs = pass ? (char **)(void *)p : NULL;
            char *at = pass ? (char *)(ptrs + len + 1) : NULL;
            for (uint32_t i = 0; i < len; i++) {
                napi_value e;
                sn_bytes b;
                SN_NAPI(env, napi_get_element(env, v, i, &e), return 0);
                if (!sn_get_bytes(env, e, 0, 1, f->name, &b))
                    return 0;
                if (pass) {
                    memcpy(at, b.data, b.len + 1);
                    ptrs[i] = at;
                    at += b.len + 1;
                } else {
                    bytes += b.len + 1;
                }
                sn_bytes_free(&b);
            }
            if (pass)
                ptrs[len] = NULL;
            else if (!(p = sn_scratch_alloc(env, scr, bytes)))
                return 0;
        }
    }
    if (fi < SN_SCRATCH_MAX)
        scr->array_len[fi] = len;
    memcpy(dst, &p, sizeof p);
    return 1;
}

static int sn_field_get(napi_env env, napi_value obj, const sn_struct *s, size_t fi, void *out,
                        sn_scratch *scr)
{
    const sn_field *f = &s->fields[fi];
    char *base = out;
    napi_value v;
    int nullish;
    SN_NAPI(env, napi_get_named_property(env, obj, f->name, &v), return 0);
    napi_valuetype t;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    if (t == napi_undefined)
        return 1; /* keep the default */
    void *dst = base + f->offset;
    switch (f->kind) {
    case SN_F_INT: return sn_get_int(env, v, f->name, dst);
    case SN_F_UINT: return sn_get_uint(env, v, f->name, dst);
    case SN_F_I32: return sn_get_i32(env, v, f->name, dst);
    case SN_F_U32: return sn_get_u32(env, v, f->name, dst);
    case SN_F_I64: return sn_get_i64(env, v, f->name, dst);
    case SN_F_U64: return sn_get_u64(env, v, f->name, dst);
    case SN_F_DOUBLE: return sn_get_double(env, v, f->name, dst);
    case SN_F_STRING: {
        sn_bytes b;
        if (!sn_get_bytes(env, v, 1, 1, f->name, &b))
            return 0;
        const char *p = NULL;
        if (b.data) {
            char *copy = sn_scratch_alloc(env, scr, b.len + 1);
            if (!copy) {
                sn_bytes_free(&b);
                return 0;
            }
            memcpy(copy, b.data, b.len + 1);
            p = copy;
        }
        sn_bytes_free(&b);
        memcpy(dst, &p, sizeof p);
        return 1;
    }
    case SN_F_F64_ARRAY:
        return sn_field_array(env, v, f, fi, scr, sizeof(double), napi_float64_array, get_f64, dst);
    case SN_F_I64_ARRAY:
        return sn_field_array(env, v, f, fi, scr, sizeof(int64_t), napi_bigint64_array, get_i64,
                              dst);
    case SN_F_STR_ARRAY: return sn_field_strings(env, v, f, fi, scr, dst);
    case SN_F_HANDLE: {
        void *p;
        if (!sn_get_handle(env, v, (sn_handle_type)f->handle_type, 1, f->name, &p))
            return 0;
        memcpy(dst, &p, sizeof p);
        return 1;
    }
    case SN_F_PROGRESS: {
        scrm_progress_fn fn = NULL;
        void *payload = NULL;
        if (!sn_is_nullish(env, v, &nullish))
            return 0;
        if (!nullish) {
            if (t != napi_function) {
                sn_throw_type(env, f->name, "a function or null");
                return 0;
            }
            scr->progress = v;
            fn = sn_progress_trampoline;
            payload = scr;
        }
        memcpy(dst, &fn, sizeof fn);
        /* its payload is the next SN_F_PAYLOAD field */
        for (size_t j = fi + 1; j < s->n_fields; j++)
            if (s->fields[j].kind == SN_F_PAYLOAD) {
                memcpy(base + s->fields[j].offset, &payload, sizeof payload);
                break;
            }
        return 1;
    }
    case SN_F_PAYLOAD: return 1;
    }
    return 1;
}

int sn_options_from_js(napi_env env, napi_value v, const sn_struct *s, void *out, sn_scratch *scr)
{
    int rc = s->init(out, s->version);
    if (rc < 0) {
        sn_throw_scrm(env, rc);
        return 0;
    }
    int nullish;
    if (!sn_is_nullish(env, v, &nullish))
        return 0;
    if (nullish)
        return 1;
    napi_valuetype t;
    SN_NAPI(env, napi_typeof(env, v, &t), return 0);
    if (t != napi_object) {
        sn_throw_type(env, s->name, "an options object");
        return 0;
    }
    /* Unknown names are errors: a misspelt option must not be ignored. */
    napi_value names;
    uint32_t n_names;
    SN_NAPI(env, napi_get_property_names(env, v, &names), return 0);
    SN_NAPI(env, napi_get_array_length(env, names, &n_names), return 0);
    for (uint32_t i = 0; i < n_names; i++) {
        napi_value k;
        char key[64];
        size_t klen;
        SN_NAPI(env, napi_get_element(env, names, i, &k), return 0);
        SN_NAPI(env, napi_get_value_string_utf8(env, k, key, sizeof key, &klen), return 0);
        int known = 0;
        for (size_t j = 0; j < s->n_fields && !known; j++)
            known = s->fields[j].kind != SN_F_PAYLOAD && strcmp(s->fields[j].name, key) == 0;
        if (!known) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s has no field '%s'", s->name, key);
            napi_throw_type_error(env, NULL, msg);
            return 0;
        }
    }
    for (size_t i = 0; i < s->n_fields; i++)
        if (!sn_field_get(env, v, s, i, out, scr))
            return 0;
    return !s->check || s->check(env, out, scr);
}

napi_value sn_options_to_js(napi_env env, const sn_struct *s, const void *opts)
{
    napi_value obj;
    const char *base = opts;
    NAPI_CALL(env, napi_create_object(env, &obj));
    for (size_t i = 0; i < s->n_fields; i++) {
        const sn_field *f = &s->fields[i];
        const void *src = base + f->offset;
        napi_value v = NULL;
        switch (f->kind) {
        case SN_F_INT: {
            int x;
            memcpy(&x, src, sizeof x);
            v = sn_from_i32(env, x);
            break;
        }
        case SN_F_I32: {
            int32_t x;
            memcpy(&x, src, sizeof x);
            v = sn_from_i32(env, x);
            break;
        }
        case SN_F_UINT: {
            unsigned x;
            memcpy(&x, src, sizeof x);
            v = sn_from_u32(env, x);
            break;
        }
        case SN_F_U32: {
            uint32_t x;
            memcpy(&x, src, sizeof x);
            v = sn_from_u32(env, x);
            break;
        }
        case SN_F_I64: {
            int64_t x;
            memcpy(&x, src, sizeof x);
            v = sn_from_i64(env, x);
            break;
        }
        case SN_F_U64: {
            uint64_t x;
            memcpy(&x, src, sizeof x);
            v = sn_from_u64(env, x);
            break;
        }
        case SN_F_DOUBLE: {
            double x;
            memcpy(&x, src, sizeof x);
            v = sn_from_double(env, x);
            break;
        }
        case SN_F_STRING: {
            const char *p;
            memcpy(&p, src, sizeof p);
            v = sn_from_string(env, p);
            break;
        }
        case SN_F_F64_ARRAY:
        case SN_F_STR_ARRAY:
        case SN_F_I64_ARRAY:
        case SN_F_HANDLE:
        case SN_F_PROGRESS:
            NAPI_CALL(env, napi_get_null(env, &v));
            break;
        case SN_F_PAYLOAD: continue;
        }
        if (!sn_set(env, obj, f->name, v))
            return NULL;
    }
    return obj;
}

int sn_scratch_finish(napi_env env, sn_scratch *scr, int rc)
{
    for (size_t i = 0; i < scr->n_allocs; i++)
        free(scr->allocs[i]);
    scr->n_allocs = 0;
    if (scr->exception) {
        napi_value exc = NULL;
        napi_status st = napi_get_reference_value(env, scr->exception, &exc);
        SN_NAPI(env, napi_delete_reference(env, scr->exception), (void)0);
        scr->exception = NULL;
        if (rc < 0) {
            SN_NAPI(env, st, return 0);
            SN_NAPI(env, napi_throw(env, exc), return 0);
            return 0;
        }
    }
    if (rc < 0) {
        bool pending = false;
        SN_NAPI(env, napi_is_exception_pending(env, &pending), return 0);
        if (!pending)
            sn_throw_scrm(env, rc);
        return 0;
    }
    if (scr->napi_failed)
        return 0; /* the exception is pending */
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Columns                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * A TypedArray with a copy of @p count elements at @p data (memory of handle
 * @p h). Columns used to be external ArrayBuffers over the library's memory,
 * but a TypedArray cannot be made read-only: `rfm.segment.fill(0)` changed
 * what scrm_rfm_audience() and scrm_rfm_write_csv() read. A copy costs one
 * memcpy (about 2 ms and 8 MB for a 1.25M-customer double column, see
 * docs/node.md) and makes JavaScript writes harmless to the library.
 */
napi_value sn_column(napi_env env, sn_handle *h, const void *data, size_t count, size_t elem,
                     napi_typedarray_type type)
{
    (void)h;
    napi_value ab, ta;
    size_t bytes = count * elem;
    void *dst = NULL;
    NAPI_CALL(env, napi_create_arraybuffer(env, bytes, &dst, &ab));
    if (bytes && data)
        memcpy(dst, data, bytes);
    NAPI_CALL(env, napi_create_typedarray(env, type, count, ab, 0, &ta));
    return ta;
}

/* scrm_dataset_append_str(ds, n, customers, lengths, times, amounts,
 * order_keys, opts) -> rows added (BigInt). customers: an Array of n strings
 * (then lengths must be null), or a Buffer of the keys' bytes back to back
 * with lengths a Uint32Array of n lengths (any bytes, NULs included). */
static napi_value sn_scrm_dataset_append_str(napi_env env, napi_callback_info info)
{
    napi_value argv[8], result = NULL;
    void *ds, *times, *amounts, *okeys, *lengths, *bytes = NULL;
    size_t nbytes = 0;
    uint64_t n, added = 0;
    const char **ptrs = NULL;
    char *pool = NULL;
    uint32_t *lens = NULL;
    scrm_dataset_append_options opts;
    sn_scratch scr;
    int finished = 0;
    sn_scratch_init(&scr, env);
    if (!sn_args(env, info, 8, argv) ||
        !sn_get_handle_mut(env, argv[0], SN_HANDLE_DATASET, 0, "ds", &ds) ||
        !sn_get_u64(env, argv[1], "n", &n) ||
        !sn_get_array(env, argv[3], napi_uint32_array, 1, n, "lengths", &lengths, NULL) ||
        !sn_get_array(env, argv[4], napi_bigint64_array, 0, n, "times", &times, NULL) ||
        !sn_get_array(env, argv[5], napi_bigint64_array, 0, n, "amounts", &amounts, NULL) ||
        !sn_get_array(env, argv[6], napi_biguint64_array, 1, n, "order_keys", &okeys, NULL) ||
        !sn_options_from_js(env, argv[7], sn_gen_struct("scrm_dataset_append_options"), &opts,
                            &scr)) {
        sn_scratch_finish(env, &scr, 0);
        return NULL;
    }
    if (n > UINT32_MAX) {
        sn_scratch_finish(env, &scr, 0);
        return sn_throw_range(env, "n", "at most 2^32 - 1 rows per call");
    }
    ptrs = malloc((size_t)(n ? n : 1) * sizeof *ptrs);
    if (!ptrs) {
        sn_scratch_finish(env, &scr, 0);
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    if (lengths) {
        /* bytes back to back (pointers computed after sn_call_ready) */
        if (!sn_get_array(env, argv[2], napi_uint8_array, 0, 0, "customers", &bytes, &nbytes))
            goto done;
    } else {
        bool is_array = false;
        uint32_t alen = 0;
        SN_NAPI(env, napi_is_array(env, argv[2], &is_array), goto done);
        if (is_array)
            SN_NAPI(env, napi_get_array_length(env, argv[2], &alen), goto done);
        if (!is_array || alen < n) {
            sn_throw_type(env, "customers", "an Array of n strings (or a Buffer with lengths)");
            goto done;
        }
        lens = malloc((size_t)(n ? n : 1) * sizeof *lens);
        size_t cap = 4096, used = 0;
        pool = malloc(cap);
        if (!lens || !pool) {
            napi_throw_error(env, NULL, "out of memory");
            goto done;
        }
        /* First pass: all bytes into one pool (offsets, since it may move). */
        size_t *offs = (size_t *)(void *)ptrs; /* same size as a pointer on our targets */
        _Static_assert(sizeof(size_t) == sizeof(const char *), "offsets stored in pointer slots");
        for (uint64_t i = 0; i < n; i++) {
            napi_value e;
            napi_valuetype t;
            size_t len;
            SN_NAPI(env, napi_get_element(env, argv[2], (uint32_t)i, &e), goto done);
            SN_NAPI(env, napi_typeof(env, e, &t), goto done);
            if (t != napi_string) {
                char what[64];
                snprintf(what, sizeof what, "customers[%llu]", (unsigned long long)i);
                sn_throw_type(env, what, "a string");
                goto done;
            }
            SN_NAPI(env, napi_get_value_string_utf8(env, e, NULL, 0, &len), goto done);
            if (len > UINT32_MAX) {
                sn_throw_range(env, "customers", "key too long");
                goto done;
            }
            if (cap - used < len + 1) {
                while (cap - used < len + 1)
                    cap *= 2;
                char *np = realloc(pool, cap);
                if (!np) {
                    napi_throw_error(env, NULL, "out of memory");
                    goto done;
                }
                pool = np;
            }
            SN_NAPI(env, napi_get_value_string_utf8(env, e, pool + used, len + 1, &len), goto done);
            {
                char what[64];
                snprintf(what, sizeof what, "customers[%llu]", (unsigned long long)i);
                if (!sn_check_well_formed(env, e, pool + used, len, what))
                    goto done;
            }
            offs[i] = used;
            lens[i] = (uint32_t)len;
            used += len + 1;
        }
        for (uint64_t i = 0; i < n; i++)
            ptrs[i] = pool + offs[i];
    }
    /* the string conversion above can run JavaScript (an Array's getters) */
    if (!sn_call_ready(env, &scr))
        goto done;
    if (lengths) {
        size_t off = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t l = ((const uint32_t *)lengths)[i];
            if (l > nbytes - off) {
                sn_throw_range(env, "lengths", "add up to more than the bytes given");
                goto done;
            }
            ptrs[i] = (const char *)bytes + off;
            off += l;
        }
        lens = lengths;
    }
    int rc = scrm_dataset_append_str(&added, ds, n, ptrs, lens, times, amounts, okeys, &opts);
    finished = 1;
    if (sn_scratch_finish(env, &scr, rc))
        result = sn_from_u64(env, added);
done:
    if (!finished)
        sn_scratch_finish(env, &scr, 0);
    if (lens != lengths)
        free(lens);
    free(pool);
    free(ptrs);
    return result;
}

/* scrm_set_allocator(m, r, f, payload): only resetting to the C library's
 * allocator (all null) is accepted. A JavaScript function cannot be the
 * allocator: the library allocates from its worker threads and while freeing
 * handles in GC finalizers, where JavaScript must not run; and memory from a
 * previous allocator would be freed by the new one. Reachable anyway, so the
 * whole ABI is (tests/check_parity.py). */
static napi_value sn_scrm_set_allocator(napi_env env, napi_callback_info info)
{
    napi_value argv[4];
    if (!sn_args(env, info, 4, argv))
        return NULL;
    for (int i = 0; i < 4; i++) {
        int nullish;
        if (!sn_is_nullish(env, argv[i], &nullish))
            return NULL;
        if (!nullish)
            return sn_throw_type(env, "scrm_set_allocator",
                                 "null for every argument (only the default allocator can be "
                                 "set from JavaScript)");
    }
    int rc = scrm_set_allocator(NULL, NULL, NULL, NULL);
    if (rc < 0)
        return sn_throw_scrm(env, rc);
    return sn_undefined(env);
}

/* retainHandle(h): a second wrapper of the native object of handle @p h (any
 * type) that keeps it alive until this wrapper is closed (scrm_x_free) or
 * collected, whatever happens to @p h. Read-only: calls that change the
 * object refuse it (SCRM_ESTATE). index.js gives each RFM result one of its
 * dataset, so writeCsv(), audience() and key() work after ds.close(). */
static napi_value sn_retain_handle(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    if (!sn_args(env, info, 1, argv))
        return NULL;
    napi_valuetype t;
    NAPI_CALL(env, napi_typeof(env, argv[0], &t));
    for (int type = 0; t == napi_object && type < SN_HANDLE_COUNT; type++) {
        bool ok = false;
        NAPI_CALL(env, napi_check_object_type_tag(env, argv[0], &sn_gen_handle_types[type].tag,
                                                  &ok));
        if (!ok)
            continue;
        sn_handle *h;
        if (!sn_unwrap_raw(env, argv[0], (sn_handle_type)type, "retainHandle", &h))
            return NULL;
        if (h->closed || !h->ptr) {
            char msg[256];
            snprintf(msg, sizeof msg, "retainHandle: the %s handle is closed",
                     sn_gen_handle_types[type].class_name);
            return sn_throw_error(env, SCRM_ESTATE, msg, -1);
        }
        return sn_wrap_borrowed(env, (sn_handle_type)type, h->ptr, h->owner ? h->owner : h);
    }
    return sn_throw_type(env, "retainHandle", "a shopcrm handle");
}

static const sn_export sn_hand_functions[] = {
    {"retainHandle", sn_retain_handle},
    {"scrm_set_allocator", sn_scrm_set_allocator},
    {"scrm_dataset_append_str", sn_scrm_dataset_append_str},
};

/* ------------------------------------------------------------------------ */
/* Module init                                                                */
/* ------------------------------------------------------------------------ */

static void sn_state_finalize(napi_env env, void *data, void *hint)
{
    (void)hint;
    sn_state *st = data;
    for (int i = 0; i < SN_HANDLE_COUNT; i++)
        if (st->ctor[i])
            SN_NAPI(env, napi_delete_reference(env, st->ctor[i]), (void)0);
    if (st->error_ctor)
        SN_NAPI(env, napi_delete_reference(env, st->error_ctor), (void)0);
    free(st->pins);
    free(st->inputs);
    free(st);
}

static int sn_export_fn(napi_env env, napi_value exports, const sn_export *e)
{
    napi_value fn;
    SN_NAPI(env, napi_create_function(env, e->name, NAPI_AUTO_LENGTH, sn_call, (void *)(uintptr_t)e,
                                      &fn), return 0);
    napi_property_descriptor d = {e->name, NULL, NULL, NULL, NULL, fn, napi_enumerable, NULL};
    SN_NAPI(env, napi_define_properties(env, exports, 1, &d), return 0);
    return 1;
}

static napi_value sn_init(napi_env env, napi_value exports)
{
    sn_state *st = calloc(1, sizeof *st);
    if (!st) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    SN_NAPI(env, napi_set_instance_data(env, st, sn_state_finalize, NULL), {
        free(st);
        return NULL;
    });

    for (int i = 0; i < SN_HANDLE_COUNT; i++) {
        napi_value ctor;
        NAPI_CALL(env, napi_define_class(env, sn_gen_handle_types[i].class_name, NAPI_AUTO_LENGTH,
                                         sn_handle_construct, NULL, 0, NULL, &ctor));
        NAPI_CALL(env, napi_create_reference(env, ctor, 1, &st->ctor[i]));
    }
    napi_value error_ctor = sn_define_error_class(env, st);
    if (!error_ctor)
        return NULL;
    napi_property_descriptor d = {"ShopcrmError", NULL, NULL, NULL, NULL, error_ctor,
                                  napi_enumerable, NULL};
    NAPI_CALL(env, napi_define_properties(env, exports, 1, &d));

    for (size_t i = 0; i < sn_gen_function_count; i++)
        if (!sn_export_fn(env, exports, &sn_gen_functions[i]))
            return NULL;
    for (size_t i = 0; i < sizeof sn_hand_functions / sizeof *sn_hand_functions; i++)
        if (!sn_export_fn(env, exports, &sn_hand_functions[i]))
            return NULL;

    /* Constants (enum values and #define numbers) as plain numbers; 64-bit
     * sentinels that a double cannot hold exactly become BigInts. */
    for (size_t i = 0; i < sn_gen_constant_count; i++) {
        int64_t x = sn_gen_constants[i].value;
        napi_value v;
        if (x > (INT64_C(1) << 53) || x < -(INT64_C(1) << 53))
            NAPI_CALL(env, napi_create_bigint_int64(env, x, &v));
        else
            NAPI_CALL(env, napi_create_int64(env, x, &v));
        napi_property_descriptor c = {sn_gen_constants[i].name, NULL, NULL, NULL, NULL, v,
                                      napi_enumerable, NULL};
        NAPI_CALL(env, napi_define_properties(env, exports, 1, &c));
    }
    return exports;
}

NAPI_MODULE(shopcrm_node, sn_init)
