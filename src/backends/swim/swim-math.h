/*
 * swim-math.h -- the timing and sizing rules of the SWIM backend as small
 * pure functions (no state, no clock, no allocation), table-tested in
 * tests/swim/test-swim-math.c and test-swim-rules.c. Modelled on
 * memberlist's util.go, suspicion.go and awareness.go (Lifeguard); also the
 * membership precedence rules and the small decisions of probing, gossip
 * feedback and anti-entropy that the state machine (swim-core*.c) applies.
 */
#ifndef FLOCK_SWIM_MATH_H
#define FLOCK_SWIM_MATH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Number of significant bits of v (0 for v == 0). */
unsigned swim__bit_length(uint64_t v);

/**
 * How many times one gossip entry is piggybacked before it is dropped:
 * mult * bit_length(n - 1), at least 1 (n <= 1 -> 1). With mult = 3 this is
 * the reference rule (n = 2 -> 3, 3..4 -> 6, 5..8 -> 9). mult <= 0 -> 1.
 */
unsigned swim__retransmit_limit(int mult, uint64_t n);

/**
 * The minimum suspicion timeout (ms). If mult > 0 it is memberlist's
 * size-scaled rule mult * max(1, log10(max(1, n))) * period_ms; otherwise the
 * fixed base_ms. Never below 1 ms.
 */
double swim__suspicion_min_ms(double base_ms, double mult, uint64_t n, double period_ms);

/**
 * Lifeguard's dynamic suspicion timeout (memberlist remainingSuspicionTime
 * without the elapsed part): max - log(c + 1) / log(k + 1) * (max - min),
 * floored to whole milliseconds and clamped to [min, max]. c = independent
 * confirmations received so far, k = confirmations expected. k < 1 -> min.
 */
double swim__suspicion_timeout_ms(unsigned c, unsigned k, double min_ms, double max_ms);

/**
 * Expected confirmations for a new suspicion: k, or 0 when the group is too
 * small to provide them (n - 2 < k, n = members including self).
 */
unsigned swim__suspicion_expected(unsigned k, uint64_t n);

/** Lifeguard local health: new score = clamp(score + delta, 0, max_mult - 1). */
int swim__awareness_apply(int score, int delta, int max_mult);

/** A timeout stretched by local health: timeout * (score + 1). */
double swim__awareness_scale(double timeout_ms, int score);

/**
 * How many ping-req helpers to use: the configured value clamped to
 * [0, candidates] and to SWIM_MAX_PING_REQ. Any configured value is safe
 * (negative -> 0).
 */
unsigned swim__ping_req_count(int64_t configured, uint64_t candidates);

/** Hard cap on ping-req helpers per probe. */
#define SWIM_MAX_PING_REQ 16u

/* ---- membership precedence (memberlist's rules; see swim-core.h) ---- */

/** Member status, as swim__member_status reports it. */
enum { SWIM_ST_UNKNOWN = 0, SWIM_ST_ALIVE = 1, SWIM_ST_SUSPECT = 2, SWIM_ST_DEAD = 3,
       SWIM_ST_LEFT = 4 };

/** What an entry (gossip or state) does to a member that is not self. */
typedef enum swim__verdict {
    SWIM_V_IGNORE = 0, /* not news */
    SWIM_V_ALIVE,      /* ALIVE at the entry's incarnation (added, refreshed, or back
                          from a tombstone) */
    SWIM_V_SUSPECT,    /* a new suspicion at the entry's incarnation */
    SWIM_V_CONFIRM,    /* the same suspicion: the suspector may confirm it */
    SWIM_V_GONE,       /* leaves the view (DEAD or LEFT, by the entry's type) */
    SWIM_V_DOUBT,      /* DEAD about a member we hold ALIVE: suspect it (at the entry's
                          incarnation) for a short window; only that suspicion's expiry
                          removes it, so it can refute first */
    SWIM_V_TOMBSTONE   /* a tombstone: added (unknown member) or its incarnation raised */
} swim__verdict;

/**
 * The precedence rule for an entry of type etype (swim__etype) at
 * incarnation inc about a member in `status` (SWIM_ST_*, UNKNOWN if not in
 * the table) at incarnation cur_inc:
 *   ALIVE/JOIN(i): unknown -> ALIVE; known -> ALIVE iff i > cur;
 *   SUSPECT(i):    ALIVE(j) -> SUSPECT iff i >= j; SUSPECT(j) -> SUSPECT iff
 *                  i > j, CONFIRM iff i == j; unknown or tombstone -> IGNORE;
 *   CONFIRM/LEAVE(i): unknown -> TOMBSTONE; ALIVE/SUSPECT(j) -> GONE iff
 *                  i >= j; tombstone(j) -> TOMBSTONE iff i > j.
 * Unknown entry types -> IGNORE.
 */
swim__verdict swim__entry_verdict(int etype, uint64_t inc, int status, uint64_t cur_inc);

/** What an entry about self (at my_inc) does: refute or nothing. */
typedef enum swim__self_verdict {
    SWIM_SELF_IGNORE = 0,
    SWIM_SELF_REFUTE_SUSPECT, /* SUSPECT(i >= mine): refute (health penalty) */
    SWIM_SELF_REFUTE_GONE,    /* CONFIRM/LEAVE(i >= mine): declared dead, rejoin (penalty) */
    SWIM_SELF_REFUTE_ALIVE    /* ALIVE/JOIN(i > mine): someone else's news, overtake it */
} swim__self_verdict;

swim__self_verdict swim__entry_self_verdict(int etype, uint64_t inc, uint64_t my_inc);

/** The incarnation a refutation takes: above both seen and mine. */
uint64_t swim__refute_incarnation(uint64_t seen, uint64_t mine);

/* ---- probing, gossip and anti-entropy rules ---- */

/**
 * Local-health delta of a failed probe: the missing nacks when helpers
 * were asked (expected_nacks > 0), else 1.
 */
int swim__probe_fail_delta(int expected_nacks, int nacks);

/**
 * Transmissions an entry counts after a response reported it as already
 * known (feedback): unchanged during the first third of the budget
 * (limit), then + max(1, limit / 3) per report.
 */
uint32_t swim__feedback_transmits(uint32_t transmits, unsigned limit);

/**
 * A view summary in 32 bits (a view size and a digest folded),
 * for remembering what peers last reported: equal summaries mean equal
 * views but for a collision, which costs only a skipped piece of news
 * (anti-entropy repairs it).
 */
uint32_t swim__view_summary(uint64_t size, uint64_t digest);

/**
 * Anti-entropy: a peer's view of peer_n members is "far behind"-worthy of
 * an immediate push-pull when it exceeds ours (our_n) by max(2, our_n / 32).
 */
int swim__sync_far_behind(uint64_t peer_n, uint32_t our_n);

/** How long a member's view must have been unchanged before a peer's
 *  different view makes it push-pull with that peer (unless it is far
 *  behind): one dedicated gossip interval, the time in which a member that
 *  still receives news hears some (at most half a period; half a period
 *  without dedicated gossip). Gossip in flight is left to itself; a
 *  straggler missing a few members of a bootstrap repairs soon after the
 *  news stopped coming. */
double swim__sync_stable_ms(double period_ms, double gossip_interval_ms);

/** Minimum spacing of mismatch push-pulls after one made for a view size
 *  difference of `gap` (0 counts as 1): period x max(1, n / (64 gap)). A
 *  push-pull costs O(n), so one member difference (ordinary churn, mostly
 *  repaired by gossip) allows one per n/64 periods, while a straggler
 *  missing many members (a bootstrap) repairs once a period: the bytes
 *  spent grow with what differs, not with n. */
double swim__sync_spacing_ms(double period_ms, uint32_t n, uint64_t gap);

/** Timer coalescing: a future deadline t (ms, monotonic clock) rounded up
 *  to the next multiple of grid_ms; t itself if it is due (t <= now), not
 *  finite, or grid_ms <= 0. The periodic work of the members of a process,
 *  and of the processes of a machine, then runs together, so the messages
 *  they send one another share system calls and wake-ups; each such
 *  deadline is late by less than grid_ms. What is due at once (news an
 *  idle member forwards at once) stays at once. */
double swim__grid_deadline(double t, double now, double grid_ms);

/** The grid a member uses (ms, 0 = none): the configured one, or with
 *  tick_grid_ms auto (negative) a twentieth of the period once the view
 *  has SWIM_TICK_GRID_AUTO_VIEW members (many members per process send
 *  many small messages: coalescing their ticks saves CPU time), none
 *  below (a small group gains little, and a process of many small
 *  members woken together grows its malloc arenas). */
double swim__tick_grid_for(double tick_grid_ms, double period_ms, uint32_t nview);

/**
 * Lead of the last-chance check before a suspicion deadline: the (health
 * scaled) ping timeout, at most half the minimum suspicion timeout.
 */
double swim__check_lead_ms(double scaled_ping_timeout_ms, double min_ms);

/**
 * Timeout of a hard suspicion (our probe found nobody listening: refused
 * by us and by the helpers): max(2 x ping timeout, period), both scaled by
 * local health, never above the minimum suspicion timeout.
 */
double swim__hard_suspicion_ms(double scaled_ping_timeout_ms, double scaled_period_ms,
                               double min_ms);

/* ---- the bucketed push-pull (swim-sync.c) ----
 * A member's key (swim__key_of) falls in one of SWIM_FINE_BUCKETS fine
 * buckets by its top 8 bits; a bucket's digest is the XOR of the low 32
 * bits of the keys of the view's members in it. A push-pull over nb
 * buckets (a power of two, at most SWIM_FINE_BUCKETS) folds 256 / nb
 * consecutive fine buckets into one. */
#define SWIM_FINE_BUCKETS 256u

/** The fine bucket of a key (its top 8 bits). */
static inline uint32_t swim__fine_bucket(uint64_t key) { return (uint32_t)(key >> 56); }

/** The bucket of a fine bucket among nb (a power of two <= 256). */
static inline uint32_t swim__bucket_of(uint32_t fine, uint32_t nb)
{
    return (uint32_t)(((uint64_t)fine * nb) / SWIM_FINE_BUCKETS);
}

/** nb is a valid bucket count: a power of two in [1, SWIM_FINE_BUCKETS]. */
int swim__valid_nbuckets(uint64_t nb);

/** Fold fine[SWIM_FINE_BUCKETS] into out[nb] (nb valid). */
void swim__fold_buckets(const uint32_t* fine, uint32_t nb, uint32_t* out);

/**
 * Buckets of a bucketed push-pull for a view of n members: the power of two
 * nearest above n / 8 (about eight members a bucket), within [16, 256].
 * A difference of g members then moves about 8 min(g, nb) entries each way
 * and 4 nb bytes of digests, instead of n entries each way.
 */
uint32_t swim__diff_buckets_for(uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_MATH_H */
