/*
 * centralized-primary.c -- the primary's side: the change queue and the
 * committer (group commit: apply a batch to the view, start/stop pinging,
 * fire the local callbacks, broadcast the batch, answer the requesters),
 * and serving get_view (the missing changes or the full view).
 *
 * Owns: cent_change_t, s->queue_head/queue_tail, s->committing,
 * s->committed_seq/committed_digest; on the primary, s->view, s->seq and
 * s->log (under the view lock). One committer at a time.
 * May call: centralized-ping.c (peers follow the view),
 * centralized-common.c, centralized-logic.c, centralized-wire.c, frt/margo.
 * Called by: centralized-rpc.c (requests), centralized-ping.c (deaths).
 */
#include <stdlib.h>
#include <string.h>

#include "flock/backend-util.h"
#include "flock/view-codec.h"

#include "centralized-internal.h"
#include "centralized-wire.h"

/* ------------------------------------------------------------------ */
/* Changes and the queue                                                */
/* ------------------------------------------------------------------ */

cent_change_t* cent__change_new(flock_update_t type, const char* address, uint16_t pid)
{
    cent_change_t* c = calloc(1, sizeof(*c));
    if (c) c->address = strdup(address);
    if (!c || !c->address) {
        cent__change_free(c);
        return NULL;
    }
    c->type = type;
    c->provider_id = pid;
    return c;
}

cent_change_t* cent__change_new_meta(flock_update_t type, const char* key, const char* value)
{
    cent_change_t* c = cent__change_new(type, key, 0);
    if (c && value && !(c->value = strdup(value))) {
        cent__change_free(c);
        return NULL;
    }
    return c;
}

void cent__change_free(cent_change_t* c)
{
    if (!c) return;
    free(c->address);
    free(c->value);
    free(c);
}

static void cent__process_batch(cent_state_t* s, cent_change_t* batch, bool closing);

void cent__enqueue_and_commit(cent_state_t* s, cent_change_t* c)
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

void cent__primary_queue_request(cent_state_t* s, frt_request_t req, flock_update_t type,
                                 const char* src, uint16_t pid)
{
    cent_change_t* c = cent__change_new(type, src, pid);
    if (!c) {
        cent__respond_status(req, FLOCK_ERR_ALLOCATION);
        return;
    }
    c->req = req;
    cent__enqueue_and_commit(s, c); /* answers req, now or later */
}

/* ------------------------------------------------------------------ */
/* Broadcasting                                                         */
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

/* ------------------------------------------------------------------ */
/* Committing one batch                                                 */
/* ------------------------------------------------------------------ */

/* One batch in the hands of the committer (cent__process_batch). */
typedef struct cent_commit {
    cent_change_t* batch;       /* owned: freed at the end */
    flock__cent_event_t* evs;   /* applied changes (addresses borrowed) */
    size_t nevs;
    cent_target_t* targets;     /* members to broadcast to (addresses owned) */
    size_t ntargets;
    frt_wbuf joinmsg;           /* the joiners' reply: status, seq, view */
    uint64_t seq_after;         /* the view after the batch */
    uint64_t digest_after;
    bool any_join;
} cent_commit_t;

/* Contract: view lock held. Give e the next seq and append it to the
 * view's log (primary). A failed append empties the log so that catch-ups
 * fall back to the full view. */
static void cent__next_seq_locked(cent_state_t* s, flock__cent_event_t* e)
{
    e->seq = ++s->seq;
    if (flock__cent_log_append_event(&s->log, e) != FLOCK_SUCCESS) {
        size_t cap = s->log.capacity;
        flock__cent_log_destroy(&s->log);
        flock__cent_log_init(&s->log, cap);
    }
}

/* Contract: no lock held. Set up cm for the batch; false (every change's
 * result set to the reason) when closing or out of memory. */
static bool cent__commit_begin(cent_commit_t* cm, bool closing)
{
    size_t nbatch = 0;
    for (cent_change_t* c = cm->batch; c; c = c->next)
        nbatch++;
    if (!closing) cm->evs = calloc(nbatch, sizeof(*cm->evs));
    if (closing || !cm->evs) {
        for (cent_change_t* c = cm->batch; c; c = c->next)
            c->result = closing ? FLOCK_ERR_OTHER : FLOCK_ERR_ALLOCATION;
        return false;
    }
    return true;
}

/* Contract: view lock held. A metadata change: no event when it changes
 * nothing (the value is already there, the key already absent); refused
 * when the group's metadata would exceed FLOCK_METADATA_TOTAL_MAX. */
static void cent__commit_apply_meta_locked(cent_state_t* s, cent_commit_t* cm,
                                           cent_change_t* c)
{
    const char* cur = flock_group_view_find_metadata(&s->view, c->address);
    c->result = FLOCK_SUCCESS;
    if (c->type == FLOCK__CENT_META_SET) {
        if (cur && strcmp(cur, c->value) == 0) return;
        if (flock__metadata_total_after(&s->view, c->address, c->value) >
            FLOCK_METADATA_TOTAL_MAX) {
            margo_warning(s->mid, CENT_LOG_PREFIX "metadata \"%s\" refused: the group's "
                          "metadata would exceed %u bytes", c->address,
                          (unsigned)FLOCK_METADATA_TOTAL_MAX);
            c->result = FLOCK_ERR_INVALID_ARGS;
            return;
        }
        if (!flock_group_view_add_metadata(&s->view, c->address, c->value)) {
            c->result = FLOCK_ERR_ALLOCATION;
            return;
        }
    } else {
        if (!cur) return;
        flock_group_view_remove_metadata(&s->view, c->address);
    }
    c->applied = true;
    flock__cent_event_t* e = &cm->evs[cm->nevs++];
    e->type = c->type;
    e->address = c->address; /* borrowed from the change */
    e->provider_id = 0;
    e->value = c->value;
    cent__next_seq_locked(s, e);
}

/* Contract: view lock held. Refuse what does not apply (a duplicate join, a
 * leave of a non-member), apply the rest to the view, each with its seq. */
static void cent__commit_apply_locked(cent_state_t* s, cent_commit_t* cm)
{
    for (cent_change_t* c = cm->batch; c; c = c->next) {
        if (flock__cent_is_meta(c->type)) {
            cent__commit_apply_meta_locked(s, cm, c);
            continue;
        }
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
                /* a listed member joins again: it restarted (same address)
                 * or lost the answer to its join; answered with the view,
                 * no event (it never left the group) */
                margo_info(s->mid, CENT_LOG_PREFIX "%s (%u) rejoined (it is still a member)",
                           c->address, c->provider_id);
                c->rejoin = true;
                c->result = FLOCK_SUCCESS;
                cm->any_join = true;
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
        flock__cent_event_t* e = &cm->evs[cm->nevs++];
        e->type = c->type;
        e->address = c->address; /* borrowed from the change */
        e->provider_id = c->provider_id;
        e->value = NULL;
        cent__next_seq_locked(s, e);
        if (c->type == FLOCK_MEMBER_JOINED) cm->any_join = true;
    }
    cm->seq_after = s->seq;
    cm->digest_after = s->view.digest;
}

/* Contract: view lock held, after apply. Encode the joiners' reply. */
static void cent__commit_encode_join_reply_locked(cent_state_t* s, cent_commit_t* cm)
{
    if (!cm->any_join) return;
    flock__cent_encode_status(&cm->joinmsg, FLOCK_SUCCESS);
    frt_put_u64(&cm->joinmsg, cm->seq_after);
    flock__view_encode(&cm->joinmsg, &s->view);
}

/* true if m is one of the batch's applied joiners (answered with the full
 * view instead of the update). */
static bool cent__commit_is_joiner(const cent_commit_t* cm, const flock_member_t* m)
{
    for (cent_change_t* c = cm->batch; c; c = c->next)
        if (c->applied && c->type == FLOCK_MEMBER_JOINED &&
            flock__cent_same_member(m->address, m->provider_id, c->address,
                                    c->provider_id))
            return true;
    return false;
}

/* Contract: view lock held, after apply. The broadcast targets: every
 * member but self and this batch's joiners (none when nothing applied). */
static void cent__commit_collect_targets_locked(cent_state_t* s, cent_commit_t* cm)
{
    if (cm->nevs == 0) return;
    cm->targets =
        calloc(s->view.members.size ? s->view.members.size : 1, sizeof(*cm->targets));
    for (size_t i = 0; cm->targets && i < s->view.members.size; i++) {
        const flock_member_t* m = &s->view.members.data[i];
        if (flock__cent_same_member(m->address, m->provider_id, s->self_addr,
                                    s->provider_id) ||
            cent__commit_is_joiner(cm, m))
            continue;
        cent_target_t* t = &cm->targets[cm->ntargets];
        t->address = strdup(m->address);
        t->provider_id = m->provider_id;
        if (t->address) cm->ntargets++;
    }
    if (!cm->targets)
        margo_error(s->mid, CENT_LOG_PREFIX "out of memory: update not broadcast");
}

/* Contract: no lock held. Leavers need not wait for the broadcast. */
static void cent__commit_answer_leavers(cent_commit_t* cm)
{
    for (cent_change_t* c = cm->batch; c; c = c->next) {
        if (c->req && c->type == FLOCK_MEMBER_LEFT) {
            cent__respond_status(c->req, c->result);
            c->req = NULL;
        }
    }
}

/* Contract: no lock held. Ping joiners, stop pinging who left or died. */
static void cent__commit_update_peers(cent_state_t* s, cent_commit_t* cm)
{
    for (cent_change_t* c = cm->batch; c; c = c->next) {
        if (c->rejoin) cent__peer_reset(s, c->address, c->provider_id);
        if (!c->applied || flock__cent_is_meta(c->type)) continue;
        if (c->type == FLOCK_MEMBER_JOINED)
            cent__peer_add(s, c->address, c->provider_id);
        else
            cent__peer_remove(s, c->address, c->provider_id);
    }
}

/* Contract: no lock held. Log each applied change, fire the callbacks. */
static void cent__commit_announce(cent_state_t* s, cent_commit_t* cm)
{
    for (size_t i = 0; i < cm->nevs; i++) {
        if (flock__cent_is_meta(cm->evs[i].type))
            margo_info(s->mid, CENT_LOG_PREFIX "metadata \"%s\" %s (seq %llu)",
                       cm->evs[i].address,
                       cm->evs[i].type == FLOCK__CENT_META_SET ? "set" : "removed",
                       (unsigned long long)cm->evs[i].seq);
        else
            margo_info(s->mid, CENT_LOG_PREFIX "%s (%u) %s (seq %llu)", cm->evs[i].address,
                       cm->evs[i].provider_id, flock__cent_update_name(cm->evs[i].type),
                       (unsigned long long)cm->evs[i].seq);
    }
    cent__notify(s, cm->evs, cm->nevs);
}

/* Contract: no lock held. Broadcast the applied changes to the targets and
 * wait for every answer or timeout. */
static void cent__commit_broadcast(cent_state_t* s, cent_commit_t* cm)
{
    frt_wbuf update = FRT_WBUF_INIT;
    if (cm->nevs > 0 && cm->ntargets > 0) {
        cent__put_envelope(s, &update);
        flock__cent_encode_events(&update, cm->evs, cm->nevs);
        if (update.failed)
            margo_error(s->mid, CENT_LOG_PREFIX "out of memory: update not broadcast");
        else
            cent__broadcast(s, &update, cm->targets, cm->ntargets);
    }
    frt_wbuf_free(&update);
}

/* Contract: no lock held; after the broadcast. Publish the committed
 * (seq, digest) that the next pings announce. */
static void cent__commit_publish(cent_state_t* s, const cent_commit_t* cm)
{
    pthread_mutex_lock(&s->mtx);
    s->committed_seq = cm->seq_after;
    s->committed_digest = cm->digest_after;
    pthread_mutex_unlock(&s->mtx);
}

/* Contract: no lock held. Answer every request not answered yet (joiners:
 * the full view) and free the batch and the rest of cm. */
static void cent__commit_finish(cent_commit_t* cm)
{
    for (cent_change_t* c = cm->batch; c; c = c->next) {
        if (!c->req) continue;
        if ((c->applied || c->rejoin) && c->type == FLOCK_MEMBER_JOINED && !cm->joinmsg.failed)
            frt_respond(c->req, cm->joinmsg.data, cm->joinmsg.len);
        else if (flock__cent_is_meta(c->type)) /* answered after the broadcast */
            cent__respond_status(c->req, c->result);
        else
            cent__respond_status(c->req, c->applied || c->rejoin ? FLOCK_ERR_ALLOCATION
                                                                 : c->result);
        c->req = NULL;
    }
    while (cm->batch) {
        cent_change_t* next = cm->batch->next;
        cent__change_free(cm->batch);
        cm->batch = next;
    }
    for (size_t i = 0; i < cm->ntargets; i++)
        free(cm->targets[i].address);
    free(cm->targets);
    free(cm->evs);
    frt_wbuf_free(&cm->joinmsg);
}

/* Contract: no lock held; the calling thread is the committer. Apply one
 * batch of queued changes, notify, broadcast, answer the requesters. */
static void cent__process_batch(cent_state_t* s, cent_change_t* batch, bool closing)
{
    cent_commit_t cm = {.batch = batch, .joinmsg = FRT_WBUF_INIT};

    if (cent__commit_begin(&cm, closing)) {
        FLOCK_GROUP_VIEW_LOCK(&s->view);
        cent__commit_apply_locked(s, &cm);
        cent__commit_encode_join_reply_locked(s, &cm);
        cent__commit_collect_targets_locked(s, &cm);
        FLOCK_GROUP_VIEW_UNLOCK(&s->view);
        cent__commit_answer_leavers(&cm);
        cent__commit_update_peers(s, &cm);
        cent__commit_announce(s, &cm);
        cent__commit_broadcast(s, &cm);
        cent__commit_publish(s, &cm);
    }
    cent__commit_finish(&cm);
}

/* ------------------------------------------------------------------ */
/* Serving get_view                                                     */
/* ------------------------------------------------------------------ */

void cent__primary_serve_view(cent_state_t* s, frt_request_t req, uint64_t since,
                              bool want_full)
{
    frt_wbuf b = FRT_WBUF_INIT;
    size_t first = 0, n = 0;

    FLOCK_GROUP_VIEW_LOCK(&s->view);
    flock__cent_encode_status(&b, FLOCK_SUCCESS);
    if (!want_full && since <= s->seq &&
        flock__cent_log_since(&s->log, since, &first, &n)) {
        frt_put_u8(&b, FLOCK__CENT_KIND_EVENTS);
        frt_put_u64(&b, s->seq);
        frt_put_u32(&b, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            flock__cent_encode_event(&b, flock__cent_log_at(&s->log, first + i));
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
