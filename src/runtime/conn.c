/*
 * conn.c -- connections: creation and refs, the instance's list and key
 * table, closing (failing the calls pending on it), connecting to a peer
 * (one connect per key, the keyed dialer's wait for the peer's hello), and
 * the teardown of every connection of an instance.
 *
 * Owns: frt__conn (refs, fd, state, in_table, key, peer, next, dialer,
 * hello_seen, used_ms, bye_sent, bye_recv), the instance's conns list
 * (inst->lock), the peer-closed watchers (frt_peer_watch; inst->peer_lock,
 * a leaf lock), reaping and the closing of idle connections (the bye).
 * Calls: transport.h (dial), conn-write.c (frt__send_hello), conn-read.c
 * (frt__debt_take), call.c (frt__calls_take_locked, frt__calls_fail),
 * conn-write.c (frt__send_frame: the bye).
 * Called by loop.c (accept, close), call.c (frt__get_conn), instance.c.
 */
#define _GNU_SOURCE
#include "frt-core.h"
#include "transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

frt__conn* frt__conn_new(margo_instance_id mid, int fd)
{
    frt__conn* c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    c->fd    = fd;
    c->inst  = mid;
    c->state = FRT__CS_CONNECTING;
    pthread_mutex_init(&c->wlock, NULL);
    return c;
}

void frt__conn_unref(frt__conn* c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    if (c->fd >= 0) close(c->fd);
    frt__auth_conn_free(c->auth); /* reliability */
    pthread_mutex_destroy(&c->wlock);
    free(c->key);
    free(c->peer);
    free(c->peer_prev);
    frt__outq_free_locked(c);
    frt__conn_input_release(c);
    free(c->body);
    free(c);
}

unsigned long frt__stat_sends(margo_instance_id mid) { return atomic_load(&mid->nsends); }

size_t frt__stat_conns(margo_instance_id mid)
{
    size_t n = 0;
    pthread_mutex_lock(&mid->lock);
    for (frt__conn* c = mid->conns; c; c = c->next) n++;
    pthread_mutex_unlock(&mid->lock);
    return n;
}

size_t frt__stat_outq_bytes(margo_instance_id mid)
{
    size_t n = 0;
    pthread_mutex_lock(&mid->lock);
    for (frt__conn* c = mid->conns; c; c = c->next) {
        pthread_mutex_lock(&c->wlock);
        n += c->outq_cap;
        pthread_mutex_unlock(&c->wlock);
    }
    pthread_mutex_unlock(&mid->lock);
    return n;
}

/* The open or connecting connection in the key table under key, NULL if
 * none (inst->lock held). */
frt__conn* frt__conn_find_locked(margo_instance_id mid, const char* key)
{
    for (frt__conn* k = mid->conns; k; k = k->next)
        if (k->in_table && k->key && strcmp(k->key, key) == 0) return k;
    return NULL;
}

/* Mark c CLOSED and take it off the list and the key table (inst->lock
 * held; the list's ref is the caller's to drop). */
static void frt__conn_unlist_locked(margo_instance_id mid, frt__conn* c)
{
    c->state    = FRT__CS_CLOSED;
    c->in_table = false;
    for (frt__conn** pp = &mid->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
}

/* Register c's socket with the loop, edge-triggered, once (the caller set
 * c->in_armed). @return false if epoll refuses it. */
bool frt__conn_watch(margo_instance_id mid, frt__conn* c)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    return epoll_ctl(mid->epfd, EPOLL_CTL_ADD, c->fd, &ev) == 0;
}

/* What the calls of a closing connection fail with: HG_HOSTUNREACH, or
 * the reason recorded on c (HG_CHECKSUM_ERROR: a side rejected the other's
 * group key or frames). */
hg_return_t frt__conn_fail_ret(frt__conn* c)
{
    int r = atomic_load(&c->fail_ret);
    return r ? (hg_return_t)r : HG_HOSTUNREACH;
}

/**
 * Close a connection: unlist it, fail its pending calls with HG_HOSTUNREACH
 * (or the reason recorded in c->fail_ret),
 * drop the list's ref. Loop thread (or finalize once the loop is stopped).
 */
void frt__conn_close(margo_instance_id mid, frt__conn* c)
{
    pthread_mutex_lock(&mid->lock);
    if (c->state == FRT__CS_CLOSED) {
        pthread_mutex_unlock(&mid->lock);
        return;
    }
    frt__conn_unlist_locked(mid, c);
    frt__call* failed = frt__calls_take_locked(mid, c, false);
    pthread_cond_broadcast(&mid->cv);
    pthread_mutex_unlock(&mid->lock);

    pthread_mutex_lock(&c->wlock);
    c->wclosed = true;
    pthread_mutex_unlock(&c->wlock);
    epoll_ctl(mid->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    shutdown(c->fd, SHUT_RDWR);
    frt__calls_fail(mid, failed, frt__conn_fail_ret(c));
    frt__conn_unref(c);
}

/* ------------------------------------------------------------------ */
/* Peer-closed watchers (frt_peer_watch)                               */
/* ------------------------------------------------------------------ */

struct frt__peer_watch {
    frt_peer_closed_fn fn;
    void*              uargs;
};

hg_return_t frt_peer_watch(margo_instance_id mid, frt_peer_closed_fn fn, void* uargs)
{
    if (!mid || !fn) return HG_INVALID_ARG;
    hg_return_t ret = HG_SUCCESS;
    pthread_mutex_lock(&mid->peer_lock);
    if (mid->npeer_watch == mid->cappeer_watch) {
        size_t                  nc = mid->cappeer_watch ? 2 * mid->cappeer_watch : 4;
        struct frt__peer_watch* nw = realloc(mid->peer_watch, nc * sizeof *nw);
        if (!nw) ret = HG_NOMEM;
        else {
            mid->peer_watch    = nw;
            mid->cappeer_watch = nc;
        }
    }
    if (ret == HG_SUCCESS)
        mid->peer_watch[mid->npeer_watch++] = (struct frt__peer_watch){fn, uargs};
    pthread_mutex_unlock(&mid->peer_lock);
    return ret;
}

hg_return_t frt_peer_unwatch(margo_instance_id mid, frt_peer_closed_fn fn, void* uargs)
{
    if (!mid || !fn) return HG_INVALID_ARG;
    hg_return_t ret = HG_NOENTRY;
    pthread_mutex_lock(&mid->peer_lock);
    for (size_t i = 0; i < mid->npeer_watch; i++) {
        if (mid->peer_watch[i].fn != fn || mid->peer_watch[i].uargs != uargs) continue;
        mid->peer_watch[i] = mid->peer_watch[--mid->npeer_watch];
        ret                = HG_SUCCESS;
        break;
    }
    /* a dispatch that copied the list before may still call it: wait */
    while (mid->peer_busy > 0) pthread_cond_wait(&mid->peer_cv, &mid->peer_lock);
    pthread_mutex_unlock(&mid->peer_lock);
    return ret;
}

void frt__conn_close_by_peer(margo_instance_id mid, frt__conn* c)
{
    char* peer = NULL;
    pthread_mutex_lock(&mid->lock);
    /* after a bye (either way) its end is expected: no news */
    bool tell = c->state == FRT__CS_OPEN && c->peer && !c->bye_sent
                && !atomic_load(&c->bye_recv);
    if (tell) peer = strdup(c->peer);
    pthread_mutex_unlock(&mid->lock);
    frt__conn_close(mid, c); /* c may be gone now */
    if (!peer) return;
    pthread_mutex_lock(&mid->peer_lock);
    size_t                  n = mid->npeer_watch;
    struct frt__peer_watch* v = n ? malloc(n * sizeof *v) : NULL;
    if (v) {
        memcpy(v, mid->peer_watch, n * sizeof *v);
        mid->peer_busy++;
    }
    pthread_mutex_unlock(&mid->peer_lock);
    if (!v) {
        free(peer);
        return;
    }
    for (size_t i = 0; i < n; i++) v[i].fn(v[i].uargs, peer);
    free(v);
    free(peer);
    pthread_mutex_lock(&mid->peer_lock);
    if (--mid->peer_busy == 0) pthread_cond_broadcast(&mid->peer_cv);
    pthread_mutex_unlock(&mid->peer_lock);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */
/* ------------------------------------------------------------------ */

/* The open connection to addr (a new ref in *out, *fresh false), or a new
 * CONNECTING one that claims addr's key (refs: the list's and the
 * caller's; *fresh true); a connect already under way for the key is
 * waited for. @return HG_SUCCESS, HG_CANCELED (finalizing), HG_NOMEM. */
static hg_return_t frt__conn_find_or_claim(margo_instance_id mid, hg_addr_t addr,
                                           frt__conn** out, bool* fresh)
{
    pthread_mutex_lock(&mid->lock);
    for (;;) {
        if (mid->stopping) {
            pthread_mutex_unlock(&mid->lock);
            return HG_CANCELED;
        }
        frt__conn* found = frt__conn_find_locked(mid, addr->key);
        if (!found) break;
        if (found->state == FRT__CS_OPEN) {
            atomic_fetch_add(&found->refs, 1);
            atomic_store_explicit(&found->used_ms, frt_now_ms(), memory_order_relaxed);
            pthread_mutex_unlock(&mid->lock);
            *out   = found;
            *fresh = false;
            return HG_SUCCESS;
        }
        pthread_cond_wait(&mid->cv, &mid->lock); /* CONNECTING: wait */
    }
    frt__conn* c = frt__conn_new(mid, -1);
    if (c) {
        c->key  = strdup(addr->key);
        c->peer = strdup(addr->str);
    }
    if (!c || !c->key || !c->peer) {
        pthread_mutex_unlock(&mid->lock);
        frt__conn_unref(c);
        return HG_NOMEM;
    }
    atomic_fetch_add(&c->refs, 1); /* caller's ref */
    c->dialer = true; /* reliability: auth role */
    c->in_table = true;
    c->next     = mid->conns;
    mid->conns  = c;
    pthread_mutex_unlock(&mid->lock);
    *out   = c;
    *fresh = true;
    return HG_SUCCESS;
}

/* Dial c's peer (blocking, within timeout_ms), send our hello, register the
 * socket with the loop. @return false if the peer cannot be reached. */
static bool frt__conn_dial(margo_instance_id mid, frt__conn* c, const frt__addr_spec* spec,
                           double timeout_ms)
{
    errno  = 0;
    int fd = frt__transport_of(spec->kind)->dial(spec, timeout_ms, &mid->log);
    if (fd < 0) {
        c->dial_errno = errno;
        return false;
    }
    c->fd       = fd;
    c->in_armed = true;
    /* a failed hello shuts the socket down: the loop then closes it.
     * Sent before the socket is watched, so our hello always precedes any
     * reaction to the peer's (reliability: auth rejections name us). */
    (void)frt__send_hello(mid, c);
    return frt__conn_watch(mid, c);
}

/* reliability: with a group key, wait for the peer's (authenticated)
 * hello so that the session keys exist before the first request; a peer
 * that rejects us closes the connection (the loop marks it CLOSED)
 * (inst->lock held). */
static void frt__conn_wait_hello_locked(margo_instance_id mid, frt__conn* c, double timeout_ms)
{
    double end = frt_now_ms() + timeout_ms;
    bool   cut = false;
    while (!c->hello_seen && c->state == FRT__CS_CONNECTING) {
        double left = end - frt_now_ms();
        if (left <= 0 && !cut) {
            shutdown(c->fd, SHUT_RDWR); /* the loop then closes it */
            cut = true;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ns = (long long)ts.tv_nsec + (long long)((left > 0 ? left : 50) * 1e6);
        ts.tv_sec += (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        pthread_cond_timedwait(&mid->cv, &mid->lock, &ts);
    }
}

/* Why a connect failed, as the caller's error: out of file descriptors
 * is HG_AGAIN (nothing is wrong with the peer; the loop sheds idle
 * connections and a retry may succeed), logged as an error at most once a
 * second; anything else is HG_HOSTUNREACH (debug). */
static hg_return_t frt__conn_failure(margo_instance_id mid, hg_addr_t addr, int err)
{
    static _Atomic long last_ms;
    if (err == EMFILE || err == ENFILE) {
        frt__fd_short(mid);
        long now = (long)frt_now_ms(), was = atomic_load(&last_ms);
        if (now - was >= 1000 && atomic_compare_exchange_strong(&last_ms, &was, now))
            frt__log(&mid->log, MARGO_LOG_ERROR,
                     "cannot open a socket to %s: %s (out of file descriptors)", addr->str,
                     strerror(err));
        return HG_AGAIN;
    }
    frt__log(&mid->log, MARGO_LOG_DEBUG, "cannot connect to %s", addr->str);
    return HG_HOSTUNREACH;
}

/**
 * Get an open connection to addr (a new ref for the caller), connecting if
 * needed. Concurrent callers for the same key wait for one connect.
 * @return HG_SUCCESS, HG_HOSTUNREACH, HG_AGAIN (no fd for a socket),
 * HG_CHECKSUM_ERROR (the peer's hello failed authentication: a wrong or
 * missing group key on one side), HG_NOMEM, HG_CANCELED.
 */
hg_return_t frt__get_conn(margo_instance_id mid, hg_addr_t addr, double timeout_ms,
                          frt__conn** out)
{
    frt__conn*  c     = NULL;
    bool        fresh = false;
    hg_return_t ret   = frt__conn_find_or_claim(mid, addr, &c, &fresh);
    if (ret != HG_SUCCESS) return ret;
    if (!fresh) {
        *out = c;
        return HG_SUCCESS;
    }
    double ms = timeout_ms > 0 ? timeout_ms : FRT__CONNECT_DEFAULT_MS;
    bool   ok = frt__conn_dial(mid, c, &addr->spec, ms);
    pthread_mutex_lock(&mid->lock);
    if (ok && frt__auth_active(mid->auth)) frt__conn_wait_hello_locked(mid, c, ms);
    if (ok && c->state == FRT__CS_CONNECTING) {
        c->state = FRT__CS_OPEN;
        atomic_store_explicit(&c->used_ms, frt_now_ms(), memory_order_relaxed);
        pthread_cond_broadcast(&mid->cv);
        pthread_mutex_unlock(&mid->lock);
        *out = c;
        return HG_SUCCESS;
    }
    if (c->state == FRT__CS_CONNECTING) {
        /* failed before the loop could see it: unlist it ourselves */
        frt__conn_unlist_locked(mid, c);
        pthread_cond_broadcast(&mid->cv);
        pthread_mutex_unlock(&mid->lock);
        frt__conn_unref(c); /* list ref */
    } else {
        pthread_mutex_unlock(&mid->lock); /* the loop closed it already */
    }
    int         derr = c->dial_errno;
    hg_return_t why  = frt__conn_fail_ret(c);
    frt__conn_unref(c); /* caller ref */
    if (why != HG_HOSTUNREACH) { /* the peer's hello failed authentication */
        frt__log(&mid->log, MARGO_LOG_DEBUG, "cannot connect to %s: %s", addr->str,
                 HG_Error_to_string(why));
        return why;
    }
    return frt__conn_failure(mid, addr, derr);
}

/* Teardown (threads are gone): close every connection and drop the refs
 * of the cork and debt lists. */
void frt__conns_release(margo_instance_id mid)
{
    while (mid->conns) {
        frt__conn* c = mid->conns;
        mid->conns   = c->next;
        pthread_mutex_lock(&c->wlock);
        c->wclosed = true;
        pthread_mutex_unlock(&c->wlock);
        c->state = FRT__CS_CLOSED;
        shutdown(c->fd, SHUT_RDWR);
        frt__conn_unref(c);
    }
    while (mid->pool.cork) { /* held-back frames of a batch cut short by finalize */
        frt__conn* c    = mid->pool.cork;
        mid->pool.cork  = c->cork_next;
        c->cork_listed  = false;
        frt__conn_unref(c);
    }
    /* every connection is wclosed now: nothing joins the debt list again */
    frt__conn* debt = frt__debt_take(mid);
    while (debt) {
        frt__conn* c = debt;
        debt         = c->debt_next;
        frt__conn_unref(c);
    }
}

/* ------------------------------------------------------------------ */
/* Reaping (hardening: file-descriptor exhaustion, silent peers)      */
/* ------------------------------------------------------------------ */

/* Can c be closed without losing anything of ours: an open connection
 * with no call pending, no output held, nobody reading it and no user but
 * the list (and the debt list)? (inst->lock held.) */
static bool frt__conn_quiet_locked(frt__conn* c)
{
    if (c->state != FRT__CS_OPEN || atomic_load(&c->ncalls) > 0) return false;
    pthread_mutex_lock(&c->wlock);
    bool quiet = !c->wclosed && !c->reader_active && !c->want_out && !c->corked
                 && c->outq_off == c->outq_len && !c->cork_listed
                 && atomic_load(&c->refs) <= 1 + (c->in_debt ? 1 : 0);
    pthread_mutex_unlock(&c->wlock);
    return quiet;
}

/* An accepted connection that can be reaped (inst->lock held). */
static bool frt__conn_idle_locked(frt__conn* c)
{
    return !c->dialer && frt__conn_quiet_locked(c);
}

/* Shedding order: peers that never said hello first, then the longest idle. */
static int frt__shed_cmp(const void* a, const void* b)
{
    const frt__conn* x = *(frt__conn* const*)a;
    const frt__conn* y = *(frt__conn* const*)b;
    if (x->hello_seen != y->hello_seen) return x->hello_seen ? 1 : -1;
    return x->since_ms < y->since_ms ? -1 : x->since_ms > y->since_ms;
}

/* The connections to close (each with a new ref) into a new array; *n
 * their number (inst->lock taken here). See frt__conns_reap. */
static frt__conn** frt__reap_pick(margo_instance_id mid, bool shed, double now, size_t* n)
{
    size_t      cap = 0, got = 0, late = 0;
    frt__conn** v   = NULL;
    pthread_mutex_lock(&mid->lock);
    for (frt__conn* c = mid->conns; c; c = c->next) cap++;
    v = cap ? malloc(cap * sizeof *v) : NULL;
    for (frt__conn* c = mid->conns; v && c; c = c->next) {
        if (!frt__conn_idle_locked(c)) continue;
        if (!c->hello_seen && now - c->since_ms >= FRT__HELLO_TIMEOUT_MS) {
            if (got != late) v[got] = v[late]; /* keep the silent ones at the front */
            v[late++] = c;
            got++;
        } else if (shed && now - c->since_ms >= FRT__IDLE_SHED_MS) {
            v[got++] = c;
        }
    }
    if (got > late) qsort(v + late, got - late, sizeof *v, frt__shed_cmp);
    if (got > late + FRT__SHED_MAX) got = late + FRT__SHED_MAX;
    for (size_t i = 0; i < got; i++) atomic_fetch_add(&v[i]->refs, 1);
    pthread_mutex_unlock(&mid->lock);
    *n = got;
    return v;
}

int frt__conns_reap(margo_instance_id mid, bool shed)
{
    size_t      n = 0;
    frt__conn** v = frt__reap_pick(mid, shed, frt_now_ms(), &n);
    for (size_t i = 0; i < n; i++) {
        frt__log(&mid->log, MARGO_LOG_DEBUG, "closing %s connection from %s",
                 v[i]->hello_seen ? "an idle" : "a silent",
                 v[i]->peer ? v[i]->peer : "(no hello)");
        frt__conn_close(mid, v[i]);
        frt__loop_hold(mid, v[i]); /* shed inside a batch (accept): see frt__loop_hold */
    }
    free(v);
    return (int)n;
}

/* ------------------------------------------------------------------ */
/* Idle connections (the bye)                                          */
/* ------------------------------------------------------------------ */

/*
 * A connection costs both sides memory (the connection, its socket) for
 * as long as it is open. A server instance's dialer closes one that
 * carried nothing for idle_close_ms (FRT_IDLE_CLOSE_MS), politely:
 *  1. the dialer, with nothing of its own on it (frt__conn_quiet_locked),
 *     takes it out of the key table (its next call to the peer dials
 *     afresh) and sends a bye frame; it keeps reading and answering;
 *  2. the peer takes it out of its table too, and closes it as soon as
 *     nothing of its own is on it (a call of its own that crossed the bye
 *     is answered first);
 *  3. the dialer sees the end and closes its side.
 * Neither side tells its peer watchers (frt_peer_watch): an end after a
 * bye is no news, while an end without one still is (a crash hint). Only
 * the dialer says bye, so byes never cross. A peer that does not close
 * within FRT__BYE_LINGER_MS of quiet is closed by the dialer.
 */

static double frt__conn_last_ms(const frt__conn* c)
{
    double used = atomic_load_explicit(&c->used_ms, memory_order_relaxed);
    return used > c->since_ms ? used : c->since_ms;
}

/* What the loop does with c now (inst->lock held): 0 nothing, 1 say bye,
 * 2 close it. */
static int frt__idle_action_locked(margo_instance_id mid, frt__conn* c, double now)
{
    if (atomic_load(&c->bye_recv)) return frt__conn_quiet_locked(c) ? 2 : 0;
    if (!c->dialer || mid->idle_close_ms <= 0) return 0;
    double idle = now - frt__conn_last_ms(c);
    if (c->bye_sent) return idle >= FRT__BYE_LINGER_MS && frt__conn_quiet_locked(c) ? 2 : 0;
    return idle >= mid->idle_close_ms && frt__conn_quiet_locked(c) ? 1 : 0;
}

void frt__conns_idle(margo_instance_id mid)
{
    double      now = frt_now_ms();
    size_t      cap = 0, got = 0;
    frt__conn** v   = NULL;
    int*        act = NULL;
    pthread_mutex_lock(&mid->lock);
    for (frt__conn* c = mid->conns; c; c = c->next) cap++;
    v   = cap ? malloc(cap * sizeof *v) : NULL;
    act = cap ? malloc(cap * sizeof *act) : NULL;
    for (frt__conn* c = mid->conns; v && act && c; c = c->next) {
        int a = frt__idle_action_locked(mid, c, now);
        if (!a) continue;
        if (a == 1) { /* no new call finds it; what is on its way is answered */
            c->in_table = false;
            c->bye_sent = true;
        }
        atomic_fetch_add(&c->refs, 1);
        v[got]     = c;
        act[got++] = a;
    }
    pthread_mutex_unlock(&mid->lock);
    for (size_t i = 0; i < got; i++) {
        if (act[i] == 1) {
            frt__hdr h = {.type = FRT__T_BYE};
            frt__log(&mid->log, MARGO_LOG_DEBUG, "closing the idle connection to %s",
                     frt__conn_peer(v[i]));
            (void)frt__send_frame(v[i], &h, NULL, NULL); /* a failure ends it anyway */
        } else {
            frt__conn_close(mid, v[i]);
        }
        frt__conn_unref(v[i]);
    }
    free(v);
    free(act);
}

void frt__conn_bye_check(margo_instance_id mid, frt__conn* c)
{
    pthread_mutex_lock(&mid->lock);
    bool close_now = frt__conn_quiet_locked(c);
    if (close_now) atomic_fetch_add(&c->refs, 1);
    pthread_mutex_unlock(&mid->lock);
    if (!close_now) return;
    frt__conn_close(mid, c);
    frt__conn_unref(c);
}
