/*
 * swim-backend.h -- the "swim" backend of Flock (SWIM + Lifeguard gossip
 * membership). Programs include it as "../src/backends/swim/swim-backend.h"
 * to simulate crashes (FLOCK-SPEC 1.9). C linkage; usable from C++.
 */
#ifndef FLOCK_SWIM_BACKEND_H
#define FLOCK_SWIM_BACKEND_H

#include <stdbool.h>
#include <flock/flock-common.h>
#include <flock/flock-server.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Register the "swim" backend (idempotent; flock_provider_register
 * does it for every built-in backend).
 * @return FLOCK_SUCCESS or the error of flock_register_backend.
 */
flock_return_t flock_register_swim_backend(void);

/**
 * @brief Crash simulation: when crash is true, destroying the provider skips
 * the LEAVE announcement, so the other members must detect the "crash"
 * through failed probes and suspicion (and report FLOCK_MEMBER_DIED).
 * @return FLOCK_SUCCESS; FLOCK_ERR_INVALID_ARGS for a NULL provider;
 *         FLOCK_ERR_INVALID_BACKEND if the provider has no live "swim"
 *         group (its backend is not "swim"). A registered provider always
 *         has its group until flock_provider_destroy.
 */
flock_return_t flock_swim_set_crash_mode(flock_provider_t provider, bool crash);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_BACKEND_H */
