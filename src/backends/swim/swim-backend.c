/*
 * swim-backend.c -- the "swim" Flock backend: drives the pure state machine
 * of swim-core.c over frt (async RPCs, one margo timer) and keeps the
 * backend's flock view in step with the machine's membership events.
 *
 * Threads and locks (see docs/design.md "SWIM backend"):
 *   - b->lock protects the state machine, the request table, the event
 *     queue and the timer bookkeeping. Every input (RPC handler, call
 *     completion, timer tick) takes it, feeds the machine, moves the outbox
 *     out, and releases it before any network call or callback.
 *   - The flock view is not stored: the machine flags the members whose
 *     JOINED was delivered (swim__publish), and get_view builds a private
 *     flock_group_view_t from them (plus the metadata) for the duration of
 *     the callback. Addresses are interned process-wide (swim-intern.h).
 *   - Membership events are delivered in order by a single drainer (the
 *     thread that finds `delivering` false), without any lock held, as the
 *     backend contract requires.
 *   - Crash hints: the runtime tells the backend (frt_peer_watch, on its
 *     loop thread) when a peer closes a connection; the callback only
 *     queues the address and fires the timer, whose tick feeds it to the
 *     machine (swim__hint). A call that cannot even connect (frt_forward_async
 *     fails with HG_HOSTUNREACH well before its timeout) is fed back as
 *     refused (swim__handle_refused).
 *   - On a tick grid (tick_grid_ms, or auto in a large group:
 *     swim__tick_grid_for), the timer fires on that grid (swim__grid_deadline),
 *     so the members of a process tick together and their messages share
 *     system calls.
 *   - Lifetime: b is reference-counted: the provider holds one reference
 *     until destroy_group, every in-flight call holds one. The peer watch is
 *     removed (frt_peer_unwatch waits for a running callback) before the
 *     provider's reference is dropped.
 */
#include "swim-backend.h"
#include "swim-backend-internal.h"
#include "swim-backend-state.h"
#include "swim-config.h"
#include "swim-core.h"
#include "swim-intern.h"
#include "swim-math.h"
#include "swim-wire.h"

#include "flock/backend-util.h"
#include "flock/builtin.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RPC_PING     "flock_swim_ping"
#define RPC_PING_REQ "flock_swim_ping_req"
#define RPC_ANNOUNCE "flock_swim_announce"
/* A joiner's first JOIN: the same message as on RPC_ANNOUNCE, on an urgent
 * RPC (frt_rpc_set_urgent) so that a seed busy with probes answers it
 * first. Only that: a SYNC or a REJOIN carries a whole state, and urgent
 * ones would starve the probes of an overloaded member (N = 2048 on two
 * cores collapsed with every announcement urgent). A member without it
 * (an older version) answers HG_NOENTRY: the JOIN is sent again on
 * RPC_ANNOUNCE. */
#define RPC_JOIN "flock_swim_join"

/* Shared by the sender and the completion (which may run on another thread
 * before frt_forward_async has returned): the last of the two frees it. */
typedef struct call_ctx {
    _Atomic int       refs;
    margo_instance_id mid;
    swim_backend*     b;
    uint64_t      call_id;
    uint8_t       expect;
    bool          via_join; /* sent on RPC_JOIN (RPC_ANNOUNCE if it is unknown there) */
    uint16_t      pid;
    double        timeout_ms;
    hg_addr_t     addr;
    char*         dest; /* the called address (the response's sender) */
    frt_wbuf      buf;
} call_ctx;

static flock_backend_impl swim_impl;

static void cc_release(call_ctx* cc)
{
    if (atomic_fetch_sub(&cc->refs, 1) != 1) return;
    if (cc->addr) margo_addr_free(cc->mid, cc->addr);
    free(cc->dest);
    frt_wbuf_free(&cc->buf);
    free(cc);
}

/* ------------------------------------------------------------------ */

static void backend_free(swim_backend* b)
{
    if (!b) return;
    swim__destroy(b->sm);
    flock_group_view_clear(&b->meta);
    for (size_t i = 0; i < b->nevq; i++) {
        free(b->evq[i].addr);
        free(b->evq[i].value);
    }
    for (int i = 0; i < b->nhints; i++) free(b->hints[i]);
    free(b->evq);
    free(b->reqs);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static void backend_release(swim_backend* b)
{
    if (atomic_fetch_sub(&b->refs, 1) == 1) {
        atomic_fetch_sub(&swim__g_providers, 1);
        backend_free(b);
    }
}

static void sm_log(void* ctx, int level, const char* msg)
{
    swim_backend* b = ctx;
    if (level >= SWIM_LOG_WARN)
        margo_warning(b->mid, "[flock:swim %s/%u] %s", b->args.self_addr_str, b->pid, msg);
    else if (level == SWIM_LOG_INFO)
        margo_info(b->mid, "[flock:swim %s/%u] %s", b->args.self_addr_str, b->pid, msg);
    else
        margo_debug(b->mid, "[flock:swim %s/%u] %s", b->args.self_addr_str, b->pid, msg);
}

static const char* rpc_for(uint8_t kind)
{
    switch (kind) {
    case SWIM_MSG_PING: return RPC_PING;
    case SWIM_MSG_PING_REQ: return RPC_PING_REQ;
    default: return RPC_ANNOUNCE;
    }
}

static uint8_t reply_kind_for(uint8_t kind)
{
    switch (kind) {
    case SWIM_MSG_PING: return SWIM_MSG_ACK;
    case SWIM_MSG_PING_REQ: return SWIM_MSG_PING_REQ_ACK;
    default: return SWIM_MSG_ANNOUNCE_ACK;
    }
}

/* ------------------------------------------------------------------ */
/* draining the machine's outputs                                      */
/* ------------------------------------------------------------------ */

static void on_complete(void* uargs, hg_return_t ret, const void* out, size_t out_len);

/* No lock held: publish one metadata change, then tell the provider
 * (frees the item's strings). */
static void deliver_metadata(swim_backend* b, evq_item* it)
{
    pthread_mutex_lock(&b->lock);
    bool ok = it->value ? flock_group_view_add_metadata(&b->meta, it->addr, it->value) != NULL
                        : (flock_group_view_remove_metadata(&b->meta, it->addr), true);
    pthread_mutex_unlock(&b->lock);
    if (ok)
        flock__notify_metadata(&b->args, it->addr, it->value);
    else
        margo_error(b->mid, "[flock:swim] out of memory publishing metadata key \"%.64s\"",
                    it->addr);
    free(it->addr);
    free(it->value);
}

static void deliver_events(swim_backend* b)
{
    pthread_mutex_lock(&b->lock);
    while (b->nevq > 0) {
        evq_item* items = b->evq;
        size_t    n     = b->nevq;
        b->evq          = NULL;
        b->nevq = b->capevq = 0;
        pthread_mutex_unlock(&b->lock);
        for (size_t i = 0; i < n; i++) {
            evq_item* it = &items[i];
            if (it->type == SWIM_EV_META) {
                deliver_metadata(b, it);
                continue;
            }
            flock_update_t up = it->type == SWIM_EV_JOINED ? FLOCK_MEMBER_JOINED
                                : it->type == SWIM_EV_LEFT ? FLOCK_MEMBER_LEFT
                                                           : FLOCK_MEMBER_DIED;
            /* the published view changes right before the callback */
            pthread_mutex_lock(&b->lock);
            bool changed = swim__publish(b->sm, it->addr, it->pid, up == FLOCK_MEMBER_JOINED);
            pthread_mutex_unlock(&b->lock);
            if (changed) flock__notify_member(&b->args, up, it->addr, it->pid);
            free(it->addr);
        }
        free(items);
        pthread_mutex_lock(&b->lock);
    }
    b->delivering = false;
    pthread_mutex_unlock(&b->lock);
}

/* b->lock held: move the outbox's events to the ordered delivery queue
 * (stops early, dropping the rest, if the queue cannot grow). */
static void queue_events(swim_backend* b, swim__outbox* ob)
{
    for (size_t i = 0; i < ob->nevents; i++) {
        if (b->nevq == b->capevq) {
            size_t    nc = b->capevq ? b->capevq * 2 : 16;
            evq_item* ne = realloc(b->evq, nc * sizeof *ne);
            if (!ne) break;
            b->evq    = ne;
            b->capevq = nc;
        }
        b->evq[b->nevq].type = ob->events[i].type;
        b->evq[b->nevq].addr = ob->events[i].addr;
        b->evq[b->nevq].pid   = ob->events[i].pid;
        b->evq[b->nevq].value = ob->events[i].value;
        ob->events[i].addr    = NULL;
        ob->events[i].value   = NULL;
        b->nevq++;
    }
}

/* b->lock held: take the requests the replies answer out of the table
 * (rq[i] for reply i, NULL if unknown; NULL array on allocation failure:
 * those requests stay in the table until destroy fails them). */
static frt_request_t* take_requests(swim_backend* b, const swim__outbox* ob)
{
    frt_request_t* rq = NULL;
    if (ob->nreplies) rq = calloc(ob->nreplies, sizeof *rq);
    for (size_t i = 0; rq && i < ob->nreplies; i++) {
        for (size_t k = 0; k < b->nreqs; k++) {
            if (b->reqs[k].token == ob->replies[i].token) {
                rq[i]      = b->reqs[k].req;
                b->reqs[k] = b->reqs[--b->nreqs];
                break;
            }
        }
    }
    if (b->nreqs == 0 && b->capreqs > 4) {
        /* idle again after a burst: no table kept */
        free(b->reqs);
        b->reqs    = NULL;
        b->capreqs = 0;
    }
    return rq;
}

/* b->lock held: re-arm the timer if the machine's next deadline (a future
 * one on the tick grid: timer coalescing, the members of a process tick
 * together) is earlier than the armed one. The clock is read only when the
 * grid is on or the timer moves. */
static void arm_timer(swim_backend* b)
{
    if (!b->timer) return;
    double d = b->closed ? INFINITY : swim__next_deadline(b->sm);
    const swim__config* cfg  = swim__get_config(b->sm);
    double              grid = swim__tick_grid_for(cfg->tick_grid_ms, cfg->protocol_period_ms,
                                                   (uint32_t)swim__view_size(b->sm));
    double              now  = -INFINITY;
    if (grid > 0) {
        now = frt_now_ms();
        d   = swim__grid_deadline(d, now, grid);
    }
    if (d < b->timer_at - 0.5) {
        if (now == -INFINITY) now = frt_now_ms();
        double delay = d - now;
        if (delay < 0) delay = 0;
        if (margo_timer_start(b->timer, delay) == HG_SUCCESS) b->timer_at = d;
    }
}

/* a call that could not be started */
typedef struct failed_call {
    uint64_t id;
    bool     refused; /* it could not even connect, at once */
    uint16_t pid;
    char*    addr;    /* refused only (owned) */
} failed_call;

/* No lock held: start the calls (each holds a reference on b, taken by
 * the caller). Returns the calls that could not be started (*nfailed of
 * them; malloc'd, may be NULL). */
static failed_call* send_calls(swim_backend* b, swim__outbox* ob, size_t* nfailed)
{
    failed_call* failed = NULL;
    *nfailed            = 0;
    for (size_t i = 0; i < ob->nsends; i++) {
        swim__send* sd = &ob->sends[i];
        call_ctx*   cc = calloc(1, sizeof *cc);
        bool        ok = false, refused = false;
        if (cc) {
            atomic_init(&cc->refs, 2);
            cc->mid     = b->mid;
            cc->b       = b;
            cc->call_id    = sd->call_id;
            cc->expect     = reply_kind_for(sd->msg.kind);
            cc->via_join   = sd->first_join;
            cc->pid        = sd->pid;
            cc->timeout_ms = sd->timeout_ms;
            cc->dest    = strdup(sd->addr);
            sd->msg.sender_is_source = b->addr_is_source;
            if (cc->dest && swim__encode(&sd->msg, &cc->buf) &&
                margo_addr_lookup(b->mid, sd->addr, &cc->addr) == HG_SUCCESS) {
                atomic_fetch_add(&swim__g_msgs, 1);
                atomic_fetch_add(&swim__g_bytes, cc->buf.len);
                double      t0 = frt_now_ms();
                hg_return_t r  = frt_forward_async(
                    b->mid, cc->addr, cc->via_join ? RPC_JOIN : rpc_for(sd->msg.kind), sd->pid,
                    cc->buf.data, cc->buf.len, sd->timeout_ms, on_complete, cc);
                ok      = r == HG_SUCCESS;
                refused = r == HG_HOSTUNREACH && frt_now_ms() - t0 < 0.5 * sd->timeout_ms;
            }
            if (!ok) atomic_store(&cc->refs, 1); /* the completion will never run */
            cc_release(cc);
        }
        if (!ok) {
            failed_call* nf = realloc(failed, (*nfailed + 1) * sizeof *nf);
            if (nf) {
                failed             = nf;
                failed_call* f     = &failed[(*nfailed)++];
                f->id              = sd->call_id;
                f->pid             = sd->pid;
                f->addr            = refused ? strdup(sd->addr) : NULL;
                f->refused         = f->addr != NULL;
            }
        }
    }
    return failed;
}

/* No lock held: answer the requests (an empty reply, kind 0, fails it). */
static void send_replies(swim_backend* b, swim__outbox* ob, frt_request_t* rq)
{
    for (size_t i = 0; i < ob->nreplies; i++) {
        frt_request_t r = rq ? rq[i] : NULL;
        if (!r) continue;
        swim__msg* m = &ob->replies[i].msg;
        if (m->kind == 0) {
            frt_respond_error(r, HG_OTHER_ERROR);
            continue;
        }
        frt_wbuf w = FRT_WBUF_INIT;
        m->sender_is_source = b->addr_is_source;
        if (swim__encode(m, &w)) {
            atomic_fetch_add(&swim__g_msgs, 1);
            atomic_fetch_add(&swim__g_bytes, w.len);
            frt_respond(r, w.data, w.len);
        } else {
            frt_respond_error(r, HG_NOMEM);
        }
        frt_wbuf_free(&w);
    }
}

static void flush_locked(swim_backend* b);

/* No lock held: calls that could not even be started fail at once (fed
 * back to the machine, whose new outputs are flushed in turn); drops the
 * references they held. Frees failed. */
static void fail_calls(swim_backend* b, failed_call* failed, size_t nfailed)
{
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < nfailed; i++) {
        if (failed[i].refused)
            swim__handle_refused(b->sm, frt_now_ms(), failed[i].id, failed[i].addr,
                                 failed[i].pid);
        else
            swim__handle_response(b->sm, frt_now_ms(), failed[i].id, false, NULL);
        b->inflight--;
    }
    pthread_cond_broadcast(&b->cond);
    flush_locked(b);
    for (size_t i = 0; i < nfailed; i++) {
        free(failed[i].addr);
        backend_release(b);
    }
    free(failed);
}

/**
 * Called with b->lock held after feeding the machine; releases it. Under
 * the lock: take the outbox, queue its events, take the requests its
 * replies answer, count the calls in flight, re-arm the timer. Then,
 * without it: send the calls, answer the requests, deliver the events
 * (one drainer at a time), fail the calls that could not be started.
 */
static void flush_locked(swim_backend* b)
{
    swim__outbox* o  = swim__get_outbox(b->sm);
    swim__outbox  ob = *o;
    memset(o, 0, sizeof *o);

    queue_events(b, &ob);
    frt_request_t* rq      = take_requests(b, &ob);
    bool           sending = !b->closed;
    if (sending) {
        b->inflight += (int)ob.nsends;
        atomic_fetch_add(&b->refs, (int)ob.nsends);
    }
    arm_timer(b);
    bool deliver = !b->delivering && b->nevq > 0;
    if (deliver) b->delivering = true;
    pthread_mutex_unlock(&b->lock);

    size_t       nfailed = 0;
    failed_call* failed  = sending ? send_calls(b, &ob, &nfailed) : NULL;
    send_replies(b, &ob, rq);
    free(rq);
    swim__outbox_free(&ob);
    if (deliver) deliver_events(b);
    if (nfailed) fail_calls(b, failed, nfailed);
}

static void on_complete(void* uargs, hg_return_t ret, const void* out, size_t out_len)
{
    call_ctx*     cc = uargs;
    swim_backend* b  = cc->b;
    swim__msg     msg;
    const char*   why = NULL;
    bool          ok  = false;
    if (ret == HG_NOENTRY && cc->via_join) { /* an older member: the JOIN again, as before */
        cc->via_join = false;
        ret = frt_forward_async(cc->mid, cc->addr, RPC_ANNOUNCE, cc->pid, cc->buf.data,
                                cc->buf.len, cc->timeout_ms, on_complete, cc);
        if (ret == HG_SUCCESS) return; /* its completion goes on with cc's references */
    }
    memset(&msg, 0, sizeof msg);
    if (ret == HG_SUCCESS) {
        ok = swim__decode(out, out_len, cc->expect, &msg, &why);
        if (ok && !msg.sender_addr && !(msg.sender_addr = strdup(cc->dest))) {
            swim__msg_clear(&msg);
            ok  = false;
            why = "out of memory";
        }
        if (!ok) {
            atomic_fetch_add(&swim__g_bad, 1);
            margo_warning(b->mid, "[flock:swim] dropping malformed response: %s", why);
        }
    }
    pthread_mutex_lock(&b->lock);
    swim__handle_response(b->sm, frt_now_ms(), cc->call_id, ok, ok ? &msg : NULL);
    b->inflight--;
    pthread_cond_broadcast(&b->cond);
    flush_locked(b);
    swim__msg_clear(&msg);
    cc_release(cc);
    backend_release(b);
}

static void on_timer(void* uargs)
{
    swim_backend* b = uargs;
    pthread_mutex_lock(&b->lock);
    b->timer_at = INFINITY;
    double now  = frt_now_ms();
    for (int i = 0; i < b->nhints; i++) {
        if (!b->closed) swim__hint(b->sm, now, b->hints[i]);
        free(b->hints[i]);
    }
    b->nhints = 0;
    if (!b->closed) swim__tick(b->sm, now);
    flush_locked(b);
}

/* Loop thread (frt_peer_watch): a peer closed its connection. Queue the
 * address (once) and fire the timer now; on_timer feeds it to the machine. */
static void on_peer_closed(void* uargs, const char* peer)
{
    swim_backend* b = uargs;
    pthread_mutex_lock(&b->lock);
    bool known = false;
    for (int i = 0; i < b->nhints; i++) known |= strcmp(b->hints[i], peer) == 0;
    if (!b->closed && !known && b->nhints < (int)(sizeof b->hints / sizeof b->hints[0])) {
        char* a = strdup(peer);
        if (a) b->hints[b->nhints++] = a;
        if (a && b->timer && margo_timer_start(b->timer, 0) == HG_SUCCESS)
            b->timer_at = frt_now_ms();
    }
    pthread_mutex_unlock(&b->lock);
}

static void on_request(frt_request_t req, const void* in, size_t in_len, swim_backend* b,
                       uint8_t kind)
{
    swim__msg   msg;
    const char* why = NULL;
    bool decoded = swim__decode(in, in_len, kind, &msg, &why);
    if (decoded && !msg.sender_addr) {
        /* the compact wire leaves the sender's address to the transport */
        const char* src = frt_request_source(req);
        msg.sender_addr = src && src[0] ? strdup(src) : NULL;
        if (!msg.sender_addr) {
            swim__msg_clear(&msg);
            decoded = false;
            why     = "no source address for the sender";
        }
    }
    if (!decoded) {
        atomic_fetch_add(&swim__g_bad, 1);
        margo_warning(b->mid, "[flock:swim] dropping malformed %s from %s: %s", rpc_for(kind),
                      frt_request_source(req), why);
        frt_respond_error(req, HG_PROTOCOL_ERROR);
        return;
    }
    pthread_mutex_lock(&b->lock);
    if (b->closed || b->nreqs == SIZE_MAX) {
        pthread_mutex_unlock(&b->lock);
        swim__msg_clear(&msg);
        frt_respond_error(req, HG_CANCELED);
        return;
    }
    if (b->nreqs == b->capreqs) {
        size_t    nc = b->capreqs ? b->capreqs * 2 : 4;
        req_slot* nr = realloc(b->reqs, nc * sizeof *nr);
        if (!nr) {
            pthread_mutex_unlock(&b->lock);
            swim__msg_clear(&msg);
            frt_respond_error(req, HG_NOMEM);
            return;
        }
        b->reqs    = nr;
        b->capreqs = nc;
    }
    uint64_t token           = ++b->next_token;
    b->reqs[b->nreqs].token  = token;
    b->reqs[b->nreqs++].req  = req;
    swim__handle_request(b->sm, frt_now_ms(), token, &msg);
    flush_locked(b);
    swim__msg_clear(&msg);
}

static void h_ping(frt_request_t r, const void* in, size_t n, void* u)
{
    on_request(r, in, n, u, SWIM_MSG_PING);
}
static void h_ping_req(frt_request_t r, const void* in, size_t n, void* u)
{
    on_request(r, in, n, u, SWIM_MSG_PING_REQ);
}
static void h_announce(frt_request_t r, const void* in, size_t n, void* u)
{
    on_request(r, in, n, u, SWIM_MSG_ANNOUNCE);
}

/* ------------------------------------------------------------------ */
/* backend slots                                                       */
/* ------------------------------------------------------------------ */

static void deregister_rpcs(swim_backend* b)
{
    if (!b->rpcs_registered) return;
    frt_rpc_deregister(b->mid, RPC_PING, b->pid);
    frt_rpc_deregister(b->mid, RPC_PING_REQ, b->pid);
    frt_rpc_deregister(b->mid, RPC_ANNOUNCE, b->pid);
    frt_rpc_deregister(b->mid, RPC_JOIN, b->pid);
    b->rpcs_registered = false;
}

/** Wait (b->lock held) until pred or the deadline (frt_now_ms based). */
static void wait_until(swim_backend* b, bool (*pred)(swim_backend*), double deadline_ms)
{
    while (!pred(b)) {
        double left = deadline_ms - frt_now_ms();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double step = left < 50 ? left : 50; /* re-check periodically */
        ts.tv_nsec += (long)(step * 1e6);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        frt_wait_begin();
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
        frt_wait_end();
    }
}

static bool join_settled(swim_backend* b) { return swim__join_settled(b->sm); }
static bool calls_done(swim_backend* b) { return b->inflight == 0; }

/* init phase: the initial view's metadata except __config__/__type__,
 * which get_view generates (the joiner's own effective config replaces any
 * inherited __config__), into the machine (version 0) and the published
 * metadata. An entry beyond the limits (swim__meta_valid) is left out with
 * a warning. FLOCK_ERR_ALLOCATION. */
static flock_return_t keep_metadata(swim_backend* b, const flock_group_view_t* init)
{
    for (uint64_t i = 0; i < init->metadata.size; i++) {
        const flock_metadata_t* md = &init->metadata.data[i];
        if (strcmp(md->key, "__config__") == 0 || strcmp(md->key, "__type__") == 0) continue;
        if (!swim__meta_valid(md->key, md->value)) {
            margo_warning(b->mid, "[flock:swim] initial metadata key \"%.64s\" left out: "
                                  "key or value too long, or not UTF-8", md->key);
            continue;
        }
        if (swim__meta_add_initial(b->sm, md->key, md->value) != 0 ||
            !flock_group_view_add_metadata(&b->meta, md->key, md->value))
            return FLOCK_ERR_ALLOCATION;
    }
    return FLOCK_SUCCESS;
}

/* init phase: the state machine, with the initial view's members (all
 * published, self included). FLOCK_ERR_INVALID_ARGS (an address too long
 * or invalid), FLOCK_ERR_ALLOCATION. */
static flock_return_t create_machine(swim_backend* b, const flock_backend_init_args_t* args,
                                     const swim__config* cfg, const flock_group_view_t* init)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t seed = (uint64_t)ts.tv_nsec * 6364136223846793005ULL ^ (uint64_t)ts.tv_sec ^
                    ((uint64_t)args->provider_id << 48) ^ (uint64_t)(uintptr_t)b;
    b->sm = swim__create(cfg, args->self_addr_str, args->provider_id, seed, frt_now_ms(),
                         sm_log, b);
    if (!b->sm)
        return strlen(args->self_addr_str) > SWIM_MAX_ADDR_LEN ? FLOCK_ERR_INVALID_ARGS
                                                               : FLOCK_ERR_ALLOCATION;
    for (size_t i = 0; i < init->members.size; i++) {
        const flock_member_t* m = &init->members.data[i];
        if (swim__add_initial(b->sm, m->address, m->provider_id) != 0) {
            margo_error(b->mid, "[flock:swim] invalid member address in the initial view");
            return FLOCK_ERR_INVALID_ARGS;
        }
        swim__publish(b->sm, m->address, m->provider_id, true);
    }
    swim__publish(b->sm, args->self_addr_str, args->provider_id, true);
    return FLOCK_SUCCESS;
}

/* init phase: the group's identity and where this member starts from.
 * The id: the initial view's __config__ "group_id" (a group file), else the
 * config's, else unknown (0) for a joiner (adopted from the first answer)
 * or a new one for a founder (flock__group_id_new: random alone, derived
 * from the members for a view/mpi founding). A member that joins, or that
 * finds itself in a group file's view of several members (a restart:
 * *returning), starts at an incarnation taken from the clock (ms since the
 * epoch), above any incarnation of an earlier life at the same address
 * (a refutation adds 1), so its announcement overrides what the group
 * holds about that address, DEAD included. */
static void choose_identity(swim_backend* b, const flock_backend_init_args_t* args,
                            const flock_group_view_t* init, bool* returning)
{
    uint64_t            id = flock__view_group_id(init);
    struct json_object* g  = NULL;
    if (!id && args->config && json_object_object_get_ex(args->config, FLOCK__GROUP_ID_KEY, &g) &&
        json_object_is_type(g, json_type_string))
        (void)flock__group_id_parse(json_object_get_string(g), &id);
    *returning = !args->join && init->members.size > 1 &&
                 flock_group_view_find_metadata((flock_group_view_t*)init, "__type__");
    if (!id && !args->join) id = flock__group_id_new(init, "swim");
    swim__set_group_id(b->sm, id);
    if (args->join || *returning) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        swim__set_incarnation(b->sm, (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
    }
}

/* init phase: the four RPCs (all or none; RPC_JOIN urgent if urgent_join) and the timer.
 * FLOCK_ERR_FROM_MERCURY. */
static flock_return_t register_rpcs(swim_backend* b, ABT_pool pool, bool urgent_join)
{
    if (frt_rpc_register(b->mid, RPC_PING, b->pid, h_ping, b, pool) != HG_SUCCESS)
        return FLOCK_ERR_FROM_MERCURY;
    if (frt_rpc_register(b->mid, RPC_PING_REQ, b->pid, h_ping_req, b, pool) != HG_SUCCESS) {
        frt_rpc_deregister(b->mid, RPC_PING, b->pid);
        return FLOCK_ERR_FROM_MERCURY;
    }
    if (frt_rpc_register(b->mid, RPC_ANNOUNCE, b->pid, h_announce, b, pool) != HG_SUCCESS) {
        frt_rpc_deregister(b->mid, RPC_PING, b->pid);
        frt_rpc_deregister(b->mid, RPC_PING_REQ, b->pid);
        return FLOCK_ERR_FROM_MERCURY;
    }
    if (frt_rpc_register(b->mid, RPC_JOIN, b->pid, h_announce, b, pool) != HG_SUCCESS ||
        (urgent_join && frt_rpc_set_urgent(b->mid, RPC_JOIN, b->pid, true) != HG_SUCCESS)) {
        frt_rpc_deregister(b->mid, RPC_PING, b->pid);
        frt_rpc_deregister(b->mid, RPC_PING_REQ, b->pid);
        frt_rpc_deregister(b->mid, RPC_ANNOUNCE, b->pid);
        frt_rpc_deregister(b->mid, RPC_JOIN, b->pid);
        return FLOCK_ERR_FROM_MERCURY;
    }
    b->rpcs_registered = true;
    if (margo_timer_create(b->mid, on_timer, b, &b->timer) != HG_SUCCESS) {
        b->timer = NULL;
        return FLOCK_ERR_FROM_MERCURY;
    }
    if (frt_peer_watch(b->mid, on_peer_closed, b) != HG_SUCCESS) return FLOCK_ERR_ALLOCATION;
    b->watching = true;
    return FLOCK_SUCCESS;
}

/* init phase: start the protocol; a joiner or a returning member announces
 * JOIN to the first members of its view and waits (bounded by
 * join_timeout_ms + 1 s) until one answered or every call failed (the
 * machine announces again while its calls time out: swim__join_done).
 * FLOCK_ERR_INVALID_GROUP if only members of another group answered;
 * FLOCK_ERR_FROM_MERCURY if a joiner (not a returning member: the whole
 * group may be restarting) reached no member. Nothing is written then. */
static flock_return_t start_protocol(swim_backend* b, bool join, bool returning,
                                     const swim__config* cfg)
{
    flock_return_t ret = FLOCK_SUCCESS;
    pthread_mutex_lock(&b->lock);
    swim__start(b->sm, join || returning, frt_now_ms());
    flush_locked(b);
    if (!join && !returning) return FLOCK_SUCCESS;
    pthread_mutex_lock(&b->lock);
    wait_until(b, join_settled, frt_now_ms() + fmax(cfg->join_timeout_ms, cfg->announce_timeout_ms) + 1000.0);
    char ours[17], theirs[17];
    flock__group_id_format(swim__group_id(b->sm), ours);
    flock__group_id_format(swim__join_foreign_id(b->sm), theirs);
    if (!swim__join_succeeded(b->sm) && swim__join_foreign_id(b->sm)) {
        margo_error(b->mid, "[flock:swim] the group file names group %s, but its members "
                            "answered for group %s: not joining another group", ours, theirs);
        ret = FLOCK_ERR_INVALID_GROUP;
    } else if (!swim__join_succeeded(b->sm) && join && swim__view_size(b->sm) > 1) {
        margo_error(b->mid, "[flock:swim] no member of group %s answered the JOIN "
                            "announcement: cannot join", ours);
        ret = FLOCK_ERR_FROM_MERCURY;
    } else if (!swim__join_succeeded(b->sm) && returning) {
        margo_info(b->mid, "[flock:swim] taking its place again in group %s: no member answered "
                           "yet (the group may be restarting)", ours);
    }
    pthread_mutex_unlock(&b->lock);
    return ret;
}

static flock_return_t swim_destroy(void* state);

/* init_group: the backend (one reference: the provider's), then its
 * metadata, machine, RPCs and timer, then the protocol starts (a joiner
 * waits for its JOIN's answer); listed for stats and crash mode last. */
static flock_return_t swim_init(flock_backend_init_args_t* args, void** state)
{
    flock_return_t     ret  = FLOCK_ERR_ALLOCATION;
    swim_backend*      b    = NULL;
    swim__config       cfg;
    flock_group_view_t init = FLOCK_GROUP_VIEW_INITIALIZER;
    bool               returning = false;

    if (!args || !state || !args->self_addr_str) return FLOCK_ERR_INVALID_ARGS;
    b = calloc(1, sizeof *b);
    if (!b) return FLOCK_ERR_ALLOCATION;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    atomic_init(&b->refs, 1);
    atomic_fetch_add(&swim__g_providers, 1);
    b->mid      = args->mid;
    b->pid      = args->provider_id;
    b->timer_at = INFINITY;
    b->args     = *args;
    b->owner    = flock__backend_owner(args);
    b->addr_is_source = strcmp(args->self_addr_str, frt_self_addr_str(args->mid)) == 0;
    memset(&b->args.initial_view, 0, sizeof b->args.initial_view);
    FLOCK_GROUP_VIEW_MOVE(&args->initial_view, &init);
    swim__config_from_json(args->config, &cfg);

    ret = create_machine(b, args, &cfg, &init);
    if (ret == FLOCK_SUCCESS) ret = keep_metadata(b, &init);
    if (ret == FLOCK_SUCCESS) choose_identity(b, args, &init, &returning);
    flock_group_view_clear(&init);
    if (ret == FLOCK_SUCCESS) ret = register_rpcs(b, args->pool, cfg.urgent_join);
    if (ret != FLOCK_SUCCESS) goto fail;
    ret = start_protocol(b, args->join, returning, &cfg);
    if (ret != FLOCK_SUCCESS) {
        /* calls may be in flight: the ordinary teardown, without a LEAVE
         * (it never was a member), frees b when the last one completes */
        b->crash_mode = true;
        swim_destroy(b);
        return ret;
    }
    swim__live_add(b);
    *state = b;
    return FLOCK_SUCCESS;

fail:
    if (b->watching) frt_peer_unwatch(b->mid, on_peer_closed, b);
    if (b->timer) margo_timer_destroy(b->timer);
    deregister_rpcs(b);
    atomic_fetch_sub(&swim__g_providers, 1);
    backend_free(b);
    return ret;
}

/* Leave on request (swim-backend-admin.c, flockctl leave): the graceful
 * leave of swim_destroy, but the backend stays up (the machine stops
 * probing and never rejoins by itself); crash_mode then keeps swim_destroy
 * from announcing a second LEAVE. false if it had left already. */
bool swim__backend_leave(swim_backend* b)
{
    pthread_mutex_lock(&b->lock);
    if (b->closed || b->crash_mode) {
        pthread_mutex_unlock(&b->lock);
        return false;
    }
    swim__leave(b->sm, frt_now_ms());
    flush_locked(b);
    pthread_mutex_lock(&b->lock);
    wait_until(b, calls_done, frt_now_ms() + swim__get_config(b->sm)->announce_timeout_ms + 200.0);
    b->crash_mode = true;
    pthread_mutex_unlock(&b->lock);
    return true;
}

static flock_return_t swim_destroy(void* state)
{
    swim_backend* b = state;
    if (!b) return FLOCK_ERR_INVALID_ARGS;
    pthread_mutex_lock(&b->lock);
    if (!b->crash_mode && swim__view_size(b->sm) > 1) {
        swim__leave(b->sm, frt_now_ms());
        flush_locked(b);
        pthread_mutex_lock(&b->lock);
        /* synchronous announcement: wait for the answers (bounded) */
        wait_until(b, calls_done,
                   frt_now_ms() + swim__get_config(b->sm)->announce_timeout_ms + 200.0);
    } else {
        swim__leave_silently(b->sm);
    }
    b->closed = true;
    pthread_mutex_unlock(&b->lock);
    swim__live_remove(b);
    if (b->watching) frt_peer_unwatch(b->mid, on_peer_closed, b); /* no callback after */
    b->watching = false;

    deregister_rpcs(b);
    if (b->timer) margo_timer_destroy(b->timer);
    b->timer = NULL;

    /* fail deferred requests that will never be answered */
    pthread_mutex_lock(&b->lock);
    req_slot* reqs = b->reqs;
    size_t    n    = b->nreqs;
    b->reqs        = NULL;
    b->nreqs = b->capreqs = 0;
    pthread_mutex_unlock(&b->lock);
    for (size_t i = 0; i < n; i++) frt_respond_error(reqs[i].req, HG_CANCELED);
    free(reqs);
    backend_release(b);
    return FLOCK_SUCCESS;
}

/* add_metadata / remove_metadata: a write at this member (value NULL:
 * removal), spread by gossip; the callback fires here too, once, when the
 * drainer delivers it. FLOCK_ERR_INVALID_ARGS (a limit of swim-core.h, a
 * generated key, bad UTF-8), FLOCK_ERR_ALLOCATION, FLOCK_ERR_NOT_A_MEMBER (the
 * backend is closing). Removing an absent key succeeds and changes nothing,
 * as with the other backends (flock-group.h). */
static flock_return_t set_metadata(void* state, const char* key, const char* value)
{
    swim_backend* b = state;
    if (!b || !key) return FLOCK_ERR_INVALID_ARGS;
    pthread_mutex_lock(&b->lock);
    if (b->closed) {
        pthread_mutex_unlock(&b->lock);
        return FLOCK_ERR_NOT_A_MEMBER;
    }
    swim__meta_result r = swim__meta_set(b->sm, frt_now_ms(), key, value);
    flush_locked(b);
    switch (r) {
    case SWIM_META_APPLIED:
    case SWIM_META_UNCHANGED:
    case SWIM_META_ABSENT: return FLOCK_SUCCESS;
    case SWIM_META_INVALID: return FLOCK_ERR_INVALID_ARGS;
    default: return FLOCK_ERR_ALLOCATION;
    }
}

static flock_return_t swim_add_metadata(void* state, const char* key, const char* value)
{
    if (!value) return FLOCK_ERR_INVALID_ARGS;
    return set_metadata(state, key, value);
}

static flock_return_t swim_remove_metadata(void* state, const char* key)
{
    return set_metadata(state, key, NULL);
}

static flock_backend_impl swim_impl = {
    .name            = "swim",
    .init_group      = swim_init,
    .destroy_group   = swim_destroy,
    .get_config      = swim__backend_get_config,
    .get_view        = swim__backend_get_view,
    .add_metadata    = swim_add_metadata,
    .remove_metadata = swim_remove_metadata,
};

flock_return_t flock_register_swim_backend(void) { return flock_register_backend(&swim_impl); }

