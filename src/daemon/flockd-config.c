/*
 * flockd-config.c -- validation of flockd's Bedrock-format configuration.
 * See flockd-config.h for the accepted document and the error convention.
 */
#include "flockd-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#define FLOCKD_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* Largest configuration file read (a Bedrock config is a few KiB). */
#define FLOCKD_MAX_CONFIG_SIZE (16u << 20)
/* Longest JSON path kept in messages. */
#define FLOCKD_PATH_LEN 256
/* Addresses are < 128 characters (frt.h FRT_MAX_ADDR_LEN). */
#define FLOCKD_MAX_ADDR_LEN 127

static const char* const flockd__bootstrap_names[FLOCKD_BOOTSTRAP_COUNT] = {
    "self", "join", "mpi", "file", "view"};

static const char* const flockd__default_backends[] = {"static", "centralized", "swim", NULL};
static const char* const flockd__default_gateways[] = {"default", "pinggy", NULL};

/* Parsing state shared by the validators below. */
typedef struct flockd_parse {
    const flockd_config_options* opts;
    flockd_config*               cfg;
    char*                        err;
    size_t                       errsize;
    const char**                 pools; /* known pool names (borrowed from the JSON tree) */
    size_t                       num_pools;
} flockd_parse;

const char* flockd__bootstrap_name(flockd_bootstrap b)
{
    if ((int)b < 0 || b >= FLOCKD_BOOTSTRAP_COUNT) return "?";
    return flockd__bootstrap_names[b];
}

/* Contract: formats "<path>: <message>" into the error buffer; returns -1
 * so that callers can write `return flockd__fail(...)`. */
__attribute__((format(printf, 3, 4))) static int flockd__fail(flockd_parse* ps, const char* path,
                                                              const char* fmt, ...)
{
    if (!ps->err || ps->errsize == 0) return -1;
    int n = snprintf(ps->err, ps->errsize, "%s: ", path);
    if (n < 0 || (size_t)n >= ps->errsize) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errsize - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Contract: appends a "<path>: <message>" warning (dropped when the table is full). */
__attribute__((format(printf, 3, 4))) static void flockd__warn(flockd_parse* ps, const char* path,
                                                               const char* fmt, ...)
{
    flockd_config* cfg = ps->cfg;
    if (cfg->num_warnings >= FLOCKD_MAX_WARNINGS) return;
    char*  w = cfg->warnings[cfg->num_warnings++];
    int    n = snprintf(w, FLOCKD_MSG_LEN, "%s: ", path);
    if (n < 0 || n >= FLOCKD_MSG_LEN) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w + n, FLOCKD_MSG_LEN - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Contract: writes "<parent>.<key>" (or "<key>" when parent is empty) into out. */
static void flockd__path_key(char* out, const char* parent, const char* key)
{
    int n = parent[0] ? snprintf(out, FLOCKD_PATH_LEN, "%s.%s", parent, key)
                      : snprintf(out, FLOCKD_PATH_LEN, "%s", key);
    if (n >= FLOCKD_PATH_LEN) memcpy(out + FLOCKD_PATH_LEN - 4, "...", 4); /* very long keys */
}

/* Contract: writes "<parent>[<i>]" into out. */
static void flockd__path_idx(char* out, const char* parent, size_t i)
{
    int n = snprintf(out, FLOCKD_PATH_LEN, "%s[%zu]", parent, i);
    if (n >= FLOCKD_PATH_LEN) memcpy(out + FLOCKD_PATH_LEN - 4, "...", 4);
}

/* JSON type name for messages. */
static const char* flockd__type_name(struct json_object* o)
{
    switch (json_object_get_type(o)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a number";
    case json_type_int: return "an integer";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "an unknown type";
}

static bool flockd__in_list(const char* s, const char* const* list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0) return true;
    return false;
}

/* Contract: writes "a, b or c" from a NULL-terminated list into out. */
static void flockd__join_list(char* out, size_t outsize, const char* const* list)
{
    size_t n = 0, count = 0;
    out[0] = 0;
    while (list[count]) count++;
    for (size_t i = 0; i < count; i++) {
        const char* sep = i == 0 ? "" : (i + 1 == count ? " or " : ", ");
        int         w   = snprintf(out + n, outsize - n, "%s\"%s\"", sep, list[i]);
        if (w < 0 || (size_t)w >= outsize - n) return;
        n += (size_t)w;
    }
}

/* Contract: o must be a string without embedded NUL (and non-empty when
 * nonempty is set); on success *out points into o (borrowed). */
static int flockd__get_string(flockd_parse* ps, const char* path, struct json_object* o,
                              bool nonempty, const char** out)
{
    if (!json_object_is_type(o, json_type_string))
        return flockd__fail(ps, path, "expected a string, got %s", flockd__type_name(o));
    const char* s   = json_object_get_string(o);
    size_t      len = (size_t)json_object_get_string_len(o);
    if (strlen(s) != len) return flockd__fail(ps, path, "contains a NUL character");
    if (nonempty && len == 0) return flockd__fail(ps, path, "must not be empty");
    *out = s;
    return 0;
}

/* Contract: o must be a JSON integer in [lo, hi]. */
static int flockd__get_int(flockd_parse* ps, const char* path, struct json_object* o, int64_t lo,
                           int64_t hi, int64_t* out)
{
    if (!json_object_is_type(o, json_type_int))
        return flockd__fail(ps, path, "expected an integer, got %s", flockd__type_name(o));
    errno     = 0;
    int64_t v = json_object_get_int64(o);
    if (errno == ERANGE || v < lo || v > hi)
        return flockd__fail(ps, path, "must be an integer between %lld and %lld",
                            (long long)lo, (long long)hi);
    *out = v;
    return 0;
}

/* Contract: o must be a finite JSON number (integer or decimal) >= 0. */
static int flockd__check_nonneg_number(flockd_parse* ps, const char* path, struct json_object* o)
{
    if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double))
        return flockd__fail(ps, path, "expected a number, got %s", flockd__type_name(o));
    double v = json_object_get_double(o);
    if (!isfinite(v) || v < 0) return flockd__fail(ps, path, "must be a finite number >= 0");
    return 0;
}

static char* flockd__strdup(flockd_parse* ps, const char* path, const char* s)
{
    char* d = strdup(s);
    if (!d) flockd__fail(ps, path, "out of memory");
    return d;
}

/* ------------------------------------------------------------------ */
/* libraries, margo                                                    */
/* ------------------------------------------------------------------ */

static int flockd__check_library(flockd_parse* ps, const char* path, struct json_object* o)
{
    const char* lib = NULL;
    if (flockd__get_string(ps, path, o, true, &lib) != 0) return -1;
    if (!strstr(lib, "flock-bedrock-module"))
        return flockd__fail(ps, path,
                            "unknown library \"%s\" (flockd only provides the Flock module, "
                            "\"libflock-bedrock-module.so\")",
                            lib);
    return 0;
}

static int flockd__check_libraries(flockd_parse* ps, struct json_object* libs)
{
    char path[FLOCKD_PATH_LEN];
    if (json_object_is_type(libs, json_type_array)) {
        size_t n = json_object_array_length(libs);
        for (size_t i = 0; i < n; i++) {
            flockd__path_idx(path, "libraries", i);
            if (flockd__check_library(ps, path, json_object_array_get_idx(libs, i)) != 0)
                return -1;
        }
        return 0;
    }
    if (json_object_is_type(libs, json_type_object)) {
        json_object_object_foreach(libs, key, val)
        {
            flockd__path_key(path, "libraries", key);
            if (flockd__check_library(ps, path, val) != 0) return -1;
        }
        return 0;
    }
    return flockd__fail(ps, "libraries", "expected an array of library names, got %s",
                        flockd__type_name(libs));
}

/* Contract: validates the shape of "margo" that flockd reads (pool names)
 * and records the pool names (borrowed from the tree) in ps->pools. */
static int flockd__check_margo(flockd_parse* ps, struct json_object* margo)
{
    struct json_object *abt = NULL, *pools = NULL;
    char                path[FLOCKD_PATH_LEN];
    if (!json_object_is_type(margo, json_type_object))
        return flockd__fail(ps, "margo", "expected an object, got %s", flockd__type_name(margo));
    if (json_object_object_length(margo) > 0)
        flockd__warn(ps, "margo",
                     "Margo/Argobots settings are not used by flockd (the runtime sizes its own "
                     "threads); only pool names are read");
    if (!json_object_object_get_ex(margo, "argobots", &abt)) return 0;
    if (!json_object_is_type(abt, json_type_object))
        return flockd__fail(ps, "margo.argobots", "expected an object, got %s",
                            flockd__type_name(abt));
    if (!json_object_object_get_ex(abt, "pools", &pools)) return 0;
    if (!json_object_is_type(pools, json_type_array))
        return flockd__fail(ps, "margo.argobots.pools", "expected an array, got %s",
                            flockd__type_name(pools));
    size_t n = json_object_array_length(pools);
    if (n > 0) {
        ps->pools = calloc(n, sizeof *ps->pools);
        if (!ps->pools) return flockd__fail(ps, "margo.argobots.pools", "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *pool = json_object_array_get_idx(pools, i), *name = NULL;
        char                ppath[FLOCKD_PATH_LEN];
        flockd__path_idx(ppath, "margo.argobots.pools", i);
        if (!json_object_is_type(pool, json_type_object))
            return flockd__fail(ps, ppath, "expected an object, got %s", flockd__type_name(pool));
        flockd__path_key(path, ppath, "name");
        if (!json_object_object_get_ex(pool, "name", &name))
            return flockd__fail(ps, path, "missing (every pool needs a name)");
        if (flockd__get_string(ps, path, name, true, &ps->pools[ps->num_pools]) != 0) return -1;
        ps->num_pools++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* provider config pieces                                              */
/* ------------------------------------------------------------------ */

static int flockd__parse_bootstrap(flockd_parse* ps, const char* cpath, struct json_object* b,
                                   flockd_provider_config* p)
{
    char path[FLOCKD_PATH_LEN];
    flockd__path_key(path, cpath, "bootstrap");
    struct json_object* single = NULL;
    size_t              n      = 0;
    if (json_object_is_type(b, json_type_string)) {
        single = b;
        n      = 1;
    } else if (json_object_is_type(b, json_type_array)) {
        n = json_object_array_length(b);
        if (n == 0) return flockd__fail(ps, path, "expected at least one bootstrap method");
    } else {
        return flockd__fail(ps, path, "expected a string or an array of strings, got %s",
                            flockd__type_name(b));
    }
    for (size_t i = 0; i < n; i++) {
        char                epath[FLOCKD_PATH_LEN];
        struct json_object* e = single ? single : json_object_array_get_idx(b, i);
        if (single)
            snprintf(epath, sizeof epath, "%s", path);
        else
            flockd__path_idx(epath, path, i);
        if (!json_object_is_type(e, json_type_string))
            return flockd__fail(ps, epath, "expected a string or an array of strings, got %s",
                                flockd__type_name(e));
        const char* name   = json_object_get_string(e);
        int         method = -1;
        for (int m = 0; m < FLOCKD_BOOTSTRAP_COUNT; m++)
            if (strcmp(name, flockd__bootstrap_names[m]) == 0) method = m;
        if (method < 0)
            return flockd__fail(ps, epath,
                                "unknown bootstrap method \"%s\" (expected \"self\", \"join\", "
                                "\"mpi\", \"file\" or \"view\")",
                                name);
        for (size_t j = 0; j < p->num_bootstrap; j++)
            if (p->bootstrap[j] == (flockd_bootstrap)method)
                return flockd__fail(ps, epath, "bootstrap method \"%s\" is listed twice", name);
        p->bootstrap[p->num_bootstrap++] = (flockd_bootstrap)method;
    }
    return 0;
}

static int flockd__int_cmp(const void* a, const void* b)
{
    int x = *(const int*)a, y = *(const int*)b;
    return (x > y) - (x < y);
}

static int flockd__parse_mpi_ranks(flockd_parse* ps, const char* path, struct json_object* r,
                                   flockd_provider_config* p)
{
    if (!json_object_is_type(r, json_type_array))
        return flockd__fail(ps, path, "expected an array of integers, got %s",
                            flockd__type_name(r));
    size_t n = json_object_array_length(r);
    if (n == 0) return flockd__fail(ps, path, "expected at least one rank");
    p->mpi_ranks = calloc(n, sizeof *p->mpi_ranks);
    if (!p->mpi_ranks) return flockd__fail(ps, path, "out of memory");
    p->has_mpi_ranks = true;
    for (size_t i = 0; i < n; i++) {
        char    epath[FLOCKD_PATH_LEN];
        int64_t v = 0;
        flockd__path_idx(epath, path, i);
        if (flockd__get_int(ps, epath, json_object_array_get_idx(r, i), 0, INT_MAX, &v) != 0)
            return -1;
        for (size_t j = 0; j < p->num_mpi_ranks; j++)
            if (p->mpi_ranks[j] == (int)v)
                return flockd__fail(ps, epath, "rank %lld is listed twice", (long long)v);
        p->mpi_ranks[p->num_mpi_ranks++] = (int)v;
    }
    qsort(p->mpi_ranks, p->num_mpi_ranks, sizeof *p->mpi_ranks, flockd__int_cmp);
    return 0;
}

/* Contract: validates an inline view (the group-file format of FLOCK-SPEC
 * 5.4, metadata values restricted to strings) and stores its compact JSON. */
static int flockd__parse_view(flockd_parse* ps, const char* path, struct json_object* v,
                              flockd_provider_config* p)
{
    struct json_object *members = NULL, *metadata = NULL;
    char                mpath[FLOCKD_PATH_LEN];
    if (!json_object_is_type(v, json_type_object))
        return flockd__fail(ps, path,
                            "expected an object {\"members\": [...], \"metadata\": {...}}, got %s",
                            flockd__type_name(v));
    flockd__path_key(mpath, path, "members");
    if (!json_object_object_get_ex(v, "members", &members))
        return flockd__fail(ps, mpath, "missing (a view lists at least one member)");
    if (!json_object_is_type(members, json_type_array))
        return flockd__fail(ps, mpath, "expected an array, got %s", flockd__type_name(members));
    size_t n = json_object_array_length(members);
    if (n == 0) return flockd__fail(ps, mpath, "expected at least one member");
    for (size_t i = 0; i < n; i++) {
        struct json_object *m = json_object_array_get_idx(members, i), *addr = NULL, *pid = NULL;
        char                epath[FLOCKD_PATH_LEN], fpath[FLOCKD_PATH_LEN];
        const char*         s = NULL;
        int64_t             id = 0;
        flockd__path_idx(epath, mpath, i);
        if (!json_object_is_type(m, json_type_object))
            return flockd__fail(ps, epath, "expected an object, got %s", flockd__type_name(m));
        flockd__path_key(fpath, epath, "address");
        if (!json_object_object_get_ex(m, "address", &addr)) return flockd__fail(ps, fpath, "missing");
        if (flockd__get_string(ps, fpath, addr, true, &s) != 0) return -1;
        if (strlen(s) > FLOCKD_MAX_ADDR_LEN)
            return flockd__fail(ps, fpath, "longer than %d characters", FLOCKD_MAX_ADDR_LEN);
        flockd__path_key(fpath, epath, "provider_id");
        if (!json_object_object_get_ex(m, "provider_id", &pid))
            return flockd__fail(ps, fpath, "missing");
        if (flockd__get_int(ps, fpath, pid, 0, UINT16_MAX, &id) != 0) return -1;
    }
    flockd__path_key(mpath, path, "metadata");
    if (json_object_object_get_ex(v, "metadata", &metadata)) {
        if (!json_object_is_type(metadata, json_type_object))
            return flockd__fail(ps, mpath, "expected an object of strings, got %s",
                                flockd__type_name(metadata));
        json_object_object_foreach(metadata, key, val)
        {
            char        kpath[FLOCKD_PATH_LEN];
            const char* s = NULL;
            flockd__path_key(kpath, mpath, key);
            if (flockd__get_string(ps, kpath, val, false, &s) != 0) return -1;
        }
    }
    json_object_object_foreach(v, key, val)
    {
        (void)val;
        if (strcmp(key, "members") != 0 && strcmp(key, "metadata") != 0) {
            char kpath[FLOCKD_PATH_LEN];
            flockd__path_key(kpath, path, key);
            flockd__warn(ps, kpath, "unknown key, ignored");
        }
    }
    p->view_json = flockd__strdup(ps, path, json_object_to_json_string_ext(v, FLOCKD_JSON_FLAGS));
    return p->view_json ? 0 : -1;
}

/* Contract: type checks of the centralized backend's keys (FLOCK-SPEC 3.2;
 * integers are accepted where numbers are expected). */
static int flockd__check_centralized(flockd_parse* ps, const char* path, struct json_object* c)
{
    json_object_object_foreach(c, key, val)
    {
        char    kpath[FLOCKD_PATH_LEN];
        int64_t iv = 0;
        flockd__path_key(kpath, path, key);
        if (strcmp(key, "ping_timeout_ms") == 0) {
            if (flockd__check_nonneg_number(ps, kpath, val) != 0) return -1;
        } else if (strcmp(key, "ping_interval_ms") == 0) {
            if (json_object_is_type(val, json_type_array)) {
                if (json_object_array_length(val) != 2)
                    return flockd__fail(ps, kpath,
                                        "expected a number or an array of 2 numbers [min, max]");
                for (size_t i = 0; i < 2; i++) {
                    char epath[FLOCKD_PATH_LEN];
                    flockd__path_idx(epath, kpath, i);
                    if (flockd__check_nonneg_number(ps, epath, json_object_array_get_idx(val, i))
                        != 0)
                        return -1;
                }
                if (json_object_get_double(json_object_array_get_idx(val, 0))
                    > json_object_get_double(json_object_array_get_idx(val, 1)))
                    return flockd__fail(ps, kpath, "min is greater than max");
            } else if (!json_object_is_type(val, json_type_int)
                       && !json_object_is_type(val, json_type_double)) {
                return flockd__fail(ps, kpath,
                                    "expected a number or an array of 2 numbers [min, max], got %s",
                                    flockd__type_name(val));
            } else if (flockd__check_nonneg_number(ps, kpath, val) != 0) {
                return -1;
            }
        } else if (strcmp(key, "ping_max_num_timeouts") == 0) {
            if (flockd__get_int(ps, kpath, val, 1, INT32_MAX, &iv) != 0) return -1;
        } else if (strcmp(key, "primary_address") == 0) {
            const char* s = NULL;
            if (flockd__get_string(ps, kpath, val, true, &s) != 0) return -1;
        } else if (strcmp(key, "primary_provider_id") == 0) {
            if (flockd__get_int(ps, kpath, val, 0, UINT16_MAX - 1, &iv) != 0) return -1;
        } else {
            flockd__warn(ps, kpath, "unknown key for the centralized backend, ignored");
        }
    }
    return 0;
}

/* Contract: type checks of the swim backend's keys (FLOCK-SPEC 3.3). */
static int flockd__check_swim(flockd_parse* ps, const char* path, struct json_object* c)
{
    json_object_object_foreach(c, key, val)
    {
        char    kpath[FLOCKD_PATH_LEN];
        int64_t iv = 0;
        flockd__path_key(kpath, path, key);
        if (strcmp(key, "protocol_period_ms") == 0 || strcmp(key, "ping_timeout_ms") == 0
            || strcmp(key, "ping_req_timeout_ms") == 0 || strcmp(key, "suspicion_timeout_ms") == 0) {
            if (flockd__check_nonneg_number(ps, kpath, val) != 0) return -1;
        } else if (strcmp(key, "ping_req_members") == 0) {
            if (flockd__get_int(ps, kpath, val, 0, INT32_MAX, &iv) != 0) return -1;
        }
        /* other keys: left to the backend (it may accept more than the spec) */
    }
    return 0;
}

/* Contract: validates a {"type": <name in known>, "config": {...}} object. */
static int flockd__check_typed(flockd_parse* ps, const char* path, struct json_object* o,
                               const char* what, const char* const* known, bool required,
                               const char** type_out)
{
    struct json_object *type = NULL, *conf = NULL;
    char                tpath[FLOCKD_PATH_LEN], cpath[FLOCKD_PATH_LEN], names[256];
    if (!o) {
        if (required)
            return flockd__fail(ps, path,
                                "missing (expected {\"type\": \"<%s>\", \"config\": {...}})", what);
        return 0;
    }
    if (!json_object_is_type(o, json_type_object))
        return flockd__fail(ps, path, "expected an object {\"type\": ..., \"config\": {...}}, got %s",
                            flockd__type_name(o));
    flockd__path_key(tpath, path, "type");
    flockd__path_key(cpath, path, "config");
    flockd__join_list(names, sizeof names, known);
    if (!json_object_object_get_ex(o, "type", &type))
        return flockd__fail(ps, tpath, "missing (expected %s)", names);
    const char* t = NULL;
    if (flockd__get_string(ps, tpath, type, true, &t) != 0) return -1;
    if (!flockd__in_list(t, known))
        return flockd__fail(ps, tpath, "unknown %s \"%s\" (expected %s)", what, t, names);
    if (json_object_object_get_ex(o, "config", &conf)
        && !json_object_is_type(conf, json_type_object))
        return flockd__fail(ps, cpath, "expected an object, got %s", flockd__type_name(conf));
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        if (strcmp(key, "type") != 0 && strcmp(key, "config") != 0) {
            char kpath[FLOCKD_PATH_LEN];
            flockd__path_key(kpath, path, key);
            flockd__warn(ps, kpath, "unknown key, ignored");
        }
    }
    if (conf && strcmp(what, "backend") == 0) {
        if (strcmp(t, "centralized") == 0 && flockd__check_centralized(ps, cpath, conf) != 0)
            return -1;
        if (strcmp(t, "swim") == 0 && flockd__check_swim(ps, cpath, conf) != 0) return -1;
    }
    *type_out = t;
    return 0;
}

/* Contract: checks that the provider can possibly start with its bootstrap
 * list: a method that can never work here is an error when it is the only
 * hope, a warning when another method follows. */
static int flockd__check_bootstrap_possible(flockd_parse* ps, const char* cpath,
                                            flockd_provider_config* p)
{
    char   path[FLOCKD_PATH_LEN], why[FLOCKD_BOOTSTRAP_COUNT][160];
    size_t possible = 0;
    flockd__path_key(path, cpath, "bootstrap");
    for (size_t i = 0; i < p->num_bootstrap; i++) {
        why[i][0] = 0;
        if (p->bootstrap[i] == FLOCKD_BOOTSTRAP_MPI && !ps->opts->have_mpi)
            snprintf(why[i], sizeof why[i], "\"mpi\" is not available (flockd was built without MPI)");
        else if (p->bootstrap[i] == FLOCKD_BOOTSTRAP_JOIN && strcmp(p->backend, "static") == 0)
            snprintf(why[i], sizeof why[i],
                     "\"join\" is impossible with the static backend (its membership is fixed)");
        if (!why[i][0]) possible++;
    }
    for (size_t i = 0; i < p->num_bootstrap; i++) {
        if (!why[i][0]) continue;
        if (possible == 0) return flockd__fail(ps, path, "%s", why[i]);
        flockd__warn(ps, path, "%s; the other methods will be tried", why[i]);
    }
    return 0;
}

static int flockd__parse_provider_config(flockd_parse* ps, const char* ppath,
                                         struct json_object* c, flockd_provider_config* p)
{
    struct json_object *boot = NULL, *file = NULL, *ranks = NULL, *view = NULL, *group = NULL,
                       *gateway = NULL;
    char        cpath[FLOCKD_PATH_LEN], path[FLOCKD_PATH_LEN];
    const char* s        = NULL;
    const char* backends = NULL;
    flockd__path_key(cpath, ppath, "config");
    if (!c) return flockd__fail(ps, cpath, "missing (a flock provider needs at least \"bootstrap\" and \"group\")");
    if (!json_object_is_type(c, json_type_object))
        return flockd__fail(ps, cpath, "expected an object, got %s", flockd__type_name(c));

    flockd__path_key(path, cpath, "bootstrap");
    if (!json_object_object_get_ex(c, "bootstrap", &boot))
        return flockd__fail(ps, path,
                            "missing (expected a string or an array of strings among \"self\", "
                            "\"join\", \"mpi\", \"file\", \"view\")");
    if (flockd__parse_bootstrap(ps, cpath, boot, p) != 0) return -1;

    flockd__path_key(path, cpath, "file");
    if (json_object_object_get_ex(c, "file", &file)) {
        if (flockd__get_string(ps, path, file, true, &s) != 0) return -1;
        if (!(p->file = flockd__strdup(ps, path, s))) return -1;
    }
    if (!p->file) {
        if (flockd__config_has_bootstrap(p, FLOCKD_BOOTSTRAP_JOIN))
            return flockd__fail(ps, path, "missing (required by bootstrap method \"join\")");
        if (flockd__config_has_bootstrap(p, FLOCKD_BOOTSTRAP_FILE))
            return flockd__fail(ps, path, "missing (required by bootstrap method \"file\")");
    }

    flockd__path_key(path, cpath, "mpi_ranks");
    if (json_object_object_get_ex(c, "mpi_ranks", &ranks)) {
        if (flockd__parse_mpi_ranks(ps, path, ranks, p) != 0) return -1;
        if (!flockd__config_has_bootstrap(p, FLOCKD_BOOTSTRAP_MPI))
            flockd__warn(ps, path, "ignored (bootstrap method \"mpi\" is not listed)");
    }

    flockd__path_key(path, cpath, "view");
    if (json_object_object_get_ex(c, "view", &view)) {
        if (flockd__parse_view(ps, path, view, p) != 0) return -1;
        if (!flockd__config_has_bootstrap(p, FLOCKD_BOOTSTRAP_VIEW))
            flockd__warn(ps, path, "ignored (bootstrap method \"view\" is not listed)");
    } else if (flockd__config_has_bootstrap(p, FLOCKD_BOOTSTRAP_VIEW)) {
        return flockd__fail(ps, path,
                            "missing (required by bootstrap method \"view\": an object "
                            "{\"members\": [{\"address\": ..., \"provider_id\": ...}], "
                            "\"metadata\": {...}})");
    }

    const char* const* known_backends =
        ps->opts->backends ? ps->opts->backends : flockd__default_backends;
    const char* const* known_gateways =
        ps->opts->gateways ? ps->opts->gateways : flockd__default_gateways;
    const char* gw = NULL;
    flockd__path_key(path, cpath, "group");
    json_object_object_get_ex(c, "group", &group);
    if (flockd__check_typed(ps, path, group, "backend", known_backends, true, &backends) != 0)
        return -1;
    if (!(p->backend = flockd__strdup(ps, path, backends))) return -1;
    flockd__path_key(path, cpath, "gateway");
    json_object_object_get_ex(c, "gateway", &gateway);
    if (flockd__check_typed(ps, path, gateway, "gateway", known_gateways, false, &gw) != 0)
        return -1;

    json_object_object_foreach(c, key, val)
    {
        (void)val;
        static const char* const known[] = {"bootstrap", "file",  "mpi_ranks", "view",
                                            "group",     "gateway", NULL};
        if (!flockd__in_list(key, known)) {
            flockd__path_key(path, cpath, key);
            flockd__warn(ps, path, "unknown key, passed to the provider unchanged");
        }
    }
    if (flockd__check_bootstrap_possible(ps, cpath, p) != 0) return -1;
    if (!(p->config_json = flockd__strdup(ps, cpath, json_object_to_json_string_ext(c, FLOCKD_JSON_FLAGS))))
        return -1;
    return 0;
}

static int flockd__parse_dependencies(flockd_parse* ps, const char* ppath, struct json_object* d,
                                      flockd_provider_config* p)
{
    char path[FLOCKD_PATH_LEN];
    flockd__path_key(path, ppath, "dependencies");
    if (!json_object_is_type(d, json_type_object))
        return flockd__fail(ps, path, "expected an object, got %s", flockd__type_name(d));
    json_object_object_foreach(d, key, val)
    {
        char        kpath[FLOCKD_PATH_LEN];
        const char* pool = NULL;
        flockd__path_key(kpath, path, key);
        if (strcmp(key, "pool") != 0)
            return flockd__fail(ps, kpath,
                                "unknown dependency (a flock provider only has \"pool\")");
        if (json_object_is_type(val, json_type_array))
            return flockd__fail(ps, kpath, "expected a string (the pool dependency is not an array)");
        if (flockd__get_string(ps, kpath, val, true, &pool) != 0) return -1;
        bool known = strcmp(pool, "__primary__") == 0;
        for (size_t i = 0; i < ps->num_pools && !known; i++)
            known = strcmp(pool, ps->pools[i]) == 0;
        if (!known)
            return flockd__fail(ps, kpath,
                                "unknown pool \"%s\" (define it in margo.argobots.pools, or use "
                                "\"__primary__\")",
                                pool);
        if (!(p->pool = flockd__strdup(ps, kpath, pool))) return -1;
    }
    return 0;
}

static int flockd__parse_provider(flockd_parse* ps, size_t idx, struct json_object* o)
{
    flockd_provider_config* p = &ps->cfg->providers[idx];
    struct json_object *    type = NULL, *name = NULL, *pid = NULL, *deps = NULL, *conf = NULL,
                       *tags = NULL;
    char        ppath[FLOCKD_PATH_LEN], path[FLOCKD_PATH_LEN];
    const char* s = NULL;
    int64_t     id = 0;
    flockd__path_idx(ppath, "providers", idx);
    if (!json_object_is_type(o, json_type_object))
        return flockd__fail(ps, ppath, "expected an object, got %s", flockd__type_name(o));

    json_object_object_foreach(o, key, val)
    {
        (void)val;
        static const char* const known[] = {"type",         "name",   "provider_id",
                                            "dependencies", "config", "tags", NULL};
        if (!flockd__in_list(key, known)) {
            flockd__path_key(path, ppath, key);
            return flockd__fail(ps, path,
                                "unknown key (expected \"type\", \"name\", \"provider_id\", "
                                "\"dependencies\", \"config\" or \"tags\")");
        }
    }

    flockd__path_key(path, ppath, "type");
    if (!json_object_object_get_ex(o, "type", &type)) return flockd__fail(ps, path, "missing (expected \"flock\")");
    if (flockd__get_string(ps, path, type, true, &s) != 0) return -1;
    if (strcmp(s, "flock") != 0)
        return flockd__fail(ps, path, "unknown provider type \"%s\" (flockd only runs \"flock\" providers)", s);

    flockd__path_key(path, ppath, "name");
    if (!json_object_object_get_ex(o, "name", &name)) return flockd__fail(ps, path, "missing");
    if (flockd__get_string(ps, path, name, true, &s) != 0) return -1;
    for (size_t i = 0; i < idx; i++)
        if (strcmp(ps->cfg->providers[i].name, s) == 0)
            return flockd__fail(ps, path, "\"%s\" is already the name of providers[%zu]", s, i);
    if (!(p->name = flockd__strdup(ps, path, s))) return -1;

    flockd__path_key(path, ppath, "provider_id");
    if (json_object_object_get_ex(o, "provider_id", &pid)) {
        if (flockd__get_int(ps, path, pid, 0, UINT16_MAX - 1, &id) != 0) return -1;
    }
    for (size_t i = 0; i < idx; i++)
        if (ps->cfg->providers[i].provider_id == (uint16_t)id)
            return flockd__fail(ps, path, "%lld is already the provider id of providers[%zu]",
                                (long long)id, i);
    p->provider_id = (uint16_t)id;

    if (json_object_object_get_ex(o, "dependencies", &deps)
        && flockd__parse_dependencies(ps, ppath, deps, p) != 0)
        return -1;

    flockd__path_key(path, ppath, "tags");
    if (json_object_object_get_ex(o, "tags", &tags)) {
        if (!json_object_is_type(tags, json_type_array))
            return flockd__fail(ps, path, "expected an array of strings, got %s", flockd__type_name(tags));
        for (size_t i = 0; i < json_object_array_length(tags); i++) {
            char epath[FLOCKD_PATH_LEN];
            flockd__path_idx(epath, path, i);
            if (flockd__get_string(ps, epath, json_object_array_get_idx(tags, i), false, &s) != 0)
                return -1;
        }
    }

    json_object_object_get_ex(o, "config", &conf);
    return flockd__parse_provider_config(ps, ppath, conf, p);
}

/* ------------------------------------------------------------------ */
/* top level                                                           */
/* ------------------------------------------------------------------ */

static int flockd__parse_root(flockd_parse* ps, struct json_object* root)
{
    struct json_object *libs = NULL, *margo = NULL, *providers = NULL;
    if (!json_object_is_type(root, json_type_object))
        return flockd__fail(ps, "(top level)", "expected an object, got %s", flockd__type_name(root));
    json_object_object_foreach(root, key, val)
    {
        static const char* const known[] = {"libraries", "margo", "bedrock", "providers", NULL};
        /* other Bedrock sections: fine when empty (generated configs list them) */
        static const char* const bedrock[] = {"clients", "ssg", "abt_io", "mona", NULL};
        if (flockd__in_list(key, known)) continue;
        bool empty = (json_object_is_type(val, json_type_array) && json_object_array_length(val) == 0)
                  || (json_object_is_type(val, json_type_object) && json_object_object_length(val) == 0);
        if (flockd__in_list(key, bedrock) && empty) {
            flockd__warn(ps, key, "empty Bedrock section, ignored");
            continue;
        }
        return flockd__fail(ps, key,
                            "not supported by flockd (expected \"libraries\", \"margo\", "
                            "\"bedrock\" or \"providers\"; other Bedrock sections only if empty)");
    }
    if (json_object_object_get_ex(root, "libraries", &libs) && flockd__check_libraries(ps, libs) != 0)
        return -1;
    if (json_object_object_get_ex(root, "margo", &margo) && flockd__check_margo(ps, margo) != 0)
        return -1;
    if (!json_object_object_get_ex(root, "providers", &providers))
        return flockd__fail(ps, "providers", "missing (expected an array of flock providers)");
    if (!json_object_is_type(providers, json_type_array))
        return flockd__fail(ps, "providers", "expected an array of providers, got %s",
                            flockd__type_name(providers));
    size_t n = json_object_array_length(providers);
    if (n == 0) return flockd__fail(ps, "providers", "expected at least one provider");
    if (n > FLOCKD_MAX_PROVIDERS)
        return flockd__fail(ps, "providers", "more than %d providers", FLOCKD_MAX_PROVIDERS);
    ps->cfg->providers = calloc(n, sizeof *ps->cfg->providers);
    if (!ps->cfg->providers) return flockd__fail(ps, "providers", "out of memory");
    ps->cfg->num_providers = n;
    for (size_t i = 0; i < n; i++)
        if (flockd__parse_provider(ps, i, json_object_array_get_idx(providers, i)) != 0) return -1;
    return 0;
}

/* Contract: 1-based line and column of byte offset off in text. */
static void flockd__line_col(const char* text, size_t len, size_t off, size_t* line, size_t* col)
{
    *line = 1;
    *col  = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int flockd__config_parse(const char* text, size_t len, const flockd_config_options* opts,
                         flockd_config* out, char* err, size_t errsize)
{
    static const flockd_config_options defaults = {false, NULL, NULL};
    struct json_tokener* tok  = NULL;
    struct json_object*  root = NULL;
    char*                copy = NULL;
    flockd_parse         ps   = {opts ? opts : &defaults, out, err, errsize, NULL, 0};
    int                  ret  = -1;

    memset(out, 0, sizeof *out);
    if (err && errsize) err[0] = 0;
    if (!text) {
        flockd__fail(&ps, "(config)", "no text");
        goto finish;
    }
    if (len > FLOCKD_MAX_CONFIG_SIZE || len > INT_MAX) {
        flockd__fail(&ps, "(config)", "larger than %u bytes", FLOCKD_MAX_CONFIG_SIZE);
        goto finish;
    }
    if (memchr(text, 0, len)) {
        flockd__fail(&ps, "(config)", "invalid JSON: contains a NUL byte");
        goto finish;
    }
    tok = json_tokener_new();
    if (!tok) {
        flockd__fail(&ps, "(config)", "out of memory");
        goto finish;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* parse a NUL-terminated copy, NUL included, so that a document ending
     * in a number ("42") is complete rather than "to be continued" */
    copy = malloc(len + 1);
    if (!copy) {
        flockd__fail(&ps, "(config)", "out of memory");
        goto finish;
    }
    memcpy(copy, text, len);
    copy[len] = 0;
    root                      = json_tokener_parse_ex(tok, copy, (int)len + 1);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t                  end = json_tokener_get_parse_end(tok);
    if (e == json_tokener_continue) {
        /* the text ended inside a value (e.g. an unclosed object) */
        size_t line, col;
        flockd__line_col(text, len, len, &line, &col);
        flockd__fail(&ps, "(config)", "invalid JSON at line %zu, column %zu: unexpected end of input",
                     line, col);
        goto finish;
    }
    if (e != json_tokener_success || !root) {
        size_t line, col;
        flockd__line_col(text, len, end, &line, &col);
        flockd__fail(&ps, "(config)", "invalid JSON at line %zu, column %zu: %s", line, col,
                     e != json_tokener_success ? json_tokener_error_desc(e) : "empty document");
        goto finish;
    }
    for (size_t i = end; i < len; i++) {
        if (!isspace((unsigned char)text[i])) {
            size_t line, col;
            flockd__line_col(text, len, i, &line, &col);
            flockd__fail(&ps, "(config)",
                         "invalid JSON at line %zu, column %zu: unexpected text after the document",
                         line, col);
            goto finish;
        }
    }
    if (flockd__parse_root(&ps, root) != 0) goto finish;
    ret = 0;

finish:
    if (ret != 0) flockd__config_free(out);
    free(ps.pools);
    free(copy);
    if (root) json_object_put(root);
    if (tok) json_tokener_free(tok);
    return ret;
}

int flockd__config_load(const char* path, const flockd_config_options* opts, flockd_config* out,
                        char* err, size_t errsize)
{
    FILE*  f   = NULL;
    char*  buf = NULL;
    size_t len = 0, cap = 0;
    int    ret = -1;

    memset(out, 0, sizeof *out);
    if (!path) {
        if (err && errsize) snprintf(err, errsize, "(config): no file given");
        goto finish;
    }
    f = fopen(path, "rb");
    if (!f) {
        if (err && errsize) snprintf(err, errsize, "%s: cannot open: %s", path, strerror(errno));
        goto finish;
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            if (ncap > (size_t)FLOCKD_MAX_CONFIG_SIZE + 1) ncap = (size_t)FLOCKD_MAX_CONFIG_SIZE + 1;
            if (ncap == cap) {
                if (err && errsize)
                    snprintf(err, errsize, "%s: larger than %u bytes", path, FLOCKD_MAX_CONFIG_SIZE);
                goto finish;
            }
            char* nbuf = realloc(buf, ncap);
            if (!nbuf) {
                if (err && errsize) snprintf(err, errsize, "%s: out of memory", path);
                goto finish;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                if (err && errsize) snprintf(err, errsize, "%s: read error: %s", path, strerror(errno));
                goto finish;
            }
            break;
        }
    }
    ret = flockd__config_parse(buf ? buf : "", len, opts, out, err, errsize);

finish:
    if (f) fclose(f);
    free(buf);
    return ret;
}

void flockd__config_free(flockd_config* cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->num_providers; i++) {
        flockd_provider_config* p = &cfg->providers[i];
        free(p->name);
        free(p->pool);
        free(p->file);
        free(p->mpi_ranks);
        free(p->view_json);
        free(p->backend);
        free(p->config_json);
    }
    free(cfg->providers);
    memset(cfg, 0, sizeof *cfg);
}

bool flockd__config_has_bootstrap(const flockd_provider_config* p, flockd_bootstrap method)
{
    for (size_t i = 0; i < p->num_bootstrap; i++)
        if (p->bootstrap[i] == method) return true;
    return false;
}

int flockd__parse_log_level(const char* name)
{
    static const struct {
        const char* name;
        int         level;
    } levels[] = {{"trace", 1},   {"debug", 2}, {"info", 3},     {"warning", 4},
                  {"warn", 4},    {"error", 5}, {"critical", 6}, {NULL, 0}};
    if (!name) return -1;
    for (size_t i = 0; levels[i].name; i++)
        if (strcasecmp(name, levels[i].name) == 0) return levels[i].level;
    return -1;
}
