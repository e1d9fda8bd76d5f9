/*
 * builtin.h -- the backends and gateways compiled into flock-server. With
 * builtin.c, the only place that names every built-in: the provider calls
 * flock__register_builtins() and knows no backend by name; each built-in
 * defines its own flock_register_<name>_*() (declared here so that the
 * definition has a prototype). Not installed.
 */
#ifndef FLOCK_BUILTIN_H
#define FLOCK_BUILTIN_H

#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registration of each built-in (idempotent; flock_register_backend /
 * flock_register_gateway keep an existing entry). */
flock_return_t flock_register_static_backend(void);
flock_return_t flock_register_centralized_backend(void);
flock_return_t flock_register_swim_backend(void);
flock_return_t flock_register_default_gateway(void);
flock_return_t flock_register_pinggy_gateway(void);

/** Registers every built-in backend/gateway compiled in this library
 *  (FLOCK_HAVE_BACKEND_<NAME>); called at the start of every
 *  flock_provider_register. The first error is returned, the rest are
 *  still registered. */
flock_return_t flock__register_builtins(void);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BUILTIN_H */
