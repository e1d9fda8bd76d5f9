/*
 * supervisor.c -- the process's one supervisor thread: it watches the
 * hand-off timers and the stalled queues of every instance's handler pool,
 * so that no instance keeps a thread of its own asleep for those jobs (an
 * idle instance keeps one thread: its leader).
 *
 * Owns: the process-wide supervisor state (the list of started pools, an
 * epoll set over their standby timerfds, a wake-up eventfd, the thread).
 * Calls: pool.c (frt__pool_standby_fire, frt__pool_stall_check,
 * frt__pool_unpark, with the pool's lock held), hub.c
 * (frt__hub_stall_check), nothing else. Called by
 * pool.c: start / stop of a pool, a pool queue to watch, a loop to park
 * (its epoll set joins this one until its first event).
 *
 * Lock order: sup.m -> pool.m. Nobody holding a pool's lock takes sup.m
 * (frt__sup_wake only writes the eventfd). The thread starts with the
 * first pool and leaves with the last one (joined by the thread that
 * stopped that pool), so a process with no instance has no thread here.
 * Its two fds stay open for the life of the process (a late wake-up must
 * never hit a reused fd). A child of fork() starts with none of it: the
 * parent's fds and list are dropped (atfork), or the two processes would
 * share one epoll set and steal each other's wake-ups.
 */
#define _GNU_SOURCE
#include "frt-core.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define FRT__SUP_WAKE_ID 0u /* epoll data of the eventfd; pools get ids from 1 */
#define FRT__SUP_PARK    ((uint64_t)1 << 63) /* | a pool's id: its parked loop's epfd */
#define FRT__SUP_EVENTS  64

static struct {
    pthread_mutex_t        m;
    pthread_cond_t         cv;   /* a stopping thread was joined */
    struct margo_instance* pools; /* started pools (pool.sup_next) */
    uint64_t               next_id;
    int                    epfd;
    _Atomic int            evfd; /* set once, never closed: written without sup.m */
    bool                   running, stopping;
    pthread_t              tid;
} sup = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 1, -1, -1, false, false, 0};

/* fork(): hold sup.m across it; the child forgets the parent's supervisor
 * (its thread is not there) and closes the inherited fds. */
static void frt__sup_fork_prepare(void) { pthread_mutex_lock(&sup.m); }
static void frt__sup_fork_parent(void) { pthread_mutex_unlock(&sup.m); }
static void frt__sup_fork_child(void)
{
    if (sup.epfd >= 0) close(sup.epfd);
    int evfd = atomic_exchange(&sup.evfd, -1);
    if (evfd >= 0) close(evfd);
    sup.epfd    = -1;
    sup.pools   = NULL;
    sup.running = sup.stopping = false;
    pthread_mutex_unlock(&sup.m);
}
static pthread_once_t frt__sup_once = PTHREAD_ONCE_INIT;
static void           frt__sup_atfork(void)
{
    (void)pthread_atfork(frt__sup_fork_prepare, frt__sup_fork_parent, frt__sup_fork_child);
}

/* sup.m held: the started pool with this id, NULL if it stopped since. */
static margo_instance_id frt__sup_find(uint64_t id)
{
    for (margo_instance_id mid = sup.pools; mid; mid = mid->pool.sup_next)
        if (mid->pool.sup_id == id) return mid;
    return NULL;
}

/* sup.m held: run the stall check of every pool whose queue is watched,
 * and of the hub's queue of jobs waiting for a thread.
 * @return whether any queue is still watched. */
static bool frt__sup_check_stalls(void)
{
    bool any = frt__hub_stall_check();
    for (margo_instance_id mid = sup.pools; mid; mid = mid->pool.sup_next) {
        frt__pool* p = &mid->pool;
        pthread_mutex_lock(&p->m);
        if (atomic_load(&p->sup_watch)) any |= frt__pool_stall_check(mid);
        pthread_mutex_unlock(&p->m);
    }
    return any;
}

static void* frt__sup_main(void* arg)
{
    (void)arg;
    struct epoll_event evs[FRT__SUP_EVENTS];
    bool               watching = true; /* a first look tells */
    double             next_check = frt_now_ms() + FRT__STALL_MS;
    for (;;) {
        int timeout = -1;
        if (watching) {
            double left = next_check - frt_now_ms();
            timeout     = left <= 0 ? 0 : (int)left + 1;
        }
        int n = epoll_wait(sup.epfd, evs, FRT__SUP_EVENTS, timeout);
        pthread_mutex_lock(&sup.m);
        if (sup.stopping) break;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == FRT__SUP_WAKE_ID) {
                uint64_t v;
                (void)!read(sup.evfd, &v, sizeof v);
                if (!watching) next_check = frt_now_ms() + FRT__STALL_MS;
                watching = true; /* a pool has queued work to watch */
                continue;
            }
            uint64_t          id  = evs[i].data.u64;
            margo_instance_id mid = frt__sup_find(id & ~FRT__SUP_PARK);
            if (!mid) continue; /* stopped since the event */
            pthread_mutex_lock(&mid->pool.m);
            if (id & FRT__SUP_PARK)
                frt__pool_unpark(mid);
            else
                frt__pool_standby_fire(mid);
            pthread_mutex_unlock(&mid->pool.m);
        }
        if (watching && frt_now_ms() >= next_check) {
            watching   = frt__sup_check_stalls();
            next_check = frt_now_ms() + FRT__STALL_MS;
        }
        pthread_mutex_unlock(&sup.m);
    }
    pthread_mutex_unlock(&sup.m);
    return NULL;
}

/* sup.m held: the fds and the thread, if not there. */
static bool frt__sup_start_locked(void)
{
    while (sup.stopping) pthread_cond_wait(&sup.cv, &sup.m);
    if (sup.running) return true;
    if (sup.epfd < 0) sup.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sup.evfd < 0) atomic_store(&sup.evfd, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (sup.epfd < 0 || sup.evfd < 0) return false;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = FRT__SUP_WAKE_ID};
    if (epoll_ctl(sup.epfd, EPOLL_CTL_ADD, sup.evfd, &ev) < 0 && errno != EEXIST) return false;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256u << 10);
    int rc = pthread_create(&sup.tid, &attr, frt__sup_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) return false;
    sup.running = true;
    return true;
}

/* Release sup.m; if no pool is left, have the thread leave and join it
 * (the caller holds no pool's lock, so the thread can finish its round). */
static void frt__sup_unlock_or_stop(void)
{
    bool stop = !sup.pools && sup.running && !sup.stopping;
    if (stop) sup.stopping = true;
    pthread_mutex_unlock(&sup.m);
    if (!stop) return;
    frt__sup_wake();
    pthread_join(sup.tid, NULL);
    pthread_mutex_lock(&sup.m);
    sup.running = sup.stopping = false;
    pthread_cond_broadcast(&sup.cv);
    pthread_mutex_unlock(&sup.m);
}

bool frt__sup_add(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    pthread_once(&frt__sup_once, frt__sup_atfork);
    pthread_mutex_lock(&sup.m);
    bool ok = frt__sup_start_locked();
    if (ok) {
        p->sup_id             = sup.next_id++;
        p->sup_epfd           = sup.epfd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = p->sup_id};
        ok = epoll_ctl(sup.epfd, EPOLL_CTL_ADD, p->standby_fd, &ev) == 0;
    }
    if (ok) {
        p->sup_next = sup.pools;
        sup.pools   = mid;
        p->sup_on   = true;
    }
    frt__sup_unlock_or_stop();
    return ok;
}

void frt__sup_remove(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&sup.m);
    if (!p->sup_on) {
        pthread_mutex_unlock(&sup.m);
        return;
    }
    for (margo_instance_id* pp = &sup.pools; *pp; pp = &(*pp)->pool.sup_next)
        if (*pp == mid) {
            *pp = p->sup_next;
            break;
        }
    p->sup_on = false;
    (void)epoll_ctl(sup.epfd, EPOLL_CTL_DEL, p->standby_fd, NULL);
    (void)epoll_ctl(sup.epfd, EPOLL_CTL_DEL, mid->epfd, NULL); /* ENOENT: never parked */
    frt__sup_unlock_or_stop();
}

/* Park mid's idle loop (p->m held; no sup.m: the set is thread-safe and
 * p->sup_epfd stays open while the pool is listed): its epfd joins the
 * set, one-shot, so that its first event unparks it (frt__pool_unpark).
 * An event already pending fires at once. */
bool frt__sup_park(margo_instance_id mid)
{
    frt__pool*         p  = &mid->pool;
    struct epoll_event ev = {.events   = EPOLLIN | EPOLLONESHOT,
                             .data.u64 = p->sup_id | FRT__SUP_PARK};
    int                op = p->park_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(p->sup_epfd, op, mid->epfd, &ev) != 0) return false;
    p->park_added = true;
    return true;
}

void frt__sup_wake(void)
{
    uint64_t one = 1;
    int      fd  = atomic_load(&sup.evfd);
    if (fd >= 0) (void)!write(fd, &one, sizeof one);
}
