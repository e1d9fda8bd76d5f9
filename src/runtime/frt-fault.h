/*
 * frt-fault.h -- the fault-injection seam of the transport (internal).
 *
 * Off by default. When enabled (frt_fault_set, or the FRT_FAULTS
 * environment variable read by margo_init), every outgoing REQUEST,
 * RESPONSE and ERROR frame on a socket connection goes through
 * frt__fault_send, which may drop it, send it twice, hold it back behind
 * the next frame to the same peer (reorder), or send it after a random
 * delay -- with per-peer probabilities. HELLO frames and in-process calls
 * are never touched. Faults are applied by the sender, on whole frames, so
 * the byte stream stays well-formed (what a lossy, reordering datagram
 * network would do to messages, on top of a stream transport).
 *
 * The seam knows nothing about connections or instances: conn-write.c passes opaque conn
 * pointers and an ops table to reference and write them.
 */
#ifndef FLOCK_FRT_FAULT_H
#define FLOCK_FRT_FAULT_H

#include <sys/uio.h>

#include "frt-internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the seam reaches a connection (implemented by conn-write.c). */
typedef struct frt__fault_conn_ops {
    /** Write a whole frame now (same contract as conn-write.c's frt__conn_send). */
    hg_return_t (*send)(void* conn, struct iovec* iov, int cnt);
    void (*ref)(void* conn);   /**< take a reference (frame held for later) */
    void (*unref)(void* conn); /**< drop it */
} frt__fault_conn_ops;

typedef struct frt__fault frt__fault;

/**
 * Create the (disabled) seam of an instance, then apply FRT_FAULTS /
 * FRT_FAULT_SEED if set (a malformed FRT_FAULTS is logged through log and
 * ignored; log is only used during the call).
 * @return NULL on allocation failure (the instance then runs without it).
 */
frt__fault* frt__fault_new(const frt__log_ctx* log, const frt__fault_conn_ops* ops);

/** Stop the delay thread, drop held frames (unref their conns), free.
 *  Call once no thread can send any more (after the handler pool is joined). */
void frt__fault_free(frt__fault* f);

/** true if any rule is set (cheap; may be called without locks). */
bool frt__fault_enabled(const frt__fault* f);

/**
 * Send one frame through the seam. `peer_key` is the connection's
 * canonical peer key (frt__addr_key form) or its peer address.
 * @return what ops->send returned for the frame, HG_SUCCESS when the frame
 *         was dropped, delayed or held (the caller cannot tell: like a
 *         network, a lost frame is only noticed through a timeout).
 */
hg_return_t frt__fault_send(frt__fault* f, void* conn, const char* peer_key, struct iovec* iov,
                            int cnt);

/** Set (spec) or remove (NULL) the rule for peer ("*" or NULL: every peer).
 *  @return HG_SUCCESS; HG_NOMEM (f NULL, or allocation); HG_INVALID_ARG. */
hg_return_t frt__fault_set(frt__fault* f, const char* peer, const frt_fault_spec* spec);
/** Remove every rule. @return HG_SUCCESS; HG_INVALID_ARG (f NULL). */
hg_return_t frt__fault_clear(frt__fault* f);
/** Reseed the generator. @return HG_SUCCESS; HG_INVALID_ARG (f NULL). */
hg_return_t frt__fault_seed(frt__fault* f, uint64_t seed);
/** Copy the counters. @return HG_SUCCESS; HG_INVALID_ARG (f or stats NULL). */
hg_return_t frt__fault_get_stats(frt__fault* f, frt_fault_stats* stats);

/**
 * Parse a fault specification list (the FRT_FAULTS grammar, see frt.h):
 * calls apply(ctx, peer or NULL, spec) for each rule. Pure.
 * @return NULL if valid, else a static string naming the problem.
 */
const char* frt__fault_parse(const char* text,
                             void (*apply)(void* ctx, const char* peer,
                                           const frt_fault_spec* spec),
                             void* ctx);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_FRT_FAULT_H */
