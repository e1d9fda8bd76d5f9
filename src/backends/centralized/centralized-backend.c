/*
 * centralized-backend.c -- the "centralized" group-membership backend
 * (FLOCK-SPEC 3.2, with the upstream defects of section 10 fixed).
 *
 * One member, the primary, owns the authoritative view. It
 *   - admits joiners (flock_centralized_join; the joiner is the RPC source
 *     address) and leavers (flock_centralized_leave, real provider id),
 *   - pings every other member once every random[min,max] ms (start to
 *     start) and declares a member DIED after ping_max_num_timeouts
 *     consecutive failures,
 *   - numbers every change (seq) and broadcasts it to every other member
 *     (flock_centralized_membership_update, in parallel, 1000 ms each),
 *   - keeps a bounded log of recent changes so a member that missed some
 *     can fetch exactly those (flock_centralized_get_view), or the full
 *     view when the log no longer has them.
 * Secondaries apply changes strictly in seq order, so each change is
 * applied, and its JOINED/LEFT/DIED callback fired, exactly once per member
 * whatever the delivery order; a no-op change fires nothing.
 *
 * Changes are applied by one "committer" at a time: requests (join, leave,
 * death) are queued and the thread that finds no active committer drains
 * the queue batch by batch (group commit). A batch is applied to the view,
 * the local callbacks run, the batch is broadcast, and only then are the
 * joiners answered (with the full view), so when a join returns every
 * reachable member already knows the joiner.
 *
 * Threads and locks (lock order: sync_mtx -> mtx -> view lock):
 *   - view.mtx (FLOCK_GROUP_VIEW_LOCK): the view, seq and the event log;
 *     never held while calling callbacks or sending RPCs.
 *   - mtx: peers, the change queue, committing/closing flags, in-flight
 *     counts, committed (seq, digest), the random generator.
 *   - sync_mtx (secondaries): serializes applying updates, catching up and
 *     joining. It is held while callbacks run and while catch-up RPCs to the
 *     primary are in flight (never the other two locks).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <margo.h>
#include <flock/flock-backend.h>
#include <flock/flock-group-view.h>
#include "flock/backend-util.h"
#include "flock/view-codec.h"

#include "centralized-backend.h"
#include "centralized-config.h"
#include "centralized-logic.h"
#include "centralized-wire.h"

#define CENT_LOG_PREFIX          "[flock:centralized] "
#define CENT_UPDATE_TIMEOUT_MS   1000.0 /* membership_update, per member */
#define CENT_LEAVE_TIMEOUT_MS    1000.0
#define CENT_CATCH_UP_TIMEOUT_MS 5000.0
#define CENT_JOIN_TIMEOUT_MS     60000.0
#define CENT_JOIN_RETRY_MS       10000.0 /* retry window for unreachable primaries */
#define CENT_EVENT_LOG_CAPACITY  4096

/* ------------------------------------------------------------------ */
/* State                                                                */
/* ------------------------------------------------------------------ */

struct cent_state;

/* A member the primary pings (every member but itself). Owned by the peers
 * list while linked; once unlinked (removed) by whoever sees it neither
 * linked nor in flight. */
typedef struct cent_peer {
    struct cent_peer* next;
    struct cent_state* state;
    char* address;
    uint16_t provider_id;
    hg_addr_t addr;
    margo_timer_t timer;
    unsigned failures;
    double ping_start_ms;
    double interval_ms; /* drawn for the current cycle */
    bool in_flight;
    bool removed;  /* unlinked from the peers list */
    bool declared; /* DIED already queued: stop pinging */
} cent_peer_t;

/* A queued change request (primary). */
typedef struct cent_change {
    struct cent_change* next;
    flock_update_t type;
    char* address;
    uint16_t provider_id;
    frt_request_t req;     /* join/leave request to answer, NULL for DIED */
    flock_return_t result; /* set by the committer */
    bool applied;
} cent_change_t;

typedef struct cent_state {
    margo_instance_id mid;
    uint16_t provider_id;
    ABT_pool pool;
    char* self_addr;
    flock_backend_init_args_t cb_args; /* callbacks + context only */
    flock__cent_config_t config;
    struct json_object* config_json; /* effective config */
    bool is_primary;
    bool joined; /* secondary that is a member */
    hg_addr_t primary_addr;

    /* protected by view.mtx */
    flock_group_view_t view;
    uint64_t seq;          /* primary: last assigned; secondary: last applied */
    flock__cent_log_t log; /* primary only */

    /* protected by mtx */
    pthread_mutex_t mtx;
    pthread_cond_t cv;
    cent_peer_t* peers;
    cent_change_t* queue_head;
    cent_change_t* queue_tail;
    bool committing;
    bool closing;
    unsigned inflight; /* ping round trips + ping-completion committers */
    uint64_t committed_seq;
    uint64_t committed_digest;
    uint64_t rng;

    pthread_mutex_t sync_mtx;
    bool rpc_registered[5];
} cent_state_t;

static const char* const cent_rpc_names[5] = {
    FLOCK__CENT_RPC_PING, FLOCK__CENT_RPC_UPDATE, FLOCK__CENT_RPC_VIEW,
    FLOCK__CENT_RPC_LEAVE, FLOCK__CENT_RPC_JOIN};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

/* Contract: mtx held. Uniform double in [0, 1) (xorshift64*). */
static double cent__rand01(cent_state_t* s)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Contract: mtx held. A fresh ping interval. */
static double cent__draw(cent_state_t* s)
{
    return flock__cent_draw_interval(s->config.ping_interval_min_ms,
                                     s->config.ping_interval_max_ms, cent__rand01(s));
}

static const char* cent__update_name(flock_update_t t)
{
    switch (t) {
    case FLOCK_MEMBER_JOINED:
        return "JOINED";
    case FLOCK_MEMBER_LEFT:
        return "LEFT";
    case FLOCK_MEMBER_DIED:
        return "DIED";
    default:
        return "?";
    }
}

/* Contract: no lock held. Fire the provider's member callback for each event. */
static void cent__notify(cent_state_t* s, const flock__cent_event_t* evs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        flock__notify_member(&s->cb_args, evs[i].type, evs[i].address,
                             evs[i].provider_id);
}

/* Contract: replies `status` (u32) to req; req is released. */
static void cent__respond_status(frt_request_t req, flock_return_t status)
{
    frt_wbuf b = FRT_WBUF_INIT;
    flock__cent_encode_status(&b, (uint32_t)status);
    if (b.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, b.data, b.len);
    frt_wbuf_free(&b);
}

/* Contract: view lock held. Append the event to the view's log (primary)
 * and give it the next seq. A failed append empties the log so that
 * catch-ups fall back to the full view. */
static uint64_t cent__next_seq_locked(cent_state_t* s, flock_update_t type,
                                      const char* address, uint16_t pid)
{
    s->seq++;
    if (flock__cent_log_append(&s->log, s->seq, type, address, pid) != FLOCK_SUCCESS) {
        size_t cap = s->log.capacity;
        flock__cent_log_destroy(&s->log);
        flock__cent_log_init(&s->log, cap);
    }
    return s->seq;
}

/* ------------------------------------------------------------------ */
/* Primary: peers and pings                                             */
/* ------------------------------------------------------------------ */

static void cent__ping_timer_cb(void* uargs);
static void cent__ping_done(void* uargs, hg_return_t ret, const void* out,
                            size_t out_len);
static void cent__enqueue_and_commit(cent_state_t* s, cent_change_t* c);

static void cent__peer_free(cent_peer_t* p)
{
    if (!p) return;
    if (p->timer != MARGO_TIMER_NULL) margo_timer_destroy(p->timer);
    if (p->addr != HG_ADDR_NULL) margo_addr_free(p->state->mid, p->addr);
    free(p->address);
    free(p);
}

/* Contract: no lock held; primary; not closing. Create the peer for
 * (address, pid), link it and arm its first ping after a random interval.
 * Failures are logged: the member then is not pinged. */
static void cent__peer_add(cent_state_t* s, const char* address, uint16_t pid)
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

/* Contract: no lock held. Unlink the peer of (address, pid), if any, and
 * free it now, or let its in-flight ping completion free it. */
static void cent__peer_remove(cent_state_t* s, const char* address, uint16_t pid)
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

static void cent__ping_done(void* uargs, hg_return_t ret, const void* out, size_t out_len)
{
    cent_peer_t* p = uargs;
    cent_state_t* s = p->state;
    cent_change_t* died = NULL;
    bool free_it = false;

    pthread_mutex_lock(&s->mtx);
    p->in_flight = false;
    if (p->removed) {
        free_it = true;
    } else if (!s->closing && !p->declared) {
        bool dead = flock__cent_record_ping(&p->failures, ret == HG_SUCCESS,
                                            (unsigned)s->config.ping_max_num_timeouts);
        if (ret != HG_SUCCESS)
            margo_debug(s->mid,
                        CENT_LOG_PREFIX "ping to %s (%u) failed (%s), %u in a row",
                        p->address, p->provider_id, HG_Error_to_string(ret), p->failures);
        if (dead) {
            p->declared = true;
            died = calloc(1, sizeof(*died));
            if (died) died->address = strdup(p->address);
            if (died && died->address) {
                died->type = FLOCK_MEMBER_DIED;
                died->provider_id = p->provider_id;
            } else {
                if (died) free(died);
                died = NULL;
                p->declared = false; /* try again at the next ping */
                margo_error(s->mid, CENT_LOG_PREFIX "out of memory declaring a death");
            }
        }
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

/* ------------------------------------------------------------------ */
/* Primary: broadcasting and committing                                 */
/* ------------------------------------------------------------------ */

typedef struct cent_target {
    char* address;
    uint16_t provider_id;
    hg_addr_t addr;
} cent_target_t;

typedef struct cent_bcast {
    pthread_mutex_t m;
    pthread_cond_t c;
    size_t pending;
} cent_bcast_t;

static void cent__bcast_done(void* uargs, hg_return_t ret, const void* out,
                             size_t out_len)
{
    cent_bcast_t* bc = uargs;
    pthread_mutex_lock(&bc->m);
    bc->pending--;
    pthread_cond_broadcast(&bc->c);
    pthread_mutex_unlock(&bc->m);
}

/* Contract: no lock held. Send the encoded update to every target in
 * parallel (CENT_UPDATE_TIMEOUT_MS each) and wait for all the answers or
 * timeouts; failures are only logged (failure detection handles them). */
static void cent__broadcast(cent_state_t* s, const frt_wbuf* msg, cent_target_t* t,
                            size_t n)
{
    cent_bcast_t bc;
    pthread_mutex_init(&bc.m, NULL);
    pthread_cond_init(&bc.c, NULL);
    bc.pending = 0;
    for (size_t i = 0; i < n; i++) {
        if (margo_addr_lookup(s->mid, t[i].address, &t[i].addr) != HG_SUCCESS) {
            t[i].addr = HG_ADDR_NULL;
            continue;
        }
        pthread_mutex_lock(&bc.m);
        bc.pending++;
        pthread_mutex_unlock(&bc.m);
        hg_return_t hret = frt_forward_async(
            s->mid, t[i].addr, FLOCK__CENT_RPC_UPDATE, t[i].provider_id, msg->data,
            msg->len, CENT_UPDATE_TIMEOUT_MS, cent__bcast_done, &bc);
        if (hret != HG_SUCCESS) {
            margo_debug(s->mid, CENT_LOG_PREFIX "update to %s failed: %s", t[i].address,
                        HG_Error_to_string(hret));
            pthread_mutex_lock(&bc.m);
            bc.pending--;
            pthread_mutex_unlock(&bc.m);
        }
    }
    frt_wait_begin(); /* the completions need handler threads */
    pthread_mutex_lock(&bc.m);
    while (bc.pending > 0)
        pthread_cond_wait(&bc.c, &bc.m);
    pthread_mutex_unlock(&bc.m);
    frt_wait_end();
    for (size_t i = 0; i < n; i++)
        if (t[i].addr != HG_ADDR_NULL) margo_addr_free(s->mid, t[i].addr);
    pthread_cond_destroy(&bc.c);
    pthread_mutex_destroy(&bc.m);
}

static void cent__change_free(cent_change_t* c)
{
    if (!c) return;
    free(c->address);
    free(c);
}

/* Contract: no lock held; the calling thread is the committer. Apply one
 * batch of queued changes, notify, broadcast, answer the requesters. */
static void cent__process_batch(cent_state_t* s, cent_change_t* batch, bool closing)
{
    flock__cent_event_t* evs = NULL;
    size_t nevs = 0;
    size_t nbatch = 0;
    cent_target_t* targets = NULL;
    size_t ntargets = 0;
    frt_wbuf joinmsg = FRT_WBUF_INIT;
    frt_wbuf update = FRT_WBUF_INIT;
    uint64_t seq_after, digest_after;
    bool any_join = false;

    for (cent_change_t* c = batch; c; c = c->next)
        nbatch++;
    if (closing) {
        for (cent_change_t* c = batch; c; c = c->next)
            c->result = FLOCK_ERR_OTHER;
        goto answer;
    }
    evs = calloc(nbatch, sizeof(*evs));
    if (!evs) {
        for (cent_change_t* c = batch; c; c = c->next)
            c->result = FLOCK_ERR_ALLOCATION;
        goto answer;
    }

    FLOCK_GROUP_VIEW_LOCK(&s->view);
    for (cent_change_t* c = batch; c; c = c->next) {
        bool present =
            flock_group_view_find_member(&s->view, c->address, c->provider_id) != NULL;
        switch (flock__cent_change_for(c->type, present)) {
        case FLOCK__CENT_ADD:
            if (!flock_group_view_add_member(&s->view, c->address, c->provider_id)) {
                c->result = FLOCK_ERR_ALLOCATION;
                continue;
            }
            break;
        case FLOCK__CENT_REMOVE:
            flock_group_view_remove_member(
                &s->view,
                flock_group_view_find_member(&s->view, c->address, c->provider_id));
            break;
        default:
            if (c->type == FLOCK_MEMBER_JOINED) {
                margo_error(s->mid,
                            CENT_LOG_PREFIX "join refused: %s (%u) is already a member",
                            c->address, c->provider_id);
                c->result = FLOCK_ERR_INVALID_ARGS;
            } else {
                if (c->type == FLOCK_MEMBER_LEFT)
                    margo_error(s->mid,
                                CENT_LOG_PREFIX "leave from %s (%u): not a member",
                                c->address, c->provider_id);
                c->result = FLOCK_ERR_NOT_A_MEMBER;
            }
            continue;
        }
        c->applied = true;
        c->result = FLOCK_SUCCESS;
        evs[nevs].seq = cent__next_seq_locked(s, c->type, c->address, c->provider_id);
        evs[nevs].type = c->type;
        evs[nevs].address = c->address; /* borrowed from the change */
        evs[nevs].provider_id = c->provider_id;
        nevs++;
        if (c->type == FLOCK_MEMBER_JOINED) any_join = true;
    }
    seq_after = s->seq;
    digest_after = s->view.digest;
    if (any_join) {
        flock__cent_encode_status(&joinmsg, FLOCK_SUCCESS);
        frt_put_u64(&joinmsg, seq_after);
        flock__view_encode(&joinmsg, &s->view);
    }
    /* targets: every member but self and this batch's joiners */
    if (nevs > 0) {
        targets =
            calloc(s->view.members.size ? s->view.members.size : 1, sizeof(*targets));
        for (size_t i = 0; targets && i < s->view.members.size; i++) {
            const flock_member_t* m = &s->view.members.data[i];
            bool skip = flock__cent_same_member(m->address, m->provider_id, s->self_addr,
                                                s->provider_id);
            for (cent_change_t* c = batch; c && !skip; c = c->next)
                skip = c->applied && c->type == FLOCK_MEMBER_JOINED &&
                       flock__cent_same_member(m->address, m->provider_id, c->address,
                                               c->provider_id);
            if (skip) continue;
            targets[ntargets].address = strdup(m->address);
            targets[ntargets].provider_id = m->provider_id;
            if (targets[ntargets].address) ntargets++;
        }
        if (!targets)
            margo_error(s->mid, CENT_LOG_PREFIX "out of memory: update not broadcast");
    }
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);

    /* leavers can go now */
    for (cent_change_t* c = batch; c; c = c->next) {
        if (c->req && c->type == FLOCK_MEMBER_LEFT) {
            cent__respond_status(c->req, c->result);
            c->req = NULL;
        }
    }
    /* ping bookkeeping */
    for (cent_change_t* c = batch; c; c = c->next) {
        if (!c->applied) continue;
        if (c->type == FLOCK_MEMBER_JOINED)
            cent__peer_add(s, c->address, c->provider_id);
        else
            cent__peer_remove(s, c->address, c->provider_id);
    }
    for (size_t i = 0; i < nevs; i++)
        margo_info(s->mid, CENT_LOG_PREFIX "%s (%u) %s (seq %llu)", evs[i].address,
                   evs[i].provider_id, cent__update_name(evs[i].type),
                   (unsigned long long)evs[i].seq);
    cent__notify(s, evs, nevs);
    if (nevs > 0 && ntargets > 0) {
        flock__cent_encode_events(&update, evs, nevs);
        if (update.failed)
            margo_error(s->mid, CENT_LOG_PREFIX "out of memory: update not broadcast");
        else
            cent__broadcast(s, &update, targets, ntargets);
    }
    pthread_mutex_lock(&s->mtx);
    s->committed_seq = seq_after;
    s->committed_digest = digest_after;
    pthread_mutex_unlock(&s->mtx);

answer:
    for (cent_change_t* c = batch; c; c = c->next) {
        if (!c->req) continue;
        if (c->applied && c->type == FLOCK_MEMBER_JOINED && !joinmsg.failed)
            frt_respond(c->req, joinmsg.data, joinmsg.len);
        else
            cent__respond_status(c->req, c->applied ? FLOCK_ERR_ALLOCATION : c->result);
        c->req = NULL;
    }
    while (batch) {
        cent_change_t* next = batch->next;
        cent__change_free(batch);
        batch = next;
    }
    for (size_t i = 0; i < ntargets; i++)
        free(targets[i].address);
    free(targets);
    free(evs);
    frt_wbuf_free(&joinmsg);
    frt_wbuf_free(&update);
}

/* Contract: no lock held. Queue c (ownership taken) and, if no other thread
 * is committing, drain the queue on this thread. */
static void cent__enqueue_and_commit(cent_state_t* s, cent_change_t* c)
{
    pthread_mutex_lock(&s->mtx);
    c->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = c;
    else
        s->queue_head = c;
    s->queue_tail = c;
    if (s->committing) {
        pthread_mutex_unlock(&s->mtx);
        return;
    }
    s->committing = true;
    while (s->queue_head) {
        cent_change_t* batch = s->queue_head;
        bool closing = s->closing;
        s->queue_head = s->queue_tail = NULL;
        pthread_mutex_unlock(&s->mtx);
        cent__process_batch(s, batch, closing);
        pthread_mutex_lock(&s->mtx);
    }
    s->committing = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mtx);
}

/* Contract: handler of join/leave on the primary. */
static void cent__queue_request(cent_state_t* s, frt_request_t req, flock_update_t type,
                                const void* in, size_t in_len)
{
    uint16_t pid;
    cent_change_t* c = NULL;
    const char* src = frt_request_source(req);

    if (!flock__cent_decode_u16(in, in_len, &pid) || !src || !*src) {
        margo_error(s->mid, CENT_LOG_PREFIX "malformed %s request dropped",
                    type == FLOCK_MEMBER_JOINED ? "join" : "leave");
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!s->is_primary) {
        margo_error(s->mid,
                    CENT_LOG_PREFIX "%s request from %s sent to a non-primary member",
                    type == FLOCK_MEMBER_JOINED ? "join" : "leave", src);
        cent__respond_status(req, FLOCK_ERR_OP_FORBIDDEN);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c) c->address = strdup(src);
    if (!c || !c->address) {
        cent__change_free(c);
        cent__respond_status(req, FLOCK_ERR_ALLOCATION);
        return;
    }
    c->type = type;
    c->provider_id = pid;
    c->req = req;
    cent__enqueue_and_commit(s, c); /* answers req, now or later */
}

static void cent__join_handler(frt_request_t req, const void* in, size_t in_len,
                               void* uargs)
{
    cent__queue_request(uargs, req, FLOCK_MEMBER_JOINED, in, in_len);
}

static void cent__leave_handler(frt_request_t req, const void* in, size_t in_len,
                                void* uargs)
{
    cent__queue_request(uargs, req, FLOCK_MEMBER_LEFT, in, in_len);
}

/* Primary: a member asks for the changes after since_seq, or the full view. */
static void cent__get_view_handler(frt_request_t req, const void* in, size_t in_len,
                                   void* uargs)
{
    cent_state_t* s = uargs;
    frt_wbuf b = FRT_WBUF_INIT;
    uint64_t since;
    bool want_full;
    size_t first = 0, n = 0;

    if (!flock__cent_decode_view_req(in, in_len, &since, &want_full)) {
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!s->is_primary) {
        cent__respond_status(req, FLOCK_ERR_OP_FORBIDDEN);
        return;
    }
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    flock__cent_encode_status(&b, FLOCK_SUCCESS);
    if (!want_full && since <= s->seq &&
        flock__cent_log_since(&s->log, since, &first, &n)) {
        frt_put_u8(&b, FLOCK__CENT_KIND_EVENTS);
        frt_put_u64(&b, s->seq);
        frt_put_u32(&b, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            const flock__cent_event_t* e = flock__cent_log_at(&s->log, first + i);
            frt_put_u64(&b, e->seq);
            frt_put_u8(&b, (uint8_t)e->type);
            frt_put_str(&b, e->address);
            frt_put_u16(&b, e->provider_id);
        }
    } else {
        frt_put_u8(&b, FLOCK__CENT_KIND_VIEW);
        frt_put_u64(&b, s->seq);
        flock__view_encode(&b, &s->view);
    }
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    if (b.failed)
        cent__respond_status(req, FLOCK_ERR_ALLOCATION);
    else
        frt_respond(req, b.data, b.len);
    frt_wbuf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Secondary: applying updates, catching up                             */
/* ------------------------------------------------------------------ */

/* Contract: sync_mtx held, view lock not held. Apply evs in seq order,
 * skipping those already applied; stop at a gap (*gap = true). Callbacks
 * fire (without the view lock) for the events that changed the view. */
static void cent__apply_events(cent_state_t* s, const flock__cent_event_t* evs, size_t n,
                               bool* gap)
{
    flock__cent_event_t* fired = NULL;
    size_t nfired = 0;
    *gap = false;
    if (n == 0) return;
    fired = calloc(n, sizeof(*fired));
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    for (size_t i = 0; i < n; i++) {
        const flock__cent_event_t* e = &evs[i];
        flock__cent_seq_action_t a = flock__cent_classify_seq(s->seq, e->seq);
        if (a == FLOCK__CENT_SEQ_SKIP) continue;
        if (a == FLOCK__CENT_SEQ_GAP) {
            *gap = true;
            break;
        }
        flock_member_t* m =
            flock_group_view_find_member(&s->view, e->address, e->provider_id);
        flock__cent_change_t ch = flock__cent_change_for(e->type, m != NULL);
        if (ch == FLOCK__CENT_ADD) {
            if (!flock_group_view_add_member(&s->view, e->address, e->provider_id)) {
                /* out of memory: leave seq behind, a later ping resyncs us */
                margo_error(s->mid, CENT_LOG_PREFIX "out of memory applying an update");
                *gap = true;
                break;
            }
        } else if (ch == FLOCK__CENT_REMOVE) {
            flock_group_view_remove_member(&s->view, m);
        }
        s->seq = e->seq;
        if (ch != FLOCK__CENT_NOOP && fired) fired[nfired++] = *e; /* address borrowed */
    }
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    for (size_t i = 0; i < nfired; i++) {
        if (flock__cent_same_member(fired[i].address, fired[i].provider_id, s->self_addr,
                                    s->provider_id) &&
            fired[i].type != FLOCK_MEMBER_JOINED)
            margo_warning(s->mid, CENT_LOG_PREFIX "the primary removed this member (%s)",
                          cent__update_name(fired[i].type));
    }
    cent__notify(s, fired, nfired);
    free(fired);
}

/* Contract: sync_mtx held, no other lock. Ask the primary for what this
 * member misses (or the full view) and apply it. Errors are logged; the
 * next ping retries. */
static void cent__catch_up_locked(cent_state_t* s, bool want_full)
{
    frt_wbuf req = FRT_WBUF_INIT;
    void* out = NULL;
    size_t olen = 0;
    frt_rbuf r;
    uint32_t status;
    uint8_t kind;
    uint64_t seq;
    flock__cent_event_t* evs = NULL;
    size_t n = 0;
    bool gap = false;
    hg_return_t hret;
    flock_group_view_t tmp = FLOCK_GROUP_VIEW_INITIALIZER;

    for (int attempt = 0; attempt < 2; attempt++) {
        uint64_t since;
        FLOCK_GROUP_VIEW_LOCK(&s->view);
        since = s->seq;
        FLOCK_GROUP_VIEW_UNLOCK(&s->view);
        frt_wbuf_free(&req);
        flock__cent_encode_view_req(&req, since, want_full);
        if (req.failed) goto finish;
        free(out);
        out = NULL;
        hret = frt_forward(s->mid, s->primary_addr, FLOCK__CENT_RPC_VIEW,
                           s->config.primary_provider_id, req.data, req.len,
                           CENT_CATCH_UP_TIMEOUT_MS, &out, &olen);
        if (hret != HG_SUCCESS) {
            margo_warning(s->mid,
                          CENT_LOG_PREFIX "cannot reach the primary to resync: %s",
                          HG_Error_to_string(hret));
            goto finish;
        }
        frt_rbuf_init(&r, out, olen);
        if (!flock__cent_decode_status(&r, &status)) goto malformed;
        if (status != FLOCK_SUCCESS) {
            margo_warning(s->mid, CENT_LOG_PREFIX "the primary refused to resync us (%u)",
                          status);
            goto finish;
        }
        kind = frt_get_u8(&r);
        seq = frt_get_u64(&r);
        if (!frt_rbuf_ok(&r)) goto malformed;
        if (kind == FLOCK__CENT_KIND_EVENTS) {
            if (!flock__cent_decode_events(&r, &evs, &n) || !frt_rbuf_done(&r))
                goto malformed;
            cent__apply_events(s, evs, n, &gap);
            flock__cent_events_free(evs, n);
            evs = NULL;
            if (!gap) goto finish;
            want_full = true; /* inconsistent log: take the whole view */
        } else if (kind == FLOCK__CENT_KIND_VIEW) {
            if (flock__view_decode(&r, &tmp) != FLOCK_SUCCESS || !frt_rbuf_done(&r))
                goto malformed;
            FLOCK_GROUP_VIEW_LOCK(&s->view);
            flock_group_view_clear(&s->view);
            FLOCK_GROUP_VIEW_MOVE(&tmp, &s->view);
            s->seq = seq;
            FLOCK_GROUP_VIEW_UNLOCK(&s->view);
            margo_debug(s->mid,
                        CENT_LOG_PREFIX "view resynchronized from the primary (seq %llu)",
                        (unsigned long long)seq);
            goto finish;
        } else {
            goto malformed;
        }
    }
    goto finish;
malformed:
    margo_error(s->mid,
                CENT_LOG_PREFIX "malformed resync reply from the primary dropped");
finish:
    flock__cent_events_free(evs, n);
    flock_group_view_clear(&tmp);
    frt_wbuf_free(&req);
    free(out);
}

static void cent__update_handler(frt_request_t req, const void* in, size_t in_len,
                                 void* uargs)
{
    cent_state_t* s = uargs;
    flock__cent_event_t* evs = NULL;
    size_t n = 0;
    bool gap = false;
    frt_rbuf r;

    frt_rbuf_init(&r, in, in_len);
    if (!flock__cent_decode_events(&r, &evs, &n) || !frt_rbuf_done(&r)) {
        margo_error(s->mid, CENT_LOG_PREFIX "malformed membership update from %s dropped",
                    frt_request_source(req));
        flock__cent_events_free(evs, n); /* decoded but followed by trailing bytes */
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (s->is_primary) {
        flock__cent_events_free(evs, n);
        cent__respond_status(req, FLOCK_ERR_OP_FORBIDDEN);
        return;
    }
    pthread_mutex_lock(&s->sync_mtx);
    cent__apply_events(s, evs, n, &gap);
    if (gap) cent__catch_up_locked(s, false);
    pthread_mutex_unlock(&s->sync_mtx);
    flock__cent_events_free(evs, n);
    cent__respond_status(req, FLOCK_SUCCESS);
}

static void cent__ping_handler(frt_request_t req, const void* in, size_t in_len,
                               void* uargs)
{
    cent_state_t* s = uargs;
    uint64_t seq, digest;
    bool ok = flock__cent_decode_ping(in, in_len, &seq, &digest);

    if (!ok) {
        frt_respond_error(req, HG_PROTOCOL_ERROR);
        return;
    }
    frt_respond(req, NULL, 0); /* answer first: the primary is timing us */
    if (s->is_primary) return;
    pthread_mutex_lock(&s->sync_mtx);
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    bool behind = s->seq < seq;
    bool need = flock__cent_needs_catch_up(s->seq, s->view.digest, seq, digest);
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    if (need && s->joined) cent__catch_up_locked(s, !behind);
    pthread_mutex_unlock(&s->sync_mtx);
}

/* ------------------------------------------------------------------ */
/* Init / destroy                                                       */
/* ------------------------------------------------------------------ */

static void cent__deregister_all(cent_state_t* s)
{
    for (int i = 0; i < 5; i++) {
        if (s->rpc_registered[i])
            frt_rpc_deregister(s->mid, cent_rpc_names[i], s->provider_id);
        s->rpc_registered[i] = false;
    }
}

static flock_return_t cent__register_all(cent_state_t* s)
{
    static const frt_handler_fn handlers[5] = {cent__ping_handler, cent__update_handler,
                                               cent__get_view_handler,
                                               cent__leave_handler, cent__join_handler};
    for (int i = 0; i < 5; i++) {
        hg_return_t h = frt_rpc_register(s->mid, cent_rpc_names[i], s->provider_id,
                                         handlers[i], s, s->pool);
        if (h != HG_SUCCESS) {
            margo_error(s->mid,
                        CENT_LOG_PREFIX "cannot register RPC %s for provider %u: %s",
                        cent_rpc_names[i], s->provider_id, HG_Error_to_string(h));
            return FLOCK_ERR_FROM_MERCURY;
        }
        s->rpc_registered[i] = true;
    }
    return FLOCK_SUCCESS;
}

/* Free everything; RPCs deregistered and no peer/timer left. NULL-safe. */
static void cent__state_free(cent_state_t* s)
{
    if (!s) return;
    while (s->peers) {
        cent_peer_t* p = s->peers;
        s->peers = p->next;
        cent__peer_free(p);
    }
    while (s->queue_head) {
        cent_change_t* c = s->queue_head;
        s->queue_head = c->next;
        if (c->req) cent__respond_status(c->req, FLOCK_ERR_OTHER);
        cent__change_free(c);
    }
    if (s->primary_addr != HG_ADDR_NULL) margo_addr_free(s->mid, s->primary_addr);
    flock_group_view_clear(&s->view);
    flock__cent_log_destroy(&s->log);
    flock__cent_config_destroy(&s->config);
    if (s->config_json) json_object_put(s->config_json);
    free(s->self_addr);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mtx);
    pthread_mutex_destroy(&s->sync_mtx);
    free(s);
}

/* Contract: sync_mtx held by the caller; RPCs registered. Join through the
 * primary (waiting at most timeout_ms) and install the view it returns. */
static flock_return_t cent__join(cent_state_t* s, double timeout_ms,
                                 hg_return_t* transport)
{
    flock_return_t ret = FLOCK_SUCCESS;
    frt_wbuf b = FRT_WBUF_INIT;
    void* out = NULL;
    size_t olen = 0;
    frt_rbuf r;
    uint32_t status;
    uint64_t seq;
    hg_return_t hret;
    flock_group_view_t tmp = FLOCK_GROUP_VIEW_INITIALIZER;

    flock__cent_encode_u16(&b, s->provider_id);
    if (b.failed) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    hret = frt_forward(s->mid, s->primary_addr, FLOCK__CENT_RPC_JOIN,
                       s->config.primary_provider_id, b.data, b.len, timeout_ms, &out,
                       &olen);
    *transport = hret;
    if (hret != HG_SUCCESS) {
        margo_warning(s->mid,
                      CENT_LOG_PREFIX "join request to the primary %s (%u) failed: %s",
                      s->config.primary_address, s->config.primary_provider_id,
                      HG_Error_to_string(hret));
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    frt_rbuf_init(&r, out, olen);
    if (!flock__cent_decode_status(&r, &status)) goto malformed;
    if (status != FLOCK_SUCCESS) {
        ret = flock__cent_status_to_return(status);
        margo_error(s->mid, CENT_LOG_PREFIX "the primary refused the join of %s (%u): %s",
                    s->self_addr, s->provider_id,
                    status == FLOCK_ERR_INVALID_ARGS ? "already a member" : "error");
        goto finish;
    }
    seq = frt_get_u64(&r);
    if (!frt_rbuf_ok(&r) || flock__view_decode(&r, &tmp) != FLOCK_SUCCESS ||
        !frt_rbuf_done(&r))
        goto malformed;
    if (!flock_group_view_find_member(&tmp, s->self_addr, s->provider_id)) {
        margo_error(s->mid,
                    CENT_LOG_PREFIX
                    "joined, but the primary's view does not list %s (%u): the "
                    "primary sees this process under another address",
                    s->self_addr, s->provider_id);
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    flock_group_view_clear(&s->view);
    FLOCK_GROUP_VIEW_MOVE(&tmp, &s->view);
    s->seq = seq;
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    goto finish;
malformed:
    margo_error(s->mid, CENT_LOG_PREFIX "malformed join reply from the primary");
    ret = FLOCK_ERR_FROM_MERCURY;
finish:
    flock_group_view_clear(&tmp);
    frt_wbuf_free(&b);
    free(out);
    return ret;
}

/* Contract: as cent__join. A primary that cannot be reached (connection
 * refused or lost: a restarting link, a primary still starting; then "no
 * such provider" while that primary finishes registering) is retried every
 * 200 ms for CENT_JOIN_RETRY_MS. If a lost connection hid a join the
 * primary did apply, the retry is refused as a duplicate: the full view is
 * then fetched and the join succeeds if it lists this member. */
static flock_return_t cent__join_with_retry(cent_state_t* s)
{
    double deadline = frt_now_ms() + CENT_JOIN_RETRY_MS;
    bool retried = false;
    flock_return_t ret;
    for (;;) {
        hg_return_t transport = HG_SUCCESS;
        ret = cent__join(s, CENT_JOIN_TIMEOUT_MS, &transport);
        if (ret == FLOCK_SUCCESS) break;
        if (ret == FLOCK_ERR_INVALID_ARGS && retried) {
            bool listed;
            cent__catch_up_locked(s, true);
            FLOCK_GROUP_VIEW_LOCK(&s->view);
            listed = flock_group_view_find_member(&s->view, s->self_addr,
                                                  s->provider_id) != NULL;
            FLOCK_GROUP_VIEW_UNLOCK(&s->view);
            ret = listed ? FLOCK_SUCCESS : ret;
            break;
        }
        /* HG_NOENTRY after a refused connection: the primary's process is
         * now listening but has not registered its provider yet (it is
         * still starting); keep retrying. HG_NOENTRY on the first attempt
         * (a wrong provider id, say) fails at once. */
        bool starting = retried && transport == HG_NOENTRY;
        if ((transport != HG_HOSTUNREACH && !starting) || frt_now_ms() >= deadline) break;
        retried = true;
        margo_thread_sleep(s->mid, 200);
    }
    if (ret != FLOCK_SUCCESS)
        margo_error(s->mid, CENT_LOG_PREFIX "could not join the group through %s (%u)",
                    s->config.primary_address, s->config.primary_provider_id);
    return ret;
}

static flock_return_t cent_init(flock_backend_init_args_t* args, void** state)
{
    flock_return_t ret = FLOCK_SUCCESS;
    cent_state_t* s = NULL;
    const char* view_cfg_str = NULL;
    char err[256] = "";
    bool sync_held = false;

    if (!args || !state || !args->self_addr_str) return FLOCK_ERR_INVALID_ARGS;
    if (args->initial_view.members.size == 0) {
        margo_error(args->mid,
                    CENT_LOG_PREFIX "the centralized backend requires at least one "
                                    "member in the initial view");
        return FLOCK_ERR_INVALID_ARGS;
    }
    s = calloc(1, sizeof(*s));
    if (!s) return FLOCK_ERR_ALLOCATION;
    pthread_mutex_init(&s->mtx, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->sync_mtx, NULL);
    s->mid = args->mid;
    s->provider_id = args->provider_id;
    s->pool = args->pool;
    s->cb_args.mid = args->mid;
    s->cb_args.provider_id = args->provider_id;
    s->cb_args.member_update_callback = args->member_update_callback;
    s->cb_args.metadata_update_callback = args->metadata_update_callback;
    s->cb_args.callback_context = args->callback_context;
    s->primary_addr = HG_ADDR_NULL;
    flock__cent_config_default(&s->config);
    s->self_addr = strdup(args->self_addr_str);
    if (!s->self_addr) {
        ret = FLOCK_ERR_ALLOCATION;
        goto fail;
    }
    {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
                 ((uint64_t)getpid() << 32) ^ ((uint64_t)args->provider_id << 48) ^
                 (uint64_t)(uintptr_t)s;
        if (s->rng == 0) s->rng = 0x9E3779B97F4A7C15ULL;
    }

    /* config: the view's __config__ wins over group.config */
    view_cfg_str = flock_group_view_find_metadata(&args->initial_view, "__config__");
    ret =
        flock__cent_config_parse(args->config, view_cfg_str, &s->config, err, sizeof err);
    if (ret != FLOCK_SUCCESS) {
        margo_error(s->mid, CENT_LOG_PREFIX "invalid configuration: %s", err);
        goto fail;
    }
    if (!s->config.primary_address) {
        const flock_member_t* first = &args->initial_view.members.data[0];
        if (args->join) {
            margo_error(s->mid,
                        CENT_LOG_PREFIX "joining requires \"primary_address\" (in the "
                                        "view's __config__ or in the group config)");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto fail;
        }
        ret = flock__cent_config_set_primary(&s->config, first->address,
                                             s->config.has_primary_provider_id
                                                 ? s->config.primary_provider_id
                                                 : first->provider_id);
        if (ret != FLOCK_SUCCESS) goto fail;
    }
    if (!flock_group_view_find_member(&args->initial_view, s->config.primary_address,
                                      s->config.primary_provider_id)) {
        margo_error(s->mid,
                    CENT_LOG_PREFIX "the primary %s (%u) is not in the initial view",
                    s->config.primary_address, s->config.primary_provider_id);
        ret = FLOCK_ERR_INVALID_CONFIG;
        goto fail;
    }
    s->is_primary =
        flock__cent_same_member(s->config.primary_address, s->config.primary_provider_id,
                                s->self_addr, s->provider_id);
    s->config_json = flock__cent_config_to_json(&s->config);
    if (!s->config_json) {
        ret = FLOCK_ERR_ALLOCATION;
        goto fail;
    }
    if (margo_addr_lookup(s->mid, s->config.primary_address, &s->primary_addr) !=
        HG_SUCCESS) {
        margo_error(s->mid, CENT_LOG_PREFIX "cannot resolve the primary address %s",
                    s->config.primary_address);
        ret = FLOCK_ERR_FROM_MERCURY;
        goto fail;
    }

    /* the view: initial members + reserved metadata */
    FLOCK_GROUP_VIEW_MOVE(&args->initial_view, &s->view);
    ret = flock__view_set_reserved_metadata(&s->view, "centralized", s->config_json);
    if (ret != FLOCK_SUCCESS) goto fail;
    if (s->is_primary) {
        ret = flock__cent_log_init(&s->log, CENT_EVENT_LOG_CAPACITY);
        if (ret != FLOCK_SUCCESS) goto fail;
    }
    s->committed_seq = 0;
    s->committed_digest = s->view.digest;

    if (args->join) {
        pthread_mutex_lock(&s->sync_mtx); /* updates wait until we are in */
        sync_held = true;
    } else {
        s->joined = !s->is_primary;
    }
    ret = cent__register_all(s);
    if (ret != FLOCK_SUCCESS) goto fail;

    if (args->join) {
        ret = cent__join_with_retry(s);
        if (ret != FLOCK_SUCCESS) goto fail;
        s->joined = true;
        pthread_mutex_unlock(&s->sync_mtx);
        sync_held = false;
    } else if (s->is_primary) {
        for (size_t i = 0; i < s->view.members.size; i++) {
            char* addr;
            uint16_t pid;
            FLOCK_GROUP_VIEW_LOCK(&s->view);
            addr = strdup(s->view.members.data[i].address);
            pid = s->view.members.data[i].provider_id;
            FLOCK_GROUP_VIEW_UNLOCK(&s->view);
            if (!addr) {
                ret = FLOCK_ERR_ALLOCATION;
                goto fail;
            }
            if (!flock__cent_same_member(addr, pid, s->self_addr, s->provider_id))
                cent__peer_add(s, addr, pid);
            free(addr);
        }
    }
    margo_debug(s->mid, CENT_LOG_PREFIX "provider %u ready as %s (%zu members)",
                s->provider_id, s->is_primary ? "primary" : "secondary",
                (size_t)s->view.members.size);
    *state = s;
    return FLOCK_SUCCESS;

fail:
    if (sync_held) pthread_mutex_unlock(&s->sync_mtx);
    if (s) {
        pthread_mutex_lock(&s->mtx);
        s->closing = true;
        pthread_mutex_unlock(&s->mtx);
        cent__deregister_all(s);
        frt_wait_begin();
        pthread_mutex_lock(&s->mtx);
        while (s->inflight > 0 || s->committing)
            pthread_cond_wait(&s->cv, &s->mtx);
        pthread_mutex_unlock(&s->mtx);
        frt_wait_end();
    }
    cent__state_free(s);
    return ret;
}

static flock_return_t cent_destroy(void* state)
{
    cent_state_t* s = state;
    cent_peer_t* peers = NULL;
    if (!s) return FLOCK_ERR_INVALID_ARGS;

    /* 1. a member that is not the primary leaves gracefully */
    if (!s->is_primary && s->joined) {
        frt_wbuf b = FRT_WBUF_INIT;
        void* out = NULL;
        size_t olen = 0;
        flock__cent_encode_u16(&b, s->provider_id);
        if (!b.failed) {
            hg_return_t h = frt_forward(s->mid, s->primary_addr, FLOCK__CENT_RPC_LEAVE,
                                        s->config.primary_provider_id, b.data, b.len,
                                        CENT_LEAVE_TIMEOUT_MS, &out, &olen);
            if (h != HG_SUCCESS)
                margo_warning(s->mid, CENT_LOG_PREFIX "leave notification failed: %s",
                              HG_Error_to_string(h));
        }
        free(out);
        frt_wbuf_free(&b);
    }
    /* 2. stop accepting work, wait for running handlers */
    pthread_mutex_lock(&s->mtx);
    s->closing = true;
    pthread_mutex_unlock(&s->mtx);
    cent__deregister_all(s);
    /* 3. stop the ping timers (waits for running timer callbacks) */
    pthread_mutex_lock(&s->mtx);
    peers = s->peers;
    s->peers = NULL;
    pthread_mutex_unlock(&s->mtx);
    for (cent_peer_t* p = peers; p; p = p->next) {
        if (p->timer != MARGO_TIMER_NULL) margo_timer_cancel(p->timer);
    }
    /* 4. wait for in-flight pings and an active committer */
    frt_wait_begin();
    pthread_mutex_lock(&s->mtx);
    while (s->inflight > 0 || s->committing)
        pthread_cond_wait(&s->cv, &s->mtx);
    pthread_mutex_unlock(&s->mtx);
    frt_wait_end();
    while (peers) {
        cent_peer_t* p = peers;
        peers = p->next;
        cent__peer_free(p);
    }
    cent__state_free(s);
    return FLOCK_SUCCESS;
}

static flock_return_t
cent_get_config(void* state, void (*fn)(void*, const struct json_object*), void* uargs)
{
    cent_state_t* s = state;
    if (!s || !fn) return FLOCK_ERR_INVALID_ARGS;
    fn(uargs, s->config_json);
    return FLOCK_SUCCESS;
}

static flock_return_t
cent_get_view(void* state, void (*fn)(void*, const flock_group_view_t*), void* uargs)
{
    cent_state_t* s = state;
    if (!s || !fn) return FLOCK_ERR_INVALID_ARGS;
    fn(uargs, &s->view); /* the caller locks the view */
    return FLOCK_SUCCESS;
}

static flock_return_t cent_add_metadata(void* state, const char* key, const char* value)
{
    return FLOCK_ERR_OP_UNSUPPORTED;
}

static flock_return_t cent_remove_metadata(void* state, const char* key)
{
    return FLOCK_ERR_OP_UNSUPPORTED;
}

static flock_backend_impl cent_backend = {
    .name = "centralized",
    .init_group = cent_init,
    .destroy_group = cent_destroy,
    .get_config = cent_get_config,
    .get_view = cent_get_view,
    .add_metadata = cent_add_metadata,
    .remove_metadata = cent_remove_metadata,
};

flock_return_t flock_register_centralized_backend(void)
{
    return flock_register_backend(&cent_backend);
}
