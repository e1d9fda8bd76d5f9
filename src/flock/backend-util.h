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
 * What a backend gets from its provider is exactly flock_backend_init_args_t
 * and the helpers below; a backend never calls into provider.c (the
 * provider calls builtin.c, which registers the backends: a call back would
 * close a loop). See flock__backend_owner for recognizing a provider handle.
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
#include <flock/flock-group.h>


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

/*
 * Group identity. A group is named by a 64-bit id made when it is founded,
 * written as 16 lowercase hex digits in the "group_id" key of its
 * "__config__" (so in its group file) and carried in the backends'
 * membership messages: a member never joins, answers for or merges with a
 * group of another id. 0 means "unknown" (a file written by Mochi Flock or
 * an older version): such a member adopts the id of the group it joins.
 */
#define FLOCK__GROUP_ID_KEY "group_id"

/** The id of a group founded with initial view v by (self_addr,
 *  provider_id) for backend type: random (getrandom) when v has one member
 *  (a new group of itself: never the id of an earlier group at the same
 *  address); otherwise derived from the member set and the type, so that
 *  every member of a view/mpi bootstrap, which all start from the same
 *  view, names the group the same. Never 0. No locking (v is private). */
uint64_t flock__group_id_new(const flock_group_view_t* v, const char* type);

/** Parse 1 to 16 hex digits into *id (non-zero); false if text is not that. */
bool flock__group_id_parse(const char* text, uint64_t* id);

/** Write id as 16 lowercase hex digits and a NUL into out[17]. */
void flock__group_id_format(uint64_t id, char out[17]);

/** The "group_id" of the view's "__config__" (0 if absent or invalid;
 *  the caller holds the view lock if the view is shared). */
uint64_t flock__view_group_id(const flock_group_view_t* v);

/** Call args->member_update_callback(args->callback_context, ...) if set.
 *  Must be called without holding the view lock. */
void flock__notify_member(const flock_backend_init_args_t* args, flock_update_t update,
                          const char* address, uint16_t provider_id);

/** Call args->metadata_update_callback(args->callback_context, ...) if set.
 *  Must be called without holding the view lock. */
void flock__notify_metadata(const flock_backend_init_args_t* args, const char* key,
                            const char* value);

/** "FLOCK_ERR_..." name of a return code ("FLOCK_ERR_?" if unknown), from
 *  the FLOCK_RETURN_VALUES X-macro. */
const char* flock__error_name(flock_return_t ret);

/*
 * Run-time metadata rules (limits in flock-group.h). Pure functions, used by
 * the client (before sending), the provider (every request from outside)
 * and the backends (the total size, which only they can judge).
 */

/** true if the n bytes at s are well-formed UTF-8 (no overlong forms, no
 *  surrogates, nothing above U+10FFFF). */
bool flock__utf8_valid(const char* s, size_t n);

/**
 * Check a metadata change (value NULL = removal). from_outside: a client's
 * request, for which reserved keys ("__" prefix) are refused. On failure
 * returns FLOCK_ERR_INVALID_ARGS and writes the reason (e.g. "the key is
 * longer than 256 bytes") into why (why_size bytes, may be 0).
 */
flock_return_t flock__metadata_check(const char* key, const char* value, bool from_outside,
                                     char* why, size_t why_size);

/** Sum of key and value lengths of v's metadata once key is set to value
 *  (NULL: removed); compare with FLOCK_METADATA_TOTAL_MAX. No locking. */
size_t flock__metadata_total_after(const flock_group_view_t* v, const char* key,
                                   const char* value);

/**
 * The provider that owns a group, as an identity only. The provider passes
 * its handle (flock_provider_t) as args->callback_context, the context of
 * its dispatchers. A built-in backend whose own API takes a provider handle
 * (flock_swim_set_crash_mode) keeps this value to recognize its group; it
 * may compare it, never dereference it nor hand it to the provider's
 * internals (provider-internal.h is not for backends). Valid from
 * init_group until destroy_group returns.
 */
static inline const void* flock__backend_owner(const flock_backend_init_args_t* args)
{
    return args ? args->callback_context : NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BACKEND_UTIL_H */
