/*
 * group-file.h -- the group file a provider keeps current (group-file.c):
 * who writes it, when, and what happens when a write fails.
 */
#ifndef FLOCK_GROUP_FILE_H
#define FLOCK_GROUP_FILE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <margo.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where the writer reads the view: calls fn(uargs, view) with the
 *  backend's view (fn locks it); an error if there is none (yet). */
typedef flock_return_t (*flock__view_source_fn)(void* ctx,
                                                void (*fn)(void*, const flock_group_view_t*),
                                                void* uargs);

/** Retry delays after a failed rewrite: doubling from the first, capped. */
#define FLOCK__GROUP_FILE_RETRY_FIRST_MS 100.0
#define FLOCK__GROUP_FILE_RETRY_MAX_MS   10000.0

/** Changes are written at once while they come in bursts of up to
 *  FLOCK__GROUP_FILE_BURST; a longer stream is written once per
 *  FLOCK__GROUP_FILE_COALESCE_MS, each write covering the changes since the
 *  last one (a 1024-member bootstrap is 1023 changes in a few seconds, and
 *  each write reads the whole view: O(N^2) per member, the group did not
 *  form at N = 512). */
#define FLOCK__GROUP_FILE_BURST       16.0
#define FLOCK__GROUP_FILE_COALESCE_MS 250.0
/** The same for a provider that found it does not write the file (it reads
 *  the view to find out): it looks again at most this often, so a new
 *  writer (member 0 gone) takes over within this delay. */
#define FLOCK__GROUP_FILE_RECHECK_MS 2000.0

/** One provider's group file. Zero it, then flock__group_file_init. */
typedef struct flock__group_file {
    margo_instance_id     mid;
    uint16_t              provider_id;
    char*                 filename;  /* owned; NULL: no group file */
    const char*           self_addr; /* borrowed from the provider */
    flock__view_source_fn source;
    void*                 source_ctx;
    pthread_mutex_t       mtx;       /* serializes writes; then the view lock */
    bool                  owner;     /* wrote the file at registration */
    margo_timer_t         retry;     /* armed after a failed write */
    double                retry_ms;  /* the next delay */
    bool                  retry_armed;
    bool                  failing;   /* the last write failed (logged once) */
    bool                  closing;
    margo_timer_t         later;     /* a coalesced write (FLOCK__GROUP_FILE_COALESCE_MS) */
    bool                  later_armed;
    double                tokens;    /* writes allowed at once (coalesce_locked) */
    double                tokens_at; /* when tokens was computed (0: never) */
    bool                  writer;    /* the last write found this provider the writer */
    bool                  wrote;     /* `written` is the file this provider last wrote */
    struct stat           written;   /* (file_is_ours need not parse it again) */
} flock__group_file_t;

/** Set up f (filename copied, may be NULL). FLOCK_ERR_ALLOCATION. */
flock_return_t flock__group_file_init(flock__group_file_t* f, margo_instance_id mid,
                                      uint16_t provider_id, const char* filename,
                                      const char* self_addr, flock__view_source_fn source,
                                      void* source_ctx);

/**
 * Rewrite the file if this provider is its writer: the group's primary when
 * the view's __config__ names one (centralized), else member 0 of the view
 * or the provider that wrote it at registration (`registering` marks that
 * write, which decides ownership). A file that now describes another group
 * id is never overwritten (logged). A failed write is logged once and
 * retried with backoff (FLOCK__GROUP_FILE_RETRY_*) until one succeeds; the
 * error is returned so that a failure at registration can stop the start.
 * A change beyond a burst is written later, with the changes after it, in
 * one write (FLOCK_SUCCESS now; see FLOCK__GROUP_FILE_BURST).
 * Must not be called with the view locked.
 */
flock_return_t flock__group_file_write(flock__group_file_t* f, bool registering);

/** No write from now on: waits for a write in progress, cancels the timers
 * (waiting for a running one). A write that starts later (a membership
 * change still being delivered) does nothing. Idempotent; safe on a zeroed f. */
void flock__group_file_close(flock__group_file_t* f);

/** Close f (if not yet) and free it. Contract: nothing can call
 * flock__group_file_write(f) any more. Safe on a zeroed f. */
void flock__group_file_destroy(flock__group_file_t* f);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_GROUP_FILE_H */
