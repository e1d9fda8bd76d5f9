/*
 * flock-common.h -- types shared by the Flock client and server APIs:
 * return codes, membership update kinds, handle creation modes and the
 * update callback types.
 */
#ifndef FLOCK_COMMON_H
#define FLOCK_COMMON_H

#include <stdint.h>
#include <margo.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Kind of membership change reported to a flock_membership_update_fn. */
typedef enum flock_update_t {
    FLOCK_MEMBER_JOINED = 0, /**< a member joined the group */
    FLOCK_MEMBER_LEFT   = 1, /**< a member left the group gracefully */
    FLOCK_MEMBER_DIED   = 2, /**< a member was declared dead */
    FLOCK_MEMBER_MOVED  = 3  /**< reserved (never emitted) */
} flock_update_t;

/** Group-handle creation mode: fetch the view from the contacted member. */
#define FLOCK_MODE_INIT_UPDATE 0x1
/** Group-handle creation mode: subscribe to updates (accepted, ignored). */
#define FLOCK_MODE_SUBSCRIBE 0x2

/**
 * Every Flock return code with its message. Expand with a user-defined
 * X(code, message) macro; the enum flock_return_t below is generated from it,
 * so the values are consecutive from 0 (FLOCK_SUCCESS).
 */
#define FLOCK_RETURN_VALUES                                 \
    X(FLOCK_SUCCESS, "Success")                             \
    X(FLOCK_ERR_ALLOCATION, "Allocation error")             \
    X(FLOCK_ERR_INVALID_ARGS, "Invalid argument")           \
    X(FLOCK_ERR_INVALID_PROVIDER, "Invalid provider id")    \
    X(FLOCK_ERR_INVALID_GROUP, "Invalid group id")          \
    X(FLOCK_ERR_INVALID_BACKEND, "Invalid backend type")    \
    X(FLOCK_ERR_INVALID_CONFIG, "Invalid configuration")    \
    X(FLOCK_ERR_FROM_MERCURY, "Mercurt error")              \
    X(FLOCK_ERR_FROM_ARGOBOTS, "Argobots error")            \
    X(FLOCK_ERR_FROM_MPI, "MPI error")                      \
    X(FLOCK_ERR_OP_UNSUPPORTED, "Unsupported operation")    \
    X(FLOCK_ERR_OP_FORBIDDEN, "Forbidden operation")        \
    X(FLOCK_ERR_NO_MEMBER, "No member at this index")       \
    X(FLOCK_ERR_NO_METADATA, "Invalid metadata key")        \
    X(FLOCK_ERR_NOT_A_MEMBER, "Process is not member")      \
    X(FLOCK_ERR_OTHER, "Other error")

#define X(__err__, __msg__) __err__,
/** Return codes of every Flock function. */
typedef enum flock_return_t { FLOCK_RETURN_VALUES } flock_return_t;
#undef X

/**
 * @brief Called on membership changes.
 * @param ctx the context given when the callback was registered.
 * @param update kind of change.
 * @param address address of the member concerned.
 * @param provider_id provider id of the member concerned.
 */
typedef void (*flock_membership_update_fn)(void* ctx, flock_update_t update,
                                           const char* address, uint16_t provider_id);

/**
 * @brief Called on metadata changes.
 * @param ctx the context given when the callback was registered.
 * @param key metadata key.
 * @param value new value (NULL if the key was removed).
 */
typedef void (*flock_metadata_update_fn)(void* ctx, const char* key, const char* value);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_COMMON_H */
