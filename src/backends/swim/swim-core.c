/*
 * swim-core.c -- SWIM + Lifeguard as a pure state machine (see swim-core.h).
 *
 * Data layout: `members` is an array (self included) of 32-byte entries
 * indexed through an open-addressing hash on (address, provider id);
 * entries are never moved except by compact(), which drops expired
 * tombstones and remaps every index held elsewhere (probe order, gossip
 * queue). Addresses are interned process-wide (swim-intern.h): a member
 * holds a reference, not a copy. Suspicions live in a pool (`susps`)
 * indexed from the member. The gossip queue holds at most one entry per
 * member (the newest news about it).
 */
#include "swim-core.h"
#include "swim-intern.h"
#include "swim-math.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

enum { ST_ALIVE = 1, ST_SUSPECT = 2, ST_DEAD = 3, ST_LEFT = 4 };

enum call_kind {
    CALL_PROBE_PING = 1,
    CALL_PROBE_PING_REQ,
    CALL_RELAY,
    CALL_GOSSIP,
    CALL_JOIN,
    CALL_LEAVE,
    CALL_SYNC,
    CALL_CHECK /* last-chance ping of a suspect before its deadline */
};

#define MAX_CONFIRMERS 16

typedef struct suspicion {
    double   start;
    double   min_ms, max_ms;
    unsigned k;
    unsigned n; /* independent confirmations beyond the first suspector */
    unsigned nconfirmers;
    bool     checked; /* the last-chance ping was sent */
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
} bcast;

/* identity of a gossip entry sent in a request, for the feedback in its
 * response (rumor mongering with feedback, Demers et al. 1987) */
typedef struct sent_ref {
    const char* addr; /* interned: equal pointers = same address */
    uint64_t    inc;
    uint32_t    member;
    uint16_t    pid;
    uint8_t     type, pos;
} sent_ref;

typedef struct pending {
    uint64_t  id;
    uint64_t  aux;  /* probe seq or request token */
    uint64_t  mask; /* RELAY: feedback for the PING_REQ being relayed */
    sent_ref* refs; /* entries piggybacked on the request */
    uint8_t   nrefs;
    uint8_t   kind;
} pending;

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
    uint32_t* slots; /* hash: member index + 1, 0 = empty */
    uint32_t  capslots;
    uint32_t  self;
    uint32_t  nview; /* ALIVE + SUSPECT, self included */
    uint64_t  view_digest;      /* XOR of the keys of the members in the view */
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

    pending* calls;
    uint32_t ncalls, capcalls;
    sent_ref* last_refs; /* of the last attach_gossip (owned until add_call takes it) */
    uint8_t   nlast_refs;
    bool      last_refs_valid;
    uint64_t next_call_id;

    int    awareness;
    bool   started, leaving;
    int    join_pending;
    bool   join_ok, join_started;
    double next_probe, next_gossip, next_sync, next_reconnect, next_purge;

    struct {
        bool     active;
        uint64_t seq;
        char*    addr;
        uint16_t pid;
        int      outstanding;
        int      expected_nacks, nacks;
        bool     ping_failed;
    } probe;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */

static void slog(swim__t* s, int level, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void slog(swim__t* s, int level, const char* fmt, ...)
{
    if (!s->log) return;
    char    buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->log(s->log_ctx, level, buf);
}

static uint64_t rng_next(swim__t* s)
{
    /* xorshift64* */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t rng_below(swim__t* s, uint32_t n) { return n ? (uint32_t)(rng_next(s) % n) : 0; }

static uint64_t hash_member(const char* addr, uint16_t pid)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char* p = (const unsigned char*)addr; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= pid;
    h *= 1099511628211ULL;
    h ^= h >> 29;
    return h ? h : 1;
}

static bool valid_addr(const char* a)
{
    if (!a || !a[0]) return false;
    return strnlen(a, SWIM_MAX_ADDR_LEN + 1) <= SWIM_MAX_ADDR_LEN;
}

static bool grow(void** p, uint32_t* cap, uint32_t need, size_t elem)
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

static bool growz(void** p, size_t* cap, size_t need, size_t elem)
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

void swim__entry_clear(swim__entry* e)
{
    if (!e) return;
    free(e->addr);
    free(e->from_addr);
    memset(e, 0, sizeof *e);
}

void swim__msg_clear(swim__msg* m)
{
    if (!m) return;
    free(m->sender_addr);
    free(m->target_addr);
    for (uint32_t i = 0; i < m->ngossip; i++) swim__entry_clear(&m->gossip[i]);
    free(m->gossip);
    for (uint32_t i = 0; i < m->nstate; i++) swim__entry_clear(&m->state[i]);
    free(m->state);
    memset(m, 0, sizeof *m);
}

void swim__outbox_clear(swim__outbox* o)
{
    for (size_t i = 0; i < o->nsends; i++) {
        free(o->sends[i].addr);
        swim__msg_clear(&o->sends[i].msg);
    }
    for (size_t i = 0; i < o->nreplies; i++) swim__msg_clear(&o->replies[i].msg);
    for (size_t i = 0; i < o->nevents; i++) free(o->events[i].addr);
    o->nsends = o->nreplies = o->nevents = 0;
}

void swim__outbox_free(swim__outbox* o)
{
    swim__outbox_clear(o);
    free(o->sends);
    free(o->replies);
    free(o->events);
    memset(o, 0, sizeof *o);
}

/* ------------------------------------------------------------------ */
/* configuration                                                       */
/* ------------------------------------------------------------------ */

void swim__config_default(swim__config* c)
{
    c->protocol_period_ms      = 1000.0;
    c->ping_timeout_ms         = 200.0;
    c->ping_req_timeout_ms     = 500.0;
    c->ping_req_members        = 3;
    c->suspicion_timeout_ms    = 5000.0;
    c->suspicion_mult          = 0.0;
    c->lifeguard_suspicion     = true;
    c->suspicion_max_mult      = 6.0;
    c->suspicion_confirmations = 2;
    c->lifeguard_local_health  = true;
    c->local_health_max        = 8;
    c->lifeguard_buddy         = true;
    c->gossip_interval_ms      = 200.0;
    c->gossip_fanout           = 3;
    c->gossip_max_entries      = 64;
    c->gossip_retransmit_mult  = 3;
    c->announce_timeout_ms     = 1000.0;
    c->sync_interval_ms        = 30000.0;
    c->reconnect_interval_ms   = 10000.0;
    c->tombstone_timeout_ms    = 600000.0;
    c->anti_entropy            = true;
}

static double clampd(double v, double lo, double hi, double dflt)
{
    if (!(v == v)) return dflt; /* NaN */
    if (v < lo) return lo;
    if (v > hi) return hi;
    return v;
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void swim__config_sanitize(swim__config* c)
{
    const double day = 86400000.0;
    c->protocol_period_ms   = clampd(c->protocol_period_ms, 1.0, day, 1000.0);
    c->ping_timeout_ms      = clampd(c->ping_timeout_ms, 1.0, day, 200.0);
    c->ping_req_timeout_ms  = clampd(c->ping_req_timeout_ms, 1.0, day, 500.0);
    /* ping_req_members: any value is accepted; swim__ping_req_count clamps */
    c->suspicion_timeout_ms = clampd(c->suspicion_timeout_ms, 1.0, day, 5000.0);
    c->suspicion_mult       = clampd(c->suspicion_mult, 0.0, 1000.0, 0.0);
    c->suspicion_max_mult   = clampd(c->suspicion_max_mult, 1.0, 1000.0, 6.0);
    c->suspicion_confirmations = clampi(c->suspicion_confirmations, 0, MAX_CONFIRMERS - 1);
    c->local_health_max        = clampi(c->local_health_max, 1, 1000);
    c->gossip_interval_ms      = clampd(c->gossip_interval_ms, 0.0, day, 200.0);
    c->gossip_fanout           = clampi(c->gossip_fanout, 0, 64);
    c->gossip_max_entries      = clampi(c->gossip_max_entries, 1, SWIM_MAX_GOSSIP_WIRE);
    c->gossip_retransmit_mult  = clampi(c->gossip_retransmit_mult, 1, 100);
    c->announce_timeout_ms     = clampd(c->announce_timeout_ms, 1.0, day, 1000.0);
    c->sync_interval_ms        = clampd(c->sync_interval_ms, 0.0, day, 30000.0);
    c->reconnect_interval_ms   = clampd(c->reconnect_interval_ms, 0.0, day, 10000.0);
    c->tombstone_timeout_ms    = clampd(c->tombstone_timeout_ms, 0.0, 30 * day, 600000.0);
}

/* ------------------------------------------------------------------ */
/* member table                                                        */
/* ------------------------------------------------------------------ */

static uint64_t member_key(const member* m) { return hash_member(m->addr, m->pid); }

static float rel_time(const swim__t* s, double now) { return (float)(now - s->t0); }

/* The hash is linear probing over a table of any size (not a power of
 * two, so it can stay at 1.25-1.5 slots per member): the home slot of a
 * hash is its high 32 bits scaled to the table size. */
static uint32_t slot_home(const swim__t* s, uint64_t h)
{
    return (uint32_t)(((h >> 32) * (uint64_t)s->capslots) >> 32);
}

static uint32_t slot_next(const swim__t* s, uint32_t i) { return i + 1 == s->capslots ? 0 : i + 1; }

static uint32_t find_member(const swim__t* s, const char* addr, uint16_t pid)
{
    if (!s->capslots || !addr) return NONE;
    uint64_t h = hash_member(addr, pid);
    for (uint32_t i = slot_home(s, h);; i = slot_next(s, i)) {
        uint32_t v = s->slots[i];
        if (!v) return NONE;
        const member* m = &s->members[v - 1];
        if (m->pid == pid && (m->addr == addr || strcmp(m->addr, addr) == 0)) return v - 1;
    }
}

static void slot_insert(swim__t* s, uint32_t idx)
{
    uint32_t i = slot_home(s, member_key(&s->members[idx]));
    while (s->slots[i]) i = slot_next(s, i);
    s->slots[i] = idx + 1;
}

/** true if n members exceed the hash's load limit (4/5) */
static bool slots_full(const swim__t* s, uint32_t n)
{
    return (uint64_t)n * 5 > (uint64_t)s->capslots * 4;
}

/** Rebuild the hash for `need` members at load 2/3 (grows by 1.2x steps). */
static bool rehash(swim__t* s, uint32_t need)
{
    uint32_t cap = need + need / 2 + 8;
    uint32_t* ns = calloc(cap, sizeof *ns);
    if (!ns) return false;
    free(s->slots);
    s->slots    = ns;
    s->capslots = cap;
    for (uint32_t i = 0; i < s->nmembers; i++) slot_insert(s, i);
    return true;
}

static void order_add(swim__t* s, uint32_t idx)
{
    if (!grow((void**)&s->order, &s->caporder, s->norder + 1, sizeof *s->order)) return;
    s->order[s->norder++] = idx;
    /* insert at a random position (memberlist's trick), keeping the round fair */
    uint32_t j = rng_below(s, s->norder);
    uint32_t t = s->order[j];
    s->order[j]              = idx;
    s->order[s->norder - 1]  = t;
}

static void order_shuffle(swim__t* s)
{
    for (uint32_t i = s->norder; i > 1; i--) {
        uint32_t j   = rng_below(s, i);
        uint32_t t   = s->order[i - 1];
        s->order[i - 1] = s->order[j];
        s->order[j]  = t;
    }
}

static void view_enter(swim__t* s, uint32_t idx, double now)
{
    s->nview++;
    s->view_digest ^= member_key(&s->members[idx]);
    s->last_view_change = now;
}

static void view_exit(swim__t* s, uint32_t idx, double now)
{
    s->nview--;
    s->view_digest ^= member_key(&s->members[idx]);
    s->last_view_change = now;
}

/** Add a member (no event, no gossip). Returns its index or NONE. */
static uint32_t add_member(swim__t* s, double now, const char* addr, uint16_t pid,
                           uint64_t inc, uint8_t status)
{
    const char* copy = NULL;
    if (!valid_addr(addr)) return NONE;
    if (!grow((void**)&s->members, &s->capmembers, s->nmembers + 1, sizeof *s->members))
        return NONE;
    if (slots_full(s, s->nmembers + 1) && !rehash(s, s->nmembers + 1)) return NONE;
    copy = swim__intern(addr);
    if (!copy) return NONE;
    uint32_t idx = s->nmembers++;
    member*  m   = &s->members[idx];
    memset(m, 0, sizeof *m);
    m->addr   = copy;
    m->pid    = pid;
    m->inc    = inc;
    m->status = status;
    m->since  = rel_time(s, now);
    m->bq     = NONE;
    m->susp   = NONE;
    slot_insert(s, idx);
    if (status == ST_ALIVE || status == ST_SUSPECT) {
        view_enter(s, idx, now);
        order_add(s, idx);
    } else {
        s->ntomb++;
    }
    return idx;
}

static bool in_view(const member* m) { return m->status == ST_ALIVE || m->status == ST_SUSPECT; }

/* ------------------------------------------------------------------ */
/* outbox                                                              */
/* ------------------------------------------------------------------ */

static void emit_event(swim__t* s, int type, const member* m)
{
    swim__outbox* o = &s->out;
    if (!growz((void**)&o->events, &o->capevents, o->nevents + 1, sizeof *o->events)) return;
    char* a = strdup(m->addr);
    if (!a) return;
    o->events[o->nevents].type = type;
    o->events[o->nevents].addr = a;
    o->events[o->nevents].pid  = m->pid;
    o->nevents++;
}

/** Forget the entries of the last attach_gossip (no call will carry them). */
static void drop_last_refs(swim__t* s)
{
    free(s->last_refs);
    s->last_refs       = NULL;
    s->nlast_refs      = 0;
    s->last_refs_valid = false;
}

/** Record a pending call; returns its id (0 on allocation failure). */
static uint64_t add_call(swim__t* s, uint8_t kind, uint64_t aux)
{
    if (!grow((void**)&s->calls, &s->capcalls, s->ncalls + 1, sizeof *s->calls)) return 0;
    uint64_t id = ++s->next_call_id;
    pending* pc = &s->calls[s->ncalls];
    memset(pc, 0, sizeof *pc);
    pc->id   = id;
    pc->aux  = aux;
    pc->kind = kind;
    if (s->last_refs_valid && s->nlast_refs > 0) {
        pc->refs     = s->last_refs; /* moved */
        pc->nrefs    = s->nlast_refs;
        s->last_refs = NULL;
    }
    drop_last_refs(s);
    s->ncalls++;
    return id;
}

static bool take_call(swim__t* s, uint64_t id, pending* out)
{
    for (uint32_t i = 0; i < s->ncalls; i++) {
        if (s->calls[i].id == id) {
            *out        = s->calls[i];
            s->calls[i] = s->calls[--s->ncalls];
            if (s->ncalls == 0 && s->capcalls > 8) {
                /* back to idle after a burst: keep room for a probe only */
                pending* np = realloc(s->calls, 8 * sizeof *np);
                if (np) {
                    s->calls    = np;
                    s->capcalls = 8;
                }
            }
            return true;
        }
    }
    return false;
}

/** Queue a call to (addr, pid). Takes ownership of *msg (cleared on failure
 *  too). Returns false if nothing was queued. */
static bool emit_send(swim__t* s, uint8_t kind, uint64_t aux, const char* addr,
                      uint16_t pid, double timeout_ms, swim__msg* msg)
{
    swim__outbox* o    = &s->out;
    char*         a    = NULL;
    uint64_t      id   = 0;
    bool          ok   = false;
    if (!growz((void**)&o->sends, &o->capsends, o->nsends + 1, sizeof *o->sends)) goto finish;
    a = strdup(addr);
    if (!a) goto finish;
    id = add_call(s, kind, aux);
    if (!id) goto finish;
    swim__send* sd = &o->sends[o->nsends++];
    sd->call_id    = id;
    sd->addr       = a;
    sd->pid        = pid;
    sd->timeout_ms = timeout_ms;
    sd->msg        = *msg;
    memset(msg, 0, sizeof *msg);
    a  = NULL;
    ok = true;
finish:
    free(a);
    if (!ok) swim__msg_clear(msg);
    return ok;
}

static void emit_reply(swim__t* s, uint64_t token, swim__msg* msg)
{
    swim__outbox* o    = &s->out;
    drop_last_refs(s);
    if (!growz((void**)&o->replies, &o->capreplies, o->nreplies + 1, sizeof *o->replies)) {
        /* the driver fails requests that get no reply when it drains */
        swim__msg_clear(msg);
        return;
    }
    o->replies[o->nreplies].token = token;
    o->replies[o->nreplies].msg   = *msg;
    memset(msg, 0, sizeof *msg);
    o->nreplies++;
}

/* ------------------------------------------------------------------ */
/* gossip queue                                                        */
/* ------------------------------------------------------------------ */

static void bq_remove(swim__t* s, uint32_t i)
{
    s->members[s->bq[i].member].bq = NONE;
    s->nbq--;
    if (i != s->nbq) {
        s->bq[i]                       = s->bq[s->nbq];
        s->members[s->bq[i].member].bq = i;
    }
}

/** Queue news about member idx (replacing older news about it). */
static void enqueue(swim__t* s, uint32_t idx, uint8_t type, uint64_t inc, uint32_t from)
{
    member* m = &s->members[idx];
    uint32_t i = m->bq;
    if (i == NONE) {
        if (!grow((void**)&s->bq, &s->capbq, s->nbq + 1, sizeof *s->bq)) return;
        i     = s->nbq++;
        m->bq = i;
    }
    s->bq[i].member    = idx;
    s->bq[i].type      = type;
    s->bq[i].inc       = inc;
    s->bq[i].from      = from;
    s->bq[i].transmits = 0;
    s->bq[i].seq       = ++s->bq_seq;
}

static bool fill_entry(swim__t* s, swim__entry* e, uint8_t type, uint32_t idx, uint64_t inc,
                       uint32_t from)
{
    memset(e, 0, sizeof *e);
    e->type = type;
    e->pid  = s->members[idx].pid;
    e->inc  = inc;
    e->addr = strdup(s->members[idx].addr);
    if (!e->addr) return false;
    if (type == SWIM_E_SUSPECT) {
        uint32_t f   = from == NONE ? s->self : from;
        e->from_pid  = s->members[f].pid;
        e->from_addr = strdup(s->members[f].addr);
        if (!e->from_addr) {
            swim__entry_clear(e);
            return false;
        }
    }
    return true;
}

/**
 * Piggyback gossip onto msg: an optional first entry (buddy system / "you
 * are dead" notice), then up to gossip_max_entries queued entries with the
 * fewest transmissions (newest first among equals). Exhausted entries leave
 * the queue.
 */
static void bq_purge(swim__t* s);

/**
 * Feedback from a response: entries the peer already knew are widespread;
 * once an entry has used a third of its transmission budget, each such
 * report costs it another third, so a rumor stops after a few redundant
 * deliveries instead of running its full log-scaled budget (this removes
 * the long gossip drain after a bootstrap of a large group).
 */
static void apply_feedback(swim__t* s, const pending* pc, uint64_t mask)
{
    if (!mask || !pc->nrefs) return;
    unsigned limit   = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    unsigned penalty = limit / 3 > 1 ? limit / 3 : 1;
    for (uint8_t i = 0; i < pc->nrefs; i++) {
        const sent_ref* r = &pc->refs[i];
        if (r->pos >= 64 || !(mask & (1ULL << r->pos))) continue;
        if (r->member >= s->nmembers || s->members[r->member].addr != r->addr ||
            s->members[r->member].pid != r->pid)
            continue;
        uint32_t q = s->members[r->member].bq;
        if (q == NONE || s->bq[q].type != r->type || s->bq[q].inc != r->inc) continue;
        /* the first third of the budget always goes out (initial spread) */
        if (s->bq[q].transmits >= limit / 3) s->bq[q].transmits += penalty;
    }
    bq_purge(s);
}

static bool bq_better(const bcast* a, const bcast* b)
{
    return a->transmits < b->transmits || (a->transmits == b->transmits && a->seq > b->seq);
}

static void attach_gossip(swim__t* s, swim__msg* msg, const swim__entry* first)
{
    uint32_t lim  = (uint32_t)s->cfg.gossip_max_entries;
    uint32_t room = lim - (first ? 1 : 0);
    uint32_t nsel = 0;
    uint32_t sel_small[SWIM_MAX_GOSSIP_WIRE];
    uint32_t* sel = sel_small;
    uint32_t* tmp = NULL;
    if (room > 0 && s->nbq <= room) {
        for (uint32_t i = 0; i < s->nbq; i++) sel[nsel++] = i;
    } else if (room > 0) {
        /* quickselect the `room` best entries: O(queue) per message */
        tmp = malloc((size_t)s->nbq * sizeof *tmp);
        if (tmp) {
            for (uint32_t i = 0; i < s->nbq; i++) tmp[i] = i;
            uint32_t lo = 0, hi = s->nbq - 1, k = room - 1;
            while (lo < hi) {
                uint32_t pivot = tmp[lo + rng_below(s, hi - lo + 1)];
                bcast    pv    = s->bq[pivot];
                uint32_t i = lo, j = hi;
                while (i <= j) {
                    while (bq_better(&s->bq[tmp[i]], &pv)) i++;
                    while (bq_better(&pv, &s->bq[tmp[j]])) j--;
                    if (i <= j) {
                        uint32_t t = tmp[i];
                        tmp[i]     = tmp[j];
                        tmp[j]     = t;
                        i++;
                        if (j == 0) break;
                        j--;
                    }
                }
                if (k <= j) hi = j;
                else if (k >= i) lo = i;
                else break;
            }
            sel  = tmp;
            nsel = room;
        }
    }
    uint32_t total = nsel + (first ? 1 : 0);
    drop_last_refs(s);
    if (total == 0 || !(msg->gossip = calloc(total, sizeof *msg->gossip))) {
        free(tmp);
        return;
    }
    uint32_t n = 0;
    if (first) {
        swim__entry* e = &msg->gossip[n];
        *e             = *first;
        e->addr        = strdup(first->addr);
        e->from_addr   = first->from_addr ? strdup(first->from_addr) : NULL;
        if (e->addr && (!first->from_addr || e->from_addr))
            n++;
        else
            swim__entry_clear(e);
    }
    s->last_refs       = nsel ? malloc(nsel * sizeof *s->last_refs) : NULL;
    s->last_refs_valid = s->last_refs != NULL;
    for (uint32_t j = 0; j < nsel; j++) {
        bcast* b = &s->bq[sel[j]];
        if (fill_entry(s, &msg->gossip[n], b->type, b->member, b->inc, b->from)) {
            if (s->last_refs) {
                sent_ref* r = &s->last_refs[s->nlast_refs++];
                r->addr     = s->members[b->member].addr;
                r->pid      = s->members[b->member].pid;
                r->inc      = b->inc;
                r->member   = b->member;
                r->type     = b->type;
                r->pos      = (uint8_t)n;
            }
            n++;
        }
        b->transmits++;
    }
    msg->ngossip = n;
    free(tmp);
    bq_purge(s);
}

/** Drop exhausted entries; give back a drained queue's memory. */
static void bq_purge(swim__t* s)
{
    unsigned limit = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    for (uint32_t i = 0; i < s->nbq;) {
        if (s->bq[i].transmits >= limit)
            bq_remove(s, i);
        else
            i++;
    }
    if (s->nbq == 0 && s->capbq > 0) {
        /* a drained queue gives its memory back (a bootstrap burst takes O(n)) */
        free(s->bq);
        s->bq    = NULL;
        s->capbq = 0;
    }
}

/* ------------------------------------------------------------------ */
/* state changes                                                       */
/* ------------------------------------------------------------------ */

/** The member's suspicion, or NULL (valid until the next susp_alloc). */
static suspicion* msusp(const swim__t* s, const member* m)
{
    return m->susp == NONE ? NULL : &s->susps[m->susp];
}

/** A zeroed suspicion from the pool; NONE on allocation failure. */
static uint32_t susp_alloc(swim__t* s)
{
    if (s->susp_free == NONE) {
        uint32_t   nc = s->capsusps ? s->capsusps * 2 : 4;
        suspicion* ns = realloc(s->susps, (size_t)nc * sizeof *ns);
        if (!ns) return NONE;
        s->susps      = ns;
        uint32_t* nn  = realloc(s->susp_next, (size_t)nc * sizeof *nn);
        if (!nn) return NONE;
        s->susp_next  = nn;
        for (uint32_t i = nc; i > s->capsusps; i--) {
            s->susp_next[i - 1] = s->susp_free;
            s->susp_free        = i - 1;
        }
        s->capsusps = nc;
    }
    uint32_t i   = s->susp_free;
    s->susp_free = s->susp_next[i];
    memset(&s->susps[i], 0, sizeof s->susps[i]);
    return i;
}

static void free_susp(swim__t* s, member* m)
{
    if (m->susp == NONE) return;
    s->susp_next[m->susp] = s->susp_free;
    s->susp_free          = m->susp;
    m->susp               = NONE;
    s->nsuspect--;
    if (s->nsuspect == 0 && s->capsusps > 16) {
        /* a burst of suspicions is over: give the pool back */
        free(s->susps);
        free(s->susp_next);
        s->susps     = NULL;
        s->susp_next = NULL;
        s->capsusps  = 0;
        s->susp_free = NONE;
    }
}

static void leave_view(swim__t* s, member* m, uint8_t status, double now)
{
    free_susp(s, m);
    m->status = status;
    m->since  = rel_time(s, now);
    view_exit(s, (uint32_t)(m - s->members), now);
    s->ntomb++;
}

static void refute(swim__t* s, uint64_t seen_inc, bool health_penalty)
{
    member* me = &s->members[s->self];
    if (seen_inc >= me->inc) me->inc = seen_inc + 1;
    else me->inc++;
    enqueue(s, s->self, SWIM_E_ALIVE, me->inc, NONE);
    if (health_penalty && s->cfg.lifeguard_local_health)
        s->awareness = swim__awareness_apply(s->awareness, 1, (int)s->cfg.local_health_max);
}

static double susp_deadline(const suspicion* sp)
{
    return sp->start + swim__suspicion_timeout_ms(sp->n, sp->k, sp->min_ms, sp->max_ms);
}

static double scaled(const swim__t* s, double ms);

/*
 * Last-chance check (with the buddy system): a ping timeout before a
 * suspicion expires, the member pings the suspect directly, telling it
 * that it is suspected. A live suspect refutes on the spot and its ack
 * carries the new incarnation, which clears the suspicion before the
 * deadline; a dead one does not answer and is declared at the deadline as
 * before (no detection delay). This closes the hole gossip leaves open in
 * large, loaded groups: a member that missed the refutation's gossip used
 * to declare a live member dead on its own (seen at N = 1024).
 */
static double check_lead(const swim__t* s, const suspicion* sp)
{
    double lead = scaled(s, s->cfg.ping_timeout_ms);
    return lead < 0.5 * sp->min_ms ? lead : 0.5 * sp->min_ms;
}

/* when the machine must look at this suspicion next */
static double susp_wake(const swim__t* s, const suspicion* sp)
{
    double dl = susp_deadline(sp);
    if (s->cfg.lifeguard_buddy && !sp->checked) dl -= check_lead(s, sp);
    return dl;
}

/* suspectors are told apart by 32 bits of their hash: a collision (odds
 * ~k^2/2^33 for k suspectors) only counts two confirmations as one */
static uint32_t fold32(uint64_t key) { return (uint32_t)(key ^ (key >> 32)); }

static void confirm_suspicion(suspicion* sp, uint64_t who)
{
    uint32_t w = fold32(who);
    for (unsigned i = 0; i < sp->nconfirmers; i++)
        if (sp->confirmers[i] == w) return;
    if (sp->nconfirmers < MAX_CONFIRMERS) sp->confirmers[sp->nconfirmers++] = w;
    if (sp->n < sp->k) sp->n++;
}

/** Start suspecting member idx (ALIVE -> SUSPECT). */
static void start_suspicion(swim__t* s, uint32_t idx, uint64_t inc, uint64_t from_key,
                            uint32_t from, double now)
{
    member* m = &s->members[idx];
    free_susp(s, m);
    m->status = ST_SUSPECT;
    m->inc    = inc;
    m->since  = rel_time(s, now);
    uint32_t si = susp_alloc(s);
    if (si != NONE) {
        suspicion* sp = &s->susps[si];
        sp->start  = now;
        sp->min_ms = swim__suspicion_min_ms(s->cfg.suspicion_timeout_ms, s->cfg.suspicion_mult,
                                            s->nview, s->cfg.protocol_period_ms);
        if (s->cfg.lifeguard_suspicion) {
            sp->k      = swim__suspicion_expected((unsigned)s->cfg.suspicion_confirmations,
                                                  s->nview);
            sp->max_ms = sp->min_ms * s->cfg.suspicion_max_mult;
        } else {
            sp->k      = 0;
            sp->max_ms = sp->min_ms;
        }
        sp->confirmers[0] = fold32(from_key);
        sp->nconfirmers   = 1;
        sp->checked       = false;
        m->susp           = si;
        s->nsuspect++;
        s->next_susp = fmin(s->next_susp, susp_wake(s, sp));
    }
    enqueue(s, idx, SWIM_E_SUSPECT, inc, from);
}

/**
 * Apply one gossip/state entry. `requeue`: re-gossip changes (false for
 * state merges, whose content is not news). Returns true if the entry
 * changed our state.
 */
static bool apply_entry(swim__t* s, double now, const swim__entry* e, bool requeue)
{
    if (!valid_addr(e->addr) || e->type > SWIM_E_MAX) return false;
    uint32_t idx = find_member(s, e->addr, e->pid);
    bool alive_kind = e->type == SWIM_E_ALIVE || e->type == SWIM_E_JOIN;
    bool dead_kind  = e->type == SWIM_E_CONFIRM || e->type == SWIM_E_LEAVE;

    if (idx == s->self) {
        member* me = &s->members[s->self];
        if (s->leaving) return false;
        if (e->type == SWIM_E_SUSPECT && e->inc >= me->inc) {
            slog(s, SWIM_LOG_DEBUG, "refuting suspicion (incarnation %llu)",
                 (unsigned long long)e->inc);
            refute(s, e->inc, true);
            return true;
        }
        if (dead_kind && e->inc >= me->inc) {
            refute(s, e->inc, true);
            slog(s, SWIM_LOG_WARN,
                 "this member was declared %s by the group (incarnation %llu); rejoining "
                 "with incarnation %llu",
                 e->type == SWIM_E_LEAVE ? "departed" : "dead", (unsigned long long)e->inc,
                 (unsigned long long)me->inc);
            return true;
        }
        if (alive_kind && e->inc > me->inc) {
            refute(s, e->inc, false);
            return true;
        }
        return false;
    }

    if (idx == NONE) {
        if (alive_kind) {
            idx = add_member(s, now, e->addr, e->pid, e->inc, ST_ALIVE);
            if (idx == NONE) return false;
            emit_event(s, SWIM_EV_JOINED, &s->members[idx]);
            if (requeue) enqueue(s, idx, SWIM_E_ALIVE, e->inc, NONE);
            return true;
        }
        if (dead_kind) {
            /* remember the tombstone so stale ALIVE gossip cannot add it later */
            uint8_t st = e->type == SWIM_E_LEAVE ? ST_LEFT : ST_DEAD;
            idx        = add_member(s, now, e->addr, e->pid, e->inc, st);
            if (idx == NONE) return false;
            if (requeue) enqueue(s, idx, e->type, e->inc, NONE);
            return true;
        }
        return false; /* SUSPECT about an unknown member: nothing to suspect */
    }

    member* m = &s->members[idx];
    if (alive_kind) {
        if (e->inc <= m->inc) return false;
        bool was_out = !in_view(m);
        if (was_out) {
            s->ntomb--;
            view_enter(s, idx, now);
            order_add(s, idx);
            m = &s->members[idx];
        }
        free_susp(s, m);
        m->status = ST_ALIVE;
        m->inc    = e->inc;
        m->since  = rel_time(s, now);
        if (was_out) emit_event(s, SWIM_EV_JOINED, m);
        if (requeue || was_out) enqueue(s, idx, SWIM_E_ALIVE, e->inc, NONE);
        return true;
    }
    if (e->type == SWIM_E_SUSPECT) {
        if (!in_view(m) || e->inc < m->inc) return false;
        uint64_t fkey = e->from_addr && valid_addr(e->from_addr)
                            ? hash_member(e->from_addr, e->from_pid)
                            : 0;
        uint32_t from = e->from_addr ? find_member(s, e->from_addr, e->from_pid) : NONE;
        if (m->status == ST_ALIVE || e->inc > m->inc) {
            /* queued even in a state merge: the suspect must hear it to refute */
            start_suspicion(s, idx, e->inc, fkey, from, now);
            if (s->cfg.lifeguard_suspicion && fkey != s->self_key) s->probe_first = idx;
            return true;
        }
        /* already suspected at this incarnation: an independent confirmation? */
        suspicion* sp = msusp(s, m);
        if (sp && fkey) {
            unsigned before = sp->n;
            confirm_suspicion(sp, fkey);
            s->next_susp = fmin(s->next_susp, susp_wake(s, sp));
            if (sp->n != before) {
                if (requeue) enqueue(s, idx, SWIM_E_SUSPECT, e->inc, from);
                return true;
            }
        }
        return false;
    }
    /* CONFIRM / LEAVE */
    uint8_t st = e->type == SWIM_E_LEAVE ? ST_LEFT : ST_DEAD;
    if (in_view(m)) {
        if (e->inc < m->inc) return false;
        m->inc = e->inc;
        leave_view(s, m, st, now);
        emit_event(s, st == ST_LEFT ? SWIM_EV_LEFT : SWIM_EV_DIED, m);
        enqueue(s, idx, e->type, e->inc, NONE);
        return true;
    }
    if (e->inc > m->inc) {
        m->inc   = e->inc;
        m->since = rel_time(s, now);
        if (requeue) enqueue(s, idx, e->type, e->inc, NONE);
        return true;
    }
    return false;
}

/** Apply entries; returns the feedback mask (bit i: entry i was not news). */
static uint64_t apply_list(swim__t* s, double now, const swim__entry* list, uint32_t n,
                           bool requeue)
{
    uint64_t mask = 0;
    uint32_t lim  = n < SWIM_MAX_STATE_WIRE ? n : SWIM_MAX_STATE_WIRE;
    for (uint32_t i = 0; i < lim; i++)
        if (!apply_entry(s, now, &list[i], requeue) && i < 64) mask |= 1ULL << i;
    return mask;
}

/**
 * Note the sender of a message: it is evidently alive at its incarnation.
 * If we hold a tombstone that the sender's incarnation does not beat, fill
 * *notice with the tombstone so the reply tells the sender it is dead.
 */
static bool note_sender(swim__t* s, double now, const char* addr, uint16_t pid, uint64_t inc,
                        swim__entry* notice)
{
    if (!valid_addr(addr)) return false;
    swim__entry e = {.type = SWIM_E_ALIVE, .pid = pid, .inc = inc, .addr = (char*)addr};
    apply_entry(s, now, &e, true);
    uint32_t idx = find_member(s, addr, pid);
    if (notice && idx != NONE && idx != s->self && !in_view(&s->members[idx])) {
        const member* m = &s->members[idx];
        memset(notice, 0, sizeof *notice);
        notice->type = m->status == ST_LEFT ? SWIM_E_LEAVE : SWIM_E_CONFIRM;
        notice->pid  = m->pid;
        notice->inc  = m->inc;
        notice->addr = (char*)m->addr; /* borrowed: attach_gossip copies it */
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* messages                                                            */
/* ------------------------------------------------------------------ */

static bool init_msg(swim__t* s, swim__msg* m, uint8_t kind)
{
    memset(m, 0, sizeof *m);
    m->kind        = kind;
    m->sender_addr = strdup(s->members[s->self].addr);
    m->sender_pid  = s->members[s->self].pid;
    m->sender_inc  = s->members[s->self].inc;
    m->sender_view_size   = s->nview;
    m->sender_view_digest = s->view_digest;
    return m->sender_addr != NULL;
}

/** An announcement (JOIN / LEAVE / SYNC) about this member itself.
 *  false (and m cleared) on allocation failure. */
static bool init_self_announce(swim__t* s, swim__msg* m, uint8_t ann_type)
{
    if (!init_msg(s, m, SWIM_MSG_ANNOUNCE)) return false;
    m->ann_type    = ann_type;
    m->target_addr = strdup(s->members[s->self].addr);
    m->target_pid  = s->members[s->self].pid;
    m->target_inc  = s->members[s->self].inc;
    if (!m->target_addr) {
        swim__msg_clear(m);
        return false;
    }
    return true;
}

/** Full state (every member and tombstone) for a state exchange. */
static void attach_state(swim__t* s, swim__msg* m)
{
    uint32_t n = s->nmembers < SWIM_MAX_STATE_WIRE ? s->nmembers : SWIM_MAX_STATE_WIRE;
    m->state   = calloc(n ? n : 1, sizeof *m->state);
    if (!m->state) return;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const member* mb = &s->members[i];
        uint8_t       t  = mb->status == ST_ALIVE     ? SWIM_E_ALIVE
                           : mb->status == ST_SUSPECT ? SWIM_E_SUSPECT
                           : mb->status == ST_LEFT    ? SWIM_E_LEAVE
                                                      : SWIM_E_CONFIRM;
        if (fill_entry(s, &m->state[k], t, i, mb->inc, NONE)) k++;
    }
    m->nstate = k;
}

static double scaled(const swim__t* s, double ms)
{
    return s->cfg.lifeguard_local_health ? swim__awareness_scale(ms, s->awareness) : ms;
}

/** A uniformly random view member other than self and `exclude`, or NONE. */
static uint32_t random_view_member(swim__t* s, uint32_t exclude)
{
    uint32_t cand = s->nview - 1 - (exclude != NONE && in_view(&s->members[exclude]) ? 1 : 0);
    if (s->nview <= 1 || cand == 0 || s->norder == 0) return NONE;
    for (int tries = 0; tries < 64; tries++) {
        uint32_t idx = s->order[rng_below(s, s->norder)];
        if (idx != s->self && idx != exclude && in_view(&s->members[idx])) return idx;
    }
    uint32_t start = rng_below(s, s->norder);
    for (uint32_t j = 0; j < s->norder; j++) {
        uint32_t idx = s->order[(start + j) % s->norder];
        if (idx != s->self && idx != exclude && in_view(&s->members[idx])) return idx;
    }
    return NONE;
}

/** Pick up to k distinct random view members (not self, not exclude). */
static uint32_t pick_members(swim__t* s, uint32_t k, uint32_t exclude, uint32_t* out)
{
    uint32_t n = 0;
    for (uint32_t tries = 0; n < k && tries < 8 * k + 16; tries++) {
        uint32_t idx = random_view_member(s, exclude);
        if (idx == NONE) break;
        bool dup = false;
        for (uint32_t j = 0; j < n; j++) dup |= out[j] == idx;
        if (!dup) out[n++] = idx;
    }
    return n;
}

static void send_ping(swim__t* s, uint8_t kind, uint64_t aux, uint32_t idx, double timeout)
{
    swim__msg   msg;
    swim__entry buddy;
    bool        have_buddy = false;
    if (!init_msg(s, &msg, SWIM_MSG_PING)) return;
    const member* m = &s->members[idx];
    if (s->cfg.lifeguard_buddy && m->status == ST_SUSPECT) {
        /* buddy system: tell the suspect directly so it can refute at once */
        memset(&buddy, 0, sizeof buddy);
        buddy.type      = SWIM_E_SUSPECT;
        buddy.pid       = m->pid;
        buddy.inc       = m->inc;
        buddy.addr      = (char*)m->addr; /* borrowed */
        buddy.from_addr = (char*)s->members[s->self].addr;
        buddy.from_pid  = s->members[s->self].pid;
        have_buddy      = true;
    }
    attach_gossip(s, &msg, have_buddy ? &buddy : NULL);
    m = &s->members[idx];
    emit_send(s, kind, aux, m->addr, m->pid, timeout, &msg);
}

/* ------------------------------------------------------------------ */
/* probing                                                             */
/* ------------------------------------------------------------------ */

static void probe_end(swim__t* s, double now, bool success)
{
    if (!s->probe.active) return;
    uint32_t idx = find_member(s, s->probe.addr, s->probe.pid);
    if (success) {
        if (s->cfg.lifeguard_local_health)
            s->awareness = swim__awareness_apply(s->awareness, -1, (int)s->cfg.local_health_max);
    } else {
        int delta = 0;
        if (s->probe.expected_nacks > 0) {
            if (s->probe.nacks < s->probe.expected_nacks)
                delta = s->probe.expected_nacks - s->probe.nacks;
        } else {
            delta = 1;
        }
        if (s->cfg.lifeguard_local_health)
            s->awareness =
                swim__awareness_apply(s->awareness, delta, (int)s->cfg.local_health_max);
        if (idx != NONE && in_view(&s->members[idx]) && !s->leaving) {
            member*  m    = &s->members[idx];
            uint64_t skey = s->self_key;
            if (m->status == ST_ALIVE) {
                slog(s, SWIM_LOG_DEBUG, "suspecting %s/%u (incarnation %llu)", m->addr,
                     (unsigned)m->pid, (unsigned long long)m->inc);
                start_suspicion(s, idx, m->inc, skey, s->self, now);
            } else if (msusp(s, m)) {
                suspicion* sp     = msusp(s, m);
                unsigned   before = sp->n;
                confirm_suspicion(sp, skey);
                s->next_susp = fmin(s->next_susp, susp_wake(s, sp));
                if (sp->n != before) enqueue(s, idx, SWIM_E_SUSPECT, m->inc, s->self);
            }
        }
    }
    free(s->probe.addr);
    s->probe.addr   = NULL;
    s->probe.active = false;
    double nxt      = now;
    if (s->next_probe < nxt) s->next_probe = nxt;
}

static void probe_start(swim__t* s, double now)
{
    uint32_t target = NONE;
    /* a suspicion heard through gossip: probe the suspect in this round
     * (instead of the next member in order) -- a dead one gets the
     * independent confirmations that shorten the suspicion timeout, a live
     * one hears the suspicion (buddy notice) and refutes */
    uint32_t f     = s->probe_first;
    s->probe_first = NONE;
    if (f != NONE && f < s->nmembers && f != s->self && s->members[f].status == ST_SUSPECT)
        target = f;
    for (uint32_t step = 0; step <= s->norder && target == NONE; step++) {
        if (s->probe_pos >= s->norder) {
            order_shuffle(s);
            s->probe_pos = 0;
            if (s->norder == 0) break;
        }
        uint32_t idx = s->order[s->probe_pos++];
        if (idx != s->self && in_view(&s->members[idx])) target = idx;
    }
    s->next_probe = now + scaled(s, s->cfg.protocol_period_ms);
    if (target == NONE) return;
    char* a = strdup(s->members[target].addr);
    if (!a) return;
    s->probe.active         = true;
    s->probe.seq++;
    s->probe.addr           = a;
    s->probe.pid            = s->members[target].pid;
    s->probe.outstanding    = 1;
    s->probe.expected_nacks = 0;
    s->probe.nacks          = 0;
    s->probe.ping_failed    = false;
    send_ping(s, CALL_PROBE_PING, s->probe.seq, target, scaled(s, s->cfg.ping_timeout_ms));
}

/** The direct ping failed: ask helpers to probe indirectly. */
static void probe_indirect(swim__t* s, double now)
{
    uint32_t target = find_member(s, s->probe.addr, s->probe.pid);
    uint32_t helpers[SWIM_MAX_PING_REQ];
    uint64_t cand = s->nview >= 2 ? s->nview - 2 : 0; /* minus self and target */
    if (target == NONE || !in_view(&s->members[target])) cand = s->nview >= 1 ? s->nview - 1 : 0;
    unsigned k = swim__ping_req_count(s->cfg.ping_req_members, cand);
    uint32_t n = pick_members(s, k, target, helpers);
    double   t = scaled(s, s->cfg.ping_req_timeout_ms);
    for (uint32_t i = 0; i < n; i++) {
        swim__msg msg;
        if (!init_msg(s, &msg, SWIM_MSG_PING_REQ)) continue;
        msg.target_addr = strdup(s->probe.addr);
        msg.target_pid  = s->probe.pid;
        msg.timeout_ms  = 0.8 * t; /* the helper answers (nack) before we give up */
        if (!msg.target_addr) {
            swim__msg_clear(&msg);
            continue;
        }
        attach_gossip(s, &msg, NULL);
        const member* h = &s->members[helpers[i]];
        if (emit_send(s, CALL_PROBE_PING_REQ, s->probe.seq, h->addr, h->pid, t, &msg)) {
            s->probe.outstanding++;
            s->probe.expected_nacks++;
        }
    }
    if (s->probe.outstanding == 0) probe_end(s, now, false);
}

/* ------------------------------------------------------------------ */
/* public API                                                          */
/* ------------------------------------------------------------------ */

swim__t* swim__create(const swim__config* cfg, const char* self_addr, uint16_t self_pid,
                      uint64_t seed, double now, swim__log_fn log, void* log_ctx)
{
    swim__t* s = NULL;
    if (!valid_addr(self_addr)) goto fail;
    s = calloc(1, sizeof *s);
    if (!s) goto fail;
    if (cfg)
        s->cfg = *cfg;
    else
        swim__config_default(&s->cfg);
    swim__config_sanitize(&s->cfg);
    s->log     = log;
    s->log_ctx = log_ctx;
    s->rng     = seed ? seed : 0x9E3779B97F4A7C15ULL;
    s->rng ^= hash_member(self_addr, self_pid);
    if (!s->rng) s->rng = 1;
    s->probe_first = NONE;
    s->next_susp = INFINITY;
    s->susp_free = NONE;
    s->t0        = now;
    s->self_key  = hash_member(self_addr, self_pid);
    s->self = add_member(s, now, self_addr, self_pid, 1, ST_ALIVE);
    if (s->self == NONE) goto fail;
    return s;
fail:
    swim__destroy(s);
    return NULL;
}

void swim__destroy(swim__t* s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->nmembers; i++) swim__unintern(s->members[i].addr);
    free(s->members);
    free(s->susps);
    free(s->susp_next);
    free(s->last_refs);
    free(s->slots);
    free(s->order);
    free(s->bq);
    for (uint32_t i = 0; i < s->ncalls; i++) free(s->calls[i].refs);
    free(s->calls);
    free(s->probe.addr);
    swim__outbox_free(&s->out);
    free(s);
}

int swim__add_initial(swim__t* s, const char* addr, uint16_t pid)
{
    if (!valid_addr(addr)) return -1;
    if (find_member(s, addr, pid) != NONE) return 0;
    return add_member(s, 0, addr, pid, 1, ST_ALIVE) == NONE ? -1 : 0;
}

static double jitter(swim__t* s, double base)
{
    /* spread periodic work of co-started members over one interval */
    return base * (double)(rng_next(s) % 1000) / 1000.0;
}

void swim__start(swim__t* s, bool join, double now)
{
    if (s->started) return;
    s->started        = true;
    s->next_probe     = now + jitter(s, s->cfg.protocol_period_ms);
    s->next_gossip    = now + s->cfg.gossip_interval_ms;
    s->next_sync      = now + s->cfg.sync_interval_ms + jitter(s, s->cfg.sync_interval_ms);
    s->next_reconnect = now + s->cfg.reconnect_interval_ms;
    s->next_purge     = now + 1000.0;
    if (!join) return;
    member* me = &s->members[s->self];
    enqueue(s, s->self, SWIM_E_JOIN, me->inc, NONE);
    unsigned k = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    s->join_started = true;
    for (uint32_t i = 0; i < s->nmembers && (unsigned)s->join_pending < k; i++) {
        if (i == s->self || !in_view(&s->members[i])) continue;
        swim__msg msg;
        if (!init_self_announce(s, &msg, SWIM_ANN_JOIN)) continue;
        attach_gossip(s, &msg, NULL);
        if (emit_send(s, CALL_JOIN, 0, s->members[i].addr, s->members[i].pid,
                      s->cfg.announce_timeout_ms, &msg))
            s->join_pending++;
    }
}

bool swim__join_settled(const swim__t* s) { return s->join_ok || s->join_pending == 0; }
bool swim__join_succeeded(const swim__t* s) { return s->join_ok; }

/** Drop tombstones older than tombstone_timeout_ms and remap indices. */
static void compact(swim__t* s, double now)
{
    uint32_t* map = NULL;
    if (s->ntomb == 0) return;
    s->probe_first = NONE; /* indices may move */
    bool any = false;
    for (uint32_t i = 0; i < s->nmembers && !any; i++) {
        const member* m = &s->members[i];
        any = !in_view(m) && rel_time(s, now) - m->since >= s->cfg.tombstone_timeout_ms &&
              i != s->self;
    }
    if (!any) return;
    map = malloc((size_t)s->nmembers * sizeof *map);
    if (!map) return;
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        member* m    = &s->members[i];
        bool    drop = i != s->self && !in_view(m) &&
                    rel_time(s, now) - m->since >= s->cfg.tombstone_timeout_ms;
        if (drop) {
            if (m->published) s->npublished--;
            swim__unintern(m->addr);
            free_susp(s, m);
            s->ntomb--;
            map[i] = NONE;
            continue;
        }
        map[i]          = n;
        s->members[n++] = *m;
    }
    s->nmembers = n;
    s->self     = map[s->self];
    /* gossip queue */
    for (uint32_t i = 0; i < s->nbq;) {
        bcast* b = &s->bq[i];
        if (map[b->member] == NONE) {
            s->bq[i] = s->bq[--s->nbq];
            continue;
        }
        b->member = map[b->member];
        b->from   = b->from == NONE ? NONE : map[b->from];
        i++;
    }
    for (uint32_t i = 0; i < s->nmembers; i++) s->members[i].bq = NONE;
    for (uint32_t i = 0; i < s->nbq; i++) s->members[s->bq[i].member].bq = i;
    /* probe order and hash */
    s->norder = 0;
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (in_view(&s->members[i])) s->order[s->norder++] = i;
    order_shuffle(s);
    s->probe_pos = 0;
    rehash(s, s->nmembers);
    free(map);
}

/** Give back the slack of doubling growth once it exceeds 1/4 of the
 *  members and order arrays (they grow again by doubling if needed). */
static void trim(swim__t* s)
{
    uint32_t want = s->nmembers + s->nmembers / 16 + 4;
    if (s->capmembers > want && s->capmembers - s->nmembers > s->nmembers / 4 + 8) {
        member* nm = realloc(s->members, (size_t)want * sizeof *nm);
        if (nm) {
            s->members    = nm;
            s->capmembers = want;
        }
    }
    want = s->norder + s->norder / 16 + 4;
    if (s->caporder > want && s->caporder - s->norder > s->norder / 4 + 8) {
        uint32_t* no = realloc(s->order, (size_t)want * sizeof *no);
        if (no) {
            s->order    = no;
            s->caporder = want;
        }
    }
}

static void send_sync(swim__t* s, uint32_t idx)
{
    swim__msg msg;
    if (!init_self_announce(s, &msg, SWIM_ANN_SYNC)) return;
    attach_state(s, &msg);
    attach_gossip(s, &msg, NULL);
    const member* m = &s->members[idx];
    emit_send(s, CALL_SYNC, 0, m->addr, m->pid, s->cfg.announce_timeout_ms, &msg);
}

/**
 * Anti-entropy: a peer reports a view different from ours while ours has
 * not changed for half a protocol period (so gossip is not simply still in
 * flight), or a view larger than ours by two or more members: push-pull
 * with it (at most once per period). A settled member thus repairs a
 * straggler whose own view is still changing.
 */
static void maybe_sync(swim__t* s, double now, const swim__msg* m)
{
    if (!s->cfg.anti_entropy || s->leaving || !m || !valid_addr(m->sender_addr)) return;
    if (m->sender_view_size == 0) return; /* peer did not say */
    if (m->sender_view_size == s->nview && m->sender_view_digest == s->view_digest) return;
    /* behind by several members (two, or n/32 in large groups): sync even
     * while our view is still changing (e.g. an early joiner during a
     * bootstrap); a join or leave in flight is left to gossip */
    uint64_t gap        = s->nview / 32 > 2 ? s->nview / 32 : 2;
    bool     far_behind = m->sender_view_size >= (uint64_t)s->nview + gap;
    if (!far_behind && now - s->last_view_change < 0.5 * s->cfg.protocol_period_ms) return;
    if (now < s->next_mismatch_sync) return;
    uint32_t idx = find_member(s, m->sender_addr, m->sender_pid);
    if (idx == NONE || idx == s->self || !in_view(&s->members[idx])) return;
    /* a state exchange costs O(n): in large groups space them out so that
     * the whole group spends about as much on them as on probes */
    double every = s->cfg.protocol_period_ms * (s->nview > 64 ? s->nview / 64.0 : 1.0);
    s->next_mismatch_sync = now + every;
    send_sync(s, idx);
}

void swim__tick(swim__t* s, double now)
{
    if (!s->started || s->leaving) return;
    /* 1. suspicion timeouts */
    if (s->nsuspect && now >= s->next_susp) {
        s->next_susp = INFINITY;
        for (uint32_t i = 0; i < s->nmembers; i++) {
            member*    m  = &s->members[i];
            suspicion* sp = msusp(s, m);
            if (m->status != ST_SUSPECT || !sp) continue;
            double dl = susp_deadline(sp);
            if (now < dl) {
                if (s->cfg.lifeguard_buddy && !sp->checked && now >= dl - check_lead(s, sp)) {
                    sp->checked = true;
                    send_ping(s, CALL_CHECK, 0, i, dl - now);
                    m  = &s->members[i];
                    sp = msusp(s, m);
                    if (!sp) continue;
                }
                s->next_susp = fmin(s->next_susp, susp_wake(s, sp));
                continue;
            }
            slog(s, SWIM_LOG_INFO, "declaring %s/%u dead (incarnation %llu)", m->addr,
                 (unsigned)m->pid, (unsigned long long)m->inc);
            leave_view(s, m, ST_DEAD, now);
            emit_event(s, SWIM_EV_DIED, m);
            enqueue(s, i, SWIM_E_CONFIRM, m->inc, NONE);
        }
    }
    /* 2. tombstones, and the slack of the tables after growth */
    if (now >= s->next_purge) {
        compact(s, now);
        trim(s);
        s->next_purge = now + 1000.0;
    }
    /* 3. probe round */
    if (!s->probe.active && now >= s->next_probe) {
        if (s->nview >= 2)
            probe_start(s, now);
        else
            s->next_probe = now + s->cfg.protocol_period_ms;
    }
    /* 4. dedicated gossip (only when there is news) */
    if (s->cfg.gossip_interval_ms > 0 && now >= s->next_gossip) {
        /* local health also slows dedicated gossip: an overloaded member
         * sheds its optional traffic first (probes keep their own pace) */
        s->next_gossip = now + scaled(s, s->cfg.gossip_interval_ms);
        if (s->nbq > 0 && s->nview >= 2) {
            uint32_t dest[64];
            uint32_t n = pick_members(s, (uint32_t)s->cfg.gossip_fanout, NONE, dest);
            for (uint32_t i = 0; i < n && s->nbq > 0; i++)
                send_ping(s, CALL_GOSSIP, 0, dest[i], s->cfg.ping_req_timeout_ms);
        }
    }
    /* 5. anti-entropy push-pull */
    if (s->cfg.sync_interval_ms > 0 && now >= s->next_sync) {
        s->next_sync = now + s->cfg.sync_interval_ms;
        uint32_t idx = random_view_member(s, NONE);
        if (idx != NONE) send_sync(s, idx);
    }
    /* 6. partition healing: push-pull with a member we declared dead */
    if (s->cfg.reconnect_interval_ms > 0 && now >= s->next_reconnect) {
        s->next_reconnect = now + s->cfg.reconnect_interval_ms;
        uint32_t ndead = 0, pick = NONE;
        for (uint32_t i = 0; i < s->nmembers; i++) {
            if (s->members[i].status != ST_DEAD) continue;
            ndead++;
            if (rng_below(s, ndead) == 0) pick = i; /* reservoir sampling */
        }
        if (pick != NONE) send_sync(s, pick);
    }
}

double swim__next_deadline(const swim__t* s)
{
    double d = INFINITY;
    if (!s->started || s->leaving) return d;
    if (!s->probe.active) d = fmin(d, s->next_probe);
    if (s->cfg.gossip_interval_ms > 0 && s->nbq > 0) d = fmin(d, s->next_gossip);
    if (s->cfg.sync_interval_ms > 0) d = fmin(d, s->next_sync);
    if (s->cfg.reconnect_interval_ms > 0) d = fmin(d, s->next_reconnect);
    if (s->ntomb) d = fmin(d, s->next_purge);
    if (s->nsuspect) d = fmin(d, s->next_susp); /* O(1): cached */
    return d;
}

void swim__handle_request(swim__t* s, double now, uint64_t token, const swim__msg* req)
{
    swim__msg   rep;
    swim__entry notice;
    bool        have_notice = false;
    memset(&rep, 0, sizeof rep);
    if (!s->leaving)
        have_notice = note_sender(s, now, req->sender_addr, req->sender_pid, req->sender_inc,
                                  &notice);
    uint64_t known = 0;
    if (!s->leaving) known = apply_list(s, now, req->gossip, req->ngossip, true);

    switch (req->kind) {
    case SWIM_MSG_PING:
        maybe_sync(s, now, req);
        if (!init_msg(s, &rep, SWIM_MSG_ACK)) break;
        attach_gossip(s, &rep, have_notice ? &notice : NULL);
        break;
    case SWIM_MSG_PING_REQ: {
        if (!valid_addr(req->target_addr)) {
            if (!init_msg(s, &rep, SWIM_MSG_PING_REQ_ACK)) break;
            rep.responded = 0;
            attach_gossip(s, &rep, have_notice ? &notice : NULL);
            break;
        }
        uint32_t t = find_member(s, req->target_addr, req->target_pid);
        if (t == s->self) {
            if (!init_msg(s, &rep, SWIM_MSG_PING_REQ_ACK)) break;
            rep.responded  = 1;
            rep.target_inc = s->members[s->self].inc;
            attach_gossip(s, &rep, NULL);
            break;
        }
        /* relay: ping the target, answer when that completes */
        swim__msg ping;
        if (!init_msg(s, &ping, SWIM_MSG_PING)) break;
        attach_gossip(s, &ping, NULL);
        double to = req->timeout_ms;
        if (!(to >= 1.0)) to = s->cfg.ping_timeout_ms;
        if (to > 60000.0) to = 60000.0;
        if (emit_send(s, CALL_RELAY, token, req->target_addr, req->target_pid, to, &ping)) {
            s->calls[s->ncalls - 1].mask = known;
            return; /* reply later */
        }
        if (!init_msg(s, &rep, SWIM_MSG_PING_REQ_ACK)) break;
        break;
    }
    case SWIM_MSG_ANNOUNCE:
        if (!s->leaving && valid_addr(req->target_addr)) {
            if (req->ann_type == SWIM_ANN_JOIN || req->ann_type == SWIM_ANN_LEAVE) {
                swim__entry e = {.type = req->ann_type == SWIM_ANN_JOIN ? SWIM_E_JOIN
                                                                        : SWIM_E_LEAVE,
                                 .pid  = req->target_pid,
                                 .inc  = req->target_inc,
                                 .addr = req->target_addr};
                apply_entry(s, now, &e, true);
            }
            if (req->ann_type == SWIM_ANN_SYNC) apply_list(s, now, req->state, req->nstate, false);
        }
        if (!init_msg(s, &rep, SWIM_MSG_ANNOUNCE_ACK)) break;
        if (req->ann_type == SWIM_ANN_JOIN || req->ann_type == SWIM_ANN_SYNC) attach_state(s, &rep);
        attach_gossip(s, &rep, have_notice ? &notice : NULL);
        break;
    default:
        break;
    }
    /* an empty rep (kind 0) tells the driver to fail the request */
    rep.known_mask = known;
    emit_reply(s, token, &rep);
}

void swim__handle_response(swim__t* s, double now, uint64_t call_id, bool ok,
                           const swim__msg* resp)
{
    pending pc;
    if (!take_call(s, call_id, &pc)) return;
    if (ok && resp && !s->leaving) apply_feedback(s, &pc, resp->known_mask);
    free(pc.refs);
    pc.refs = NULL;
    if (ok && resp && !s->leaving) {
        note_sender(s, now, resp->sender_addr, resp->sender_pid, resp->sender_inc, NULL);
        apply_list(s, now, resp->gossip, resp->ngossip, true);
        if (resp->nstate && (pc.kind == CALL_JOIN || pc.kind == CALL_SYNC))
            apply_list(s, now, resp->state, resp->nstate, false);
        if (resp->kind == SWIM_MSG_ACK) maybe_sync(s, now, resp);
    }
    switch (pc.kind) {
    case CALL_PROBE_PING:
        if (!s->probe.active || pc.aux != s->probe.seq) break;
        s->probe.outstanding--;
        if (ok && resp && resp->kind == SWIM_MSG_ACK) {
            probe_end(s, now, true);
        } else {
            s->probe.ping_failed = true;
            probe_indirect(s, now);
        }
        break;
    case CALL_PROBE_PING_REQ:
        if (!s->probe.active || pc.aux != s->probe.seq) break;
        s->probe.outstanding--;
        if (ok && resp && resp->kind == SWIM_MSG_PING_REQ_ACK) {
            if (resp->responded) {
                swim__entry e = {.type = SWIM_E_ALIVE, .pid = s->probe.pid,
                                 .inc  = resp->target_inc, .addr = s->probe.addr};
                apply_entry(s, now, &e, true);
                probe_end(s, now, true);
                break;
            }
            s->probe.nacks++;
        }
        if (s->probe.outstanding <= 0) probe_end(s, now, false);
        break;
    case CALL_RELAY: {
        swim__msg rep;
        if (!init_msg(s, &rep, SWIM_MSG_PING_REQ_ACK)) {
            emit_reply(s, pc.aux, &rep);
            break;
        }
        rep.responded  = ok && resp && resp->kind == SWIM_MSG_ACK;
        rep.target_inc = rep.responded ? resp->sender_inc : 0;
        rep.known_mask = pc.mask;
        attach_gossip(s, &rep, NULL);
        emit_reply(s, pc.aux, &rep);
        break;
    }
    case CALL_JOIN:
        if (s->join_pending > 0) s->join_pending--;
        if (ok && resp && resp->kind == SWIM_MSG_ANNOUNCE_ACK) s->join_ok = true;
        break;
    default:
        break;
    }
}

void swim__leave(swim__t* s, double now)
{
    if (s->leaving) return;
    enqueue(s, s->self, SWIM_E_LEAVE, s->members[s->self].inc, NONE);
    unsigned k = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    uint32_t dest[256];
    if (k > 256) k = 256;
    uint32_t n = s->started ? pick_members(s, k, NONE, dest) : 0;
    for (uint32_t i = 0; i < n; i++) {
        swim__msg msg;
        if (!init_self_announce(s, &msg, SWIM_ANN_LEAVE)) continue;
        attach_gossip(s, &msg, NULL);
        const member* d = &s->members[dest[i]];
        emit_send(s, CALL_LEAVE, 0, d->addr, d->pid, s->cfg.announce_timeout_ms, &msg);
    }
    s->leaving = true;
}

void swim__leave_silently(swim__t* s) { s->leaving = true; }

size_t swim__pending_calls(const swim__t* s) { return s->ncalls; }
swim__outbox* swim__get_outbox(swim__t* s) { return &s->out; }
size_t swim__view_size(const swim__t* s) { return s->nview; }
uint64_t swim__self_incarnation(const swim__t* s) { return s->members[s->self].inc; }
int swim__local_health(const swim__t* s) { return s->awareness; }
const swim__config* swim__get_config(const swim__t* s) { return &s->cfg; }

int swim__member_status(const swim__t* s, const char* addr, uint16_t pid, uint64_t* inc)
{
    uint32_t idx = find_member(s, addr, pid);
    if (idx == NONE) return 0;
    if (inc) *inc = s->members[idx].inc;
    return s->members[idx].status;
}

void swim__foreach_member(const swim__t* s, void (*fn)(void*, const char*, uint16_t),
                          void* uargs)
{
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (in_view(&s->members[i])) fn(uargs, s->members[i].addr, s->members[i].pid);
}

bool swim__publish(swim__t* s, const char* addr, uint16_t pid, bool in)
{
    uint32_t idx = find_member(s, addr, pid);
    if (idx == NONE || s->members[idx].published == in) return false;
    s->members[idx].published = in;
    if (in) s->npublished++;
    else s->npublished--;
    return true;
}

size_t swim__published_count(const swim__t* s) { return s->npublished; }

void swim__foreach_published(const swim__t* s, void (*fn)(void*, const char*, uint16_t),
                             void* uargs)
{
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (s->members[i].published) fn(uargs, s->members[i].addr, s->members[i].pid);
}

/* bytes glibc takes for an n-byte request (16-byte granules, 8-byte header) */
static size_t chunk(size_t n)
{
    if (n == 0) return 0;
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

size_t swim__memory_estimate(const swim__t* s)
{
    size_t b = chunk(sizeof *s);
    b += chunk((size_t)s->capmembers * sizeof(member)) + chunk((size_t)s->capslots * sizeof(uint32_t));
    b += chunk((size_t)s->caporder * sizeof(uint32_t)) + chunk((size_t)s->capbq * sizeof(bcast));
    b += chunk((size_t)s->capcalls * sizeof(pending));
    b += chunk((size_t)s->capsusps * sizeof(suspicion)) + chunk((size_t)s->capsusps * sizeof(uint32_t));
    for (uint32_t i = 0; i < s->ncalls; i++) b += chunk((size_t)s->calls[i].nrefs * sizeof(sent_ref));
    b += chunk((size_t)s->nlast_refs * sizeof(sent_ref));
    if (s->probe.addr) b += chunk(strlen(s->probe.addr) + 1);
    b += chunk(s->out.capsends * sizeof(swim__send)) + chunk(s->out.capreplies * sizeof(swim__reply)) +
         chunk(s->out.capevents * sizeof(swim__event));
    /* member addresses are interned: swim__intern_bytes() counts them once per process */
    return b;
}
