/*
 * swim-core-internal.h -- the inside of the SWIM state machine (swim__t),
 * shared by the files that implement it. Not for the driver: swim-backend.c
 * and the tests use swim-core.h only.
 *
 * Who owns what (each structure is written by one file; the others read it
 * or go through the functions declared below):
 *
 *   file                 owns                                       may call
 *   swim-core.c          swim__t lifecycle, the config defaults,    every file below
 *                        the entry points (tick phases, request
 *                        and response dispatch), introspection
 *   swim-merge.c         how entries change members: precedence     members, suspicion,
 *                        (swim__entry_verdict), refutation, JOINED/ gossip, outbox, math
 *                        LEFT/DIED events, note_sender
 *   swim-probe.c         s->probe, s->hints, s->probe_seq,          members, suspicion,
 *                        s->hint_recent, s->probe_pos,              merge, gossip, outbox,
 *                        s->probe_first (reader), s->awareness:     math
 *                        probe rounds, crash-hint probes, indirect
 *                        probes, relayed pings
 *   swim-suspicion.c     s->susps pool, s->nsuspect, s->next_susp:  members, gossip, probe
 *                        suspicion timers, confirmations, the       (send_ping), outbox,
 *                        last-chance check, expiry                  math
 *   swim-gossip.c        s->bq queue, bq_seq, s->last_refs,         outbox, math
 *                        s->peer_views: piggyback selection,
 *                        retransmit counts, feedback, what peers
 *                        already know, the dedicated gossip round
 *   swim-sync.c          s->next_sync, next_reconnect,              members, merge,
 *                        next_mismatch_sync, join_*: state          gossip, outbox, math
 *                        exchange (push-pull, bucketed from a view
 *                        of SWIM_DIFF_MIN_VIEW), JOIN/LEAVE/SYNC
 *                        announcements and their answers
 *   swim-members.c       s->members, slots, order, nview,           suspicion (free_susp),
 *                        view_digest, vbuckets, ntomb, npublished:  intern, math
 *                        lookup, insert, view enter/exit, compaction, trim,
 *                        random picks, the published flags
 *   swim-meta.c          s->meta table, meta_clock, meta_digest,    outbox, math, intern
 *                        meta_bytes: run-time metadata (writes,
 *                        merge, piggyback, state, tombstones)
 *   swim-outbox.c        s->out, s->calls, next_call_id: messages,  members (read)
 *                        the outbox, the pending-call table, log
 *   swim-math.c          nothing: pure rules (table-tested)         --
 *   swim-intern.c        the process-wide address table             --
 *
 * Calls go down this list (core at the top); swim-probe.c and
 * swim-suspicion.c call each other (a failed probe starts a suspicion; the
 * last-chance check sends a ping), as the protocol ties them.
 *
 * Indices: members are referred to by their index in s->members; indices
 * change only in swim__compact (which remaps every index held elsewhere).
 */
#ifndef FLOCK_SWIM_CORE_INTERNAL_H
#define FLOCK_SWIM_CORE_INTERNAL_H

#include "swim-core.h"
#include "swim-intern.h"
#include "swim-math.h"

#include <frt.h> /* frt_hash_str only: a pure inline, no runtime call */

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* member status (the numbering of swim__member_status and swim-math.h) */
enum { ST_ALIVE = SWIM_ST_ALIVE, ST_SUSPECT = SWIM_ST_SUSPECT, ST_DEAD = SWIM_ST_DEAD, ST_LEFT = SWIM_ST_LEFT };

enum call_kind {
    CALL_PROBE_PING = 1,
    CALL_PROBE_PING_REQ,
    CALL_RELAY,
    CALL_GOSSIP,
    CALL_JOIN,
    CALL_LEAVE,
    CALL_SYNC,
    CALL_CHECK, /* last-chance ping of a suspect before its deadline */
    CALL_REJOIN, /* JOIN after learning we were declared dead/departed */
    CALL_DIFF    /* a bucketed push-pull's DIFF (aux: its bucket count) */
};

#define MAX_CONFIRMERS 16
#define SWIM_FULL_SYNC_EVERY 10 /* every 10th periodic anti-entropy round is a full push-pull */

typedef struct suspicion {
    double   start;
    double   min_ms, max_ms;
    unsigned k;
    unsigned n; /* independent confirmations beyond the first suspector */
    unsigned nconfirmers;
    bool     checked; /* the last-chance ping was sent */
    bool     doubt;   /* a DEAD verdict from another member was heard: only
                         this suspicion's own expiry removes the member */
    uint32_t confirmers[MAX_CONFIRMERS]; /* fold32 of the suspectors' member hashes */
} suspicion;

/* 32 bytes: this array is the bulk of the per-known-member cost */
typedef struct member {
    const char* addr; /* interned (swim-intern.h) */
    uint64_t    inc;
    uint32_t    susp;  /* index in s->susps or NONE */
    uint32_t    bq;    /* index in the gossip queue or NONE */
    float       since; /* time of the last status change, ms after s->t0 */
    uint16_t    pid;
    uint8_t     status;
    uint8_t     published; /* in the driver's published view (swim__publish) */
} member;

_Static_assert(sizeof(member) <= 32, "member entries should stay compact");

typedef struct bcast {
    uint64_t inc;
    uint64_t seq; /* newer first among equal transmit counts */
    uint32_t member;
    uint32_t from; /* SUSPECT: suspector index, or NONE */
    uint32_t transmits;
    uint8_t  type;
    bool     entered; /* news that the member entered the view (a join, a return):
                         a peer whose view equals ours has it (swim__attach_gossip) */
} bcast;

/* The view summary a peer last reported (swim__view_summary of its view size
 * and digest), in a small direct-mapped cache by member index + 1 (0 =
 * empty slot): a peer whose summary equals ours needs no news of members
 * entering the view. A miss only costs the bytes it would have saved. */
#define SWIM_PEER_VIEW_SLOTS 64
typedef struct peer_view {
    uint32_t member1; /* member index + 1, 0 = empty */
    uint32_t summary;
} peer_view;

/* identity of a gossip entry sent in a request, for the feedback in its
 * response (rumor mongering with feedback, Demers et al. 1987) */
typedef struct sent_ref {
    const char* addr; /* interned: equal pointers = same address */
    uint64_t    inc;
    uint32_t    member;
    uint16_t    pid;
    uint8_t     type, pos;
} sent_ref;

/* a metadata key's last write (swim-meta.c); the table is sorted by key */
typedef struct meta_rec {
    char*       key;
    char*       value;  /* NULL: tombstone */
    const char* origin; /* interned; NULL for the initial view's entries */
    uint64_t    version;
    float       since;  /* when written or learned, ms after s->t0 */
    uint16_t    origin_pid;
    uint16_t    transmits; /* piggybacked this many times since queued */
    bool        queued;    /* news to gossip */
} meta_rec;

/* a probe in flight (swim-probe.c): the round's, or a crash hint's */
typedef struct probe_slot {
    bool     active;
    bool     hint;         /* started by a crash hint (no local-health change) */
    bool     ping_refused; /* the direct ping could not even connect */
    uint16_t pid;
    uint64_t seq; /* the aux of its calls */
    char*    addr;
    int      outstanding;
    int      expected_nacks, nacks, refused_nacks; /* refused: the helper's
                                                      relayed ping was refused */
} probe_slot;

#define SWIM_HINT_SLOTS  4 /* crash-hint probes in flight at once */
#define SWIM_HINT_RECENT 8 /* members hinted recently (one hint probe per period each) */

typedef struct pending {
    uint64_t  id;
    uint64_t  aux;  /* probe seq or request token */
    uint64_t  mask; /* RELAY: feedback for the PING_REQ being relayed */
    sent_ref* refs; /* entries piggybacked on the request */
    uint8_t   nrefs;
    uint8_t   kind;
} pending;

/* The entries of one message name few distinct addresses (the providers of
 * a process share one): while swim__apply_list runs, each string's hash
 * state and the member table's interned copy are remembered, so a lookup
 * costs a pointer search instead of hashing and comparing the string. */
#define SWIM_MEMO 32u /* more than the processes of a 2048-member bench group */
typedef struct swim__memo {
    const char* str[SWIM_MEMO];   /* a string of the message */
    const char* canon[SWIM_MEMO]; /* its interned copy in the table (NULL: not met yet) */
    uint64_t    fnv[SWIM_MEMO];   /* frt_hash_str_state(str) */
    uint32_t    n, next;
} swim__memo;

struct swim__t {
    swim__config cfg;
    swim__outbox out;
    swim__log_fn log;
    void*        log_ctx;
    uint64_t     rng;

    double    t0; /* time origin of member.since */
    uint64_t  self_key; /* hash_member of self */
    member*   members;
    uint32_t  nmembers, capmembers;
    uint32_t  npublished; /* members with published set */
    suspicion* susps; /* pool: free entries chained through susp_free */
    uint32_t*  susp_next;
    uint32_t   capsusps, susp_free;
    uint32_t* slots; /* hash: SWIM_SLOT_FP bits of the member's key over its index + 1
                        (0 = empty): a probe reads a member only if they match */
    uint32_t  capslots;
    uint32_t  self;
    uint32_t  nview; /* ALIVE + SUSPECT, self included */
    uint64_t  view_digest;      /* XOR of the keys of the members in the view */
    uint32_t* vbuckets; /* SWIM_FINE_BUCKETS digests of the view (swim__view_buckets):
                           NULL until a bucketed push-pull first needs them */
    double    last_view_change; /* time nview/view_digest last changed */
    double    next_mismatch_sync;
    uint32_t  nsuspect, ntomb;
    double    next_susp; /* earliest suspicion deadline (may be early, never late) */

    uint32_t* order;
    uint32_t  norder, caporder, probe_pos;
    uint32_t  probe_first; /* a suspect heard of through gossip: probed next (or NONE) */

    bcast*   bq;
    uint32_t nbq, capbq;
    uint64_t bq_seq;
    peer_view peer_views[SWIM_PEER_VIEW_SLOTS]; /* what peers last reported (swim-gossip.c) */

    pending* calls;
    uint32_t ncalls, capcalls;
    sent_ref* last_refs; /* of the last swim__attach_gossip (owned until add_call takes it) */
    uint8_t   nlast_refs;
    bool      last_refs_valid;
    uint64_t next_call_id;

    int    awareness;
    bool   started, leaving;
    int    join_pending;
    bool   join_ok, join_started;
    bool   join_unanswered;   /* a JOIN call of this round timed out */
    double join_deadline;     /* no new JOIN round after this (join_timeout_ms) */
    double join_call_timeout; /* the call timeout of a round (doubles per round) */
    double join_round_timeout; /* this round's (join_call_timeout within the deadline) */
    double join_round_at;     /* when this round was sent */
    uint64_t group_id;       /* 0 = unknown: adopted from the first JOIN answer */
    uint64_t join_foreign;   /* first other group id that answered a JOIN (0: none) */
    uint64_t foreign_drops;  /* messages of another group dropped since the last log */
    double   next_foreign_log;
    bool     removed;        /* declared dead/departed, no rejoin answered yet */
    double   next_rejoin;
    double next_probe, next_gossip, next_sync, next_reconnect, next_purge;
    uint32_t nsyncs; /* periodic anti-entropy rounds (swim-sync.c) */

    meta_rec* meta; /* sorted by key */
    uint32_t  nmeta, capmeta, nmeta_queued, nmeta_tomb;
    uint64_t  meta_clock;  /* highest metadata version seen (Lamport) */
    uint64_t  meta_digest; /* XOR of the live entries' hashes */
    size_t    meta_bytes;  /* key + value bytes of the live entries */

    probe_slot probe;                   /* the probe round's */
    probe_slot hints[SWIM_HINT_SLOTS];  /* crash hints' */
    uint64_t   probe_seq;
    struct {
        uint64_t key; /* swim__hash_member */
        double   at;
    } hint_recent[SWIM_HINT_RECENT];
    uint32_t hint_recent_pos;

    swim__memo memo;   /* swim__apply_list: the lookups of one message */
    bool       memo_on;
};

/* ------------------------------------------------------------------ */
/* small helpers (inline: they are on every path)                      */
/* ------------------------------------------------------------------ */

static inline uint64_t swim__rng_next(swim__t* s)
{
    /* xorshift64* */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t swim__rng_below(swim__t* s, uint32_t n) { return n ? (uint32_t)(swim__rng_next(s) % n) : 0; }

/* the providers of one process differ only in the last characters or the
 * provider id: frt_hash_str spreads those over every bit (home slots) */
static inline uint64_t swim__key_of(uint64_t fnv_state, uint16_t pid)
{
    uint64_t h = frt_hash_finish(fnv_state, pid);
    return h ? h : 1; /* 0 is never a key */
}

static inline uint64_t swim__hash_member(const char* addr, uint16_t pid)
{
    return swim__key_of(frt_hash_str_state(addr), pid);
}

static inline bool swim__valid_addr(const char* a)
{
    if (!a || !a[0]) return false;
    return strnlen(a, SWIM_MAX_ADDR_LEN + 1) <= SWIM_MAX_ADDR_LEN;
}

static inline bool swim__grow(void** p, uint32_t* cap, uint32_t need, size_t elem)
{
    if (need <= *cap) return true;
    uint32_t nc = *cap ? *cap : 8;
    while (nc < need) nc *= 2;
    void* np = realloc(*p, (size_t)nc * elem);
    if (!np) return false;
    *p   = np;
    *cap = nc;
    return true;
}

static inline bool swim__growz(void** p, size_t* cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) nc *= 2;
    void* np = realloc(*p, nc * elem);
    if (!np) return false;
    *p   = np;
    *cap = nc;
    return true;
}

/** swim__hash_member of a member, from its interned address's stored hash
 *  state (no string walk). */
static inline uint64_t swim__member_key(const member* m)
{
    return swim__key_of(swim__intern_fnv(m->addr), m->pid);
}

static inline float swim__rel_time(const swim__t* s, double now) { return (float)(now - s->t0); }

static inline bool swim__in_view(const member* m) { return m->status == ST_ALIVE || m->status == ST_SUSPECT; }

/* The hash is linear probing over a table of any size (not a power of
 * two, so it can stay at 1.25-1.5 slots per member): the home slot of a
 * hash is its high 32 bits scaled to the table size. */
static inline uint32_t swim__slot_home(const swim__t* s, uint64_t h)
{
    return (uint32_t)(((h >> 32) * (uint64_t)s->capslots) >> 32);
}

static inline uint32_t swim__slot_next(const swim__t* s, uint32_t i) { return i + 1 == s->capslots ? 0 : i + 1; }

/* A slot: the low SWIM_SLOT_FP bits of the key (a fingerprint, independent
 * of the home slot, which uses the high bits) over the member's index + 1:
 * the probe skips 255 of 256 other keys without reading their member (a
 * cache miss each). So the table holds at most SWIM_MAX_MEMBERS. */
#define SWIM_SLOT_FP      8u
#define SWIM_SLOT_IDX     (32u - SWIM_SLOT_FP)
#define SWIM_MAX_MEMBERS  ((1u << SWIM_SLOT_IDX) - 2u)
static inline uint32_t swim__slot_val(uint64_t h, uint32_t idx)
{
    return ((uint32_t)h << SWIM_SLOT_IDX) | (idx + 1);
}

/* The probe loop of both lookups: the member (addr, pid) whose hash is h;
 * with canon (its interned copy, once known) the address test is a
 * pointer test. */
static inline uint32_t swim__probe_member(const swim__t* s, uint64_t h, const char* addr,
                                          uint16_t pid, const char* canon)
{
    uint32_t want = swim__slot_val(h, 0);
    for (uint32_t i = swim__slot_home(s, h);; i = swim__slot_next(s, i)) {
        uint32_t v = s->slots[i];
        if (!v) return NONE;
        if ((v ^ want) >> SWIM_SLOT_IDX) continue; /* another key: no member read */
        uint32_t      idx = (v & ((1u << SWIM_SLOT_IDX) - 1)) - 1;
        const member* m   = &s->members[idx];
        if (m->pid != pid) continue;
        if (canon ? m->addr == canon : (m->addr == addr || strcmp(m->addr, addr) == 0))
            return idx;
    }
}

static inline uint32_t swim__find_member(const swim__t* s, const char* addr, uint16_t pid)
{
    if (!s->capslots || !addr) return NONE;
    return swim__probe_member(s, swim__hash_member(addr, pid), addr, pid, NULL);
}

/** swim__find_member through s->memo (swim__apply_list): the same answer.
 *  An interned copy is unique, so once met, pointer equality decides. */
static inline uint32_t swim__find_member_memo(swim__t* s, const char* addr, uint16_t pid)
{
    swim__memo* mo = &s->memo;
    if (!s->memo_on || !s->capslots || !addr) return swim__find_member(s, addr, pid);
    uint32_t j = 0;
    while (j < mo->n && mo->str[j] != addr) j++;
    if (j == mo->n) {
        if (mo->n < SWIM_MEMO) mo->n++;
        else j = mo->next++ % SWIM_MEMO;
        mo->str[j]   = addr;
        mo->canon[j] = NULL;
        mo->fnv[j]   = frt_hash_str_state(addr);
    }
    uint64_t h = swim__key_of(mo->fnv[j], pid);
    uint32_t k = swim__probe_member(s, h, addr, pid, mo->canon[j]);
    if (k != NONE) mo->canon[j] = s->members[k].addr;
    return k;
}

/** The member's suspicion, or NULL (valid until the next susp_alloc). */
static inline suspicion* swim__msusp(const swim__t* s, const member* m)
{
    return m->susp == NONE ? NULL : &s->susps[m->susp];
}

/** The digest a message carries: the view's and the metadata's (a peer
 *  whose metadata differs from ours triggers anti-entropy too). */
/* the digest messages carry: 32 bits (a DIFF's bucket digests are the low
 * 32 bits of the view's, so the requester's metadata digest follows) */
static inline uint32_t swim__wire_digest(const swim__t* s)
{
    return (uint32_t)(s->view_digest ^ s->meta_digest);
}

static inline double swim__scaled(const swim__t* s, double ms)
{
    return s->cfg.lifeguard_local_health ? swim__awareness_scale(ms, s->awareness) : ms;
}

/* ------------------------------------------------------------------ */
/* swim-outbox.c: messages, the outbox, pending calls, log             */
/* ------------------------------------------------------------------ */

void swim__logf(swim__t* s, int level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
/** Queue a membership event about m. */
void swim__emit_event(swim__t* s, int type, const member* m);
/** Forget the entries of the last attach_gossip (no call will carry them). */
void swim__drop_last_refs(swim__t* s);
/** Remove the pending call `id` into *out; false if unknown. */
bool swim__take_call(swim__t* s, uint64_t id, pending* out);
/** Queue a call to (addr, pid). Takes ownership of *msg (cleared on failure
 *  too). Returns false if nothing was queued. */
bool swim__emit_send(swim__t* s, uint8_t kind, uint64_t aux, const char* addr, uint16_t pid,
                     double timeout_ms, swim__msg* msg);
/** Queue the reply to request `token`; takes *msg (kind 0 = fail it). */
void swim__emit_reply(swim__t* s, uint64_t token, swim__msg* msg);
/** A message of `kind` from self (sender fields and view summary). */
bool swim__init_msg(swim__t* s, swim__msg* m, uint8_t kind);
/** An announcement (JOIN / LEAVE / SYNC) about this member itself.
 *  false (and m cleared) on allocation failure. */
bool swim__init_self_announce(swim__t* s, swim__msg* m, uint8_t ann_type);

/* ------------------------------------------------------------------ */
/* swim-members.c: the member table                                    */
/* ------------------------------------------------------------------ */

/** Add a member (no event, no gossip). Returns its index or NONE. */
uint32_t swim__add_member(swim__t* s, double now, const char* addr, uint16_t pid, uint64_t inc,
                          uint8_t status);
/** A tombstone (or unknown) member re-enters the view and the probe order. */
void swim__view_enter(swim__t* s, uint32_t idx, double now);
/** The view's fine bucket digests (swim-math.h), kept from their first
 *  use on; NULL if they cannot be allocated. */
const uint32_t* swim__view_buckets(swim__t* s);
/** ALIVE/SUSPECT -> status (DEAD or LEFT); frees its suspicion. */
void swim__leave_view(swim__t* s, member* m, uint8_t status, double now);
void swim__order_add(swim__t* s, uint32_t idx);
void swim__order_shuffle(swim__t* s);
/** Drop tombstones older than tombstone_timeout_ms and remap indices. */
void swim__compact(swim__t* s, double now);
/** Give back the slack of doubling growth of the members and order arrays. */
void swim__trim(swim__t* s);
/** A uniformly random view member other than self and `exclude`, or NONE. */
uint32_t swim__random_view_member(swim__t* s, uint32_t exclude);
/** Pick up to k distinct random view members (not self, not exclude). */
uint32_t swim__pick_members(swim__t* s, uint32_t k, uint32_t exclude, uint32_t* out);

/* ------------------------------------------------------------------ */
/* swim-gossip.c: the gossip queue                                     */
/* ------------------------------------------------------------------ */

/** Queue news about member idx (replacing older news about it). */
void swim__enqueue(swim__t* s, uint32_t idx, uint8_t type, uint64_t inc, uint32_t from);
/** Queue the news that member idx entered the view (a JOIN or an ALIVE:
 *  a join, a return from a tombstone). */
void swim__enqueue_entered(swim__t* s, uint32_t idx, uint8_t type, uint64_t inc);
/** Fill e, an entry of m, with news about member idx (its strings kept by
 *  m); false on OOM. */
bool swim__fill_entry(swim__t* s, swim__msg* m, swim__entry* e, uint8_t type, uint32_t idx,
                      uint64_t inc, uint32_t from);
/** Piggyback gossip onto msg (an optional first entry, then the queue).
 *  peer_has_view: the peer's view equals ours (swim__peer_has_view,
 *  swim__msg_has_view): news of members entering the view is counted as
 *  sent but left out. */
void swim__attach_gossip(swim__t* s, swim__msg* msg, const swim__entry* first,
                         bool peer_has_view);
/** Remember the view summary that m's sender (member idx, or NONE) reported. */
void swim__note_peer_view(swim__t* s, uint32_t idx, const swim__msg* m);
/** Member idx last reported a view equal to ours. */
bool swim__peer_has_view(const swim__t* s, uint32_t idx);
/** m's sender reported a view equal to ours (now). */
bool swim__msg_has_view(const swim__t* s, const swim__msg* m);
/** Feedback from a response: entries the peer already knew. */
void swim__apply_feedback(swim__t* s, const pending* pc, uint64_t mask);
/** Remap member indices after compaction (map[old] = new or NONE). */
void swim__gossip_remap(swim__t* s, const uint32_t* map);
/** Tick phase: dedicated gossip to gossip_fanout members when news is queued. */
void swim__gossip_due(swim__t* s, double now);

/* ------------------------------------------------------------------ */
/* swim-suspicion.c: suspicion timers                                  */
/* ------------------------------------------------------------------ */

void swim__free_susp(swim__t* s, member* m);
/** When the machine must look at this suspicion next. */
double swim__susp_wake(const swim__t* s, const suspicion* sp);
/** Count `who` (a suspector's member key) as an independent confirmation. */
void swim__confirm_suspicion(suspicion* sp, uint64_t who);
/** Start suspecting member idx (ALIVE -> SUSPECT). */
void swim__start_suspicion(swim__t* s, uint32_t idx, uint64_t inc, uint64_t from_key,
                           uint32_t from, double now);
/** Our own probe of suspect idx found nobody listening (refused at once,
 *  by us and by the helpers): its deadline comes to at most now +
 *  swim__hard_suspicion_ms. */
void swim__suspicion_harden(swim__t* s, double now, uint32_t idx);
/** A DEAD verdict about member idx (in the view) from another member:
 *  suspect it at inc until at least now + the minimum timeout (a doubt);
 *  true if our state changed. */
bool swim__suspicion_doubt(swim__t* s, double now, uint32_t idx, uint64_t inc);
/** Tick phase: last-chance checks and expired suspicions (-> DEAD). */
void swim__suspicions_due(swim__t* s, double now);

/* ------------------------------------------------------------------ */
/* swim-merge.c: entries -> member state                               */
/* ------------------------------------------------------------------ */

/** Self was declared dead/departed: rejoin (see swim__rejoin_due). */
void swim__mark_removed(swim__t* s, double now);
/** Apply one gossip/state entry. `requeue`: re-gossip changes (false for
 *  state merges). true if the entry changed our state. */
bool swim__apply_entry(swim__t* s, double now, const swim__entry* e, bool requeue);
/** Apply entries; returns the feedback mask (bit i: entry i was not news). */
uint64_t swim__apply_list(swim__t* s, double now, const swim__entry* list, uint32_t n,
                          bool requeue);
/** The sender of a message is alive at its incarnation; *notice (if not NULL)
 *  gets the tombstone we hold for it, if any (true then); *sender its member
 *  index (NONE if none). */
bool swim__note_sender(swim__t* s, double now, const char* addr, uint16_t pid, uint64_t inc,
                       swim__entry* notice, uint32_t* sender);

/* ------------------------------------------------------------------ */
/* swim-probe.c: probe rounds                                          */
/* ------------------------------------------------------------------ */

/** Ping member idx (with the buddy notice if it is suspected). */
void swim__send_ping(swim__t* s, uint8_t kind, uint64_t aux, uint32_t idx, double timeout);
/** Tick phase: start the next probe round if due. */
void swim__probe_due(swim__t* s, double now);
/** Completions of CALL_PROBE_PING / CALL_PROBE_PING_REQ / CALL_RELAY. */
void swim__probe_ping_done(swim__t* s, double now, const pending* pc, bool ok,
                           const swim__msg* resp);
void swim__probe_ping_req_done(swim__t* s, double now, const pending* pc, bool ok,
                               const swim__msg* resp);
void swim__relay_done(swim__t* s, const pending* pc, bool ok, bool refused,
                      const swim__msg* resp);
/** A crash hint about every view member at addr (swim__hint). */
void swim__hint_addr(swim__t* s, double now, const char* addr);
/** A crash hint about one member (refused call): probe it now. */
void swim__hint_member(swim__t* s, double now, uint32_t idx);
/** The direct ping of the probe with this seq was refused (before its
 *  completion is handled). */
void swim__probe_ping_refused(swim__t* s, uint64_t seq);
/** Free the probe slots' addresses (swim__destroy); their heap bytes. */
void   swim__probe_free(swim__t* s);
size_t swim__probe_memory(const swim__t* s);
/** true if the round's probe is in flight. */
bool   swim__probe_busy(const swim__t* s);
/** Answer a PING_REQ: at once into *rep (false), or by relaying a ping to
 *  the target and answering when it completes (true: no reply now). */
bool swim__answer_ping_req(swim__t* s, uint64_t token, const swim__msg* req, uint64_t known,
                           const swim__entry* notice, swim__msg* rep);

/* ------------------------------------------------------------------ */
/* swim-sync.c: state exchange and announcements                       */
/* ------------------------------------------------------------------ */

/** Full state (every member and tombstone, the metadata table) for a state
 *  exchange. */
void swim__attach_state(swim__t* s, swim__msg* m);
/** Completion of a CALL_DIFF: push our entries of the buckets that differ
 *  to the responder. */
void swim__diff_done(swim__t* s, const pending* pc, bool ok, const swim__msg* resp);
/** Push-pull with a peer whose view differs from ours (anti-entropy). */
void swim__maybe_sync(swim__t* s, double now, const swim__msg* m);
/** Tick phases: periodic push-pull, push-pull with a DEAD member. */
void swim__sync_due(swim__t* s, double now);
void swim__reconnect_due(swim__t* s, double now);
/** Announce JOIN to the first members of the view (swim__start; again,
 *  with a doubled call timeout, while no member answered). */
void swim__announce_join(swim__t* s, double now);
/** Completion of a CALL_JOIN (`refused`: it could not even connect). */
void swim__join_done(swim__t* s, double now, bool ok, bool refused, const swim__msg* resp);
/** Tick phase 7: while removed, announce JOIN to a few members each period. */
void swim__rejoin_due(swim__t* s, double now);
/** Completion of a CALL_REJOIN (an answer from our group: back in it). */
void swim__rejoin_done(swim__t* s, bool ok);
/** Announce LEAVE to random members (swim__leave). */
void swim__announce_leave(swim__t* s);
/** Answer an ANNOUNCE into *rep. */
void swim__answer_announce(swim__t* s, double now, const swim__msg* req,
                           const swim__entry* notice, swim__msg* rep);

/* ------------------------------------------------------------------ */
/* swim-meta.c: run-time metadata                                      */
/* ------------------------------------------------------------------ */

/** Attach metadata to msg: every entry (all, for a state exchange) or the
 *  queued news (fewest transmissions first, bounded in count and bytes). */
void swim__meta_attach(swim__t* s, swim__msg* msg, bool all);
/** Merge received entries; `requeue`: gossip what changed our state. */
void swim__meta_apply_list(swim__t* s, double now, const swim__meta_entry* list, uint32_t n,
                           bool requeue);
/** Housekeeping: drop tombstones older than tombstone_timeout_ms. */
void swim__meta_expire(swim__t* s, double now);
/** Free the table (swim__destroy). */
void swim__meta_free(swim__t* s);
/** Heap bytes of the table, as malloc chunks. */
size_t swim__meta_memory(const swim__t* s);

#endif /* FLOCK_SWIM_CORE_INTERNAL_H */
