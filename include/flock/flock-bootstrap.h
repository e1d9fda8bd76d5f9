/*
 * flock-bootstrap.h -- building the initial view given to
 * flock_provider_register.
 */
#ifndef FLOCK_BOOTSTRAP_H
#define FLOCK_BOOTSTRAP_H

#include <stdint.h>
#include <margo.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Make *view a view of just this process: it is cleared (metadata
 * included) and holds one member (self address of mid, provider_id).
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL args),
 *         FLOCK_ERR_FROM_MERCURY (no self address), FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_view_init_from_self(margo_instance_id mid,
                                               uint16_t provider_id,
                                               flock_group_view_t* view);

/**
 * @brief Load *view from a JSON group file (= flock_group_view_from_file).
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (unreadable file),
 *         FLOCK_ERR_INVALID_CONFIG (malformed), FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_view_init_from_file(const char* filename,
                                               flock_group_view_t* view);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BOOTSTRAP_H */
