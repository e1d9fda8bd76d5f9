/*
 * centralized-wire.c -- see centralized-wire.h.
 */
#include "centralized-wire.h"

#include <stdlib.h>
#include <string.h>

#include <flock/flock-group.h>

void flock__cent_encode_envelope(frt_wbuf* b, uint64_t group_id, uint64_t term,
                                 uint16_t provider_id)
{
    frt_put_u64(b, group_id);
    frt_put_u64(b, term);
    frt_put_u16(b, provider_id);
}

bool flock__cent_decode_envelope(frt_rbuf* r, const void* data, size_t len,
                                 uint64_t* group_id, uint64_t* term, uint16_t* provider_id)
{
    frt_rbuf_init(r, data, len);
    *group_id = frt_get_u64(r);
    *term = frt_get_u64(r);
    *provider_id = frt_get_u16(r);
    return frt_rbuf_ok(r);
}

void flock__cent_encode_redirect(frt_wbuf* b, uint8_t kind, const char* address,
                                 uint16_t provider_id, uint64_t term)
{
    frt_put_u8(b, kind);
    if (kind != FLOCK__CENT_REDIRECT_PRIMARY) return;
    frt_put_str(b, address ? address : "");
    frt_put_u16(b, provider_id);
    frt_put_u64(b, term);
}

bool flock__cent_decode_redirect(frt_rbuf* r, uint8_t* kind, char** address,
                                 uint16_t* provider_id, uint64_t* term)
{
    *address = NULL;
    *kind = frt_get_u8(r);
    if (!frt_rbuf_ok(r)) return false;
    if (*kind == FLOCK__CENT_REDIRECT_NONE) return frt_rbuf_done(r);
    if (*kind != FLOCK__CENT_REDIRECT_PRIMARY) return false;
    *address = frt_get_str(r, FRT_MAX_ADDR_LEN);
    *provider_id = frt_get_u16(r);
    *term = frt_get_u64(r);
    if (!*address || !(*address)[0] || !frt_rbuf_done(r)) {
        free(*address);
        *address = NULL;
        return false;
    }
    return true;
}

void flock__cent_encode_ping(frt_wbuf* b, uint64_t seq, uint64_t digest)
{
    frt_put_u64(b, seq);
    frt_put_u64(b, digest);
}

bool flock__cent_decode_ping(const void* data, size_t len, uint64_t* seq,
                             uint64_t* digest)
{
    frt_rbuf r;
    frt_rbuf_init(&r, data, len);
    *seq = frt_get_u64(&r);
    *digest = frt_get_u64(&r);
    return frt_rbuf_done(&r);
}

void flock__cent_encode_event(frt_wbuf* b, const flock__cent_event_t* e)
{
    frt_put_u64(b, e->seq);
    frt_put_u8(b, (uint8_t)e->type);
    frt_put_str(b, e->address);
    frt_put_u16(b, e->provider_id);
    if (e->type == FLOCK__CENT_META_SET) frt_put_str(b, e->value ? e->value : "");
}

void flock__cent_encode_events(frt_wbuf* b, const flock__cent_event_t* evs, size_t n)
{
    frt_put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        flock__cent_encode_event(b, &evs[i]);
}

void flock__cent_events_free(flock__cent_event_t* evs, size_t n)
{
    if (!evs) return;
    for (size_t i = 0; i < n; i++) {
        free(evs[i].address);
        free(evs[i].value);
    }
    free(evs);
}

/* The subject of an event fits its kind: a member address of at most
 * FRT_MAX_ADDR_LEN bytes, or a non-empty key of at most the metadata
 * limit (flock-group.h). */
static bool cent_subject_ok(flock_update_t type, const char* subject)
{
    size_t n = strlen(subject);
    if (flock__cent_is_meta(type)) return n > 0 && n <= FLOCK_METADATA_KEY_MAX;
    return n <= FRT_MAX_ADDR_LEN;
}

bool flock__cent_decode_events(frt_rbuf* r, flock__cent_event_t** out, size_t* out_n)
{
    flock__cent_event_t* evs = NULL;
    size_t n = 0;
    size_t got = 0;
    bool ok = false;

    *out = NULL;
    *out_n = 0;
    n = frt_get_u32(r);
    if (!frt_rbuf_ok(r) || n > FLOCK__CENT_MAX_EVENTS) goto finish;
    /* each event takes at least 8 + 1 + 4 + 2 bytes: reject impossible counts
     * before allocating */
    if (n > r->left / 15) goto finish;
    if (n > 0) {
        evs = calloc(n, sizeof(*evs));
        if (!evs) goto finish;
    }
    for (got = 0; got < n; got++) {
        uint8_t type;
        evs[got].seq = frt_get_u64(r);
        type = frt_get_u8(r);
        evs[got].address = frt_get_str(r, FLOCK_METADATA_KEY_MAX > FRT_MAX_ADDR_LEN
                                                  ? FLOCK_METADATA_KEY_MAX
                                                  : FRT_MAX_ADDR_LEN);
        evs[got].provider_id = frt_get_u16(r);
        if (!frt_rbuf_ok(r) || !evs[got].address ||
            !flock__cent_valid_update_type(type)) {
            got++; /* free this one too */
            goto finish;
        }
        evs[got].type = (flock_update_t)type;
        if (!cent_subject_ok(evs[got].type, evs[got].address)) {
            got++;
            goto finish;
        }
        if (evs[got].type == FLOCK__CENT_META_SET) {
            evs[got].value = frt_get_str(r, FLOCK_METADATA_VALUE_MAX);
            if (!evs[got].value) {
                got++;
                goto finish;
            }
        }
    }
    ok = true;

finish:
    if (!ok) {
        flock__cent_events_free(evs, got);
        return false;
    }
    *out = evs;
    *out_n = n;
    return true;
}

void flock__cent_encode_meta(frt_wbuf* b, const char* key, const char* value)
{
    frt_put_u8(b, value ? (uint8_t)FLOCK__CENT_META_SET : (uint8_t)FLOCK__CENT_META_DEL);
    frt_put_str(b, key);
    if (value) frt_put_str(b, value);
}

bool flock__cent_decode_meta(const void* data, size_t len, char** key, char** value)
{
    frt_rbuf r;
    frt_rbuf_init(&r, data, len);
    *value       = NULL;
    uint8_t type = frt_get_u8(&r);
    *key         = frt_get_str(&r, FLOCK_METADATA_KEY_MAX);
    if (type == FLOCK__CENT_META_SET) *value = frt_get_str(&r, FLOCK_METADATA_VALUE_MAX);
    if (frt_rbuf_done(&r) && *key && **key
        && (type == FLOCK__CENT_META_DEL || (type == FLOCK__CENT_META_SET && *value)))
        return true;
    free(*key);
    free(*value);
    *key = *value = NULL;
    return false;
}

void flock__cent_encode_u16(frt_wbuf* b, uint16_t v)
{
    frt_put_u16(b, v);
}

bool flock__cent_decode_u16(const void* data, size_t len, uint16_t* v)
{
    frt_rbuf r;
    frt_rbuf_init(&r, data, len);
    *v = frt_get_u16(&r);
    return frt_rbuf_done(&r);
}

void flock__cent_encode_view_req(frt_wbuf* b, uint64_t since_seq, bool want_full)
{
    frt_put_u64(b, since_seq);
    frt_put_u8(b, want_full ? 1 : 0);
}

bool flock__cent_decode_view_req(const void* data, size_t len, uint64_t* since_seq,
                                 bool* want_full)
{
    frt_rbuf r;
    uint8_t f;
    frt_rbuf_init(&r, data, len);
    *since_seq = frt_get_u64(&r);
    f = frt_get_u8(&r);
    *want_full = f != 0;
    return frt_rbuf_done(&r) && f <= 1;
}

void flock__cent_encode_status(frt_wbuf* b, uint32_t status)
{
    frt_put_u32(b, status);
}

bool flock__cent_decode_status(frt_rbuf* r, uint32_t* status)
{
    *status = frt_get_u32(r);
    return frt_rbuf_ok(r);
}

flock_return_t flock__cent_status_to_return(uint32_t status)
{
    if (status <= (uint32_t)FLOCK_ERR_OTHER) return (flock_return_t)status;
    return FLOCK_ERR_OTHER;
}
