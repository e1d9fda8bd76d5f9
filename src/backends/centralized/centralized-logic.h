/*
 * centralized-logic.h -- the protocol rules of the centralized backend as
 * small pure functions (no I/O, no locks, no clock), plus the primary's
 * bounded event log. Table-tested in tests/centralized/test-centralized-logic.c.
 *
 * Protocol summary (details in docs/design.md, "Centralized backend"):
 * the primary owns the authoritative view and numbers every membership
 * change with a sequence number (seq, starting at 1). Secondaries apply
 * changes strictly in seq order, so an event is applied -- and its callback
 * fired -- exactly once even if it arrives twice (broadcast + catch-up).
 */
#ifndef FLOCK_CENTRALIZED_LOGIC_H
#define FLOCK_CENTRALIZED_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------- ping scheduling and failure detection ---------------- */

/** A ping interval drawn uniformly in [min_ms, max_ms] from u in [0, 1). */
double flock__cent_draw_interval(double min_ms, double max_ms, double u);

/**
 * Delay before the next ping so that pings start `interval_ms` apart
 * (start to start): interval - elapsed since the previous ping started,
 * or 0 when the previous ping took longer than the interval.
 */
double flock__cent_next_ping_delay(double interval_ms, double elapsed_ms);

/**
 * Record the outcome of one ping in *consecutive_failures (reset on
 * success, incremented on failure). @return true when the member must now
 * be declared dead (max_failures consecutive failures, max_failures >= 1).
 */
bool flock__cent_record_ping(unsigned* consecutive_failures, bool success,
                             unsigned max_failures);

/**
 * Upper bound on the time from a crash to its detection at the primary:
 * max x (interval_max + timeout) + interval_max (the wait for the first
 * ping after the crash). Pure arithmetic on the config values.
 */
double flock__cent_detection_bound_ms(double interval_max_ms, double timeout_ms,
                                      unsigned max_failures);

/**
 * One step of the ping scheduler's random generator (xorshift64*): advance
 * *state (never 0) and return a double uniform in [0, 1).
 */
double flock__cent_rand01(uint64_t* state);

/**
 * The generator's seed from the start time (monotonic seconds and
 * nanoseconds), the process id, the provider id and a per-instance salt
 * (the state's address): never 0 (0 would stay 0).
 */
uint64_t flock__cent_rng_seed(uint64_t sec, uint64_t nsec, uint64_t pid,
                              uint16_t provider_id, uint64_t salt);

/* ---------------- roles ---------------- */

/** true if (address, pid) designates (self_address, self_pid). NULL-safe. */
bool flock__cent_same_member(const char* address, uint16_t pid, const char* self_address,
                             uint16_t self_pid);

/* ---------------- applying changes ---------------- */

typedef enum flock__cent_change {
    FLOCK__CENT_NOOP = 0, /**< nothing to do (no callback) */
    FLOCK__CENT_ADD,      /**< add the member, fire the callback */
    FLOCK__CENT_REMOVE    /**< remove the member, fire the callback */
} flock__cent_change_t;

/** What a JOINED/LEFT/DIED event does to a view where the subject is
 *  (`present`) or is not a member. MOVED and unknown kinds are NOOP. */
flock__cent_change_t flock__cent_change_for(flock_update_t type, bool present);

/*
 * Run-time metadata changes travel in the same ordered stream as membership
 * changes, as events of two more kinds: the key in `address`, provider id
 * 0, the value in `value` (META_SET only). Values above flock_update_t's.
 */
#define FLOCK__CENT_META_SET ((flock_update_t)16)
#define FLOCK__CENT_META_DEL ((flock_update_t)17)

/** true for META_SET / META_DEL. */
static inline bool flock__cent_is_meta(flock_update_t type)
{
    return type == FLOCK__CENT_META_SET || type == FLOCK__CENT_META_DEL;
}

/** "JOINED", "LEFT", "DIED", "META_SET" or "META_DEL" for logs; "?" for
 *  anything else. */
const char* flock__cent_update_name(flock_update_t type);

/** true if `type` is one of JOINED, LEFT, DIED, META_SET, META_DEL (valid
 *  on the wire). */
bool flock__cent_valid_update_type(uint32_t type);

typedef enum flock__cent_seq_action {
    FLOCK__CENT_SEQ_SKIP = 0, /**< already applied (duplicate delivery) */
    FLOCK__CENT_SEQ_APPLY,    /**< the next expected event */
    FLOCK__CENT_SEQ_GAP       /**< events are missing before this one */
} flock__cent_seq_action_t;

/** Classify an incoming event with sequence number ev_seq at a member that
 *  has applied every event up to applied_seq. */
flock__cent_seq_action_t flock__cent_classify_seq(uint64_t applied_seq, uint64_t ev_seq);

/** What a member does with a message from the primary of (group, term). */
typedef enum flock__cent_verdict {
    FLOCK__CENT_ACCEPT = 0, /**< this group, this term (or a term still unknown) */
    FLOCK__CENT_ADOPT,      /**< this group (or ours unknown), a newer term: take the
                                 group id and term, resynchronize the whole view */
    FLOCK__CENT_STALE,      /**< an older term: refuse (the sender is a former primary) */
    FLOCK__CENT_FOREIGN     /**< another group: refuse, never merge */
} flock__cent_verdict_t;

/**
 * Judge a message of (msg_group, msg_term) at a member of (my_group,
 * my_term); 0 means unknown (a file without an id, a member that has not
 * heard from a primary yet): an unknown group id matches any, an unknown
 * term is older than every known one.
 */
flock__cent_verdict_t flock__cent_judge(uint64_t my_group, uint64_t my_term,
                                        uint64_t msg_group, uint64_t msg_term);

/** true if k members are a majority of n (k > n / 2): what elects a
 *  primary. */
bool flock__cent_is_majority(size_t k, size_t n);

/** true if a primary that reaches `reachable` of the n members of its view
 *  (itself included) may declare the others dead: they are no majority
 *  (reachable >= n / 2). Otherwise it may be the one cut off: it suspects
 *  them and refuses joins, and the majority side elects a new primary. A
 *  group of two can lose either member; a 2 | 2 split keeps the primary's
 *  side (the other cannot elect: it has no majority). */
bool flock__cent_may_declare(size_t reachable, size_t n);

/**
 * The window after which a secondary that has not been pinged checks with
 * the primary whether it is still a member: longer than the primary takes
 * to declare a silent member dead (max_timeouts pings, each an interval
 * plus its timeout), plus one interval.
 */
double flock__cent_watch_window_ms(double interval_max_ms, double timeout_ms,
                                   int max_timeouts);

/**
 * A secondary received a ping announcing the primary's committed state
 * (seq, digest). @return true if it must catch up with the primary: it is
 * behind, or at the same seq with a different digest (diverged view).
 */
bool flock__cent_needs_catch_up(uint64_t applied_seq, uint64_t my_digest,
                                uint64_t primary_seq, uint64_t primary_digest);

/* ---------------- the primary's event log ---------------- */

/** One change (membership, or metadata: see FLOCK__CENT_META_SET).
 *  `address` and `value` are owned by whoever holds the event. */
typedef struct flock__cent_event {
    uint64_t seq;
    flock_update_t type;
    char* address; /* the member, or the metadata key */
    uint16_t provider_id;
    char* value;   /* META_SET: the value; otherwise NULL */
} flock__cent_event_t;

/** Bounded log of the most recent events, in seq order (a ring). */
typedef struct flock__cent_log {
    flock__cent_event_t* ring;
    size_t capacity; /* fixed at init */
    size_t count;    /* events held (<= capacity) */
    size_t head;     /* index of the oldest event */
} flock__cent_log_t;

/** Allocate a log of `capacity` (>= 1) events. FLOCK_ERR_ALLOCATION. */
flock_return_t flock__cent_log_init(flock__cent_log_t* log, size_t capacity);
/** Free everything (safe on a zeroed or already-freed log). */
void flock__cent_log_destroy(flock__cent_log_t* log);
/**
 * Append an event (address copied); the oldest one is dropped when full.
 * seq must be greater than the last appended seq. FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock__cent_log_append(flock__cent_log_t* log, uint64_t seq,
                                      flock_update_t type, const char* address,
                                      uint16_t provider_id);
/** Append a copy of e (address and value copied); as flock__cent_log_append. */
flock_return_t flock__cent_log_append_event(flock__cent_log_t* log,
                                            const flock__cent_event_t* e);
/**
 * Find the events with seq in (since_seq, last]. @return true and set
 * *first_index (ring position of the first such event, to pass to
 * flock__cent_log_at) and *n if the log still holds all of them (n may be
 * 0); false if some were already dropped.
 */
bool flock__cent_log_since(const flock__cent_log_t* log, uint64_t since_seq,
                           size_t* first, size_t* n);
/** The i-th oldest event held (i < count). */
const flock__cent_event_t* flock__cent_log_at(const flock__cent_log_t* log, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_CENTRALIZED_LOGIC_H */
