/*
 * codec.c -- the checked little-endian codec of <frt.h> and the frame
 * header codec (pure functions).
 */
#include "frt-internal.h"

#include <stdlib.h>
#include <string.h>

/* ---------------- write buffer ---------------- */

void frt_wbuf_free(frt_wbuf* b)
{
    if (!b) return;
    free(b->data);
    b->data   = NULL;
    b->len    = 0;
    b->cap    = 0;
    b->failed = false;
}

/* Ensure room for n more bytes; sets failed on overflow or ENOMEM. */
static bool frt__wbuf_reserve(frt_wbuf* b, size_t n)
{
    if (b->failed) return false;
    if (n > SIZE_MAX - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + n;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t* p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap  = cap;
    return true;
}

void frt_put_bytes(frt_wbuf* b, const void* p, size_t n)
{
    if (!b || n == 0) return;
    if (!p) {
        b->failed = true;
        return;
    }
    if (!frt__wbuf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void frt__put_le(frt_wbuf* b, uint64_t v, unsigned n)
{
    uint8_t tmp[8];
    for (unsigned i = 0; i < n; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    frt_put_bytes(b, tmp, n);
}

void frt_put_u8(frt_wbuf* b, uint8_t v) { frt__put_le(b, v, 1); }
void frt_put_u16(frt_wbuf* b, uint16_t v) { frt__put_le(b, v, 2); }
void frt_put_u32(frt_wbuf* b, uint32_t v) { frt__put_le(b, v, 4); }
void frt_put_u64(frt_wbuf* b, uint64_t v) { frt__put_le(b, v, 8); }

void frt_put_f64(frt_wbuf* b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    frt_put_u64(b, u);
}

void frt_put_str(frt_wbuf* b, const char* s)
{
    if (!b) return;
    size_t n = s ? strlen(s) : 0;
    if (n > UINT32_MAX) {
        b->failed = true;
        return;
    }
    frt_put_u32(b, (uint32_t)n);
    if (n) frt_put_bytes(b, s, n);
}

/* ---------------- read cursor ---------------- */

void frt_rbuf_init(frt_rbuf* r, const void* data, size_t len)
{
    r->p      = data;
    r->left   = data ? len : 0;
    r->failed = false;
}

bool frt_get_bytes(frt_rbuf* r, void* out, size_t n)
{
    if (!r || r->failed) return false;
    if (n > r->left) {
        r->failed = true;
        r->left   = 0;
        return false;
    }
    if (n) {
        if (out) memcpy(out, r->p, n);
        r->p += n;
        r->left -= n;
    }
    return true;
}

static uint64_t frt__get_le(frt_rbuf* r, unsigned n)
{
    uint8_t tmp[8];
    if (!frt_get_bytes(r, tmp, n)) return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)tmp[i] << (8 * i);
    return v;
}

uint8_t  frt_get_u8(frt_rbuf* r) { return (uint8_t)frt__get_le(r, 1); }
uint16_t frt_get_u16(frt_rbuf* r) { return (uint16_t)frt__get_le(r, 2); }
uint32_t frt_get_u32(frt_rbuf* r) { return (uint32_t)frt__get_le(r, 4); }
uint64_t frt_get_u64(frt_rbuf* r) { return frt__get_le(r, 8); }

double frt_get_f64(frt_rbuf* r)
{
    uint64_t u = frt_get_u64(r);
    double   d;
    memcpy(&d, &u, sizeof d);
    return d;
}

char* frt_get_str(frt_rbuf* r, size_t max_len)
{
    if (!r || r->failed) return NULL;
    uint32_t n = frt_get_u32(r);
    return frt_get_str_body(r, n, max_len);
}

char* frt_get_str_body(frt_rbuf* r, uint64_t n, size_t max_len)
{
    if (!r || r->failed) return NULL;
    if (n > max_len || n > r->left || (n && memchr(r->p, 0, (size_t)n) != NULL)) {
        r->failed = true;
        r->left   = 0;
        return NULL;
    }
    char* s = malloc((size_t)n + 1);
    if (!s) {
        r->failed = true;
        r->left   = 0;
        return NULL;
    }
    if (n) memcpy(s, r->p, (size_t)n);
    s[n] = 0;
    r->p += n;
    r->left -= n;
    return s;
}

/* ---------------- frame header ---------------- */

static void frt__le_store(uint8_t* p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t frt__le_load(const uint8_t* p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Layout (little-endian):
 *  0 magic u32 | 4 version u8 | 5 type u8 | 6 flags u16 | 8 id u64 |
 * 16 provider_id u16 | 18 name_len u16 | 20 status u32 |
 * 24 payload_len u32 | 28 reserved u32 (0) */
void frt__hdr_encode(const frt__hdr* h, uint8_t out[FRT__HDR_LEN])
{
    frt__le_store(out + 0, FRT__MAGIC, 4);
    out[4] = FRT__VERSION;
    out[5] = h->type;
    frt__le_store(out + 6, h->flags, 2);
    frt__le_store(out + 8, h->id, 8);
    frt__le_store(out + 16, h->provider_id, 2);
    frt__le_store(out + 18, h->name_len, 2);
    frt__le_store(out + 20, h->status, 4);
    frt__le_store(out + 24, h->payload_len, 4);
    frt__le_store(out + 28, 0, 4);
}

const char* frt__hdr_decode(const uint8_t in[FRT__HDR_LEN], frt__hdr* h)
{
    if (frt__le_load(in, 4) != FRT__MAGIC) return "bad magic";
    h->version = in[4];
    if (h->version != FRT__VERSION) return "unsupported version";
    h->type        = in[5];
    h->flags       = (uint16_t)frt__le_load(in + 6, 2);
    h->id          = frt__le_load(in + 8, 8);
    h->provider_id = (uint16_t)frt__le_load(in + 16, 2);
    h->name_len    = (uint16_t)frt__le_load(in + 18, 2);
    h->status      = (uint32_t)frt__le_load(in + 20, 4);
    h->payload_len = (uint32_t)frt__le_load(in + 24, 4);
    if (frt__le_load(in + 28, 4) != 0) return "reserved field not zero";
    if (h->flags & ~0x0001u) return "unknown flags"; /* 0x1: FRT__F_AUTH (auth.c) */
    if (h->payload_len > FRT_MAX_PAYLOAD) return "payload larger than FRT_MAX_PAYLOAD";
    switch (h->type) {
    case FRT__T_HELLO:
        if (h->name_len == 0 || h->name_len > FRT_MAX_ADDR_LEN) return "bad hello address length";
        if (h->payload_len != 0 || h->status != 0 || h->provider_id != 0 || h->id != 0)
            return "hello with extra fields";
        return NULL;
    case FRT__T_REQUEST:
        if (h->name_len == 0 || h->name_len > FRT_MAX_RPC_NAME_LEN) return "bad RPC name length";
        if (h->status != 0) return "request with a status";
        return NULL;
    case FRT__T_RESPONSE:
        if (h->name_len != 0 || h->status != 0) return "response with a name or status";
        return NULL;
    case FRT__T_ERROR:
        if (h->name_len != 0 || h->payload_len != 0) return "error frame with a body";
        if (h->status == HG_SUCCESS || h->status >= (uint32_t)HG_RETURN_MAX)
            return "error frame with a bad status";
        return NULL;
    case FRT__T_BYE:
        if (h->name_len || h->payload_len || h->status || h->provider_id || h->id)
            return "bye with extra fields";
        return NULL;
    default: return "unknown frame type";
    }
}
