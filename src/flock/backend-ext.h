/*
 * backend-ext.h -- the optional operators' extension of a backend: what
 * `flockctl show / info / leave / force-leave` need from a group that the
 * public ops table (flock_backend_impl, identical to upstream Mochi Flock)
 * has no slot for. Internal: built-in backends provide one; a backend
 * without it (a user's own) answers FLOCK_ERR_OP_UNSUPPORTED to those
 * requests. The provider finds a backend's extension through
 * flock__backend_ext_find (builtin.c, the only file that names backends);
 * provider-admin.c calls it from RPC handler threads. A backend includes
 * this header (and backend-util.h), never provider-internal.h.
 */
#ifndef FLOCK_BACKEND_EXT_H
#define FLOCK_BACKEND_EXT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <flock/flock-backend.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct flock__backend_ext {
    /**
     * Describe the group as this member sees it, into `out` (an empty JSON
     * object owned by the caller; add to it, never free it):
     *   "role":        string: "primary" / "secondary" (centralized),
     *                  "member" (swim, static)
     *   "incarnation": integer, only where the backend has one (swim: self's)
     *   "members":     array in view order of {"address", "provider_id",
     *                  "status": "alive" | "suspect" | "dead" | "left" |
     *                  "unknown", "role"? (centralized), "incarnation"? (swim)}
     *   "counters":    object of name -> integer (backend counters, e.g.
     *                  pings or probes sent and answered)
     * and any other backend facts (e.g. "term", "primary"). Runs on an RPC
     * handler thread, concurrently with everything; may take the backend's
     * locks (never while calling the provider's callbacks); never blocks on
     * the network. FLOCK_SUCCESS, FLOCK_ERR_ALLOCATION, FLOCK_ERR_NOT_A_MEMBER.
     */
    flock_return_t (*describe)(void* state, struct json_object* out);
    /**
     * Leave the group gracefully now, as destroy_group would, but keep the
     * state: the process stays up, get_view keeps working (the last view or
     * FLOCK_ERR_NOT_A_MEMBER), the member never rejoins by itself, and
     * destroy_group stays safe to call afterwards (no second leave). May
     * block on the network up to the backend's own announce/leave timeout.
     * FLOCK_SUCCESS; FLOCK_ERR_OP_FORBIDDEN (static groups, or already left);
     * FLOCK_ERR_OP_UNSUPPORTED (not in this role). On an error, a one-line
     * reason for the operator goes into why (whysize > 0).
     */
    flock_return_t (*leave)(void* state, char* why, size_t whysize);
    /**
     * Remove (address, provider_id) from the group as if it had died. The
     * caller (provider-admin.c) has checked that it does not answer. May
     * block on the network (a secondary forwards to its primary). 
     * FLOCK_SUCCESS; FLOCK_ERR_NO_MEMBER (not listed); FLOCK_ERR_OP_FORBIDDEN
     * (static, or it is this member itself); FLOCK_ERR_OP_UNSUPPORTED (not
     * in this role or backend: why says where to ask); FLOCK_ERR_FROM_MERCURY.
     * The reason of an error goes into why.
     */
    flock_return_t (*force_remove)(void* state, const char* address, uint16_t provider_id,
                                   char* why, size_t whysize);
} flock__backend_ext;

/** {"address", "provider_id", "status"} appended to the array `members`
 *  (a helper for describe); returns the new object (owned by the array) or
 *  NULL when out of memory. */
static inline struct json_object* flock__ext_add_member(struct json_object* members,
                                                        const char* address,
                                                        uint16_t provider_id, const char* status)
{
    struct json_object* m = json_object_new_object();
    if (!m) return NULL;
    json_object_object_add(m, "address", json_object_new_string(address));
    json_object_object_add(m, "provider_id", json_object_new_int(provider_id));
    json_object_object_add(m, "status", json_object_new_string(status));
    if (json_object_array_add(members, m) != 0) {
        json_object_put(m);
        return NULL;
    }
    return m;
}

/** The extension of a registered backend, or NULL (builtin.c). */
const flock__backend_ext* flock__backend_ext_find(const flock_backend_impl* impl);

/** Each built-in backend's extension (defined in its own directory). */
extern const flock__backend_ext flock__static_backend_ext;
extern const flock__backend_ext flock__centralized_backend_ext;
extern const flock__backend_ext flock__swim_backend_ext;

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BACKEND_EXT_H */
