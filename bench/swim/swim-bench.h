/*
 * swim-bench.h -- what swim-bench's orchestrator (swim-bench.c) and its
 * worker processes (swim-bench-worker.c) share: the options a worker reads
 * and the clock.
 */
#ifndef FLOCK_SWIM_BENCH_H
#define FLOCK_SWIM_BENCH_H

#include <time.h>

extern const char* g_cfg;     /* the swim config (JSON) */
extern int         g_verbose; /* -v 1: workers log protocol events (info) to stderr */
extern int         g_inst;    /* -inst 1: one runtime instance per member */
#define MAX_JOIN_THREADS 128
extern int         g_join_threads; /* -join-threads: registrations at once per worker */
extern char        g_gfile[256];   /* -gfile 1: the group file every member keeps ("": none) */
extern const char* g_heap_method; /* how the workers count their heap */

/** A worker: members first_idx .. first_idx+k-1 of a group of n_total;
 *  commands on stdin, reports on stdout. Returns the exit status. */
int swim_bench_worker_main(int first_idx, int k, int n_total);

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif
