/*
 * frt.h -- the native RPC API of the Flock runtime ("frt").
 *
 * <margo.h> provides the Margo names applications use and includes this
 * file. This header is what the Flock libraries, backends and tools use to
 * define and call RPCs. Payloads are plain byte strings; the checked codec
 * below encodes them (little-endian, length-prefixed strings).
 *
 * Threads (details in docs/design.md): each instance has one progress
 * thread (epoll loop: sockets, timers) and an elastic pool of handler
 * threads. RPC handlers, forward completions and timer callbacks run on
 * handler threads, never on the progress thread, so they may block
 * (including on nested RPCs to any address, this instance included).
 */
#ifndef FLOCK_FRT_H
#define FLOCK_FRT_H

#include <margo.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

#define FRT_MAX_ADDR_LEN     127u        /* address strings are < 128 chars */
#define FRT_MAX_RPC_NAME_LEN 63u
#define FRT_MAX_PAYLOAD      (16u << 20) /* 16 MiB per request/response */

/* ------------------------------------------------------------------ */
/* Codec: a growable write buffer and a checked read cursor            */
/* ------------------------------------------------------------------ */

/** Write buffer. Zero-initialised memory is an empty buffer. Any allocation
 *  failure sets `failed`; later puts are no-ops. */
typedef struct frt_wbuf {
    uint8_t* data;
    size_t   len;
    size_t   cap;
    bool     failed;
} frt_wbuf;
#define FRT_WBUF_INIT {NULL, 0, 0, false}

void frt_wbuf_free(frt_wbuf* b); /* frees data, resets to empty */
void frt_put_u8(frt_wbuf* b, uint8_t v);
void frt_put_u16(frt_wbuf* b, uint16_t v);
void frt_put_u32(frt_wbuf* b, uint32_t v);
void frt_put_u64(frt_wbuf* b, uint64_t v);
void frt_put_f64(frt_wbuf* b, double v);
/** u32 length then the bytes (no NUL). NULL is encoded as "". */
void frt_put_str(frt_wbuf* b, const char* s);
void frt_put_bytes(frt_wbuf* b, const void* p, size_t n); /* raw */

/** Read cursor over a byte string it does not own. Every get checks the
 *  remaining length; a short read sets `failed`, returns 0/NULL, and every
 *  later get fails too (sticky). */
typedef struct frt_rbuf {
    const uint8_t* p;
    size_t         left;
    bool           failed;
} frt_rbuf;

void     frt_rbuf_init(frt_rbuf* r, const void* data, size_t len);
uint8_t  frt_get_u8(frt_rbuf* r);
uint16_t frt_get_u16(frt_rbuf* r);
uint32_t frt_get_u32(frt_rbuf* r);
uint64_t frt_get_u64(frt_rbuf* r);
double   frt_get_f64(frt_rbuf* r);
/** A malloc'd NUL-terminated copy of a frt_put_str string. Fails (NULL,
 *  sticky) if truncated, longer than max_len, or containing a NUL byte. */
char*    frt_get_str(frt_rbuf* r, size_t max_len);
/* the n bytes of a string whose length was already read (another length
 * encoding): checked like frt_get_str (<= max_len, no NUL, present) */
char*    frt_get_str_body(frt_rbuf* r, uint64_t n, size_t max_len);
/** Copy n raw bytes into out. */
bool     frt_get_bytes(frt_rbuf* r, void* out, size_t n);
/** true if no read failed. */
static inline bool frt_rbuf_ok(const frt_rbuf* r) { return !r->failed; }
/** true if no read failed and every byte was consumed. */
static inline bool frt_rbuf_done(const frt_rbuf* r) { return !r->failed && r->left == 0; }

/* ------------------------------------------------------------------ */
/* RPCs                                                                */
/* ------------------------------------------------------------------ */

/** An incoming request. Owned by the runtime until frt_respond. */
typedef struct frt_request* frt_request_t;

/**
 * Handler: runs on a handler thread. `in` is valid until frt_respond is
 * called on req. The handler must call frt_respond exactly once, either
 * before returning or later from any thread (deferred response).
 */
typedef void (*frt_handler_fn)(frt_request_t req, const void* in, size_t in_len,
                               void* uargs);

/**
 * @brief Register `name` for `provider_id` on this instance.
 * @return HG_SUCCESS; HG_EXIST if (name, provider_id) is already registered;
 *         HG_INVALID_ARG for a NULL/too long name or NULL handler.
 * Works in client mode too (such handlers are reachable over connections
 * this instance opened, which is how clients receive nothing unsolicited in
 * practice; servers are the normal case). `pool` is accepted and ignored.
 */
hg_return_t frt_rpc_register(margo_instance_id mid, const char* name,
                             uint16_t provider_id, frt_handler_fn handler,
                             void* uargs, ABT_pool pool);

/**
 * @brief Mark (urgent = true) or unmark an RPC registered with
 * frt_rpc_register: its requests are queued ahead of the other queued work
 * of the instance's handler pool, in their order of arrival (the other work
 * keeps its order behind them), and so are the completions of the
 * asynchronous calls this instance makes to an RPC of that name (any
 * provider, any peer) while one of its own is urgent. For short handlers
 * that callers wait on while the pool is busy with bulk traffic (a
 * membership JOIN answered by a member that also serves thousands of
 * probes). A handler that is neither short nor rare must not be urgent: it
 * would delay every other request. Deregistering an RPC drops its mark.
 * @return HG_NOENTRY if not registered; HG_INVALID_ARG for a NULL name.
 */
hg_return_t frt_rpc_set_urgent(margo_instance_id mid, const char* name, uint16_t provider_id,
                               bool urgent);

/**
 * @brief Deregister. After it returns no new invocation of the handler
 * starts, and invocations that were running have returned (except the
 * calling one, when called from the handler itself). Requests that arrive
 * afterwards fail at the caller with HG_NOENTRY.
 * @return HG_NOENTRY if not registered.
 */
hg_return_t frt_rpc_deregister(margo_instance_id mid, const char* name,
                               uint16_t provider_id);

bool frt_rpc_is_registered(margo_instance_id mid, const char* name,
                           uint16_t provider_id);

/** Send the response (bytes are copied) and release req. Exactly once. */
hg_return_t frt_respond(frt_request_t req, const void* out, size_t out_len);
/** Fail the call at the caller with `code` (not HG_SUCCESS) and release req. */
hg_return_t frt_respond_error(frt_request_t req, hg_return_t code);

/** The sender's self address string (what margo_addr_to_string of its
 *  margo_addr_self gives). Valid until frt_respond. */
const char*       frt_request_source(frt_request_t req);
margo_instance_id frt_request_instance(frt_request_t req);
uint16_t          frt_request_provider_id(frt_request_t req);

/** Whether a call's outcome means the peer did not answer at all
 *  (unreachable, refused, timed out, no descriptor left here, bad address),
 *  as opposed to any answer, an error answer included. */
bool frt_no_answer(hg_return_t ret);

/** frt_hash_str in two steps, for a caller that hashes one string with
 *  many seeds: the FNV-1a state of s, then the seed and the finalizer. */
static inline uint64_t frt_hash_str_state(const char* s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char* p = (const unsigned char*)s; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    return h;
}

static inline uint64_t frt_hash_finish(uint64_t h, uint64_t seed)
{
    h ^= seed;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/** The runtime's string hash, for hash tables keyed by a name or an
 *  address: FNV-1a over s, then seed mixed in and MurmurHash3's fmix64
 *  finalizer, so that every input bit reaches every output bit (FNV alone
 *  leaves the high bits nearly blind to the last characters). Not for
 *  anything stored or sent: the function may change between versions. */
static inline uint64_t frt_hash_str(const char* s, uint64_t seed)
{
    return frt_hash_finish(frt_hash_str_state(s), seed);
}

/**
 * @brief Blocking call, from any thread (handler threads included).
 * @param timeout_ms <= 0 means no timeout (the call still fails when the
 *        connection is lost or the instance finalizes).
 * @param out,out_len on HG_SUCCESS, *out is a malloc'd copy of the response
 *        (free() it; NULL when *out_len == 0). out may be NULL to discard.
 * @return HG_SUCCESS; HG_NOENTRY (no such RPC/provider at the target);
 *         HG_TIMEOUT; HG_HOSTUNREACH (refused / connection lost);
 *         HG_INVALID_ARG (bad address or args); HG_MSGSIZE (payload too big);
 *         HG_CANCELED (instance finalizing); the handler's
 *         frt_respond_error code.
 */
hg_return_t frt_forward(margo_instance_id mid, hg_addr_t addr, const char* name,
                        uint16_t provider_id, const void* in, size_t in_len,
                        double timeout_ms, void** out, size_t* out_len);

/** Completion of an asynchronous call: runs exactly once, on a handler
 *  thread, never inside frt_forward_async itself. `out` is valid only
 *  during the callback. */
typedef void (*frt_completion_fn)(void* uargs, hg_return_t ret, const void* out,
                                  size_t out_len);

/** Asynchronous call. On a non-HG_SUCCESS return the callback never runs. */
hg_return_t frt_forward_async(margo_instance_id mid, hg_addr_t addr,
                              const char* name, uint16_t provider_id,
                              const void* in, size_t in_len, double timeout_ms,
                              frt_completion_fn cb, void* uargs);

/* ---- peer events: a connection closed by the peer ---- */

/** A connection with peer_addr (the peer's self address, as its
 *  margo_addr_self string) ended from the peer's side: end of stream or an
 *  error (reset) while reading. Its process may have died, or it merely
 *  closed an idle connection. Runs on the progress loop's thread after the
 *  connection's calls were failed: it must be quick, must not block and
 *  must not call frt_forward*, frt_peer_watch or frt_peer_unwatch. */
typedef void (*frt_peer_closed_fn)(void* uargs, const char* peer_addr);

/** @brief Call fn(uargs, peer) for every connection closed by its peer
 *  from now on. @return HG_SUCCESS, HG_INVALID_ARG, HG_NOMEM. */
hg_return_t frt_peer_watch(margo_instance_id mid, frt_peer_closed_fn fn, void* uargs);
/** @brief Stop it: when this returns, fn(uargs, ...) is not running and
 *  will not run again. @return HG_SUCCESS, HG_NOENTRY (not watching). */
hg_return_t frt_peer_unwatch(margo_instance_id mid, frt_peer_closed_fn fn, void* uargs);

/* ------------------------------------------------------------------ */
/* Timers beyond Margo's one-shot API                                   */
/* ------------------------------------------------------------------ */

/** Periodic: first run after first_ms, then every period_ms measured start
 *  to start (a run is skipped, not queued, if the previous one is still
 *  running). margo_timer_cancel/destroy stop it. */
hg_return_t frt_timer_start_periodic(margo_timer_t timer, double first_ms,
                                     double period_ms);

/* ------------------------------------------------------------------ */
/* Misc                                                                */
/* ------------------------------------------------------------------ */

/** The instance's self address string (lives as long as the instance). */
const char* frt_self_addr_str(margo_instance_id mid);
/** The stable string form of addr (lives as long as addr). */
const char* frt_addr_str(hg_addr_t addr);
/**
 * The canonical text of a peer address, so that one endpoint has one name
 * (hardening, issue #19): "na+sm://<pid>-<n>" (also for "sm://"); for the
 * tcp family "<scheme>://<host>:<port>" (an IPv6 host in its canonical
 * "[...]" form) where the scheme is tcp_scheme if given ("tcp" or
 * "ofi+tcp": the one a group already uses), else "tcp" for tcp and na+tcp
 * and "ofi+tcp" for ofi+tcp and ofi+tcp;ofi_rxm. Two addresses name the
 * same endpoint iff their canonical texts with the same tcp_scheme match.
 * Pure function.
 * @return HG_SUCCESS; HG_INVALID_ARG / HG_PROTONOSUPPORT (not a peer
 * address: out untouched); HG_OVERFLOW (out too small).
 */
hg_return_t frt_addr_canonical(const char* addr, const char* tcp_scheme, char* out,
                               size_t size);
/** Monotonic clock in milliseconds. */
double frt_now_ms(void);

/**
 * Handler threads and waiting. At most as many handler threads as there
 * are CPUs run handlers, completions and timer callbacks at once; a thread
 * blocked in a runtime wait (frt_forward, margo_thread_sleep,
 * margo_wait_for_finalize) does not count, so nested RPCs never wait for a
 * free thread. Code running in a handler, completion or timer callback
 * that waits for something other handlers must produce (e.g. a condition
 * variable signalled by async completions) brackets the wait with
 * frt_wait_begin()/frt_wait_end() so that another thread may start at
 * once; unbracketed waits still make progress, after a stall of ~10 ms.
 * Both are no-ops on threads that are not handler threads; they nest.
 */
void frt_wait_begin(void);
void frt_wait_end(void);

/* ------------------------------------------------------------------ */
/* Fault injection (testing; off by default)                           */
/* ------------------------------------------------------------------ */

/**
 * Faults applied by an instance to the frames it sends to one peer (or to
 * every peer). Each outgoing request/response/error frame on a socket
 * connection draws, in this order: dropped with probability `drop`;
 * otherwise held back and sent right after the next frame to the same
 * peer (or after `reorder_window_ms` if none comes) with probability
 * `reorder`; otherwise delayed by a uniform random time in
 * [delay_min_ms, delay_max_ms] with probability `delay`; and, independently
 * of the delay, sent twice with probability `duplicate`. Connection set-up
 * (hello) frames and calls an instance makes to itself are never faulted.
 * A dropped request or response surfaces as HG_TIMEOUT at the caller
 * (calls without a timeout wait until the connection is lost).
 */
typedef struct frt_fault_spec {
    double drop;      /**< probability in [0,1] */
    double duplicate; /**< probability in [0,1] */
    double reorder;   /**< probability in [0,1] */
    double delay;     /**< probability in [0,1] */
    double delay_min_ms, delay_max_ms; /**< 0 <= min <= max */
    double reorder_window_ms;          /**< <= 0: 50 ms */
} frt_fault_spec;

/**
 * @brief Set (or replace) the faults applied to frames sent to `peer`
 * (an address string; NULL or "*" for every peer without its own rule).
 * spec NULL, or all probabilities 0, removes the rule. The environment
 * variable FRT_FAULTS sets rules on every instance at margo_init, e.g.
 * FRT_FAULTS="drop=0.1,dup=0.05,reorder=0.1,delay=0.3,delay_ms=5-50;peer=tcp://10.0.0.2:4000,drop=1"
 * (rules separated by ';', keys drop, dup, reorder, delay, delay_ms=MIN-MAX,
 * window_ms, peer); FRT_FAULT_SEED=<n> makes the draws reproducible.
 * @return HG_SUCCESS; HG_INVALID_ARG (NULL mid, bad probability/range,
 *         malformed peer address); HG_NOMEM.
 */
hg_return_t frt_fault_set(margo_instance_id mid, const char* peer, const frt_fault_spec* spec);

/** @brief Remove every rule (frames held for a delay are still sent). */
hg_return_t frt_fault_clear(margo_instance_id mid);

/** @brief Seed the instance's fault random generator (reproducible runs). */
hg_return_t frt_fault_seed(margo_instance_id mid, uint64_t seed);

/** Counters of frames that went through the seam since margo_init. */
typedef struct frt_fault_stats {
    uint64_t seen;       /**< frames considered (a rule applied to their peer) */
    uint64_t dropped;
    uint64_t duplicated;
    uint64_t reordered;
    uint64_t delayed;
} frt_fault_stats;

hg_return_t frt_fault_get_stats(margo_instance_id mid, frt_fault_stats* stats);

/* ------------------------------------------------------------------ */
/* Authenticated groups                                                */
/* ------------------------------------------------------------------ */

/**
 * @brief Set the shared group key of an instance (16..1024 bytes, copied).
 * From then on every frame it sends is authenticated (HMAC-SHA256 with
 * per-connection session keys and counters: replayed, reordered or
 * forged frames are rejected) and every frame it receives must be: a peer
 * without the same key cannot call any RPC of this instance nor answer its
 * calls (its connections are closed; each rejected peer is logged once).
 * Set it right after margo_init, before any communication. The key is
 * never logged. The environment variable FRT_AUTH_KEY_FILE=<path> sets it
 * at margo_init (see frt_auth_set_key_file).
 * @return HG_SUCCESS; HG_INVALID_ARG (NULL, bad length); HG_NOMEM.
 */
hg_return_t frt_auth_set_key(margo_instance_id mid, const void* key, size_t key_len);

/** @brief Read the key from a file (trailing newlines/spaces ignored; a
 *  warning is logged if the file is readable by group or others).
 *  @return as frt_auth_set_key; HG_INVALID_ARG if unreadable (logged). */
hg_return_t frt_auth_set_key_file(margo_instance_id mid, const char* path);

/** @brief true if the instance has a group key. */
bool frt_auth_enabled(margo_instance_id mid);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_FRT_H */
