/*
 * centralized-common.c -- helpers every room of the centralized backend
 * uses: answering a request with a status, firing the provider's member
 * callbacks, the member's identity (group id and term) and the envelope
 * that opens every request.
 *
 * Owns: s->group_id and s->term (under mtx). May call: centralized-wire.c, frt, backend-util.
 */
#include "flock/backend-util.h"

#include "centralized-internal.h"
#include "centralized-wire.h"

void cent__respond_status(frt_request_t req, flock_return_t status)
{
    frt_wbuf b = FRT_WBUF_INIT;
    flock__cent_encode_status(&b, (uint32_t)status);
    if (b.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, b.data, b.len);
    frt_wbuf_free(&b);
}

void cent__notify(cent_state_t* s, const flock__cent_event_t* evs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (flock__cent_is_meta(evs[i].type))
            flock__notify_metadata(&s->cb_args, evs[i].address,
                                   evs[i].type == FLOCK__CENT_META_SET ? evs[i].value : NULL);
        else
            flock__notify_member(&s->cb_args, evs[i].type, evs[i].address,
                                 evs[i].provider_id);
    }
}

void cent__identity(cent_state_t* s, uint64_t* group_id, uint64_t* term)
{
    pthread_mutex_lock(&s->mtx);
    *group_id = s->group_id;
    *term = s->term;
    pthread_mutex_unlock(&s->mtx);
}

void cent__put_envelope(cent_state_t* s, frt_wbuf* b)
{
    uint64_t group_id, term;
    cent__identity(s, &group_id, &term);
    flock__cent_encode_envelope(b, group_id, term, s->provider_id);
}

void cent__adopt(cent_state_t* s, uint64_t group_id, uint64_t term)
{
    pthread_mutex_lock(&s->mtx);
    if (group_id && !s->group_id) s->group_id = group_id;
    if (term > s->term) {
        s->term = term;
        s->next_candidacy_ms = 0; /* the election it waited for is over */
    }
    pthread_mutex_unlock(&s->mtx);
}
