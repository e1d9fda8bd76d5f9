/*
 * registry.c -- the process-wide backend and gateway tables (64 slots
 * each, built-ins included). Entries are pointers owned by the registrant;
 * names are matched exactly. A mutex makes registration and lookup
 * thread-safe; entries are never removed.
 */
#include <pthread.h>
#include <string.h>

#include "flock/backend-util.h"
#include "flock/provider-internal.h"

#define FLOCK__REGISTRY_SLOTS 64

static pthread_mutex_t     registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static flock_backend_impl* backends[FLOCK__REGISTRY_SLOTS];
static flock_gateway_impl* gateways[FLOCK__REGISTRY_SLOTS];

bool flock__backend_impl_valid(const flock_backend_impl* impl)
{
    return impl && impl->name && impl->init_group && impl->destroy_group && impl->get_config
        && impl->get_view && impl->add_metadata && impl->remove_metadata;
}

bool flock__gateway_impl_valid(const flock_gateway_impl* impl)
{
    return impl && impl->name && impl->init_gateway && impl->destroy_gateway
        && impl->get_config && impl->get_public_address && impl->get_local_address;
}

flock_return_t flock_register_backend(flock_backend_impl* impl)
{
    flock_return_t ret = FLOCK_ERR_ALLOCATION;
    if (!flock__backend_impl_valid(impl)) {
        margo_error(MARGO_INSTANCE_NULL,
                    "[flock] flock_register_backend: NULL implementation, name or function");
        return FLOCK_ERR_INVALID_ARGS;
    }
    pthread_mutex_lock(&registry_mutex);
    for (int i = 0; i < FLOCK__REGISTRY_SLOTS; i++) {
        if (backends[i] && strcmp(backends[i]->name, impl->name) == 0) {
            ret = FLOCK_SUCCESS; /* existing name: keep the first one */
            break;
        }
        if (!backends[i]) {
            backends[i] = impl;
            ret         = FLOCK_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mutex);
    if (ret != FLOCK_SUCCESS)
        margo_error(MARGO_INSTANCE_NULL, "[flock] backend table full, cannot register \"%s\"",
                    impl->name);
    return ret;
}

flock_return_t flock_register_gateway(flock_gateway_impl* impl)
{
    flock_return_t ret = FLOCK_ERR_ALLOCATION;
    if (!flock__gateway_impl_valid(impl)) {
        margo_error(MARGO_INSTANCE_NULL,
                    "[flock] flock_register_gateway: NULL implementation, name or function");
        return FLOCK_ERR_INVALID_ARGS;
    }
    pthread_mutex_lock(&registry_mutex);
    for (int i = 0; i < FLOCK__REGISTRY_SLOTS; i++) {
        if (gateways[i] && strcmp(gateways[i]->name, impl->name) == 0) {
            ret = FLOCK_SUCCESS;
            break;
        }
        if (!gateways[i]) {
            gateways[i] = impl;
            ret         = FLOCK_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mutex);
    if (ret != FLOCK_SUCCESS)
        margo_error(MARGO_INSTANCE_NULL, "[flock] gateway table full, cannot register \"%s\"",
                    impl->name);
    return ret;
}

/* Upstream exports these aliases too (undeclared in its headers). */
flock_return_t flock_provider_register_backend(flock_backend_impl* impl);
flock_return_t flock_provider_register_backend(flock_backend_impl* impl)
{
    return flock_register_backend(impl);
}
flock_return_t flock_provider_register_gateway(flock_gateway_impl* impl);
flock_return_t flock_provider_register_gateway(flock_gateway_impl* impl)
{
    return flock_register_gateway(impl);
}

flock_backend_impl* flock__find_backend(const char* name)
{
    flock_backend_impl* found = NULL;
    if (!name) return NULL;
    pthread_mutex_lock(&registry_mutex);
    for (int i = 0; i < FLOCK__REGISTRY_SLOTS && backends[i]; i++) {
        if (strcmp(backends[i]->name, name) == 0) {
            found = backends[i];
            break;
        }
    }
    pthread_mutex_unlock(&registry_mutex);
    return found;
}

flock_gateway_impl* flock__find_gateway(const char* name)
{
    flock_gateway_impl* found = NULL;
    if (!name) return NULL;
    pthread_mutex_lock(&registry_mutex);
    for (int i = 0; i < FLOCK__REGISTRY_SLOTS && gateways[i]; i++) {
        if (strcmp(gateways[i]->name, name) == 0) {
            found = gateways[i];
            break;
        }
    }
    pthread_mutex_unlock(&registry_mutex);
    return found;
}
