/*
 * flock-client.h -- the Flock client: a handle on a runtime instance from
 * which group handles (flock-group.h) are created.
 */
#ifndef FLOCK_CLIENT_H
#define FLOCK_CLIENT_H

#include <margo.h>
#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct flock_client* flock_client_t;
#define FLOCK_CLIENT_NULL ((flock_client_t)NULL)

/**
 * @brief Create a Flock client.
 *
 * Registers the client side of the "flock_get_view" RPC on mid (works with
 * a client-mode or server-mode instance; several clients may share one).
 *
 * @param[in] mid runtime instance.
 * @param[in] pool pool for completions (ABT_POOL_NULL: the handler pool).
 * @param[out] client resulting client, to free with flock_client_finalize.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL mid/client),
 *         FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_client_init(margo_instance_id mid, ABT_pool pool,
                                 flock_client_t* client);

/**
 * @brief Release a client. Group handles created from it should have been
 * released before (a warning is logged otherwise; such handles keep the
 * client's memory alive and stay usable until they are released, as long
 * as the runtime instance is).
 * @return FLOCK_SUCCESS or FLOCK_ERR_INVALID_ARGS (NULL client).
 */
flock_return_t flock_client_finalize(flock_client_t client);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_CLIENT_H */
