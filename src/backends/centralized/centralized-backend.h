/*
 * centralized-backend.h -- registration of the built-in "centralized"
 * backend (FLOCK-SPEC 3.2). The implementation is in centralized-backend.c;
 * its design is described in docs/design.md ("Centralized backend").
 */
#ifndef FLOCK_CENTRALIZED_BACKEND_H
#define FLOCK_CENTRALIZED_BACKEND_H

#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Register the "centralized" backend with flock_register_backend
 * (idempotent: a second call keeps the existing entry).
 * @return FLOCK_SUCCESS or the error of flock_register_backend.
 */
flock_return_t flock_register_centralized_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_CENTRALIZED_BACKEND_H */
