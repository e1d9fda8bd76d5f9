/*
 * pool.c -- the elastic handler pool: worker threads and their two roles
 * (leader of the progress loop, worker), the lazy hand-off of a batch and
 * its standby timer, bounded concurrency and its stall check,
 * frt_wait_begin/end.
 *
 * Owns: frt__pool (but its cork list: conn-write.c), frt__worker, the
 * per-thread context frt__tls.
 * Calls: loop.c (frt__lead, frt__wake_loop), conn-write.c
 * (frt__uncork_all), instance.c (frt__inst_unref, for a thread that
 * finalized its instance), supervisor.c (its neighbour: the process's one
 * thread that fires the standby timers and the stall checks of every
 * pool). Called by everything that queues work (frt__pool_submit) or
 * blocks (frt__about_to_block, frt_wait_*).
 */
#define _GNU_SOURCE
#include "frt-core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

__thread frt__tls_t frt__tls;

static frt__work* frt__pool_pop(frt__pool* p, bool lazy_only);
static bool frt__pool_spawn(margo_instance_id mid);
static void frt__pool_unlazy(margo_instance_id mid);
static void frt__pool_watch(margo_instance_id mid);
static void frt__pool_takeover(margo_instance_id mid);
static void frt__pool_park(margo_instance_id mid);

/* Arm the standby timer to fire after ns nanoseconds (0: disarm). */
static void frt__standby_arm(frt__pool* p, long ns)
{
    struct itimerspec its = {{0, 0}, {0, ns}};
    if (p->standby_fd >= 0) timerfd_settime(p->standby_fd, 0, &its, NULL);
}

/* A thread running an inline handler is about to block in the runtime:
 * have another thread take the loop over now instead of after
 * FRT__HANDOFF_NS, and give the rest of its batch threads at once (what
 * it waits for may be there). */
void frt__about_to_block(void)
{
    margo_instance_id mid = frt__tls.vacated;
    if (!mid) return;
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    if (p->vacant && !p->leader && p->inline_seq == frt__tls.vacated_seq) {
        p->handoff_now = true;
        frt__pool_takeover(mid);
        frt__pool_unlazy(mid);
    }
    frt__tls.vacated = NULL;
    frt__tls.cork_ok = false;
    bool held        = p->cork != NULL;
    pthread_mutex_unlock(&p->m);
    if (held) frt__uncork_all(mid); /* what it waits for may answer them */
}

/*
 * Bounded concurrency. The pool grows a thread whenever queued work finds
 * no idle thread, because a handler may block (a nested forward, a sleep)
 * and the work it waits for must still run. But under CPU overload that
 * rule turns a backlog into hundreds of threads fighting for the cores
 * (seen: 200-500 threads per process in a 1024-member SWIM group on 2
 * cores, which made every RPC late and the group collapse). So queued work
 * starts only while fewer than `target` threads (the number of CPUs) are
 * running work items, not counting those blocked in a runtime wait
 * (frt_forward, margo_thread_sleep, margo_wait_for_finalize, or any code
 * between frt_wait_begin/frt_wait_end). A handler that blocks elsewhere
 * (a user lock or condition) is covered by the stall check, which the
 * supervisor thread runs every FRT__STALL_MS while work is queued: if
 * queued work made no progress since the last check and a busy worker is
 * asleep outside the runtime, it allows one more thread.
 */

/* Is this thread of ours asleep (blocked, not runnable)? From its
 * /proc state; unknown counts as asleep so that progress never stops. */
static bool frt__thread_sleeping(pid_t tid)
{
    char path[64];
    char buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", (long)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return true;
    buf[n]        = '\0';
    const char* r = strrchr(buf, ')'); /* the name may contain spaces */
    if (!r || r[1] != ' ' || !r[2]) return true;
    return r[2] != 'R';
}

/* p->m held: put w in the pool queue: at its head if front, else an
 * urgent item after the urgent ones at the head (p->utail: the last of
 * them), else at the tail. */
static void frt__queue_push(frt__pool* p, frt__work* w, bool front)
{
    if (front || (w->urgent && !p->utail)) {
        w->next = p->head;
        p->head = w;
        if (!p->tail) p->tail = w;
        if (w->urgent && !p->utail) p->utail = w;
    } else if (w->urgent) {
        w->next        = p->utail->next;
        p->utail->next = w;
        if (p->tail == p->utail) p->tail = w;
        p->utail = w;
    } else {
        w->next = NULL;
        if (p->tail)
            p->tail->next = w;
        else
            p->head = w;
        p->tail = w;
    }
    p->nqueued++;
}

/* p->m held: may queued work start now? */
static bool frt__pool_room(const frt__pool* p)
{
    return p->stop || p->nrunning - p->nblocked < p->target + p->boost;
}

/* p->m held: have the supervisor check the (non-empty) queue for stalls. */
static void frt__pool_watch(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (atomic_load(&p->sup_watch) || p->stop) return;
    atomic_store(&p->sup_watch, true);
    p->stall_seen = p->nstarted;
    frt__sup_wake();
}

/* p->m held: get a thread to run queued work, if there is room for it. */
static void frt__pool_kick(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (p->nqueued == 0) return;
    /* the supervisor watches every non-empty queue: work queued while
     * there was room may be stranded when the room is gone */
    frt__pool_watch(mid);
    if (!frt__pool_room(p)) return;
    if (p->nidle > 0 || p->nthreads >= p->max) {
        pthread_cond_signal(&p->cv);
    } else if (p->nstarting > 0) {
        return; /* a thread is on its way from the hub: it runs the queue */
    } else if (!frt__pool_spawn(mid)) {
        if (p->nthreads == 0)
            frt__log(&mid->log, MARGO_LOG_CRITICAL, "cannot start any handler thread");
        pthread_cond_signal(&p->cv);
    }
}

/* The supervisor's stall check (p->m held), every FRT__STALL_MS while
 * the queue is watched. @return whether to go on watching it. */
bool frt__pool_stall_check(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (p->nqueued == 0 || p->stop) {
        p->boost = 0; /* the backlog is gone: back to the CPU bound */
        atomic_store(&p->sup_watch, false);
        return false;
    }
    if (p->nstarted == p->stall_seen) {
        /* no queued work started since the last check: allow as many
         * more threads as there are busy workers asleep outside the
         * runtime (a user lock, a sleep); workers computing keep
         * their slot, so CPU-bound handlers do not grow the pool */
        int stuck = 0;
        for (frt__worker* x = p->workers; x; x = x->next) {
            if (!x->busy || x->waiting) continue;
            /* asleep at two checks in a row: not a passing lock wait */
            if (!frt__thread_sleeping(x->os_tid))
                x->asleep = 0;
            else if (x->asleep < 2 && ++x->asleep == 2)
                stuck++;
            else if (x->asleep >= 2)
                stuck++;
        }
        if (stuck > p->boost) p->boost++; /* one per stall: gentle growth */
        frt__pool_kick(mid);
    }
    p->stall_seen = p->nstarted;
    return true;
}

void frt_wait_begin(void)
{
    margo_instance_id mid = frt__tls.pool_inst;
    if (!mid || frt__tls.waiting++ > 0) return;
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    p->nblocked++;
    if (frt__tls.worker) frt__tls.worker->waiting = true;
    frt__pool_kick(mid);
    pthread_mutex_unlock(&p->m);
    if (frt__tls.worker) frt__hub_block(true); /* its slot may serve another pool */
}

void frt_wait_end(void)
{
    margo_instance_id mid = frt__tls.pool_inst;
    if (!mid || frt__tls.waiting == 0 || --frt__tls.waiting > 0) return;
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    p->nblocked--;
    if (frt__tls.worker) frt__tls.worker->waiting = false;
    pthread_mutex_unlock(&p->m);
    if (frt__tls.worker) frt__hub_block(false);
}

/*
 * Pool threads play two roles (pool.m), and the supervisor thread
 * (supervisor.c) watches over them:
 *  - the leader runs the progress loop (frt__lead). When a batch yields a
 *    request, it leaves the loop *lazily*: it records the start of this
 *    inline run and runs the handler itself, then takes the loop back if
 *    nobody did. A handler that blocks in the runtime hands over at once
 *    (frt__about_to_block); one that runs long or blocks elsewhere loses
 *    the loop FRT__HANDOFF_NS after it started. No wake-up and no system
 *    call are needed on the fast path: the standby timer is armed only
 *    when it is not armed already, and stays armed while inline runs
 *    keep coming (one supervisor wake-up per FRT__HANDOFF_NS while busy;
 *    a request after an idle period pays one timerfd_settime).
 *  - the others run queued work (handlers, completions, timer callbacks),
 *    and any of them that finds the loop without a leader takes it.
 *  - when the standby timer fires, the supervisor has a thread take the
 *    loop over (an idle worker, or a new one) if the current inline run is
 *    FRT__HANDOFF_NS old; if a younger run holds it, it re-arms the timer
 *    for that run's due time; if the leader is back, it re-arms it for a
 *    full period if any inline run happened since, else lets it lapse.
 *    An inline run about to block asks for the take-over itself.
 * frt__worker_main shows the roles in order; each phase below runs with
 * p->m held on entry and on return unless it says otherwise.
 */

/* Lead: become the leader, run the progress loop (p->m released meanwhile),
 * step down. @return the first item of the batch for this thread to run
 * inline; NULL if none (the loop stopped, or the batch went to the queue
 * because every CPU is busy). */
static frt__work* frt__worker_lead(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    p->leader    = true;
    /* a new leader: no older inline run holds frames back any more */
    atomic_store(&p->cork_seq, 0);
    bool held = p->cork != NULL;
    if (held) {
        pthread_mutex_unlock(&p->m);
        frt__uncork_all(mid);
        pthread_mutex_lock(&p->m);
    }
    /* queued work may have woken (or started) this thread: make
     * sure someone else runs it */
    frt__pool_kick(mid);
    /* the rest of the batch of an inline thread that lost the loop
     * (blocked, or ran FRT__HANDOFF_NS) goes to the pool queue */
    frt__pool_unlazy(mid);
    p->vacant      = false; /* the standby timer lapses by itself */
    p->handoff_now = false;
    p->takeover    = false;
    int park_ms = p->min == 1 && frt__hub_shared() ? mid->park_ms : -1;
    pthread_mutex_unlock(&p->m);
    frt__work* w = frt__lead(mid, park_ms);
    pthread_mutex_lock(&p->m);
    p->leader = false;
    /* finalize waits for the leader to leave (frt__pool_stop): tell it,
     * whether the loop stopped or a batch came first (not on every batch:
     * idle workers wait on the same condition) */
    if (!w || w == &frt__park_marker || atomic_load(&mid->loop_stop))
        pthread_cond_broadcast(&p->cv);
    if (w == &frt__park_marker) {
        frt__pool_park(mid);
        return NULL;
    }
    if (!w) return NULL;
    if (w == &frt__lazy_marker && !(w = frt__pool_pop(p, true))) return NULL; /* moved */
    if (!frt__pool_room(p)) {
        /* every CPU is busy: the batch waits its turn in the
         * queue and this thread goes on leading */
        frt__queue_push(p, w, false);
        frt__pool_unlazy(mid);
        frt__pool_kick(mid); /* the supervisor watches for a stall */
        return NULL;
    }
    return w;
}

/*
 * Parking. A loop idle for park_ms (FRT_PARK_MS) in a process whose hub
 * serves other pools too is parked: its epoll set waits in the
 * supervisor's (one-shot), with park_fd armed for its next deadline, and
 * its thread goes back to the hub. The first event there (input, a
 * wake-up, a deadline) unparks it: a thread from the hub takes the loop
 * over. A pool with rpc_thread_count > 1 keeps its threads: it never
 * parks.
 */

/* p->m held: the leader found the loop idle: park it. If the supervisor
 * cannot watch it, the loop stays led and never parks again (no retry on
 * every idle moment). */
static void frt__pool_park(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (atomic_load(&mid->loop_stop)) return;
    p->parked = frt__sup_park(mid);
    if (!p->parked) {
        mid->park_ms = -1; /* read under p->m (frt__worker_lead) */
        frt__log(&mid->log, MARGO_LOG_WARNING,
                 "cannot park the idle loop (epoll_ctl: %s): it keeps its thread",
                 strerror(errno));
    }
}

/* The supervisor: mid's parked loop has an event (p->m held): get a
 * thread to lead it. */
void frt__pool_unpark(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (!p->parked) return;
    p->parked = false;
    frt__pool_takeover(mid);
}

/* Vacate: leave the loop lazily for an inline run: date it, arm the
 * standby timer if it is not armed, count this thread as running.
 * @return the inline run's sequence number. */
static uint64_t frt__worker_vacate(margo_instance_id mid, frt__worker* self)
{
    frt__pool* p    = &mid->pool;
    p->vacant       = true;
    p->inline_start = frt_now_ms();
    p->inline_seq++;
    if (!p->tick_armed) {
        p->tick_armed = true;
        frt__standby_arm(p, FRT__HANDOFF_NS);
    }
    uint64_t seq = p->inline_seq;
    p->nrunning++;
    p->nstarted++;
    self->busy   = true;
    self->asleep = 0;
    atomic_store(&p->cork_seq, seq);
    frt__tls.cork_seq = seq;
    frt__tls.cork_ok  = p->lhead != NULL;
    return seq;
}

/* Run inline (p->m NOT held on entry): run w, then the rest of the batch
 * while nobody took the loop over; send what the batch held back.
 * @return false if this thread finalized the instance (p->m not held). */
static bool frt__worker_run_inline(margo_instance_id mid, frt__worker* self, frt__work* w,
                                   uint64_t seq)
{
    frt__pool* p = &mid->pool;
    for (;;) {
        frt__tls.vacated     = mid;
        frt__tls.vacated_seq = seq;
        w->fn(w);
        frt__tls.vacated = NULL;
        frt__tls.cork_ok = false;
        if (frt__tls.finalized == mid) return false;
        pthread_mutex_lock(&p->m);
        /* The rest of the batch (requests, completions, timer runs)
         * was queued without waking anyone: run it here, unless the
         * loop was taken over meanwhile (then it is in the pool queue:
         * frt__pool_unlazy). The FRT__HANDOFF_NS limit counts from when
         * the loop was left, not per item. */
        if (!(p->vacant && !p->leader && p->inline_seq == seq && (w = frt__pool_pop(p, true))))
            break;
        p->nstarted++;
        self->asleep     = 0;
        frt__tls.cork_ok = p->lhead != NULL;
        pthread_mutex_unlock(&p->m);
    }
    self->busy = false;
    p->nrunning--;
    frt__pool_kick(mid);
    if (p->cork) { /* the batch is over: send what it held back */
        pthread_mutex_unlock(&p->m);
        frt__uncork_all(mid);
        pthread_mutex_lock(&p->m);
    }
    return true;
}

/* Work: run the next queued item (there is one, and room for it).
 * @return false if this thread finalized the instance (p->m not held). */
static bool frt__worker_run_queued(margo_instance_id mid, frt__worker* self)
{
    frt__pool* p = &mid->pool;
    frt__work* w = frt__pool_pop(p, false);
    p->nrunning++;
    p->nstarted++;
    self->busy   = true;
    self->asleep = 0;
    pthread_mutex_unlock(&p->m);
    w->fn(w);
    if (frt__tls.finalized == mid) return false;
    pthread_mutex_lock(&p->m);
    self->busy = false;
    p->nrunning--;
    return true;
}

/* p->m held: get a thread to take the vacant loop over: an idle worker,
 * else a new one (once per vacancy: the new leader clears the flag). */
static void frt__pool_takeover(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (p->takeover || p->leader || p->parked || atomic_load(&mid->loop_stop)) return;
    p->takeover = true;
    if (p->nstarting > 0) return; /* on its way: it leads first */
    if (p->nidle > 0 || p->nthreads >= p->max || !frt__pool_spawn(mid))
        pthread_cond_signal(&p->cv);
}

/* The supervisor: mid's standby timer fired (p->m held). Take the loop
 * over if the inline run is FRT__HANDOFF_NS old (or blocks), else re-arm
 * for a younger run's due time, or keep the timer armed while inline runs
 * keep coming, or let it lapse. */
void frt__pool_standby_fire(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    uint64_t   ticks;
    if (read(p->standby_fd, &ticks, sizeof ticks) < 0) return; /* spurious */
    if (atomic_load(&mid->loop_stop)) {
        p->tick_armed = false;
        return;
    }
    bool busy   = p->inline_seq != p->tick_seq;
    p->tick_seq = p->inline_seq;
    if (p->parked) { /* idle since: nothing to take over */
        p->tick_armed = false;
        return;
    }
    if (p->leader) {
        if (busy) /* requests keep coming: stay armed (off their path) */
            frt__standby_arm(p, FRT__HANDOFF_NS);
        else /* idle: let the timer lapse */
            p->tick_armed = false;
        return;
    }
    double left = p->inline_start + FRT__HANDOFF_NS / 1e6 - frt_now_ms();
    if (!p->vacant || p->handoff_now || left <= 0) {
        p->tick_armed = false;
        frt__pool_takeover(mid);
        return;
    }
    frt__standby_arm(p, (long)(left * 1e6) + 1); /* a younger run: its due time */
}

/* Idle: wait for work. @return true if this thread should leave the pool:
 * at once when the pool has more than its min threads or its loop is
 * parked (the hub keeps the thread for whichever pool needs one next: a
 * thread from there costs a pool about what waking its own idle one
 * did); else after FRT__POOL_IDLE_S with a leader and more than min. */
static bool frt__worker_idle(frt__pool* p)
{
    if (p->parked || p->nthreads > p->min) return true;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += FRT__POOL_IDLE_S;
    p->nidle++;
    int rc = pthread_cond_timedwait(&p->cv, &p->m, &ts);
    p->nidle--;
    return rc == ETIMEDOUT && !p->head && !p->stop && p->leader && p->nthreads > p->min;
}

/* This thread finalized the instance from user code; every other worker
 * left and the pool is gone (p->m not held; self is freed). */
static void frt__worker_finalized(margo_instance_id mid)
{
    frt__tls.finalized = NULL;
    frt__tls.pool_inst = NULL;
    frt__tls.worker    = NULL;
    frt__inst_unref(mid); /* finalize's ref (frt__inst_bury) */
    frt__inst_unref(mid); /* this worker's (frt__pool_spawn) */
}

/*
 * A hub thread serves one pool as worker self until the pool lets it go
 * (hub.c). The roles, in order: lead the loop if nobody does and it is
 * not parked, else run queued work if there is room, else idle (or
 * leave). The worker holds a memory ref on the instance from
 * frt__pool_spawn to its last touch of p->m.
 */
void frt__pool_serve(frt__worker* self)
{
    margo_instance_id mid = self->inst;
    frt__pool*        p   = &mid->pool;
    frt__tls.pool_inst    = mid;
    frt__tls.worker       = self;
    pthread_mutex_lock(&p->m);
    self->os_tid = (pid_t)syscall(SYS_gettid);
    p->nstarting--;
    for (;;) {
        bool stopping = atomic_load(&mid->loop_stop);
        if (!p->leader && !p->parked && !stopping) {
            frt__work* w = frt__worker_lead(mid);
            if (!w) continue;
            uint64_t seq = frt__worker_vacate(mid, self);
            pthread_mutex_unlock(&p->m);
            if (!frt__worker_run_inline(mid, self, w, seq)) {
                frt__worker_finalized(mid);
                return;
            }
            continue;
        }
        if (p->head && frt__pool_room(p)) {
            if (!frt__worker_run_queued(mid, self)) {
                frt__worker_finalized(mid);
                return;
            }
            continue;
        }
        if (p->stop || frt__worker_idle(p)) break;
    }
    p->nthreads--;
    for (frt__worker** pp = &p->workers; *pp; pp = &(*pp)->next)
        if (*pp == self) {
            *pp = self->next;
            break;
        }
    free(self);
    pthread_cond_broadcast(&p->cv); /* frt__pool_stop_join waits for the list to empty */
    pthread_mutex_unlock(&p->m);
    frt__tls.pool_inst = NULL;
    frt__tls.worker    = NULL;
    frt__inst_unref(mid);
}

/* Take the next item (p->m held), NULL if none: from the lazy list (the
 * inline thread) or the pool queue (workers). */
static frt__work* frt__pool_pop(frt__pool* p, bool lazy)
{
    frt__work* w;
    if (!lazy && p->head) {
        w       = p->head;
        p->head = w->next;
        if (w == p->utail) p->utail = NULL;
        if (!p->head) {
            p->tail  = NULL;
            p->boost = 0;
        }
        p->nqueued--;
    } else if (lazy && p->lhead) {
        w        = p->lhead;
        p->lhead = w->next;
        if (!p->lhead) p->ltail = NULL;
        p->nlazy--;
    } else {
        return NULL;
    }
    return w;
}

/* The inline thread lost the loop: move the rest of its batch (at most
 * FRT__LAZY_MAX items) to the pool queue, get threads for as many as
 * there is room for, and have the supervisor watch the rest (p->m held). */
static void frt__pool_unlazy(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (!p->lhead) return;
    int room = p->target + p->boost - (p->nrunning - p->nblocked);
    while (p->lhead) {
        frt__queue_push(p, frt__pool_pop(p, true), false);
        if (room-- > 0) frt__pool_kick(mid);
    }
    frt__pool_watch(mid);
}

/* Start one worker (p->m held): a hub thread, holding a memory ref on
 * the instance while it serves. */
static bool frt__pool_spawn(margo_instance_id mid)
{
    frt__pool*   p = &mid->pool;
    frt__worker* w = calloc(1, sizeof *w);
    if (!w) return false;
    w->inst = mid;
    atomic_fetch_add(&mid->memrefs, 1);
    if (!frt__hub_give(w)) {
        atomic_fetch_sub(&mid->memrefs, 1); /* not the last: the caller holds one */
        free(w);
        return false;
    }
    w->next    = p->workers;
    p->workers = w;
    p->nthreads++;
    p->nstarting++;
    return true;
}

void frt__pool_submit(margo_instance_id mid, frt__work* w)
{
    frt__pool_enqueue(mid, w, false);
}

/* Queue w (at the head if front: work its submitter is about to wait for). */
void frt__pool_enqueue(margo_instance_id mid, frt__work* w, bool front)
{
    frt__pool* p = &mid->pool;
    w->next      = NULL;
    pthread_mutex_lock(&p->m);
    /* an urgent item skips the leader's batch: another thread may run it
     * while the batch is still running */
    if (frt__tls.lazy == mid && frt__tls.nlazy < FRT__LAZY_MAX && !w->urgent) {
        if (p->ltail)
            p->ltail->next = w;
        else
            p->lhead = w;
        p->ltail = w;
        p->nlazy++;
        frt__tls.nlazy++;
        pthread_mutex_unlock(&p->m);
        return;
    }
    frt__queue_push(p, w, front);
    frt__pool_kick(mid);
    pthread_mutex_unlock(&p->m);
}

/* Stop the pool: queued work still runs; wait until every worker but the
 * caller's left (each unlists and frees its entry), then free the
 * caller's, if it is one of them. */
static void frt__pool_stop_join(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    while (p->workers && (p->workers != frt__tls.worker || p->workers->next))
        pthread_cond_wait(&p->cv, &p->m);
    while (p->workers) {
        frt__worker* n = p->workers->next;
        free(p->workers);
        p->workers = n;
    }
    pthread_mutex_unlock(&p->m);
}

/* Instance setup: the pool's locks, sizes and standby timer (pool not
 * started). @return false if the standby timer cannot be created (the
 * pool is then still safe to close and destroy). */
bool frt__pool_init(frt__pool* p, int rpc_thread_count)
{
    pthread_mutex_init(&p->m, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->standby_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    /* the leader; workers come from the hub on demand and go back
     * when idle (frt__worker_idle) */
    p->min  = rpc_thread_count > 1 ? rpc_thread_count : 1;
    p->max  = FRT__POOL_MAX > p->min ? FRT__POOL_MAX : p->min;
    p->target = frt__cpu_target();
    return p->standby_fd >= 0;
}

/* Start: join the hub, have the supervisor watch the pool, get the first
 * thread (the loop's leader). @return false if any fails (undone). */
bool frt__pool_start(margo_instance_id mid)
{
    frt__hub_enter();
    if (!frt__sup_add(mid)) {
        frt__log(&mid->log, MARGO_LOG_ERROR, "cannot start the runtime's supervisor thread");
        frt__hub_leave();
        return false;
    }
    pthread_mutex_lock(&mid->pool.m);
    bool started = frt__pool_spawn(mid);
    pthread_mutex_unlock(&mid->pool.m);
    if (!started) {
        frt__log(&mid->log, MARGO_LOG_ERROR, "cannot start the instance's first thread");
        frt__sup_remove(mid);
        frt__hub_leave();
    }
    return started;
}

/* Finalize: stop the loop, wait for the leader to leave, take the pool
 * out of the supervisor's watch (and its parked loop out of its set),
 * queue the batch of an inline thread, drain the queue and wait for every
 * worker but the caller to leave, then leave the hub. */
void frt__pool_stop(margo_instance_id mid)
{
    pthread_mutex_lock(&mid->pool.m);
    atomic_store(&mid->loop_stop, true);
    frt__wake_loop(mid);
    while (mid->pool.leader) pthread_cond_wait(&mid->pool.cv, &mid->pool.m);
    pthread_mutex_unlock(&mid->pool.m);
    frt__sup_remove(mid); /* before the join: it may start threads */
    pthread_mutex_lock(&mid->pool.m);
    frt__pool_unlazy(mid); /* the batch of an inline thread that finalized (a quit handler) */
    pthread_mutex_unlock(&mid->pool.m);
    frt__pool_stop_join(mid);
    frt__hub_leave();
}

/* Teardown: close the standby timer (threads are gone; -1 safe). */
void frt__pool_close(frt__pool* p)
{
    if (p->standby_fd >= 0) close(p->standby_fd);
    p->standby_fd = -1;
}

/* Last ref: destroy the pool's locks. */
void frt__pool_destroy(frt__pool* p)
{
    pthread_mutex_destroy(&p->m);
    pthread_cond_destroy(&p->cv);
}
