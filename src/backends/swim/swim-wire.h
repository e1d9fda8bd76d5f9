/*
 * swim-wire.h -- byte encoding of SWIM messages (swim__msg) with the frt
 * codec. Every decoded count, length and enum is bounded (SWIM_MAX_*), a
 * count is also checked against the bytes left before anything is
 * allocated, and trailing bytes are an error.
 *
 * Layout (little-endian, strings = u32 length + bytes):
 *   u8 kind; u64 group_id (0 = unknown: a joiner whose file had no id);
 *   str sender_addr; u16 sender_pid; u64 sender_inc; u32 view_size;
 *   u64 view_digest; responses: u64 known_mask; then by kind
 *   PING / ACK:     gossip
 *   PING_REQ:       str target; u16 target_pid; f64 timeout_ms; gossip
 *   PING_REQ_ACK:   u8 responded; u64 target_inc; gossip
 *   ANNOUNCE:       u8 type; str subject; u16 pid; u64 inc; state; gossip
 *   ANNOUNCE_ACK:   state; gossip
 *   gossip/state:   u32 count; count x { u8 type; str addr; u16 pid; u64 inc;
 *                   SUSPECT only: str from_addr; u16 from_pid }
 *   then, every kind: metadata: u32 count (<= SWIM_META_MAX_ENTRIES);
 *                   count x { str key; u8 has_value (0/1); has_value: str
 *                   value; u64 version; str origin; u16 origin_pid }
 *                   (keys and values: swim__meta_valid; origin: "" or an
 *                   address)
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
