/*
 * subscribe-wire.c -- codecs of the subscription and metadata RPCs (see
 * subscribe-wire.h for the layouts). Every decoder checks every length,
 * count and kind before it keeps anything.
 *
 * Owns: nothing but code. Calls: the frt codec, view-codec.c.
 */
#include "flock/subscribe-wire.h"

#include <stdlib.h>
#include <string.h>

#include <flock/flock-group.h>

#include "flock/view-codec.h"

void flock__sub_event_clear(flock__sub_event_t* e)
{
    if (!e) return;
    free(e->address);
    free(e->key);
    free(e->value);
    e->address = e->key = e->value = NULL;
}

static bool dup_opt(char** dst, const char* src)
{
    *dst = NULL;
    if (!src) return true;
    *dst = strdup(src);
    return *dst != NULL;
}

bool flock__sub_event_copy(flock__sub_event_t* dst, const flock__sub_event_t* src)
{
    *dst = *src;
    dst->address = dst->key = dst->value = NULL;
    if (dup_opt(&dst->address, src->address) && dup_opt(&dst->key, src->key)
        && dup_opt(&dst->value, src->value))
        return true;
    flock__sub_event_clear(dst);
    return false;
}

static void put_opt_str(frt_wbuf* b, const char* s)
{
    frt_put_u8(b, s ? 1 : 0);
    if (s) frt_put_str(b, s);
}

/* An optional string: u8 has, [str]. false on a bad frame (flag not 0/1,
 * string truncated or over max). */
static bool get_opt_str(frt_rbuf* r, size_t max, char** out)
{
    *out        = NULL;
    uint8_t has = frt_get_u8(r);
    if (!frt_rbuf_ok(r) || has > 1) return false;
    if (!has) return true;
    *out = frt_get_str(r, max);
    return *out != NULL;
}

void flock__sub_encode_event(frt_wbuf* b, const flock__sub_event_t* e)
{
    frt_put_u8(b, e->tag);
    if (e->tag == FLOCK__SUB_TAG_MEMBER) {
        frt_put_u8(b, (uint8_t)e->update);
        frt_put_str(b, e->address);
        frt_put_u16(b, e->provider_id);
    } else {
        frt_put_str(b, e->key);
        put_opt_str(b, e->value);
    }
}

bool flock__sub_decode_event(frt_rbuf* r, flock__sub_event_t* e)
{
    memset(e, 0, sizeof *e);
    e->tag = frt_get_u8(r);
    if (!frt_rbuf_ok(r)) return false;
    if (e->tag == FLOCK__SUB_TAG_MEMBER) {
        uint8_t u      = frt_get_u8(r);
        e->address     = frt_get_str(r, FRT_MAX_ADDR_LEN);
        e->provider_id = frt_get_u16(r);
        e->update      = (flock_update_t)u;
        if (frt_rbuf_ok(r) && e->address && *e->address
            && (u == FLOCK_MEMBER_JOINED || u == FLOCK_MEMBER_LEFT || u == FLOCK_MEMBER_DIED))
            return true;
    } else if (e->tag == FLOCK__SUB_TAG_METADATA) {
        e->key = frt_get_str(r, FLOCK_METADATA_KEY_MAX);
        if (e->key && *e->key && get_opt_str(r, FLOCK_METADATA_VALUE_MAX, &e->value))
            return true;
    }
    flock__sub_event_clear(e);
    return false;
}

void flock__sub_encode_removal(frt_wbuf* b, const flock__sub_removal_t* rm)
{
    frt_put_str(b, rm->address);
    frt_put_u16(b, rm->provider_id);
    frt_put_u8(b, (uint8_t)rm->update);
}

static bool decode_removal(frt_rbuf* r, flock__sub_removal_t* rm)
{
    rm->address     = frt_get_str(r, FRT_MAX_ADDR_LEN);
    rm->provider_id = frt_get_u16(r);
    uint8_t u       = frt_get_u8(r);
    rm->update      = (flock_update_t)u;
    if (frt_rbuf_ok(r) && rm->address && *rm->address
        && (u == FLOCK_MEMBER_LEFT || u == FLOCK_MEMBER_DIED))
        return true;
    free(rm->address);
    rm->address = NULL;
    return false;
}

void flock__sub_reply_clear(flock__sub_reply_t* rep)
{
    if (!rep) return;
    for (size_t i = 0; i < rep->nremovals; i++) free(rep->removals[i].address);
    for (size_t i = 0; i < rep->nevents; i++) flock__sub_event_clear(&rep->events[i]);
    free(rep->removals);
    free(rep->events);
    flock_group_view_clear(&rep->view);
    rep->removals  = NULL;
    rep->events    = NULL;
    rep->nremovals = rep->nevents = 0;
}

void flock__sub_encode_poll(frt_wbuf* b, uint64_t sub_id, uint64_t next_seq, uint32_t wait_ms)
{
    frt_put_u64(b, sub_id);
    frt_put_u64(b, next_seq);
    frt_put_u32(b, wait_ms);
}

bool flock__sub_decode_poll(const void* data, size_t len, uint64_t* sub_id,
                            uint64_t* next_seq, uint32_t* wait_ms)
{
    frt_rbuf r;
    frt_rbuf_init(&r, data, len);
    *sub_id   = frt_get_u64(&r);
    *next_seq = frt_get_u64(&r);
    *wait_ms  = frt_get_u32(&r);
    return frt_rbuf_done(&r);
}

/* The snapshot part of a reply: view and removals. */
static flock_return_t decode_snapshot(frt_rbuf* r, flock__sub_reply_t* rep)
{
    flock_return_t ret = flock__view_decode(r, &rep->view);
    if (ret != FLOCK_SUCCESS) return ret == FLOCK_ERR_ALLOCATION ? ret : FLOCK_ERR_FROM_MERCURY;
    uint32_t n = frt_get_u32(r);
    if (!frt_rbuf_ok(r) || n > FLOCK__SUB_MAX_REMOVALS) return FLOCK_ERR_FROM_MERCURY;
    if (n == 0) return FLOCK_SUCCESS;
    rep->removals = (flock__sub_removal_t*)calloc(n, sizeof *rep->removals);
    if (!rep->removals) return FLOCK_ERR_ALLOCATION;
    for (uint32_t i = 0; i < n; i++) {
        if (!decode_removal(r, &rep->removals[i])) return FLOCK_ERR_FROM_MERCURY;
        rep->nremovals++;
    }
    return FLOCK_SUCCESS;
}

flock_return_t flock__sub_decode_reply(const void* data, size_t len, flock__sub_reply_t* rep)
{
    frt_rbuf       r;
    flock_return_t ret = FLOCK_ERR_FROM_MERCURY;
    frt_rbuf_init(&r, data, len);
    uint32_t status = frt_get_u32(&r);
    if (!frt_rbuf_ok(&r)) goto finish;
    rep->status = (int32_t)status < 0 || (int32_t)status > FLOCK_ERR_OTHER
                    ? FLOCK_ERR_OTHER
                    : (flock_return_t)(int32_t)status;
    if (rep->status != FLOCK_SUCCESS) {
        ret = frt_rbuf_done(&r) ? FLOCK_SUCCESS : FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    rep->sub_id = frt_get_u64(&r);
    rep->kind   = frt_get_u8(&r);
    if (!frt_rbuf_ok(&r) || rep->kind > FLOCK__SUB_KIND_SNAPSHOT) goto finish;
    if (rep->kind == FLOCK__SUB_KIND_SNAPSHOT) {
        ret = decode_snapshot(&r, rep);
        if (ret != FLOCK_SUCCESS) goto finish;
        ret = FLOCK_ERR_FROM_MERCURY;
    }
    rep->first_seq = frt_get_u64(&r);
    uint32_t n     = frt_get_u32(&r);
    if (!frt_rbuf_ok(&r) || n > FLOCK__SUB_MAX_EVENTS) goto finish;
    if (n) {
        rep->events = (flock__sub_event_t*)calloc(n, sizeof *rep->events);
        if (!rep->events) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!flock__sub_decode_event(&r, &rep->events[i])) goto finish;
        rep->nevents++;
    }
    ret = frt_rbuf_done(&r) ? FLOCK_SUCCESS : FLOCK_ERR_FROM_MERCURY;
finish:
    if (ret != FLOCK_SUCCESS) flock__sub_reply_clear(rep);
    return ret;
}

void flock__sub_encode_meta_set(frt_wbuf* b, const char* key, const char* value)
{
    frt_put_str(b, key);
    put_opt_str(b, value);
}

bool flock__sub_decode_meta_set(const void* data, size_t len, char** key, char** value)
{
    frt_rbuf r;
    frt_rbuf_init(&r, data, len);
    *value = NULL;
    *key   = frt_get_str(&r, FLOCK_METADATA_KEY_MAX);
    if (*key && get_opt_str(&r, FLOCK_METADATA_VALUE_MAX, value) && frt_rbuf_done(&r))
        return true;
    free(*key);
    free(*value);
    *key = *value = NULL;
    return false;
}

void flock__sub_encode_status(frt_wbuf* b, flock_return_t status)
{
    frt_put_u32(b, (uint32_t)(int32_t)status);
}

bool flock__sub_decode_status(const void* data, size_t len, flock_return_t* status)
{
    frt_rbuf r;
    frt_rbuf_init(&r, data, len);
    int32_t s = (int32_t)frt_get_u32(&r);
    if (!frt_rbuf_done(&r)) return false;
    *status = (s < 0 || s > FLOCK_ERR_OTHER) ? FLOCK_ERR_OTHER : (flock_return_t)s;
    return true;
}
