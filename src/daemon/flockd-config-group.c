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
    json_object_object_get_ex(c, "group", &group);
    if (flockd__check_typed(ps, path, group, "backend", known_backends, true, &backends) != 0)
        return -1;
    if (!(p->backend = flockd__strdup(ps, path, backends))) return -1;
    flockd__path_key(path, cpath, "gateway");
    json_object_object_get_ex(c, "gateway", &gateway);
    if (flockd__check_typed(ps, path, gateway, "gateway", known_gateways, false, &gw) != 0)
        return -1;
    return 0;
}
