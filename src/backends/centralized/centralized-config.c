/*
 * centralized-config.c -- see centralized-config.h.
 */
#include "centralized-config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cent__err(char* errbuf, size_t errlen, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cent__err(char* errbuf, size_t errlen, const char* fmt, ...)
{
    if (!errbuf || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

void flock__cent_config_default(flock__cent_config_t* cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ping_timeout_ms = FLOCK__CENT_DEFAULT_PING_TIMEOUT_MS;
    cfg->ping_interval_min_ms = FLOCK__CENT_DEFAULT_PING_INTERVAL_MS;
    cfg->ping_interval_max_ms = FLOCK__CENT_DEFAULT_PING_INTERVAL_MS;
    cfg->ping_max_num_timeouts = FLOCK__CENT_DEFAULT_MAX_NUM_TIMEOUTS;
    cfg->primary_address = NULL;
    cfg->has_primary_provider_id = false;
    cfg->primary_provider_id = FLOCK__CENT_DEFAULT_PRIMARY_PID;
}

void flock__cent_config_destroy(flock__cent_config_t* cfg)
{
    if (!cfg) return;
    free(cfg->primary_address);
    cfg->primary_address = NULL;
}

/* Contract: true if v is a JSON number (double or integer) with a finite
 * value, stored in *out. */
static bool cent__get_number(struct json_object* v, double* out)
{
    if (json_object_is_type(v, json_type_double)) {
        *out = json_object_get_double(v);
    } else if (json_object_is_type(v, json_type_int)) {
        *out = (double)json_object_get_int64(v);
    } else {
        return false;
    }
    return isfinite(*out);
}

/* Contract: the value of `key`, taken from view_cfg if present there, else
 * from group_cfg; NULL if absent from both (either may be NULL). */
static struct json_object* cent__lookup(struct json_object* view_cfg,
                                        struct json_object* group_cfg, const char* key)
{
    struct json_object* v = NULL;
    if (view_cfg && json_object_object_get_ex(view_cfg, key, &v)) return v;
    if (group_cfg && json_object_object_get_ex(group_cfg, key, &v)) return v;
    return NULL;
}

/* The key parsers: each validates the value of one key (NULL: absent, keep
 * the default) into cfg, or writes the message naming the key and returns
 * FLOCK_ERR_INVALID_CONFIG (FLOCK_ERR_ALLOCATION when out of memory). */
typedef flock_return_t (*cent_key_parser_fn)(struct json_object* v,
                                             flock__cent_config_t* cfg, char* errbuf,
                                             size_t errlen);

static flock_return_t cent__parse_primary_address(struct json_object* v,
                                                  flock__cent_config_t* cfg, char* errbuf,
                                                  size_t errlen)
{
    if (!v) return FLOCK_SUCCESS;
    if (!json_object_is_type(v, json_type_string)) {
        cent__err(errbuf, errlen, "\"primary_address\" must be a string");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    cfg->primary_address = strdup(json_object_get_string(v));
    return cfg->primary_address ? FLOCK_SUCCESS : FLOCK_ERR_ALLOCATION;
}

/* Contract: v must be a JSON integer in [lo, hi] (`range` says so in the
 * message naming key), stored in *out. */
static flock_return_t cent__get_int_in(struct json_object* v, const char* key, int64_t lo,
                                       int64_t hi, const char* range, int64_t* out,
                                       char* errbuf, size_t errlen)
{
    if (!json_object_is_type(v, json_type_int)) {
        cent__err(errbuf, errlen, "\"%s\" must be an integer", key);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    *out = json_object_get_int64(v);
    if (*out < lo || *out > hi) {
        cent__err(errbuf, errlen, "\"%s\" must be in %s (got %lld)", key, range,
                  (long long)*out);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    return FLOCK_SUCCESS;
}

static flock_return_t cent__parse_primary_provider_id(struct json_object* v,
                                                      flock__cent_config_t* cfg,
                                                      char* errbuf, size_t errlen)
{
    int64_t id;
    if (!v) return FLOCK_SUCCESS;
    flock_return_t ret = cent__get_int_in(v, "primary_provider_id", 0, 65534, "[0, 65535)",
                                          &id, errbuf, errlen);
    if (ret != FLOCK_SUCCESS) return ret;
    cfg->primary_provider_id = (uint16_t)id;
    cfg->has_primary_provider_id = true;
    return FLOCK_SUCCESS;
}

static flock_return_t cent__parse_ping_timeout(struct json_object* v,
                                               flock__cent_config_t* cfg, char* errbuf,
                                               size_t errlen)
{
    double d;
    if (!v) return FLOCK_SUCCESS;
    if (!cent__get_number(v, &d) || d < 0) {
        cent__err(errbuf, errlen, "\"ping_timeout_ms\" must be a number >= 0");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    cfg->ping_timeout_ms = d;
    return FLOCK_SUCCESS;
}

/* ping_interval_ms: a number, or [min, max] */
static flock_return_t cent__parse_ping_interval(struct json_object* v,
                                                flock__cent_config_t* cfg, char* errbuf,
                                                size_t errlen)
{
    double lo, hi;
    if (!v) return FLOCK_SUCCESS;
    if (json_object_is_type(v, json_type_array)) {
        if (json_object_array_length(v) != 2 ||
            !cent__get_number(json_object_array_get_idx(v, 0), &lo) ||
            !cent__get_number(json_object_array_get_idx(v, 1), &hi)) {
            cent__err(errbuf, errlen,
                      "\"ping_interval_ms\" as an array must be [min, max] (two numbers)");
            return FLOCK_ERR_INVALID_CONFIG;
        }
    } else if (cent__get_number(v, &lo)) {
        hi = lo;
    } else {
        cent__err(errbuf, errlen, "\"ping_interval_ms\" must be a number or [min, max]");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (lo < 0 || hi < 0 || lo > hi) {
        cent__err(errbuf, errlen,
                  "\"ping_interval_ms\" needs 0 <= min <= max (got %g, %g)", lo, hi);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    cfg->ping_interval_min_ms = lo;
    cfg->ping_interval_max_ms = hi;
    return FLOCK_SUCCESS;
}

static flock_return_t cent__parse_ping_max_num_timeouts(struct json_object* v,
                                                        flock__cent_config_t* cfg,
                                                        char* errbuf, size_t errlen)
{
    int64_t n;
    if (!v) return FLOCK_SUCCESS;
    flock_return_t ret = cent__get_int_in(v, "ping_max_num_timeouts", 1, 1000000,
                                          "[1, 1000000]", &n, errbuf, errlen);
    if (ret != FLOCK_SUCCESS) return ret;
    cfg->ping_max_num_timeouts = (int)n;
    return FLOCK_SUCCESS;
}

static flock_return_t cent__parse_group_id(struct json_object* v, flock__cent_config_t* cfg,
                                           char* errbuf, size_t errlen)
{
    const char* t = v ? json_object_get_string(v) : NULL;
    char*       end = NULL;
    if (!v) return FLOCK_SUCCESS;
    if (!json_object_is_type(v, json_type_string) || !t[0] || strlen(t) > 16
        || strspn(t, "0123456789abcdefABCDEF") != strlen(t)
        || (cfg->group_id = strtoull(t, &end, 16)) == 0) {
        cent__err(errbuf, errlen, "\"group_id\" must be a string of 1 to 16 hex digits, not 0");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    return FLOCK_SUCCESS;
}

static flock_return_t cent__parse_term(struct json_object* v, flock__cent_config_t* cfg,
                                       char* errbuf, size_t errlen)
{
    int64_t n;
    if (!v) return FLOCK_SUCCESS;
    flock_return_t ret = cent__get_int_in(v, "term", 1, INT64_MAX, "[1, 2^63-1]", &n, errbuf,
                                          errlen);
    if (ret == FLOCK_SUCCESS) cfg->term = (uint64_t)n;
    return ret;
}

static flock_return_t cent__parse_failover(struct json_object* v, flock__cent_config_t* cfg,
                                           char* errbuf, size_t errlen)
{
    if (!v) return FLOCK_SUCCESS;
    if (!json_object_is_type(v, json_type_boolean)) {
        cent__err(errbuf, errlen, "\"failover\" must be true or false");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    cfg->no_failover = !json_object_get_boolean(v);
    return FLOCK_SUCCESS;
}

/* The keys, in the order their errors are reported. */
static const struct {
    const char* key;
    cent_key_parser_fn parse;
} cent_config_keys[] = {
    {"primary_address", cent__parse_primary_address},
    {"primary_provider_id", cent__parse_primary_provider_id},
    {"ping_timeout_ms", cent__parse_ping_timeout},
    {"ping_interval_ms", cent__parse_ping_interval},
    {"ping_max_num_timeouts", cent__parse_ping_max_num_timeouts},
    {"group_id", cent__parse_group_id},
    {"term", cent__parse_term},
    {"failover", cent__parse_failover},
};

/* Contract: the two sources must be objects: the view's __config__ text (if
 * any) parsed into *view_cfg (the caller puts it), group.config as given. */
static flock_return_t cent__open_sources(const char* view_config_json,
                                         struct json_object* gcfg,
                                         struct json_object** view_cfg, char* errbuf,
                                         size_t errlen)
{
    if (view_config_json) {
        enum json_tokener_error jerr = json_tokener_success;
        *view_cfg = json_tokener_parse_verbose(view_config_json, &jerr);
        if (!*view_cfg || !json_object_is_type(*view_cfg, json_type_object)) {
            cent__err(errbuf, errlen,
                      "the view's __config__ metadata is not a JSON object (%s)",
                      *view_cfg ? "wrong type" : json_tokener_error_desc(jerr));
            return FLOCK_ERR_INVALID_ARGS;
        }
    }
    if (gcfg && !json_object_is_type(gcfg, json_type_object)) {
        cent__err(errbuf, errlen, "group \"config\" must be a JSON object");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    return FLOCK_SUCCESS;
}

flock_return_t flock__cent_config_parse(const struct json_object* group_config,
                                        const char* view_config_json,
                                        flock__cent_config_t* out, char* errbuf,
                                        size_t errlen)
{
    struct json_object* view_cfg = NULL;
    struct json_object* gcfg = (struct json_object*)group_config;
    flock__cent_config_t cfg;
    flock_return_t ret;

    flock__cent_config_default(&cfg);
    flock__cent_config_default(out);
    cent__err(errbuf, errlen, "%s", "");

    ret = cent__open_sources(view_config_json, gcfg, &view_cfg, errbuf, errlen);
    for (size_t i = 0; ret == FLOCK_SUCCESS && i < sizeof cent_config_keys /
                                                       sizeof cent_config_keys[0];
         i++)
        ret = cent_config_keys[i].parse(cent__lookup(view_cfg, gcfg, cent_config_keys[i].key),
                                        &cfg, errbuf, errlen);
    if (ret == FLOCK_SUCCESS) {
        *out = cfg;
        cfg.primary_address = NULL; /* moved */
    }
    flock__cent_config_destroy(&cfg);
    if (view_cfg) json_object_put(view_cfg);
    return ret;
}

flock_return_t flock__cent_config_set_primary(flock__cent_config_t* cfg,
                                              const char* address, uint16_t pid)
{
    char* copy = strdup(address ? address : "");
    if (!copy) return FLOCK_ERR_ALLOCATION;
    free(cfg->primary_address);
    cfg->primary_address = copy;
    cfg->primary_provider_id = pid;
    cfg->has_primary_provider_id = true;
    return FLOCK_SUCCESS;
}

/* Contract: adds key -> value to obj, taking value's reference; returns
 * false (value released) on failure or if value is NULL. */
static bool cent__add(struct json_object* obj, const char* key, struct json_object* value)
{
    if (!value) return false;
    if (json_object_object_add(obj, key, value) != 0) {
        json_object_put(value);
        return false;
    }
    return true;
}

struct json_object* flock__cent_config_to_json(const flock__cent_config_t* cfg)
{
    struct json_object* obj = json_object_new_object();
    struct json_object* arr = NULL;
    if (!obj) goto fail;
    if (!cent__add(obj, "ping_timeout_ms", json_object_new_double(cfg->ping_timeout_ms)))
        goto fail;
    if (cfg->ping_interval_min_ms == cfg->ping_interval_max_ms) {
        if (!cent__add(obj, "ping_interval_ms",
                       json_object_new_double(cfg->ping_interval_min_ms)))
            goto fail;
    } else {
        arr = json_object_new_array();
        if (!arr) goto fail;
        if (json_object_array_add(
                arr, json_object_new_double(cfg->ping_interval_min_ms)) != 0 ||
            json_object_array_add(
                arr, json_object_new_double(cfg->ping_interval_max_ms)) != 0 ||
            json_object_array_length(arr) != 2) {
            json_object_put(arr);
            goto fail;
        }
        if (!cent__add(obj, "ping_interval_ms", arr)) goto fail;
    }
    if (!cent__add(obj, "ping_max_num_timeouts",
                   json_object_new_int(cfg->ping_max_num_timeouts)))
        goto fail;
    if (cfg->primary_address) {
        if (!cent__add(obj, "primary_address",
                       json_object_new_string(cfg->primary_address)))
            goto fail;
        if (!cent__add(obj, "primary_provider_id",
                       json_object_new_int(cfg->primary_provider_id)))
            goto fail;
    }
    if (cfg->group_id) {
        char id[17];
        snprintf(id, sizeof id, "%016llx", (unsigned long long)cfg->group_id);
        if (!cent__add(obj, "group_id", json_object_new_string(id))) goto fail;
    }
    if (cfg->term && !cent__add(obj, "term", json_object_new_int64((int64_t)cfg->term)))
        goto fail;
    if (cfg->no_failover && !cent__add(obj, "failover", json_object_new_boolean(0))) goto fail;
    return obj;
fail:
    if (obj) json_object_put(obj);
    return NULL;
}

char* flock__cent_config_to_string(const flock__cent_config_t* cfg)
{
    char* out = NULL;
    struct json_object* obj = flock__cent_config_to_json(cfg);
    if (!obj) return NULL;
    const char* s = json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (s) out = strdup(s);
    json_object_put(obj);
    return out;
}
