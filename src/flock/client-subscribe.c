/*
 * client-subscribe.c -- flock_group_subscribe / flock_group_unsubscribe:
 * the subscriber's long-poll loop, its failover to another member, and the
 * delivery of changes to the user's callbacks (design: docs/design.md,
 * "Subscriptions").
 *
 * The loop is a chain of asynchronous flock_subscribe calls: each
 * completion (a runtime handler thread) applies the answer to the handle's
 * cached view, runs the callbacks for what changed, and sends the next
 * poll. Changes are applied idempotently (a JOINED of a listed member, a
 * metadata value already held: nothing to deliver), which is what makes a
 * snapshot followed by changes it already contains safe. When the contact
 * fails, the loop subscribes with the other members of the cached view and
 * delivers what differs between the cached view and the new contact's.
 *
 * Owns: struct flock__client_sub. Calls: client.c (contact, failover),
 * subscribe-wire.c, the runtime. Called by the application and by client.c
 * (flock__client_sub_detach when a handle's last reference goes).
 * Locks: sub->mtx, then the handle's contact_lock or view lock (never held
 * while a user callback runs).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frt.h>

#include "flock/backend-util.h"
#include "flock/client-internal.h"
#include "flock/subscribe-wire.h"

/* Pause between rounds over every member when none answers. */
#define SUB_RETRY_FIRST_MS 200.0
#define SUB_RETRY_MAX_MS   5000.0

typedef struct {
    flock__sub_event_t* v;
    size_t              n, cap;
    bool                failed;
} event_list;

typedef struct flock__client_sub {
    pthread_mutex_t            mtx;
    pthread_cond_t             cv;
    flock_group_handle_t       handle; /* NULL once detached */
    margo_instance_id          mid;
    flock_membership_update_fn member_fn;
    flock_metadata_update_fn   metadata_fn;
    void*                      ctx;
    uint64_t                   sub_id;   /* at the current contact */
    uint64_t                   next_seq; /* the next change expected from it */
    uint32_t                   wait_ms;
    double                     timeout_ms; /* the client's, added to the wait */
    bool                       stopped;
    bool                       delivering;
    pthread_t                  deliverer;
    unsigned                   refs; /* the handle's link + the poll loop */
    event_list                 unsure; /* poll loop only: removals a snapshot showed
                                        * without saying how (see apply_reply) */
} flock__client_sub_t;

static void list_free(event_list* l);

static void sub_unref(flock__client_sub_t* sub)
{
    pthread_mutex_lock(&sub->mtx);
    bool last = --sub->refs == 0;
    pthread_mutex_unlock(&sub->mtx);
    if (!last) return;
    list_free(&sub->unsure);
    pthread_mutex_destroy(&sub->mtx);
    pthread_cond_destroy(&sub->cv);
    free(sub);
}

static uint32_t wait_from_env(margo_instance_id mid)
{
    const char* env = getenv("FLOCK_SUBSCRIBE_WAIT_MS");
    if (!env || !*env) return FLOCK__SUB_WAIT_DEFAULT_MS;
    char*         end = NULL;
    unsigned long v   = strtoul(env, &end, 10);
    if (end && *end == '\0' && v >= FLOCK__SUB_WAIT_MIN_MS && v <= FLOCK__SUB_WAIT_MAX_MS)
        return (uint32_t)v;
    margo_warning(mid, "[flock] ignoring FLOCK_SUBSCRIBE_WAIT_MS=\"%s\": expected "
                       "milliseconds in [%u, %u]", env, FLOCK__SUB_WAIT_MIN_MS,
                  FLOCK__SUB_WAIT_MAX_MS);
    return FLOCK__SUB_WAIT_DEFAULT_MS;
}

/* ------------------------------------------------------------------ */
/* Delivery                                                             */
/* ------------------------------------------------------------------ */

/* A reference on h unless its count already reached 0 (its last release is
 * under way and will detach this subscription: never resurrect it). */
static bool handle_try_ref(flock_group_handle_t h)
{
    uint_fast64_t n = atomic_load(&h->refcount);
    while (n > 0)
        if (atomic_compare_exchange_weak(&h->refcount, &n, n + 1)) return true;
    return false;
}

/* Start delivering: false if stopped. Takes a handle reference, so that the
 * handle outlives the callbacks even if the user releases it in one. */
static bool delivery_begin(flock__client_sub_t* sub, flock_group_handle_t* h)
{
    pthread_mutex_lock(&sub->mtx);
    bool ok = !sub->stopped && sub->handle && handle_try_ref(sub->handle);
    if (ok) {
        *h              = sub->handle;
        sub->delivering = true;
        sub->deliverer  = pthread_self();
    }
    pthread_mutex_unlock(&sub->mtx);
    return ok;
}

static void delivery_end(flock__client_sub_t* sub, flock_group_handle_t h)
{
    pthread_mutex_lock(&sub->mtx);
    sub->delivering = false;
    pthread_cond_broadcast(&sub->cv);
    pthread_mutex_unlock(&sub->mtx);
    flock_group_handle_release(h); /* may be the last: then it detaches sub */
}

static bool sub_stopped(flock__client_sub_t* sub)
{
    pthread_mutex_lock(&sub->mtx);
    bool s = sub->stopped;
    pthread_mutex_unlock(&sub->mtx);
    return s;
}

/* Apply one change to the cached view; true if it changed something (then
 * the callback runs, after the view lock is released). */
static bool apply_event(flock_group_view_t* v, const flock__sub_event_t* e)
{
    bool changed = false;
    FLOCK_GROUP_VIEW_LOCK(v);
    if (e->tag == FLOCK__SUB_TAG_MEMBER) {
        flock_member_t* m = flock_group_view_find_member(v, e->address, e->provider_id);
        if (e->update == FLOCK_MEMBER_JOINED && !m)
            changed = flock_group_view_add_member(v, e->address, e->provider_id) != NULL;
        else if (e->update != FLOCK_MEMBER_JOINED && m)
            changed = flock_group_view_remove_member(v, m);
    } else {
        const char* cur = flock_group_view_find_metadata(v, e->key);
        if (e->value && (!cur || strcmp(cur, e->value) != 0))
            changed = flock_group_view_add_metadata(v, e->key, e->value) != NULL;
        else if (!e->value && cur)
            changed = flock_group_view_remove_metadata(v, e->key);
    }
    FLOCK_GROUP_VIEW_UNLOCK(v);
    return changed;
}

/* Apply and deliver n changes in order, until the subscription stops. */
static void deliver(flock__client_sub_t* sub, const flock__sub_event_t* evs, size_t n)
{
    flock_group_handle_t h = NULL;
    if (!n || !delivery_begin(sub, &h)) return;
    for (size_t i = 0; i < n && !sub_stopped(sub); i++) {
        const flock__sub_event_t* e = &evs[i];
        if (!apply_event(&h->view, e)) continue;
        if (e->tag == FLOCK__SUB_TAG_MEMBER && sub->member_fn)
            sub->member_fn(sub->ctx, e->update, e->address, e->provider_id);
        else if (e->tag == FLOCK__SUB_TAG_METADATA && sub->metadata_fn)
            sub->metadata_fn(sub->ctx, e->key, e->value);
    }
    delivery_end(sub, h);
}

/* ------------------------------------------------------------------ */
/* Snapshots: what differs between the cached view and the member's     */
/* ------------------------------------------------------------------ */

static void list_push(event_list* l, const flock__sub_event_t* e)
{
    if (l->failed) return;
    if (l->n == l->cap) {
        size_t              ncap = l->cap ? 2 * l->cap : 16;
        flock__sub_event_t* nv   = (flock__sub_event_t*)realloc(l->v, ncap * sizeof *nv);
        if (!nv) {
            l->failed = true;
            return;
        }
        l->v   = nv;
        l->cap = ncap;
    }
    if (flock__sub_event_copy(&l->v[l->n], e))
        l->n++;
    else
        l->failed = true;
}

static void list_clear(event_list* l)
{
    for (size_t i = 0; i < l->n; i++) flock__sub_event_clear(&l->v[i]);
    l->n = 0;
}

static void list_free(event_list* l)
{
    list_clear(l);
    free(l->v);
}

/* How the member saw (address, pid) go: its recent removals (*named
 * true), else DIED. */
static flock_update_t removal_kind(const flock__sub_reply_t* rep, const char* address,
                                   uint16_t pid, bool* named)
{
    flock_update_t kind = FLOCK_MEMBER_DIED;
    for (size_t i = 0; i < rep->nremovals; i++) /* the latest wins */
        if (rep->removals[i].provider_id == pid && strcmp(rep->removals[i].address, address) == 0) {
            kind   = rep->removals[i].update;
            *named = true;
        }
    return kind;
}

/* Is (address, pid) removed by one of these events? */
static bool events_remove(const flock__sub_event_t* evs, size_t n, const char* address,
                          uint16_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (evs[i].tag == FLOCK__SUB_TAG_MEMBER && evs[i].update != FLOCK_MEMBER_JOINED &&
            evs[i].provider_id == pid && strcmp(evs[i].address, address) == 0)
            return true;
    return false;
}

/* The held-back removals that these events do not explain: deliver them
 * as DIED (the events, delivered next, bring the others with their kind). */
static void settle_unsure(flock__client_sub_t* sub, const flock__sub_event_t* evs, size_t n)
{
    if (!sub->unsure.n) return;
    event_list left = {0};
    for (size_t i = 0; i < sub->unsure.n; i++) {
        flock__sub_event_t* u = &sub->unsure.v[i];
        if (!events_remove(evs, n, u->address, u->provider_id)) list_push(&left, u);
    }
    list_clear(&sub->unsure);
    deliver(sub, left.v, left.n);
    list_free(&left);
}

/* The changes that turn the cached view into the snapshot: members gone,
 * members new, metadata changed or removed. A member gone that the
 * snapshot's removals do not name goes to *unsure instead (as DIED). */
static void snapshot_diff(flock_group_handle_t h, flock__sub_reply_t* rep, event_list* l,
                          event_list* unsure)
{
    flock_group_view_t* cur  = &h->view;
    flock_group_view_t* snap = &rep->view;
    flock__sub_event_t  e;
    FLOCK_GROUP_VIEW_LOCK(cur);
    for (uint64_t i = 0; i < cur->members.size; i++) {
        flock_member_t* m = &cur->members.data[i];
        if (flock_group_view_find_member(snap, m->address, m->provider_id)) continue;
        bool           named = false;
        flock_update_t kind  = removal_kind(rep, m->address, m->provider_id, &named);
        e = (flock__sub_event_t){FLOCK__SUB_TAG_MEMBER, kind, m->address, m->provider_id,
                                 NULL, NULL};
        list_push(named ? l : unsure, &e);
    }
    for (uint64_t i = 0; i < snap->members.size; i++) {
        flock_member_t* m = &snap->members.data[i];
        if (flock_group_view_find_member(cur, m->address, m->provider_id)) continue;
        e = (flock__sub_event_t){FLOCK__SUB_TAG_MEMBER, FLOCK_MEMBER_JOINED, m->address,
                                 m->provider_id, NULL, NULL};
        list_push(l, &e);
    }
    for (uint64_t i = 0; i < cur->metadata.size; i++) {
        const char* key = cur->metadata.data[i].key;
        if (flock_group_view_find_metadata(snap, key)) continue;
        e = (flock__sub_event_t){FLOCK__SUB_TAG_METADATA, 0, NULL, 0, (char*)key, NULL};
        list_push(l, &e);
    }
    for (uint64_t i = 0; i < snap->metadata.size; i++) {
        flock_metadata_t* md = &snap->metadata.data[i];
        const char*       v  = flock_group_view_find_metadata(cur, md->key);
        if (v && strcmp(v, md->value) == 0) continue;
        e = (flock__sub_event_t){FLOCK__SUB_TAG_METADATA, 0, NULL, 0, md->key, md->value};
        list_push(l, &e);
    }
    FLOCK_GROUP_VIEW_UNLOCK(cur);
}

/*
 * Apply a decoded, successful reply: the snapshot's differences, then the
 * events; remember where the next poll starts.
 *
 * A member missing from a snapshot that the snapshot's removals do not
 * name may have left a moment ago: the member changes its view before its
 * provider records the event, so the snapshot can miss the member and the
 * removal both, and the event comes in the next answer (from the
 * snapshot's cursor on). Such removals are held back until the next
 * answer: the event then tells LEFT from DIED; without one they are
 * delivered as DIED. (Delivered at once as DIED, a leave was reported as
 * a death, and the LEFT after it found no member to remove.)
 */
static void apply_reply(flock__client_sub_t* sub, flock__sub_reply_t* rep)
{
    if (rep->kind == FLOCK__SUB_KIND_SNAPSHOT)
        list_clear(&sub->unsure); /* still in the cached view: this diff sees them again */
    else
        settle_unsure(sub, rep->events, rep->nevents);
    if (rep->kind == FLOCK__SUB_KIND_SNAPSHOT) {
        event_list           l = {0};
        flock_group_handle_t h = NULL;
        if (delivery_begin(sub, &h)) { /* the handle stays alive while diffing */
            snapshot_diff(h, rep, &l, &sub->unsure);
            delivery_end(sub, h);
        }
        if (l.failed || sub->unsure.failed)
            margo_error(sub->mid, "[flock] subscription: out of memory comparing views");
        sub->unsure.failed = false;
        deliver(sub, l.v, l.n);
        list_free(&l);
    }
    deliver(sub, rep->events, rep->nevents);
    pthread_mutex_lock(&sub->mtx);
    sub->sub_id   = rep->sub_id;
    sub->next_seq = rep->first_seq + rep->nevents;
    pthread_mutex_unlock(&sub->mtx);
}

/* ------------------------------------------------------------------ */
/* The poll loop                                                        */
/* ------------------------------------------------------------------ */

/* The handle with a reference (release it), or NULL once stopped. */
static flock_group_handle_t sub_handle_get(flock__client_sub_t* sub)
{
    pthread_mutex_lock(&sub->mtx);
    flock_group_handle_t h = (!sub->stopped && sub->handle) ? sub->handle : NULL;
    if (h && !handle_try_ref(h)) h = NULL;
    pthread_mutex_unlock(&sub->mtx);
    return h;
}

/* Decode an answer into *rep; true if it is a success to apply. */
static bool read_answer(flock__client_sub_t* sub, const void* out, size_t out_len,
                        flock__sub_reply_t* rep)
{
    flock_return_t ret = flock__sub_decode_reply(out, out_len, rep);
    if (ret != FLOCK_SUCCESS) {
        margo_error(sub->mid, "[flock] subscription: malformed flock_subscribe answer "
                              "(%zu bytes)", out_len);
        return false;
    }
    if (rep->status != FLOCK_SUCCESS) {
        margo_warning(sub->mid, "[flock] subscription: the member refused the poll: %s",
                      flock__error_name(rep->status));
        flock__sub_reply_clear(rep);
        return false;
    }
    return true;
}

static void poll_complete(void* uargs, hg_return_t hret, const void* out, size_t out_len);

/* Send the next poll to the contact (asynchronous). HG_CANCELED once
 * stopped. */
static hg_return_t poll_send(flock__client_sub_t* sub)
{
    hg_addr_t            addr = HG_ADDR_NULL;
    uint16_t             pid  = 0;
    frt_wbuf             in   = FRT_WBUF_INIT;
    margo_instance_id    mid  = sub->mid; /* sub may be gone once the poll is sent: its
                                              completion can end the chain at once */
    flock_group_handle_t h    = sub_handle_get(sub);
    if (!h) return HG_CANCELED;
    pthread_mutex_lock(&sub->mtx);
    flock__sub_encode_poll(&in, sub->sub_id, sub->next_seq, sub->wait_ms);
    double timeout = sub->wait_ms + sub->timeout_ms;
    pthread_mutex_unlock(&sub->mtx);
    hg_return_t hret = in.failed ? HG_NOMEM : flock__handle_contact(h, &addr, &pid);
    if (hret == HG_SUCCESS)
        hret = frt_forward_async(mid, addr, FLOCK__SUBSCRIBE_RPC, pid, in.data, in.len,
                                 timeout, poll_complete, sub);
    if (addr != HG_ADDR_NULL) margo_addr_free(mid, addr);
    frt_wbuf_free(&in);
    flock_group_handle_release(h);
    return hret;
}

/* One SUBSCRIBE (a fresh snapshot) with some member: the contact, then the
 * other members of the cached view (contact_first: the first poll), or the
 * others first and the contact last (recovery: the contact just failed).
 * The answer is in *out (free it). When nobody else could be asked, the
 * first member's failure is the one returned. */
static hg_return_t subscribe_with(flock__client_sub_t* sub, flock_group_handle_t h,
                                  bool contact_first, void** out, size_t* len)
{
    frt_wbuf    in    = FRT_WBUF_INIT;
    hg_return_t hret  = HG_OTHER_ERROR;
    hg_return_t first = HG_OTHER_ERROR;
    flock__sub_encode_poll(&in, 0, 0, sub->wait_ms);
    if (in.failed) return HG_NOMEM;
    for (int round = 0; round < 2; round++) {
        bool contact = (round == 0) == contact_first;
        if (contact) {
            hg_addr_t addr = HG_ADDR_NULL;
            uint16_t  pid  = 0;
            hret           = flock__handle_contact(h, &addr, &pid);
            if (hret == HG_SUCCESS) {
                hret = frt_forward(sub->mid, addr, FLOCK__SUBSCRIBE_RPC, pid, in.data, in.len,
                                   sub->timeout_ms, out, len);
                margo_addr_free(sub->mid, addr);
            }
        } else {
            hret = flock__handle_failover(h, FLOCK__SUBSCRIBE_RPC, in.data, in.len, 0, out, len);
        }
        if (round == 0) first = hret;
        if (hret == HG_SUCCESS || (contact_first && !flock__worth_failover(hret))) break;
    }
    if (hret == HG_NOENTRY && first != HG_NOENTRY) hret = first;
    frt_wbuf_free(&in);
    return hret;
}

/* Subscribe anew with one member, the contact last (see subscribe_with).
 * On success the answer (a snapshot) is in *rep and the member is the
 * contact. */
static hg_return_t subscribe_somewhere(flock__client_sub_t* sub, flock_group_handle_t h,
                                       flock__sub_reply_t* rep)
{
    void*       out  = NULL;
    size_t      len  = 0;
    hg_return_t hret = subscribe_with(sub, h, false, &out, &len);
    if (hret == HG_SUCCESS && !read_answer(sub, out, len, rep)) hret = HG_PROTOCOL_ERROR;
    free(out);
    return hret;
}

/* Sleep ms in short steps; false if the subscription stopped meanwhile. */
static bool pause_unless_stopped(flock__client_sub_t* sub, double ms)
{
    for (double slept = 0; slept < ms; slept += 100.0) {
        if (sub_stopped(sub)) return false;
        margo_thread_sleep(sub->mid, 100.0);
    }
    return !sub_stopped(sub);
}

/* The contact failed (why): subscribe anew somewhere, with backoff between
 * rounds, and apply the snapshot. false once stopped or finalizing. */
static bool recover(flock__client_sub_t* sub, hg_return_t why)
{
    double pause  = SUB_RETRY_FIRST_MS;
    bool   warned = false;
    margo_warning(sub->mid, "[flock] subscription: the contact member failed (%s); "
                            "subscribing with another member", HG_Error_to_string(why));
    for (;;) {
        flock__sub_reply_t   rep = {0};
        flock_group_handle_t h   = sub_handle_get(sub);
        if (!h) return false;
        hg_return_t hret = subscribe_somewhere(sub, h, &rep);
        flock_group_handle_release(h);
        if (hret == HG_SUCCESS) {
            apply_reply(sub, &rep);
            flock__sub_reply_clear(&rep);
            if (warned) margo_warning(sub->mid, "[flock] subscription: resumed");
            return true;
        }
        if (hret == HG_CANCELED) return false;
        if (!warned)
            margo_warning(sub->mid, "[flock] subscription: no member answers (%s); retrying",
                          HG_Error_to_string(hret));
        warned = true;
        if (!pause_unless_stopped(sub, pause)) return false;
        pause = pause * 2 > SUB_RETRY_MAX_MS ? SUB_RETRY_MAX_MS : pause * 2;
    }
}

/* A poll finished: apply it (or recover), then send the next one. Ends the
 * chain (and drops its reference) once stopped or finalizing. */
static void poll_complete(void* uargs, hg_return_t hret, const void* out, size_t out_len)
{
    flock__client_sub_t* sub = (flock__client_sub_t*)uargs;
    flock__sub_reply_t   rep = {0};
    bool ok = hret == HG_SUCCESS && read_answer(sub, out, out_len, &rep);
    if (hret == HG_SUCCESS && !ok) hret = HG_PROTOCOL_ERROR;
    for (;;) {
        if (sub_stopped(sub) || hret == HG_CANCELED) break;
        if (ok)
            apply_reply(sub, &rep);
        else if (!recover(sub, hret))
            break;
        flock__sub_reply_clear(&rep);
        hret = poll_send(sub);
        if (hret == HG_SUCCESS) return; /* the chain goes on with its reference */
        ok = false;
    }
    flock__sub_reply_clear(&rep);
    sub_unref(sub);
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

static void unsubscribe_sent(void* uargs, hg_return_t hret, const void* out, size_t out_len)
{
    (void)uargs, (void)hret, (void)out, (void)out_len;
}

/* Stop sub (already unlinked from h): no callback runs once this returns
 * (except the caller's own, when called from a callback); tell the member. */
static void sub_stop(flock__client_sub_t* sub, flock_group_handle_t h)
{
    pthread_mutex_lock(&sub->mtx);
    sub->stopped = true;
    while (sub->delivering && !pthread_equal(sub->deliverer, pthread_self()))
        pthread_cond_wait(&sub->cv, &sub->mtx);
    uint64_t id = sub->sub_id;
    sub->handle = NULL;
    pthread_mutex_unlock(&sub->mtx);
    hg_addr_t addr = HG_ADDR_NULL;
    uint16_t  pid  = 0;
    frt_wbuf  in   = FRT_WBUF_INIT;
    frt_put_u64(&in, id);
    if (id && !in.failed && flock__handle_contact(h, &addr, &pid) == HG_SUCCESS) {
        frt_forward_async(sub->mid, addr, FLOCK__UNSUBSCRIBE_RPC, pid, in.data, in.len, 2000.0,
                          unsubscribe_sent, NULL); /* best effort: the lease covers a loss */
        margo_addr_free(sub->mid, addr);
    }
    frt_wbuf_free(&in);
    sub_unref(sub); /* the handle's link */
}

void flock__client_sub_detach(flock_group_handle_t h)
{
    pthread_mutex_lock(&h->contact_lock);
    flock__client_sub_t* sub = h->sub;
    h->sub                   = NULL;
    pthread_mutex_unlock(&h->contact_lock);
    if (sub) sub_stop(sub, h);
}

flock_return_t flock_group_unsubscribe(flock_group_handle_t handle)
{
    if (!handle) return FLOCK_ERR_INVALID_ARGS;
    pthread_mutex_lock(&handle->contact_lock);
    flock__client_sub_t* sub = handle->sub;
    handle->sub              = NULL;
    pthread_mutex_unlock(&handle->contact_lock);
    if (!sub) return FLOCK_ERR_INVALID_ARGS;
    sub_stop(sub, handle);
    return FLOCK_SUCCESS;
}

/* The first exchange: the contact, then the other members. The answer (a
 * snapshot) in *rep. */
static flock_return_t first_poll(flock__client_sub_t* sub, flock_group_handle_t h,
                                 flock__sub_reply_t* rep)
{
    void*       out  = NULL;
    size_t      len  = 0;
    hg_return_t hret = subscribe_with(sub, h, true, &out, &len);
    flock_return_t ret = FLOCK_SUCCESS;
    if (hret == HG_NOENTRY) {
        margo_error(sub->mid, "[flock] flock_group_subscribe: no member of the group serves "
                              "subscriptions (older version?)");
        ret = FLOCK_ERR_OP_UNSUPPORTED;
    } else if (hret == HG_CHECKSUM_ERROR) {
        margo_error(sub->mid, "[flock] flock_group_subscribe: authentication failed (the group "
                              "requires a key, or this key is wrong)");
        ret = FLOCK_ERR_INVALID_PROVIDER;
    } else if (hret != HG_SUCCESS) {
        margo_error(sub->mid, "[flock] flock_group_subscribe: no member answers (%s)",
                    HG_Error_to_string(hret));
        ret = hret == HG_NOMEM ? FLOCK_ERR_ALLOCATION : FLOCK_ERR_FROM_MERCURY;
    } else if (flock__sub_decode_reply(out, len, rep) != FLOCK_SUCCESS) {
        margo_error(sub->mid, "[flock] flock_group_subscribe: malformed answer (%zu bytes)",
                    len);
        ret = FLOCK_ERR_FROM_MERCURY;
    } else {
        ret = rep->status;
    }
    free(out);
    return ret;
}

flock_return_t flock_group_subscribe(flock_group_handle_t handle,
                                     flock_membership_update_fn member_update_fn,
                                     flock_metadata_update_fn metadata_update_fn, void* context)
{
    flock__sub_reply_t rep = {0};
    if (!handle) return FLOCK_ERR_INVALID_ARGS;
    flock__client_sub_t* sub = (flock__client_sub_t*)calloc(1, sizeof *sub);
    if (!sub) return FLOCK_ERR_ALLOCATION;
    pthread_mutex_init(&sub->mtx, NULL);
    pthread_cond_init(&sub->cv, NULL);
    sub->handle      = handle;
    sub->mid         = handle->client->mid;
    sub->member_fn   = member_update_fn;
    sub->metadata_fn = metadata_update_fn;
    sub->ctx         = context;
    sub->wait_ms     = wait_from_env(sub->mid);
    sub->timeout_ms  = handle->client->timeout_ms;
    sub->refs        = 2; /* the handle's link + the poll chain */

    pthread_mutex_lock(&handle->contact_lock);
    bool busy = handle->sub != NULL;
    if (!busy) handle->sub = sub;
    pthread_mutex_unlock(&handle->contact_lock);
    if (busy) {
        margo_error(sub->mid, "[flock] flock_group_subscribe: the handle is already "
                              "subscribed");
        free(sub);
        return FLOCK_ERR_INVALID_ARGS;
    }
    flock_return_t ret = first_poll(sub, handle, &rep);
    if (ret != FLOCK_SUCCESS) {
        pthread_mutex_lock(&handle->contact_lock);
        handle->sub = NULL;
        pthread_mutex_unlock(&handle->contact_lock);
        flock__sub_reply_clear(&rep);
        pthread_mutex_destroy(&sub->mtx);
        pthread_cond_destroy(&sub->cv);
        free(sub);
        return ret;
    }
    apply_reply(sub, &rep); /* what differs from the cached view, on this thread */
    flock__sub_reply_clear(&rep);
    hg_return_t hret = poll_send(sub);
    if (hret != HG_SUCCESS) poll_complete(sub, hret, NULL, 0); /* recovers, or ends */
    return FLOCK_SUCCESS;
}
