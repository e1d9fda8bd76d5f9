/*
 * flockd-config-group.c -- the "group" and "gateway" sections of a
 * provider's config: {"type": <a known name>, "config": {...}}, with the
 * type checks of the centralized and swim backends' keys.
 *
 * Owns: p->backend. May call: the helpers of flockd-config-json.c, json-c.
 * Called by flockd-config-provider.c.
 */
#include "flockd-config-internal.h"

#include <stdint.h>
#include <string.h>

static const char* const flockd__default_backends[] = {"static", "centralized", "swim", NULL};
static const char* const flockd__default_gateways[] = {"default", "pinggy", NULL};

/* Contract: a duration key: a number of milliseconds in [FLOCKD_MIN_MS,
 * FLOCKD_MAX_MS] (0 made a busy loop). */
static int flockd__check_ms(flockd_parse* ps, const char* path, struct json_object* v, double* out)
{
    return flockd__get_number(ps, path, v, FLOCKD_MIN_MS, FLOCKD_MAX_MS, "milliseconds", out);
}

/* Contract: ping_interval_ms: a duration or [min, max] with min <= max. */
static int flockd__check_interval(flockd_parse* ps, const char* kpath, struct json_object* val)
{
    double lo = 0, hi = 0;
    if (!json_object_is_type(val, json_type_array)) {
        if (!json_object_is_type(val, json_type_int) && !json_object_is_type(val, json_type_double))
            return flockd__fail(ps, kpath,
                                "expected a number or an array of 2 numbers [min, max], got %s",
                                flockd__type_name(val));
        return flockd__check_ms(ps, kpath, val, NULL);
    }
    if (json_object_array_length(val) != 2)
        return flockd__fail(ps, kpath, "expected a number or an array of 2 numbers [min, max]");
    char epath[FLOCKD_PATH_LEN];
    flockd__path_idx(epath, kpath, 0);
    if (flockd__check_ms(ps, epath, json_object_array_get_idx(val, 0), &lo) != 0) return -1;
    flockd__path_idx(epath, kpath, 1);
    if (flockd__check_ms(ps, epath, json_object_array_get_idx(val, 1), &hi) != 0) return -1;
    if (lo > hi) return flockd__fail(ps, kpath, "min is greater than max");
    return 0;
}

/* Contract: type and bounds checks of the centralized backend's keys
 * (FLOCK-SPEC 3.2; integers are accepted where numbers are expected). */
static int flockd__check_centralized(flockd_parse* ps, const char* path, struct json_object* c)
{
    json_object_object_foreach(c, key, val)
    {
        char        kpath[FLOCKD_PATH_LEN];
        int64_t     iv = 0;
        const char* s  = NULL;
        int         rc = 0;
        flockd__path_key(kpath, path, key);
        if (strcmp(key, "ping_timeout_ms") == 0)
            rc = flockd__check_ms(ps, kpath, val, NULL);
        else if (strcmp(key, "ping_interval_ms") == 0)
            rc = flockd__check_interval(ps, kpath, val);
        else if (strcmp(key, "ping_max_num_timeouts") == 0)
            rc = flockd__get_int(ps, kpath, val, 1, FLOCKD_MAX_COUNT, &iv);
        else if (strcmp(key, "primary_address") == 0)
            rc = flockd__get_string(ps, kpath, val, true, &s);
        else if (strcmp(key, "primary_provider_id") == 0)
            rc = flockd__get_int(ps, kpath, val, 0, UINT16_MAX - 1, &iv);
        else if (strcmp(key, "term") == 0) /* written by the group into __config__ */
            rc = flockd__get_int(ps, kpath, val, 1, INT64_MAX, &iv);
        else if (strcmp(key, "group_id") == 0) {
            rc = flockd__get_string(ps, kpath, val, true, &s);
            if (rc == 0 && (strlen(s) > 16 || strspn(s, "0123456789abcdefABCDEF") != strlen(s)
                            || strspn(s, "0") == strlen(s)))
                rc = flockd__fail(ps, kpath, "expected 1 to 16 hex digits, not 0, got \"%s\"", s);
        } else if (strcmp(key, "failover") == 0) {
            if (!json_object_is_type(val, json_type_boolean))
                rc = flockd__fail(ps, kpath, "expected true or false, got %s", flockd__type_name(val));
        } else
            flockd__warn(ps, kpath, "unknown key for the centralized backend, ignored");
        if (rc != 0) return -1;
    }
    return 0;
}

/* Contract: type and bounds checks of the swim backend's keys that
 * flockd knows (FLOCK-SPEC 3.3); the backend checks the others. */
static int flockd__check_swim(flockd_parse* ps, const char* path, struct json_object* c)
{
    static const char* const durations[] = {"protocol_period_ms", "ping_timeout_ms",
                                            "ping_req_timeout_ms", "suspicion_timeout_ms", NULL};
    json_object_object_foreach(c, key, val)
    {
        char    kpath[FLOCKD_PATH_LEN];
        int64_t iv = 0;
        flockd__path_key(kpath, path, key);
        if (flockd__in_list(key, durations)) {
            if (flockd__check_ms(ps, kpath, val, NULL) != 0) return -1;
        } else if (strcmp(key, "ping_req_members") == 0) {
            if (flockd__get_int(ps, kpath, val, 0, FLOCKD_MAX_COUNT, &iv) != 0) return -1;
        }
        /* other keys: left to the backend (it may accept more than the spec) */
    }
    return 0;
}

/* Contract: validates a {"type": <name in known>, "config": {...}} object. */
static int flockd__check_typed(flockd_parse* ps, const char* path, bool present,
                               struct json_object* o, const char* what,
                               const char* const* known, bool required, const char** type_out)
{
    struct json_object *type = NULL, *conf = NULL;
    char                tpath[FLOCKD_PATH_LEN], cpath[FLOCKD_PATH_LEN], names[256];
    if (!o && present) /* "gateway": null is a mistake, not an absence */
        return flockd__fail(ps, path, "expected an object {\"type\": ..., \"config\": {...}}, "
                                      "got null");
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
    static const char* const keys[] = {"type", "config", NULL};
    flockd__warn_unknown_keys(ps, path, o, keys, "unknown key, ignored");
    if (conf && strcmp(what, "backend") == 0) {
        if (strcmp(t, "centralized") == 0 && flockd__check_centralized(ps, cpath, conf) != 0)
            return -1;
        if (strcmp(t, "swim") == 0 && flockd__check_swim(ps, cpath, conf) != 0) return -1;
    }
    *type_out = t;
    return 0;
}

int flockd__parse_group_sections(flockd_parse* ps, const char* cpath, struct json_object* c,
                                 flockd_provider_config* p)
{
    struct json_object *group = NULL, *gateway = NULL;
    char        path[FLOCKD_PATH_LEN];
    const char* backends = NULL;
    const char* const* known_backends =
        ps->opts->backends ? ps->opts->backends : flockd__default_backends;
    const char* const* known_gateways =
        ps->opts->gateways ? ps->opts->gateways : flockd__default_gateways;
    const char* gw = NULL;
    flockd__path_key(path, cpath, "group");
    bool present = json_object_object_get_ex(c, "group", &group);
    if (flockd__check_typed(ps, path, present, group, "backend", known_backends, true, &backends)
        != 0)
        return -1;
    if (!(p->backend = flockd__strdup(ps, path, backends))) return -1;
    flockd__path_key(path, cpath, "gateway");
    present = json_object_object_get_ex(c, "gateway", &gateway);
    if (flockd__check_typed(ps, path, present, gateway, "gateway", known_gateways, false, &gw) != 0)
        return -1;
    return 0;
}
