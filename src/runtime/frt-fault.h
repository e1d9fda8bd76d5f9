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
 * The seam knows nothing about connections: core.c passes opaque conn
 * pointers and an ops table to reference and write them.
 */
#ifndef FLOCK_FRT_FAULT_H
#define FLOCK_FRT_FAULT_H

#include <sys/uio.h>

#include "frt-internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the seam reaches a connection (implemented by core.c). */
typedef struct frt__fault_conn_ops {
    /** Write a whole frame now (same contract as core.c's frt__conn_send). */
    hg_return_t (*send)(void* conn, struct iovec* iov, int cnt);
    void (*ref)(void* conn);   /**< take a reference (frame held for later) */
    void (*unref)(void* conn); /**< drop it */
} frt__fault_conn_ops;

typedef struct frt__fault frt__fault;

/**
 * Create the (disabled) seam of an instance, then apply FRT_FAULTS /
 * FRT_FAULT_SEED if set (a malformed FRT_FAULTS is logged and ignored).
 * @return NULL on allocation failure (the instance then runs without it).
 */
frt__fault* frt__fault_new(margo_instance_id mid, const frt__fault_conn_ops* ops);

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

/** The instance's seam (core.c). NULL if it could not be created. */
frt__fault* frt__instance_fault(margo_instance_id mid);

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
