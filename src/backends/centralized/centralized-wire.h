/*
 * centralized-wire.h -- RPC names and message codecs of the centralized
 * backend. Every decoder validates the whole message (lengths, counts,
 * update kinds, string sizes) before anything is used, and reports a bad
 * frame as false / an error instead of trusting the peer.
 *
 * Every request opens with the envelope {u64 group_id, u64 term, u16
 * provider_id}: the sender's group (0 = unknown), the term it knows (0 =
 * unknown) and its provider id (its address is the RPC source); see
 * docs/design.md, "Group identity, terms and failover". A member that is not
 * the primary answers a request meant for the primary with OP_FORBIDDEN and
 * a redirect {u8 kind, [str primary, u16 pid, u64 term]} (kind 1: here is
 * the primary; kind 0: no primary known / the primary has no majority).
 * Then (little-endian, frt codec; "str" = u32 length + bytes):
 *   ping                in: u64 seq, u64 digest              out: u32 ret [, redirect]
 *   vote                in: u64 last_term, u64 last_seq      out: u32 ret, u64 term
 *   membership_update   in: events                           out: u32 ret
 *   get_view            in: u64 since_seq, u8 want_full      out: u32 ret, u8 kind,
 *                                                                 u64 seq, events|view
 *   leave               in: u16 provider_id                  out: u32 ret
 *   join                in: u16 provider_id                  out: u32 ret [, u64 seq,
 * view]
 *   metadata            in: u8 type, str key [, str value]   out: u32 ret [, redirect]
 * events = u32 count, count x { u64 seq, u8 type, str address, u16 provider_id
 *                               [, str value if type is META_SET] }
 * (metadata events: the key in place of the address, provider id 0)
 */
#ifndef FLOCK_CENTRALIZED_WIRE_H
#define FLOCK_CENTRALIZED_WIRE_H

#include <margo.h>
#include "centralized-logic.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FLOCK__CENT_RPC_PING   "flock_centralized_ping"
#define FLOCK__CENT_RPC_UPDATE "flock_centralized_membership_update"
#define FLOCK__CENT_RPC_VIEW   "flock_centralized_get_view"
#define FLOCK__CENT_RPC_LEAVE  "flock_centralized_leave"
#define FLOCK__CENT_RPC_JOIN   "flock_centralized_join"
#define FLOCK__CENT_RPC_VOTE   "flock_centralized_vote"
#define FLOCK__CENT_RPC_HANDOVER "flock_centralized_handover"
#define FLOCK__CENT_RPC_META   "flock_centralized_metadata"

/** Redirect kinds (after an OP_FORBIDDEN status). */
#define FLOCK__CENT_REDIRECT_NONE    0u /* no primary to name (or it lacks a majority) */
#define FLOCK__CENT_REDIRECT_PRIMARY 1u /* the current primary follows */

/** Most events accepted in one message (a peer cannot make us allocate more). */
#define FLOCK__CENT_MAX_EVENTS 65536u

/** get_view reply kinds. */
#define FLOCK__CENT_KIND_EVENTS 0u
#define FLOCK__CENT_KIND_VIEW   1u

/** Append the envelope that opens every request. */
void flock__cent_encode_envelope(frt_wbuf* b, uint64_t group_id, uint64_t term,
                                 uint16_t provider_id);
/** Read the envelope at the start of data; r is left on the body. false if
 *  truncated. */
bool flock__cent_decode_envelope(frt_rbuf* r, const void* data, size_t len,
                                 uint64_t* group_id, uint64_t* term, uint16_t* provider_id);

/** Append a redirect (kind FLOCK__CENT_REDIRECT_*; address may be NULL for NONE). */
void flock__cent_encode_redirect(frt_wbuf* b, uint8_t kind, const char* address,
                                 uint16_t provider_id, uint64_t term);
/** Read a redirect after an OP_FORBIDDEN status: *address malloc'd (NULL for
 *  NONE). false (nothing allocated) if absent, truncated or unknown. */
bool flock__cent_decode_redirect(frt_rbuf* r, uint8_t* kind, char** address,
                                 uint16_t* provider_id, uint64_t* term);

void flock__cent_encode_ping(frt_wbuf* b, uint64_t seq, uint64_t digest);
/** false if the frame is not exactly a ping. */
bool flock__cent_decode_ping(const void* data, size_t len, uint64_t* seq,
                             uint64_t* digest);

/** Append one entry of an events list (the list's u32 count is the caller's). */
void flock__cent_encode_event(frt_wbuf* b, const flock__cent_event_t* e);
/** Append an events list (n entries of evs). */
void flock__cent_encode_events(frt_wbuf* b, const flock__cent_event_t* evs, size_t n);
/**
 * Read an events list. On success *evs is a malloc'd array of *n events
 * (addresses malloc'd; free with flock__cent_events_free) -- NULL when
 * *n == 0. false (nothing allocated) on a bad frame: truncated, too many
 * events, unknown update kind, over-long address.
 */
bool flock__cent_decode_events(frt_rbuf* r, flock__cent_event_t** evs, size_t* n);
/** Free an array returned by flock__cent_decode_events (NULL-safe). */
void flock__cent_events_free(flock__cent_event_t* evs, size_t n);

/** A message made of one u16 (join / leave input). */
void flock__cent_encode_u16(frt_wbuf* b, uint16_t v);
bool flock__cent_decode_u16(const void* data, size_t len, uint16_t* v);

/** metadata input (after the envelope): u8 type (META_SET / META_DEL), str
 *  key, [str value] (META_SET). */
void flock__cent_encode_meta(frt_wbuf* b, const char* key, const char* value);
/** *key, *value malloc'd (value NULL for META_DEL); false (nothing
 *  allocated) if the frame is not exactly that, a key empty or over
 *  FLOCK_METADATA_KEY_MAX, a value over FLOCK_METADATA_VALUE_MAX. */
bool flock__cent_decode_meta(const void* data, size_t len, char** key, char** value);

/** get_view input. */
void flock__cent_encode_view_req(frt_wbuf* b, uint64_t since_seq, bool want_full);
bool flock__cent_decode_view_req(const void* data, size_t len, uint64_t* since_seq,
                                 bool* want_full);

/** A reply made of one u32 status (a flock_return_t value). */
void flock__cent_encode_status(frt_wbuf* b, uint32_t status);
/** Read the leading u32 status of a reply; false if truncated. */
bool flock__cent_decode_status(frt_rbuf* r, uint32_t* status);

/** Map a status received from a peer to a flock_return_t (unknown -> OTHER). */
flock_return_t flock__cent_status_to_return(uint32_t status);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_CENTRALIZED_WIRE_H */
