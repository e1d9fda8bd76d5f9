/*
 * view-codec.c -- binary wire form of a group view (see view-codec.h).
 */
#include "flock/view-codec.h"

#include <stdlib.h>
#include <string.h>

void flock__view_encode(frt_wbuf* b, const flock_group_view_t* v)
{
    frt_put_u64(b, v->digest);
    frt_put_u32(b, (uint32_t)v->members.size);
    frt_put_u32(b, (uint32_t)v->metadata.size);
    for (uint64_t i = 0; i < v->members.size; i++) {
        frt_put_str(b, v->members.data[i].address);
        frt_put_u16(b, v->members.data[i].provider_id);
    }
    for (uint64_t i = 0; i < v->metadata.size; i++) {
        frt_put_str(b, v->metadata.data[i].key);
        frt_put_str(b, v->metadata.data[i].value);
    }
}

static int member_qsort_cmp(const void* a, const void* b)
{
    return flock_member_cmp((flock_member_t*)a, (flock_member_t*)b);
}

static int metadata_qsort_cmp(const void* a, const void* b)
{
    return strcmp(((const flock_metadata_t*)a)->key, ((const flock_metadata_t*)b)->key);
}

flock_return_t flock__view_decode(frt_rbuf* r, flock_group_view_t* out)
{
    flock_return_t    ret      = FLOCK_SUCCESS;
    flock_member_t*   members  = NULL;
    flock_metadata_t* metadata = NULL;
    uint32_t          nm = 0, nmd = 0, got_m = 0, got_md = 0;
    uint64_t          digest = 0, sent_digest = 0;

    if (!r || !out) return FLOCK_ERR_INVALID_ARGS;
    if (out->members.size || out->metadata.size || out->members.data || out->metadata.data) {
        margo_error(MARGO_INSTANCE_NULL, "[flock] view decode: output view is not empty");
        return FLOCK_ERR_INVALID_ARGS;
    }

    sent_digest = frt_get_u64(r);
    nm          = frt_get_u32(r);
    nmd         = frt_get_u32(r);
    if (!frt_rbuf_ok(r)) {
        margo_error(MARGO_INSTANCE_NULL, "[flock] view decode: truncated view header");
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    /* A member needs at least 4+1+2 bytes, a metadata entry 4+1+4: reject
     * counts the remaining bytes cannot hold before allocating anything. */
    if (nm > FLOCK__VIEW_MAX_MEMBERS || nmd > FLOCK__VIEW_MAX_METADATA
        || (uint64_t)nm * 7u + (uint64_t)nmd * 9u > r->left) {
        margo_error(MARGO_INSTANCE_NULL,
                    "[flock] view decode: bad counts (%u members, %u metadata, %zu bytes left)",
                    nm, nmd, r->left);
        r->failed = true;
        ret       = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    if (nm) {
        members = (flock_member_t*)calloc(nm, sizeof(*members));
        if (!members) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    if (nmd) {
        metadata = (flock_metadata_t*)calloc(nmd, sizeof(*metadata));
        if (!metadata) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    bool sorted = true;
    for (got_m = 0; got_m < nm;) {
        char*    addr = frt_get_str(r, FRT_MAX_ADDR_LEN);
        uint16_t pid  = frt_get_u16(r);
        if (!frt_rbuf_ok(r) || !addr || !addr[0]) {
            free(addr);
            margo_error(MARGO_INSTANCE_NULL,
                        "[flock] view decode: member %u: missing, empty or too long address",
                        got_m);
            r->failed = true;
            ret       = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        members[got_m].address     = addr;
        members[got_m].provider_id = pid;
        if (got_m > 0 && flock_member_cmp(&members[got_m - 1], &members[got_m]) >= 0)
            sorted = false;
        got_m++;
    }
    if (!sorted) qsort(members, nm, sizeof(*members), member_qsort_cmp);
    for (uint32_t i = 1; i < nm; i++) {
        if (flock_member_cmp(&members[i - 1], &members[i]) == 0) {
            margo_error(MARGO_INSTANCE_NULL,
                        "[flock] view decode: duplicate member (%s, %u)",
                        members[i].address, (unsigned)members[i].provider_id);
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
    }
    sorted = true;
    for (got_md = 0; got_md < nmd;) {
        char* key   = frt_get_str(r, FLOCK__VIEW_MAX_KEY_LEN);
        char* value = frt_get_str(r, FLOCK__VIEW_MAX_VALUE_LEN);
        if (!frt_rbuf_ok(r) || !key || !value || !key[0]) {
            free(key);
            free(value);
            margo_error(MARGO_INSTANCE_NULL,
                        "[flock] view decode: metadata %u: missing, empty or too long key/value",
                        got_md);
            r->failed = true;
            ret       = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        metadata[got_md].key   = key;
        metadata[got_md].value = value;
        if (got_md > 0 && strcmp(metadata[got_md - 1].key, key) >= 0) sorted = false;
        got_md++;
    }
    if (!sorted) qsort(metadata, nmd, sizeof(*metadata), metadata_qsort_cmp);
    for (uint32_t i = 1; i < nmd; i++) {
        if (strcmp(metadata[i - 1].key, metadata[i].key) == 0) {
            margo_error(MARGO_INSTANCE_NULL, "[flock] view decode: duplicate metadata key \"%s\"",
                        metadata[i].key);
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
    }
    for (uint32_t i = 0; i < nm; i++)
        digest ^= flock_hash_member(members[i].provider_id, members[i].address);
    for (uint32_t i = 0; i < nmd; i++)
        digest ^= flock_hash_metadata(metadata[i].key, metadata[i].value);
    if (digest != sent_digest) {
        margo_error(MARGO_INSTANCE_NULL,
                    "[flock] view decode: digest mismatch (sent %016llx, content %016llx)",
                    (unsigned long long)sent_digest, (unsigned long long)digest);
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }

    /* Everything is valid: hand the arrays over. */
    out->members.data      = members;
    out->members.size      = nm;
    out->members.capacity  = nm;
    out->metadata.data     = metadata;
    out->metadata.size     = nmd;
    out->metadata.capacity = nmd;
    out->digest            = digest;
    members                = NULL;
    metadata               = NULL;
    got_m = got_md = 0;

finish:
    for (uint32_t i = 0; i < got_m; i++) free(members[i].address);
    for (uint32_t i = 0; i < got_md; i++) {
        free(metadata[i].key);
        free(metadata[i].value);
    }
    free(members);
    free(metadata);
    return ret;
}
