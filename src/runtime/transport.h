/*
 * transport.h -- the two stream transports (na+sm: abstract Unix sockets,
 * transport-unix.c; tcp/ofi+tcp over IPv4 or IPv6, transport-tcp.c) behind
 * one const ops table, and the socket helpers they share (transport.c).
 *
 * A transport has no state of its own: an endpoint is a socket fd that the
 * instance owns, and nothing needs an init or fini. Every slot may be
 * called from any thread with no runtime lock held; none takes one.
 * Sockets are created CLOEXEC; connected sockets are left blocking with a
 * receive timeout of FRT__CALLER_SLICE_MS (only a caller waiting for its
 * response blocks in recv; every other I/O passes MSG_DONTWAIT).
 * Calls: util.c (logging, clocks). Called by instance.c (listen), conn.c
 * (dial) and loop.c (accepted sockets).
 */
#ifndef FLOCK_FRT_TRANSPORT_H
#define FLOCK_FRT_TRANSPORT_H

#include "frt-internal.h"

#include <sys/socket.h>

#define FRT__CALLER_SLICE_MS 5 /* a waiting caller's blocking read slice (conn-read.c) */

typedef struct frt__transport {
    const char* name; /* "na+sm", "tcp" */

    /**
     * Open the instance's endpoint for spec (a listen form of this
     * transport): socket, bind, and listen() when server; write the self
     * address peers will use into self. n is the instance's number in this
     * process. Blocks on a name lookup (tcp host names) only.
     * @return the socket fd, or -1 (the reason is logged at the global
     * level; nothing is left open).
     */
    int (*listen)(const frt__addr_spec* spec, unsigned long n, bool server, char* self,
                  size_t self_size);

    /**
     * Connect to the peer spec (a peer form of this transport) within
     * timeout_ms, blocking the calling thread (name lookup, connect, and
     * for na+sm retries while the peer's backlog is full). The socket comes
     * back set up as sockopts does. Logs through log (may be NULL).
     * @return the connected fd, or -1 (unreachable, timed out, no fd).
     */
    int (*dial)(const frt__addr_spec* spec, double timeout_ms, const frt__log_ctx* log);

    /**
     * Set up a connected socket (accepted or dialed): blocking with the
     * caller's receive slice; tcp adds TCP_NODELAY. Never blocks.
     * @return false if the socket cannot be set up (the caller closes it).
     */
    bool (*sockopts)(int fd);

    /** Close an endpoint opened by listen. Safe with -1 (after a failed
     *  listen, or twice once the caller stored -1). Never blocks. */
    void (*close)(int fd);
} frt__transport;

extern const frt__transport frt__transport_unix;
extern const frt__transport frt__transport_tcp;

/** The transport of an address kind (never NULL for a parsed spec). */
const frt__transport* frt__transport_of(frt__addr_kind kind);

/* ---- shared by the transports (transport.c) ---- */

/** Blocking mode and the receive slice on a connected socket. */
bool frt__sock_connected(int fd);

/** socket() + connect() to ss before the absolute deadline end (ms,
 *  frt_now_ms clock), then setup(fd) (the transport's sockopts);
 *  retry_full: retry while the listen backlog is full (EAGAIN, Unix
 *  sockets). @return the connected, set-up fd or -1. */
int frt__sock_dial(const struct sockaddr_storage* ss, socklen_t sl, double end, bool retry_full,
                   bool (*setup)(int fd));

/** listen() on fd when server; on failure log, close fd. @return fd or -1. */
int frt__sock_listen(int fd, bool server);

/** close(fd) if fd >= 0. */
void frt__sock_close(int fd);

#endif /* FLOCK_FRT_TRANSPORT_H */
