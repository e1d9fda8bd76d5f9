/* swim-wire.c -- SWIM message codec (see swim-wire.h). */
#include "swim-wire.h"

#include <stdlib.h>
#include <string.h>

#define MIN_ENTRY_BYTES 16u /* u8 + (u32 + >=1 byte) + u16 + u64 */
#define MIN_META_BYTES  20u /* (u32 + >=1 byte) + u8 + u64 + u32 + u16 */

static void put_meta(frt_wbuf* b, const swim__meta_entry* e, uint32_t n)
{
    frt_put_u32(b, n);
    for (uint32_t i = 0; i < n; i++) {
        frt_put_str(b, e[i].key);
        frt_put_u8(b, e[i].value ? 1 : 0);
        if (e[i].value) frt_put_str(b, e[i].value);
        frt_put_u64(b, e[i].version);
        frt_put_str(b, e[i].origin ? e[i].origin : "");
        frt_put_u16(b, e[i].origin_pid);
    }
}

static void put_list(frt_wbuf* b, const swim__entry* e, uint32_t n)
{
    frt_put_u32(b, n);
    for (uint32_t i = 0; i < n; i++) {
        frt_put_u8(b, e[i].type);
        frt_put_str(b, e[i].addr);
        frt_put_u16(b, e[i].pid);
        frt_put_u64(b, e[i].inc);
        if (e[i].type == SWIM_E_SUSPECT) {
            frt_put_str(b, e[i].from_addr ? e[i].from_addr : "");
            frt_put_u16(b, e[i].from_pid);
        }
    }
}

bool swim__encode(const swim__msg* m, frt_wbuf* b)
{
    frt_put_u8(b, m->kind);
    frt_put_u64(b, m->group_id);
    frt_put_str(b, m->sender_addr);
    frt_put_u16(b, m->sender_pid);
    frt_put_u64(b, m->sender_inc);
    frt_put_u32(b, m->sender_view_size);
    frt_put_u64(b, m->sender_view_digest);
    if (m->kind >= SWIM_MSG_ACK) frt_put_u64(b, m->known_mask);
    switch (m->kind) {
    case SWIM_MSG_PING_REQ:
        frt_put_str(b, m->target_addr);
        frt_put_u16(b, m->target_pid);
        frt_put_f64(b, m->timeout_ms);
        break;
    case SWIM_MSG_PING_REQ_ACK:
        frt_put_u8(b, m->responded);
        frt_put_u64(b, m->target_inc);
        break;
    case SWIM_MSG_ANNOUNCE:
        frt_put_u8(b, m->ann_type);
        frt_put_str(b, m->target_addr);
        frt_put_u16(b, m->target_pid);
        frt_put_u64(b, m->target_inc);
        put_list(b, m->state, m->nstate);
        break;
    case SWIM_MSG_ANNOUNCE_ACK:
        put_list(b, m->state, m->nstate);
        break;
    default:
        break;
    }
    put_list(b, m->gossip, m->ngossip);
    put_meta(b, m->meta, m->nmeta);
    return !b->failed;
}

/** Decode a list of at most max entries. */
static bool get_list(frt_rbuf* r, uint32_t max, swim__entry** out, uint32_t* nout,
                     const char** why)
{
    uint32_t n = frt_get_u32(r);
    if (!frt_rbuf_ok(r)) {
        *why = "truncated entry count";
        return false;
    }
    if (n > max) {
        *why = "too many entries";
        return false;
    }
    if ((uint64_t)n * MIN_ENTRY_BYTES > r->left) {
        *why = "entry count exceeds the message size";
        return false;
    }
    if (n == 0) return true;
    swim__entry* e = calloc(n, sizeof *e);
    if (!e) {
        *why = "out of memory";
        return false;
    }
    *out  = e;
    *nout = n; /* cleared by the caller on failure */
    for (uint32_t i = 0; i < n; i++) {
        e[i].type = frt_get_u8(r);
        e[i].addr = frt_get_str(r, SWIM_MAX_ADDR_LEN);
        e[i].pid  = frt_get_u16(r);
        e[i].inc  = frt_get_u64(r);
        if (frt_rbuf_ok(r) && e[i].type == SWIM_E_SUSPECT) {
            e[i].from_addr = frt_get_str(r, SWIM_MAX_ADDR_LEN);
            e[i].from_pid  = frt_get_u16(r);
        }
        if (!frt_rbuf_ok(r)) {
            *why = "truncated or oversized entry";
            return false;
        }
        if (e[i].type > SWIM_E_MAX) {
            *why = "unknown entry type";
            return false;
        }
        if (!e[i].addr[0]) {
            *why = "empty address in entry";
            return false;
        }
        if (e[i].from_addr && !e[i].from_addr[0]) {
            free(e[i].from_addr);
            e[i].from_addr = NULL;
        }
    }
    return true;
}

/** Decode the metadata list (every string checked). */
static bool get_meta(frt_rbuf* r, swim__meta_entry** out, uint32_t* nout, const char** why)
{
    uint32_t n = frt_get_u32(r);
    if (!frt_rbuf_ok(r)) {
        *why = "truncated metadata count";
        return false;
    }
    if (n > SWIM_META_MAX_ENTRIES) {
        *why = "too many metadata entries";
        return false;
    }
    if ((uint64_t)n * MIN_META_BYTES > r->left) {
        *why = "metadata count exceeds the message size";
        return false;
    }
    if (n == 0) return true;
    swim__meta_entry* e = calloc(n, sizeof *e);
    if (!e) {
        *why = "out of memory";
        return false;
    }
    *out  = e;
    *nout = n; /* cleared by the caller on failure */
    for (uint32_t i = 0; i < n; i++) {
        e[i].key    = frt_get_str(r, SWIM_META_MAX_KEY);
        uint8_t has = frt_get_u8(r);
        if (frt_rbuf_ok(r) && has > 1) {
            *why = "bad metadata value flag";
            return false;
        }
        if (has) e[i].value = frt_get_str(r, SWIM_META_MAX_VALUE);
        e[i].version    = frt_get_u64(r);
        e[i].origin     = frt_get_str(r, SWIM_MAX_ADDR_LEN);
        e[i].origin_pid = frt_get_u16(r);
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

bool swim__decode(const void* data, size_t len, uint8_t expected, swim__msg* out,
                  const char** why)
{
    frt_rbuf    r;
    const char* w  = "malformed message";
    bool        ok = false;
    memset(out, 0, sizeof *out);
    frt_rbuf_init(&r, data, len);
    out->kind = frt_get_u8(&r);
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
    out->group_id    = frt_get_u64(&r);
    out->sender_addr = frt_get_str(&r, SWIM_MAX_ADDR_LEN);
    out->sender_pid  = frt_get_u16(&r);
    out->sender_inc  = frt_get_u64(&r);
    out->sender_view_size   = frt_get_u32(&r);
    out->sender_view_digest = frt_get_u64(&r);
    if (!frt_rbuf_ok(&r)) {
        w = "truncated header or oversized sender address";
        goto finish;
    }
    if (out->kind >= SWIM_MSG_ACK) out->known_mask = frt_get_u64(&r);
    switch (out->kind) {
    case SWIM_MSG_PING_REQ:
        out->target_addr = frt_get_str(&r, SWIM_MAX_ADDR_LEN);
        out->target_pid  = frt_get_u16(&r);
        out->timeout_ms  = frt_get_f64(&r);
        break;
    case SWIM_MSG_PING_REQ_ACK:
        out->responded  = frt_get_u8(&r) ? 1 : 0;
        out->target_inc = frt_get_u64(&r);
        break;
    case SWIM_MSG_ANNOUNCE:
        out->ann_type    = frt_get_u8(&r);
        out->target_addr = frt_get_str(&r, SWIM_MAX_ADDR_LEN);
        out->target_pid  = frt_get_u16(&r);
        out->target_inc  = frt_get_u64(&r);
        if (frt_rbuf_ok(&r) && out->ann_type != SWIM_ANN_JOIN &&
            out->ann_type != SWIM_ANN_LEAVE && out->ann_type != SWIM_ANN_SYNC) {
            w = "unknown announce type";
            goto finish;
        }
        if (frt_rbuf_ok(&r) &&
            !get_list(&r, SWIM_MAX_STATE_WIRE, &out->state, &out->nstate, &w))
            goto finish;
        break;
    case SWIM_MSG_ANNOUNCE_ACK:
        if (!get_list(&r, SWIM_MAX_STATE_WIRE, &out->state, &out->nstate, &w)) goto finish;
        break;
    default:
        break;
    }
    if (!frt_rbuf_ok(&r)) {
        w = "truncated or oversized field";
        goto finish;
    }
    if (!get_list(&r, SWIM_MAX_GOSSIP_WIRE, &out->gossip, &out->ngossip, &w)) goto finish;
    if (!get_meta(&r, &out->meta, &out->nmeta, &w)) goto finish;
    if (!frt_rbuf_done(&r)) {
        w = "trailing bytes";
        goto finish;
    }
    ok = true;
finish:
    if (!ok) {
        swim__msg_clear(out);
        if (why) *why = w;
    }
    return ok;
}
