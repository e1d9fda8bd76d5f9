/*
 * conn-write.c -- the write side of a connection: whole frames sent from any
 * thread, the output queue the loop flushes on EPOLLOUT, write coalescing
 * (frames of a batch held back and sent in one sendmsg), and the frame
 * senders (hello, error, any frame through auth and the fault seam).
 *
 * Owns: the write-side fields of frt__conn (wlock: wclosed, want_out,
 * corked, outq*), the pool's cork list (pool.m), the instance's nsends.
 * Calls: conn.c (frt__conn_unref), auth.c, fault.c, codec.c (header
 * encoding). Called by loop.c (flush), pool.c / instance.c (uncork),
 * call.c (requests, responses), rpc.c (errors), conn.c (hello).
 */
#define _GNU_SOURCE
#include "frt-core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void frt__iov_advance(struct iovec** iov, int* cnt, size_t n)
{
    while (*cnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (*cnt > 0 && n) {
        (*iov)->iov_base = (char*)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

/*
 * Write coalescing. A thread running a batch of work items (the requests
 * or completions one read brought, see frt__worker_main) has cork_ok set
 * while more items of the batch follow the current one. Frames it sends
 * then are held back in the connection's outq (up to FRT__CORK_MAX bytes)
 * and go out together, in one sendmsg, with the next frame sent without
 * cork_ok -- typically the batch's last response -- or when the batch
 * ends, its thread is about to block, or another thread takes the loop over
 * (frt__uncork_all). So 16 responses cost one system call, not 16, and a
 * frame is held back at most until the batch's thread finishes the next
 * item or loses the loop (FRT__HANDOFF_NS).
 */
#define FRT__CORK_MAX ((size_t)64 * 1024)
#define FRT__OUTQ_KEEP ((size_t)0) /* output buffer kept once drained: none (memory per member) */

static void frt__conn_cork_locked(frt__conn* c)
{
    if (c->corked) return;
    c->corked    = true;
    frt__pool* p = &c->inst->pool;
    pthread_mutex_lock(&p->m);
    if (!c->cork_listed) {
        c->cork_listed = true;
        atomic_fetch_add(&c->refs, 1);
        c->cork_next = p->cork;
        p->cork      = c;
    }
    pthread_mutex_unlock(&p->m);
}

/* c's output queue is empty (wlock held): reset it and give its buffer
 * back (an idle connection holds no output buffer; a malloc per batch
 * costs far less than the system calls coalescing saves). */
static void frt__outq_drained(frt__conn* c)
{
    c->outq_off = c->outq_len = 0;
    c->corked                 = false;
    if (c->outq_cap > FRT__OUTQ_KEEP) frt__outq_free_locked(c);
}

void frt__outq_free_locked(frt__conn* c)
{
    if (c->outq_cap) atomic_fetch_sub(&c->inst->out_bytes, c->outq_cap);
    free(c->outq);
    c->outq     = NULL;
    c->outq_cap = 0;
    c->outq_off = c->outq_len = 0;
}

/* c's peer does not read what we send (its queue would pass the
 * per-connection cap) or the instance's output budget is spent: cut it
 * (wlock held). Logged once per connection; later sends fail quietly
 * with HG_HOSTUNREACH and the loop closes it on the hang-up. */
static void frt__conn_cut_locked(frt__conn* c, const char* why)
{
    if (!c->cut)
        frt__log(&c->inst->log, MARGO_LOG_WARNING, "closing connection to %s: %s",
                 c->peer ? c->peer : "(no hello yet)", why);
    c->cut    = true;
    c->corked = false;
    frt__outq_free_locked(c);
    shutdown(c->fd, SHUT_RDWR);
}

/* sendmsg *iov on c until all of it is sent or the socket is full (wlock
 * held); *iov / *cnt are advanced past what went out. @return the bytes
 * sent, -1 on a socket error (the socket is then shut down: the loop
 * closes the connection and fails its calls). */
static ssize_t frt__sendv_locked(frt__conn* c, struct iovec** iov, int* cnt)
{
    size_t sent = 0;
    while (*cnt > 0) {
        struct msghdr msg = {0};
        msg.msg_iov       = *iov;
        msg.msg_iovlen    = (size_t)*cnt;
        ssize_t n         = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        atomic_fetch_add_explicit(&c->inst->nsends, 1, memory_order_relaxed);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            shutdown(c->fd, SHUT_RDWR);
            return -1;
        }
        sent += (size_t)n;
        frt__iov_advance(iov, cnt, (size_t)n);
    }
    return (ssize_t)sent;
}

/* Append iov to c's output queue (wlock held), growing it within the
 * instance's output budget. false: over budget or out of memory. */
static bool frt__outq_append(frt__conn* c, const struct iovec* iov, int cnt, size_t rest)
{
    if (c->outq_len + rest > c->outq_cap) {
        if (c->outq_off > 0) {
            memmove(c->outq, c->outq + c->outq_off, c->outq_len - c->outq_off);
            c->outq_len -= c->outq_off;
            c->outq_off = 0;
        }
        if (c->outq_len + rest > c->outq_cap) {
            /* doubling, from 1 KiB: held-back frames are usually small */
            size_t cap = c->outq_cap ? c->outq_cap * 2 : 1024;
            if (cap < c->outq_len + rest) cap = c->outq_len + rest;
            size_t was = atomic_fetch_add(&c->inst->out_bytes, cap - c->outq_cap);
            if (was + (cap - c->outq_cap) > c->inst->out_max) {
                atomic_fetch_sub(&c->inst->out_bytes, cap - c->outq_cap);
                return false;
            }
            uint8_t* q = realloc(c->outq, cap);
            if (!q) {
                atomic_fetch_sub(&c->inst->out_bytes, cap - c->outq_cap);
                return false;
            }
            c->outq     = q;
            c->outq_cap = cap;
        }
    }
    for (int i = 0; i < cnt; i++) {
        memcpy(c->outq + c->outq_len, iov[i].iov_base, iov[i].iov_len);
        c->outq_len += iov[i].iov_len;
    }
    return true;
}

/**
 * Send a whole frame (iov) on c from any thread. Writes directly when the
 * queue is empty; what does not fit is queued and flushed by the loop;
 * inside a batch, frames may be held back (see above).
 * On a socket error the connection is shut down (the loop then closes it
 * and fails its calls). @return HG_SUCCESS, HG_HOSTUNREACH, HG_NOMEM.
 */
static hg_return_t frt__conn_send(frt__conn* c, struct iovec* iov, int cnt)
{
    hg_return_t  ret = HG_SUCCESS;
    struct iovec all[8];
    size_t       rest = 0;
    for (int i = 0; i < cnt; i++) rest += iov[i].iov_len;
    pthread_mutex_lock(&c->wlock);
    if (c->wclosed || c->cut) {
        ret = HG_HOSTUNREACH;
        goto finish;
    }
    size_t held = c->outq_len - c->outq_off;
    if (frt__tls.cork_ok && atomic_load(&c->inst->pool.cork_seq) == frt__tls.cork_seq
        && !c->want_out && held + rest <= FRT__CORK_MAX) {
        if (!frt__outq_append(c, iov, cnt, rest)) {
            frt__conn_cut_locked(c, "over the output budget");
            ret = HG_NOMEM;
            goto finish;
        }
        frt__conn_cork_locked(c);
        goto finish;
    }
    if (c->corked && !c->want_out && cnt < 8) {
        /* frames held back go out first, in the same system call */
        c->corked = false;
        all[0]    = (struct iovec){c->outq + c->outq_off, held};
        memcpy(all + 1, iov, (size_t)cnt * sizeof *iov);
        struct iovec* v    = all;
        int           vc   = cnt + 1;
        ssize_t       sent = frt__sendv_locked(c, &v, &vc);
        if (sent < 0) {
            ret = HG_HOSTUNREACH;
            goto finish;
        }
        if ((size_t)sent >= held) {
            frt__outq_drained(c);
            iov = v; /* what is left of the new frame */
            cnt = vc;
        } else {
            c->outq_off += (size_t)sent; /* the new frame is still whole */
        }
        if (cnt == 0) goto finish;
    } else if (c->outq_off == c->outq_len) {
        if (frt__sendv_locked(c, &iov, &cnt) < 0) {
            ret = HG_HOSTUNREACH;
            goto finish;
        }
        if (cnt == 0) goto finish;
    }
    /* queue the rest */
    rest = 0;
    for (int i = 0; i < cnt; i++) rest += iov[i].iov_len;
    if (c->outq_len - c->outq_off + rest > FRT__OUTQ_MAX) {
        /* the peer does not read: give up on it rather than grow forever */
        frt__conn_cut_locked(c, "the peer does not read (its unsent output passed the "
                                "per-connection cap)");
        ret = HG_HOSTUNREACH;
        goto finish;
    }
    if (!frt__outq_append(c, iov, cnt, rest)) {
        frt__conn_cut_locked(c, "its unsent output is over the instance's output budget");
        ret = HG_HOSTUNREACH;
        goto finish;
    }
    if (!c->want_out) {
        c->want_out = true;
        frt__conn_ctl_locked(c);
    }
finish:
    pthread_mutex_unlock(&c->wlock);
    return ret;
}

/* Send the output queue until it is empty or the socket is full (wlock). */
static void frt__conn_flush_locked(frt__conn* c)
{
    while (!c->wclosed && c->outq_off < c->outq_len) {
        ssize_t n = send(c->fd, c->outq + c->outq_off, c->outq_len - c->outq_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        atomic_fetch_add_explicit(&c->inst->nsends, 1, memory_order_relaxed);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            shutdown(c->fd, SHUT_RDWR);
            break;
        }
        c->outq_off += (size_t)n;
    }
    if (c->outq_off == c->outq_len) frt__outq_drained(c);
}

/* Loop: flush the output queue on EPOLLOUT. */
void frt__conn_flush(frt__conn* c)
{
    pthread_mutex_lock(&c->wlock);
    frt__conn_flush_locked(c);
    if (c->outq_off == c->outq_len && c->want_out) {
        c->want_out = false;
        frt__conn_ctl_locked(c); /* edge-triggered EPOLLOUT would fire on every read */
    }
    pthread_mutex_unlock(&c->wlock);
}

/* Send what was held back on c (see frt__conn_send). */
static void frt__conn_uncork(frt__conn* c)
{
    pthread_mutex_lock(&c->wlock);
    if (c->corked && !c->want_out && !c->wclosed) {
        frt__conn_flush_locked(c);
        if (c->outq_off < c->outq_len) { /* socket full: the loop sends the rest */
            c->corked   = false;
            c->want_out = true;
            frt__conn_ctl_locked(c);
        }
    }
    pthread_mutex_unlock(&c->wlock);
}

/* Send everything held back on mid's connections (pool.m not held). A
 * connection may be listed again while this runs: each pass detaches
 * the entries it handles under pool.m. */
void frt__uncork_all(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    for (;;) {
        frt__conn* got[32];
        int        n = 0;
        pthread_mutex_lock(&p->m);
        while (p->cork && n < 32) {
            frt__conn* c   = p->cork;
            p->cork        = c->cork_next;
            c->cork_listed = false;
            got[n++]       = c;
        }
        pthread_mutex_unlock(&p->m);
        for (int i = 0; i < n; i++) {
            frt__conn_uncork(got[i]);
            frt__conn_unref(got[i]);
        }
        if (n < 32) return;
    }
}

/* reliability: how the fault-injection seam (fault.c) reaches a connection */
static hg_return_t frt__fault_op_send(void* c, struct iovec* iov, int cnt)
{
    return frt__conn_send(c, iov, cnt);
}
static void frt__fault_op_ref(void* c) { atomic_fetch_add(&((frt__conn*)c)->refs, 1); }
static void frt__fault_op_unref(void* c) { frt__conn_unref(c); }
const frt__fault_conn_ops frt__conn_fault_ops = {frt__fault_op_send, frt__fault_op_ref,
                                                   frt__fault_op_unref};

/* Write a whole encoded frame: through the fault seam if enabled. */
static hg_return_t frt__send_iov(void* conn, uint8_t type, struct iovec* iov, int cnt)
{
    frt__conn* c = conn;
    /* reliability: fault injection (off unless frt_fault_set / FRT_FAULTS) */
    if (type != FRT__T_HELLO && frt__fault_enabled(c->inst->fault))
        return frt__fault_send(c->inst->fault, c, c->key ? c->key : frt__conn_peer(c), iov, cnt);
    return frt__conn_send(c, iov, cnt);
}

hg_return_t frt__send_frame(frt__conn* c, const frt__hdr* h, const void* name,
                                   const void* payload)
{
    /* reliability: with a group key every frame is tagged (auth.c) */
    if (frt__auth_active(c->inst->auth))
        return frt__auth_send(c->inst->auth, &c->auth, c->dialer, h, name, payload,
                              frt__send_iov, c);
    uint8_t      hb[FRT__HDR_LEN];
    struct iovec iov[3];
    int          cnt = 0;
    frt__hdr_encode(h, hb);
    iov[cnt++] = (struct iovec){hb, FRT__HDR_LEN};
    if (h->name_len) iov[cnt++] = (struct iovec){(void*)name, h->name_len};
    if (h->payload_len) iov[cnt++] = (struct iovec){(void*)payload, h->payload_len};
    return frt__send_iov(c, h->type, iov, cnt);
}

hg_return_t frt__send_hello(margo_instance_id mid, frt__conn* c)
{
    frt__hdr h = {0};
    h.type     = FRT__T_HELLO;
    h.name_len = (uint16_t)strlen(mid->self);
    /* never held back: a keyed peer may wait for it before it answers */
    bool cork_ok     = frt__tls.cork_ok;
    frt__tls.cork_ok = false;
    hg_return_t ret  = frt__send_frame(c, &h, mid->self, NULL);
    frt__tls.cork_ok = cork_ok;
    return ret;
}

void frt__send_error(frt__conn* c, uint64_t id, hg_return_t code)
{
    frt__hdr h = {0};
    h.type     = FRT__T_ERROR;
    h.id       = id;
    h.status   = (uint32_t)code;
    (void)frt__send_frame(c, &h, NULL, NULL);
}
