/*
 * flock-backend.h -- the interface a group-membership backend implements.
 *
 * A backend is a const-like table of function pointers (flock_backend_impl)
 * registered by name with flock_register_backend(). The provider calls
 * init_group once at registration, then get_view / get_config /
 * add_metadata / remove_metadata from RPC handler threads (concurrently),
 * then destroy_group once (never concurrently with init_group, and only
 * after init_group succeeded).
 *
 * Notifications: when the membership (or metadata) changes, a backend calls
 * args->member_update_callback / args->metadata_update_callback with
 * args->callback_context. These are the provider's dispatchers: they fan
 * out to the user's callbacks and rewrite the group file, and they lock the
 * view through get_view. A backend therefore MUST NOT hold its view lock
 * (nor any lock its get_view takes) while calling them.
 */
#ifndef FLOCK_BACKEND_H
#define FLOCK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include <margo.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Arguments given to a backend's init_group. */
typedef struct flock_backend_init_args {
    margo_instance_id   mid;         /**< runtime instance of the provider */
    uint16_t            provider_id; /**< provider id of the provider */
    ABT_pool            pool;        /**< pool for the backend's handlers */
    struct json_object* config;      /**< "group.config" object ({} if absent);
                                          borrowed: take a reference to keep it */
    const char*         self_addr_str; /**< public address of this provider (use it,
                                            not margo_addr_self, to find yourself) */
    bool                join;          /**< true iff this provider is not in initial_view */
    flock_group_view_t  initial_view;  /**< initial members/metadata; the backend may
                                            move it out (FLOCK_GROUP_VIEW_MOVE), the
                                            provider clears what is left afterwards */
    flock_membership_update_fn member_update_callback;   /**< provider dispatcher */
    flock_metadata_update_fn   metadata_update_callback; /**< provider dispatcher */
    void*                      callback_context;         /**< pass to the dispatchers */
} flock_backend_init_args_t;

/**
 * Create the backend state. May block (e.g. join RPCs) and may call the
 * dispatchers. On failure it must release everything it allocated, leave
 * *state untouched, and return the error (the provider then fails with it).
 */
typedef flock_return_t (*flock_backend_init_fn)(flock_backend_init_args_t* args,
                                                void** state);

/** Destroy the state (may send RPCs, e.g. a leave announcement). Called once. */
typedef flock_return_t (*flock_backend_finalize_fn)(void* state);

/** Call fn(uargs, config) once with the effective backend config (the
 *  object is only valid during the call). */
typedef flock_return_t (*flock_backend_get_config_fn)(
    void* state, void (*fn)(void*, const struct json_object*), void* uargs);

/** Call fn(uargs, view) once with the backend's current view. The backend
 *  must NOT lock the view itself: the caller holds whatever lock is needed
 *  (the provider locks the view around this call). */
typedef flock_return_t (*flock_backend_get_view_fn)(
    void* state, void (*fn)(void*, const flock_group_view_t*), void* uargs);

/** Set a metadata entry (FLOCK_ERR_OP_UNSUPPORTED if not supported). */
typedef flock_return_t (*flock_backend_add_metadata_fn)(void* state, const char* key,
                                                        const char* value);

/** Remove a metadata entry (FLOCK_ERR_OP_UNSUPPORTED if not supported). */
typedef flock_return_t (*flock_backend_remove_metadata_fn)(void* state, const char* key);

/** A backend implementation. Every slot must be non-NULL. */
typedef struct flock_backend_impl {
    const char*                      name;
    flock_backend_init_fn            init_group;
    flock_backend_finalize_fn        destroy_group;
    flock_backend_get_config_fn      get_config;
    flock_backend_get_view_fn        get_view;
    flock_backend_add_metadata_fn    add_metadata;
    flock_backend_remove_metadata_fn remove_metadata;
} flock_backend_impl;

/**
 * @brief Register a backend under backend_impl->name (the pointer is stored,
 * not copied: it must outlive every provider using it). Registering a name
 * that already exists keeps the existing entry and returns FLOCK_SUCCESS.
 * Thread-safe.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL impl, name or slot),
 *         FLOCK_ERR_ALLOCATION (the 64-entry table is full).
 */
flock_return_t flock_register_backend(flock_backend_impl* backend_impl);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BACKEND_H */
