/*
 * swim-backend-admin.c -- the swim backend's operators' extension
 * (src/flock/backend-ext.h): describe (self's incarnation and local health,
 * each published member's status and incarnation as this member sees it,
 * the process's swim counters), leave on request (swim__backend_leave), and
 * force_remove, which swim refuses: a member that stops answering is
 * suspected and removed by the protocol itself within its suspicion
 * timeout. Calls down: the machine's introspection (swim-core.h) under the
 * backend's lock, swim-backend.c's swim__backend_leave.
 */
#include <stdio.h>
#include <string.h>

#include "flock/backend-ext.h"
#include "flock/backend-util.h"
#include "swim-backend-internal.h"
#include "swim-backend-state.h"

typedef struct {
    const swim__t*      sm;
    struct json_object* members;
    bool                failed;
} swim_admin_walk;

static void swim_admin_member(void* uargs, const char* addr, uint16_t pid)
{
    static const char* const names[] = {"unknown", "alive", "suspect", "dead", "left"};
    swim_admin_walk*         w       = uargs;
    uint64_t                 inc     = 0;
    int                      st      = swim__member_status(w->sm, addr, pid, &inc);
    if (st < 0 || st > 4) st = 0;
    struct json_object* e = flock__ext_add_member(w->members, addr, pid, names[st]);
    if (!e) {
        w->failed = true;
        return;
    }
    json_object_object_add(e, "incarnation", json_object_new_int64((int64_t)inc));
}

static flock_return_t swim_admin_describe(void* state, struct json_object* out)
{
    swim_backend*       b       = state;
    struct json_object* members = json_object_new_array();
    struct json_object* ctr     = json_object_new_object();
    flock__swim_stats   st;
    if (!members || !ctr) {
        json_object_put(members);
        json_object_put(ctr);
        return FLOCK_ERR_ALLOCATION;
    }
    json_object_object_add(out, "members", members);
    json_object_object_add(out, "counters", ctr);
    json_object_object_add(out, "role", json_object_new_string("member"));
    flock__swim_get_stats(&st);
    json_object_object_add(ctr, "process_msgs_sent", json_object_new_int64((int64_t)st.msgs_sent));
    json_object_object_add(ctr, "process_bytes_sent", json_object_new_int64((int64_t)st.bytes_sent));
    json_object_object_add(ctr, "process_bad_msgs", json_object_new_int64((int64_t)st.bad_msgs));
    swim_admin_walk w = {NULL, members, false};
    pthread_mutex_lock(&b->lock);
    w.sm = b->sm;
    json_object_object_add(out, "incarnation",
                           json_object_new_int64((int64_t)swim__self_incarnation(b->sm)));
    json_object_object_add(ctr, "local_health", json_object_new_int(swim__local_health(b->sm)));
    json_object_object_add(out, "left", json_object_new_boolean(b->crash_mode));
    swim__foreach_published(b->sm, swim_admin_member, &w);
    pthread_mutex_unlock(&b->lock);
    return w.failed ? FLOCK_ERR_ALLOCATION : FLOCK_SUCCESS;
}

static flock_return_t swim_admin_leave(void* state, char* why, size_t whysize)
{
    if (swim__backend_leave(state)) return FLOCK_SUCCESS;
    snprintf(why, whysize, "this member has left its group already (or is stopping)");
    return FLOCK_ERR_OP_FORBIDDEN;
}

static flock_return_t swim_admin_force_remove(void* state, const char* address, uint16_t pid,
                                              char* why, size_t whysize)
{
    (void)state;
    (void)address;
    (void)pid;
    snprintf(why, whysize,
             "a swim group removes a member that stops answering by itself (suspicion, then "
             "dead, within its suspicion timeout): wait, and watch with flockctl watch");
    return FLOCK_ERR_OP_UNSUPPORTED;
}

const flock__backend_ext flock__swim_backend_ext = {swim_admin_describe, swim_admin_leave,
                                                    swim_admin_force_remove};
