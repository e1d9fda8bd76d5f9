/*
 * subscribe-wire.h -- the provider-level RPCs of subscriptions and run-time
 * metadata, and their codecs (internal to the Flock libraries; built into
 * flock-client, which flock-server links). Pure: no state, no I/O.
 *
 * Owns: the message layouts below and the event type. Calls: the frt codec
 * and view-codec.h. Called by client-subscribe.c, client.c (metadata set),
 * provider-subs.c and provider.c, the tests and the fuzz target.
 *
 * Layout (frt codec: little-endian, "str" = u32 length + bytes):
 *   flock_subscribe    in:  u64 sub_id (0: a new subscription), u64 next_seq,
 *                           u32 wait_ms
 *                      out: u32 status; if FLOCK_SUCCESS: u64 sub_id, u8 kind,
 *                           kind SNAPSHOT: view, u32 nrem, nrem x removal,
 *                           u64 first_seq, u32 n, n x event
 *   flock_unsubscribe  in:  u64 sub_id                 out: u32 status
 *   flock_metadata_set in:  str key, u8 has_value, [str value]
 *                      out: u32 status
 * event   = u8 tag; MEMBER: u8 update, str address, u16 provider_id;
 *                   METADATA: str key, u8 has_value, [str value]
 * removal = str address, u16 provider_id, u8 update (LEFT or DIED)
 * The events of a reply carry the sequence numbers first_seq, first_seq+1,
 * ...; the subscriber asks next for first_seq + n. A SNAPSHOT reply is the
 * member's whole view (the subscriber computes what differs) plus the
 * member's recent removals (to tell LEFT from DIED); its first_seq is where
 * the events that follow the snapshot start.
 */
#ifndef FLOCK_SUBSCRIBE_WIRE_H
#define FLOCK_SUBSCRIBE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <frt.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLOCK__SUBSCRIBE_RPC    "flock_subscribe"
#define FLOCK__UNSUBSCRIBE_RPC  "flock_unsubscribe"
#define FLOCK__METADATA_SET_RPC "flock_metadata_set"

#define FLOCK__SUB_KIND_EVENTS   0u
#define FLOCK__SUB_KIND_SNAPSHOT 1u

#define FLOCK__SUB_TAG_MEMBER   0u
#define FLOCK__SUB_TAG_METADATA 1u

/** Most events in one reply, most removals in one snapshot. */
#define FLOCK__SUB_MAX_EVENTS   1024u
#define FLOCK__SUB_MAX_REMOVALS 256u

/** Bounds of the poll's wait (ms). */
#define FLOCK__SUB_WAIT_MIN_MS     100u
#define FLOCK__SUB_WAIT_MAX_MS     60000u
#define FLOCK__SUB_WAIT_DEFAULT_MS 10000u

/** One change. MEMBER: update, address, provider_id. METADATA: key, value
 *  (NULL: removed). Strings are owned by whoever holds the event. */
typedef struct flock__sub_event {
    uint8_t        tag;
    flock_update_t update;
    char*          address;
    uint16_t       provider_id;
    char*          key;
    char*          value;
} flock__sub_event_t;

/** Free the strings of an event (not the event itself); NULL-safe. */
void flock__sub_event_clear(flock__sub_event_t* e);
/** Deep copy; false (dst cleared) on allocation failure. */
bool flock__sub_event_copy(flock__sub_event_t* dst, const flock__sub_event_t* src);

void flock__sub_encode_event(frt_wbuf* b, const flock__sub_event_t* e);
/** Read one event into *e (strings malloc'd); false (nothing allocated) on
 *  a bad frame: truncated, unknown tag or update kind, an empty or
 *  over-long address or key, an over-long value. */
bool flock__sub_decode_event(frt_rbuf* r, flock__sub_event_t* e);

/** A removal remembered by a member (for snapshots). */
typedef struct flock__sub_removal {
    char*          address;
    uint16_t       provider_id;
    flock_update_t update;
} flock__sub_removal_t;

/** A decoded flock_subscribe reply. */
typedef struct flock__sub_reply {
    flock_return_t        status;
    uint64_t              sub_id;
    uint8_t               kind;
    flock_group_view_t    view;     /* SNAPSHOT */
    flock__sub_removal_t* removals; /* SNAPSHOT */
    size_t                nremovals;
    uint64_t              first_seq;
    flock__sub_event_t*   events;
    size_t                nevents;
} flock__sub_reply_t;

/** Free everything a reply holds (the view too) and zero it. */
void flock__sub_reply_clear(flock__sub_reply_t* rep);

void flock__sub_encode_poll(frt_wbuf* b, uint64_t sub_id, uint64_t next_seq,
                            uint32_t wait_ms);
/** false if the frame is not exactly a poll request. */
bool flock__sub_decode_poll(const void* data, size_t len, uint64_t* sub_id,
                            uint64_t* next_seq, uint32_t* wait_ms);

/**
 * Decode a flock_subscribe reply into *rep (zeroed by the caller; its view
 * initialized). A non-success status ends the reply. @return FLOCK_SUCCESS
 * (rep->status may still be an error from the member),
 * FLOCK_ERR_FROM_MERCURY on a bad frame (rep cleared), FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock__sub_decode_reply(const void* data, size_t len,
                                       flock__sub_reply_t* rep);

/** A removal entry of a snapshot. */
void flock__sub_encode_removal(frt_wbuf* b, const flock__sub_removal_t* rm);

/** metadata_set request (value NULL: removal). */
void flock__sub_encode_meta_set(frt_wbuf* b, const char* key, const char* value);
/** *key / *value malloc'd (value NULL for a removal); false (nothing
 *  allocated) if the frame is not exactly a request within the limits of
 *  flock-group.h (those are checked again by the receiver, with reasons). */
bool flock__sub_decode_meta_set(const void* data, size_t len, char** key, char** value);

/** A reply made of one u32 status / reading it (false if not exactly that). */
void flock__sub_encode_status(frt_wbuf* b, flock_return_t status);
bool flock__sub_decode_status(const void* data, size_t len, flock_return_t* status);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SUBSCRIBE_WIRE_H */
