/*
 * centralized-watch.c -- a secondary's watch over its own membership. The
 * primary removes a member it cannot ping (a paused process, a partition)
 * and from then on never speaks to it again: without this watch such a
 * member would serve its stale view forever. Every CENT_WATCH_TICK_MS the
 * watch looks at the time of the last word from the primary (a ping or an
 * update); past the window (flock__cent_watch_window_ms: longer than the
 * primary takes to declare a silent member dead) it asks the primary for
 * the whole view. A view that does not list this member, or a broadcast
 * about its own removal, makes it rejoin by itself (one warning line);
 * until it is back its get_view answers FLOCK_ERR_NOT_A_MEMBER.
 *
 * Owns: s->watch_timer, s->last_contact_ms, s->last_check_ms, s->removed, s->checking,
 * s->last_warning_ms (under mtx). May call: centralized-secondary.c (check,
 * rejoin), centralized-logic.c, frt/margo. Called by: centralized-rpc.c
 * (contact), centralized-secondary.c (removed), centralized-backend.c
 * (start, stop).
 */
#include "centralized-internal.h"

#define CENT_WATCH_TICK_MS 250.0
#define CENT_WATCH_WARN_MS 10000.0 /* at most one "cannot reach" line per 10 s */

void cent__watch_contact(cent_state_t* s)
{
    double now = frt_now_ms();
    pthread_mutex_lock(&s->mtx);
    s->last_contact_ms = now;
    pthread_mutex_unlock(&s->mtx);
}

void cent__watch_removed(cent_state_t* s, const char* why)
{
    bool first;
    pthread_mutex_lock(&s->mtx);
    first = !s->removed && !s->closing;
    if (first) s->removed = true;
    pthread_mutex_unlock(&s->mtx);
    if (first)
        margo_warning(s->mid,
                      CENT_LOG_PREFIX "this member (%s, %u) is no longer in the group (%s): "
                      "rejoining",
                      s->self_addr, s->provider_id, why);
}

/* Contract: no lock held. A warning at most every CENT_WATCH_WARN_MS. */
static void cent__watch_warn_unreachable(cent_state_t* s, double silent_ms)
{
    double now = frt_now_ms();
    bool say;
    pthread_mutex_lock(&s->mtx);
    say = now - s->last_warning_ms >= CENT_WATCH_WARN_MS;
    if (say) s->last_warning_ms = now;
    pthread_mutex_unlock(&s->mtx);
    if (say) {
        char paddr[FRT_MAX_ADDR_LEN + 1];
        uint16_t ppid;
        cent__primary_name(s, paddr, sizeof paddr, &ppid);
        margo_warning(s->mid,
                      CENT_LOG_PREFIX "no word from the primary %s (%u) for %.1f s, and it "
                      "does not answer",
                      paddr, ppid, silent_ms / 1000.0);
    }
}

/* Contract: sync_mtx held; the tick owns `checking`. Ask the primary
 * whether it still lists this member; mark it removed if not. A primary
 * that does not answer may be replaced (centralized-failover.c): *died is
 * then the old primary's change to commit. */
static void cent__watch_check_locked(cent_state_t* s, double silent_ms, double window_ms,
                                     bool handover, cent_change_t** died)
{
    bool listed = false;
    /* a primary that answers nothing within a few ping timeouts is as good
     * as gone for this check (a stopped process never refuses) */
    double timeout = 4 * s->config.ping_timeout_ms > 1000.0 ? 4 * s->config.ping_timeout_ms
                                                            : 1000.0;
    flock_return_t ret = handover ? FLOCK_ERR_FROM_MERCURY
                                  : cent__secondary_check_locked(s, timeout, &listed);
    if (ret == FLOCK_ERR_FROM_MERCURY) {
        cent__failover_maybe_take_over(s, silent_ms, window_ms, died);
        if (!*died && !s->is_primary) cent__watch_warn_unreachable(s, silent_ms);
    } else if (ret == FLOCK_SUCCESS && !listed) {
        cent__watch_removed(s, "the primary's view does not list it: it was declared dead "
                               "while it could not be reached");
    } else if (ret == FLOCK_SUCCESS) {
        cent__watch_contact(s);
    }
}

/* Contract: sync_mtx held; the tick owns `checking`; removed. Join again. */
static void cent__watch_rejoin_locked(cent_state_t* s)
{
    flock_return_t ret = cent__secondary_rejoin_locked(s);
    if (ret != FLOCK_SUCCESS) {
        cent__watch_warn_unreachable(s, 0);
        return;
    }
    pthread_mutex_lock(&s->mtx);
    s->removed = false;
    s->last_contact_ms = frt_now_ms();
    pthread_mutex_unlock(&s->mtx);
    margo_warning(s->mid, CENT_LOG_PREFIX "this member (%s, %u) rejoined the group",
                  s->self_addr, s->provider_id);
}

static void cent__watch_tick(void* uargs)
{
    cent_state_t* s = uargs;
    double now = frt_now_ms();
    double window = flock__cent_watch_window_ms(s->config.ping_interval_max_ms,
                                                s->config.ping_timeout_ms,
                                                s->config.ping_max_num_timeouts);
    cent_change_t* died = NULL;
    pthread_mutex_lock(&s->mtx);
    double silent = now - s->last_contact_ms;
    bool removed = s->removed, handover = s->handover, step_down = s->step_down;
    bool primary = s->is_primary;
    bool due = !s->closing && !s->checking &&
               (primary ? step_down
                        : s->joined && (removed || handover ||
                                        (silent > window &&
                                         now - s->last_check_ms >= window / 2)));
    if (due) s->checking = true;
    pthread_mutex_unlock(&s->mtx);
    if (!due) return;

    if (primary) cent__failover_step_down(s); /* marks it removed: rejoin below */
    pthread_mutex_lock(&s->sync_mtx);
    if (!primary && !removed) cent__watch_check_locked(s, silent, window, handover, &died);
    pthread_mutex_lock(&s->mtx);
    removed = s->removed && !s->closing && !s->is_primary;
    pthread_mutex_unlock(&s->mtx);
    if (removed) cent__watch_rejoin_locked(s);
    pthread_mutex_unlock(&s->sync_mtx);
    if (died) cent__enqueue_and_commit(s, died); /* the new primary's first change */

    pthread_mutex_lock(&s->mtx);
    s->checking = false;
    s->last_check_ms = frt_now_ms(); /* the next check half a window later */
    pthread_mutex_unlock(&s->mtx);
}

flock_return_t cent__watch_start(cent_state_t* s)
{
    cent__watch_contact(s);
    if (margo_timer_create(s->mid, cent__watch_tick, s, &s->watch_timer) != HG_SUCCESS) {
        s->watch_timer = MARGO_TIMER_NULL;
        margo_error(s->mid, CENT_LOG_PREFIX "cannot create the membership watch timer");
        return FLOCK_ERR_FROM_MERCURY;
    }
    if (frt_timer_start_periodic(s->watch_timer, CENT_WATCH_TICK_MS, CENT_WATCH_TICK_MS) !=
        HG_SUCCESS) {
        margo_error(s->mid, CENT_LOG_PREFIX "cannot start the membership watch timer");
        return FLOCK_ERR_FROM_MERCURY;
    }
    return FLOCK_SUCCESS;
}

void cent__watch_stop(cent_state_t* s)
{
    if (s->watch_timer == MARGO_TIMER_NULL) return;
    margo_timer_cancel(s->watch_timer); /* waits for a running tick */
    margo_timer_destroy(s->watch_timer);
    s->watch_timer = MARGO_TIMER_NULL;
}
