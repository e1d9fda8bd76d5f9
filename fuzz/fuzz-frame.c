/*
 * fuzz-frame.c -- the runtime's frame decoder (frt__frame_parse: header
 * validation, body bounds, hello address grammar, RPC names) over a byte
 * stream as a peer would send it. Every accepted frame must re-encode to
 * the same bytes.
 */
#include <stdio.h>

#include "frt-frame.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz_quiet();
    size_t off = 0;
    while (off < size) {
        frt__frame  f;
        size_t      used = 0;
        const char* why  = NULL;
        frt__frame_status st = frt__frame_parse(data + off, size - off, &f, &used, &why);
        if (st == FRT__FRAME_BAD) {
            if (!why) abort(); /* a rejection must name the problem */
            break;
        }
        if (st == FRT__FRAME_NEED_MORE) {
            if (used <= size - off) abort(); /* must ask for more than it has */
            break;
        }
        if (used < FRT__HDR_LEN || used > size - off) abort();
        /* round trip: the accepted frame re-encodes to the same bytes */
        frt_wbuf b = FRT_WBUF_INIT;
        frt__frame_encode(&b, &f.hdr, f.name, f.hdr.name_len, f.payload, f.hdr.payload_len,
                          f.trailer, f.trailer_len);
        if (!b.failed && (b.len != used || memcmp(b.data, data + off, used) != 0)) abort();
        frt_wbuf_free(&b);
        off += used;
    }
    /* the address grammar alone (hello bodies, view members, CLI input) */
    if (size <= 2 * FRT_MAX_ADDR_LEN) {
        char* s = fuzz_cstr(data, size);
        if (s) {
            frt__addr_spec spec;
            if (frt__addr_parse(s, &spec) == HG_SUCCESS && frt__addr_is_peer(&spec)) {
                char key[FRT_MAX_ADDR_LEN + 32];
                frt__addr_key(&spec, key, sizeof key);
                if (!key[0]) abort();
            }
            free(s);
        }
    }
    return 0;
}
