/* swim-wire.c -- SWIM message codec, the compact form (see swim-wire.h):
 * varints, the sender's address left to the transport, addresses written
 * once per message and referred to by index afterwards (a new one shares
 * its prefix with the one written before it), incarnations written as
 * differences from the one written before them. */
#include "swim-wire.h"
#include "swim-math.h"

#include <stdlib.h>
#include <string.h>

#define MIN_ENTRY_BYTES 4u /* u8 type + addr ref (>= 1) + pid (>= 1) + inc (>= 1) */
#define MIN_META_BYTES  5u /* key (>= 2) + u8 + version + origin (>= 1) + pid: >= 5 */
#define ADDR_WINDOW     64u /* the encoder looks for a back-reference this far back */

#define FLAG_SENDER_IS_SOURCE 0x01u
#define FLAG_BUCKETS          0x02u /* a bucket section (ANNOUNCE DIFF, ANNOUNCE_ACK) */
#define FLAG_FORM2            0x04u /* this form (shared prefixes, incarnation deltas,
                                       a 32-bit digest): set in every message */
#define FLAG_MASK             0x07u
#define MIN_SHARED_PREFIX     2u /* a shorter common prefix is written out */

/* one byte, as frt_get_u8 (0 and sticky failure past the end), inline:
 * varints are read a byte at a time, and a call into the runtime per byte
 * was a third of the decoding time */
static inline uint8_t get_u8(frt_rbuf* r)
{
    if (r->failed || r->left == 0) {
        r->failed = true;
        r->left   = 0;
        return 0;
    }
    r->left--;
    return *r->p++;
}

/* n bytes, as frt_put_bytes, with the common case (room left) inline */
static inline void put_raw(frt_wbuf* b, const void* p, size_t n)
{
    if (!b->failed && b->cap - b->len >= n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    } else {
        frt_put_bytes(b, p, n);
    }
}

static inline void put_u8(frt_wbuf* b, uint8_t v) { put_raw(b, &v, 1); }

/* ------------------------------------------------------------------ */
/* varints (LEB128, at most 10 bytes, no overflow)                     */
/* ------------------------------------------------------------------ */

static void put_uv(frt_wbuf* b, uint64_t v)
{
    uint8_t t[10];
    size_t  n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    put_raw(b, t, n);
}

static uint64_t get_uv(frt_rbuf* r)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        uint8_t c = get_u8(r);
        if (!frt_rbuf_ok(r)) return 0;
        if (i == 9 && c > 1) break; /* more than 64 bits */
        v |= (uint64_t)(c & 0x7F) << (7 * i);
        if (!(c & 0x80)) return v;
    }
    r->failed = true;
    r->left   = 0;
    return 0;
}

/* a string: varint length, the bytes (no NUL); NULL on a bad one (sticky) */
static void put_vstr(frt_wbuf* b, const char* s)
{
    size_t n = s ? strlen(s) : 0;
    put_uv(b, n);
    if (n) frt_put_bytes(b, s, n);
}

static char* get_vstr(frt_rbuf* r, size_t max)
{
    uint64_t n = get_uv(r);
    return frt_get_str_body(r, n, max);
}

/* ------------------------------------------------------------------ */
/* addresses: the message's table (written once, then by index)        */
/* ------------------------------------------------------------------ */

/* What a message's fields are written against: its address table and the
 * last incarnation written (or read). */
typedef struct addr_table {
    const char** v; /* encoder: borrowed; decoder: the message's strs */
    uint32_t     n, cap;
    bool         failed;
    swim__msg*   owner; /* decoder: the message that owns the copies */
    uint64_t     inc;   /* the incarnation written (read) last */
} addr_table;

/* an incarnation after the sender's: the zigzag difference from the last
 * one (modulo 2^64, so every value has one) */
static void put_inc(frt_wbuf* b, addr_table* t, uint64_t inc)
{
    uint64_t d = inc - t->inc;
    put_uv(b, (d << 1) ^ (uint64_t)-(int64_t)(d >> 63));
    t->inc = inc;
}

static uint64_t get_inc(frt_rbuf* r, addr_table* t)
{
    uint64_t z = get_uv(r);
    t->inc += (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
    return t->inc;
}

static size_t common_prefix(const char* a, const char* b)
{
    size_t n = 0;
    while (a[n] && a[n] == b[n]) n++;
    return n;
}

static void tab_add(addr_table* t, const char* a)
{
    if (t->n == t->cap) {
        uint32_t     nc = t->cap ? 2 * t->cap : 16;
        const char** nv = realloc(t->v, nc * sizeof *nv);
        if (!nv) {
            t->failed = true;
            return;
        }
        t->v   = nv;
        t->cap = nc;
    }
    t->v[t->n++] = a;
}

/* tag 0 + index: an address written earlier in this message; tag 2L + 1:
 * a new one of L bytes; tag 2S + 2, then P: a new one made of the first P
 * bytes of the address added to the table last and S more bytes */
static void put_addr(frt_wbuf* b, addr_table* t, const char* a)
{
    if (!a) a = "";
    uint32_t lo = t->n > ADDR_WINDOW ? t->n - ADDR_WINDOW : 0;
    /* entries share strings (swim__msg_keep): the pointer finds them; the
     * strings are compared only when no pointer matched */
    uint32_t i = t->n;
    while (i > lo && t->v[i - 1] != a) i--;
    if (i == lo)
        for (i = t->n; i > lo && strcmp(t->v[i - 1], a) != 0; i--) continue;
    if (i > lo) {
        put_uv(b, 0);
        put_uv(b, i - 1);
        return;
    }
    size_t n = strlen(a);
    size_t p = t->n ? common_prefix(t->v[t->n - 1], a) : 0;
    if (p >= MIN_SHARED_PREFIX) {
        put_uv(b, 2 * (uint64_t)(n - p) + 2);
        put_uv(b, p);
        frt_put_bytes(b, a + p, n - p);
    } else {
        put_uv(b, 2 * (uint64_t)n + 1);
        frt_put_bytes(b, a, n);
    }
    if (n) tab_add(t, a); /* "" is never referred to */
}

/* the address (max SWIM_MAX_ADDR_LEN), owned by the message being decoded
 * (a back-reference shares the earlier copy; "" is a constant); NULL on
 * error */
static const char* get_addr(frt_rbuf* r, addr_table* t)
{
    uint64_t tag = get_uv(r);
    if (!frt_rbuf_ok(r)) return NULL;
    if (tag == 0) {
        uint64_t i = get_uv(r);
        if (!frt_rbuf_ok(r) || i >= t->n) {
            r->failed = true;
            r->left   = 0;
            return NULL;
        }
        return t->v[i];
    }
    /* a literal (odd tag), or a suffix to the last table entry's prefix */
    uint64_t    n      = (tag - 1) / 2;
    uint64_t    p      = 0;
    const char* prefix = NULL;
    if (!(tag & 1)) {
        p = get_uv(r);
        if (!frt_rbuf_ok(r) || t->n == 0 || p > strlen(t->v[t->n - 1])) {
            r->failed = true;
            r->left   = 0;
            return NULL;
        }
        prefix = t->v[t->n - 1];
    }
    if (n > SWIM_MAX_ADDR_LEN - p || n > r->left || memchr(r->p, 0, (size_t)n)) {
        r->failed = true;
        r->left   = 0;
        return NULL;
    }
    if (n + p == 0) return ""; /* never referred to */
    char* s = malloc((size_t)(p + n) + 1);
    if (!s || !swim__msg_own(t->owner, s)) { /* the message frees it from now on */
        r->failed = true;
        return NULL;
    }
    if (p) memcpy(s, prefix, (size_t)p);
    frt_get_bytes(r, s + p, (size_t)n);
    s[p + n] = 0;
    tab_add(t, s);
    if (t->failed) r->failed = true;
    return s;
}

/* an owned copy of an address (sender, target, metadata origin) */
static char* get_addr_copy(frt_rbuf* r, addr_table* t)
{
    const char* a = get_addr(r, t);
    if (!a) return NULL;
    char* c = strdup(a);
    if (!c) r->failed = true;
    return c;
}

/* ------------------------------------------------------------------ */
/* encoding                                                            */
/* ------------------------------------------------------------------ */

static void put_list(frt_wbuf* b, addr_table* t, const swim__entry* e, uint32_t n)
{
    put_uv(b, n);
    for (uint32_t i = 0; i < n; i++) {
        put_u8(b, e[i].type);
        put_addr(b, t, e[i].addr);
        put_uv(b, e[i].pid);
        put_inc(b, t, e[i].inc);
        if (e[i].type == SWIM_E_SUSPECT) {
            put_addr(b, t, e[i].from_addr);
            put_uv(b, e[i].from_pid);
        }
    }
}

static void put_meta(frt_wbuf* b, addr_table* t, const swim__meta_entry* e, uint32_t n)
{
    put_uv(b, n);
    for (uint32_t i = 0; i < n; i++) {
        put_vstr(b, e[i].key);
        put_u8(b, e[i].value ? 1 : 0);
        if (e[i].value) put_vstr(b, e[i].value);
        put_uv(b, e[i].version);
        put_addr(b, t, e[i].origin);
        put_uv(b, e[i].origin_pid);
    }
}

/* the bucket section's bytes after its count: digests (DIFF), or a bitmap of
 * nb + 1 bits (its ACK) */
static size_t bucket_bytes(uint8_t kind, uint32_t nb)
{
    return kind == SWIM_MSG_ANNOUNCE ? (size_t)nb * 4 : ((size_t)nb + 1 + 7) / 8;
}

static bool has_buckets(const swim__msg* m)
{
    return m->nbuckets && m->buckets &&
           ((m->kind == SWIM_MSG_ANNOUNCE && m->ann_type == SWIM_ANN_DIFF) ||
            m->kind == SWIM_MSG_ANNOUNCE_ACK);
}

static void put_buckets(frt_wbuf* b, const swim__msg* m)
{
    put_uv(b, m->nbuckets);
    if (m->kind == SWIM_MSG_ANNOUNCE) {
        for (uint32_t i = 0; i < m->nbuckets; i++) frt_put_u32(b, m->buckets[i]);
        return;
    }
    size_t n = bucket_bytes(m->kind, m->nbuckets);
    for (size_t i = 0; i < n; i++) put_u8(b, (uint8_t)(m->buckets[i / 4] >> (8 * (i % 4))));
}

static uint64_t timeout_ms_wire(double ms)
{
    if (!(ms >= 0)) return 0;
    if (ms > 86400000.0) return 86400000u;
    return (uint64_t)(ms + 0.5);
}

bool swim__encode(const swim__msg* m, frt_wbuf* b)
{
    addr_table t = {0};
    put_u8(b, m->kind);
    put_u8(b, (uint8_t)((m->sender_is_source || !m->sender_addr ? FLAG_SENDER_IS_SOURCE : 0) |
                        (has_buckets(m) ? FLAG_BUCKETS : 0) | FLAG_FORM2));
    frt_put_u64(b, m->group_id);
    if (!(m->sender_is_source || !m->sender_addr)) put_addr(b, &t, m->sender_addr);
    put_uv(b, m->sender_pid);
    put_uv(b, m->sender_inc);
    t.inc = m->sender_inc;
    put_uv(b, m->sender_view_size);
    frt_put_u32(b, m->sender_view_digest);
    if (m->kind >= SWIM_MSG_ACK) put_uv(b, m->known_mask);
    switch (m->kind) {
    case SWIM_MSG_PING_REQ:
        put_addr(b, &t, m->target_addr);
        put_uv(b, m->target_pid);
        put_uv(b, timeout_ms_wire(m->timeout_ms));
        break;
    case SWIM_MSG_PING_REQ_ACK:
        put_u8(b, m->responded);
        put_inc(b, &t, m->target_inc);
        break;
    case SWIM_MSG_ANNOUNCE:
        put_u8(b, m->ann_type);
        put_addr(b, &t, m->target_addr);
        put_uv(b, m->target_pid);
        put_inc(b, &t, m->target_inc);
        put_list(b, &t, m->state, m->nstate);
        break;
    case SWIM_MSG_ANNOUNCE_ACK:
        put_list(b, &t, m->state, m->nstate);
        break;
    default:
        break;
    }
    if (has_buckets(m)) put_buckets(b, m);
    put_list(b, &t, m->gossip, m->ngossip);
    put_meta(b, &t, m->meta, m->nmeta);
    if (t.failed) b->failed = true;
    free(t.v);
    return !b->failed;
}

/* ------------------------------------------------------------------ */
/* decoding                                                            */
/* ------------------------------------------------------------------ */

static uint16_t get_pid(frt_rbuf* r)
{
    uint64_t v = get_uv(r);
    if (v > UINT16_MAX) {
        r->failed = true;
        r->left   = 0;
    }
    return (uint16_t)v;
}

/** Decode a list of at most max entries. */
static bool get_list(frt_rbuf* r, addr_table* t, uint32_t max, swim__entry** out,
                     uint32_t* nout, const char** why)
{
    uint64_t n = get_uv(r);
    if (!frt_rbuf_ok(r)) {
        *why = "truncated entry count";
        return false;
    }
    if (n > max) {
        *why = "too many entries";
        return false;
    }
    if (n * MIN_ENTRY_BYTES > r->left) {
        *why = "entry count exceeds the message size";
        return false;
    }
    if (n == 0) return true;
    swim__entry* e = calloc((size_t)n, sizeof *e);
    if (!e) {
        *why = "out of memory";
        return false;
    }
    *out  = e;
    *nout = (uint32_t)n; /* cleared by the caller on failure */
    for (uint32_t i = 0; i < n; i++) {
        e[i].type = get_u8(r);
        if (frt_rbuf_ok(r) && e[i].type > SWIM_E_MAX) {
            *why = "unknown entry type";
            return false;
        }
        e[i].addr = get_addr(r, t);
        e[i].pid  = get_pid(r);
        e[i].inc  = get_inc(r, t);
        if (frt_rbuf_ok(r) && e[i].type == SWIM_E_SUSPECT) {
            e[i].from_addr = get_addr(r, t);
            e[i].from_pid  = get_pid(r);
        }
        if (!frt_rbuf_ok(r)) {
            *why = "truncated or oversized entry";
            return false;
        }
        if (!e[i].addr[0]) {
            *why = "empty address in entry";
            return false;
        }
        if (e[i].from_addr && !e[i].from_addr[0]) e[i].from_addr = NULL;
    }
    return true;
}

/** Decode the metadata list (every string checked). */
static bool get_meta(frt_rbuf* r, addr_table* t, swim__meta_entry** out, uint32_t* nout,
                     const char** why)
{
    uint64_t n = get_uv(r);
    if (!frt_rbuf_ok(r)) {
        *why = "truncated metadata count";
        return false;
    }
    if (n > SWIM_META_MAX_ENTRIES) {
        *why = "too many metadata entries";
        return false;
    }
    if (n * MIN_META_BYTES > r->left) {
        *why = "metadata count exceeds the message size";
        return false;
    }
    if (n == 0) return true;
    swim__meta_entry* e = calloc((size_t)n, sizeof *e);
    if (!e) {
        *why = "out of memory";
        return false;
    }
    *out  = e;
    *nout = (uint32_t)n; /* cleared by the caller on failure */
    for (uint32_t i = 0; i < n; i++) {
        e[i].key    = get_vstr(r, SWIM_META_MAX_KEY);
        uint8_t has = get_u8(r);
        if (frt_rbuf_ok(r) && has > 1) {
            *why = "bad metadata value flag";
            return false;
        }
        if (has) e[i].value = get_vstr(r, SWIM_META_MAX_VALUE);
        e[i].version    = get_uv(r);
        e[i].origin     = get_addr_copy(r, t);
        e[i].origin_pid = get_pid(r);
        if (!frt_rbuf_ok(r)) {
            *why = "truncated or oversized metadata entry";
            return false;
        }
        if (!swim__meta_valid(e[i].key, e[i].value)) {
            *why = "invalid metadata key or value (empty key, or not UTF-8)";
            return false;
        }
    }
    return true;
}

/* the fields of one kind (after the header) */
static bool get_body(frt_rbuf* r, addr_table* t, swim__msg* out, const char** w)
{
    switch (out->kind) {
    case SWIM_MSG_PING_REQ:
        out->target_addr = get_addr_copy(r, t);
        out->target_pid  = get_pid(r);
        out->timeout_ms  = (double)get_uv(r);
        break;
    case SWIM_MSG_PING_REQ_ACK:
        out->responded  = get_u8(r);
        out->target_inc = get_inc(r, t);
        if (frt_rbuf_ok(r) && out->responded > SWIM_PING_REQ_REFUSED) {
            *w = "unknown ping-req answer";
            return false;
        }
        break;
    case SWIM_MSG_ANNOUNCE:
        out->ann_type = get_u8(r);
        if (frt_rbuf_ok(r) && (out->ann_type < SWIM_ANN_JOIN || out->ann_type > SWIM_ANN_PUSH)) {
            *w = "unknown announce type";
            return false;
        }
        out->target_addr = get_addr_copy(r, t);
        out->target_pid  = get_pid(r);
        out->target_inc  = get_inc(r, t);
        if (frt_rbuf_ok(r) && !get_list(r, t, SWIM_MAX_STATE_WIRE, &out->state, &out->nstate, w))
            return false;
        break;
    case SWIM_MSG_ANNOUNCE_ACK:
        if (!get_list(r, t, SWIM_MAX_STATE_WIRE, &out->state, &out->nstate, w)) return false;
        break;
    default:
        break;
    }
    if (!frt_rbuf_ok(r)) {
        *w = "truncated or oversized field";
        return false;
    }
    return true;
}

/* the bucket section (FLAG_BUCKETS): only a DIFF and an ANNOUNCE_ACK have
 * one, and a DIFF always does; the count is a valid bucket count and the
 * bytes are there before anything is allocated; a bitmap sets no bit
 * beyond its nb + 1 */
static bool get_buckets(frt_rbuf* r, swim__msg* out, bool present, const char** w)
{
    bool diff = out->kind == SWIM_MSG_ANNOUNCE && out->ann_type == SWIM_ANN_DIFF;
    if (!present) {
        if (diff) *w = "bucketed push-pull without bucket digests";
        return !diff;
    }
    if (!diff && out->kind != SWIM_MSG_ANNOUNCE_ACK) {
        *w = "bucket section on a message that has none";
        return false;
    }
    uint64_t nb = get_uv(r);
    if (!frt_rbuf_ok(r) || !swim__valid_nbuckets(nb)) {
        *w = "bucket count not a power of two within 1..256";
        return false;
    }
    size_t bytes = bucket_bytes(out->kind, (uint32_t)nb);
    if (bytes > r->left) {
        *w = "truncated bucket section";
        return false;
    }
    size_t words = diff ? (size_t)nb : ((size_t)nb + 1 + 31) / 32;
    out->buckets = calloc(words, sizeof *out->buckets);
    if (!out->buckets) {
        *w = "out of memory";
        return false;
    }
    out->nbuckets = (uint32_t)nb;
    if (diff) {
        for (uint32_t i = 0; i < nb; i++) out->buckets[i] = frt_get_u32(r);
        return true;
    }
    for (size_t i = 0; i < bytes; i++) out->buckets[i / 4] |= (uint32_t)get_u8(r) << (8 * (i % 4));
    uint32_t top = (uint32_t)nb + 1; /* bits 0..nb are meaningful */
    for (uint32_t bit = top; bit < bytes * 8; bit++)
        if (out->buckets[bit / 32] >> (bit % 32) & 1u) {
            *w = "bucket bitmap names a bucket beyond its count";
            return false;
        }
    return true;
}

bool swim__decode(const void* data, size_t len, uint8_t expected, swim__msg* out,
                  const char** why)
{
    frt_rbuf    r;
    addr_table  t  = {.owner = out};
    const char* w  = "malformed message";
    bool        ok = false;
    memset(out, 0, sizeof *out);
    frt_rbuf_init(&r, data, len);
    out->kind = get_u8(&r);
    if (!frt_rbuf_ok(&r)) {
        w = "empty message";
        goto finish;
    }
    if (out->kind < SWIM_MSG_PING || out->kind > SWIM_MSG_ANNOUNCE_ACK) {
        w = "unknown message kind";
        goto finish;
    }
    if (expected && out->kind != expected) {
        w = "unexpected message kind";
        goto finish;
    }
    uint8_t flags = get_u8(&r);
    if (frt_rbuf_ok(&r) && (flags & ~FLAG_MASK)) {
        w = "unknown flags";
        goto finish;
    }
    if (frt_rbuf_ok(&r) && !(flags & FLAG_FORM2)) {
        w = "a message of an older wire form (full prefixes, absolute incarnations, a "
            "64-bit digest): the sender runs an older version";
        goto finish;
    }
    out->group_id         = frt_get_u64(&r);
    out->sender_is_source = (flags & FLAG_SENDER_IS_SOURCE) != 0;
    if (!out->sender_is_source) out->sender_addr = get_addr_copy(&r, &t);
    out->sender_pid         = get_pid(&r);
    out->sender_inc         = get_uv(&r);
    t.inc                   = out->sender_inc;
    uint64_t vs             = get_uv(&r);
    out->sender_view_size   = vs > UINT32_MAX ? UINT32_MAX : (uint32_t)vs;
    out->sender_view_digest = frt_get_u32(&r);
    if (!frt_rbuf_ok(&r)) {
        w = "truncated header or oversized sender address";
        goto finish;
    }
    if (out->kind >= SWIM_MSG_ACK) out->known_mask = get_uv(&r);
    if (!get_body(&r, &t, out, &w)) goto finish;
    if (!get_buckets(&r, out, (flags & FLAG_BUCKETS) != 0, &w)) goto finish;
    if (!get_list(&r, &t, SWIM_MAX_GOSSIP_WIRE, &out->gossip, &out->ngossip, &w)) goto finish;
    if (!get_meta(&r, &t, &out->meta, &out->nmeta, &w)) goto finish;
    if (!frt_rbuf_done(&r)) {
        w = "trailing bytes";
        goto finish;
    }
    ok = true;
finish:
    free(t.v);
    if (!ok) {
        swim__msg_clear(out);
        if (why) *why = w;
    }
    return ok;
}
