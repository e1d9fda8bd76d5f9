/*
 * fuzz-view-codec.c -- flock__view_decode, the binary view carried by
 * flock_get_view replies and every backend RPC that ships a view. A decoded
 * view must re-encode and decode to the same digest and sizes.
 */
#include "flock/view-codec.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz_quiet();
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    frt_rbuf           r;
    frt_rbuf_init(&r, data, size);
    if (flock__view_decode(&r, &v) == FLOCK_SUCCESS) {
        frt_wbuf b = FRT_WBUF_INIT;
        flock__view_encode(&b, &v);
        if (!b.failed) {
            flock_group_view_t w = FLOCK_GROUP_VIEW_INITIALIZER;
            frt_rbuf           r2;
            frt_rbuf_init(&r2, b.data, b.len);
            if (flock__view_decode(&r2, &w) != FLOCK_SUCCESS) abort();
            if (!frt_rbuf_done(&r2)) abort();
            if (w.digest != v.digest || w.members.size != v.members.size
                || w.metadata.size != v.metadata.size)
                abort();
            flock_group_view_clear(&w);
        }
        frt_wbuf_free(&b);
    } else if (v.members.size || v.metadata.size) {
        abort(); /* a failed decode must leave the view empty */
    }
    flock_group_view_clear(&v);
    return 0;
}
