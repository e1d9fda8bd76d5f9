/*
 * loop.c -- the progress loop run by the current leader (one pool thread at
 * a time, see pool.c): wait in epoll until the next deadline, then handle
 * each event (accept, pay the read debts, wake-ups, a connection's output
 * and input), then expire due calls and timers. Also the loop's fds.
 *
 * Owns: the instance's epfd, evfd, debt_fd, park_fd, listen_fd (closing),
 * spare_fd, the read scratch (on the leader's stack), held (connections
 * closed during a batch), loop_stop, and the event
 * tags.
 * Calls: conn.c (accept, close), conn-read.c (reads, reader token, debts),
 * conn-write.c (flush, hello), call.c and timer.c (expiry), transport.h
 * (accepted sockets). Called by pool.c (frt__lead), instance.c (init,
 * teardown) and whoever must wake the loop (frt__wake_loop).
 */
#define _GNU_SOURCE
#include "frt-core.h"
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static char frt__tag_listen, frt__tag_event, frt__tag_debt, frt__tag_maint, frt__tag_park;
frt__work   frt__lazy_marker; /* frt__lead: "run the queue inline" */
frt__work   frt__park_marker; /* frt__lead: "idle: park the loop" */

void frt__wake_loop(margo_instance_id mid)
{
    uint64_t one = 1;
    ssize_t  r;
    do {
        r = write(mid->evfd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
}

/* (Re)arm the housekeeping timer to fire in ms (any thread). */
static void frt__maint_arm(margo_instance_id mid, long ms)
{
    struct itimerspec its = {{0, 0}, {ms / 1000, (ms % 1000) * 1000000L}};
    timerfd_settime(mid->maint_fd, 0, &its, NULL);
}

/* A dial found no free fd: have the loop shed idle connections soon. */
void frt__fd_short(margo_instance_id mid)
{
    if (!atomic_exchange(&mid->fd_short, true)) frt__maint_arm(mid, 1);
}

/* Instance setup: the loop's epoll set, wake-up eventfd, read-debt,
 * housekeeping and park timers, with the listen socket watched in server
 * mode.
 * @return false on failure (frt__loop_close then releases what exists). */
bool frt__loop_init(margo_instance_id mid)
{
    mid->debt_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    mid->epfd    = epoll_create1(EPOLL_CLOEXEC);
    mid->evfd    = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    mid->maint_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    mid->park_fd  = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (mid->epfd < 0 || mid->evfd < 0 || mid->debt_fd < 0 || mid->maint_fd < 0 ||
        mid->park_fd < 0)
        return false;
    struct epoll_event pev = {.events = EPOLLIN, .data.ptr = &frt__tag_park};
    if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->park_fd, &pev) != 0) return false;
    struct epoll_event mev = {.events = EPOLLIN, .data.ptr = &frt__tag_maint};
    if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->maint_fd, &mev) != 0) return false;
    if (mid->server) frt__maint_arm(mid, FRT__MAINT_MS); /* clients: on demand (fd_short) */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &frt__tag_event};
    if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->evfd, &ev) != 0) return false;
    struct epoll_event dev = {.events = EPOLLIN, .data.ptr = &frt__tag_debt};
    if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->debt_fd, &dev) != 0) return false;
    if (mid->server) {
        struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &frt__tag_listen};
        if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->listen_fd, &lev) != 0) return false;
    }
    return true;
}

/* A connection closed in the middle of an epoll batch (shed when accept
 * found no fd) may be named by a later event of the same batch: its last
 * ref waits for the batch's end (leader only). */
void frt__loop_hold(margo_instance_id mid, frt__conn* c)
{
    if (mid->nheld == mid->capheld) {
        size_t      nc = mid->capheld ? 2 * mid->capheld : 8;
        frt__conn** nv = realloc(mid->held, nc * sizeof *nv);
        if (!nv) { /* no memory: the batch's later events may not name it */
            frt__conn_unref(c);
            return;
        }
        mid->held    = nv;
        mid->capheld = nc;
    }
    mid->held[mid->nheld++] = c;
}

static void frt__loop_release_held(margo_instance_id mid)
{
    for (size_t i = 0; i < mid->nheld; i++) frt__conn_unref(mid->held[i]);
    mid->nheld = 0;
}

/* Teardown (threads are gone): close the loop's fds and the endpoint.
 * Safe after a failed or partial init. */
void frt__loop_close(margo_instance_id mid)
{
    frt__loop_release_held(mid);
    free(mid->held);
    mid->held    = NULL;
    mid->capheld = 0;
    if (mid->debt_fd >= 0) close(mid->debt_fd);
    if (mid->maint_fd >= 0) close(mid->maint_fd);
    if (mid->park_fd >= 0) close(mid->park_fd);
    mid->maint_fd = mid->park_fd = -1;
    if (mid->tp) mid->tp->close(mid->listen_fd);
    if (mid->epfd >= 0) close(mid->epfd);
    if (mid->evfd >= 0) close(mid->evfd);
    if (mid->spare_fd >= 0) close(mid->spare_fd);
    mid->debt_fd = mid->listen_fd = mid->epfd = mid->evfd = mid->spare_fd = -1;
}

/* Loop: an accepted socket becomes an open connection that sends its
 * hello (closed at once if that fails). */
static void frt__accept_one(margo_instance_id mid, int fd)
{
    frt__conn* c = mid->tp->sockopts(fd) ? frt__conn_new(mid, fd) : NULL;
    if (!c) {
        close(fd);
        return;
    }
    c->state    = FRT__CS_OPEN;
    c->since_ms = frt_now_ms();
    pthread_mutex_lock(&mid->lock);
    c->next    = mid->conns;
    mid->conns = c;
    pthread_mutex_unlock(&mid->lock);
    c->in_armed = true;
    if (!frt__conn_watch(mid, c) || frt__send_hello(mid, c) != HG_SUCCESS)
        frt__conn_close(mid, c);
}

/* Loop: one log line per FRT__FD_REPORT_MS about running out of fds (a
 * flood of connections must not flood the log). */
static void frt__fd_report(margo_instance_id mid, int err)
{
    double now = frt_now_ms();
    if (mid->fd_report_at > 0 && now - mid->fd_report_at < FRT__FD_REPORT_MS) return;
    frt__log(&mid->log, MARGO_LOG_ERROR,
             "accept: %s: out of file descriptors; %lu connection(s) refused and %lu idle "
             "one(s) closed since the last report (at most one report per %.0f s)",
             strerror(err), mid->fd_refused, mid->fd_shed, FRT__FD_REPORT_MS / 1e3);
    mid->fd_report_at = now;
    mid->fd_refused = mid->fd_shed = 0;
}

/* Loop: take listen_fd out of (paused) or back into the epoll set. */
static void frt__accept_pause(margo_instance_id mid, bool pause)
{
    struct epoll_event lev = {.events = pause ? 0 : EPOLLIN, .data.ptr = &frt__tag_listen};
    mid->accept_paused     = pause;
    epoll_ctl(mid->epfd, EPOLL_CTL_MOD, mid->listen_fd, &lev);
    frt__maint_arm(mid, pause ? FRT__ACCEPT_PAUSE_MS : FRT__MAINT_MS);
}

/* Loop: accept failed with EMFILE/ENFILE. Shed idle connections (the
 * peers reconnect when they need us); with nothing to shed, refuse one
 * pending connection through the spare fd and stop accepting for
 * FRT__ACCEPT_PAUSE_MS: accept() keeps failing while no fd is free, even
 * with an empty queue, so retrying at once would spin.
 * @return true to try accept() again now. */
static bool frt__accept_starved(margo_instance_id mid, int err)
{
    int shed = frt__conns_reap(mid, true);
    mid->fd_shed += (unsigned long)shed;
    frt__fd_report(mid, err);
    if (shed > 0) return true;
    if (mid->spare_fd >= 0) {
        close(mid->spare_fd);
        int drop = accept4(mid->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (drop >= 0) {
            close(drop);
            mid->fd_refused++;
        }
        mid->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    frt__accept_pause(mid, true);
    return false;
}

/* Loop: accept the pending connections (at most 256 per event, so that a
 * flood cannot keep the loop from everything else). */
static void frt__accept_all(margo_instance_id mid)
{
    for (int i = 0; i < 256; i++) {
        int fd = accept4(mid->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            frt__accept_one(mid, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            if (frt__accept_starved(mid, errno)) continue;
            return;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            frt__log(&mid->log, MARGO_LOG_ERROR, "accept: %s", strerror(errno));
        return;
    }
}

/* Loop: the housekeeping timer fired: resume accepting after a pause,
 * reap silent connections, shed idle ones if a dial found no fd, say bye
 * on idle ones we dialed and close those the peer said bye on. */
static void frt__maint(margo_instance_id mid)
{
    uint64_t ticks;
    (void)!read(mid->maint_fd, &ticks, sizeof ticks);
    bool short_fd = atomic_exchange(&mid->fd_short, false);
    mid->fd_shed += (unsigned long)frt__conns_reap(mid, short_fd);
    frt__conns_idle(mid);
    if (mid->accept_paused && mid->server)
        frt__accept_pause(mid, false); /* level-triggered: pending ones show up at once */
    else if (mid->server)
        frt__maint_arm(mid, FRT__MAINT_MS);
}

/* Loop: the debt timer fired; re-arm every connection nobody reads. */
static void frt__pay_debts(margo_instance_id mid)
{
    uint64_t ticks;
    (void)!read(mid->debt_fd, &ticks, sizeof ticks);
    frt__conn* list = frt__debt_take(mid);
    while (list) {
        frt__conn* c = list;
        list         = c->debt_next; /* read before in_debt is cleared */
        pthread_mutex_lock(&c->wlock);
        c->in_debt = false;
        frt__conn_arm_unread_locked(c);
        pthread_mutex_unlock(&c->wlock);
        frt__conn_unref(c);
    }
}

/* Loop: expire due heap nodes: calls fail with HG_TIMEOUT, timers run. */
static void frt__expire(margo_instance_id mid)
{
    frt__call* expired = NULL;
    double     now     = frt_now_ms();
    pthread_mutex_lock(&mid->lock);
    while (mid->heap_len > 0 && mid->heap[0]->deadline <= now) {
        frt__hnode* n = mid->heap[0];
        frt__heap_remove(mid, n);
        if (n->kind == FRT__HK_CALL) {
            frt__call* k = FRT__CONTAINER(n, frt__call, node);
            frt__call* t = frt__call_take(mid, k->id, k->conn);
            if (t) {
                t->hnext = expired;
                expired  = t;
            }
            continue;
        }
        frt__timer_due_locked(mid, n, now);
    }
    pthread_mutex_unlock(&mid->lock);
    frt__calls_fail(mid, expired, HG_TIMEOUT);
}

/* How long epoll may sleep: until the heap's first deadline (-1: no
 * deadline); records when the leader wakes by itself (loop_wake_at, see
 * frt__heap_push). */
static int frt__loop_timeout(margo_instance_id mid)
{
    int timeout = -1;
    pthread_mutex_lock(&mid->lock);
    mid->loop_wake_at = HUGE_VAL;
    if (mid->heap_len > 0) {
        double now = frt_now_ms();
        double d   = mid->heap[0]->deadline - now;
        if (d <= 0)
            timeout = 0;
        else if (d > 3600e3)
            timeout = 3600000;
        else
            timeout = (int)d + 1;
        mid->loop_wake_at = now + timeout;
    }
    pthread_mutex_unlock(&mid->lock);
    return timeout;
}

/* One epoll event: accept, pay the debts, drain the wake-up, or a
 * connection's output (flush) and input (read into rbuf unless a caller
 * holds its reader token; closed on EOF, error or bad input). */
static void frt__loop_event(margo_instance_id mid, const struct epoll_event* ev,
                            uint8_t* rbuf, frt__work** inl, bool* maint)
{
    void* tag = ev->data.ptr;
    if (tag == &frt__tag_listen) {
        frt__accept_all(mid);
    } else if (tag == &frt__tag_debt) {
        frt__pay_debts(mid);
    } else if (tag == &frt__tag_maint) {
        *maint = true; /* after the batch: it closes connections the batch may name */
    } else if (tag == &frt__tag_event) {
        uint64_t v;
        while (read(mid->evfd, &v, sizeof v) < 0 && errno == EINTR) {}
    } else if (tag == &frt__tag_park) {
        uint64_t v; /* the parked loop's deadline came: frt__expire runs it */
        while (read(mid->park_fd, &v, sizeof v) < 0 && errno == EINTR) {}
    } else {
        frt__conn* c = tag;
        if (ev->events & EPOLLOUT) frt__conn_flush(c);
        uint32_t hup = ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
        if ((ev->events & EPOLLIN || hup) && frt__reader_acquire(c, false)) {
            c->since_ms = frt_now_ms(); /* reaping: last input */
            int r = frt__conn_read_some(mid, c, rbuf, FRT__READ_CHUNK, inl, false,
                                        hup != 0);
            if (r < 0) {
                frt__conn_close_by_peer(mid, c); /* c may be gone now */
                return;
            }
            frt__reader_release(c, false, r > 0);
            if (atomic_load(&c->bye_recv)) frt__conn_bye_check(mid, c); /* c may be gone */
        }
    }
}

/* The loop parks (idle): arm park_fd for the deadline the leader would
 * have woken at (loop_wake_at, kept by frt__loop_timeout: a timer queued
 * earlier wakes the loop through evfd), or disarm it if there is none. */
static void frt__park_arm(margo_instance_id mid)
{
    pthread_mutex_lock(&mid->lock);
    double at = mid->loop_wake_at;
    pthread_mutex_unlock(&mid->lock);
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (at != HUGE_VAL) {
        double ms = at > 1 ? at : 1; /* 0 would disarm */
        its.it_value.tv_sec  = (time_t)(ms / 1e3);
        its.it_value.tv_nsec = (long)((ms - (double)its.it_value.tv_sec * 1e3) * 1e6);
    }
    timerfd_settime(mid->park_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * The progress loop, run by the current leader (one pool thread at a time,
 * see pool.c). Returns when the loop stops (NULL) or after a batch that
 * produced work: the leader then hands leadership to another thread and
 * runs that work itself (the request, or &frt__lazy_marker: the lazy
 * list), so a request costs no thread hop before its handler starts.
 * With park_ms >= 0 it also returns &frt__park_marker once nothing happened
 * for park_ms and nothing is due sooner: the loop's fds wait in the
 * supervisor's set (park_fd armed for the next deadline) and this thread
 * is free for other instances (pool.c "Parking").
 */
frt__work* frt__lead(margo_instance_id mid, int park_ms)
{
    /* the read scratch lives on the leader's stack: instances that share
     * threads share it, and only the pages a read fills become resident */
    uint8_t            rbuf[FRT__READ_CHUNK];
    struct epoll_event evs[64];
    frt__work*         inl = NULL;
    while (!atomic_load(&mid->loop_stop)) {
        int  timeout = frt__loop_timeout(mid);
        bool may_park = park_ms >= 0 && (timeout < 0 || timeout > park_ms);
        int  n        = epoll_wait(mid->epfd, evs, 64, may_park ? park_ms : timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            frt__log(&mid->log, MARGO_LOG_CRITICAL, "epoll_wait: %s", strerror(errno));
            break;
        }
        if (n == 0 && may_park) {
            frt__park_arm(mid);
            return &frt__park_marker;
        }
        frt__tls.lazy  = mid; /* work the batch produces: the lazy list */
        frt__tls.nlazy = 0;
        bool maint = false;
        for (int i = 0; i < n; i++) frt__loop_event(mid, &evs[i], rbuf, &inl, &maint);
        if (maint) frt__maint(mid);
        frt__loop_release_held(mid); /* no event of the batch is left to name them */
        frt__expire(mid);
        frt__tls.lazy = NULL;
        if (inl) return inl;
        if (frt__tls.nlazy > 0) return &frt__lazy_marker;
    }
    return NULL;
}
