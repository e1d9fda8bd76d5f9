/*
 * centralized-ping.c -- the primary's failure detector: the peer table
 * (cent_peer_t, one per member but the primary), one one-shot ping timer
 * per peer, counting consecutive failures and declaring a member DIED.
 *
 * Owns: s->peers and every cent_peer_t, s->rng, s->inflight (ping round
 * trips and the commits they start). Locks: mtx (never the view lock while
 * holding it, never a callback under it).
 * May call: centralized-logic.c (scheduling and counting rules),
 * centralized-wire.c (the ping message), frt/margo (timers, RPCs), and once
 * up into centralized-primary.c: a death is a DIED change handed to
 * cent__enqueue_and_commit.
 */
#include <stdlib.h>
#include <string.h>

#include "centralized-internal.h"
#include "centralized-wire.h"

static void cent__ping_timer_cb(void* uargs);
static void cent__ping_done(void* uargs, hg_return_t ret, const void* out,
                            size_t out_len);

/* Contract: mtx held. A fresh ping interval. */
static double cent__draw(cent_state_t* s)
{
    return flock__cent_draw_interval(s->config.ping_interval_min_ms,
                                     s->config.ping_interval_max_ms,
                                     flock__cent_rand01(&s->rng));
}

static void cent__peer_free(cent_peer_t* p)
{
    if (!p) return;
    if (p->timer != MARGO_TIMER_NULL) margo_timer_destroy(p->timer);
    if (p->addr != HG_ADDR_NULL) margo_addr_free(p->state->mid, p->addr);
    free(p->address);
    free(p);
}

void cent__peer_free_list(cent_peer_t* peers)
{
    while (peers) {
        cent_peer_t* p = peers;
        peers = p->next;
        cent__peer_free(p);
    }
}

void cent__peer_add(cent_state_t* s, const char* address, uint16_t pid)
{
    cent_peer_t* p = calloc(1, sizeof(*p));
    if (!p) goto fail;
    p->state = s;
    p->provider_id = pid;
    p->address = strdup(address);
    if (!p->address) goto fail;
    if (margo_addr_lookup(s->mid, address, &p->addr) != HG_SUCCESS) {
        margo_error(s->mid, CENT_LOG_PREFIX "cannot resolve member address %s", address);
        goto fail;
    }
    if (margo_timer_create(s->mid, cent__ping_timer_cb, p, &p->timer) != HG_SUCCESS)
        goto fail;
    pthread_mutex_lock(&s->mtx);
    if (s->closing) {
        pthread_mutex_unlock(&s->mtx);
        goto fail;
    }
    p->interval_ms = cent__draw(s);
    p->next = s->peers;
    s->peers = p;
    margo_timer_start(p->timer, p->interval_ms);
    pthread_mutex_unlock(&s->mtx);
    return;
fail:
    if (p && !p->address)
        margo_error(s->mid, CENT_LOG_PREFIX "out of memory adding a peer");
    cent__peer_free(p);
}

void cent__peer_remove(cent_state_t* s, const char* address, uint16_t pid)
{
    cent_peer_t* victim = NULL;
    bool now = false;
    pthread_mutex_lock(&s->mtx);
    for (cent_peer_t** pp = &s->peers; *pp; pp = &(*pp)->next) {
        if (flock__cent_same_member((*pp)->address, (*pp)->provider_id, address, pid)) {
            victim = *pp;
            *pp = victim->next;
            victim->next = NULL;
            victim->removed = true;
            now = !victim->in_flight;
            break;
        }
    }
    pthread_mutex_unlock(&s->mtx);
    if (now) cent__peer_free(victim); /* waits for a running timer callback */
}

void cent__peer_reset(cent_state_t* s, const char* address, uint16_t pid)
{
    pthread_mutex_lock(&s->mtx);
    for (cent_peer_t* p = s->peers; p; p = p->next)
        if (flock__cent_same_member(p->address, p->provider_id, address, pid))
            p->failures = 0;
    pthread_mutex_unlock(&s->mtx);
}

flock_return_t cent__ping_start_all(cent_state_t* s)
{
    for (size_t i = 0; i < s->view.members.size; i++) {
        char* addr;
        uint16_t pid;
        FLOCK_GROUP_VIEW_LOCK(&s->view);
        addr = strdup(s->view.members.data[i].address);
        pid = s->view.members.data[i].provider_id;
        FLOCK_GROUP_VIEW_UNLOCK(&s->view);
        if (!addr) return FLOCK_ERR_ALLOCATION;
        if (!flock__cent_same_member(addr, pid, s->self_addr, s->provider_id))
            cent__peer_add(s, addr, pid);
        free(addr);
    }
    return FLOCK_SUCCESS;
}

void cent__ping_drop_all(cent_state_t* s)
{
    cent_peer_t* peers;
    cent_peer_t* idle = NULL; /* not in flight: freed here */
    pthread_mutex_lock(&s->mtx);
    peers = s->peers;
    s->peers = NULL;
    while (peers) {
        cent_peer_t* p = peers;
        peers = p->next;
        p->removed = true;
        p->next = NULL;
        if (!p->in_flight) {
            p->next = idle;
            idle = p;
        } /* else its completion frees it */
    }
    pthread_mutex_unlock(&s->mtx);
    cent__peer_free_list(idle); /* waits for running timer callbacks */
}

cent_peer_t* cent__ping_stop_all(cent_state_t* s)
{
    cent_peer_t* peers;
    pthread_mutex_lock(&s->mtx);
    peers = s->peers;
    s->peers = NULL;
    pthread_mutex_unlock(&s->mtx);
    for (cent_peer_t* p = peers; p; p = p->next) {
        if (p->timer != MARGO_TIMER_NULL) margo_timer_cancel(p->timer);
    }
    return peers;
}

/* Timer callback: send one asynchronous ping carrying the committed
 * (seq, digest), unless the peer is gone, declared or already pinged. */
static void cent__ping_timer_cb(void* uargs)
{
    cent_peer_t* p = uargs;
    cent_state_t* s = p->state;
    frt_wbuf b = FRT_WBUF_INIT;
    hg_return_t hret;

    pthread_mutex_lock(&s->mtx);
    if (s->closing || p->removed || p->declared || p->in_flight) {
        pthread_mutex_unlock(&s->mtx);
        return;
    }
    p->in_flight = true;
    p->ping_start_ms = frt_now_ms();
    s->inflight++;
    flock__cent_encode_envelope(&b, s->group_id, s->term, s->provider_id);
    flock__cent_encode_ping(&b, s->committed_seq, s->committed_digest);
    pthread_mutex_unlock(&s->mtx);

    if (b.failed)
        hret = HG_NOMEM;
    else
        hret = frt_forward_async(s->mid, p->addr, FLOCK__CENT_RPC_PING, p->provider_id,
                                 b.data, b.len, s->config.ping_timeout_ms,
                                 cent__ping_done, p);
    frt_wbuf_free(&b);
    if (hret != HG_SUCCESS) cent__ping_done(p, hret, NULL, 0);
}

/* Contract: mtx held; p linked, not declared, not closing. Count the
 * outcome; on the last allowed failure mark p declared and return its DIED
 * change (NULL otherwise, or when out of memory: then p is pinged again). */
static cent_change_t* cent__ping_record_locked(cent_state_t* s, cent_peer_t* p,
                                               hg_return_t ret)
{
    cent_change_t* died = NULL;
    bool dead = flock__cent_record_ping(&p->failures, ret == HG_SUCCESS,
                                        (unsigned)s->config.ping_max_num_timeouts);
    if (ret != HG_SUCCESS)
        margo_debug(s->mid, CENT_LOG_PREFIX "ping to %s (%u) failed (%s), %u in a row",
                    p->address, p->provider_id, HG_Error_to_string(ret), p->failures);
    if (s->failover) cent__failover_quorum_locked(s);
    if (dead && s->quorum_lost) {
        /* no majority reachable: the members this primary cannot reach may
         * be the majority; suspect them, declare nobody (a partition heals,
         * or the majority side elects a new primary) */
        p->failures = (unsigned)s->config.ping_max_num_timeouts - 1;
        dead = false;
    }
    if (dead) {
        p->declared = true;
        died = cent__change_new(FLOCK_MEMBER_DIED, p->address, p->provider_id);
        if (!died) {
            p->declared = false; /* try again at the next ping */
            margo_error(s->mid, CENT_LOG_PREFIX "out of memory declaring a death");
        }
    }
    return died;
}

/* Contract: a ping answered (no lock held; p not freed). A member that
 * answers for another group or another term is no member of this one: its
 * answer counts as a failure (HG_OTHER_ERROR), logged. */
static hg_return_t cent__ping_reply_status(cent_state_t* s, cent_peer_t* p, const void* out,
                                           size_t out_len)
{
    frt_rbuf r;
    uint32_t status = FLOCK_ERR_OTHER;
    frt_rbuf_init(&r, out, out_len);
    if (flock__cent_decode_status(&r, &status) && status == FLOCK_SUCCESS) return HG_SUCCESS;
    if (status == FLOCK_ERR_OP_FORBIDDEN && s->is_primary && cent__follow_redirect(s, &r)) {
        /* the member follows a primary of a newer term: step down */
        pthread_mutex_lock(&s->mtx);
        s->step_down = true;
        pthread_mutex_unlock(&s->mtx);
        return HG_OTHER_ERROR;
    }
    margo_warning(s->mid, CENT_LOG_PREFIX "%s (%u) answers the ping with %s",
                  p->address, p->provider_id,
                  status == FLOCK_ERR_INVALID_GROUP ? "\"another group\""
                  : status == FLOCK_ERR_OP_FORBIDDEN ? "\"not this primary's member\""
                                                     : "an error");
    return HG_OTHER_ERROR;
}

/* Ping completion: count it, re-arm the timer start-to-start, commit a
 * death; frees a peer removed while its ping was in flight. */
static void cent__ping_done(void* uargs, hg_return_t ret, const void* out, size_t out_len)
{
    cent_peer_t* p = uargs;
    cent_state_t* s = p->state;
    cent_change_t* died = NULL;
    bool free_it = false;

    if (ret == HG_SUCCESS) ret = cent__ping_reply_status(s, p, out, out_len);
    pthread_mutex_lock(&s->mtx);
    p->in_flight = false;
    if (p->removed) {
        free_it = true;
    } else if (!s->closing && !p->declared) {
        died = cent__ping_record_locked(s, p, ret);
        if (!p->declared) {
            double elapsed = frt_now_ms() - p->ping_start_ms;
            double delay = flock__cent_next_ping_delay(p->interval_ms, elapsed);
            p->interval_ms = cent__draw(s);
            margo_timer_start(p->timer, delay);
        }
    }
    pthread_mutex_unlock(&s->mtx);

    if (free_it) cent__peer_free(p);
    /* p may be freed by the commit (DIED removes the peer): do not touch it */
    if (died) {
        margo_warning(s->mid, CENT_LOG_PREFIX "member %s (%u) declared dead",
                      died->address, died->provider_id);
        cent__enqueue_and_commit(s, died);
    }
    pthread_mutex_lock(&s->mtx);
    s->inflight--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mtx);
}
