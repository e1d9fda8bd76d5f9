/*
 * centralized-admin.c -- the centralized backend's operators' extension
 * (src/flock/backend-ext.h): describe (role, term, the primary, each
 * member's status as this member sees it), leave on request (a secondary
 * leaves and stops watching its membership, so it never rejoins by
 * itself), force_remove (the primary declares a silent member DIED; a
 * secondary names the primary to ask). Calls down: the primary's change
 * queue (cent__change_new, cent__enqueue_and_commit), the secondary's
 * leave and the watch (cent__secondary_leave, cent__watch_stop). Locks:
 * mtx, then the view lock (the file's order, centralized-internal.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flock/backend-ext.h"
#include "flock/backend-util.h"
#include "centralized-internal.h"

/* A member's status as the primary sees it: its ping record. */
static const char* cent_admin_peer_status(cent_state_t* s, const char* address, uint16_t pid,
                                          unsigned* failures)
{
    *failures = 0;
    for (cent_peer_t* p = s->peers; p; p = p->next) {
        if (p->provider_id != pid || strcmp(p->address, address) != 0) continue;
        *failures = p->failures;
        if (p->declared) return "dead";
        return p->failures > 0 ? "suspect" : "alive";
    }
    return "unknown";
}

static flock_return_t cent_admin_describe(void* state, struct json_object* out)
{
    cent_state_t*       s       = state;
    struct json_object* members = json_object_new_array();
    struct json_object* ctr     = json_object_new_object();
    flock_return_t      ret     = FLOCK_SUCCESS;
    char                gid[32];
    if (!members || !ctr) {
        json_object_put(members);
        json_object_put(ctr);
        return FLOCK_ERR_ALLOCATION;
    }
    json_object_object_add(out, "members", members);
    json_object_object_add(out, "counters", ctr);
    pthread_mutex_lock(&s->mtx);
    bool   primary  = atomic_load(&s->is_primary);
    double silent   = frt_now_ms() - s->last_contact_ms;
    double window   = s->config.ping_interval_max_ms * s->config.ping_max_num_timeouts
                    + s->config.ping_timeout_ms;
    snprintf(gid, sizeof gid, "%016" PRIx64, s->group_id);
    json_object_object_add(out, "role", json_object_new_string(primary ? "primary" : "secondary"));
    json_object_object_add(out, "term", json_object_new_int64((int64_t)s->term));
    json_object_object_add(out, "group_id", json_object_new_string(gid));
    json_object_object_add(out, "primary", json_object_new_string(s->primary_str));
    json_object_object_add(out, "primary_provider_id", json_object_new_int(s->primary_pid));
    json_object_object_add(out, "member", json_object_new_boolean(primary || (s->joined && !s->removed)));
    if (!primary)
        json_object_object_add(ctr, "ms_since_primary_contact", json_object_new_int64((int64_t)silent));
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    json_object_object_add(ctr, "seq", json_object_new_int64((int64_t)s->seq));
    for (size_t i = 0; i < s->view.members.size && ret == FLOCK_SUCCESS; i++) {
        const flock_member_t* m       = &s->view.members.data[i];
        bool                  self    = m->provider_id == s->provider_id && strcmp(m->address, s->self_addr) == 0;
        bool                  is_prim = m->provider_id == s->primary_pid && strcmp(m->address, s->primary_str) == 0;
        unsigned              failures = 0;
        const char*           status   = "unknown";
        if (self) status = "alive";
        else if (primary) status = cent_admin_peer_status(s, m->address, m->provider_id, &failures);
        else if (is_prim) status = silent > window ? "suspect" : "alive";
        struct json_object* e = flock__ext_add_member(members, m->address, m->provider_id, status);
        if (!e) {
            ret = FLOCK_ERR_ALLOCATION;
            break;
        }
        json_object_object_add(e, "role", json_object_new_string(is_prim ? "primary" : "secondary"));
        if (primary && !self)
            json_object_object_add(e, "missed_pings", json_object_new_int64((int64_t)failures));
    }
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    pthread_mutex_unlock(&s->mtx);
    return ret;
}

static flock_return_t cent_admin_leave(void* state, char* why, size_t whysize)
{
    cent_state_t* s = state;
    pthread_mutex_lock(&s->mtx);
    bool primary = atomic_load(&s->is_primary);
    bool member  = s->joined && !s->removed;
    pthread_mutex_unlock(&s->mtx);
    if (primary) {
        snprintf(why, whysize,
                 "this member is the group's primary: stop its process (SIGTERM) to hand the "
                 "group over to a successor");
        return FLOCK_ERR_OP_UNSUPPORTED;
    }
    if (!member) {
        snprintf(why, whysize, "this member is not in the group");
        return FLOCK_ERR_OP_FORBIDDEN;
    }
    cent__watch_stop(s); /* no rejoin from now on */
    cent__secondary_leave(s);
    pthread_mutex_lock(&s->mtx);
    s->joined  = false; /* destroy_group does not leave again */
    s->removed = true;
    pthread_mutex_unlock(&s->mtx);
    return FLOCK_SUCCESS;
}

static flock_return_t cent_admin_force_remove(void* state, const char* address, uint16_t pid,
                                              char* why, size_t whysize)
{
    cent_state_t* s = state;
    pthread_mutex_lock(&s->mtx);
    bool     primary = atomic_load(&s->is_primary);
    char     paddr[FRT_MAX_ADDR_LEN + 1];
    uint16_t ppid = s->primary_pid;
    snprintf(paddr, sizeof paddr, "%s", s->primary_str);
    pthread_mutex_unlock(&s->mtx);
    if (!primary) {
        snprintf(why, whysize, "only the primary removes members: ask %s (provider %u)", paddr,
                 (unsigned)ppid);
        return FLOCK_ERR_OP_UNSUPPORTED;
    }
    if (pid == s->provider_id && strcmp(address, s->self_addr) == 0) {
        snprintf(why, whysize, "that is the primary itself");
        return FLOCK_ERR_OP_FORBIDDEN;
    }
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    bool listed = flock_group_view_members_binary_search(&s->view, address, pid) >= 0;
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    if (!listed) {
        snprintf(why, whysize, "not a member of the group");
        return FLOCK_ERR_NO_MEMBER;
    }
    cent_change_t* c = cent__change_new(FLOCK_MEMBER_DIED, address, pid);
    if (!c) return FLOCK_ERR_ALLOCATION;
    margo_info(s->mid, CENT_LOG_PREFIX "removing %s (%u) on request (force-leave)", address,
               (unsigned)pid);
    cent__enqueue_and_commit(s, c);
    return FLOCK_SUCCESS;
}

const flock__backend_ext flock__centralized_backend_ext = {
    cent_admin_describe, cent_admin_leave, cent_admin_force_remove};
