/*
 * frt-frame.h -- a pure parser for complete runtime frames (internal).
 *
 * The progress loop parses frames incrementally from a socket (conn-read.c,
 * frt__conn_feed / frt__process_frame). This is the same validation as a
 * pure function over a byte buffer, so that it can be fuzzed and unit
 * tested without sockets or threads: header (frt__hdr_decode), body length,
 * then the per-type body rules the loop applies before using a frame
 * (hello: a peer address; request: an RPC name without NUL bytes).
 */
#ifndef FLOCK_FRT_FRAME_H
#define FLOCK_FRT_FRAME_H

#include "frt-internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One parsed frame. name/payload point into the parsed buffer. */
typedef struct frt__frame {
    frt__hdr       hdr;
    const uint8_t* name; /* hdr.name_len bytes, NULL if none */
    const uint8_t* payload; /* hdr.payload_len bytes, NULL if none */
    const uint8_t* trailer; /* authenticated frames (flag FRT__F_AUTH): the
                               auth trailer (frt-auth.h), else NULL */
    size_t         trailer_len;
} frt__frame;

typedef enum {
    FRT__FRAME_OK        = 0, /* *f filled, *consumed = frame length */
    FRT__FRAME_NEED_MORE = 1, /* incomplete: *consumed = bytes needed in total */
    FRT__FRAME_BAD       = 2  /* invalid: *why names the problem */
} frt__frame_status;

/**
 * Parse the frame at the start of buf[0..len). Pure: no allocation, no
 * logging, never reads outside buf.
 * @param why on FRT__FRAME_BAD, a static string naming the problem.
 * @return see frt__frame_status.
 */
frt__frame_status frt__frame_parse(const uint8_t* buf, size_t len, frt__frame* f,
                                   size_t* consumed, const char** why);

/**
 * Encode a frame (header, name, payload) into out (frt codec buffer).
 * The header's name_len/payload_len are taken from the lengths given.
 */
void frt__frame_encode(frt_wbuf* out, const frt__hdr* h, const void* name, size_t name_len,
                       const void* payload, size_t payload_len, const void* trailer,
                       size_t trailer_len);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_FRT_FRAME_H */
