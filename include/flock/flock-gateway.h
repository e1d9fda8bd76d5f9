/*
 * flock-gateway.h -- the interface of a gateway, which tells a provider
 * which address to advertise to the group (public) and which address its
 * runtime really listens on (local).
 */
#ifndef FLOCK_GATEWAY_H
#define FLOCK_GATEWAY_H

#include <stdint.h>
#include <json-c/json.h>
#include <margo.h>
#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Arguments given to a gateway's init_gateway. */
typedef struct flock_gateway_init_args {
    margo_instance_id   mid;         /**< runtime instance of the provider */
    uint16_t            provider_id; /**< provider id of the provider */
    ABT_pool            pool;        /**< pool of the provider */
    struct json_object* config;      /**< "gateway.config" ({} if absent); borrowed */
} flock_gateway_init_args_t;

/** Create the gateway state; on failure release everything and return the
 *  error (the provider registration fails with it). */
typedef flock_return_t (*flock_gateway_init_fn)(flock_gateway_init_args_t* args,
                                                void** state);
/** Destroy the state. Called once, after a successful init. */
typedef flock_return_t (*flock_gateway_finalize_fn)(void* state);
/** Call fn(uargs, config) once with the effective gateway config. */
typedef flock_return_t (*flock_gateway_get_config_fn)(
    void* state, void (*fn)(void*, const struct json_object*), void* uargs);
/** The address advertised to the group (lives as long as the state). */
typedef const char* (*flock_gateway_get_public_address_fn)(void* state);
/** The address the runtime listens on (lives as long as the state). */
typedef const char* (*flock_gateway_get_local_address_fn)(void* state);

/** A gateway implementation. Every slot must be non-NULL. */
typedef struct flock_gateway_impl {
    const char*                         name;
    flock_gateway_init_fn               init_gateway;
    flock_gateway_finalize_fn           destroy_gateway;
    flock_gateway_get_config_fn         get_config;
    flock_gateway_get_public_address_fn get_public_address;
    flock_gateway_get_local_address_fn  get_local_address;
} flock_gateway_impl;

/**
 * @brief Register a gateway under gateway_impl->name (pointer stored, not
 * copied). An existing name is kept and FLOCK_SUCCESS returned. Thread-safe.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL impl, name or slot),
 *         FLOCK_ERR_ALLOCATION (the 64-entry table is full).
 */
flock_return_t flock_register_gateway(flock_gateway_impl* gateway_impl);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_GATEWAY_H */
