/*
 * swim-bench-worker.c -- a worker process of swim-bench: K members of the
 * group, on one runtime instance (the default) or on one instance each
 * (-inst 1: the common HPC case, one process per member), driven by
 * commands on stdin (SEED, JOIN, STATS, CRASH, LEAVE, QUIT) and reporting
 * on stdout (READY, SEEDADDR, JOINED, FULL, EV, GONE, STATS, BYE).
 * STATS also measures resident memory (mem_snapshot): the RSS, and from
 * /proc/self/smaps where it sits (thread stacks, the main heap, other
 * anonymous memory: malloc's thread arenas and large blocks), each minus
 * its value before the first member, plus the thread count.
 * Calls: the flock server API and the swim backend's internal stats.
 */
#include <ctype.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <flock/flock-server.h>
#include <flock/flock-group-view.h>
#include "../src/backends/swim/swim-backend.h"
#include "backends/swim/swim-backend-internal.h"
#include "flock/provider-internal.h"
#include "swim-bench.h"
#include "../../tests/common/view-size.h"

typedef struct wprov {
    flock_provider_t  p;
    margo_instance_id mid; /* its own instance (-inst 1), else NULL */
    int              idx; /* global member index */
    bool             full;
    bool             gone;
} wprov;

static pthread_mutex_t out_mtx = PTHREAD_MUTEX_INITIALIZER;

static void emit(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char* fmt, ...)
{
    char    line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    pthread_mutex_lock(&out_mtx);
    ssize_t w = write(1, line, (size_t)n);
    (void)w;
    pthread_mutex_unlock(&out_mtx);
}

/* Resident memory, in KiB: the whole RSS (statm), and from smaps the
 * writable private mappings by kind. A thread stack is a mapping of the
 * size the pool gives its threads (4 MiB) or glibc's default (8 MiB). */
typedef struct mem_snapshot {
    long rss, stacks, heap, anon, threads;
} mem_snapshot;

static void mem_take(mem_snapshot* m)
{
    memset(m, 0, sizeof *m);
    long  pages = 0, resident = 0;
    FILE* f     = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) == 2)
            m->rss = resident * (sysconf(_SC_PAGESIZE) / 1024);
        fclose(f);
    }
    f = fopen("/proc/self/status", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) m->threads = atol(line + 8);
    if (f) fclose(f);
    f = fopen("/proc/self/smaps", "r");
    if (!f) return;
    enum { OTHER, STACK, HEAP, ANON } kind = OTHER;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char          perms[8] = {0}, path[256] = {0};
        if (isxdigit((unsigned char)line[0]) &&
            sscanf(line, "%lx-%lx %7s %*s %*s %*s %255[^\n]", &lo, &hi, perms, path) >= 3) {
            unsigned long kib = (hi - lo) / 1024;
            bool          rw  = perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p';
            char*         pth = path;
            while (*pth == ' ') pth++;
            if (!rw) kind = OTHER;
            else if (strcmp(pth, "[heap]") == 0) kind = HEAP;
            else if (!*pth && (kib == 4096 || kib == 8192)) kind = STACK;
            else if (!*pth) kind = ANON;
            else kind = OTHER;
        } else if (strncmp(line, "Rss:", 4) == 0) {
            long v = atol(line + 4);
            if (kind == STACK) m->stacks += v;
            else if (kind == HEAP) m->heap += v;
            else if (kind == ANON) m->anon += v;
        }
    }
    fclose(f);
}

static void on_member(void* ctx, flock_update_t up, const char* addr, uint16_t pid)
{
    wprov* w = ctx;
    if (up == FLOCK_MEMBER_JOINED) return;
    emit("EV %c %d %s %u %.3f\n", up == FLOCK_MEMBER_LEFT ? 'L' : 'D', w->idx, addr,
         (unsigned)pid, now_ms());
}

static size_t view_size(flock_provider_t p)
{
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    if (flock__provider_get_backend(p, &impl, &state) != FLOCK_SUCCESS) return 0;
    /* the size of the view get_view gives, without building the view (this
     * is polled every 20 ms for every provider during the bootstrap) */
    if (impl->name && strcmp(impl->name, "swim") == 0) return flock__swim_view_size(state);
    return provider_view_size(p);
}

#include "../../tests/common/heap-count.h"

const char* g_heap_method = HEAP_METHOD;

/* The instance member i lives on: the worker's shared one, or (-inst 1) a
 * new one of its own, as a process with one provider would make it. */
static margo_instance_id member_instance(margo_instance_id shared, wprov* w)
{
    if (!g_inst) return shared;
    w->mid = margo_init("tcp://127.0.0.1:0", MARGO_SERVER_MODE, 0, 0);
    if (w->mid && g_verbose) margo_set_log_level(w->mid, MARGO_LOG_INFO);
    return w->mid;
}

static uint16_t member_pid(int i) { return g_inst ? 1 : (uint16_t)(i + 1); }

typedef struct join_job {
    margo_instance_id mid;
    wprov*            P;
    int               k, first_idx, t, nt;
    const char*       seed;
    uint16_t          seed_pid;
    const char*       config;
} join_job;

static void* join_thread(void* arg)
{
    join_job* j = arg;
    for (int i = j->t; i < j->k; i += j->nt) {
        wprov* w = &j->P[i];
        if (w->p) continue;
        flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
        flock_group_view_add_member(&view, j->seed, j->seed_pid);
        struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
        args.initial_view               = &view;
        w->idx                          = j->first_idx + i;
        flock_provider_t  p             = NULL;
        margo_instance_id mid           = member_instance(j->mid, w);
        if (!mid || flock_provider_register(mid, member_pid(i), j->config, &args, &p) !=
                        FLOCK_SUCCESS) {
            emit("ERROR join %d\n", w->idx);
        } else {
            flock_provider_add_update_callbacks(p, on_member, NULL, w);
            w->p = p;
            if (w->mid) emit("ADDR %d %s %d\n", w->idx, frt_self_addr_str(w->mid), member_pid(i));
        }
        flock_group_view_clear(&view);
    }
    return NULL;
}

int swim_bench_worker_main(int first_idx, int k, int n_total)
{
    margo_instance_id mid = margo_init("tcp://127.0.0.1:0", MARGO_SERVER_MODE, 0, 4);
    if (!mid) return 1;
    if (g_verbose) margo_set_log_level(mid, MARGO_LOG_INFO); /* -v: protocol events */
    wprov* P = calloc((size_t)k, sizeof *P);
    char   config[2048];
    if (g_gfile[0]) /* -gfile 1: every member keeps the group file (one writes it) */
        snprintf(config, sizeof config, "{\"file\":\"%s\",\"group\":{\"type\":\"swim\","
                 "\"config\":%s}}", g_gfile, g_cfg);
    else
        snprintf(config, sizeof config, "{\"group\":{\"type\":\"swim\",\"config\":%s}}",
                 g_cfg);
    size_t       heap0   = heap_bytes();
    long long    chunks0 = heap_chunks();
    mem_snapshot mem0;
    mem_take(&mem0);
    emit("READY %s\n", frt_self_addr_str(mid));
    char   line[512];
    size_t len = 0;
    bool   polling = false;
    for (;;) {
        struct pollfd pf = {.fd = 0, .events = POLLIN};
        int           pr = poll(&pf, 1, 20);
        if (polling) {
            bool all = true;
            for (int i = 0; i < k; i++) {
                if (!P[i].p || P[i].full) continue;
                if (view_size(P[i].p) == (size_t)n_total) {
                    P[i].full = true;
                    emit("FULL %d %.3f\n", P[i].idx, now_ms());
                } else {
                    all = false;
                }
            }
            if (all) polling = false;
        }
        if (pr <= 0) continue;
        ssize_t r = read(0, line + len, sizeof line - 1 - len);
        if (r <= 0) break;
        len += (size_t)r;
        line[len] = 0;
        char* nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            char cmd[32] = {0}, a[256] = {0};
            int  x = 0;
            sscanf(line, "%31s %255s %d", cmd, a, &x);
            if (strcmp(cmd, "SEED") == 0) {
                struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
                margo_instance_id          smid = member_instance(mid, &P[0]);
                if (!smid || flock_provider_register(smid, 1, config, &args, &P[0].p) !=
                                 FLOCK_SUCCESS) {
                    emit("ERROR seed\n");
                    continue;
                }
                P[0].idx = first_idx;
                flock_provider_add_update_callbacks(P[0].p, on_member, NULL, &P[0]);
                if (P[0].mid) emit("ADDR %d %s 1\n", first_idx, frt_self_addr_str(P[0].mid));
                emit("SEEDADDR %s\n", frt_self_addr_str(smid));
            } else if (strcmp(cmd, "JOIN") == 0) {
                /* all providers join at once (like the reference's goroutines) */
                int       nt = k < g_join_threads ? k : g_join_threads;
                join_job  jobs[MAX_JOIN_THREADS];
                pthread_t th[MAX_JOIN_THREADS];
                for (int t = 0; t < nt; t++) {
                    jobs[t] = (join_job){mid, P, k, first_idx, t, nt, a, (uint16_t)x, config};
                    pthread_create(&th[t], NULL, join_thread, &jobs[t]);
                }
                for (int t = 0; t < nt; t++) pthread_join(th[t], NULL);
                polling = true;
                emit("JOINED %d\n", k);
            } else if (strcmp(cmd, "STATS") == 0) {
                flock__swim_stats st;
                flock__swim_get_stats(&st);
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                size_t       heap1 = heap_bytes();
                mem_snapshot m1;
                mem_take(&m1);
                size_t peak = heap_peak();
                emit("STATS %llu %llu %zu %.3f %ld %llu %lld %ld %ld %ld %ld %ld %zu\n",
                     (unsigned long long)st.msgs_sent, (unsigned long long)st.bytes_sent,
                     heap1 > heap0 ? heap1 - heap0 : 0,
                     ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
                         ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3,
                     ru.ru_maxrss, (unsigned long long)st.state_bytes, heap_chunks() - chunks0,
                     m1.rss - mem0.rss, m1.stacks - mem0.stacks, m1.heap - mem0.heap,
                     m1.anon - mem0.anon, m1.threads - mem0.threads,
                     peak > heap0 ? peak - heap0 : 0);
            } else if (strcmp(cmd, "CRASH") == 0 || strcmp(cmd, "LEAVE") == 0) {
                int i = atoi(a) - first_idx;
                if (i >= 0 && i < k && P[i].p) {
                    double t = now_ms();
                    if (cmd[0] == 'C') flock_swim_set_crash_mode(P[i].p, true);
                    emit("GONE %d %.3f %s %d\n", P[i].idx, t,
                         frt_self_addr_str(P[i].mid ? P[i].mid : mid), member_pid(i));
                    flock_provider_destroy(P[i].p);
                    P[i].p    = NULL;
                    P[i].gone = true;
                }
            } else if (strcmp(cmd, "QUIT") == 0) {
                goto quit;
            }
            len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len + 1);
        }
    }
quit:
    for (int i = 0; i < k; i++)
        if (P[i].p) {
            flock_swim_set_crash_mode(P[i].p, true);
            flock_provider_destroy(P[i].p);
        }
    for (int i = 0; i < k; i++)
        if (P[i].mid) margo_finalize(P[i].mid);
    free(P);
    margo_finalize(mid);
    emit("BYE\n");
    return 0;
}

