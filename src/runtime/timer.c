/*
 * timer.c -- the instance's timer heap (a min-heap on monotonic time with a
 * tie-break counter, shared by call timeouts and timers) and margo_timer_*.
 *
 * Owns: frt__hnode, struct margo_timer, frt__timer_run; the instance's
 * heap/heap_len/heap_cap/heap_seq/loop_wake_at and timers list (under
 * inst->lock).
 * Calls: pool.c (frt__pool_submit, frt__about_to_block, frt_wait_*),
 * loop.c (frt__wake_loop). Called by loop.c (expiry), call.c (timeouts),
 * instance.c (finalize, teardown).
 */
#include "frt-core.h"

#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Heap (inst->lock held)                                              */
/* ------------------------------------------------------------------ */

static bool frt__heap_less(const frt__hnode* a, const frt__hnode* b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void frt__heap_set(margo_instance_id mid, size_t i, frt__hnode* n)
{
    mid->heap[i] = n;
    n->idx       = i;
}

static void frt__heap_up(margo_instance_id mid, size_t i)
{
    frt__hnode* n = mid->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!frt__heap_less(n, mid->heap[p])) break;
        frt__heap_set(mid, i, mid->heap[p]);
        i = p;
    }
    frt__heap_set(mid, i, n);
}

static void frt__heap_down(margo_instance_id mid, size_t i)
{
    frt__hnode* n = mid->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        frt__hnode* best = n;
        if (l < mid->heap_len && frt__heap_less(mid->heap[l], best)) { m = l; best = mid->heap[l]; }
        if (r < mid->heap_len && frt__heap_less(mid->heap[r], best)) { m = r; best = mid->heap[r]; }
        if (m == i) break;
        frt__heap_set(mid, i, mid->heap[m]);
        i = m;
    }
    frt__heap_set(mid, i, n);
}

/** Insert n (not queued) at deadline. Returns -1 on ENOMEM, 1 if the loop
 *  must be woken (the deadline is earlier than the time the leader planned
 *  to wake up at), 0 otherwise. */
int frt__heap_push(margo_instance_id mid, frt__hnode* n, double deadline)
{
    if (mid->heap_len == mid->heap_cap) {
        size_t       cap = mid->heap_cap ? mid->heap_cap * 2 : 64;
        frt__hnode** h   = realloc(mid->heap, cap * sizeof *h);
        if (!h) return -1;
        mid->heap     = h;
        mid->heap_cap = cap;
    }
    n->deadline = deadline;
    n->seq      = ++mid->heap_seq;
    mid->heap_len++;
    frt__heap_set(mid, mid->heap_len - 1, n);
    frt__heap_up(mid, mid->heap_len - 1);
    /* The leader sleeps until loop_wake_at at most (set when it computed
     * its epoll timeout, not lowered when nodes go away), so a later
     * deadline needs no wake-up: a client issuing one timed call after the
     * other costs no loop wake per call. */
    return deadline < mid->loop_wake_at ? 1 : 0;
}

void frt__heap_remove(margo_instance_id mid, frt__hnode* n)
{
    if (n->idx == FRT__NO_IDX) return;
    size_t i = n->idx;
    n->idx   = FRT__NO_IDX;
    mid->heap_len--;
    if (i == mid->heap_len) return;
    frt__heap_set(mid, i, mid->heap[mid->heap_len]);
    frt__heap_up(mid, i);
    frt__heap_down(mid, mid->heap[i]->idx);
}

/* ------------------------------------------------------------------ */
/* Timers                                                              */
/* ------------------------------------------------------------------ */

static void frt__timer_work(frt__work* w);

hg_return_t margo_timer_create(margo_instance_id mid, margo_timer_callback_fn cb, void* uargs,
                               margo_timer_t* timer)
{
    if (!mid || !cb || !timer) return HG_INVALID_ARG;
    struct margo_timer* t = calloc(1, sizeof *t);
    if (!t) return HG_NOMEM;
    t->inst      = mid;
    t->cb        = cb;
    t->uargs     = uargs;
    t->node.idx  = FRT__NO_IDX;
    t->node.kind = FRT__HK_TIMER;
    pthread_mutex_lock(&mid->lock);
    if (mid->finalized) {
        pthread_mutex_unlock(&mid->lock);
        free(t);
        return HG_CANCELED;
    }
    t->next = mid->timers;
    if (mid->timers) mid->timers->prev = t;
    mid->timers = t;
    pthread_mutex_unlock(&mid->lock);
    *timer = t;
    return HG_SUCCESS;
}

static hg_return_t frt__timer_arm(margo_timer_t t, double first_ms, double period_ms)
{
    if (!t || !(first_ms >= 0) || period_ms < 0) return HG_INVALID_ARG;
    margo_instance_id mid = t->inst;
    if (!mid) return HG_CANCELED;
    hg_return_t ret = HG_SUCCESS;
    pthread_mutex_lock(&mid->lock);
    if (mid->stopping) {
        ret = HG_CANCELED;
    } else {
        frt__heap_remove(mid, &t->node);
        t->period = period_ms;
        int r     = frt__heap_push(mid, &t->node, frt_now_ms() + first_ms);
        if (r < 0) ret = HG_NOMEM;
        if (r > 0) frt__wake_loop(mid);
    }
    pthread_mutex_unlock(&mid->lock);
    return ret;
}

hg_return_t margo_timer_start(margo_timer_t timer, double timeout_ms)
{
    return frt__timer_arm(timer, timeout_ms, 0);
}

hg_return_t frt_timer_start_periodic(margo_timer_t timer, double first_ms, double period_ms)
{
    if (!(period_ms > 0)) return HG_INVALID_ARG;
    return frt__timer_arm(timer, first_ms, period_ms);
}

/* Pool: run one expiry of a timer. */
static void frt__timer_work(frt__work* w)
{
    frt__timer_run*     run = FRT__CONTAINER(w, frt__timer_run, work);
    struct margo_timer* t   = run->t;
    margo_instance_id   mid = t->inst;
    bool                call;
    pthread_mutex_lock(&mid->lock);
    call = run->gen == t->gen && !mid->stopping;
    pthread_mutex_unlock(&mid->lock);
    for (;;) {
        if (call) {
            struct margo_timer* saved = frt__tls.timer;
            frt__tls.timer            = t;
            t->cb(t->uargs);
            frt__tls.timer = saved;
            if (frt__tls.finalized == mid) {
                /* the instance is gone; the timer is orphaned (inst NULL) */
                if (t->destroy_pending) free(t);
                else t->running = false;
                free(run);
                return;
            }
        }
        pthread_mutex_lock(&mid->lock);
        if (t->refire && !t->destroy_pending && !mid->stopping) {
            t->refire = false;
            call      = true;
            pthread_mutex_unlock(&mid->lock);
            continue;
        }
        t->refire  = false;
        t->running = false;
        pthread_cond_broadcast(&mid->cv);
        bool dead = t->destroy_pending;
        pthread_mutex_unlock(&mid->lock);
        if (dead) free(t);
        free(run);
        return;
    }
}

/* Loop: timer node n came due at now (inst->lock held, n already out of
 * the heap): re-queue a periodic timer and queue a run unless one is
 * running (a one-shot then runs again when it returns). */
void frt__timer_due_locked(margo_instance_id mid, frt__hnode* n, double now)
{
    struct margo_timer* t = FRT__CONTAINER(n, struct margo_timer, node);
    if (t->period > 0) {
        double next = n->deadline + t->period;
        if (next <= now) next = now + t->period;
        (void)frt__heap_push(mid, n, next);
    }
    if (t->running) {
        if (t->period <= 0) t->refire = true;
        return;
    }
    frt__timer_run* run = calloc(1, sizeof *run);
    if (!run) {
        frt__log(&mid->log, MARGO_LOG_ERROR, "out of memory running a timer");
        return;
    }
    run->work.fn = frt__timer_work;
    run->t       = t;
    run->gen     = t->gen;
    t->running   = true;
    frt__pool_submit(mid, &run->work);
}

/* Teardown: orphan every timer (later cancel/destroy calls only free it)
 * and free the heap. Threads are gone. */
void frt__timers_orphan(margo_instance_id mid)
{
    for (struct margo_timer* t = mid->timers; t; t = t->next) {
        t->inst     = NULL; /* later cancel/destroy calls only free it */
        t->node.idx = FRT__NO_IDX;
    }
    mid->timers = NULL;
    free(mid->heap);
    mid->heap = NULL;
}

/* Cancel; inst->lock held. Waits for a running callback unless it is ours. */
static void frt__timer_cancel_locked(margo_instance_id mid, margo_timer_t t)
{
    frt__heap_remove(mid, &t->node);
    t->gen++;
    t->refire = false;
    if (t->running && frt__tls.timer != t) { /* its run may be queued behind us */
        frt__about_to_block();
        frt_wait_begin();
        while (t->running && frt__tls.timer != t) pthread_cond_wait(&mid->cv, &mid->lock);
        frt_wait_end();
    }
}

hg_return_t margo_timer_cancel(margo_timer_t timer)
{
    if (!timer) return HG_INVALID_ARG;
    margo_instance_id mid = timer->inst;
    if (!mid) return HG_SUCCESS;
    pthread_mutex_lock(&mid->lock);
    frt__timer_cancel_locked(mid, timer);
    pthread_mutex_unlock(&mid->lock);
    return HG_SUCCESS;
}

hg_return_t margo_timer_destroy(margo_timer_t timer)
{
    if (!timer) return HG_INVALID_ARG;
    margo_instance_id mid = timer->inst;
    if (!mid) {
        if (timer->running)
            timer->destroy_pending = true;
        else
            free(timer);
        return HG_SUCCESS;
    }
    pthread_mutex_lock(&mid->lock);
    frt__timer_cancel_locked(mid, timer);
    if (timer->prev)
        timer->prev->next = timer->next;
    else if (mid->timers == timer)
        mid->timers = timer->next;
    if (timer->next) timer->next->prev = timer->prev;
    timer->prev = timer->next = NULL;
    bool later                = timer->running; /* destroyed from its own callback */
    if (later) timer->destroy_pending = true;
    pthread_mutex_unlock(&mid->lock);
    if (!later) free(timer);
    return HG_SUCCESS;
}

/* Finalize: take every node out of the heap (inst->lock held). */
void frt__heap_clear_locked(margo_instance_id mid)
{
    while (mid->heap_len > 0) frt__heap_remove(mid, mid->heap[0]);
}
