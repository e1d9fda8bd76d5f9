/*
 * centralized-rpc.c -- the five RPCs of the centralized backend: their
 * registration and every handler. This is the one place messages arrive:
 * a handler validates the message completely (centralized-wire.c), checks
 * that this member's role may serve it, and hands it to that role.
 *
 * Every request opens with the sender's (group id, term) envelope: a
 * request of another group is refused (INVALID_GROUP) before anything
 * else; a ping or update of an older term is refused (OP_FORBIDDEN: its
 * sender is a former primary); one of a newer term is adopted.
 *
 *   RPC                 served by   hands to
 *   ping                secondary   (answered here) cent__secondary_on_ping
 *   membership_update   secondary   cent__secondary_apply_update
 *   get_view            primary     cent__primary_serve_view
 *   leave, join         primary     cent__primary_queue_request
 *
 * Owns: s->rpc_registered. May call: centralized-primary.c,
 * centralized-secondary.c, centralized-common.c, centralized-wire.c, frt.
 */
#include "centralized-internal.h"
#include "centralized-wire.h"

/* Contract: decode the envelope of a request and judge it against this
 * member's identity. false (req answered: INVALID_ARGS for a truncated
 * envelope, INVALID_GROUP for another group, logged) when the handler must
 * stop; otherwise *body is the rest of the message and *v the verdict. */
static bool cent__open(cent_state_t* s, frt_request_t req, const void* in, size_t in_len,
                       const char* what, frt_rbuf* body, flock__cent_verdict_t* v,
                       uint64_t* msg_group, uint64_t* msg_term, uint16_t* msg_pid)
{
    uint64_t my_group, my_term;
    if (!flock__cent_decode_envelope(body, in, in_len, msg_group, msg_term, msg_pid)) {
        margo_error(s->mid, CENT_LOG_PREFIX "malformed %s request from %s dropped", what,
                    frt_request_source(req));
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return false;
    }
    cent__identity(s, &my_group, &my_term);
    *v = flock__cent_judge(my_group, my_term, *msg_group, *msg_term);
    if (*v == FLOCK__CENT_FOREIGN) {
        double now = frt_now_ms();
        pthread_mutex_lock(&s->mtx);
        bool say = now - s->last_foreign_ms >= CENT_FOREIGN_WARN_MS || s->last_foreign_ms == 0;
        if (say) s->last_foreign_ms = now;
        pthread_mutex_unlock(&s->mtx);
        if (say) /* at most one line per CENT_FOREIGN_WARN_MS: a peer cannot flood the log */
            margo_warning(s->mid,
                      CENT_LOG_PREFIX "%s from %s refused: it belongs to group %016llx, this "
                      "member to group %016llx",
                      what, frt_request_source(req), (unsigned long long)*msg_group,
                      (unsigned long long)my_group);
        cent__respond_status(req, FLOCK_ERR_INVALID_GROUP);
        return false;
    }
    return true;
}

/* true if this primary reaches no majority of its group (joins wait). */
static bool cent__no_quorum(cent_state_t* s)
{
    pthread_mutex_lock(&s->mtx);
    bool lost = s->quorum_lost;
    pthread_mutex_unlock(&s->mtx);
    return lost;
}

/* join/leave: the joiner is the RPC source address, the payload its pid. */
static void cent__membership_request(cent_state_t* s, frt_request_t req,
                                     flock_update_t type, const void* in, size_t in_len)
{
    uint16_t pid;
    const char* src = frt_request_source(req);
    const char* what = type == FLOCK_MEMBER_JOINED ? "join" : "leave";
    frt_rbuf body;
    flock__cent_verdict_t v;
    uint64_t g, t;
    uint16_t spid;

    if (!cent__open(s, req, in, in_len, what, &body, &v, &g, &t, &spid)) return;
    if (!flock__cent_decode_u16(body.p, body.left, &pid) || !src || !*src) {
        margo_error(s->mid, CENT_LOG_PREFIX "malformed %s request dropped", what);
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!s->is_primary) {
        margo_info(s->mid, CENT_LOG_PREFIX "%s request from %s sent to a member that is not "
                   "the primary: redirected", what, src);
        cent__respond_redirect(s, req);
        return;
    }
    if (type == FLOCK_MEMBER_JOINED && cent__no_quorum(s)) {
        margo_warning(s->mid, CENT_LOG_PREFIX "join of %s (%u) refused: this primary cannot "
                      "reach a majority of its group", src, pid);
        cent__respond_status(req, FLOCK_ERR_OTHER);
        return;
    }
    cent__primary_queue_request(s, req, type, src, pid);
}

static void cent__join_handler(frt_request_t req, const void* in, size_t in_len,
                               void* uargs)
{
    cent__membership_request(uargs, req, FLOCK_MEMBER_JOINED, in, in_len);
}

static void cent__leave_handler(frt_request_t req, const void* in, size_t in_len,
                                void* uargs)
{
    cent__membership_request(uargs, req, FLOCK_MEMBER_LEFT, in, in_len);
}

/* A member asks the primary to set or remove a metadata entry (its
 * provider already checked the request from the client): ordered like a
 * membership change, answered after the broadcast. Refused without a
 * majority, like a join: the other side may be electing a primary that
 * would never know of it. */
static void cent__metadata_handler(frt_request_t req, const void* in, size_t in_len,
                                   void* uargs)
{
    cent_state_t* s = uargs;
    frt_rbuf body;
    flock__cent_verdict_t v;
    uint64_t g, t;
    uint16_t spid;
    char *key = NULL, *value = NULL;

    if (!cent__open(s, req, in, in_len, "metadata", &body, &v, &g, &t, &spid)) return;
    if (!flock__cent_decode_meta(body.p, body.left, &key, &value)) {
        margo_error(s->mid, CENT_LOG_PREFIX "malformed metadata request from %s dropped",
                    frt_request_source(req));
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!s->is_primary) {
        cent__respond_redirect(s, req);
    } else if (cent__no_quorum(s)) {
        margo_warning(s->mid, CENT_LOG_PREFIX "metadata change of \"%s\" refused: this "
                      "primary cannot reach a majority of its group", key);
        cent__respond_status(req, FLOCK_ERR_OTHER);
    } else {
        cent_change_t* c = cent__change_new_meta(
            value ? FLOCK__CENT_META_SET : FLOCK__CENT_META_DEL, key, value);
        if (!c) {
            cent__respond_status(req, FLOCK_ERR_ALLOCATION);
        } else {
            c->req = req;
            cent__enqueue_and_commit(s, c); /* answers req */
        }
    }
    free(key);
    free(value);
}

/* A member asks the primary for the changes after since_seq, or the full view. */
static void cent__get_view_handler(frt_request_t req, const void* in, size_t in_len,
                                   void* uargs)
{
    cent_state_t* s = uargs;
    uint64_t since, g, t;
    bool want_full;
    frt_rbuf body;
    flock__cent_verdict_t v;
    uint16_t spid;

    if (!cent__open(s, req, in, in_len, "get_view", &body, &v, &g, &t, &spid)) return;
    if (!flock__cent_decode_view_req(body.p, body.left, &since, &want_full)) {
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!s->is_primary) {
        cent__respond_redirect(s, req);
        return;
    }
    cent__primary_serve_view(s, req, since, want_full || v == FLOCK__CENT_STALE);
}

/* Contract: a message of the primary (ping, update) judged v at a
 * secondary. false (req answered with the reason) unless it is from this
 * group's current primary; adopts a new term or a group id. */
static bool cent__from_primary(cent_state_t* s, frt_request_t req, const char* what,
                               flock__cent_verdict_t v, uint64_t g, uint64_t t, uint16_t spid)
{
    const char* src = frt_request_source(req);
    if (v == FLOCK__CENT_STALE || (s->is_primary && v != FLOCK__CENT_ADOPT)) {
        /* a former primary, or a member probing whether this primary is
         * alive: answered with the primary this member knows */
        margo_debug(s->mid, CENT_LOG_PREFIX "%s of term %llu from %s refused", what,
                    (unsigned long long)t, src);
        cent__respond_redirect(s, req);
        return false;
    }
    if (v == FLOCK__CENT_ADOPT) {
        if (s->is_primary) { /* a newer primary exists: step down (the watch does it) */
            pthread_mutex_lock(&s->mtx);
            s->step_down = true;
            pthread_mutex_unlock(&s->mtx);
        }
        if (src && t > 0) cent__set_primary(s, src, spid);
        margo_info(s->mid, CENT_LOG_PREFIX "the primary %s (%u) opened term %llu", src ? src : "?",
                   spid, (unsigned long long)t);
        cent__adopt(s, g, t);
    }
    cent__watch_contact(s);
    return true;
}

/* The primary broadcasts a batch of changes. */
static void cent__update_handler(frt_request_t req, const void* in, size_t in_len,
                                 void* uargs)
{
    cent_state_t* s = uargs;
    flock__cent_event_t* evs = NULL;
    size_t n = 0;
    frt_rbuf r;
    flock__cent_verdict_t v;
    uint64_t g, t;

    uint16_t spid;
    if (!cent__open(s, req, in, in_len, "membership update", &r, &v, &g, &t, &spid)) return;
    if (!flock__cent_decode_events(&r, &evs, &n) || !frt_rbuf_done(&r)) {
        margo_error(s->mid, CENT_LOG_PREFIX "malformed membership update from %s dropped",
                    frt_request_source(req));
        flock__cent_events_free(evs, n); /* decoded but followed by trailing bytes */
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!cent__from_primary(s, req, "membership update", v, g, t, spid)) {
        flock__cent_events_free(evs, n);
        return;
    }
    if (v == FLOCK__CENT_ADOPT)
        cent__secondary_resync(s); /* a new term: its seq restarts, take the view */
    else
        cent__secondary_apply_update(s, evs, n);
    flock__cent_events_free(evs, n);
    cent__respond_status(req, FLOCK_SUCCESS);
}

/* The primary's ping, carrying its committed (seq, digest). */
static void cent__ping_handler(frt_request_t req, const void* in, size_t in_len,
                               void* uargs)
{
    cent_state_t* s = uargs;
    uint64_t seq, digest, g, t;
    frt_rbuf body;
    flock__cent_verdict_t v;
    uint16_t spid;

    if (!cent__open(s, req, in, in_len, "ping", &body, &v, &g, &t, &spid)) return;
    if (!flock__cent_decode_ping(body.p, body.left, &seq, &digest)) {
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!cent__from_primary(s, req, "ping", v, g, t, spid)) return;
    cent__respond_status(req, FLOCK_SUCCESS); /* answer first: the primary is timing us */
    cent__secondary_on_ping(s, seq, digest, v == FLOCK__CENT_ADOPT);
}

/* A candidate asks for this member's vote in a new term. */
static void cent__vote_handler(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    cent_state_t* s = uargs;
    uint64_t g, t, last_term, last_seq;
    uint16_t cand_pid;
    frt_rbuf body;
    flock__cent_verdict_t v;

    if (!cent__open(s, req, in, in_len, "vote", &body, &v, &g, &t, &cand_pid)) return;
    last_term = frt_get_u64(&body);
    last_seq = frt_get_u64(&body);
    if (!frt_rbuf_done(&body)) {
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    cent__failover_vote(s, req, t, cand_pid, last_term, last_seq);
}

/* The primary leaves gracefully and names this member its successor. */
static void cent__handover_handler(frt_request_t req, const void* in, size_t in_len,
                                   void* uargs)
{
    cent_state_t* s = uargs;
    uint64_t g, t;
    uint16_t spid;
    frt_rbuf body;
    flock__cent_verdict_t v;
    if (!cent__open(s, req, in, in_len, "handover", &body, &v, &g, &t, &spid)) return;
    if (v == FLOCK__CENT_STALE || !frt_rbuf_done(&body)) {
        cent__respond_status(req, FLOCK_ERR_OP_FORBIDDEN);
        return;
    }
    cent__failover_on_handover(s, req);
}

static const char* const cent_rpc_names[CENT_NUM_RPCS] = {
    FLOCK__CENT_RPC_PING, FLOCK__CENT_RPC_UPDATE, FLOCK__CENT_RPC_VIEW,
    FLOCK__CENT_RPC_LEAVE, FLOCK__CENT_RPC_JOIN, FLOCK__CENT_RPC_VOTE,
    FLOCK__CENT_RPC_HANDOVER, FLOCK__CENT_RPC_META};

static const frt_handler_fn cent_rpc_handlers[CENT_NUM_RPCS] = {
    cent__ping_handler, cent__update_handler, cent__get_view_handler,
    cent__leave_handler, cent__join_handler, cent__vote_handler,
    cent__handover_handler, cent__metadata_handler};

void cent__deregister_all(cent_state_t* s)
{
    for (int i = 0; i < CENT_NUM_RPCS; i++) {
        if (s->rpc_registered[i])
            frt_rpc_deregister(s->mid, cent_rpc_names[i], s->provider_id);
        s->rpc_registered[i] = false;
    }
}

flock_return_t cent__register_all(cent_state_t* s)
{
    for (int i = 0; i < CENT_NUM_RPCS; i++) {
        hg_return_t h = frt_rpc_register(s->mid, cent_rpc_names[i], s->provider_id,
                                         cent_rpc_handlers[i], s, s->pool);
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
