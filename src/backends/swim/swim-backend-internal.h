/*
 * swim-backend-internal.h -- process-wide counters of the swim backend, for
 * benchmarks and tests (not installed).
 */
#ifndef FLOCK_SWIM_BACKEND_INTERNAL_H
#define FLOCK_SWIM_BACKEND_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct flock__swim_stats {
    uint64_t msgs_sent;  /* requests sent + responses sent, all swim providers */
    uint64_t bytes_sent; /* payload bytes of those */
    uint64_t providers;  /* swim backends currently alive in this process */
    uint64_t bad_msgs;   /* malformed messages dropped */
    uint64_t state_bytes; /* heap held by the swim backends (state machines +
                             views), summed over this process's providers */
} flock__swim_stats;

/** Snapshot of the process-wide counters. */
void flock__swim_get_stats(flock__swim_stats* out);

/** Members in the view get_view would give (backend state of a "swim"
 *  provider, from flock__provider_get_backend), without building it. */
size_t flock__swim_view_size(void* backend_state);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_BACKEND_INTERNAL_H */
