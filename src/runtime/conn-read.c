/*
 * conn-read.c -- the read side of a connection: the reader token (who reads:
 * the loop or a synchronous caller), the read debt (EPOLLIN re-armed late
 * by the loop), the frame parser and the processing of each frame
 * (hello, request, response/error, bye).
 *
 * Owns: the read-side fields of frt__conn (reader_active, in_armed,
 * loop_missed, in_debt, hdr_*, body*, got_hello), the instance's debt list
 * (debt_lock) and its protocol-warning rate limit.
 * Calls: conn.c (refs, key lookup), rpc.c (frt__rpc_dispatch), call.c
 * (frt__call_take, frt__call_finish), auth.c, codec.c. Called by loop.c
 * (reads, debts) and call.c (a caller reading its own response).
 */
#define _GNU_SOURCE
#include "frt-core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

/*
 * Read side of a connection (docs/design.md "Who reads a connection").
 *
 * Connections are registered edge-triggered, once: a loop read costs no
 * epoll_ctl. The reader token (reader_active, under wlock) says which
 * thread reads: the loop, or a synchronous caller waiting for its own
 * response. A caller takes EPOLLIN out of the loop's set while it reads
 * (so its response wakes only the caller), and on release puts it back
 * only when someone else needs the loop to read: another call pending on
 * the connection, or an event the loop saw while the caller held the
 * token. Otherwise the connection goes on inst->debt and the loop re-arms
 * it within FRT__DEBT_NS (a timerfd); a caller that comes back before
 * that finds EPOLLIN already out, so back-to-back calls cost no epoll_ctl.
 * Until the debt is paid, what the peer sends unprompted (a request on a
 * reused connection, EOF) waits at most FRT__DEBT_NS.
 */
#define FRT__DEBT_NS 1000000L
static _Atomic long frt__debt_ns = FRT__DEBT_NS;

void frt__set_read_debt_ns(long ns) { atomic_store(&frt__debt_ns, ns > 0 ? ns : FRT__DEBT_NS); }

/* Take the reader token of c; false if another thread holds it. A caller
 * (disarm) also takes EPOLLIN out of the loop's set; the loop, when it
 * cannot have the token, leaves a note for the holder (loop_missed). */
bool frt__reader_acquire(frt__conn* c, bool disarm)
{
    bool ok = false;
    pthread_mutex_lock(&c->wlock);
    if (!c->reader_active && !c->wclosed) {
        c->reader_active = true;
        ok               = true;
        if (disarm && c->in_armed) {
            c->in_armed = false;
            frt__conn_ctl_locked(c);
        }
    } else if (!disarm) {
        c->loop_missed = true;
    }
    pthread_mutex_unlock(&c->wlock);
    return ok;
}

/* Put c on inst->debt (wlock held): the loop re-arms EPOLLIN soon. */
static void frt__conn_debt_locked(frt__conn* c)
{
    margo_instance_id mid = c->inst;
    if (c->in_debt) return;
    c->in_debt = true;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_lock(&mid->debt_lock);
    bool first   = mid->debt == NULL;
    c->debt_next = mid->debt;
    mid->debt    = c;
    pthread_mutex_unlock(&mid->debt_lock);
    if (first) {
        long              ns  = atomic_load(&frt__debt_ns);
        struct itimerspec its = {{0, 0}, {ns / 1000000000L, ns % 1000000000L}};
        timerfd_settime(mid->debt_fd, 0, &its, NULL);
    }
}

/* Give the token back. The loop (caller = false) always leaves EPOLLIN
 * armed; `more`: data may be left unread (re-arming makes epoll report it
 * again). A caller re-arms only when the loop must read now (see above). */
void frt__reader_release(frt__conn* c, bool caller, bool more)
{
    pthread_mutex_lock(&c->wlock);
    c->reader_active = false;
    if (!c->wclosed) {
        if (!caller || more || c->loop_missed || atomic_load(&c->ncalls) > 0) {
            if (!c->in_armed || more || c->loop_missed) {
                c->in_armed    = true;
                c->loop_missed = false;
                frt__conn_ctl_locked(c);
            }
        } else if (!c->in_armed) {
            frt__conn_debt_locked(c);
        }
    }
    pthread_mutex_unlock(&c->wlock);
}

/* Nobody reads c and EPOLLIN is out: put it back (wlock held). A caller
 * holding the token decides itself when it releases it. */
void frt__conn_arm_unread_locked(frt__conn* c)
{
    if (!c->reader_active && !c->in_armed && !c->wclosed) {
        c->in_armed = true;
        frt__conn_ctl_locked(c);
    }
}

/* An asynchronous call went out on c: make sure someone will read its
 * response (c may be in debt, EPOLLIN out, with nobody reading). */
void frt__conn_need_reader(frt__conn* c)
{
    pthread_mutex_lock(&c->wlock);
    frt__conn_arm_unread_locked(c);
    pthread_mutex_unlock(&c->wlock);
}

/* Detach the whole debt list (each entry holds a ref). */
frt__conn* frt__debt_take(margo_instance_id mid)
{
    pthread_mutex_lock(&mid->debt_lock);
    frt__conn* list = mid->debt;
    mid->debt       = NULL;
    pthread_mutex_unlock(&mid->debt_lock);
    return list;
}

/* Rate-limited warning about a peer's bad input (loop thread). */
void frt__protocol_warning(margo_instance_id mid, frt__conn* c, const char* why)
{
    long now = (long)frt_now_ms();
    long win = atomic_load(&mid->warn_window);
    if (now - win > 1000 && atomic_compare_exchange_strong(&mid->warn_window, &win, now))
        atomic_store(&mid->warn_count, 0);
    if (atomic_fetch_add(&mid->warn_count, 1) < 10)
        frt__log(&mid->log, MARGO_LOG_WARNING, "closing connection from %s: %s",
                 c->peer ? c->peer : "(no hello yet)", why);
}

/* A frame arrived: with a group key (or when the frame claims one) it must
 * be authentic. @return false (the rejection is logged once per peer and
 * body freed): close c. */
static bool frt__frame_authentic(margo_instance_id mid, frt__conn* c, const frt__hdr* h,
                                 uint8_t* body)
{
    /* reliability: authenticated groups -- every frame checked first (auth.c) */
    if (!frt__auth_active(mid->auth) && !(h->flags & FRT__F_AUTH)) return true;
    const char* why = frt__auth_check(mid->auth, &c->auth, c->dialer, c->hdr_buf, h, body);
    if (!why) return true;
    char who[FRT_MAX_ADDR_LEN + 16];
    if (c->peer || h->type != FRT__T_HELLO || !body)
        snprintf(who, sizeof who, "%s", frt__conn_peer(c));
    else
        snprintf(who, sizeof who, "%.*s", (int)strnlen((const char*)body, h->name_len),
                 (const char*)body);
    frt__auth_reject(&mid->log, mid->auth, who, why);
    free(body);
    /* hardening: the calls on c fail with an authentication error, not
     * "connection lost"; a peer whose hello we accepted is told so in a
     * frame it can verify (error, id 0) before we hang up */
    atomic_store(&c->fail_ret, (int)HG_CHECKSUM_ERROR);
    if (c->got_hello && frt__auth_active(mid->auth)) frt__send_error(c, 0, HG_CHECKSUM_ERROR);
    return false;
}

/* Hello: the peer's self address names c, which enters the key table
 * unless another connection has its key. Consumes body. false: close c. */
static bool frt__on_hello(margo_instance_id mid, frt__conn* c, const frt__hdr* h, uint8_t* body)
{
    char           addr[FRT_MAX_ADDR_LEN + 1];
    frt__addr_spec spec;
    if (c->got_hello) {
        free(body);
        frt__protocol_warning(mid, c, "second hello");
        return false;
    }
    memcpy(addr, body, h->name_len);
    addr[h->name_len] = 0;
    free(body);
    if (memchr(addr, 0, h->name_len) || frt__addr_parse(addr, &spec) != HG_SUCCESS
        || !frt__addr_is_peer(&spec)) {
        frt__protocol_warning(mid, c, "hello with a malformed address");
        return false;
    }
    c->got_hello = true;
    pthread_mutex_lock(&mid->lock);
    c->hello_seen = true;              /* reliability: a keyed dialer waits for it */
    pthread_cond_broadcast(&mid->cv);
    /* hardening: one name per endpoint (the source of its requests) */
    char canon[FRT_MAX_ADDR_LEN + 1];
    if (frt_addr_canonical(addr, NULL, canon, sizeof canon) != HG_SUCCESS)
        snprintf(canon, sizeof canon, "%s", addr);
    if (!c->peer || strcmp(c->peer, canon) != 0) {
        char* named = strdup(canon);
        if (named) { /* else it keeps the dialed name */
            c->peer_prev = c->peer; /* hello comes once: peer_prev was NULL */
            c->peer      = named;
        }
    }
    /* an accepted connection (no key yet: a key comes only with a place
     * in the table) enters the table; a dialer's connection has its key
     * from the dial and keeps it after it left the table (it said bye, or
     * it was closed), so it stays out */
    if (!c->key && c->peer) {
        char key[FRT_MAX_ADDR_LEN + 32];
        frt__addr_key(&spec, key, sizeof key);
        if (!frt__conn_find_locked(mid, key) && (c->key = strdup(key)) != NULL)
            c->in_table = true;
    }
    pthread_mutex_unlock(&mid->lock);
    return true;
}

/* Bye: the dialer closes this idle connection (conn.c "Idle connections"):
 * no new call of ours goes on it, and the loop closes it once nothing of
 * ours is on it. Consumes body (an authentication trailer at most). */
static bool frt__on_bye(margo_instance_id mid, frt__conn* c, uint8_t* body)
{
    free(body);
    pthread_mutex_lock(&mid->lock);
    c->in_table = false;
    pthread_mutex_unlock(&mid->lock);
    atomic_store(&c->bye_recv, true);
    return true;
}

/* Response or error: complete the call it answers (a late or unknown
 * response is dropped; an error with id 0 closes c). Consumes body.
 * false: close c. */
static bool frt__on_response(margo_instance_id mid, frt__conn* c, const frt__hdr* h,
                             uint8_t* body)
{
    if (h->id == 0 && h->type == FRT__T_ERROR) {
        /* hardening: no call has id 0; the peer rejected this connection
         * (an authenticated frame: it holds the key) and hangs up */
        free(body);
        frt__log(&mid->log, MARGO_LOG_WARNING, "%s rejected our frames on this connection: %s",
                 frt__conn_peer(c), HG_Error_to_string((hg_return_t)h->status));
        atomic_store(&c->fail_ret, h->status == HG_CHECKSUM_ERROR ? (int)HG_CHECKSUM_ERROR
                                                                  : (int)HG_PROTOCOL_ERROR);
        return false;
    }
    pthread_mutex_lock(&mid->lock);
    frt__call* k = frt__call_take(mid, h->id, c);
    pthread_mutex_unlock(&mid->lock);
    if (!k) {
        free(body);
        frt__log(&mid->log, MARGO_LOG_DEBUG, "late or unknown response %llu from %s",
                 (unsigned long long)h->id, frt__conn_peer(c));
        return true;
    }
    if (h->type == FRT__T_ERROR)
        frt__call_finish(mid, k, (hg_return_t)h->status, body, 0);
    else
        frt__call_finish(mid, k, HG_SUCCESS, body, h->payload_len);
    return true;
}

/* A complete frame arrived on c (body owned by c->body; reader token held).
 * A request's work goes to *inl if inl and *inl is empty (the leader runs
 * it itself), else to the pool. false: close c. */
static bool frt__process_frame(margo_instance_id mid, frt__conn* c, frt__work** inl)
{
    frt__hdr* h    = &c->hdr;
    uint8_t*  body = c->body;
    c->body        = NULL;
    if (!frt__frame_authentic(mid, c, h, body)) return false;
    if (!c->got_hello && h->type != FRT__T_HELLO) {
        free(body);
        frt__protocol_warning(mid, c, "first frame is not a hello");
        return false;
    }
    switch (h->type) {
    case FRT__T_HELLO: return frt__on_hello(mid, c, h, body);
    case FRT__T_REQUEST: return frt__rpc_dispatch(mid, c, h, body, inl);
    case FRT__T_RESPONSE:
    case FRT__T_ERROR: return frt__on_response(mid, c, h, body);
    case FRT__T_BYE: return frt__on_bye(mid, c, body);
    default: free(body); return false; /* unreachable: validated by decode */
    }
}

void frt__conn_input_release(frt__conn* c)
{
    if (c->in_charged) atomic_fetch_sub(&c->inst->in_bytes, c->in_charged);
    c->in_charged = 0;
}

/* A header was decoded on c: admit its frame before buffering any of it.
 * Nothing but a hello may come before the hello (so a peer that has not
 * proven the group key -- the hello is authenticated -- can make us hold
 * no more than a hello), and the body must fit in the instance's input
 * budget (in_max: every connection's partial frames and the requests
 * not yet answered together), charged until the frame is processed, or
 * for a request until it is freed. false: close c (logged, rate-limited). */
static bool frt__frame_admit(margo_instance_id mid, frt__conn* c)
{
    c->body_len = (size_t)c->hdr.name_len + c->hdr.payload_len;
    if (c->hdr.flags & FRT__F_AUTH) /* reliability: auth trailer (auth.c) */
        c->body_len += frt__auth_trailer_len(c->hdr.type);
    c->body_got = 0;
    if (!c->got_hello && c->hdr.type != FRT__T_HELLO) {
        frt__protocol_warning(mid, c, "first frame is not a hello");
        return false;
    }
    size_t was = atomic_fetch_add(&mid->in_bytes, c->body_len);
    c->in_charged = c->body_len;
    if (was + c->body_len > mid->in_max) {
        char why[128];
        snprintf(why, sizeof why, "a %zu-byte frame is over the input budget (%zu of %zu bytes "
                 "in use)", c->body_len, was, mid->in_max);
        frt__conn_input_release(c);
        frt__protocol_warning(mid, c, why);
        return false;
    }
    c->body = c->body_len ? malloc(frt__size_class(c->body_len)) : NULL;
    if (c->body_len && !c->body) {
        frt__protocol_warning(mid, c, "out of memory for a frame");
        return false;
    }
    return true;
}

/* Loop: feed received bytes into c's frame parser. false: close c. */
static bool frt__conn_feed(margo_instance_id mid, frt__conn* c, const uint8_t* p, size_t n,
                          frt__work** inl)
{
    while (n > 0) {
        if (c->hdr_got < FRT__HDR_LEN) {
            size_t k = FRT__HDR_LEN - c->hdr_got;
            if (k > n) k = n;
            memcpy(c->hdr_buf + c->hdr_got, p, k);
            c->hdr_got += k;
            p += k;
            n -= k;
            if (c->hdr_got < FRT__HDR_LEN) return true;
            const char* why = frt__hdr_decode(c->hdr_buf, &c->hdr);
            if (why) {
                frt__protocol_warning(mid, c, why);
                return false;
            }
            if (!frt__frame_admit(mid, c)) return false;
        }
        size_t k = c->body_len - c->body_got;
        if (k > n) k = n;
        if (k) {
            memcpy(c->body + c->body_got, p, k);
            c->body_got += k;
            p += k;
            n -= k;
        }
        if (c->body_got == c->body_len) {
            c->hdr_got = 0;
            /* a request takes its charge along until it is freed (rpc.c);
             * any other frame gives it back once processed */
            bool ok = frt__process_frame(mid, c, inl);
            frt__conn_input_release(c);
            if (!ok) return false;
        }
    }
    return true;
}

/* Read what is available on c into buf and process it (reader token held).
 * With wait, the first recv blocks for at most FRT__CALLER_SLICE_MS (the
 * socket's SO_RCVTIMEO; sockets are blocking, every other I/O on them is
 * MSG_DONTWAIT): one system call where poll + recv would take two.
 * A short read means the socket was drained: edge-triggered epoll reports
 * data that comes later. Not so for a hang-up that came with the data
 * (it is a state, not data): with hup, read on until EOF.
 * @return 1 more may come, 0 nothing more now (or the slice passed), -1 the
 * connection is dead (EOF, error or protocol violation: the caller closes
 * or shuts it down). */
int frt__conn_read_some(margo_instance_id mid, frt__conn* c, uint8_t* buf, size_t size,
                        frt__work** inl, bool wait, bool hup)
{
    for (int round = 0; round < 16; round++) {
        ssize_t n = recv(c->fd, buf, size, wait && round == 0 ? 0 : MSG_DONTWAIT);
        if (n > 0) {
            if (!frt__conn_feed(mid, c, buf, (size_t)n, inl)) return -1;
            if ((size_t)n < size && !hup) return 0;
            continue;
        }
        if (n == 0) {
            if (c->hdr_got || c->body)
                frt__protocol_warning(mid, c, "peer closed in the middle of a frame");
            frt__log(&mid->log, MARGO_LOG_DEBUG, "connection to %s closed by peer", frt__conn_peer(c));
            return -1;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        frt__log(&mid->log, MARGO_LOG_DEBUG, "connection to %s: %s", frt__conn_peer(c), strerror(errno));
        return -1;
    }
    return 1;
}
