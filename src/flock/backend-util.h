/*
 * backend-util.h -- internal helpers for the built-in backends (static,
 * centralized, swim) and the provider. Not installed.
 *
 * How a backend talks to its provider
 * -----------------------------------
 init_group receives flock_backend_init_args_t. Keep a copy of the struct
 * (after moving initial_view out of it; the callbacks and context stay
 * valid until destroy_group returns) and report every change with
 * flock__notify_member() / flock__notify_metadata() on that copy (they
 * tolerate NULL callbacks). Rules:
 *   - the view a backend hands to get_view's callback is the backend's own
 *     view (the one with the embedded mutex the backend uses to protect its
 *     mutations); the provider's callback locks it (FLOCK_GROUP_VIEW_LOCK)
 *     while it reads it, so get_view must not hold that lock while calling
 *     fn, and the backend must hold it whenever it modifies the view;
 *   - update your view (under its lock), release the lock, THEN notify: the
 *     dispatcher fans out to user callbacks and rewrites the group file,
 *     which calls your get_view and locks the view;
 *   - notifications may be issued from any thread, including from inside
 *     init_group (e.g. members learnt while joining); the provider tolerates
 *     them before init_group has returned.
 *
 * Reserved metadata: every backend stores "__config__" (its effective
 * config, flock__json_to_string format) and "__type__" (its name) in its
 * view at init; flock__view_set_reserved_metadata does both.
 */
#ifndef FLOCK_BACKEND_UTIL_H
#define FLOCK_BACKEND_UTIL_H

#include <json-c/json.h>
#include <flock/flock-backend.h>
#include <flock/flock-gateway.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Flags used for every JSON text Flock produces: compact, '/' unescaped. */
#define FLOCK__JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/** malloc'd compact JSON text of obj (NULL obj -> "null"); NULL on
 *  allocation failure. */
char* flock__json_to_string(const struct json_object* obj);

/** Set "__config__" (= flock__json_to_string(config), "{}" for NULL) and
 *  "__type__" (= type) in v (no locking). FLOCK_ERR_ALLOCATION on failure
 *  (v may then hold one of the two entries). */
flock_return_t flock__view_set_reserved_metadata(flock_group_view_t* v, const char* type,
                                                 const struct json_object* config);

/** Call args->member_update_callback(args->callback_context, ...) if set.
 *  Must be called without holding the view lock. */
void flock__notify_member(const flock_backend_init_args_t* args, flock_update_t update,
                          const char* address, uint16_t provider_id);

/** Call args->metadata_update_callback(args->callback_context, ...) if set.
 *  Must be called without holding the view lock. */
void flock__notify_metadata(const flock_backend_init_args_t* args, const char* key,
                            const char* value);

/* Registration of the built-in backends and gateways (idempotent; called
 * at the start of every flock_provider_register). */
flock_return_t flock_register_static_backend(void);
flock_return_t flock_register_centralized_backend(void);
flock_return_t flock_register_swim_backend(void);
flock_return_t flock_register_default_gateway(void);
flock_return_t flock_register_pinggy_gateway(void);
/** Registers every built-in backend/gateway compiled in this library. */
flock_return_t flock__register_builtins(void);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BACKEND_UTIL_H */
