/*
 * swim-core.h -- SWIM + Lifeguard group membership as a pure state machine.
 *
 * The machine never touches the network, a clock, a thread or a lock. Its
 * inputs are: the current time (any monotonic milliseconds, passed to every
 * call), timer ticks (swim__tick at or after swim__next_deadline), incoming
 * requests (swim__handle_request) and the completions of the calls it asked
 * for (swim__handle_response). Its outputs accumulate in an outbox: calls to
 * send (request/response RPCs, each with a timeout), replies to deferred
 * requests, and membership events. The driver (swim-backend.c over frt, or
 * the simulated network of tests/swim/) drains the outbox after every input.
 *
 * Not thread-safe: the driver serialises all calls on one swim__t.
 *
 * Membership rules (memberlist semantics, which fix the reference's defects):
 * every member has a status (ALIVE, SUSPECT, DEAD, LEFT) and an incarnation.
 * ALIVE(i) overrides SUSPECT/ALIVE(j) iff i > j and a tombstone (DEAD/LEFT at
 * j) iff i > j; SUSPECT(i) overrides ALIVE(j) iff i >= j; DEAD/LEFT(i)
 * override ALIVE/SUSPECT(j) iff i >= j. Tombstones are kept for
 * tombstone_timeout_ms, so stale gossip cannot resurrect a member. A member
 * that hears it is suspected, dead or departed (at an incarnation >= its
 * own) refutes with a higher incarnation.
 */
#ifndef FLOCK_SWIM_CORE_H
#define FLOCK_SWIM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bounds on everything decoded from a peer ---- */
#define SWIM_MAX_ADDR_LEN     127u   /* address strings */
#define SWIM_MAX_GOSSIP_WIRE  64u    /* gossip entries in one message */
#define SWIM_MAX_STATE_WIRE   65536u /* members in one state exchange */
#define SWIM_MAX_BUCKETS      256u   /* buckets of a bucketed push-pull (a power of two) */

/* ---- run-time metadata (swim-meta.c) ---- */
#define SWIM_META_MAX_KEY     256u   /* bytes of a key */
#define SWIM_META_MAX_VALUE   4096u  /* bytes of a value */
#define SWIM_META_MAX_TOTAL   65536u /* sum of key + value bytes of the live entries set
                                        locally (a local set beyond it is refused) */
#define SWIM_META_MAX_ENTRIES 1024u  /* entries (live + tombstones) a member keeps and
                                        a message carries */

/* ---- timer coalescing (swim__config.tick_grid_ms) ---- */
#define SWIM_TICK_GRID_AUTO      (-1.0) /* the grid follows the view's size */
#define SWIM_TICK_GRID_AUTO_VIEW 256u   /* auto: on from this many members */

/* ---- anti-entropy (swim-sync.c) ---- */
#define SWIM_DIFF_MIN_VIEW 256u /* a mismatch push-pull is bucketed from this view size */

/* ---- gossip entry types (wire values; reference numbering + extensions) ---- */
typedef enum swim__etype {
    SWIM_E_ALIVE   = 0,
    SWIM_E_SUSPECT = 1,
    SWIM_E_CONFIRM = 2, /* declared dead */
    SWIM_E_JOIN    = 3,
    SWIM_E_LEAVE   = 4,
    SWIM_E_MAX     = 4
} swim__etype;

/** One gossip or state entry. Strings are owned by whoever owns the entry. */
typedef struct swim__entry {
    uint8_t  type;
    uint16_t pid;
    uint16_t from_pid; /* SUSPECT only: who suspects */
    uint64_t    inc;
    const char* addr;      /* borrowed: in a message, one of its strs */
    const char* from_addr; /* SUSPECT only, may be NULL */
} swim__entry;

/**
 * One metadata entry on the wire: the key's value (NULL: removed, a
 * tombstone) as written by `origin` at Lamport `version`. Concurrent writes
 * are ordered by swim__meta_newer (last writer wins); strings are owned by
 * whoever owns the entry.
 */
typedef struct swim__meta_entry {
    char*    key;
    char*    value; /* NULL = removed */
    char*    origin; /* "" for the initial view's entries (version 0) */
    uint64_t version;
    uint16_t origin_pid;
} swim__meta_entry;

typedef enum swim__msg_kind {
    SWIM_MSG_PING = 1,
    SWIM_MSG_PING_REQ,
    SWIM_MSG_ANNOUNCE,
    SWIM_MSG_ACK,          /* response to PING */
    SWIM_MSG_PING_REQ_ACK, /* response to PING_REQ */
    SWIM_MSG_ANNOUNCE_ACK  /* response to ANNOUNCE */
} swim__msg_kind;

/* PING_REQ_ACK.responded: 0 not reached, 1 reached, 2 refused (the
 * helper's relayed ping could not even connect: nobody listens there) */
#define SWIM_PING_REQ_REFUSED 2

/* announce types: JOIN/LEAVE as in the reference, SYNC = push-pull */
#define SWIM_ANN_JOIN  3
#define SWIM_ANN_LEAVE 4
#define SWIM_ANN_SYNC  5
/* the bucketed push-pull (swim-sync.c): DIFF carries the requester's
 * bucket digests, its ACK the responder's entries of the buckets that
 * differ and which they are; PUSH then carries the requester's entries
 * of those buckets (its ACK carries no state) */
#define SWIM_ANN_DIFF  6
#define SWIM_ANN_PUSH  7

/**
 * A message (request or response). One struct for every kind; each kind
 * uses the fields listed in swim-wire.c. Everything pointed to is owned by
 * the message (swim__msg_clear frees it); the entries' addresses are
 * strings of its strs (a gossip message of 64 entries names a handful of
 * addresses: one copy each, not two allocations per entry).
 */
typedef struct swim__msg {
    uint8_t      kind;
    uint8_t      ann_type;  /* ANNOUNCE */
    uint8_t      responded; /* PING_REQ_ACK */
    uint64_t     group_id;  /* the sender's group (0 = not known yet) */
    bool         sender_is_source; /* wire: the sender's address is the transport's
                                      source address (left out; the driver fills
                                      sender_addr in after decoding) */
    char*        sender_addr;
    uint16_t     sender_pid;
    uint64_t     sender_inc;
    uint32_t     sender_view_size;   /* anti-entropy: the sender's view size */
    uint32_t     sender_view_digest; /* and the low 32 bits of the XOR of its
                                        members' keys and of its live metadata
                                        entries' hashes */
    char*        target_addr; /* PING_REQ target, ANNOUNCE subject */
    uint16_t     target_pid;
    uint64_t     target_inc;
    double       timeout_ms; /* PING_REQ: how long the helper waits */
    uint64_t     known_mask; /* responses: bit i = gossip entry i of the request
                                was not news to the responder (feedback) */
    uint32_t     ngossip;
    swim__entry* gossip;
    uint32_t     nstate; /* ANNOUNCE JOIN/SYNC/PUSH (push) and its ACK (pull) */
    swim__entry* state;
    uint32_t     nbuckets; /* DIFF and its ACK: a power of two <= SWIM_MAX_BUCKETS, or 0 */
    uint32_t*    buckets;  /* DIFF: nbuckets digests (the view's, swim__fold_buckets); its ACK:
                              a bitmap of nbuckets + 1 bits (bit b: bucket b differs;
                              bit nbuckets: the metadata differs) */
    uint32_t          nmeta; /* metadata: queued news, or every entry with a state */
    swim__meta_entry* meta;
    char**            strs; /* owned: the strings the entries' addresses point to */
    const char**      srcs; /* srcs[i]: what strs[i] copies (swim__msg_keep), or NULL */
    uint32_t          nstrs, capstrs;
} swim__msg;

/** A copy of s owned by m (one of m->strs), for an entry's address; the
 *  copy of the same pointer s kept among the last SWIM_KEEP_WINDOW is
 *  shared (callers pass interned member addresses). NULL if out of memory. */
const char* swim__msg_keep(swim__msg* m, const char* s);
/** Take ownership of a malloc'd string (freed on failure). */
bool swim__msg_own(swim__msg* m, char* s);
void swim__meta_entry_clear(swim__meta_entry* e);
void swim__msg_clear(swim__msg* m);

/* ---- configuration ---- */

/** Every tunable; swim__config_default() gives the defaults (one place). */
typedef struct swim__config {
    double  protocol_period_ms;   /* 1000 */
    double  ping_timeout_ms;      /* 200 */
    double  ping_req_timeout_ms;  /* 500 */
    int64_t ping_req_members;     /* 3 */
    double  suspicion_timeout_ms; /* 5000: (minimum) suspicion timeout */
    double  suspicion_mult;       /* 0: if > 0, min = mult*max(1,log10 n)*period */
    bool    lifeguard_suspicion;  /* true: dynamic timeout (max -> min) */
    double  suspicion_max_mult;   /* 6: max = min * this */
    int64_t suspicion_confirmations; /* 2: k */
    bool    lifeguard_local_health;  /* true */
    int64_t local_health_max;        /* 8: awareness multiplier cap */
    bool    lifeguard_buddy;         /* true */
    double  gossip_interval_ms;      /* 200; 0 = gossip only on probes */
    int64_t gossip_fanout;           /* 3 */
    int64_t gossip_max_entries;      /* 64 per message (<= SWIM_MAX_GOSSIP_WIRE) */
    int64_t gossip_retransmit_mult;  /* 3 */
    double  announce_timeout_ms;     /* 1000: JOIN/LEAVE/SYNC calls */
    double  join_timeout_ms;         /* 10000: a joiner re-announces JOIN (each
                                        call's timeout doubled) while no member
                                        answered, until this much has passed */
    double  sync_interval_ms;        /* 30000: push-pull with a random member; 0 = off */
    double  reconnect_interval_ms;   /* 10000: push-pull with a random DEAD member */
    double  tombstone_timeout_ms;    /* 600000: how long DEAD/LEFT are remembered */
    bool    anti_entropy;            /* true: push-pull when a peer's view differs
                                        after ours was stable for a period */
    bool    crash_hints;             /* true: probe a member at once when its
                                        connection closes or a call to it is
                                        refused (swim__hint, swim__handle_refused) */
    bool    urgent_join;             /* false: the seed answers JOINs ahead of its
                                        queued probes (frt_rpc_set_urgent) */
    double  tick_grid_ms;            /* SWIM_TICK_GRID_AUTO (the default): the
                                        grid of swim__tick_grid_for (a twentieth
                                        of the period once the view has
                                        SWIM_TICK_GRID_AUTO_VIEW members, off
                                        below); 0 = off; else the driver's timer
                                        fires on multiples of this (timer
                                        coalescing, swim__grid_deadline),
                                        <= period / 4 */
} swim__config;

void swim__config_default(swim__config* c);
/** Clamp every field into a safe range (after parsing user input). */
void swim__config_sanitize(swim__config* c);

/* ---- outputs ---- */

typedef enum swim__event_type {
    SWIM_EV_JOINED = 1,
    SWIM_EV_LEFT,
    SWIM_EV_DIED,
    SWIM_EV_META /* a metadata change applied: addr = the key, value (NULL: removed) */
} swim__event_type;

typedef struct swim__send {
    uint64_t  call_id; /* pass back to swim__handle_response */
    char*     addr;    /* destination (owned) */
    uint16_t  pid;
    double    timeout_ms;
    bool      first_join; /* a joiner's JOIN: its registration waits for the answer */
    swim__msg msg;
} swim__send;

typedef struct swim__reply {
    uint64_t  token; /* the token given to swim__handle_request */
    swim__msg msg;
} swim__reply;

typedef struct swim__event {
    int      type; /* swim__event_type */
    char*    addr; /* owned (SWIM_EV_META: the key) */
    uint16_t pid;
    char*    value; /* SWIM_EV_META: the new value (owned), NULL if removed */
} swim__event;

typedef struct swim__outbox {
    swim__send*  sends;
    size_t       nsends, capsends;
    swim__reply* replies;
    size_t       nreplies, capreplies;
    swim__event* events;
    size_t       nevents, capevents;
} swim__outbox;

/** Free everything in the outbox and empty it (the arrays are kept). */
void swim__outbox_clear(swim__outbox* o);
/** Free the outbox entirely. */
void swim__outbox_free(swim__outbox* o);

/* ---- the machine ---- */

typedef struct swim__t swim__t;

typedef void (*swim__log_fn)(void* ctx, int level, const char* msg);
#define SWIM_LOG_DEBUG 0
#define SWIM_LOG_INFO  1
#define SWIM_LOG_WARN  2

/**
 * Create a machine for self (addr, pid). seed drives every random choice
 * (deterministic in tests). The config is copied and sanitized. NULL on
 * allocation failure or a bad address.
 */
swim__t* swim__create(const swim__config* cfg, const char* self_addr, uint16_t self_pid,
                      uint64_t seed, double now, swim__log_fn log, void* log_ctx);
void     swim__destroy(swim__t* s);

/** Add a member of the initial view (ALIVE, incarnation 1, no event).
 *  Self and duplicates are ignored. 0 on success, -1 on allocation failure
 *  or an invalid address. */
int swim__add_initial(swim__t* s, const char* addr, uint16_t pid);

/** The group's id (carried in every message; 0 = unknown, adopted from
 *  the first JOIN answer). Set before swim__start. */
void     swim__set_group_id(swim__t* s, uint64_t id);
uint64_t swim__group_id(const swim__t* s);
/** The id of the first member of another group that answered a JOIN (0 if
 *  none): a joiner pointed at the wrong group names it. */
uint64_t swim__join_foreign_id(const swim__t* s);
/** Raise self's starting incarnation (before swim__start; e.g. a restarted
 *  member starts above any incarnation of its previous life). */
void     swim__set_incarnation(swim__t* s, uint64_t inc);
/** true from the moment this member hears it was declared dead or departed
 *  until a member of its group answers its JOIN with the new incarnation
 *  (the driver serves no view meanwhile). */
bool     swim__removed(const swim__t* s);

/** Start the protocol. If join, announce JOIN (with a state exchange) to
 *  the first min(retransmit_limit(n), n-1) other members in view order. */
void swim__start(swim__t* s, bool join, double now);

/** true once a JOIN was answered (or every JOIN call failed, or no JOIN). */
bool swim__join_settled(const swim__t* s);
/** true if at least one JOIN call was answered. */
bool swim__join_succeeded(const swim__t* s);

/** Run whatever is due at `now` (probe rounds, gossip, suspicion expiry,
 *  sync, tombstone expiry). */
void swim__tick(swim__t* s, double now);
/** Earliest time at which swim__tick has something to do. */
double swim__next_deadline(const swim__t* s);

/**
 * An incoming request. The reply (for `token`) is put in the outbox, at
 * once or later (a PING_REQ is answered when the relayed ping completes).
 * Malformed-but-decoded content is ignored entry by entry.
 */
void swim__handle_request(swim__t* s, double now, uint64_t token, const swim__msg* req);

/** Completion of a call: ok=false for timeout/error (resp ignored). */
void swim__handle_response(swim__t* s, double now, uint64_t call_id, bool ok,
                           const swim__msg* resp);

/**
 * Crash hints (crash_hints). swim__hint: a connection with addr was closed
 * by the peer; every view member at addr is probed at once, direct and
 * indirect, beside the probe round (at most once per period each; a live
 * member answers and nothing happens). swim__handle_refused: the call
 * could not even connect to (addr, pid) (refused at once): completed as a
 * failed call; a probe's refused ping, with every answering helper's
 * relayed ping refused too, makes the suspicion it starts hard (deadline
 * swim__hard_suspicion_ms away); a refused relay is reported as such; any
 * other refused call is a hint about its destination.
 */
void swim__hint(swim__t* s, double now, const char* addr);
void swim__handle_refused(swim__t* s, double now, uint64_t call_id, const char* addr,
                          uint16_t pid);

/** Graceful leave: queue LEAVE(self) and announce it to up to
 *  retransmit_limit(n) random members. After this the machine stops
 *  probing; pending calls should be drained before destroy. */
void swim__leave(swim__t* s, double now);

/** Stop without any announcement (crash simulation, or alone). */
void swim__leave_silently(swim__t* s);

/** Calls sent and not yet completed. */
size_t swim__pending_calls(const swim__t* s);

swim__outbox* swim__get_outbox(swim__t* s);

/* ---- introspection ---- */
/** Members currently in the view (ALIVE + SUSPECT, self included). */
size_t   swim__view_size(const swim__t* s);
/** The view digest every message carries (the view's and the metadata's). */
uint32_t swim__view_digest(const swim__t* s);
uint64_t swim__self_incarnation(const swim__t* s);
int      swim__local_health(const swim__t* s);
/** Status of a member: 0 unknown, 1 alive, 2 suspect, 3 dead, 4 left. */
int      swim__member_status(const swim__t* s, const char* addr, uint16_t pid,
                             uint64_t* inc);
/** Iterate members in the view: calls fn for each ALIVE/SUSPECT member. */
void swim__foreach_member(const swim__t* s, void (*fn)(void*, const char*, uint16_t),
                          void* uargs);
const swim__config* swim__get_config(const swim__t* s);

/* ---- the driver's published view ----
 * A flag per member, kept for the driver: the members it has announced
 * (initial view + delivered JOINED events - delivered LEFT/DIED events).
 * The machine itself never reads it. Serves get_view without a second
 * copy of the membership. */
/** Set (in) or clear the flag of a known member; true if it changed. */
bool   swim__publish(swim__t* s, const char* addr, uint16_t pid, bool in);
size_t swim__published_count(const swim__t* s);
/** Calls fn for each flagged member (addresses live as long as the member). */
void   swim__foreach_published(const swim__t* s, void (*fn)(void*, const char*, uint16_t),
                               void* uargs);

/* ---- run-time metadata (swim-meta.c) ----
 * Each key holds the write that is last by swim__meta_newer: (version,
 * origin address, origin provider id, value) compared in that order;
 * versions are Lamport clocks (a local write takes 1 + the highest version
 * this member has seen). Removal writes a tombstone (value NULL) with its
 * own version; tombstones are dropped tombstone_timeout_ms after they were
 * written or learned. Writes spread by gossip and by the state exchanges
 * (JOIN, SYNC); every change a member applies (its own included) yields one
 * SWIM_EV_META event. */

typedef enum swim__meta_result {
    SWIM_META_APPLIED = 0, /* a new write, gossiped; one SWIM_EV_META queued */
    SWIM_META_UNCHANGED,   /* the key already holds this value: nothing to do */
    SWIM_META_ABSENT,      /* removal of a key that holds no value */
    SWIM_META_INVALID,     /* bad key/value, or a limit (SWIM_META_MAX_*) exceeded */
    SWIM_META_NOMEM
} swim__meta_result;

/** Set key to value (value NULL: remove it). */
swim__meta_result swim__meta_set(swim__t* s, double now, const char* key, const char* value);
/** Add an entry of the initial view (version 0, no origin, no event, not
 *  gossiped). 0, or -1 on an invalid entry or allocation failure. */
int swim__meta_add_initial(swim__t* s, const char* key, const char* value);
/** Calls fn for each key that holds a value, in key order. */
void swim__foreach_meta(const swim__t* s, void (*fn)(void*, const char*, const char*),
                        void* uargs);
/** The value of key (NULL if none); valid until the next input. */
const char* swim__meta_get(const swim__t* s, const char* key);
/** true if a holds the later write of the two (the total order above). */
bool swim__meta_newer(const swim__meta_entry* a, const swim__meta_entry* b);
/** true if a key or value may be stored: valid UTF-8 without NUL, key
 *  1..SWIM_META_MAX_KEY bytes, value at most SWIM_META_MAX_VALUE bytes
 *  (value NULL is a removal). */
bool swim__meta_valid(const char* key, const char* value);

/** Heap bytes this machine holds, as malloc chunks (for benchmarks). Member
 *  addresses are interned process-wide: see swim__intern_bytes(). */
size_t swim__memory_estimate(const swim__t* s);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_CORE_H */
