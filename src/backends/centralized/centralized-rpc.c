/*
 * centralized-rpc.c -- the five RPCs of the centralized backend: their
 * registration and every handler. This is the one place messages arrive:
 * a handler validates the message completely (centralized-wire.c), checks
 * that this member's role may serve it, and hands it to that role.
 *
 *   RPC                 served by   hands to
 *   ping                everyone    (answered here) cent__secondary_on_ping
 *   membership_update   secondary   cent__secondary_apply_update
 *   get_view            primary     cent__primary_serve_view
 *   leave, join         primary     cent__primary_queue_request
 *
 * Owns: s->rpc_registered. May call: centralized-primary.c,
 * centralized-secondary.c, centralized-common.c, centralized-wire.c, frt.
 */
#include "centralized-internal.h"
#include "centralized-wire.h"

/* join/leave: the joiner is the RPC source address, the payload its pid. */
static void cent__membership_request(cent_state_t* s, frt_request_t req,
                                     flock_update_t type, const void* in, size_t in_len)
{
    uint16_t pid;
    const char* src = frt_request_source(req);
    const char* what = type == FLOCK_MEMBER_JOINED ? "join" : "leave";

    if (!flock__cent_decode_u16(in, in_len, &pid) || !src || !*src) {
        margo_error(s->mid, CENT_LOG_PREFIX "malformed %s request dropped", what);
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!s->is_primary) {
        margo_error(s->mid,
                    CENT_LOG_PREFIX "%s request from %s sent to a non-primary member",
                    what, src);
        cent__respond_status(req, FLOCK_ERR_OP_FORBIDDEN);
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

/* A member asks the primary for the changes after since_seq, or the full view. */
static void cent__get_view_handler(frt_request_t req, const void* in, size_t in_len,
                                   void* uargs)
{
    cent_state_t* s = uargs;
    uint64_t since;
    bool want_full;

    if (!flock__cent_decode_view_req(in, in_len, &since, &want_full)) {
        cent__respond_status(req, FLOCK_ERR_INVALID_ARGS);
        return;
    }
    if (!s->is_primary) {
        cent__respond_status(req, FLOCK_ERR_OP_FORBIDDEN);
        return;
    }
    cent__primary_serve_view(s, req, since, want_full);
}

/* The primary broadcasts a batch of changes. */
static void cent__update_handler(frt_request_t req, const void* in, size_t in_len,
                                 void* uargs)
{
    cent_state_t* s = uargs;
    flock__cent_event_t* evs = NULL;
    size_t n = 0;
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
    cent__secondary_apply_update(s, evs, n);
    flock__cent_events_free(evs, n);
    cent__respond_status(req, FLOCK_SUCCESS);
}

/* The primary's ping, carrying its committed (seq, digest). */
static void cent__ping_handler(frt_request_t req, const void* in, size_t in_len,
                               void* uargs)
{
    cent_state_t* s = uargs;
    uint64_t seq, digest;

    if (!flock__cent_decode_ping(in, in_len, &seq, &digest)) {
        frt_respond_error(req, HG_PROTOCOL_ERROR);
        return;
    }
    frt_respond(req, NULL, 0); /* answer first: the primary is timing us */
    if (s->is_primary) return;
    cent__secondary_on_ping(s, seq, digest);
}

static const char* const cent_rpc_names[CENT_NUM_RPCS] = {
    FLOCK__CENT_RPC_PING, FLOCK__CENT_RPC_UPDATE, FLOCK__CENT_RPC_VIEW,
    FLOCK__CENT_RPC_LEAVE, FLOCK__CENT_RPC_JOIN};

static const frt_handler_fn cent_rpc_handlers[CENT_NUM_RPCS] = {
    cent__ping_handler, cent__update_handler, cent__get_view_handler,
    cent__leave_handler, cent__join_handler};

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
