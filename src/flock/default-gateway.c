/*
 * default-gateway.c -- the "default" gateway (public = local = the runtime's
 * self address; config always {}) and the "pinggy" gateway, which needs
 * ssh and Internet access to a tunnelling service and is not available in
 * this build: its init fails with FLOCK_ERR_OTHER and says so.
 */
#include <stdlib.h>
#include <string.h>

#include "flock/backend-util.h"
#include "flock/builtin.h"

typedef struct {
    char* address;
} default_gateway; /* the config ({}) is made on demand: no JSON tree per provider */

static flock_return_t default_init(flock_gateway_init_args_t* args, void** state)
{
    flock_return_t   ret = FLOCK_SUCCESS;
    default_gateway* g   = NULL;
    const char*      a   = args ? frt_self_addr_str(args->mid) : NULL;
    if (!a) {
        margo_error(args ? args->mid : MARGO_INSTANCE_NULL,
                    "[flock] default gateway: cannot get the self address");
        return FLOCK_ERR_FROM_MERCURY;
    }
    g = (default_gateway*)calloc(1, sizeof(*g));
    if (!g) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    g->address = strdup(a);
    if (!g->address) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    *state = g;
    g      = NULL;
finish:
    if (g) {
        free(g->address);
        free(g);
    }
    return ret;
}

static flock_return_t default_destroy(void* state)
{
    default_gateway* g = (default_gateway*)state;
    if (g) {
        free(g->address);
        free(g);
    }
    return FLOCK_SUCCESS;
}

static flock_return_t default_get_config(void* state,
                                         void (*fn)(void*, const struct json_object*),
                                         void* uargs)
{
    (void)state;
    struct json_object* config = json_object_new_object();
    if (!config) return FLOCK_ERR_ALLOCATION;
    fn(uargs, config);
    json_object_put(config);
    return FLOCK_SUCCESS;
}

static const char* default_address(void* state) { return ((default_gateway*)state)->address; }

static flock_gateway_impl default_gateway_impl = {
    "default", default_init, default_destroy, default_get_config, default_address,
    default_address};

flock_return_t flock_register_default_gateway(void)
{
    return flock_register_gateway(&default_gateway_impl);
}

static flock_return_t pinggy_init(flock_gateway_init_args_t* args, void** state)
{
    (void)state;
    margo_error(args ? args->mid : MARGO_INSTANCE_NULL,
                "[flock] the \"pinggy\" gateway (ssh tunnel through free.pinggy.io) is not "
                "available in this build");
    return FLOCK_ERR_OTHER;
}

static flock_return_t pinggy_destroy(void* state)
{
    (void)state;
    return FLOCK_SUCCESS;
}

static flock_return_t pinggy_get_config(void* state,
                                        void (*fn)(void*, const struct json_object*),
                                        void* uargs)
{
    (void)state;
    (void)fn;
    (void)uargs;
    return FLOCK_ERR_OP_UNSUPPORTED;
}

static const char* pinggy_address(void* state)
{
    (void)state;
    return NULL;
}

static flock_gateway_impl pinggy_gateway_impl = {
    "pinggy", pinggy_init, pinggy_destroy, pinggy_get_config, pinggy_address, pinggy_address};

flock_return_t flock_register_pinggy_gateway(void)
{
    return flock_register_gateway(&pinggy_gateway_impl);
}
