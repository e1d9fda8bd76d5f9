/*
 * static-backend.c -- the "static" backend: the group is exactly the
 * initial view, forever. No RPCs, no timers, no notifications; joining is
 * forbidden; metadata cannot change. Its config is ignored (effective
 * config: {}).
 */
#include <stdlib.h>

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
