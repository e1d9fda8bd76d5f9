/*
 * centralized-secondary.c -- the secondary's side: applying the primary's
 * broadcasts strictly in seq order, catching up (the missing changes or the
 * full view, through get_view), reacting to the primary's pings, joining
 * through the primary (with retries) and leaving.
 *
 * Owns: on a secondary, s->view and s->seq (written under the view lock,
 * always with sync_mtx held: sync_mtx serializes the appliers and is held
 * while callbacks run and while catch-up RPCs are in flight).
 * May call: centralized-common.c, centralized-logic.c, centralized-wire.c,
 * view-codec, frt/margo. Called by: centralized-rpc.c (update, ping),
 * centralized-backend.c (join at init, leave at destroy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flock/view-codec.h"

#include "centralized-internal.h"
#include "centralized-wire.h"

/* ------------------------------------------------------------------ */
/* Applying changes                                                     */
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
        if (flock__cent_is_meta(e->type)) {
            const char* cur = flock_group_view_find_metadata(&s->view, e->address);
            bool changed = false;
            if (e->type == FLOCK__CENT_META_SET && (!cur || strcmp(cur, e->value) != 0)) {
                if (!flock_group_view_add_metadata(&s->view, e->address, e->value)) {
                    margo_error(s->mid, CENT_LOG_PREFIX "out of memory applying an update");
                    *gap = true;
                    break;
                }
                changed = true;
            } else if (e->type == FLOCK__CENT_META_DEL && cur) {
                changed = flock_group_view_remove_metadata(&s->view, e->address);
            }
            s->seq = e->seq;
            if (changed && fired) fired[nfired++] = *e; /* strings borrowed */
            continue;
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
        if (!flock__cent_is_meta(fired[i].type) && flock__cent_same_member(fired[i].address, fired[i].provider_id, s->self_addr,
                                    s->provider_id) &&
            fired[i].type != FLOCK_MEMBER_JOINED)
            cent__watch_removed(s, fired[i].type == FLOCK_MEMBER_LEFT
                                       ? "the primary reports that it left"
                                       : "the primary declared it dead");
    }
    cent__notify(s, fired, nfired);
    free(fired);
}

/* Contract: view lock held. Append to *e (capacity reserved by the caller)
 * the metadata differences from the view to v: keys set or changed in v
 * (META_SET), keys only in the view (META_DEL). */
static void cent__diff_meta_locked(cent_state_t* s, const flock_group_view_t* v,
                                   flock__cent_event_t* evs, size_t* n)
{
    for (size_t i = 0; i < v->metadata.size; i++) {
        const flock_metadata_t* md = &v->metadata.data[i];
        const char* cur = flock_group_view_find_metadata(&s->view, md->key);
        if (cur && strcmp(cur, md->value) == 0) continue;
        flock__cent_event_t* e = &evs[(*n)++];
        e->type = FLOCK__CENT_META_SET;
        e->address = strdup(md->key);
        e->value = strdup(md->value);
        if (!e->address || !e->value) {
            free(e->address);
            free(e->value);
            e->address = e->value = NULL;
            (*n)--;
        }
    }
    for (size_t i = 0; i < s->view.metadata.size; i++) {
        const char* key = s->view.metadata.data[i].key;
        if (flock_group_view_find_metadata(v, key)) continue;
        flock__cent_event_t* e = &evs[(*n)++];
        e->type = FLOCK__CENT_META_DEL;
        e->address = strdup(key);
        if (!e->address) (*n)--;
    }
}

/* Contract: view lock held. Append to *evs the differences from the view
 * to v: members only in v JOINED, members only in the view DIED (a whole
 * view does not say why a member went); this member is left out; then the
 * metadata differences. */
static void cent__diff_locked(cent_state_t* s, const flock_group_view_t* v,
                              flock__cent_event_t** evs, size_t* n)
{
    size_t cap = (size_t)(s->view.members.size + v->members.size + s->view.metadata.size +
                          v->metadata.size);
    *evs = cap ? calloc(cap, sizeof(**evs)) : NULL;
    *n = 0;
    if (!*evs) return;
    for (int side = 0; side < 2; side++) {
        const flock_group_view_t* from = side ? &s->view : v;
        flock_group_view_t* other = side ? (flock_group_view_t*)v : &s->view;
        for (size_t i = 0; i < from->members.size; i++) {
            const flock_member_t* m = &from->members.data[i];
            if (flock__cent_same_member(m->address, m->provider_id, s->self_addr,
                                        s->provider_id) ||
                flock_group_view_find_member(other, m->address, m->provider_id))
                continue;
            flock__cent_event_t* e = &(*evs)[(*n)++];
            e->type = side ? FLOCK_MEMBER_DIED : FLOCK_MEMBER_JOINED;
            e->address = strdup(m->address);
            e->provider_id = m->provider_id;
            if (!e->address) (*n)--;
        }
    }
    cent__diff_meta_locked(s, v, *evs, n);
}

/* Contract: sync_mtx held, view lock not held. Replace the view with *v
 * (moved) at seq and fire the callbacks for what differs, so that a member
 * that catches up with a whole view misses no change (it cannot tell a
 * leave from a death: removals are reported as DIED). */
static void cent__install_view(cent_state_t* s, flock_group_view_t* v, uint64_t seq)
{
    flock__cent_event_t* evs = NULL;
    size_t n = 0;
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    cent__diff_locked(s, v, &evs, &n);
    flock_group_view_clear(&s->view);
    FLOCK_GROUP_VIEW_MOVE(v, &s->view);
    s->seq = seq;
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    cent__notify(s, evs, n);
    flock__cent_events_free(evs, n);
}

/* ------------------------------------------------------------------ */
/* Catching up                                                          */
/* ------------------------------------------------------------------ */

typedef enum cent_catch_up_step {
    CENT_CATCH_UP_DONE = 0,  /* applied, or the primary refused (logged) */
    CENT_CATCH_UP_AGAIN,     /* the events left a gap: ask for the full view */
    CENT_CATCH_UP_MALFORMED  /* a bad reply (the caller logs it) */
} cent_catch_up_step_t;

/* Contract: sync_mtx held, no other lock. Validate and apply one get_view
 * reply (the missing events, or the full view). */
static cent_catch_up_step_t cent__catch_up_apply_reply(cent_state_t* s, const void* out,
                                                       size_t olen)
{
    cent_catch_up_step_t step = CENT_CATCH_UP_MALFORMED;
    frt_rbuf r;
    uint32_t status;
    uint8_t kind;
    uint64_t seq;
    flock__cent_event_t* evs = NULL;
    size_t n = 0;
    bool gap = false;
    flock_group_view_t tmp = FLOCK_GROUP_VIEW_INITIALIZER;

    frt_rbuf_init(&r, out, olen);
    if (!flock__cent_decode_status(&r, &status)) goto finish;
    if (status != FLOCK_SUCCESS) {
        margo_warning(s->mid, CENT_LOG_PREFIX "the primary refused to resync us (%u)",
                      status);
        step = CENT_CATCH_UP_DONE;
        goto finish;
    }
    kind = frt_get_u8(&r);
    seq = frt_get_u64(&r);
    if (!frt_rbuf_ok(&r)) goto finish;
    if (kind == FLOCK__CENT_KIND_EVENTS) {
        if (!flock__cent_decode_events(&r, &evs, &n) || !frt_rbuf_done(&r)) goto finish;
        cent__apply_events(s, evs, n, &gap);
        step = gap ? CENT_CATCH_UP_AGAIN : CENT_CATCH_UP_DONE;
    } else if (kind == FLOCK__CENT_KIND_VIEW) {
        if (flock__view_decode(&r, &tmp) != FLOCK_SUCCESS || !frt_rbuf_done(&r))
            goto finish;
        cent__install_view(s, &tmp, seq);
        margo_debug(s->mid,
                    CENT_LOG_PREFIX "view resynchronized from the primary (seq %llu)",
                    (unsigned long long)seq);
        step = CENT_CATCH_UP_DONE;
    }
finish:
    flock__cent_events_free(evs, n);
    flock_group_view_clear(&tmp);
    return step;
}

/* Contract: sync_mtx held, no other lock. Ask the primary for what this
 * member misses (or the full view) and apply it; a gap in the events it
 * sends asks once more, for the full view. Errors are logged; the next
 * ping retries. */
static void cent__catch_up_locked(cent_state_t* s, bool want_full)
{
    frt_wbuf req = FRT_WBUF_INIT;
    void* out = NULL;
    size_t olen = 0;

    for (int attempt = 0; attempt < 2; attempt++) {
        uint64_t since;
        FLOCK_GROUP_VIEW_LOCK(&s->view);
        since = s->seq;
        FLOCK_GROUP_VIEW_UNLOCK(&s->view);
        frt_wbuf_free(&req);
        cent__put_envelope(s, &req);
        flock__cent_encode_view_req(&req, since, want_full);
        if (req.failed) break;
        free(out);
        out = NULL;
        hg_return_t hret = cent__call_primary(s, FLOCK__CENT_RPC_VIEW, &req,
                                              CENT_CATCH_UP_TIMEOUT_MS, &out, &olen);
        if (hret != HG_SUCCESS) {
            margo_warning(s->mid,
                          CENT_LOG_PREFIX "cannot reach the primary to resync: %s",
                          HG_Error_to_string(hret));
            break;
        }
        cent_catch_up_step_t step = cent__catch_up_apply_reply(s, out, olen);
        if (step == CENT_CATCH_UP_MALFORMED)
            margo_error(s->mid,
                        CENT_LOG_PREFIX "malformed resync reply from the primary dropped");
        if (step != CENT_CATCH_UP_AGAIN) break;
        want_full = true; /* inconsistent log: take the whole view */
    }
    frt_wbuf_free(&req);
    free(out);
}

/* ------------------------------------------------------------------ */
/* Messages from the primary                                            */
/* ------------------------------------------------------------------ */

void cent__secondary_apply_update(cent_state_t* s, const flock__cent_event_t* evs, size_t n)
{
    bool gap = false;
    pthread_mutex_lock(&s->sync_mtx);
    cent__apply_events(s, evs, n, &gap);
    if (gap) cent__catch_up_locked(s, false);
    pthread_mutex_unlock(&s->sync_mtx);
}

void cent__secondary_on_ping(cent_state_t* s, uint64_t seq, uint64_t digest, bool adopt)
{
    pthread_mutex_lock(&s->sync_mtx);
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    bool behind = s->seq < seq;
    bool need = adopt || flock__cent_needs_catch_up(s->seq, s->view.digest, seq, digest);
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    if (need && s->joined) cent__catch_up_locked(s, adopt || !behind);
    pthread_mutex_unlock(&s->sync_mtx);
}

void cent__secondary_resync(cent_state_t* s)
{
    pthread_mutex_lock(&s->sync_mtx);
    if (s->joined) cent__catch_up_locked(s, true);
    pthread_mutex_unlock(&s->sync_mtx);
}

flock_return_t cent__secondary_check_locked(cent_state_t* s, double timeout_ms, bool* listed)
{
    frt_wbuf req = FRT_WBUF_INIT;
    void* out = NULL;
    size_t olen = 0;
    flock_return_t ret = FLOCK_SUCCESS;

    *listed = false;
    cent__put_envelope(s, &req);
    flock__cent_encode_view_req(&req, 0, true);
    for (int hop = 0;; hop++) { /* a member that is not the primary redirects */
        free(out);
        out = NULL;
        hg_return_t hret = req.failed ? HG_NOMEM
                                      : cent__call_primary(s, FLOCK__CENT_RPC_VIEW, &req,
                                                           timeout_ms, &out, &olen);
        if (hret != HG_SUCCESS) {
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        frt_rbuf r;
        uint32_t status = FLOCK_ERR_OTHER;
        frt_rbuf_init(&r, out, olen);
        if (flock__cent_decode_status(&r, &status) && status == FLOCK_SUCCESS) break;
        if (status == FLOCK_ERR_OP_FORBIDDEN && hop < CENT_MAX_REDIRECTS &&
            cent__follow_redirect(s, &r))
            continue;
        /* a member that is no primary and knows none: as if unreachable */
        ret = status == FLOCK_ERR_OP_FORBIDDEN ? FLOCK_ERR_FROM_MERCURY
                                               : flock__cent_status_to_return(status);
        if (ret == FLOCK_SUCCESS) ret = FLOCK_ERR_OTHER; /* malformed */
        goto finish;
    }
    if (cent__catch_up_apply_reply(s, out, olen) != CENT_CATCH_UP_DONE) {
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    *listed = flock_group_view_find_member(&s->view, s->self_addr, s->provider_id) != NULL;
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
finish:
    frt_wbuf_free(&req);
    free(out);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Joining and leaving                                                  */
/* ------------------------------------------------------------------ */

/* Contract: no lock held. Take the group id and term of the primary's
 * view (its __config__), as a joiner that started from a file without
 * them, or from an older term, must. */
static void cent__adopt_from_view(cent_state_t* s, flock_group_view_t* v)
{
    flock__cent_config_t cfg;
    const char* text = flock_group_view_find_metadata(v, "__config__");
    if (text && flock__cent_config_parse(NULL, text, &cfg, NULL, 0) == FLOCK_SUCCESS) {
        cent__adopt(s, cfg.group_id, cfg.term);
        flock__cent_config_destroy(&cfg);
    }
}

/* Why a join the primary answered was refused for now (cent__join): the
 * caller may ask again. */
typedef enum {
    CENT_REFUSED_NOT = 0, /* not refused for now: joined, or failed for good */
    CENT_NO_PRIMARY  = 1, /* the member asked is not the primary and named none
                             we could follow (an election under way, or it took
                             over as we asked): FLOCK_ERR_OP_FORBIDDEN */
    CENT_NO_QUORUM   = 2, /* the primary reaches fewer than half of its group
                             (the quorum rule) or is stopping: FLOCK_ERR_OTHER */
} cent_refusal;

/* Contract: sync_mtx held by the caller; RPCs registered. Join through the
 * primary (waiting at most timeout_ms) and install the view it returns.
 * *transport: how the last call went; *refusal: whether the primary (or
 * the member asked) refused the join for now. */
static flock_return_t cent__join(cent_state_t* s, double timeout_ms,
                                 hg_return_t* transport, cent_refusal* refusal)
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

    *refusal = CENT_REFUSED_NOT;
    cent__put_envelope(s, &b);
    flock__cent_encode_u16(&b, s->provider_id);
    if (b.failed) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    for (int hop = 0;; hop++) {
        char paddr[FRT_MAX_ADDR_LEN + 1];
        uint16_t ppid;
        free(out);
        out = NULL;
        hret = cent__call_primary(s, FLOCK__CENT_RPC_JOIN, &b, timeout_ms, &out, &olen);
        *transport = hret;
        if (hret != HG_SUCCESS) {
            cent__primary_name(s, paddr, sizeof paddr, &ppid);
            margo_warning(s->mid,
                          CENT_LOG_PREFIX "join request to the primary %s (%u) failed: %s",
                          paddr, ppid, HG_Error_to_string(hret));
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        frt_rbuf_init(&r, out, olen);
        if (!flock__cent_decode_status(&r, &status)) goto malformed;
        /* a member that is no longer (or not) the primary names the primary */
        if (status != FLOCK_ERR_OP_FORBIDDEN || hop >= CENT_MAX_REDIRECTS ||
            !cent__follow_redirect(s, &r))
            break;
    }
    if (status == FLOCK_ERR_OP_FORBIDDEN) {
        char paddr[FRT_MAX_ADDR_LEN + 1];
        uint16_t ppid;
        cent__primary_name(s, paddr, sizeof paddr, &ppid);
        margo_info(s->mid, CENT_LOG_PREFIX "%s (%u) is not the primary and names none to "
                   "follow (an election under way?)", paddr, ppid);
        *refusal = CENT_NO_PRIMARY;
        ret = FLOCK_ERR_OP_FORBIDDEN;
        goto finish;
    }
    if (status == FLOCK_ERR_OTHER) {
        /* the primary reaches fewer than half of its group (see the quorum
         * rule) or is stopping: the caller may try again */
        char paddr[FRT_MAX_ADDR_LEN + 1];
        uint16_t ppid;
        cent__primary_name(s, paddr, sizeof paddr, &ppid);
        margo_info(s->mid, CENT_LOG_PREFIX "the primary %s (%u) cannot reach a majority of "
                   "its group (or it is stopping): the join of %s (%u) is refused for now",
                   paddr, ppid, s->self_addr, s->provider_id);
        *refusal = CENT_NO_QUORUM;
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
    if (status != FLOCK_SUCCESS) {
        ret = flock__cent_status_to_return(status);
        margo_error(s->mid, CENT_LOG_PREFIX "the primary refused the join of %s (%u): %s",
                    s->self_addr, s->provider_id,
                    status == FLOCK_ERR_INVALID_GROUP ? "it is the primary of another group"
                                                : "error");
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
    cent__adopt_from_view(s, &tmp);
    cent__install_view(s, &tmp, seq);
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

flock_return_t cent__secondary_rejoin_locked(cent_state_t* s)
{
    hg_return_t  transport = HG_SUCCESS;
    cent_refusal refusal   = CENT_REFUSED_NOT;
    return cent__join(s, CENT_CATCH_UP_TIMEOUT_MS, &transport, &refusal);
}

/* Contract: sync_mtx held (joining). Make the member after *next (in the
 * view this joiner started from) the one its join goes to; false after a
 * whole round (then *next restarts). */
static bool cent__try_next_member(cent_state_t* s, size_t* next)
{
    char addr[FRT_MAX_ADDR_LEN + 1] = "";
    uint16_t pid = 0;
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    size_t n = s->view.members.size;
    while (*next < n) {
        const flock_member_t* m = &s->view.members.data[(*next)++];
        if (flock__cent_same_member(m->address, m->provider_id, s->self_addr, s->provider_id))
            continue;
        snprintf(addr, sizeof addr, "%s", m->address);
        pid = m->provider_id;
        break;
    }
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    if (!addr[0]) {
        *next = 0;
        return false;
    }
    return cent__set_primary(s, addr, pid) == FLOCK_SUCCESS;
}

/* A primary that cannot be reached (connection refused or lost: a
 * restarting link, a primary still starting; then "no such provider" while
 * that primary finishes registering), or a member that knows no primary
 * to redirect to (an election under way: the file's primary just died),
 * is retried every 200 ms for CENT_JOIN_RETRY_MS, trying the other members
 * of the file's view (which redirect). A primary that refuses the join
 * because it reaches fewer than half of its group (members paused, or
 * killed and not yet declared: it declares nobody while it lacks a
 * majority) is asked again every 500 ms for CENT_JOIN_QUORUM_WAIT_MS: a
 * restarted member comes back once the group can decide again. If a lost
 * connection hid a join the primary did apply, the retry is a rejoin,
 * answered with the view like the first join. */
flock_return_t cent__secondary_join(cent_state_t* s)
{
    double start = frt_now_ms();
    bool retried = false;
    size_t next = 0;
    cent_refusal refusal = CENT_REFUSED_NOT; /* the last attempt's */
    flock_return_t ret;
    for (;;) {
        hg_return_t transport = HG_SUCCESS;
        ret = cent__join(s, CENT_JOIN_TIMEOUT_MS, &transport, &refusal);
        if (ret == FLOCK_SUCCESS) break;
        /* HG_NOENTRY after a refused connection: the primary's process is
         * now listening but has not registered its provider yet (it is
         * still starting); keep retrying. HG_NOENTRY on the first attempt
         * (a wrong provider id, say) fails at once. */
        bool starting = retried && transport == HG_NOENTRY;
        double waited = frt_now_ms() - start;
        bool no_primary = refusal == CENT_NO_PRIMARY;
        if (refusal == CENT_NO_QUORUM ? waited >= CENT_JOIN_QUORUM_WAIT_MS
                                      : (transport != HG_HOSTUNREACH && !starting && !no_primary) ||
                                            waited >= CENT_JOIN_RETRY_MS)
            break;
        retried = true;
        /* the primary named by the file may be gone (a takeover since):
         * any other member of the file's view redirects to the current one */
        if ((transport == HG_HOSTUNREACH || no_primary) && cent__try_next_member(s, &next))
            continue;
        margo_thread_sleep(s->mid, refusal == CENT_NO_QUORUM ? 500 : 200);
    }
    if (ret != FLOCK_SUCCESS) {
        char paddr[FRT_MAX_ADDR_LEN + 1];
        uint16_t ppid;
        cent__primary_name(s, paddr, sizeof paddr, &ppid);
        if (refusal == CENT_NO_QUORUM)
            margo_error(s->mid, CENT_LOG_PREFIX "could not join the group through %s (%u): the "
                        "primary cannot reach a majority of its group (or it is stopping); it "
                        "refused this join for %.0f s", paddr, ppid,
                        CENT_JOIN_QUORUM_WAIT_MS / 1000.0);
        else
            margo_error(s->mid, CENT_LOG_PREFIX "could not join the group through %s (%u)%s",
                        paddr, ppid, ret == FLOCK_ERR_OP_FORBIDDEN
                                         ? ": no member named a primary (it is not the primary "
                                           "and knows none)"
                                         : "");
    }
    return ret;
}

void cent__secondary_leave(cent_state_t* s)
{
    frt_wbuf b = FRT_WBUF_INIT;
    void* out = NULL;
    size_t olen = 0;
    cent__put_envelope(s, &b);
    flock__cent_encode_u16(&b, s->provider_id);
    if (!b.failed) {
        hg_return_t h = cent__call_primary(s, FLOCK__CENT_RPC_LEAVE, &b,
                                           CENT_LEAVE_TIMEOUT_MS, &out, &olen);
        if (h != HG_SUCCESS)
            margo_warning(s->mid, CENT_LOG_PREFIX "leave notification failed: %s",
                          HG_Error_to_string(h));
    }
    free(out);
    frt_wbuf_free(&b);
}
