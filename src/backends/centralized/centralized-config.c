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

flock_return_t flock__cent_config_parse(const struct json_object* group_config,
                                        const char* view_config_json,
                                        flock__cent_config_t* out, char* errbuf,
                                        size_t errlen)
{
    flock_return_t ret = FLOCK_SUCCESS;
    struct json_object* view_cfg = NULL;
    struct json_object* gcfg = (struct json_object*)group_config;
    struct json_object* v = NULL;
    flock__cent_config_t cfg;

    flock__cent_config_default(&cfg);
    flock__cent_config_default(out);
    cent__err(errbuf, errlen, "%s", "");

    /* 1. the view's __config__ metadata */
    if (view_config_json) {
        enum json_tokener_error jerr = json_tokener_success;
        view_cfg = json_tokener_parse_verbose(view_config_json, &jerr);
        if (!view_cfg || !json_object_is_type(view_cfg, json_type_object)) {
            cent__err(errbuf, errlen,
                      "the view's __config__ metadata is not a JSON object (%s)",
                      view_cfg ? "wrong type" : json_tokener_error_desc(jerr));
            ret = FLOCK_ERR_INVALID_ARGS;
            goto finish;
        }
    }
    /* 2. group.config */
    if (gcfg && !json_object_is_type(gcfg, json_type_object)) {
        cent__err(errbuf, errlen, "group \"config\" must be a JSON object");
        ret = FLOCK_ERR_INVALID_CONFIG;
        goto finish;
    }
    /* 3. primary_address */
    v = cent__lookup(view_cfg, gcfg, "primary_address");
    if (v) {
        if (!json_object_is_type(v, json_type_string)) {
            cent__err(errbuf, errlen, "\"primary_address\" must be a string");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        cfg.primary_address = strdup(json_object_get_string(v));
        if (!cfg.primary_address) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    /* 4. primary_provider_id */
    v = cent__lookup(view_cfg, gcfg, "primary_provider_id");
    if (v) {
        int64_t id;
        if (!json_object_is_type(v, json_type_int)) {
            cent__err(errbuf, errlen, "\"primary_provider_id\" must be an integer");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        id = json_object_get_int64(v);
        if (id < 0 || id >= 65535) {
            cent__err(errbuf, errlen,
                      "\"primary_provider_id\" must be in [0, 65535) (got %lld)",
                      (long long)id);
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        cfg.primary_provider_id = (uint16_t)id;
        cfg.has_primary_provider_id = true;
    }
    /* 5. ping_timeout_ms */
    v = cent__lookup(view_cfg, gcfg, "ping_timeout_ms");
    if (v) {
        double d;
        if (!cent__get_number(v, &d) || d < 0) {
            cent__err(errbuf, errlen, "\"ping_timeout_ms\" must be a number >= 0");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        cfg.ping_timeout_ms = d;
    }
    /* 6. ping_interval_ms: a number, or [min, max] */
    v = cent__lookup(view_cfg, gcfg, "ping_interval_ms");
    if (v) {
        double lo, hi;
        if (json_object_is_type(v, json_type_array)) {
            if (json_object_array_length(v) != 2 ||
                !cent__get_number(json_object_array_get_idx(v, 0), &lo) ||
                !cent__get_number(json_object_array_get_idx(v, 1), &hi)) {
                cent__err(
                    errbuf, errlen,
                    "\"ping_interval_ms\" as an array must be [min, max] (two numbers)");
                ret = FLOCK_ERR_INVALID_CONFIG;
                goto finish;
            }
        } else if (cent__get_number(v, &lo)) {
            hi = lo;
        } else {
            cent__err(errbuf, errlen,
                      "\"ping_interval_ms\" must be a number or [min, max]");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        if (lo < 0 || hi < 0 || lo > hi) {
            cent__err(errbuf, errlen,
                      "\"ping_interval_ms\" needs 0 <= min <= max (got %g, %g)", lo, hi);
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        cfg.ping_interval_min_ms = lo;
        cfg.ping_interval_max_ms = hi;
    }
    /* 7. ping_max_num_timeouts */
    v = cent__lookup(view_cfg, gcfg, "ping_max_num_timeouts");
    if (v) {
        int64_t n;
        if (!json_object_is_type(v, json_type_int)) {
            cent__err(errbuf, errlen, "\"ping_max_num_timeouts\" must be an integer");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        n = json_object_get_int64(v);
        if (n < 1 || n > 1000000) {
            cent__err(errbuf, errlen,
                      "\"ping_max_num_timeouts\" must be in [1, 1000000] (got %lld)",
                      (long long)n);
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        cfg.ping_max_num_timeouts = (int)n;
    }

    *out = cfg;
    cfg.primary_address = NULL; /* moved */

finish:
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
