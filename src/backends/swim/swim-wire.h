/*
 * swim-wire.h -- byte encoding of SWIM messages (swim__msg), the compact
 * form. Every decoded count, length, index and enum is bounded (SWIM_MAX_*),
 * a count is also checked against the bytes left before anything is
 * allocated, and trailing bytes are an error.
 *
 * Layout (uv = unsigned LEB128 varint, at most 10 bytes; u32, u64
 * little-endian; vstr = uv length + bytes; addr = uv tag: 0 then uv index
 * = an address written earlier in this message (in order of appearance,
 * "" excluded); 2L + 1 then L bytes = a new address; 2S + 2, then uv P,
 * then S bytes = a new address made of the first P bytes of the address
 * written last (the table's last) and those S bytes; a new address is at
 * most SWIM_MAX_ADDR_LEN bytes. inc = an incarnation after the sender's:
 * uv zigzag of its difference (modulo 2^64) from the incarnation written
 * before it in the message, the sender's first):
 *   u8 kind; u8 flags (bit 0: the sender's address is the transport's
 *   source address and is left out; bit 1: a bucket section follows the
 *   kind's fields; bit 2: this form, set in every message -- a message
 *   without it comes from an older version, which wrote whole addresses,
 *   whole incarnations and a 64-bit digest; other bits 0); u64 group_id
 *   (0 = unknown: a joiner whose file had no id); [addr sender, if not
 *   bit 0]; uv sender_pid; uv sender_inc; uv view_size; u32 view_digest;
 *   responses: uv known_mask; then by kind
 *   PING / ACK:     gossip
 *   PING_REQ:       addr target; uv target_pid; uv timeout (ms); gossip
 *   PING_REQ_ACK:   u8 responded (0 not reached, 1 reached, 2 refused);
 *                   inc target_inc; gossip
 *   ANNOUNCE:       u8 type (JOIN, LEAVE, SYNC, DIFF, PUSH); addr subject;
 *                   uv pid; inc; state; [buckets]; gossip
 *   ANNOUNCE_ACK:   state; [buckets]; gossip
 *   buckets:        (flag bit 1; a DIFF always has them, an ANNOUNCE_ACK
 *                   may, no other message) uv nb (a power of two, 1..256); DIFF:
 *                   nb x u32 bucket digests; ANNOUNCE_ACK: ceil((nb + 1) / 8)
 *                   bytes, a bitmap of nb + 1 bits, lowest first (no bit
 *                   beyond them set)
 *   gossip/state:   uv count; count x { u8 type; addr; uv pid; inc;
 *                   SUSPECT only: addr from; uv from_pid }
 *   then, every kind: metadata: uv count (<= SWIM_META_MAX_ENTRIES);
 *                   count x { vstr key; u8 has_value (0/1); has_value: vstr
 *                   value; uv version; addr origin ("" or an address);
 *                   uv origin_pid } (keys and values: swim__meta_valid)
 * Provider ids are at most 65535. A message that leaves its sender's
 * address out decodes with sender_addr NULL: the driver fills it in from
 * the transport (the request's source, the called address).
 */
#ifndef FLOCK_SWIM_WIRE_H
#define FLOCK_SWIM_WIRE_H

#include <frt.h>
#include "swim-core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Append m to b. false if b->failed afterwards (allocation failure). */
bool swim__encode(const swim__msg* m, frt_wbuf* b);

/**
 * Decode a message of kind `expected` (0 = any kind). On failure returns
 * false, *out is empty, and *why names the problem (static string).
 */
bool swim__decode(const void* data, size_t len, uint8_t expected, swim__msg* out,
                  const char** why);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_WIRE_H */
