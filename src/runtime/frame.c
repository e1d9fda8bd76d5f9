/*
 * frame.c -- pure parse/encode of whole runtime frames (see frt-frame.h).
 */
#include "frt-frame.h"
#include "frt-auth.h"

#include <string.h>

frt__frame_status frt__frame_parse(const uint8_t* buf, size_t len, frt__frame* f,
                                   size_t* consumed, const char** why)
{
    frt__hdr h;
    *why = NULL;
    if (!buf || len < FRT__HDR_LEN) {
        *consumed = FRT__HDR_LEN;
        return FRT__FRAME_NEED_MORE;
    }
    const char* err = frt__hdr_decode(buf, &h);
    if (err) {
        *why = err;
        return FRT__FRAME_BAD;
    }
    size_t tl    = (h.flags & FRT__F_AUTH) ? frt__auth_trailer_len(h.type) : 0;
    size_t total = (size_t)FRT__HDR_LEN + h.name_len + h.payload_len + tl;
    if (len < total) {
        *consumed = total;
        return FRT__FRAME_NEED_MORE;
    }
    const uint8_t* name = h.name_len ? buf + FRT__HDR_LEN : NULL;
    if (h.name_len && memchr(name, 0, h.name_len)) {
        *why = h.type == FRT__T_HELLO ? "hello with a malformed address"
                                      : "RPC name contains a NUL byte";
        return FRT__FRAME_BAD;
    }
    if (h.type == FRT__T_HELLO) {
        char           addr[FRT_MAX_ADDR_LEN + 1];
        frt__addr_spec spec;
        /* name_len <= FRT_MAX_ADDR_LEN was checked by frt__hdr_decode */
        memcpy(addr, name, h.name_len);
        addr[h.name_len] = 0;
        if (frt__addr_parse(addr, &spec) != HG_SUCCESS || !frt__addr_is_peer(&spec)) {
            *why = "hello with a malformed address";
            return FRT__FRAME_BAD;
        }
    }
    f->hdr     = h;
    f->name    = name;
    f->payload = h.payload_len ? buf + FRT__HDR_LEN + h.name_len : NULL;
    f->trailer     = tl ? buf + FRT__HDR_LEN + h.name_len + h.payload_len : NULL;
    f->trailer_len = tl;
    *consumed  = total;
    return FRT__FRAME_OK;
}

void frt__frame_encode(frt_wbuf* out, const frt__hdr* h, const void* name, size_t name_len,
                       const void* payload, size_t payload_len, const void* trailer,
                       size_t trailer_len)
{
    uint8_t  hb[FRT__HDR_LEN];
    frt__hdr copy    = *h;
    copy.name_len    = (uint16_t)name_len;
    copy.payload_len = (uint32_t)payload_len;
    frt__hdr_encode(&copy, hb);
    frt_put_bytes(out, hb, sizeof hb);
    if (name_len) frt_put_bytes(out, name, name_len);
    if (payload_len) frt_put_bytes(out, payload, payload_len);
    if (trailer_len) frt_put_bytes(out, trailer, trailer_len);
}
