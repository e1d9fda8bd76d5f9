/*
 * cli-format.c -- output of the `flockctl` tool: tables, JSON, view diffs,
 * timestamps, protocol names, the members' status from an info answer.
 * Pure functions.
 */
#include "flock-cli.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#define FLOCK_CLI_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

int flock_cli__protocol_of(const char* addr, char* out, size_t outsize)
{
    const char* sep = addr ? strstr(addr, "://") : NULL;
    if (!sep || sep == addr) return -1;
    size_t n = (size_t)(sep - addr);
    if (n + 1 > outsize) return -1;
    memcpy(out, addr, n);
    out[n] = 0;
    return 0;
}

const char* flock_cli__strerror(int code)
{
#define X(__err__, __msg__) __msg__,
    static const char* const msgs[] = {FLOCK_RETURN_VALUES};
#undef X
    if (code < 0 || (size_t)code >= sizeof msgs / sizeof msgs[0]) return "unknown error";
    /* upstream's message for FLOCK_ERR_FROM_MERCURY has a typo; say what it means */
    if (code == FLOCK_ERR_FROM_MERCURY) return "RPC/network error";
    return msgs[code];
}

void flock_cli__format_time(double realtime_ms, char* out, size_t outsize)
{
    if (!isfinite(realtime_ms) || realtime_ms < 0) realtime_ms = 0;
    time_t    secs = (time_t)(realtime_ms / 1000.0);
    int       ms   = (int)(realtime_ms - (double)secs * 1000.0);
    struct tm tm;
    if (ms < 0) ms = 0;
    if (ms > 999) ms = 999;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, outsize, "?");
        return;
    }
    snprintf(out, outsize, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static bool flock_cli__hidden(const char* key, bool all)
{
    return !all && strncmp(key, "__", 2) == 0;
}

struct json_object* flock_cli__member_info(const struct json_object* info, const char* address,
                                           uint16_t provider_id)
{
    struct json_object* members = NULL;
    if (!info || !json_object_object_get_ex(info, "members", &members)
        || !json_object_is_type(members, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(members); i++) {
        struct json_object *m = json_object_array_get_idx(members, i), *a = NULL, *p = NULL;
        if (json_object_object_get_ex(m, "address", &a) && json_object_object_get_ex(m, "provider_id", &p)
            && json_object_is_type(a, json_type_string) && json_object_get_int(p) == provider_id
            && strcmp(json_object_get_string(a), address) == 0)
            return m;
    }
    return NULL;
}

/* A string field of a member's info, or NULL. */
static const char* flock_cli__info_str(const struct json_object* m, const char* key)
{
    struct json_object* v = NULL;
    if (!m || !json_object_object_get_ex(m, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

size_t flock_cli__count_unhealthy(const flock_group_view_t* view, const struct json_object* info)
{
    size_t n = 0;
    for (size_t i = 0; i < view->members.size; i++) {
        const char* st = flock_cli__info_str(
            flock_cli__member_info(info, view->members.data[i].address, view->members.data[i].provider_id),
            "status");
        if (st && (strcmp(st, "suspect") == 0 || strcmp(st, "dead") == 0)) n++;
    }
    return n;
}

void flock_cli__print_table(FILE* f, const flock_group_view_t* view, bool all)
{
    flock_cli__print_table_info(f, view, all, NULL);
}

void flock_cli__print_table_info(FILE* f, const flock_group_view_t* view, bool all,
                                 const struct json_object* info)
{
    size_t width = strlen("ADDRESS");
    size_t n     = view->members.size;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(view->members.data[i].address);
        if (l > width) width = l;
    }
    if (info)
        fprintf(f, "%-5s  %-*s  %11s  %-7s  %-9s  %s\n", "INDEX", (int)width, "ADDRESS",
                "PROVIDER_ID", "STATUS", "ROLE", "INCARNATION");
    else
        fprintf(f, "%-5s  %-*s  %s\n", "INDEX", (int)width, "ADDRESS", "PROVIDER_ID");
    for (size_t i = 0; i < n; i++) {
        const flock_member_t* mb = &view->members.data[i];
        if (!info) {
            fprintf(f, "%5zu  %-*s  %11u\n", i, (int)width, mb->address, (unsigned)mb->provider_id);
            continue;
        }
        struct json_object* m   = flock_cli__member_info(info, mb->address, mb->provider_id);
        struct json_object* inc = NULL;
        const char*         st  = flock_cli__info_str(m, "status");
        const char*         rl  = flock_cli__info_str(m, "role");
        char                incs[32] = "-";
        if (m && json_object_object_get_ex(m, "incarnation", &inc))
            snprintf(incs, sizeof incs, "%" PRId64, json_object_get_int64(inc));
        fprintf(f, "%5zu  %-*s  %11u  %-7s  %-9s  %s\n", i, (int)width, mb->address,
                (unsigned)mb->provider_id, st ? st : "unknown", rl ? rl : "-", incs);
    }
    size_t shown = 0, hidden = 0;
    for (size_t i = 0; i < view->metadata.size; i++) {
        if (flock_cli__hidden(view->metadata.data[i].key, all))
            hidden++;
        else
            shown++;
    }
    if (shown) {
        fprintf(f, "\nmetadata:\n");
        for (size_t i = 0; i < view->metadata.size; i++) {
            const flock_metadata_t* m = &view->metadata.data[i];
            if (!flock_cli__hidden(m->key, all)) fprintf(f, "  %s = %s\n", m->key, m->value);
        }
        if (hidden)
            fprintf(f, "  (%zu internal key%s hidden, see --all)\n", hidden, hidden > 1 ? "s" : "");
    } else if (hidden) {
        fprintf(f, "\nmetadata: none (%zu internal key%s hidden, see --all)\n", hidden,
                hidden > 1 ? "s" : "");
    } else {
        fprintf(f, "\nmetadata: none\n");
    }
    fprintf(f, "\n%zu member%s, digest 0x%016" PRIx64 "\n", n, n == 1 ? "" : "s", view->digest);
}

int flock_cli__print_json(FILE* f, const flock_group_view_t* view, bool all)
{
    return flock_cli__print_json_info(f, view, all, NULL);
}

/* The group's backend: the info answer's, else the view's __type__. */
static const char* flock_cli__backend_of(const flock_group_view_t* view,
                                         const struct json_object* info)
{
    const char* b = flock_cli__info_str(info, "backend");
    if (b) return b;
    for (size_t i = 0; i < view->metadata.size; i++)
        if (strcmp(view->metadata.data[i].key, "__type__") == 0) return view->metadata.data[i].value;
    return "unknown";
}

int flock_cli__print_json_info(FILE* f, const flock_group_view_t* view, bool all,
                               const struct json_object* info)
{
    struct json_object *root = json_object_new_object(), *members = json_object_new_array(),
                       *metadata = json_object_new_object();
    char digest[32];
    int  ret = -1;
    if (!root || !members || !metadata) goto finish;
    snprintf(digest, sizeof digest, "0x%016" PRIx64, view->digest);
    if (json_object_object_add(root, "digest", json_object_new_string(digest)) != 0) goto finish;
    for (size_t i = 0; i < view->members.size; i++) {
        struct json_object* m = json_object_new_object();
        if (!m || json_object_array_add(members, m) != 0) {
            json_object_put(m);
            goto finish;
        }
        json_object_object_add(m, "index", json_object_new_int64((int64_t)i));
        json_object_object_add(m, "address", json_object_new_string(view->members.data[i].address));
        json_object_object_add(m, "provider_id", json_object_new_int(view->members.data[i].provider_id));
        if (!info) continue;
        struct json_object* mi = flock_cli__member_info(info, view->members.data[i].address,
                                                        view->members.data[i].provider_id);
        struct json_object* v  = NULL;
        const char*         st = flock_cli__info_str(mi, "status");
        json_object_object_add(m, "status", json_object_new_string(st ? st : "unknown"));
        if (mi && json_object_object_get_ex(mi, "role", &v))
            json_object_object_add(m, "role", json_object_get(v));
        if (mi && json_object_object_get_ex(mi, "incarnation", &v))
            json_object_object_add(m, "incarnation", json_object_get(v));
    }
    json_object_object_add(root, "backend", json_object_new_string(flock_cli__backend_of(view, info)));
    for (size_t i = 0; i < view->metadata.size; i++) {
        const flock_metadata_t* m = &view->metadata.data[i];
        if (!flock_cli__hidden(m->key, all))
            json_object_object_add(metadata, m->key, json_object_new_string(m->value));
    }
    json_object_object_add(root, "members", members);
    members = NULL;
    json_object_object_add(root, "metadata", metadata);
    metadata = NULL;
    fprintf(f, "%s\n", json_object_to_json_string_ext(root, FLOCK_CLI_JSON_FLAGS));
    ret = 0;
finish:
    json_object_put(members);
    json_object_put(metadata);
    json_object_put(root);
    return ret;
}

/* Contract: total order of members used by views (address, then provider id). */
static int flock_cli__member_cmp(const flock_member_t* a, const flock_member_t* b)
{
    int c = strcmp(a->address, b->address);
    if (c) return c;
    return (a->provider_id > b->provider_id) - (a->provider_id < b->provider_id);
}

void flock_cli__view_diff(const flock_group_view_t* old, const flock_group_view_t* cur,
                          flock_cli_diff_fn fn, void* uargs)
{
    /* pass 0: joined (in cur, not in old); pass 1: removed (in old, not in cur) */
    for (int pass = 0; pass < 2; pass++) {
        const flock_group_view_t* a = pass == 0 ? cur : old;
        const flock_group_view_t* b = pass == 0 ? old : cur;
        size_t                    i = 0, j = 0;
        while (i < a->members.size) {
            int c = j < b->members.size
                        ? flock_cli__member_cmp(&a->members.data[i], &b->members.data[j])
                        : -1;
            if (c < 0) {
                fn(uargs, pass == 0, a->members.data[i].address, a->members.data[i].provider_id);
                i++;
            } else if (c == 0) {
                i++;
                j++;
            } else {
                j++;
            }
        }
    }
}
