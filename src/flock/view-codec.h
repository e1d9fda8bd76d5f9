/*
 * view-codec.h -- the binary wire form of a group view, shared by the
 * flock_get_view RPC and every backend's RPCs (internal to the Flock
 * libraries; built into flock-client, which flock-server links).
 *
 * Layout (frt codec: little-endian, strings are u32 length + bytes):
 *   u64 digest
 *   u32 member_count      (<= FLOCK__VIEW_MAX_MEMBERS)
 *   u32 metadata_count    (<= FLOCK__VIEW_MAX_METADATA)
 *   member_count   x { str address (1..FRT_MAX_ADDR_LEN bytes), u16 provider_id }
 *   metadata_count x { str key (1..FLOCK__VIEW_MAX_KEY_LEN), str value (<= FLOCK__VIEW_MAX_VALUE_LEN) }
 * The digest is the sender's; the receiver recomputes it and rejects a
 * mismatch. Members/metadata are sent in view order (sorted).
 */
#ifndef FLOCK_VIEW_CODEC_H
#define FLOCK_VIEW_CODEC_H

#include <frt.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLOCK__VIEW_MAX_MEMBERS   (1u << 20)
#define FLOCK__VIEW_MAX_METADATA  (1u << 16)
#define FLOCK__VIEW_MAX_KEY_LEN   4096u
#define FLOCK__VIEW_MAX_VALUE_LEN (1u << 20)

/**
 * Append the wire form of *v to b. Does not lock: the caller holds the
 * view lock if the view is shared. Allocation failure is reported through
 * b->failed (as every frt_put_*).
 */
void flock__view_encode(frt_wbuf* b, const flock_group_view_t* v);

/**
 * Read one view from r into *out, which must be an initialized empty view
 * (FLOCK_GROUP_VIEW_INITIALIZER / zeroed / cleared); its mutex is not
 * touched. Every count, length and string is validated, and the digest
 * recomputed and compared with the sent one, BEFORE *out is filled; on
 * error *out is left empty, r->failed may be set, and a log line names the
 * problem. Unsorted input is sorted; duplicate members or keys are rejected.
 * @return FLOCK_SUCCESS; FLOCK_ERR_INVALID_ARGS (NULL r/out or *out not
 *         empty); FLOCK_ERR_FROM_MERCURY (truncated/malformed/inconsistent
 *         data); FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock__view_decode(frt_rbuf* r, flock_group_view_t* out);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_VIEW_CODEC_H */
