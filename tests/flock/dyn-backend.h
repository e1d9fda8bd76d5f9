/*
 * dyn-backend.h -- a test backend ("dyn") whose membership and metadata the
 * test changes at run time (dyn_join/dyn_leave/dyn_set_md), notifying the
 * provider exactly as a real backend must: modify under the view lock,
 * unlock, then call the dispatcher.
 */
#ifndef FLOCK_TEST_DYN_BACKEND_H
#define FLOCK_TEST_DYN_BACKEND_H

#include "flock-core-test.h"

/* ---------------- a custom backend with run-time membership ---------------- */

typedef struct {
    flock_group_view_t        view;
    flock_backend_init_args_t args;
    struct json_object*       config;
} dyn_state;

static dyn_state* last_dyn      = NULL;
static int        dyn_destroyed = 0;
static flock_return_t dyn_fail_with = FLOCK_SUCCESS;

static flock_return_t dyn_init(flock_backend_init_args_t* args, void** state)
{
    if (dyn_fail_with != FLOCK_SUCCESS) return dyn_fail_with;
    dyn_state* s = (dyn_state*)calloc(1, sizeof(*s));
    if (!s) return FLOCK_ERR_ALLOCATION;
    FLOCK_GROUP_VIEW_MOVE(&args->initial_view, &s->view);
    s->args   = *args;
    s->config = json_object_get(args->config);
    if (args->join) flock_group_view_add_member(&s->view, args->self_addr_str, args->provider_id);
    flock__view_set_reserved_metadata(&s->view, "dyn", s->config);
    /* a notification during init must be tolerated */
    flock__notify_member(&s->args, FLOCK_MEMBER_JOINED, args->self_addr_str, args->provider_id);
    last_dyn = s;
    *state   = s;
    return FLOCK_SUCCESS;
}
static flock_return_t dyn_destroy(void* state)
{
    dyn_state* s = (dyn_state*)state;
    flock_group_view_clear(&s->view);
    json_object_put(s->config);
    if (last_dyn == s) last_dyn = NULL;
    free(s);
    dyn_destroyed++;
    return FLOCK_SUCCESS;
}
static flock_return_t dyn_get_config(void* state, void (*fn)(void*, const struct json_object*),
                                     void* uargs)
{
    fn(uargs, ((dyn_state*)state)->config);
    return FLOCK_SUCCESS;
}
static flock_return_t dyn_get_view(void* state, void (*fn)(void*, const flock_group_view_t*),
                                   void* uargs)
{
    fn(uargs, &((dyn_state*)state)->view);
    return FLOCK_SUCCESS;
}
static flock_return_t dyn_add_md(void* s, const char* k, const char* v)
{
    (void)s, (void)k, (void)v;
    return FLOCK_ERR_OP_UNSUPPORTED;
}
static flock_return_t dyn_rm_md(void* s, const char* k)
{
    (void)s, (void)k;
    return FLOCK_ERR_OP_UNSUPPORTED;
}
static flock_backend_impl dyn_backend = {"dyn",    dyn_init,   dyn_destroy, dyn_get_config,
                                         dyn_get_view, dyn_add_md, dyn_rm_md};

static inline void dyn_join(dyn_state* s, const char* addr, uint16_t pid)
{
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    bool added = !flock_group_view_find_member(&s->view, addr, pid)
              && flock_group_view_add_member(&s->view, addr, pid);
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    if (added) flock__notify_member(&s->args, FLOCK_MEMBER_JOINED, addr, pid);
}
static inline void dyn_leave(dyn_state* s, const char* addr, uint16_t pid)
{
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    bool removed =
        flock_group_view_remove_member(&s->view, flock_group_view_find_member(&s->view, addr, pid));
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    if (removed) flock__notify_member(&s->args, FLOCK_MEMBER_LEFT, addr, pid);
}
static inline void dyn_set_md(dyn_state* s, const char* k, const char* v)
{
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    flock_group_view_add_metadata(&s->view, k, v);
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    flock__notify_metadata(&s->args, k, v);
}

#endif /* FLOCK_TEST_DYN_BACKEND_H */
