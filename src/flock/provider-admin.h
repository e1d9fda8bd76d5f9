/*
 * provider-admin.h -- the operators' RPCs of a provider (provider-admin.c):
 * info (describe this member), leave (leave the group, stay up) and
 * force_leave (remove a member that does not answer), served for flockctl.
 * Authenticated like every RPC of a keyed instance (the runtime checks
 * every frame). Wire format (frt codec):
 *   flock_admin_info         in: -                        out: u32 ret, str json
 *   flock_admin_leave        in: -                        out: u32 ret, str message
 *   flock_admin_force_leave  in: str address, u16 pid,    out: u32 ret, str message
 *                                f64 probe_timeout_ms
 * `ret` is a flock_return_t; FLOCK_ERR_OP_UNSUPPORTED when the backend has
 * no operators' extension (backend-ext.h). Not for backends.
 */
#ifndef FLOCK_PROVIDER_ADMIN_H
#define FLOCK_PROVIDER_ADMIN_H

#include <flock/flock-server.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLOCK__ADMIN_INFO_RPC        "flock_admin_info"
#define FLOCK__ADMIN_LEAVE_RPC       "flock_admin_leave"
#define FLOCK__ADMIN_FORCE_LEAVE_RPC "flock_admin_force_leave"

typedef struct flock__admin flock__admin;

/**
 * Register the operators' RPCs of `provider` (whose group is initialized)
 * and count its membership events. Called by flock_provider_register once
 * the provider is live. Returns NULL (logged) on failure: the provider
 * works without them.
 */
flock__admin* flock__admin_start(margo_instance_id mid, uint16_t provider_id,
                                 flock_provider_t provider);

/** Deregister (waits for running handlers) and free; NULL is accepted.
 *  Called by the provider's teardown before its backend is destroyed. */
void flock__admin_stop(flock__admin* a);

/** The name of a Flock return code ("FLOCK_ERR_INVALID_CONFIG"), for logs
 *  ("FLOCK_ERR_?" for a value outside the list). */
const char* flock__return_name(flock_return_t ret);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_PROVIDER_ADMIN_H */
