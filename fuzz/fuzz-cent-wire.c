/*
 * fuzz-cent-wire.c -- every message decoder of the centralized backend
 * (centralized-wire.c), plus the reply shapes its client side parses
 * (status [, kind, seq, events | view] for get_view; status [, seq, view]
 * for join). The first byte picks the decoder. Decoded events must
 * re-encode and decode to the same list.
 */
#include "backends/centralized/centralized-wire.h"
#include "flock/view-codec.h"
#include "fuzz-common.h"

static void events_roundtrip(const flock__cent_event_t* evs, size_t n)
{
    frt_wbuf b = FRT_WBUF_INIT;
    flock__cent_encode_events(&b, evs, n);
    if (!b.failed) {
        frt_rbuf             r;
        flock__cent_event_t* e2 = NULL;
        size_t               n2 = 0;
        frt_rbuf_init(&r, b.data, b.len);
        if (!flock__cent_decode_events(&r, &e2, &n2) || !frt_rbuf_done(&r) || n2 != n) abort();
        for (size_t i = 0; i < n; i++)
            if (e2[i].seq != evs[i].seq || e2[i].type != evs[i].type
                || e2[i].provider_id != evs[i].provider_id
                || strcmp(e2[i].address, evs[i].address) != 0)
                abort();
        flock__cent_events_free(e2, n2);
    }
    frt_wbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz_quiet();
    if (size == 0) return 0;
    uint8_t        sel = data[0];
    const uint8_t* p   = data + 1;
    size_t         n   = size - 1;
    frt_rbuf       r;
    frt_rbuf_init(&r, p, n);
    switch (sel % 7) {
    case 0: {
        uint64_t seq, digest;
        (void)flock__cent_decode_ping(p, n, &seq, &digest);
        break;
    }
    case 1: {
        uint16_t v;
        (void)flock__cent_decode_u16(p, n, &v);
        break;
    }
    case 2: {
        uint64_t since;
        bool     full;
        (void)flock__cent_decode_view_req(p, n, &since, &full);
        break;
    }
    case 3: { /* membership_update input */
        flock__cent_event_t* evs = NULL;
        size_t               k   = 0;
        if (flock__cent_decode_events(&r, &evs, &k)) {
            events_roundtrip(evs, k);
            flock__cent_events_free(evs, k);
        }
        break;
    }
    case 4: { /* get_view reply */
        uint32_t status;
        if (!flock__cent_decode_status(&r, &status)) break;
        (void)flock__cent_status_to_return(status);
        uint8_t  kind = frt_get_u8(&r);
        uint64_t seq  = frt_get_u64(&r);
        (void)seq;
        if (!frt_rbuf_ok(&r)) break;
        if (kind == FLOCK__CENT_KIND_EVENTS) {
            flock__cent_event_t* evs = NULL;
            size_t               k   = 0;
            if (flock__cent_decode_events(&r, &evs, &k)) flock__cent_events_free(evs, k);
        } else {
            flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
            (void)flock__view_decode(&r, &v);
            flock_group_view_clear(&v);
        }
        break;
    }
    case 5: { /* join reply */
        uint32_t status;
        if (!flock__cent_decode_status(&r, &status)) break;
        (void)frt_get_u64(&r);
        flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
        if (frt_rbuf_ok(&r)) (void)flock__view_decode(&r, &v);
        flock_group_view_clear(&v);
        break;
    }
    default: { /* membership_update reply / leave reply */
        uint32_t status;
        if (flock__cent_decode_status(&r, &status)) (void)flock__cent_status_to_return(status);
        break;
    }
    }
    return 0;
}
