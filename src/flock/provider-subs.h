/*
 * provider-subs.h -- a provider's subscribers (provider-subs.c): the
 * flock_subscribe / flock_unsubscribe RPCs, the log of recent changes they
 * read from, and the expiry of subscribers that stopped polling.
 */
#ifndef FLOCK_PROVIDER_SUBS_H
#define FLOCK_PROVIDER_SUBS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <margo.h>
#include <flock/flock-group-view.h>

#include "flock/group-file.h"
#include "flock/subscribe-wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Changes kept for subscribers that are between two polls (the ring grows
 *  from 32 to this while someone is subscribed and is freed when nobody is);
 *  one that falls further behind gets a snapshot instead. */
#define FLOCK__SUBS_LOG_CAPACITY 4096u
/** Most subscribers of one provider (more are refused with FLOCK_ERR_OTHER). */
#define FLOCK__SUBS_MAX          65536u
/** A subscriber is forgotten after 2 x its wait + this, without a poll. */
#define FLOCK__SUBS_LEASE_EXTRA_MS 5000.0

struct flock__sub;

/** One provider's subscription service. Zero it, then flock__subs_init. */
typedef struct flock__subs {
    margo_instance_id     mid;
    uint16_t              provider_id;
    flock__view_source_fn source; /* snapshots */
    void*                 source_ctx;
    pthread_mutex_t       mtx;    /* everything below; then the view lock */
    flock__sub_event_t*   log;    /* ring of log_cap (<= FLOCK__SUBS_LOG_CAPACITY) */
    size_t                log_cap, log_head, log_count;
    uint64_t              next_seq; /* seq of the next change (first: 1) */
    flock__sub_removal_t* removals; /* ring of rm_cap (<= FLOCK__SUB_MAX_REMOVALS) */
    size_t                rm_cap, rm_head, rm_count;
    struct flock__sub*    subs;
    size_t                nsubs;
    uint64_t              id_base; /* random: ids of another incarnation never match */
    uint64_t              next_id;
    margo_timer_t         timer;   /* wakes parked polls and expires subscribers */
    bool                  timer_armed;
    double                timer_due_ms;
    bool                  rpcs_registered;
    bool                  closing;
    bool                  initialized;
} flock__subs_t;

/** Set up s and register the two RPCs for provider_id.
 *  FLOCK_ERR_ALLOCATION / FLOCK_ERR_FROM_MERCURY. */
flock_return_t flock__subs_init(flock__subs_t* s, margo_instance_id mid, uint16_t provider_id,
                                flock__view_source_fn source, void* source_ctx);

/** Record a change (after the backend applied it; no lock held) and answer
 *  the polls that wait for it. Allocation failures turn the subscribers
 *  that would miss the change over to a snapshot. */
void flock__subs_publish_member(flock__subs_t* s, flock_update_t update, const char* address,
                                uint16_t provider_id);
void flock__subs_publish_metadata(flock__subs_t* s, const char* key, const char* value);

/** Number of live subscribers (tests, info). */
size_t flock__subs_count(flock__subs_t* s);

/** Deregister the RPCs, answer the parked polls (the subscribers fail over),
 *  stop the timer, forget the subscribers; later publications are ignored.
 *  The memory stays (a dispatcher may still be running): free it with
 *  flock__subs_destroy once none can run. Safe on a zeroed or closed s. */
void flock__subs_close(flock__subs_t* s);

/** Close if needed and free everything. Safe on a zeroed or destroyed s. */
void flock__subs_destroy(flock__subs_t* s);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_PROVIDER_SUBS_H */
