/*
 * flockd-config-internal.h -- the parts of flockd's config parser and the
 * calls between them (internal to the flockd-config library).
 *
 * Files, from the top down (each calls only the ones below it):
 *   flockd-config.c           the public API of flockd-config.h: reading
 *                             the file, tokenizing the JSON, the top level
 *                             ("libraries", "margo", the Bedrock sections,
 *                             "providers"), freeing, log levels.
 *   flockd-config-provider.c  one entry of "providers" and its "config"
 *                             (bootstrap, file, mpi_ranks, view).
 *   flockd-config-group.c     its "group" and "gateway" sections and the
 *                             backends' key checks.
 *   flockd-config-json.c      path-prefixed errors and warnings, typed
 *                             accessors, list helpers.
 *
 * Ownership: a flockd_parse lives on the stack of flockd__config_parse; its
 * cfg (the caller's flockd_config) is filled by the provider and group
 * parts, its err buffer and cfg->warnings by flockd-config-json.c, its
 * pools array by the "margo" check (freed by flockd__config_parse).
 */
#ifndef FLOCKD_CONFIG_INTERNAL_H
#define FLOCKD_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "flockd-config.h"

#define FLOCKD_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* Largest configuration file read (a Bedrock config is a few KiB). */
#define FLOCKD_MAX_CONFIG_SIZE (16u << 20)
/* Longest JSON path kept in messages. */
#define FLOCKD_PATH_LEN 256
/* Addresses are < 128 characters (frt.h FRT_MAX_ADDR_LEN). */
#define FLOCKD_MAX_ADDR_LEN 127

/* Parsing state shared by the validators. */
typedef struct flockd_parse {
    const flockd_config_options* opts;
    flockd_config*               cfg;
    char*                        err;
    size_t                       errsize;
    const char**                 pools; /* known pool names (borrowed from the JSON tree) */
    size_t                       num_pools;
} flockd_parse;

/* ---------------- flockd-config-json.c ---------------- */

/* Contract: formats "<path>: <message>" into the error buffer; returns -1
 * so that callers can write `return flockd__fail(...)`. */
__attribute__((format(printf, 3, 4))) int flockd__fail(flockd_parse* ps, const char* path,
                                                       const char* fmt, ...);
/* Contract: appends a "<path>: <message>" warning (dropped when the table is full). */
__attribute__((format(printf, 3, 4))) void flockd__warn(flockd_parse* ps, const char* path,
                                                        const char* fmt, ...);
/* Contract: writes "<parent>.<key>" (or "<key>" when parent is empty) into
 * out (FLOCKD_PATH_LEN bytes). */
void flockd__path_key(char* out, const char* parent, const char* key);
/* Contract: writes "<parent>[<i>]" into out (FLOCKD_PATH_LEN bytes). */
void flockd__path_idx(char* out, const char* parent, size_t i);
/* JSON type name for messages ("a string", ...). */
const char* flockd__type_name(struct json_object* o);
/* true if s is in the NULL-terminated list. */
bool flockd__in_list(const char* s, const char* const* list);
/* Contract: writes "a, b or c" from a NULL-terminated list into out. */
void flockd__join_list(char* out, size_t outsize, const char* const* list);
/* Contract: o must be a string without embedded NUL (and non-empty when
 * nonempty is set); on success *out points into o (borrowed). */
int flockd__get_string(flockd_parse* ps, const char* path, struct json_object* o,
                       bool nonempty, const char** out);
/* Contract: o must be a JSON integer in [lo, hi]. */
int flockd__get_int(flockd_parse* ps, const char* path, struct json_object* o, int64_t lo,
                    int64_t hi, int64_t* out);
/* Bounds of the intervals, timeouts and counts flockd checks (flockd-config-group.c). */
#define FLOCKD_MIN_MS   1.0        /* 0 would make a busy loop */
#define FLOCKD_MAX_MS   86400000.0 /* one day */
#define FLOCKD_MAX_COUNT 1000      /* ping_max_num_timeouts, ping_req_members */
/* Contract: o must be a finite JSON number (integer or decimal) in
 * [lo, hi]; the message names the unit ("milliseconds"). *out may be NULL. */
int flockd__get_number(flockd_parse* ps, const char* path, struct json_object* o, double lo,
                       double hi, const char* unit, double* out);
/* Contract: a warning "<path>.<key>: <message>" for each key of object o
 * that is not in the NULL-terminated list known. */
void flockd__warn_unknown_keys(flockd_parse* ps, const char* path, struct json_object* o,
                               const char* const* known, const char* message);
/* strdup that reports "out of memory" at path; NULL then. */
char* flockd__strdup(flockd_parse* ps, const char* path, const char* s);

/* ---------------- flockd-config-group.c ---------------- */

/* Contract: validates c's "group" (required, a known backend; its type is
 * copied to p->backend) and "gateway" (optional). c is a provider config
 * object at JSON path cpath. */
int flockd__parse_group_sections(flockd_parse* ps, const char* cpath, struct json_object* c,
                                 flockd_provider_config* p);

/* ---------------- flockd-config-provider.c ---------------- */

/* Contract: validates providers[idx] (o) into ps->cfg->providers[idx]
 * (zeroed), checking names and ids against the entries before it. */
int flockd__parse_provider(flockd_parse* ps, size_t idx, struct json_object* o);

#endif /* FLOCKD_CONFIG_INTERNAL_H */
