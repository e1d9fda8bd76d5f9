/*
 * provider-internal.h -- what the Flock libraries (client, views, registry)
 * and the tests, benchmarks and fuzz targets may know about a provider.
 * Not installed. Not for backends: a backend gets what it needs from its
 * provider through flock_backend_init_args_t (see backend-util.h,
 * flock__backend_owner), so that no call goes from a backend back into the
 * provider that registers it.
 */
#ifndef FLOCK_PROVIDER_INTERNAL_H
#define FLOCK_PROVIDER_INTERNAL_H

#include <flock/flock-server.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the provider-level RPC (in: u64 digest; out: u8 no_change,
 *  view (view-codec.h), i32 flock_return_t). */
#define FLOCK__GET_VIEW_RPC "flock_get_view"

/**
 * The backend of a provider: *impl and *state (either out-param may be
 * NULL). Valid while the provider is alive. For tests and benchmarks
 * (backends must not call it, see above).
 * @return FLOCK_SUCCESS; FLOCK_ERR_INVALID_ARGS (NULL provider, or its
 *         group is not initialized / already destroyed).
 */
flock_return_t flock__provider_get_backend(flock_provider_t provider,
                                           flock_backend_impl** impl, void** state);

/** Number of subscribers the provider currently serves (0 for NULL). */
size_t flock__provider_subscriber_count(flock_provider_t provider);

/** Look up a registered backend / gateway by exact name (NULL if none). */
flock_backend_impl* flock__find_backend(const char* name);
flock_gateway_impl* flock__find_gateway(const char* name);

/** true if every slot (and the name) of the implementation is set. */
bool flock__backend_impl_valid(const flock_backend_impl* impl);
bool flock__gateway_impl_valid(const flock_gateway_impl* impl);

/** malloc'd JSON text of a view (flock_group_view_serialize format); the
 *  caller holds the view lock if needed. NULL on allocation failure. */
char* flock__view_to_json(const flock_group_view_t* view);

/** Write text atomically to filename (temporary file, fsync, rename).
 *  FLOCK_ERR_ALLOCATION if the temporary file cannot be created,
 *  FLOCK_ERR_OTHER on write/fsync/rename failure (logged). */
flock_return_t flock__write_file_atomic(const char* filename, const char* text);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_PROVIDER_INTERNAL_H */
