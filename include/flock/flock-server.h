/*
 * flock-server.h -- the Flock provider: a member of a group, served by a
 * backend, reachable by clients through the "flock_get_view" RPC.
 */
#ifndef FLOCK_SERVER_H
#define FLOCK_SERVER_H

#include <margo.h>
#include <flock/flock-common.h>
#include <flock/flock-backend.h>
#include <flock/flock-gateway.h>
#include <flock/flock-group.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLOCK_ABT_POOL_DEFAULT ABT_POOL_NULL

typedef struct flock_provider* flock_provider_t;
#define FLOCK_PROVIDER_NULL   ((flock_provider_t)NULL)
#define FLOCK_PROVIDER_IGNORE ((flock_provider_t*)NULL)

/** Optional arguments of flock_provider_register. */
struct flock_provider_args {
    ABT_pool            pool;         /**< handler pool (ABT_POOL_NULL: default) */
    flock_group_view_t* initial_view; /**< moved out by the provider (left empty);
                                           NULL or empty: a group of just this
                                           provider */
    flock_backend_impl* backend;      /**< explicit backend (overrides group.type) */
    flock_gateway_impl* gateway;      /**< explicit gateway (overrides gateway.type) */
};

#define FLOCK_PROVIDER_ARGS_INIT {ABT_POOL_NULL, NULL, NULL, NULL}

/**
 * @brief Register a Flock provider (a group member) on mid.
 *
 * config (NULL = "{}"): {"group": {"type": <backend>, "config": {...}},
 * "gateway": {"type": <gateway>, "config": {...}}, "file": <path>}; other
 * keys (e.g. "bootstrap") are ignored. The provider joins the group iff it
 * is not in the initial view. If "file" is set, the group file is written
 * before this returns when this provider is the first member, and again
 * after every change.
 *
 * On failure nothing is left registered on mid, the caller's runtime
 * instance is untouched and args->initial_view has been emptied.
 *
 * @param[in] mid server-mode runtime instance.
 * @param[in] provider_id provider id (no other provider may use it on mid).
 * @param[in] config JSON configuration.
 * @param[in] args optional arguments (NULL: defaults).
 * @param[out] provider handle (FLOCK_PROVIDER_IGNORE: the provider lives
 *             until margo_finalize).
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL/client-mode mid),
 *         FLOCK_ERR_INVALID_PROVIDER (provider id in use),
 *         FLOCK_ERR_INVALID_CONFIG, FLOCK_ERR_ALLOCATION, or the error of
 *         the gateway or backend initialization (e.g. FLOCK_ERR_OP_FORBIDDEN
 *         when joining a static group).
 */
flock_return_t flock_provider_register(margo_instance_id mid, uint16_t provider_id,
                                       const char* config,
                                       const struct flock_provider_args* args,
                                       flock_provider_t* provider);

/**
 * @brief Register a pair of update callbacks keyed by context. A second
 * call with the same context replaces the pair; distinct contexts
 * accumulate and are called in registration order, on the thread of the
 * backend event, without any view lock held. Either function may be NULL.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL provider),
 *         FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_provider_add_update_callbacks(flock_provider_t provider,
                                                   flock_membership_update_fn member_fn,
                                                   flock_metadata_update_fn metadata_fn,
                                                   void* context);

/**
 * @brief Remove the callbacks registered with context. Once it returns they
 * are not running and will not be called again.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL provider or context
 *         not registered).
 */
flock_return_t flock_provider_remove_update_callbacks(flock_provider_t provider,
                                                      void* context);

/**
 * @brief Destroy a provider: deregister its RPCs and identity, destroy its
 * backend (which may announce the departure) and gateway, release its
 * reference on the runtime instance. The group file is left as is.
 * @return FLOCK_SUCCESS or FLOCK_ERR_INVALID_ARGS (NULL provider).
 */
flock_return_t flock_provider_destroy(flock_provider_t provider);

/**
 * @brief The provider's effective configuration as compact JSON:
 * {"gateway":{"type":..,"config":..},"group":{"type":..,"config":..}[,"file":..]}.
 * @return a malloc'd string (free() it), or NULL (NULL provider, allocation).
 */
char* flock_provider_get_config(flock_provider_t provider);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SERVER_H */
