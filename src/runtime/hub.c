/*
 * hub.c -- the process's pool threads. A handler pool (pool.c) owns no
 * thread: when it needs one (queued work finds no idle worker, the loop
 * needs a leader) it asks the hub (frt__hub_give), and a thread that
 * leaves a pool comes back here to wait for the next pool that needs one.
 * So the instances of a process share their threads: a thread's cost (its
 * stack, glibc's per-thread caches of freed memory, measured at tens of
 * KiB) is paid per thread busy at once, not per instance; an idle instance
 * whose loop is parked (pool.c "Parking") holds none.
 *
 * How many at once: at most `cap` threads (twice the online CPUs, at
 * least 4) serve pools at once, not counting those blocked in a runtime
 * wait (frt_wait_begin/end: a forward, a sleep). A job beyond that waits
 * in a FIFO and goes to the next thread that comes back or blocks. Work
 * that runs long or blocks elsewhere (a user lock) cannot starve the
 * queue: the supervisor checks it every FRT__STALL_MS and, if no job
 * started since its last look, starts one anyway (frt__hub_stall_check).
 * Without the bound, 128 instances woken at once (aligned timers) made
 * 100 threads, and their stacks and caches stayed resident.
 *
 * Owns: the hub (its threads, the idle list, the count of started pools,
 * the threads that exited and wait to be joined).
 * Calls: pool.c (frt__pool_serve: run as one pool's worker until that pool
 * lets the thread go; no hub lock held meanwhile), supervisor.c
 * (frt__sup_wake, to have the queue watched). Called by pool.c and by the
 * supervisor (frt__hub_stall_check).
 *
 * Lock order: sup.m -> pool.m -> hub.m (frt__hub_give runs with the asking
 * pool's lock held; hub.m is held by nobody who takes another lock).
 * Lifetime: a thread idle for FRT__POOL_IDLE_S exits; whoever passes by
 * next joins it. When the last pool stops, every thread exits and the
 * thread that stopped it joins them (itself excepted, if it is one of
 * them: it leaves detached), so a process with no instance has no thread
 * here. A child of fork() starts with an empty hub: the parent's threads
 * are not there.
 */
#define _GNU_SOURCE
#include "frt-core.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct frt__hthread {
    pthread_t            tid;
    pthread_cond_t       cv;
    frt__worker*         job;   /* hub.m: the pool worker to become next */
    bool                 idle;  /* hub.m: on hub.idle */
    bool                 quit;  /* hub.m: exit when back (the last pool stopped) */
    bool                 detach; /* hub.m: exit detached (nobody will join it) */
    struct frt__hthread* next;  /* hub.threads, then hub.dead */
    struct frt__hthread* inext; /* hub.idle */
} frt__hthread;

static struct {
    pthread_mutex_t m;
    pthread_cond_t  cv;      /* a thread exited (frt__hub_leave waits for it) */
    frt__hthread*   threads; /* live threads */
    frt__hthread*   idle;    /* waiting for a job, the last one back first */
    frt__hthread*   dead;    /* exited, to be joined */
    frt__worker *   qhead, *qtail; /* jobs waiting for a thread (FIFO, hub_next) */
    _Atomic int     nqueued;       /* their number (read without hub.m as a hint) */
    int             nactive;       /* threads serving a pool */
    _Atomic int     nblocked;      /* of those, in a runtime wait */
    int             cap;           /* most threads serving and not blocked */
    uint64_t        nstarted, stall_seen; /* jobs started; at the last stall check */
    frt__worker*    stall_head;    /* the queue's head at the last stall check */
    _Atomic int     npools;        /* started pools */
} hub = {.m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static __thread frt__hthread* frt__hub_self; /* this thread's entry, if a hub thread */
static void frt__hub_run_queue(frt__hthread* self, bool force);

/* fork(): hold hub.m across it; the child forgets the parent's threads. */
static void frt__hub_fork_prepare(void) { pthread_mutex_lock(&hub.m); }
static void frt__hub_fork_parent(void) { pthread_mutex_unlock(&hub.m); }
static void frt__hub_fork_child(void)
{
    frt__hthread* lists[2] = {hub.threads, hub.dead};
    for (int i = 0; i < 2; i++)
        while (lists[i]) {
            frt__hthread* t = lists[i];
            lists[i]        = t->next;
            if (t != frt__hub_self) free(t);
        }
    hub.threads = hub.dead = NULL;
    frt__hub_self = NULL; /* the forking thread's entry: its pool is the parent's */
    hub.idle      = NULL;
    hub.qhead = hub.qtail = hub.stall_head = NULL;
    atomic_store(&hub.nqueued, 0);
    atomic_store(&hub.nblocked, 0);
    hub.nactive = 0;
    atomic_store(&hub.npools, 0);
    pthread_mutex_unlock(&hub.m);
}
static pthread_once_t frt__hub_once = PTHREAD_ONCE_INIT;
static void           frt__hub_atfork(void)
{
    (void)pthread_atfork(frt__hub_fork_prepare, frt__hub_fork_parent,
                         frt__hub_fork_child);
}

/* hub.m held: unlink t from the list at *pp. */
static void frt__hub_unlink(frt__hthread** pp, frt__hthread* t, bool idle_list)
{
    for (; *pp; pp = idle_list ? &(*pp)->inext : &(*pp)->next)
        if (*pp == t) {
            *pp = idle_list ? t->inext : t->next;
            return;
        }
}

/* Join the threads that exited (hub.m held on entry and return; dropped
 * meanwhile). */
static void frt__hub_join_dead(void)
{
    while (hub.dead) {
        frt__hthread* t = hub.dead;
        hub.dead        = t->next;
        pthread_mutex_unlock(&hub.m);
        pthread_join(t->tid, NULL);
        pthread_cond_destroy(&t->cv);
        free(t);
        pthread_mutex_lock(&hub.m);
    }
}

/* Idle (hub.m held): wait on the idle list for a job, FRT__POOL_IDLE_S at
 * most. @return false: time to exit. */
static bool frt__hub_wait(frt__hthread* t)
{
    frt__hub_join_dead();
    if (t->job) return true;
    if (t->quit) return false;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += FRT__POOL_IDLE_S;
    t->idle  = true;
    t->inext = hub.idle;
    hub.idle = t;
    int rc   = 0;
    while (t->idle && !t->quit && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&t->cv, &hub.m, &ts);
    if (t->idle) { /* not taken: timed out or told to quit */
        frt__hub_unlink(&hub.idle, t, true);
        t->idle = false;
    }
    return t->job != NULL || (!t->quit && rc != ETIMEDOUT);
}

static void* frt__hub_main(void* arg)
{
    frt__hthread* t = arg;
    frt__hub_self   = t;
    pthread_mutex_lock(&hub.m);
    for (;;) {
        if (t->job) {
            frt__worker* w = t->job;
            t->job         = NULL;
            pthread_mutex_unlock(&hub.m);
            frt__pool_serve(w);
            pthread_mutex_lock(&hub.m);
            hub.nactive--;
            frt__hub_run_queue(t, false); /* its slot is free: the next job */
            continue;
        }
        if (!frt__hub_wait(t)) break;
    }
    frt__hub_unlink(&hub.threads, t, false);
    if (t->detach) {
        pthread_detach(pthread_self());
        pthread_cond_destroy(&t->cv);
        free(t);
    } else {
        t->next  = hub.dead;
        hub.dead = t;
    }
    frt__hub_self = NULL;
    pthread_cond_broadcast(&hub.cv);
    pthread_mutex_unlock(&hub.m);
    return NULL;
}

/* hub.m held: a new thread that starts as worker w. */
static bool frt__hub_spawn(frt__worker* w)
{
    frt__hthread* t = calloc(1, sizeof *t);
    if (!t) return false;
    pthread_cond_init(&t->cv, NULL);
    t->job = w;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 4u << 20);
    int rc = pthread_create(&t->tid, &attr, frt__hub_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_cond_destroy(&t->cv);
        free(t);
        return false;
    }
    t->next     = hub.threads;
    hub.threads = t;
    return true;
}

/* hub.m held: may one more thread serve a pool now? */
static bool frt__hub_room(void)
{
    return hub.nactive - atomic_load(&hub.nblocked) < hub.cap;
}

/* hub.m held: start job w on a thread: the idle one that came back last
 * (its caches are warm), else a new one. */
static bool frt__hub_start(frt__worker* w)
{
    frt__hthread* t = hub.idle;
    if (t) {
        hub.idle = t->inext;
        t->idle  = false;
        t->job   = w;
        pthread_cond_signal(&t->cv);
    } else if (!frt__hub_spawn(w)) {
        return false;
    }
    hub.nactive++;
    hub.nstarted++;
    return true;
}

/* hub.m held: start queued jobs while there is room (force: one even
 * without room); self (if not NULL, free and not quitting: the last
 * pool's finalize waits for it) takes the first itself. */
static void frt__hub_run_queue(frt__hthread* self, bool force)
{
    while (hub.qhead && (force || frt__hub_room())) {
        frt__worker* w = hub.qhead;
        if (self && !self->job && !self->quit) { /* a quitting one takes none */
            self->job = w;
            hub.nactive++;
            hub.nstarted++;
        } else if (!frt__hub_start(w)) {
            return; /* no thread: the next stall check retries */
        }
        hub.qhead = w->hub_next;
        if (!hub.qhead) hub.qtail = NULL;
        atomic_fetch_sub(&hub.nqueued, 1);
        force = false;
    }
}

/* A thread for worker w of a started pool (that pool's lock held): now if
 * there is room, else when one comes back or blocks (the supervisor
 * watches the queue). @return false: no thread could be started. */
bool frt__hub_give(frt__worker* w)
{
    pthread_mutex_lock(&hub.m);
    bool ok = true, queued = false;
    if (!hub.qhead && frt__hub_room()) {
        ok = frt__hub_start(w);
    } else {
        w->hub_next = NULL;
        if (hub.qtail)
            hub.qtail->hub_next = w;
        else
            hub.qhead = w;
        hub.qtail = w;
        atomic_fetch_add(&hub.nqueued, 1);
        queued = true;
    }
    pthread_mutex_unlock(&hub.m);
    if (queued) frt__sup_wake();
    return ok;
}

void frt__hub_block(bool on)
{
    if (!on) {
        atomic_fetch_sub(&hub.nblocked, 1);
        return;
    }
    atomic_fetch_add(&hub.nblocked, 1);
    if (atomic_load(&hub.nqueued) == 0) return;
    pthread_mutex_lock(&hub.m);
    frt__hub_run_queue(NULL, false);
    pthread_mutex_unlock(&hub.m);
}

bool frt__hub_stall_check(void)
{
    if (atomic_load(&hub.nqueued) == 0) return false;
    pthread_mutex_lock(&hub.m);
    /* stalled: the same job at the head a whole period, none started */
    bool stalled   = hub.qhead == hub.stall_head && hub.nstarted == hub.stall_seen;
    frt__hub_run_queue(NULL, stalled);
    hub.stall_seen = hub.nstarted;
    hub.stall_head = hub.qhead;
    bool more      = hub.qhead != NULL;
    pthread_mutex_unlock(&hub.m);
    return more;
}

/* A pool starts (before it asks for a thread). */
void frt__hub_enter(void)
{
    pthread_once(&frt__hub_once, frt__hub_atfork);
    pthread_mutex_lock(&hub.m);
    if (hub.cap == 0) hub.cap = 2 * frt__cpu_target();
    pthread_mutex_unlock(&hub.m);
    atomic_fetch_add(&hub.npools, 1);
}

/* Whether other pools share the hub (a parked loop's thread can serve them). */
bool frt__hub_shared(void) { return atomic_load(&hub.npools) > 1; }

/* A pool stopped (every worker of it left, the caller excepted). The last
 * one has every thread exit and joins them; the caller, if it is one of
 * them, exits detached when it comes back. */
void frt__hub_leave(void)
{
    pthread_mutex_lock(&hub.m);
    if (atomic_fetch_sub(&hub.npools, 1) == 1) {
        for (frt__hthread* t = hub.threads; t; t = t->next) {
            t->quit = true; /* and no longer given to a pool started since */
            if (t->idle) frt__hub_unlink(&hub.idle, t, true);
            t->idle = false;
            if (t == frt__hub_self) t->detach = true;
            pthread_cond_signal(&t->cv);
        }
        for (;;) {
            bool left = false;
            for (frt__hthread* t = hub.threads; t && !left; t = t->next)
                left = t->quit && !t->detach;
            if (!left) break;
            pthread_cond_wait(&hub.cv, &hub.m);
        }
    }
    frt__hub_join_dead();
    pthread_mutex_unlock(&hub.m);
}
