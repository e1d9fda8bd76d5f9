/*
 * centralized-internal.h -- the state of the "centralized" backend and the
 * calls between its files (internal; not installed).
 *
 * The backend (FLOCK-SPEC 3.2, with the upstream defects of section 10
 * fixed; design in docs/design.md, "Centralized backend"). One member, the
 * primary, owns the authoritative view. It
 *   - admits joiners (flock_centralized_join; the joiner is the RPC source
 *     address) and leavers (flock_centralized_leave, real provider id),
 *   - pings every other member once every random[min,max] ms (start to
 *     start) and declares a member DIED after ping_max_num_timeouts
 *     consecutive failures,
 *   - numbers every change (seq) and broadcasts it to every other member
 *     (flock_centralized_membership_update, in parallel, 1000 ms each),
 *   - keeps a bounded log of recent changes so a member that missed some
 *     can fetch exactly those (flock_centralized_get_view), or the full
 *     view when the log no longer has them.
 * Secondaries apply changes strictly in seq order, so each change is
 * applied, and its JOINED/LEFT/DIED callback fired, exactly once per member
 * whatever the delivery order; a no-op change fires nothing.
 *
 * Changes are applied by one "committer" at a time: requests (join, leave,
 * death) are queued and the thread that finds no active committer drains
 * the queue batch by batch (group commit). A batch is applied to the view,
 * the local callbacks run, the batch is broadcast, and only then are the
 * joiners answered (with the full view), so when a join returns every
 * reachable member already knows the joiner.
 *
 * Files (rooms), from the top down; a file calls only files below it,
 * except the one call up noted for centralized-ping.c:
 *
 *   centralized-backend.c    init / destroy and the ops table: owns the
 *                            cent_state_t allocation and its teardown.
 *   centralized-rpc.c        the five RPCs: registration and every handler
 *                            (decode the message, check the role, hand it
 *                            to the role below). The one place messages
 *                            arrive.
 *   centralized-primary.c    primary role: the change queue (cent_change_t)
 *                            and the committer (apply a batch, broadcast it,
 *                            answer the requesters); serving get_view.
 *   centralized-ping.c       primary role: the peer table (cent_peer_t),
 *                            the ping timers and failure detection. Calls
 *                            up once: a DIED change to
 *                            cent__enqueue_and_commit.
 *   centralized-secondary.c  secondary role: applying broadcasts in seq
 *                            order, catching up, answering the primary's
 *                            pings, joining and leaving.
 *   centralized-common.c     helpers every room uses (status replies,
 *                            the provider's callbacks).
 *   centralized-logic.c, centralized-wire.c, centralized-config.c
 *                            pure rules, message codecs, the config (no
 *                            state, no locks, no I/O).
 *
 * Threads and locks (lock order: sync_mtx -> mtx -> view lock):
 *   - view.mtx (FLOCK_GROUP_VIEW_LOCK): the view, seq and the event log;
 *     never held while calling callbacks or sending RPCs.
 *   - mtx: peers, the change queue, committing/closing flags, in-flight
 *     counts, committed (seq, digest), the random generator.
 *   - sync_mtx (secondaries): serializes applying updates, catching up and
 *     joining. It is held while callbacks run and while catch-up RPCs to the
 *     primary are in flight (never the other two locks).
 */
#ifndef FLOCK_CENTRALIZED_INTERNAL_H
#define FLOCK_CENTRALIZED_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <margo.h>
#include <frt.h>
#include <flock/flock-backend.h>
#include <flock/flock-group-view.h>

#include "centralized-config.h"
#include "centralized-logic.h"

#define CENT_LOG_PREFIX          "[flock:centralized] "
#define CENT_UPDATE_TIMEOUT_MS   1000.0 /* membership_update, per member */
#define CENT_LEAVE_TIMEOUT_MS    1000.0
#define CENT_CATCH_UP_TIMEOUT_MS 5000.0
#define CENT_FOREIGN_WARN_MS     10000.0 /* one "another group" line per 10 s */
#define CENT_SYNC_TIMEOUT_MS     1000.0
#define CENT_MAX_REDIRECTS       4      /* hops a request follows to the primary */ /* a listed secondary's first look at the primary */
#define CENT_JOIN_TIMEOUT_MS     60000.0
#define CENT_JOIN_RETRY_MS       10000.0 /* retry window for unreachable primaries */
#define CENT_JOIN_QUORUM_WAIT_MS 30000.0 /* and for a primary without a majority */
#define CENT_EVENT_LOG_CAPACITY  4096
#define CENT_META_TIMEOUT_MS     10000.0 /* a metadata change, to the primary */
#define CENT_NUM_RPCS            8

struct cent_state;

/* A member the primary pings (every member but itself). Owned by
 * centralized-ping.c: by the peers list while linked; once unlinked
 * (removed) by whoever sees it neither linked nor in flight. */
typedef struct cent_peer {
    struct cent_peer* next;
    struct cent_state* state;
    char* address;
    uint16_t provider_id;
    hg_addr_t addr;
    margo_timer_t timer;
    unsigned failures;
    double ping_start_ms;
    double interval_ms; /* drawn for the current cycle */
    bool in_flight;
    bool removed;  /* unlinked from the peers list */
    bool declared; /* DIED already queued: stop pinging */
} cent_peer_t;

/* A queued change request (primary). Owned by centralized-primary.c: by
 * the queue, then by the committer that took its batch. */
typedef struct cent_change {
    struct cent_change* next;
    flock_update_t type;   /* a membership change or FLOCK__CENT_META_SET/DEL */
    char* address;         /* the member, or the metadata key */
    uint16_t provider_id;
    char* value;           /* META_SET: the value */
    frt_request_t req;     /* join/leave request to answer, NULL for DIED */
    flock_return_t result; /* set by the committer */
    bool applied;
    bool rejoin; /* a join of a listed member (a restart): answered, no event */
} cent_change_t;

/* The backend's state: allocated and freed by centralized-backend.c. Which
 * room writes what: the view, seq and log -- the primary's committer
 * (centralized-primary.c) or the secondary's appliers
 * (centralized-secondary.c), each under the view lock; peers and rng --
 * centralized-ping.c; the queue, committing, committed_* --
 * centralized-primary.c; rpc_registered -- centralized-rpc.c; joined and
 * the rest -- centralized-backend.c at init. */
typedef struct cent_state {
    margo_instance_id mid;
    uint16_t provider_id;
    ABT_pool pool;
    char* self_addr;
    flock_backend_init_args_t cb_args; /* callbacks + context only */
    flock__cent_config_t config;
    struct json_object* config_json; /* effective config */
    _Atomic bool is_primary; /* changes on a takeover or a step-down */
    bool joined; /* secondary that is a member */
    bool failover; /* "failover" (default true): succession, quorum rules */

    /* the current primary (centralized-failover.c; under mtx): who this
     * member's requests go to; changes on a takeover, a step-down, or a
     * newer term heard of */
    hg_addr_t primary_addr;
    char primary_str[FRT_MAX_ADDR_LEN + 1];
    uint16_t primary_pid;
    uint64_t voted_term;   /* the newest term this member voted in (mtx) */
    double next_candidacy_ms; /* no candidacy before (mtx): after a vote given or
                                 an election lost, randomized so that candidates
                                 do not keep splitting the votes */
    bool step_down;        /* primary: a newer term exists (mtx) */
    bool handover;         /* the primary left and named this member (mtx) */
    bool quorum_lost;      /* primary: no majority reachable (mtx) */
    struct json_object* retired_json[8]; /* config_json of earlier terms */
    unsigned nretired;

    /* protected by view.mtx */
    flock_group_view_t view;
    uint64_t seq;          /* primary: last assigned; secondary: last applied */
    flock__cent_log_t log; /* primary only */

    /* protected by mtx */
    pthread_mutex_t mtx;
    pthread_cond_t cv;
    cent_peer_t* peers;
    cent_change_t* queue_head;
    cent_change_t* queue_tail;
    bool committing;
    bool closing;
    unsigned inflight; /* ping round trips + ping-completion committers */
    uint64_t committed_seq;
    uint64_t committed_digest;
    uint64_t rng;

    /* identity (protected by mtx): the group id (0 = unknown: a member
     * started from a file without one, until it hears from the primary)
     * and the term: the primary's own, or the newest a secondary accepted
     * (0 = none yet). See docs/design.md, "Group identity and terms". */
    uint64_t group_id;
    uint64_t term;
    double last_foreign_ms; /* rate limit of "refused: another group" (rpc) */

    /* the secondary's watch over its membership (centralized-watch.c;
     * protected by mtx) */
    margo_timer_t watch_timer;
    double last_contact_ms; /* last ping or update from the primary */
    double last_check_ms;   /* last check with the primary (one per window) */
    bool removed;           /* the group no longer lists this member */
    bool checking;          /* a check (and maybe a rejoin) runs */
    double last_warning_ms; /* rate limit of "cannot reach the primary" */

    pthread_mutex_t sync_mtx;
    bool rpc_registered[CENT_NUM_RPCS];
} cent_state_t;

/* ---------------- centralized-common.c ---------------- */

/* Contract: replies `status` (u32) to req; req is released. */
void cent__respond_status(frt_request_t req, flock_return_t status);

/* Contract: no lock held. Fire the provider's member callback (metadata
 * callback for META_SET / META_DEL) for each event. */
void cent__notify(cent_state_t* s, const flock__cent_event_t* evs, size_t n);

/* ---------------- centralized-ping.c (primary) ---------------- */

/* Contract: no lock held; primary; not closing. Create the peer for
 * (address, pid), link it and arm its first ping after a random interval.
 * Failures are logged: the member then is not pinged. */
void cent__peer_add(cent_state_t* s, const char* address, uint16_t pid);

/* Contract: no lock held. Unlink the peer of (address, pid), if any, and
 * free it now, or let its in-flight ping completion free it. */
void cent__peer_remove(cent_state_t* s, const char* address, uint16_t pid);

/* Contract: no lock held. A listed member rejoined (restarted): forget the
 * failures counted against it. */
void cent__peer_reset(cent_state_t* s, const char* address, uint16_t pid);

/* Contract: no lock held; init of the primary. Start pinging every member
 * of the view but this one. FLOCK_ERR_ALLOCATION. */
flock_return_t cent__ping_start_all(cent_state_t* s);

/* Contract: no lock held; closing is set. Unlink every peer and cancel its
 * timer (waits for a running timer callback); the caller frees the
 * returned list with cent__peer_free_list once no ping is in flight. */
cent_peer_t* cent__ping_stop_all(cent_state_t* s);

/* Contract: no lock held; a primary stepping down. Unlink every peer and
 * stop its pings (a peer whose ping is in flight is freed by its
 * completion). */
void cent__ping_drop_all(cent_state_t* s);

/* Free a list of unlinked peers (NULL-safe). */
void cent__peer_free_list(cent_peer_t* peers);

/* ---------------- centralized-primary.c ---------------- */

/* A new change (address copied), or NULL when out of memory. */
cent_change_t* cent__change_new(flock_update_t type, const char* address, uint16_t pid);

/* A new metadata change (META_SET with value, META_DEL with NULL; key and
 * value copied), or NULL when out of memory. */
cent_change_t* cent__change_new_meta(flock_update_t type, const char* key, const char* value);

/* Free a change (NULL-safe); its request must have been answered. */
void cent__change_free(cent_change_t* c);

/* Contract: no lock held; primary. Queue a join/leave of (src, pid) that
 * answers req (now or from the committer). */
void cent__primary_queue_request(cent_state_t* s, frt_request_t req, flock_update_t type,
                                 const char* src, uint16_t pid);

/* Contract: no lock held. Queue c (ownership taken) and, if no other thread
 * is committing, drain the queue on this thread. */
void cent__enqueue_and_commit(cent_state_t* s, cent_change_t* c);

/* Contract: primary; no lock held. Answer a get_view request: the changes
 * after `since`, or the full view. */
void cent__primary_serve_view(cent_state_t* s, frt_request_t req, uint64_t since,
                              bool want_full);

/* ---------------- centralized-secondary.c ---------------- */

/* Contract: secondary; no lock held. Apply a broadcast batch of events in
 * seq order, catching up on a gap. */
void cent__secondary_apply_update(cent_state_t* s, const flock__cent_event_t* evs, size_t n);

/* Contract: secondary; no lock held; the ping has been answered. Catch up
 * if the primary's committed (seq, digest) says this member is behind, or
 * take the whole view when the ping opened a newer term (adopt). */
void cent__secondary_on_ping(cent_state_t* s, uint64_t seq, uint64_t digest, bool adopt);

/* Contract: secondary; no lock held. A newer term started (a restarted or
 * new primary): take the whole view from the primary, callbacks for what
 * differs. */
void cent__secondary_resync(cent_state_t* s);

/* Contract: sync_mtx held; no other lock. Ask the primary for the whole
 * view (timeout_ms). FLOCK_SUCCESS with *listed telling whether it lists
 * this member (the view is then installed, callbacks for what differs);
 * FLOCK_ERR_FROM_MERCURY when the primary cannot be reached; another error
 * when it refused. */
flock_return_t cent__secondary_check_locked(cent_state_t* s, double timeout_ms, bool* listed);

/* Contract: sync_mtx held by the caller; RPCs registered. Join through the
 * primary, retrying while it is unreachable, and install its view. */
flock_return_t cent__secondary_join(cent_state_t* s);

/* Contract: sync_mtx held; RPCs registered. Join again after the group
 * removed this member (no retry loop: the watch tries again later). */
flock_return_t cent__secondary_rejoin_locked(cent_state_t* s);

/* Contract: a joined secondary; no lock held. Tell the primary this member
 * leaves (CENT_LEAVE_TIMEOUT_MS); failures are logged. */
void cent__secondary_leave(cent_state_t* s);

/* Contract: no lock held. This member's (group_id, term), read under mtx. */
void cent__identity(cent_state_t* s, uint64_t* group_id, uint64_t* term);

/* Contract: no lock held. Take a group id this member did not know yet and
 * a term newer than its own (a secondary that heard from the primary). */
void cent__adopt(cent_state_t* s, uint64_t group_id, uint64_t term);

/* Contract: no lock held. Append the request envelope (this member's
 * group id and term) to b. */
void cent__put_envelope(cent_state_t* s, frt_wbuf* b);

/* ---------------- centralized-watch.c (secondary) ---------------- */

/* Contract: no lock held; a secondary with RPCs registered. Start the
 * periodic watch: a member the primary has stopped pinging, or that heard
 * of its own removal, checks with the primary and rejoins if the group no
 * longer lists it. FLOCK_ERR_FROM_MERCURY if no timer can be made. */
flock_return_t cent__watch_start(cent_state_t* s);

/* Contract: no lock held; closing set. Stop the watch (waits for a running
 * check). Safe if it never started. */
void cent__watch_stop(cent_state_t* s);

/* Contract: any lock but mtx may be held. Note a ping or an update from
 * the primary (the watch's clock). */
void cent__watch_contact(cent_state_t* s);

/* Contract: no lock but sync_mtx held. This member learnt that the group
 * removed it (a broadcast about itself, or a view that does not list it):
 * one warning line; the watch rejoins at its next tick. */
void cent__watch_removed(cent_state_t* s, const char* why);

/* ---------------- centralized-failover.c ---------------- */

/* Contract: no lock held. Call the current primary (a copy of its address
 * is taken under mtx). */
hg_return_t cent__call_primary(cent_state_t* s, const char* rpc, const frt_wbuf* in,
                               double timeout_ms, void** out, size_t* out_len);

/* Contract: no lock held. The current primary's address (copied into
 * buf) and provider id, for messages. */
void cent__primary_name(cent_state_t* s, char* buf, size_t size, uint16_t* pid);

/* Contract: no lock held. Make (address, pid) the current primary.
 * FLOCK_ERR_FROM_MERCURY if the address cannot be resolved (unchanged). */
flock_return_t cent__set_primary(cent_state_t* s, const char* address, uint16_t pid);

/* Contract: no lock held. Answer req (a request meant for the primary,
 * received by a member that is not) with OP_FORBIDDEN and a redirect to
 * the primary this member knows. */
void cent__respond_redirect(cent_state_t* s, frt_request_t req);

/* Contract: no lock held. Read the answer to a request sent to the primary
 * (after its status, OP_FORBIDDEN): follow a redirect (the current primary
 * changes). true if there is a new primary to try. */
bool cent__follow_redirect(cent_state_t* s, frt_rbuf* r);

/* Contract: handler of the vote RPC (no lock held): grant the candidate
 * (candidate address, cand_pid) a vote for term `term` if this member has
 * not voted in that term, knows no newer term, has a view no newer than
 * the candidate's, and cannot reach the current primary itself. */
void cent__failover_vote(cent_state_t* s, frt_request_t req, uint64_t term,
                         uint16_t cand_pid, uint64_t cand_last_term, uint64_t cand_seq);

/* Contract: sync_mtx held (the watch); a secondary whose primary does not
 * answer, silent for silent_ms. If this member is next in the succession
 * (view order after the primary, each later successor waiting one more
 * window) and a majority of the last view confirms that the primary is
 * unreachable, take over with a new term; *died then names the old
 * primary's DIED change, to commit once sync_mtx is released. */
void cent__failover_maybe_take_over(cent_state_t* s, double silent_ms, double window_ms,
                                    cent_change_t** died);

/* Contract: no lock held; a primary being destroyed, its RPCs deregistered
 * (so that voters find it gone). Ask its successor (the next in view order
 * that answers) to take over at once; the successor reports it LEFT. */
void cent__failover_hand_over(cent_state_t* s);

/* Contract: handler of the handover RPC (no lock held): the primary left
 * and names this member; the watch takes over at its next tick. */
void cent__failover_on_handover(cent_state_t* s, frt_request_t req);

/* Contract: no lock held; a primary that learnt of a newer term (step_down
 * set). Stop pinging, become a secondary of the newer primary (already set)
 * and let the watch rejoin. */
void cent__failover_step_down(cent_state_t* s);

/* Contract: mtx held; a primary. Update quorum_lost from the peers'
 * failures: true when this member and the peers that answer their last
 * ping are no majority of the view. Logs each change. */
void cent__failover_quorum_locked(cent_state_t* s);

/* ---------------- centralized-metadata.c ---------------- */

/* Contract: no lock held (the backend's add/remove_metadata op). Ask the
 * primary to set (value) or remove (NULL) key, following redirects; it
 * answers once the change is applied and broadcast. The primary's status,
 * or FLOCK_ERR_FROM_MERCURY when it cannot be reached. */
flock_return_t cent__metadata_request(cent_state_t* s, const char* key, const char* value);

/* ---------------- centralized-rpc.c ---------------- */

/* Contract: no lock held. Register the five RPCs (handlers get s). */
flock_return_t cent__register_all(cent_state_t* s);

/* Contract: no lock held. Deregister what is registered (waits for running
 * handlers). Safe to call twice. */
void cent__deregister_all(cent_state_t* s);

#endif /* FLOCK_CENTRALIZED_INTERNAL_H */
