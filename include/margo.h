/*
 * margo.h -- the Margo names Flock programs use, provided by this project's
 * own RPC runtime (frt). See docs/design.md and include/frt.h.
 *
 * Only the subset of Margo that Flock applications and the Flock libraries
 * need is provided, with Margo's semantics. Names that real Margo declares
 * with Mercury/Argobots types that do not exist here (margo_register,
 * margo_forward, hg_handle_t, ...) are intentionally absent; the native RPC
 * API lives in <frt.h>, included below.
 */
#ifndef FLOCK_MARGO_H
#define FLOCK_MARGO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Mercury-compatible types and return codes                          */
/* ------------------------------------------------------------------ */

typedef uint64_t hg_size_t; /* exactly uint64_t (FLOCK-SPEC 9.1) */
typedef uint8_t  hg_bool_t;
typedef uint64_t hg_uint64_t;
typedef uint32_t hg_uint32_t;
typedef uint16_t hg_uint16_t;
typedef uint8_t  hg_uint8_t;
typedef int32_t  hg_int32_t;
typedef const char* hg_const_string_t;
typedef char*       hg_string_t;

/* Same order and values as Mercury's HG_RETURN_VALUES. */
#define HG_RETURN_VALUES                                              \
    X(HG_SUCCESS, "success")                                          \
    X(HG_PERMISSION, "operation not permitted")                       \
    X(HG_NOENTRY, "no such RPC or provider")                          \
    X(HG_INTERRUPT, "operation interrupted")                          \
    X(HG_AGAIN, "operation must be retried")                          \
    X(HG_NOMEM, "out of memory")                                      \
    X(HG_ACCESS, "permission denied")                                 \
    X(HG_FAULT, "bad address")                                        \
    X(HG_BUSY, "device or resource busy")                             \
    X(HG_EXIST, "entry already exists")                               \
    X(HG_NODEV, "no such device")                                     \
    X(HG_INVALID_ARG, "invalid argument")                             \
    X(HG_PROTOCOL_ERROR, "protocol error")                            \
    X(HG_OVERFLOW, "value too large")                                 \
    X(HG_MSGSIZE, "message size too long")                            \
    X(HG_PROTONOSUPPORT, "protocol not supported")                    \
    X(HG_OPNOTSUPPORTED, "operation not supported on endpoint")       \
    X(HG_ADDRINUSE, "address already in use")                         \
    X(HG_ADDRNOTAVAIL, "cannot assign requested address")             \
    X(HG_HOSTUNREACH, "cannot reach host (connection refused/lost)")  \
    X(HG_TIMEOUT, "operation reached timeout")                        \
    X(HG_CANCELED, "operation canceled")                              \
    X(HG_IO_ERROR, "I/O error")                                       \
    X(HG_CHECKSUM_ERROR, "checksum or authentication error")          \
    X(HG_NA_ERROR, "generic network error")                           \
    X(HG_OTHER_ERROR, "generic error")

#define X(__code__, __msg__) __code__,
typedef enum hg_return { HG_RETURN_VALUES HG_RETURN_MAX } hg_return_t;
#undef X

/** @brief Static message for an hg_return_t value ("unknown error" otherwise). */
const char* HG_Error_to_string(hg_return_t ret);

/* ------------------------------------------------------------------ */
/* Argobots-compatible names                                           */
/* ------------------------------------------------------------------ */

/* Pools are accepted for API compatibility; every handler of an instance
 * runs on that instance's elastic handler thread pool (docs/design.md). */
typedef struct ABT_pool_opaque* ABT_pool;
#define ABT_POOL_NULL ((ABT_pool)NULL)
#define ABT_SUCCESS   0

/* A futex-based mutex; all-zero memory is a valid unlocked mutex. */
typedef struct {
    int state;
} ABT_mutex_memory;
typedef ABT_mutex_memory* ABT_mutex;
#define ABT_MUTEX_INITIALIZER      {0}
#define ABT_MUTEX_NULL             ((ABT_mutex)NULL)
#define ABT_MUTEX_MEMORY_GET_HANDLE(p_mem) ((ABT_mutex)(p_mem))
int ABT_mutex_lock(ABT_mutex m);
int ABT_mutex_trylock(ABT_mutex m); /* 0 on success, non-zero if busy */
int ABT_mutex_unlock(ABT_mutex m);

/* ------------------------------------------------------------------ */
/* Instances and addresses                                             */
/* ------------------------------------------------------------------ */

typedef struct margo_instance* margo_instance_id;
typedef struct hg_addr*        hg_addr_t;

#define MARGO_INSTANCE_NULL ((margo_instance_id)NULL)
#define HG_ADDR_NULL        ((hg_addr_t)NULL)
#define MARGO_CLIENT_MODE   0
#define MARGO_SERVER_MODE   1
#define MARGO_DEFAULT_PROVIDER_ID 0
#define MARGO_MAX_PROVIDER_ID     (UINT16_MAX - 1)

/**
 * @brief Create a runtime instance.
 *
 * @param addr_str "na+sm", "na+sm://", "ofi+tcp", "tcp", "ofi+tcp://IP:PORT",
 *        "tcp://0.0.0.0:0", ... (see docs/design.md for the grammar).
 * @param mode MARGO_SERVER_MODE (listens) or MARGO_CLIENT_MODE (does not).
 * @param use_progress_thread accepted; the runtime always has its own
 *        progress thread.
 * @param rpc_thread_count minimum number of handler threads (<= 0: default).
 * @return the instance, or MARGO_INSTANCE_NULL (the reason is logged).
 */
margo_instance_id margo_init(const char* addr_str, int mode,
                             int use_progress_thread, int rpc_thread_count);

/** @brief Run pre-finalize and finalize callbacks (LIFO), stop the runtime,
 *  fail pending RPCs with HG_CANCELED, join threads, free everything.
 *  Threads blocked in margo_wait_for_finalize are woken. Safe to call from
 *  any thread, including an RPC handler or a timer callback. */
void margo_finalize(margo_instance_id mid);

/** @brief Block until margo_finalize has been called (from another thread)
 *  and has completed. The instance must not be used afterwards. */
void margo_wait_for_finalize(margo_instance_id mid);

/** @brief Margo's reference count on an instance: release at 0 finalizes. */
hg_return_t margo_instance_ref_incr(margo_instance_id mid);
hg_return_t margo_instance_release(margo_instance_id mid);

/** @brief true if the instance is in server mode (accepts connections). */
bool margo_is_listening(margo_instance_id mid);

hg_return_t margo_addr_self(margo_instance_id mid, hg_addr_t* addr);
/** @brief Parse an address string. Syntax errors and unsupported protocols
 *  fail with HG_INVALID_ARG / HG_PROTONOSUPPORT; this does not connect. */
hg_return_t margo_addr_lookup(margo_instance_id mid, const char* name, hg_addr_t* addr);
hg_return_t margo_addr_dup(margo_instance_id mid, hg_addr_t addr, hg_addr_t* new_addr);
hg_return_t margo_addr_free(margo_instance_id mid, hg_addr_t addr);
bool        margo_addr_cmp(margo_instance_id mid, hg_addr_t a, hg_addr_t b);
/**
 * @brief Stringify an address. On input *buf_size is the size of buf; on
 * output it is strlen+1. If buf is NULL or too small, HG_OVERFLOW is
 * returned (buf untouched when NULL) and *buf_size tells the size needed.
 */
hg_return_t margo_addr_to_string(margo_instance_id mid, char* buf,
                                 hg_size_t* buf_size, hg_addr_t addr);

/** @brief Margo's handler pool (an opaque, non-NULL token here). */
hg_return_t margo_get_handler_pool(margo_instance_id mid, ABT_pool* pool);

/** @brief Sleep the calling thread; handlers and timers keep running. */
void margo_thread_sleep(margo_instance_id mid, double timeout_ms);

/** @brief Wall-clock seconds (Margo's margo_get_wtime; monotonic here). */
double margo_get_wtime(void);

/* ------------------------------------------------------------------ */
/* Provider identities and finalize callbacks                          */
/* ------------------------------------------------------------------ */

/** HG_EXIST if provider_id already has an identity in this instance. */
hg_return_t margo_provider_register_identity(margo_instance_id mid,
                                             uint16_t provider_id,
                                             const char* identity);
hg_return_t margo_provider_deregister_identity(margo_instance_id mid,
                                               uint16_t provider_id);
/** Local lookup; NULL if none. The string lives until deregistration. */
const char* margo_provider_registered_identity(margo_instance_id mid,
                                               uint16_t provider_id);
/**
 * @brief Ask a (possibly remote) instance which identity serves provider_id.
 * buffer/bufsize follow the margo_addr_to_string contract. HG_NOENTRY if
 * the remote has no identity for that provider id.
 */
hg_return_t margo_provider_get_identity(margo_instance_id mid, hg_addr_t address,
                                        uint16_t provider_id, char* buffer,
                                        size_t* bufsize);

typedef void (*margo_finalize_callback_t)(void*);
/* Finalize callbacks run in LIFO order inside margo_finalize while the
 * network is still fully operational (they may send RPCs). */
void margo_push_prefinalize_callback(margo_instance_id mid,
                                     margo_finalize_callback_t cb, void* uargs);
void margo_push_finalize_callback(margo_instance_id mid,
                                  margo_finalize_callback_t cb, void* uargs);
void margo_provider_push_finalize_callback(margo_instance_id mid, const void* owner,
                                           margo_finalize_callback_t cb, void* uargs);
/** Removes (without calling) the most recent callback pushed by owner;
 *  returns 1 if one was removed, 0 otherwise. */
int margo_provider_pop_finalize_callback(margo_instance_id mid, const void* owner);

/* ------------------------------------------------------------------ */
/* Timers (Margo names)                                                */
/* ------------------------------------------------------------------ */

typedef struct margo_timer* margo_timer_t;
typedef void (*margo_timer_callback_fn)(void*);
#define MARGO_TIMER_NULL ((margo_timer_t)NULL)

hg_return_t margo_timer_create(margo_instance_id mid, margo_timer_callback_fn cb,
                               void* uargs, margo_timer_t* timer);
/** One-shot: the callback runs once, timeout_ms from now, on a handler
 *  thread (it may block and forward RPCs). Restarting re-arms. */
hg_return_t margo_timer_start(margo_timer_t timer, double timeout_ms);
/** Cancel: once it returns the callback is not running (it waits for a
 *  running callback unless called from that callback) and will not run
 *  unless restarted. */
hg_return_t margo_timer_cancel(margo_timer_t timer);
/** Cancel + free. May be called from the timer's own callback (the memory is
 *  released when the callback returns). */
hg_return_t margo_timer_destroy(margo_timer_t timer);

/* ------------------------------------------------------------------ */
/* Logging                                                              */
/* ------------------------------------------------------------------ */

typedef enum margo_log_level {
    MARGO_LOG_EXTERNAL = 0,
    MARGO_LOG_TRACE,
    MARGO_LOG_DEBUG,
    MARGO_LOG_INFO,
    MARGO_LOG_WARNING,
    MARGO_LOG_ERROR,
    MARGO_LOG_CRITICAL
} margo_log_level;

/** @brief Set the instance's level (MARGO_INSTANCE_NULL: the global default
 *  used by new instances and by logging without an instance). 0 on success,
 *  -1 on a bad level. */
int  margo_set_log_level(margo_instance_id mid, margo_log_level level);
int  margo_set_global_log_level(margo_log_level level);
void margo_trace(margo_instance_id mid, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void margo_debug(margo_instance_id mid, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void margo_info(margo_instance_id mid, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void margo_warning(margo_instance_id mid, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void margo_error(margo_instance_id mid, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void margo_critical(margo_instance_id mid, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#include <frt.h>

#endif /* FLOCK_MARGO_H */
