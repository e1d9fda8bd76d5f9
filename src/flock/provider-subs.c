/*
 * provider-subs.c -- a provider's subscribers: the flock_subscribe (long
 * poll) and flock_unsubscribe RPC handlers, the ring of recent changes they
 * read from, the ring of recent removals that snapshots carry, and one
 * timer that answers polls whose wait is over and forgets subscribers that
 * stopped polling (design: docs/design.md, "Subscriptions").
 *
 * A subscriber polls with the sequence number it expects next. The member
 * answers at once with the changes it has from there on, or parks the poll
 * (a deferred frt_respond) until a change arrives or the wait ends. A new
 * (or unknown, or too far behind) subscriber gets a snapshot: the member's
 * whole view, taken after the subscriber was registered, so that every
 * later change is either in the snapshot or in the ring (possibly both: the
 * subscriber applies changes idempotently).
 *
 * Owns: flock__subs_t and struct flock__sub. Calls: subscribe-wire.c,
 * view-codec.c, the runtime (frt_*, margo timers), the view source the
 * provider gives (which locks the view). Called by provider.c.
 * Locks: s->mtx, then the view lock (inside the source); replies are sent
 * after s->mtx is released.
 */
#include "flock/provider-subs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <frt.h>

#include "flock/view-codec.h"

typedef struct flock__sub {
    struct flock__sub* next;
    uint64_t           id;
    char*              peer;      /* the subscriber's address, for logs */
    frt_request_t      parked;    /* a poll waiting for news, or NULL */
    uint64_t           parked_seq; /* the seq that poll asked for */
    double             deadline_ms; /* when the parked poll is answered empty */
    double             expires_ms;  /* when an idle subscriber is forgotten */
    double             lease_ms;
} flock__sub_t;

/* A reply to send once s->mtx is released. */
typedef struct {
    frt_request_t req;
    frt_wbuf      buf;      /* encoded reply (events), or empty */
    bool          snapshot; /* build a snapshot reply outside the lock */
    uint64_t      sub_id;
    uint64_t      cursor;   /* snapshot: where the events after it start */
} pending_reply;

typedef struct {
    pending_reply* v;
    size_t         n, cap;
} pending_list;

static double now_ms(void) { return margo_get_wtime() * 1000.0; }

static pending_reply* pending_add(pending_list* l, frt_request_t req)
{
    if (l->n == l->cap) {
        size_t         ncap = l->cap ? 2 * l->cap : 8;
        pending_reply* nv   = (pending_reply*)realloc(l->v, ncap * sizeof *nv);
        if (!nv) return NULL;
        l->v   = nv;
        l->cap = ncap;
    }
    pending_reply* p = &l->v[l->n++];
    memset(p, 0, sizeof *p);
    p->req = req;
    return p;
}

/* ------------------------------------------------------------------ */
/* The rings (s->mtx held)                                              */
/* ------------------------------------------------------------------ */

static uint64_t oldest_seq(const flock__subs_t* s) { return s->next_seq - s->log_count; }

static const flock__sub_event_t* log_at_seq(const flock__subs_t* s, uint64_t seq)
{
    size_t i = (size_t)(seq - oldest_seq(s));
    return &s->log[(s->log_head + i) % s->log_cap];
}

/* Free the change ring (nobody is subscribed: a newcomer starts from a
 * snapshot anyway). The sequence numbers go on. */
static void log_release(flock__subs_t* s)
{
    for (size_t i = 0; i < s->log_count; i++)
        flock__sub_event_clear(&s->log[(s->log_head + i) % s->log_cap]);
    free(s->log);
    s->log       = NULL;
    s->log_cap   = 0;
    s->log_count = 0;
    s->log_head  = 0;
}

/* Double the change ring (from 32 up to FLOCK__SUBS_LOG_CAPACITY); false at
 * the limit or out of memory. */
static bool log_grow(flock__subs_t* s)
{
    if (s->log_cap >= FLOCK__SUBS_LOG_CAPACITY) return false;
    size_t              ncap = s->log_cap ? 2 * s->log_cap : 32;
    flock__sub_event_t* n    = (flock__sub_event_t*)calloc(ncap, sizeof *n);
    if (!n) return false;
    for (size_t i = 0; i < s->log_count; i++) n[i] = s->log[(s->log_head + i) % s->log_cap];
    free(s->log);
    s->log      = n;
    s->log_cap  = ncap;
    s->log_head = 0;
    return true;
}

/* Append a copy of e with the next seq (only while someone is subscribed:
 * the ring costs nothing otherwise). On allocation failure the ring is
 * emptied: every subscriber then falls back to a snapshot. */
static void log_append(flock__subs_t* s, const flock__sub_event_t* e)
{
    s->next_seq++;
    if (s->nsubs == 0) return;
    if (s->log_count == s->log_cap && !log_grow(s) && s->log_cap > 0) {
        flock__sub_event_clear(&s->log[s->log_head]); /* full: drop the oldest */
        s->log_head = (s->log_head + 1) % s->log_cap;
        s->log_count--;
    }
    if (s->log_cap > s->log_count) {
        flock__sub_event_t* slot = &s->log[(s->log_head + s->log_count) % s->log_cap];
        if (flock__sub_event_copy(slot, e)) {
            s->log_count++;
            return;
        }
    }
    margo_error(s->mid, "[flock] provider %u: out of memory recording a change for "
                        "subscribers (they will resynchronize)", (unsigned)s->provider_id);
    log_release(s);
}

static void removal_append(flock__subs_t* s, flock_update_t update, const char* address,
                           uint16_t pid)
{
    if (s->rm_count == s->rm_cap && s->rm_cap < FLOCK__SUB_MAX_REMOVALS) { /* grow */
        size_t                ncap = s->rm_cap ? 2 * s->rm_cap : 16;
        flock__sub_removal_t* n    = (flock__sub_removal_t*)calloc(ncap, sizeof *n);
        if (n) {
            for (size_t i = 0; i < s->rm_count; i++)
                n[i] = s->removals[(s->rm_head + i) % s->rm_cap];
            free(s->removals);
            s->removals = n;
            s->rm_cap   = ncap;
            s->rm_head  = 0;
        }
    }
    if (s->rm_cap == 0) return; /* a snapshot then says DIED for it: acceptable */
    char* a = strdup(address);
    if (!a) return;
    if (s->rm_count == s->rm_cap) {
        free(s->removals[s->rm_head].address);
        s->rm_head = (s->rm_head + 1) % s->rm_cap;
        s->rm_count--;
    }
    flock__sub_removal_t* r = &s->removals[(s->rm_head + s->rm_count) % s->rm_cap];
    r->address     = a;
    r->provider_id = pid;
    r->update      = update;
    s->rm_count++;
}

/* ------------------------------------------------------------------ */
/* Replies                                                              */
/* ------------------------------------------------------------------ */

/* The events reply from `from` (s->mtx held; from within the ring). */
/* The part of an events answer after the subscriber's id: the same for
 * every subscriber waiting at `from`. */
static void encode_events_body(flock__subs_t* s, frt_wbuf* b, uint64_t from)
{
    uint64_t n = s->next_seq - from;
    if (n > FLOCK__SUB_MAX_EVENTS) n = FLOCK__SUB_MAX_EVENTS;
    frt_put_u8(b, FLOCK__SUB_KIND_EVENTS);
    frt_put_u64(b, from);
    size_t count_at = b->len;
    frt_put_u32(b, (uint32_t)n);
    uint32_t put = 0;
    for (uint64_t q = from; q < from + n; q++, put++) {
        if (b->len > (256u << 10)) break; /* keep replies small; the rest comes next */
        flock__sub_encode_event(b, log_at_seq(s, q));
    }
    if (!b->failed && put != n) {
        uint32_t le = put; /* patch the count (little-endian, as frt_put_u32) */
        for (int i = 0; i < 4; i++) b->data[count_at + i] = (uint8_t)(le >> (8 * i));
    }
}

static void encode_events(flock__subs_t* s, frt_wbuf* b, uint64_t sub_id, uint64_t from)
{
    flock__sub_encode_status(b, FLOCK_SUCCESS);
    frt_put_u64(b, sub_id);
    encode_events_body(s, b, from);
}

/* Whether a poll for `seq` can be answered from the ring (else: snapshot). */
static bool seq_in_ring(const flock__subs_t* s, uint64_t seq)
{
    return seq >= oldest_seq(s) && seq <= s->next_seq;
}

/* Answer p->req for sub with what it asked for (s->mtx held): events now,
 * or a snapshot marked for later. A body already encoded for `seq` (the
 * subscribers that publish() wakes wait at the same place) is copied. */
typedef struct {
    frt_wbuf buf;
    uint64_t seq;
    bool     valid;
} body_cache;

static void prepare_reply_cached(flock__subs_t* s, pending_reply* p, uint64_t sub_id,
                                 uint64_t seq, body_cache* bc)
{
    p->sub_id = sub_id;
    if (!seq_in_ring(s, seq)) {
        p->snapshot = true;
        p->cursor   = s->next_seq;
        return;
    }
    if (!bc) {
        encode_events(s, &p->buf, sub_id, seq);
        return;
    }
    if (!bc->valid || bc->seq != seq) {
        frt_wbuf_free(&bc->buf);
        bc->buf = (frt_wbuf)FRT_WBUF_INIT;
        encode_events_body(s, &bc->buf, seq);
        bc->seq   = seq;
        bc->valid = true;
    }
    flock__sub_encode_status(&p->buf, FLOCK_SUCCESS);
    frt_put_u64(&p->buf, sub_id);
    frt_put_bytes(&p->buf, bc->buf.data, bc->buf.len);
    if (bc->buf.failed) p->buf.failed = true;
}

static void prepare_reply(flock__subs_t* s, pending_reply* p, uint64_t sub_id, uint64_t seq)
{
    prepare_reply_cached(s, p, sub_id, seq, NULL);
}

typedef struct {
    frt_wbuf* b;
    bool      called;
} snap_ctx;

static void snapshot_view_cb(void* uargs, const flock_group_view_t* cv)
{
    snap_ctx*           c = (snap_ctx*)uargs;
    flock_group_view_t* v = (flock_group_view_t*)cv;
    if (c->called) return;
    c->called = true;
    FLOCK_GROUP_VIEW_LOCK(v);
    flock__view_encode(c->b, v);
    FLOCK_GROUP_VIEW_UNLOCK(v);
}

/* Build a snapshot reply (no lock held): the view, then the removals. */
static void build_snapshot(flock__subs_t* s, pending_reply* p)
{
    frt_wbuf* b = &p->buf;
    frt_wbuf  v = FRT_WBUF_INIT;
    snap_ctx  c = {&v, false};
    frt_wbuf_free(b);
    if (s->source(s->source_ctx, snapshot_view_cb, &c) != FLOCK_SUCCESS || !c.called) {
        flock__sub_encode_status(b, FLOCK_ERR_INVALID_GROUP);
        frt_wbuf_free(&v);
        return;
    }
    flock__sub_encode_status(b, FLOCK_SUCCESS);
    frt_put_u64(b, p->sub_id);
    frt_put_u8(b, FLOCK__SUB_KIND_SNAPSHOT);
    frt_put_bytes(b, v.data, v.len);
    frt_wbuf_free(&v);
    pthread_mutex_lock(&s->mtx);
    frt_put_u32(b, (uint32_t)s->rm_count);
    for (size_t i = 0; i < s->rm_count; i++)
        flock__sub_encode_removal(b, &s->removals[(s->rm_head + i) % s->rm_cap]);
    pthread_mutex_unlock(&s->mtx);
    frt_put_u64(b, p->cursor);
    frt_put_u32(b, 0);
}

/* Send every pending reply (no lock held) and free the list. */
static void send_all(flock__subs_t* s, pending_list* l)
{
    for (size_t i = 0; i < l->n; i++) {
        pending_reply* p = &l->v[i];
        if (p->snapshot) build_snapshot(s, p);
        if (p->buf.failed || !p->buf.len)
            frt_respond_error(p->req, HG_NOMEM);
        else
            frt_respond(p->req, p->buf.data, p->buf.len);
        frt_wbuf_free(&p->buf);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static void respond_status(frt_request_t req, flock_return_t status)
{
    frt_wbuf b = FRT_WBUF_INIT;
    flock__sub_encode_status(&b, status);
    if (b.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, b.data, b.len);
    frt_wbuf_free(&b);
}

/* ------------------------------------------------------------------ */
/* The timer: waits that end, subscribers that expire                  */
/* ------------------------------------------------------------------ */

/* (Re)arm the timer for `due` if it is not armed for earlier (mtx held). */
static void arm_timer(flock__subs_t* s, double due)
{
    if (!s->timer || s->closing) return;
    if (s->timer_armed && s->timer_due_ms <= due) return;
    double delay = due - now_ms();
    if (delay < 20.0) delay = 20.0;
    if (margo_timer_start(s->timer, delay) == HG_SUCCESS) {
        s->timer_armed  = true;
        s->timer_due_ms = due;
    }
}

static void sub_free(flock__sub_t* sub)
{
    free(sub->peer);
    free(sub);
}

static void timer_cb(void* uargs)
{
    flock__subs_t* s    = (flock__subs_t*)uargs;
    pending_list   l    = {0};
    double         next = 0;
    pthread_mutex_lock(&s->mtx);
    s->timer_armed = false;
    if (s->closing) {
        pthread_mutex_unlock(&s->mtx);
        return;
    }
    double         now = now_ms();
    flock__sub_t** pp  = &s->subs;
    while (*pp) {
        flock__sub_t* sub = *pp;
        if (sub->parked && sub->deadline_ms <= now) {
            pending_reply* p = pending_add(&l, sub->parked);
            if (p) {
                prepare_reply(s, p, sub->id, sub->parked_seq);
                sub->parked     = NULL;
                sub->expires_ms = now + sub->lease_ms;
            }
        } else if (!sub->parked && sub->expires_ms <= now) {
            margo_info(s->mid, "[flock] provider %u: subscriber %s stopped polling; "
                               "forgotten", (unsigned)s->provider_id, sub->peer);
            *pp = sub->next;
            s->nsubs--;
            sub_free(sub);
            if (s->nsubs == 0) log_release(s);
            continue;
        }
        double due = sub->parked ? sub->deadline_ms : sub->expires_ms;
        if (next == 0 || due < next) next = due;
        pp = &sub->next;
    }
    if (next > 0) arm_timer(s, next);
    pthread_mutex_unlock(&s->mtx);
    send_all(s, &l);
}

/* ------------------------------------------------------------------ */
/* RPC handlers                                                         */
/* ------------------------------------------------------------------ */

static flock__sub_t* find_sub(flock__subs_t* s, uint64_t id)
{
    for (flock__sub_t* sub = s->subs; sub; sub = sub->next)
        if (sub->id == id) return sub;
    return NULL;
}

/* A new subscriber from req's source (mtx held); NULL if refused (*why). */
static flock__sub_t* new_sub(flock__subs_t* s, frt_request_t req, flock_return_t* why)
{
    if (s->nsubs >= FLOCK__SUBS_MAX) {
        margo_warning(s->mid, "[flock] provider %u: refusing subscriber %s (%u subscribers "
                              "already)", (unsigned)s->provider_id, frt_request_source(req),
                      (unsigned)FLOCK__SUBS_MAX);
        *why = FLOCK_ERR_OTHER;
        return NULL;
    }
    flock__sub_t* sub = (flock__sub_t*)calloc(1, sizeof *sub);
    const char*   src = frt_request_source(req);
    if (sub) sub->peer = strdup(src ? src : "?");
    if (!sub || !sub->peer) {
        free(sub);
        *why = FLOCK_ERR_ALLOCATION;
        return NULL;
    }
    sub->id   = s->id_base + s->next_id++;
    sub->next = s->subs;
    s->subs   = sub;
    s->nsubs++;
    margo_debug(s->mid, "[flock] provider %u: new subscriber %s", (unsigned)s->provider_id,
                sub->peer);
    return sub;
}

static void subscribe_handler(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    flock__subs_t* s = (flock__subs_t*)uargs;
    uint64_t       id, seq;
    uint32_t       wait;
    pending_list   l   = {0};
    flock_return_t why = FLOCK_SUCCESS;

    if (!flock__sub_decode_poll(in, in_len, &id, &seq, &wait)) {
        margo_error(s->mid, "[flock] provider %u: malformed flock_subscribe request from %s "
                            "(%zu bytes)", (unsigned)s->provider_id, frt_request_source(req),
                    in_len);
        frt_respond_error(req, HG_PROTOCOL_ERROR);
        return;
    }
    if (wait < FLOCK__SUB_WAIT_MIN_MS) wait = FLOCK__SUB_WAIT_MIN_MS;
    if (wait > FLOCK__SUB_WAIT_MAX_MS) wait = FLOCK__SUB_WAIT_MAX_MS;
    double now = now_ms();
    pthread_mutex_lock(&s->mtx);
    if (s->closing) {
        pthread_mutex_unlock(&s->mtx);
        frt_respond_error(req, HG_NOENTRY);
        return;
    }
    flock__sub_t* sub = id ? find_sub(s, id) : NULL;
    bool          fresh = !sub;
    if (!sub) sub = new_sub(s, req, &why);
    if (!sub) {
        pthread_mutex_unlock(&s->mtx);
        respond_status(req, why);
        return;
    }
    sub->lease_ms   = 2.0 * wait + FLOCK__SUBS_LEASE_EXTRA_MS;
    sub->expires_ms = now + sub->lease_ms;
    if (sub->parked) { /* a newer poll replaces it: answer the old one */
        pending_reply* p = pending_add(&l, sub->parked);
        if (p) prepare_reply(s, p, sub->id, sub->parked_seq);
        sub->parked = NULL;
    }
    pending_reply* p = NULL;
    if (fresh || !seq_in_ring(s, seq)) { /* the whole view, then the ring from here */
        p = pending_add(&l, req);
        if (p) {
            p->snapshot = true;
            p->sub_id   = sub->id;
            p->cursor   = s->next_seq;
        }
    } else if (seq < s->next_seq) {
        p = pending_add(&l, req);
        if (p) prepare_reply(s, p, sub->id, seq);
    } else {
        sub->parked      = req;
        sub->parked_seq  = seq;
        sub->deadline_ms = now + wait;
        arm_timer(s, sub->deadline_ms);
    }
    if (!p && !sub->parked) { /* out of memory for the reply list */
        pthread_mutex_unlock(&s->mtx);
        send_all(s, &l);
        frt_respond_error(req, HG_NOMEM);
        return;
    }
    if (!sub->parked) arm_timer(s, sub->expires_ms);
    pthread_mutex_unlock(&s->mtx);
    send_all(s, &l);
}

static void unsubscribe_handler(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    flock__subs_t* s = (flock__subs_t*)uargs;
    frt_rbuf       r;
    pending_list   l = {0};
    frt_rbuf_init(&r, in, in_len);
    uint64_t id = frt_get_u64(&r);
    if (!frt_rbuf_done(&r)) {
        frt_respond_error(req, HG_PROTOCOL_ERROR);
        return;
    }
    pthread_mutex_lock(&s->mtx);
    for (flock__sub_t** pp = &s->subs; *pp; pp = &(*pp)->next) {
        flock__sub_t* sub = *pp;
        if (sub->id != id) continue;
        if (sub->parked) {
            pending_reply* p = pending_add(&l, sub->parked);
            if (p)
                prepare_reply(s, p, sub->id, sub->parked_seq);
            else
                frt_respond_error(sub->parked, HG_CANCELED);
        }
        *pp = sub->next;
        s->nsubs--;
        margo_debug(s->mid, "[flock] provider %u: subscriber %s unsubscribed",
                    (unsigned)s->provider_id, sub->peer);
        sub_free(sub);
        if (s->nsubs == 0) log_release(s);
        break;
    }
    pthread_mutex_unlock(&s->mtx);
    send_all(s, &l);
    respond_status(req, FLOCK_SUCCESS);
}

/* ------------------------------------------------------------------ */
/* Publishing                                                           */
/* ------------------------------------------------------------------ */

/* Record e and answer the parked polls (no lock held on entry). */
static void publish(flock__subs_t* s, const flock__sub_event_t* e)
{
    pending_list l  = {0};
    body_cache   bc = {FRT_WBUF_INIT, 0, false};
    if (!s->initialized) return;
    pthread_mutex_lock(&s->mtx);
    if (s->closing) {
        pthread_mutex_unlock(&s->mtx);
        return;
    }
    log_append(s, e);
    if (e->tag == FLOCK__SUB_TAG_MEMBER && e->update != FLOCK_MEMBER_JOINED)
        removal_append(s, e->update, e->address, e->provider_id);
    double now = now_ms();
    for (flock__sub_t* sub = s->subs; sub; sub = sub->next) {
        if (!sub->parked) continue;
        pending_reply* p = pending_add(&l, sub->parked);
        if (!p) break; /* the rest are answered by the timer */
        prepare_reply_cached(s, p, sub->id, sub->parked_seq, &bc);
        sub->parked     = NULL;
        sub->expires_ms = now + sub->lease_ms;
        arm_timer(s, sub->expires_ms);
    }
    pthread_mutex_unlock(&s->mtx);
    frt_wbuf_free(&bc.buf);
    send_all(s, &l);
}

void flock__subs_publish_member(flock__subs_t* s, flock_update_t update, const char* address,
                                uint16_t provider_id)
{
    if (!s || !address) return;
    flock__sub_event_t e = {0};
    e.tag                = FLOCK__SUB_TAG_MEMBER;
    e.update             = update;
    e.address            = (char*)address;
    e.provider_id        = provider_id;
    publish(s, &e);
}

void flock__subs_publish_metadata(flock__subs_t* s, const char* key, const char* value)
{
    if (!s || !key) return;
    flock__sub_event_t e = {0};
    e.tag                = FLOCK__SUB_TAG_METADATA;
    e.key                = (char*)key;
    e.value              = (char*)value;
    publish(s, &e);
}

size_t flock__subs_count(flock__subs_t* s)
{
    if (!s || !s->initialized) return 0;
    pthread_mutex_lock(&s->mtx);
    size_t n = s->nsubs;
    pthread_mutex_unlock(&s->mtx);
    return n;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

flock_return_t flock__subs_init(flock__subs_t* s, margo_instance_id mid, uint16_t provider_id,
                                flock__view_source_fn source, void* source_ctx)
{
    memset(s, 0, sizeof *s);
    s->mid         = mid;
    s->provider_id = provider_id;
    s->source      = source;
    s->source_ctx  = source_ctx;
    s->next_seq    = 1;
    pthread_mutex_init(&s->mtx, NULL);
    s->initialized = true;
    uint64_t base  = 0;
    if (getrandom(&base, sizeof base, GRND_NONBLOCK) != (ssize_t)sizeof base)
        base = (uint64_t)(now_ms() * 1e3) ^ ((uint64_t)(uintptr_t)s << 16);
    s->id_base  = (base & ~(uint64_t)0xFFFFFFFFu) | 1u; /* never 0 */
    if (margo_timer_create(mid, timer_cb, s, &s->timer) != HG_SUCCESS) {
        s->timer = NULL;
        return FLOCK_ERR_FROM_MERCURY;
    }
    if (frt_rpc_register(mid, FLOCK__SUBSCRIBE_RPC, provider_id, subscribe_handler, s,
                         ABT_POOL_NULL) != HG_SUCCESS)
        return FLOCK_ERR_FROM_MERCURY;
    if (frt_rpc_register(mid, FLOCK__UNSUBSCRIBE_RPC, provider_id, unsubscribe_handler, s,
                         ABT_POOL_NULL) != HG_SUCCESS) {
        frt_rpc_deregister(mid, FLOCK__SUBSCRIBE_RPC, provider_id);
        return FLOCK_ERR_FROM_MERCURY;
    }
    s->rpcs_registered = true;
    return FLOCK_SUCCESS;
}

void flock__subs_close(flock__subs_t* s)
{
    if (!s || !s->initialized) return;
    if (s->rpcs_registered) {
        frt_rpc_deregister(s->mid, FLOCK__SUBSCRIBE_RPC, s->provider_id);
        frt_rpc_deregister(s->mid, FLOCK__UNSUBSCRIBE_RPC, s->provider_id);
        s->rpcs_registered = false;
    }
    pthread_mutex_lock(&s->mtx);
    s->closing        = true;
    flock__sub_t* all = s->subs;
    s->subs           = NULL;
    s->nsubs          = 0;
    pthread_mutex_unlock(&s->mtx);
    if (s->timer) margo_timer_destroy(s->timer); /* waits for a running callback */
    s->timer = NULL;
    while (all) { /* the subscribers fail over to another member */
        flock__sub_t* next = all->next;
        if (all->parked) frt_respond_error(all->parked, HG_NOENTRY);
        sub_free(all);
        all = next;
    }
}

void flock__subs_destroy(flock__subs_t* s)
{
    if (!s || !s->initialized) return;
    flock__subs_close(s);
    log_release(s);
    for (size_t i = 0; i < s->rm_count; i++)
        free(s->removals[(s->rm_head + i) % s->rm_cap].address);
    free(s->removals);
    s->removals = NULL;
    s->rm_cap = s->rm_count = 0;
    pthread_mutex_destroy(&s->mtx);
    s->initialized = false;
}
