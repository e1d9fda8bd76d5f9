/*
 * swim-backend-state.h -- the swim backend's per-provider state, shared by
 * swim-backend.c (the driver: lifecycle, RPCs, calls, events) and
 * swim-backend-view.c (get_view / get_config built on demand). Locking and
 * lifetime rules: see swim-backend.c's header comment.
 */
#ifndef FLOCK_SWIM_BACKEND_STATE_H
#define FLOCK_SWIM_BACKEND_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <frt.h>
#include <json-c/json.h>
#include <flock/flock-backend.h>
#include <flock/flock-group-view.h>

#include "swim-core.h"

typedef struct evq_item {
    int      type;  /* swim__event_type */
    char*    addr;  /* SWIM_EV_META: the key */
    uint16_t pid;
    char*    value; /* SWIM_EV_META: the value, NULL if removed */
} evq_item;

typedef struct req_slot {
    uint64_t      token;
    frt_request_t req;
} req_slot;

typedef struct swim_backend {
    pthread_mutex_t           lock;
    pthread_cond_t            cond;
    _Atomic int               refs;
    margo_instance_id         mid;
    uint16_t                  pid;
    flock_backend_init_args_t args; /* copy; initial_view moved out */
    flock_group_view_t        meta; /* the published metadata (no members; not
                                       __config__/__type__): the initial view's, then
                                       changed by the drainer right before each
                                       metadata callback; under lock */
    swim__t*                  sm;
    margo_timer_t             timer;
    double                    timer_at; /* armed deadline, INFINITY if none */
    bool                      closed;
    bool                      crash_mode;
    bool                      rpcs_registered;
    int                       inflight;
    req_slot*                 reqs;
    size_t                    nreqs, capreqs;
    uint64_t                  next_token;
    evq_item*                 evq;
    size_t                    nevq, capevq;
    bool                      delivering;
    char*                     hints[16]; /* peers whose connection closed (crash
                                            hints), fed to the machine by on_timer */
    int                       nhints;
    bool                      watching;  /* frt_peer_watch registered */
    bool                      addr_is_source; /* self_addr_str is the runtime's own
                                                 address: left out of the wire */
    const void*               owner; /* the provider's handle (flock__backend_owner):
                                        compared by flock_swim_set_crash_mode only */
    struct swim_backend*      next_live; /* g_list */
    struct swim_backend*      prev_live;
    bool                      listed;
} swim_backend;

/* swim-backend-live.c: the process's live backends and counters */
extern _Atomic uint64_t swim__g_msgs, swim__g_bytes, swim__g_providers, swim__g_bad;
/** List b (stats, crash mode) / unlist it (idempotent). */
void swim__live_add(swim_backend* b);
void swim__live_remove(swim_backend* b);

/** get_view slot: a private view of the published members (FLOCK_ERR_NOT_A_MEMBER
 *  while the machine knows it was declared dead and is not back yet). */
flock_return_t swim__backend_get_view(void* state, void (*fn)(void*, const flock_group_view_t*),
                                      void* uargs);
/** get_config slot: the effective config with the group's "group_id". */
flock_return_t swim__backend_get_config(void* state,
                                        void (*fn)(void*, const struct json_object*), void* uargs);

/** Leave the group on request and stay up (swim-backend.c; see there). */
bool swim__backend_leave(swim_backend* b);

#endif /* FLOCK_SWIM_BACKEND_STATE_H */
