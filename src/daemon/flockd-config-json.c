/*
 * flockd-config-json.c -- the helpers every part of the flockd config
 * parser uses: error and warning messages prefixed with the JSON path,
 * building paths, typed accessors (string, integer, number) that name the
 * offending field, small list helpers.
 *
 * Owns: the error buffer and the warnings table of a parse (through
 * flockd_parse). May call: json-c, libc only.
 */
#include "flockd-config-internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Contract: formats "<path>: <message>" into the error buffer; returns -1
 * so that callers can write `return flockd__fail(...)`. */
int flockd__fail(flockd_parse* ps, const char* path, const char* fmt, ...)
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
void flockd__warn(flockd_parse* ps, const char* path, const char* fmt, ...)
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
void flockd__path_key(char* out, const char* parent, const char* key)
{
    int n = parent[0] ? snprintf(out, FLOCKD_PATH_LEN, "%s.%s", parent, key)
                      : snprintf(out, FLOCKD_PATH_LEN, "%s", key);
    if (n >= FLOCKD_PATH_LEN) memcpy(out + FLOCKD_PATH_LEN - 4, "...", 4); /* very long keys */
}

/* Contract: writes "<parent>[<i>]" into out. */
void flockd__path_idx(char* out, const char* parent, size_t i)
{
    int n = snprintf(out, FLOCKD_PATH_LEN, "%s[%zu]", parent, i);
    if (n >= FLOCKD_PATH_LEN) memcpy(out + FLOCKD_PATH_LEN - 4, "...", 4);
}

/* JSON type name for messages. */
const char* flockd__type_name(struct json_object* o)
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

bool flockd__in_list(const char* s, const char* const* list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0) return true;
    return false;
}

/* Contract: writes "a, b or c" from a NULL-terminated list into out. */
void flockd__join_list(char* out, size_t outsize, const char* const* list)
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
int flockd__get_string(flockd_parse* ps, const char* path, struct json_object* o,
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
int flockd__get_int(flockd_parse* ps, const char* path, struct json_object* o, int64_t lo,
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

int flockd__get_number(flockd_parse* ps, const char* path, struct json_object* o, double lo,
                       double hi, const char* unit, double* out)
{
    if (!json_object_is_type(o, json_type_int) && !json_object_is_type(o, json_type_double))
        return flockd__fail(ps, path, "expected a number (%s), got %s", unit,
                            flockd__type_name(o));
    double v = json_object_get_double(o);
    if (!isfinite(v) || v < lo || v > hi)
        return flockd__fail(ps, path, "must be a number of %s between %g and %g", unit, lo, hi);
    if (out) *out = v;
    return 0;
}

char* flockd__strdup(flockd_parse* ps, const char* path, const char* s)
{
    char* d = strdup(s);
    if (!d) flockd__fail(ps, path, "out of memory");
    return d;
}

void flockd__warn_unknown_keys(flockd_parse* ps, const char* path, struct json_object* o,
                               const char* const* known, const char* message)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        if (!flockd__in_list(key, known)) {
            char kpath[FLOCKD_PATH_LEN];
            flockd__path_key(kpath, path, key);
            flockd__warn(ps, kpath, "%s", message);
        }
    }
}
