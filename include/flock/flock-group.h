/*
 * flock-group.h -- client-side group handles: a cached view of a group,
 * refreshed from one member ("contact") with the flock_get_view RPC or kept
 * current by a subscription; run-time metadata.
 */
#ifndef FLOCK_GROUP_H
#define FLOCK_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <margo.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>
#include <flock/flock-client.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct flock_group_handle* flock_group_handle_t;
#define FLOCK_GROUP_HANDLE_NULL ((flock_group_handle_t)NULL)

/** An asynchronous update_view in flight (complete it with flock_request_wait). */
typedef struct flock_request* flock_request_t;

/**
 * @brief Create a handle on the group served by (addr, provider_id).
 * Checks that a Flock provider serves provider_id at addr.
 * @param mode FLOCK_MODE_INIT_UPDATE: fetch the view now; otherwise the
 *        cached view holds just (addr, provider_id). FLOCK_MODE_SUBSCRIBE
 *        is ignored.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL client/addr/handle),
 *         FLOCK_ERR_INVALID_PROVIDER (no Flock provider there),
 *         FLOCK_ERR_FROM_MERCURY, FLOCK_ERR_ALLOCATION, or the error of the
 *         initial update.
 */
flock_return_t flock_group_handle_create(flock_client_t client, hg_addr_t addr,
                                         uint16_t provider_id, uint32_t mode,
                                         flock_group_handle_t* handle);

/**
 * @brief Create a handle from a group file (JSON view). The contact member
 * is the file's first member; no network access unless mode has
 * FLOCK_MODE_INIT_UPDATE.
 * @return as flock_group_view_from_file, FLOCK_ERR_FROM_MERCURY (bad
 *         address), or the error of the initial update.
 */
flock_return_t flock_group_handle_create_from_file(flock_client_t client,
                                                   const char* filename, uint32_t mode,
                                                   flock_group_handle_t* handle);

/**
 * @brief Create a handle from a serialized (JSON) view of view_size bytes.
 * @return as flock_group_view_from_string, FLOCK_ERR_FROM_MERCURY, or the
 *         error of the initial update.
 */
flock_return_t flock_group_handle_create_from_serialized(flock_client_t client,
                                                         const char* serialized_view,
                                                         size_t view_size, uint32_t mode,
                                                         flock_group_handle_t* handle);

/** @brief Take a reference (thread-safe). @return FLOCK_ERR_INVALID_ARGS if NULL. */
flock_return_t flock_group_handle_ref_incr(flock_group_handle_t handle);

/** @brief Drop a reference; the last one frees the handle (thread-safe).
 *  @return FLOCK_ERR_INVALID_ARGS if NULL. */
flock_return_t flock_group_handle_release(flock_group_handle_t handle);

/**
 * @brief Deep copy of the cached view into *view, which must be an
 * initialized view (it is cleared first). No RPC.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS, FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_get_view(flock_group_handle_t handle, flock_group_view_t* view);

/**
 * @brief Call access(uargs, view) on the cached view while holding its
 * lock (access must not call functions of this handle). NULL access: no call.
 * @return FLOCK_SUCCESS or FLOCK_ERR_INVALID_ARGS (NULL handle).
 */
flock_return_t flock_group_access_view(flock_group_handle_t handle,
                                       void (*access)(void* uargs,
                                                      const flock_group_view_t* view),
                                       void* uargs);

/*
 * Run-time metadata limits (bytes, without the terminating NUL). Keys and
 * values are UTF-8 text without NUL bytes; keys are not empty. Keys that
 * start with "__" are reserved to the library and the backends (the
 * backend type, its config): clients cannot set or remove them.
 */
#define FLOCK_METADATA_KEY_MAX   256u   /**< longest key */
#define FLOCK_METADATA_VALUE_MAX 4096u  /**< longest value */
#define FLOCK_METADATA_TOTAL_MAX 65536u /**< sum of key and value lengths of every
                                             entry of a group, reserved ones included */

/**
 * @brief Set (value != NULL) or remove (value == NULL) a metadata entry of
 * the group, through the handle's contact member (another member if the
 * contact does not answer). An empty value is a value like any other (the
 * key stays, with ""): only NULL removes. Removing a key that does not
 * exist succeeds. Every member's metadata callback, and every subscriber's,
 * then sees (key, value) -- value NULL for a removal -- exactly once.
 * Centralized: the primary orders the change and has applied it at every
 * reachable member when the call returns. SWIM: the contact applies it and
 * gossip spreads it; concurrent sets converge on one value (docs/design.md).
 * Static: FLOCK_ERR_OP_FORBIDDEN. The handle's cached view changes with the
 * next flock_group_update_view (or at once when subscribed).
 * @return FLOCK_SUCCESS; FLOCK_ERR_INVALID_ARGS (NULL handle or key, empty
 *         key, a key or value over its limit, not UTF-8, a reserved key, or
 *         the group's metadata would exceed FLOCK_METADATA_TOTAL_MAX);
 *         FLOCK_ERR_OP_FORBIDDEN (static group); FLOCK_ERR_OP_UNSUPPORTED
 *         (a member of an older version); FLOCK_ERR_INVALID_PROVIDER (the
 *         group requires a key this client lacks or has wrong);
 *         FLOCK_ERR_FROM_MERCURY (no member answers); FLOCK_ERR_OTHER (the group cannot order the change now,
 *         e.g. a centralized primary without a majority).
 */
flock_return_t flock_group_metadata_set(flock_group_handle_t handle, const char* key,
                                        const char* value);

/**
 * @brief Refresh the cached view from the contact member (only transferred
 * if the digests differ). If the contact does not answer (gone, unreachable,
 * timeout), the other members of the cached view are tried in view order and
 * the first that answers becomes the contact.
 * @param req NULL: block and return the result. Otherwise the call returns
 *        FLOCK_SUCCESS at once and *req must be completed with
 *        flock_request_wait, which returns the result.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS, FLOCK_ERR_FROM_MERCURY
 *         (RPC failure or bad response), FLOCK_ERR_ALLOCATION, or the
 *         remote error.
 */
flock_return_t flock_group_update_view(flock_group_handle_t handle, flock_request_t* req);

/** @brief Wait for the request, free it, return its result. */
flock_return_t flock_request_wait(flock_request_t req);

/** @brief Set *completed to whether the request finished (does not free
 *  it: flock_request_wait is still required). */
flock_return_t flock_request_test(flock_request_t req, bool* completed);

/**
 * @brief Subscribe to the group's changes: the contact member pushes every
 * JOINED / LEFT / DIED and every metadata change (value NULL: removed) in
 * the order it applied them; the handle's cached view is updated before
 * each callback runs. The first answer brings the member's whole view: what
 * differs from the cached view is delivered first, as events. Callbacks run
 * on a runtime thread of the client's instance, one at a time, never with
 * a lock of the handle held (they may call flock_group_get_view, and
 * flock_group_unsubscribe). Either callback may be NULL.
 *
 * If the contact dies or stops answering (a poll that outlives its wait by
 * the client timeout), the handle subscribes with the next member of its
 * view and delivers what differs between its view and that member's: no
 * change is lost or delivered twice (a change that happened and was undone
 * while no member could be reached is not seen). A member forgets a
 * subscriber that has not polled for twice its wait plus 5 s.
 * FLOCK_SUBSCRIBE_WAIT_MS (100 .. 60000, default 10000) sets how long a
 * member holds a poll without news.
 * @return FLOCK_SUCCESS (the first answer has been delivered when it
 *         returns); FLOCK_ERR_INVALID_ARGS (NULL handle, already
 *         subscribed); FLOCK_ERR_OP_UNSUPPORTED (no member supports
 *         subscriptions); FLOCK_ERR_INVALID_PROVIDER (authentication
 *         failed: a keyed group); FLOCK_ERR_FROM_MERCURY (no member answers);
 *         FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_subscribe(flock_group_handle_t handle,
                                     flock_membership_update_fn member_update_fn,
                                     flock_metadata_update_fn metadata_update_fn,
                                     void* context);

/**
 * @brief Stop the subscription: when it returns no callback is running or
 * will run (called from a callback, the current one finishes and no other
 * starts). The member is told to forget the subscriber (best effort).
 * Releasing the handle's last reference unsubscribes too.
 * @return FLOCK_SUCCESS; FLOCK_ERR_INVALID_ARGS (NULL handle, not subscribed).
 */
flock_return_t flock_group_unsubscribe(flock_group_handle_t handle);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_GROUP_H */
