/*
 * fuzz-subscribe-wire.c -- the decoders of the subscription and metadata
 * RPCs (src/flock/subscribe-wire.c): whatever a hostile member or client
 * sends must be refused cleanly or decoded into something consistent. The
 * first byte picks the decoder (0: a flock_subscribe reply, 1: a poll,
 * 2: a metadata_set request); the rest is the message.
 */
#include <stdlib.h>
#include <string.h>

#include <flock/flock-group.h>

#include "flock/subscribe-wire.h"
#include "fuzz-common.h"

static void check_reply(const uint8_t* data, size_t size)
{
    flock__sub_reply_t rep;
    memset(&rep, 0, sizeof rep);
    if (flock__sub_decode_reply(data, size, &rep) != FLOCK_SUCCESS) {
        if (rep.events || rep.removals || rep.view.members.size) abort(); /* cleared */
        return;
    }
    if (rep.nevents > FLOCK__SUB_MAX_EVENTS || rep.nremovals > FLOCK__SUB_MAX_REMOVALS) abort();
    for (size_t i = 0; i < rep.nevents; i++) {
        const flock__sub_event_t* e = &rep.events[i];
        if (e->tag == FLOCK__SUB_TAG_MEMBER) {
            if (!e->address || !*e->address || e->update > FLOCK_MEMBER_DIED) abort();
        } else if (!e->key || !*e->key || strlen(e->key) > FLOCK_METADATA_KEY_MAX) {
            abort();
        }
        /* a round trip gives the same event */
        frt_wbuf b = FRT_WBUF_INIT;
        flock__sub_encode_event(&b, e);
        frt_rbuf r;
        frt_rbuf_init(&r, b.data, b.len);
        flock__sub_event_t back;
        if (!b.failed && (!flock__sub_decode_event(&r, &back) || !frt_rbuf_done(&r))) abort();
        if (!b.failed) flock__sub_event_clear(&back);
        frt_wbuf_free(&b);
    }
    flock__sub_reply_clear(&rep);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1) return 0;
    uint8_t which = data[0];
    data++;
    size--;
    if (which == 0) {
        check_reply(data, size);
    } else if (which == 1) {
        uint64_t id, seq;
        uint32_t wait;
        (void)flock__sub_decode_poll(data, size, &id, &seq, &wait);
    } else if (which == 2) {
        char *key = NULL, *value = NULL;
        if (flock__sub_decode_meta_set(data, size, &key, &value)) {
            if (!key || strlen(key) > FLOCK_METADATA_KEY_MAX) abort();
            if (value && strlen(value) > FLOCK_METADATA_VALUE_MAX) abort();
        } else if (key || value) {
            abort();
        }
        free(key);
        free(value);
    }
    return 0;
}
