/*
 * static-backend.c -- the "static" backend: the group is exactly the
 * initial view, forever. No RPCs, no timers, no notifications; joining is
 * forbidden; metadata cannot change. Its config is ignored (effective
 * config: {}). Its operators' extension (backend-ext.h) describes the view
 * and refuses leave / force-leave.
 */
#include <stdio.h>
#include <stdlib.h>

#include "flock/backend-ext.h"
#include "flock/backend-util.h"
#include "flock/builtin.h"

typedef struct {
    flock_group_view_t  view;   /* immutable after init: no lock needed to modify */
    struct json_object* config; /* always {} */
} static_state;

static flock_return_t static_init(flock_backend_init_args_t* args, void** state)
{
    flock_return_t ret = FLOCK_SUCCESS;
    static_state*  s   = NULL;

    if (!args || !state) return FLOCK_ERR_INVALID_ARGS;
    if (args->join) {
        margo_error(args->mid, "[flock] Cannot join a static group (provider %u is not in "
                               "the initial view)", (unsigned)args->provider_id);
        return FLOCK_ERR_OP_FORBIDDEN;
    }
    s = (static_state*)calloc(1, sizeof(*s));
    if (!s) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    s->config = json_object_new_object();
    if (!s->config) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    FLOCK_GROUP_VIEW_MOVE(&args->initial_view, &s->view);
    ret = flock__view_set_reserved_metadata(&s->view, "static", s->config);
    if (ret != FLOCK_SUCCESS) goto finish;
    *state = s;
    s      = NULL;
finish:
    if (s) {
        flock_group_view_clear(&s->view);
        json_object_put(s->config);
        free(s);
    }
    return ret;
}

static flock_return_t static_destroy(void* state)
{
    static_state* s = (static_state*)state;
    if (!s) return FLOCK_ERR_INVALID_ARGS;
    flock_group_view_clear(&s->view);
    json_object_put(s->config);
    free(s);
    return FLOCK_SUCCESS;
}

static flock_return_t static_get_config(void* state,
                                        void (*fn)(void*, const struct json_object*),
                                        void* uargs)
{
    static_state* s = (static_state*)state;
    if (!s || !fn) return FLOCK_ERR_INVALID_ARGS;
    fn(uargs, s->config);
    return FLOCK_SUCCESS;
}

static flock_return_t static_get_view(void* state,
                                      void (*fn)(void*, const flock_group_view_t*),
                                      void* uargs)
{
    static_state* s = (static_state*)state;
    if (!s || !fn) return FLOCK_ERR_INVALID_ARGS;
    fn(uargs, &s->view);
    return FLOCK_SUCCESS;
}

/* A static group never changes, its metadata neither (issue #16). */
static flock_return_t static_add_metadata(void* state, const char* key, const char* value)
{
    (void)state;
    (void)key;
    (void)value;
    return FLOCK_ERR_OP_FORBIDDEN;
}

static flock_return_t static_remove_metadata(void* state, const char* key)
{
    (void)state;
    (void)key;
    return FLOCK_ERR_OP_FORBIDDEN;
}

static flock_backend_impl static_backend = {
    "static",          static_init,         static_destroy,
    static_get_config, static_get_view,     static_add_metadata,
    static_remove_metadata};

flock_return_t flock_register_static_backend(void)
{
    return flock_register_backend(&static_backend);
}

/* ---- the operators' extension (src/flock/backend-ext.h) ---- */

/* describe: every member of the fixed view; a static group has no failure
 * detector, so every status is "unknown". */
static flock_return_t static_describe(void* state, struct json_object* out)
{
    static_state*       s       = (static_state*)state;
    struct json_object* members = json_object_new_array();
    if (!s || !members) {
        json_object_put(members);
        return FLOCK_ERR_ALLOCATION;
    }
    json_object_object_add(out, "members", members);
    json_object_object_add(out, "role", json_object_new_string("member"));
    json_object_object_add(out, "counters", json_object_new_object());
    for (size_t i = 0; i < s->view.members.size; i++)
        if (!flock__ext_add_member(members, s->view.members.data[i].address,
                                   s->view.members.data[i].provider_id, "unknown"))
            return FLOCK_ERR_ALLOCATION;
    return FLOCK_SUCCESS;
}

static flock_return_t static_leave(void* state, char* why, size_t whysize)
{
    (void)state;
    snprintf(why, whysize, "a static group never changes: its members cannot leave");
    return FLOCK_ERR_OP_FORBIDDEN; /* the group is its initial view forever */
}

static flock_return_t static_force_remove(void* state, const char* address, uint16_t pid,
                                          char* why, size_t whysize)
{
    (void)state;
    snprintf(why, whysize, "a static group never changes: its members cannot be removed");
    (void)address;
    (void)pid;
    return FLOCK_ERR_OP_FORBIDDEN;
}

const flock__backend_ext flock__static_backend_ext = {static_describe, static_leave,
                                                      static_force_remove};
