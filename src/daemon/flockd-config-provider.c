/*
 * flockd-config-provider.c -- one entry of "providers": its keys (type,
 * name, provider_id, dependencies, tags) and its "config" (bootstrap list,
 * file, mpi_ranks, inline view; "group" and "gateway" are checked by
 * flockd-config-group.c).
 *
 * Owns: filling one flockd_provider_config. May call:
 * flockd-config-group.c (flockd__parse_group_sections), the helpers of
 * flockd-config-json.c, json-c. Called by flockd-config.c (the top level).
 */
#include "flockd-config-internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            if (strcmp(name, flockd__bootstrap_name((flockd_bootstrap)m)) == 0) method = m;
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
    static const char* const keys[] = {"members", "metadata", NULL};
    flockd__warn_unknown_keys(ps, path, v, keys, "unknown key, ignored");
    p->view_json = flockd__strdup(ps, path, json_object_to_json_string_ext(v, FLOCKD_JSON_FLAGS));
    return p->view_json ? 0 : -1;
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

/* Contract: "bootstrap" (required) and "file" (required by the join and
 * file methods). */
static int flockd__parse_bootstrap_and_file(flockd_parse* ps, const char* cpath,
                                            struct json_object* c, flockd_provider_config* p)
{
    struct json_object *boot = NULL, *file = NULL;
    char        path[FLOCKD_PATH_LEN];
    const char* s = NULL;
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
    return 0;
}

/* Contract: the inputs of single methods: "mpi_ranks" (optional) and
 * "view" (required by the view method); each is a warning when its method
 * is not listed. */
static int flockd__parse_method_inputs(flockd_parse* ps, const char* cpath,
                                       struct json_object* c, flockd_provider_config* p)
{
    struct json_object *ranks = NULL, *view = NULL;
    char path[FLOCKD_PATH_LEN];
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
    return 0;
}

/* Contract: "auth" (optional; docs/reliability.md section 10): an object
 * {"key_file": "<path>"} and nothing else. The key file itself is read by
 * the provider at start-up (frt_auth_set_key_file). */
static int flockd__parse_auth(flockd_parse* ps, const char* cpath, struct json_object* c)
{
    struct json_object *auth = NULL, *kf = NULL;
    char                path[FLOCKD_PATH_LEN], kpath[FLOCKD_PATH_LEN];
    const char*         s = NULL;
    flockd__path_key(path, cpath, "auth");
    if (!json_object_object_get_ex(c, "auth", &auth)) return 0;
    if (!json_object_is_type(auth, json_type_object))
        return flockd__fail(ps, path, "expected an object {\"key_file\": \"<path>\"}, got %s",
                            flockd__type_name(auth));
    json_object_object_foreach(auth, key, val)
    {
        (void)val;
        if (strcmp(key, "key_file") != 0) {
            flockd__path_key(kpath, path, key);
            return flockd__fail(ps, kpath, "unknown key (\"auth\" only has \"key_file\")");
        }
    }
    flockd__path_key(kpath, path, "key_file");
    if (!json_object_object_get_ex(auth, "key_file", &kf))
        return flockd__fail(ps, kpath, "missing (the path of the group key file)");
    return flockd__get_string(ps, kpath, kf, true, &s);
}

/* Contract: a provider's "config", in the order its errors are reported:
 * bootstrap and file, the method inputs, group and gateway, unknown keys,
 * then whether the bootstrap list can work here; keeps the whole config as
 * compact JSON for flock_provider_register. */
static int flockd__parse_provider_config(flockd_parse* ps, const char* ppath,
                                         struct json_object* c, flockd_provider_config* p)
{
    char cpath[FLOCKD_PATH_LEN];
    flockd__path_key(cpath, ppath, "config");
    if (!c) return flockd__fail(ps, cpath, "missing (a flock provider needs at least \"bootstrap\" and \"group\")");
    if (!json_object_is_type(c, json_type_object))
        return flockd__fail(ps, cpath, "expected an object, got %s", flockd__type_name(c));
    if (flockd__parse_bootstrap_and_file(ps, cpath, c, p) != 0
        || flockd__parse_method_inputs(ps, cpath, c, p) != 0
        || flockd__parse_group_sections(ps, cpath, c, p) != 0 || flockd__parse_auth(ps, cpath, c) != 0)
        return -1;
    static const char* const known[] = {"bootstrap", "file",    "mpi_ranks", "view",
                                        "group",     "gateway", "auth",      NULL};
    flockd__warn_unknown_keys(ps, cpath, c, known, "unknown key, passed to the provider unchanged");
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

int flockd__parse_provider(flockd_parse* ps, size_t idx, struct json_object* o)
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
