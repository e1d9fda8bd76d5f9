/*
 * swim-bench.c -- the swim backend measured like the memberlist reference
 * harness (../shared/anchors/memberlist-bench), then side by side with it.
 *
 * N providers are spread over P worker processes (one runtime instance per
 * process, K = N/P providers each, TCP on loopback). Timing as memberlist's
 * LAN profile: protocol period 1 s, ping timeout 500 ms, ping-req timeout
 * 500 ms, suspicion min 4*log10(N) s with Lifeguard's dynamic timeout.
 * Printed per N (same quantities as the reference):
 *   bootstrap: all members join through one seed; time until all see N
 *   steady:    messages and bytes sent per member per second
 *   memory:    live heap per member: whole worker processes (runtime
 *              included) after the first steady window, minus their heap
 *              before the providers were created, counted exactly by the
 *              malloc family defined below (see heap_bytes); and the swim
 *              backend's own state (swim__memory_estimate + backend struct)
 *   kill:      (-kill 1) a worker process holding one member (its own
 *              runtime instance) is SIGKILLed; time until all survivors
 *              declared it dead
 *   crash:     a member stops without leaving (crash mode); time until all
 *              survivors declared it dead
 *   leave:     a member leaves gracefully; time until all survivors saw it
 * Then, if the reference harness exists, it runs it for the -ml sizes and
 * prints ratios (ours / memberlist).
 *
 *   swim-bench [-n 16,64,128,256,1024] [-procs P] [-steady 10] [-ml 16,64,128|none]
 *              [-conv-timeout 90] [-det-timeout 120] [-ml-script path]
 *              [-hold S]   keep the group S more seconds before the crash (false positives)
 *              [-hog K]    run K busy-looping processes during the whole run
 *              [-v 1]      workers log protocol events (suspicions, deaths, refutations)
 *              [-why K]    print the first K false declarations (observer, member, when)
 *              [-kill 1]   the last member lives alone in one more worker process,
 *                          SIGKILLed before the in-process crash
 *              [-cfg JSON] extra swim config keys (merged over the LAN timing)
 *              [-gfile 1]  every member keeps a group file (private temp dir; the
 *                          seed's join path with a file, as a user deploys it)
 *              [-join-threads T]  registrations at once per worker process (8; all
 *                          of them with T >= its members, like the reference)
 *              [-inst 1]   one runtime instance per member (one process, one
 *                          provider: the common HPC case) instead of one per process
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <flock/flock-server.h>
#include <flock/flock-group-view.h>
#include "../src/backends/swim/swim-backend.h"
#include "backends/swim/swim-backend-internal.h"
#include "flock/provider-internal.h"
#include "swim-bench.h"

const char* g_cfg;
int         g_verbose;
int         g_why; /* -why K: print the first K false declarations */
int         g_inst;
int         g_join_threads = 8;
char        g_gfile[256];

/* ================================================================== */
/* orchestrator                                                       */
/* ================================================================== */

typedef struct worker {
    pid_t  pid;
    int    in, out; /* our ends: write commands to in, read lines from out */
    int    first, k;
    char   buf[1 << 16];
    size_t len;
    char   addr[256];
} worker;

typedef struct run {
    int     n, nw;
    worker* w;
    double* full_at;   /* per member */
    int     nfull;
    int     false_dead;
    int     why_printed; /* -why: false declarations printed */
    double  start;       /* the JOINs were sent (ms) */
    /* victim tracking */
    char    vaddr[256];
    char (*maddr)[256]; /* per member, when its worker reported it (-inst 1) */
    int*    mpid;
    int     vpid, vidx;
    char    vtype;
    double  vt0;
    double* seen_at; /* per member: time it reported the victim gone */
    int     nseen;
    bool    stats_ok[1024];
    unsigned long long msgs, bytes;
    size_t  heap;
    unsigned long long state_bytes;
    long long chunks; /* live heap allocations (exact count only) */
    double  cpu_ms;
    long    maxrss_kb;
    long    rss_kb, stacks_kb, heapmap_kb, anon_kb, threads; /* deltas (mem_take) */
    size_t  heap_peak; /* the live heap's high-water marks above the start (bytes) */
    int     nstats;
    int     ready, errors;
    double  joined_at; /* when the last worker finished registering its providers */
    bool    seedaddr;
    char    seed[256];
} run;

static void wsend(worker* w, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void wsend(worker* w, const char* fmt, ...)
{
    char    line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ssize_t r = write(w->in, line, (size_t)n);
    (void)r;
}

static void handle_line(run* R, worker* w, char* line)
{
    if (strncmp(line, "READY ", 6) == 0) {
        snprintf(w->addr, sizeof w->addr, "%s", line + 6);
        R->ready++;
    } else if (strncmp(line, "SEEDADDR ", 9) == 0) {
        snprintf(R->seed, sizeof R->seed, "%s", line + 9);
        R->seedaddr = true;
    } else if (strncmp(line, "ADDR ", 5) == 0) {
        int  idx = -1, pid = 0;
        char addr[256];
        if (sscanf(line + 5, "%d %255s %d", &idx, addr, &pid) == 3 && idx >= 0 && idx < R->n) {
            snprintf(R->maddr[idx], sizeof R->maddr[idx], "%s", addr);
            R->mpid[idx] = pid;
        }
    } else if (strncmp(line, "FULL ", 5) == 0) {
        int    idx = 0;
        double t   = 0;
        if (sscanf(line + 5, "%d %lf", &idx, &t) == 2 && idx >= 0 && idx < R->n &&
            R->full_at[idx] == 0) {
            R->full_at[idx] = t;
            R->nfull++;
        }
    } else if (strncmp(line, "EV ", 3) == 0) {
        char   type = 0, addr[256];
        int    obs = 0;
        unsigned pid = 0;
        double t = 0;
        if (sscanf(line + 3, "%c %d %255s %u %lf", &type, &obs, addr, &pid, &t) != 5) return;
        bool about_victim = R->vaddr[0] && strcmp(addr, R->vaddr) == 0 && (int)pid == R->vpid;
        if (about_victim && obs >= 0 && obs < R->n && R->seen_at[obs] == 0) {
            R->seen_at[obs] = t;
            R->nseen++;
        } else if (!about_victim && type == 'D') {
            R->false_dead++;
            if (g_why && R->why_printed++ < g_why) /* -why K: the first K, for a diagnosis */
                fprintf(stderr, "false-dead: observer %d (all seen at %.1f s) declared %s/%u dead "
                        "at %.2f s\n", obs,
                        obs >= 0 && obs < R->n && R->full_at[obs] > 0
                            ? (R->full_at[obs] - R->start) / 1000.0 : -1.0,
                        addr, pid, (t - R->start) / 1000.0);
        }
    } else if (strncmp(line, "STATS ", 6) == 0) {
        unsigned long long m = 0, b = 0;
        size_t heap = 0;
        double cpu = 0;
        long   rss = 0;
        unsigned long long sb = 0;
        long long          nchunks = 0;
        long               drss = 0, dstk = 0, dheap = 0, danon = 0, dthr = 0;
        size_t             peak = 0;
        if (sscanf(line + 6, "%llu %llu %zu %lf %ld %llu %lld %ld %ld %ld %ld %ld %zu", &m, &b,
                   &heap, &cpu, &rss, &sb, &nchunks, &drss, &dstk, &dheap, &danon, &dthr, &peak)
            == 13) {
            R->heap_peak += peak;
            R->rss_kb += drss;
            R->stacks_kb += dstk;
            R->heapmap_kb += dheap;
            R->anon_kb += danon;
            R->threads += dthr;
            R->state_bytes += sb;
            R->chunks += nchunks;
            R->msgs += m;
            R->bytes += b;
            R->heap += heap;
            R->cpu_ms += cpu;
            R->maxrss_kb += rss;
            R->nstats++;
        }
    } else if (strncmp(line, "GONE ", 5) == 0) {
        int    idx = 0, pid = 0;
        double t = 0;
        char   addr[256];
        if (sscanf(line + 5, "%d %lf %255s %d", &idx, &t, addr, &pid) == 4) {
            R->vt0 = t;
        }
    } else if (strncmp(line, "JOINED ", 7) == 0) {
        R->joined_at = now_ms();
    } else if (strncmp(line, "ERROR", 5) == 0) {
        R->errors++;
        fprintf(stderr, "worker: %s\n", line);
    }
}

static void pump(run* R, int ms)
{
    struct pollfd pf[256];
    int           nw = R->nw;
    for (int i = 0; i < nw; i++) {
        pf[i].fd     = R->w[i].out;
        pf[i].events = POLLIN;
    }
    if (poll(pf, (nfds_t)nw, ms) <= 0) return;
    for (int i = 0; i < nw; i++) {
        if (!(pf[i].revents & (POLLIN | POLLHUP))) continue;
        worker* w = &R->w[i];
        ssize_t r = read(w->out, w->buf + w->len, sizeof w->buf - 1 - w->len);
        if (r <= 0) continue;
        w->len += (size_t)r;
        w->buf[w->len] = 0;
        char* s = w->buf;
        char* nl;
        while ((nl = strchr(s, '\n'))) {
            *nl = 0;
            handle_line(R, w, s);
            s = nl + 1;
        }
        w->len -= (size_t)(s - w->buf);
        memmove(w->buf, s, w->len);
    }
}

static int cmp_d(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static double pct(double* xs, int n, double p)
{
    if (n <= 0) return -1;
    qsort(xs, (size_t)n, sizeof *xs, cmp_d);
    return xs[(int)(p * (n - 1))];
}

typedef struct result {
    int    n;
    bool   converged;
    double all_see_n, full_p50, full_p99;
    int    false_dead;
    double pkt_s, bytes_s, heap_kib, cpu_pct, state_kib, rss_kib, pkt_s_settled, bytes_s_settled;
    bool   crash_all, kill_all;
    double crash_first, crash_p50, crash_p99, crash_max;
    double kill_first, kill_p50, kill_p99, kill_max;
    bool   leave_all;
    double leave_p50, leave_max;
} result;

static void collect_stats(run* R, unsigned long long* m, unsigned long long* b, size_t* heap,
                          double* cpu)
{
    R->msgs = R->bytes = 0;
    R->heap            = 0;
    R->state_bytes     = 0;
    R->chunks          = 0;
    R->cpu_ms          = 0;
    R->maxrss_kb       = 0;
    R->rss_kb = R->stacks_kb = R->heapmap_kb = R->anon_kb = R->threads = 0;
    R->heap_peak = 0;
    R->nstats          = 0;
    for (int i = 0; i < R->nw; i++) wsend(&R->w[i], "STATS\n");
    double t0 = now_ms();
    while (R->nstats < R->nw && now_ms() - t0 < 10000) pump(R, 20);
    *m    = R->msgs;
    *b    = R->bytes;
    *heap = R->heap;
    *cpu  = R->cpu_ms;
}

/* victim phase ('C' crash mode, 'L' leave, 'K' SIGKILL of the victim's
 * worker process): returns all-seen (by `observers` members) */
static bool victim_phase(run* R, int vidx, char type, double timeout_ms, int observers,
                         double* xs, int* nxs)
{
    worker* vw = NULL;
    for (int i = 0; i < R->nw; i++)
        if (vidx >= R->w[i].first && vidx < R->w[i].first + R->w[i].k) vw = &R->w[i];
    memset(R->seen_at, 0, (size_t)R->n * sizeof *R->seen_at);
    R->nseen = 0;
    snprintf(R->vaddr, sizeof R->vaddr, "%s", R->maddr[vidx][0] ? R->maddr[vidx] : vw->addr);
    R->vpid = R->maddr[vidx][0] ? R->mpid[vidx] : vidx - vw->first + 1;
    R->vidx = vidx;
    R->vt0  = 0;
    if (type == 'K') {
        R->vt0 = now_ms();
        kill(vw->pid, SIGKILL);
    } else {
        wsend(vw, "%s %d\n", type == 'C' ? "CRASH" : "LEAVE", vidx);
    }
    double t0 = now_ms();
    while (now_ms() - t0 < timeout_ms) {
        pump(R, 20);
        if (R->vt0 > 0 && R->nseen >= observers) break;
    }
    *nxs = 0;
    for (int i = 0; i < R->n; i++)
        if (R->seen_at[i] > 0 && R->vt0 > 0) xs[(*nxs)++] = (R->seen_at[i] - R->vt0) / 1000.0;
    return R->nseen >= observers;
}

static double g_hold_s = 0;
static int    g_kill   = 0; /* -kill 1 */

static int bench_one(int n, int procs, double steady_s, double conv_s, double det_s,
                     result* res)
{
    run R;
    memset(&R, 0, sizeof R);
    memset(res, 0, sizeof *res);
    res->n  = n;
    R.n     = n;
    int nmain = g_kill ? n - 1 : n; /* members in the shared worker processes */
    R.nw      = (procs > nmain ? nmain : procs) + (g_kill ? 1 : 0);
    R.w     = calloc((size_t)R.nw, sizeof *R.w);
    R.full_at = calloc((size_t)n, sizeof *R.full_at);
    R.seen_at = calloc((size_t)n, sizeof *R.seen_at);
    R.maddr   = calloc((size_t)n, sizeof *R.maddr);
    R.mpid    = calloc((size_t)n, sizeof *R.mpid);
    double* xs = calloc((size_t)n, sizeof *xs);
    int     nshared = R.nw - (g_kill ? 1 : 0);
    int     per = nmain / nshared, extra = nmain % nshared, idx = 0;
    for (int i = 0; i < R.nw; i++) {
        worker* w = &R.w[i];
        w->first  = idx;
        w->k      = i < nshared ? per + (i < extra ? 1 : 0) : 1; /* -kill: the victim alone */
        idx += w->k;
        int to[2], from[2];
        if (pipe(to) || pipe(from)) return -1;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(to[0], 0);
            dup2(from[1], 1);
            close(to[0]);
            close(to[1]);
            close(from[0]);
            close(from[1]);
            for (int j = 0; j < i; j++) {
                close(R.w[j].in);
                close(R.w[j].out);
            }
            _exit(swim_bench_worker_main(w->first, w->k, n));
        }
        close(to[0]);
        close(from[1]);
        w->pid = pid;
        w->in  = to[1];
        w->out = from[0];
    }
    double t0 = now_ms();
    while (R.ready < R.nw && now_ms() - t0 < 30000) pump(&R, 20);
    if (R.ready < R.nw) {
        fprintf(stderr, "workers did not start\n");
        goto quit;
    }
    wsend(&R.w[0], "SEED\n");
    while (!R.seedaddr && now_ms() - t0 < 30000) pump(&R, 5);
    R.full_at[0] = 0;
    /* the cost of the bootstrap: all processes' CPU time and messages from here */
    unsigned long long bm0, bb0;
    size_t             bh0;
    double             bc0;
    collect_stats(&R, &bm0, &bb0, &bh0, &bc0);
    /* go */
    double start = now_ms();
    R.start      = start;
    for (int i = 0; i < R.nw; i++) wsend(&R.w[i], "JOIN %s 1\n", R.seed);
    while (R.nfull < n && now_ms() - start < conv_s * 1000) pump(&R, 10);
    double conv = now_ms() - start;
    res->converged = R.nfull == n;
    int nx = 0;
    for (int i = 0; i < n; i++)
        if (R.full_at[i] > 0) xs[nx++] = (R.full_at[i] - start) / 1000.0;
    res->all_see_n = res->converged ? pct(xs, nx, 1.0) : conv / 1000.0;
    res->full_p50  = pct(xs, nx, 0.5);
    res->full_p99  = pct(xs, nx, 0.99);
    printf("N=%d procs=%d (%.1f providers/process)\n", n, R.nw, (double)n / R.nw);
    printf("bootstrap: dead-declarations-during-bootstrap (false positives, summed over "
           "observers)=%d\n", R.false_dead);
    printf("bootstrap: converged=%s all-see-N=%.3fs per-member-full p50=%.3fs p99=%.3fs "
           "max=%.3fs join-errors=%d (all registrations returned after %.3fs)\n",
           res->converged ? "true" : "false", res->all_see_n, res->full_p50, res->full_p99,
           pct(xs, nx, 1.0), R.errors, (R.joined_at - start) / 1000.0);
    fflush(stdout);

    /* steady state */
    unsigned long long m0, b0, m1, b1;
    size_t             h0, h1;
    double             c0, c1;
    collect_stats(&R, &m0, &b0, &h0, &c0);
    printf("bootstrap: cost until converged: cpu=%.2fs (all processes) msgs=%llu "
           "bytes=%llu\n", (c0 - bc0) / 1000.0, m0 - bm0, b0 - bb0);
    fflush(stdout);
    double ts0 = now_ms();
    while (now_ms() - ts0 < steady_s * 1000) pump(&R, 50);
    collect_stats(&R, &m1, &b1, &h1, &c1);
    double secs  = (now_ms() - ts0) / 1000.0;
    res->pkt_s   = (double)(m1 - m0) / n / secs;
    res->bytes_s = (double)(b1 - b0) / n / secs;
    res->heap_kib = (double)h1 / 1024.0 / n;
    res->cpu_pct  = (c1 - c0) / (secs * 1000.0) * 100.0;
    res->false_dead = R.false_dead;
    printf("steady: right after convergence (as the reference): per-member msgs-out=%.2f "
           "msg/s %.1f B/s (window %.0fs; requests + responses) cpu=%.1f%% of one core\n",
           res->pkt_s, res->bytes_s, secs, res->cpu_pct);
    printf("memory: heap per member=%.1f KiB (live heap of the whole process incl. runtime, "
           "minus the heap before the providers; %s; total %.1f MiB over %d processes, "
           "%.0f allocations per member); swim backend state per member=%.1f KiB; peak live "
           "heap per member so far=%.1f KiB\n",
           res->heap_kib, g_heap_method, (double)h1 / 1048576.0, R.nw, (double)R.chunks / n,
           (double)R.state_bytes / 1024.0 / n, (double)R.heap_peak / 1024.0 / n);
    res->state_kib = (double)R.state_bytes / 1024.0 / n;
    res->rss_kib   = (double)R.rss_kb / n;
    printf("memory: resident per member=%.1f KiB (%s; RSS of the worker processes minus their "
           "RSS before the first member: thread stacks %.1f, main heap %.1f, other anonymous "
           "memory (malloc thread arenas, large blocks) %.1f, the rest %.1f; %.1f threads per "
           "member)\n",
           res->rss_kib, g_inst ? "one runtime instance per member" : "members share their "
           "process's instance", (double)R.stacks_kb / n, (double)R.heapmap_kb / n,
           (double)R.anon_kb / n,
           (double)(R.rss_kb - R.stacks_kb - R.heapmap_kb - R.anon_kb) / n,
           (double)R.threads / n);
    fflush(stdout);
    /* a second window once gossip has drained: the true steady state */
    ts0 = now_ms();
    while (now_ms() - ts0 < steady_s * 1000) pump(&R, 50);
    collect_stats(&R, &m0, &b0, &h0, &c0);
    secs = (now_ms() - ts0 + steady_s * 1000) / 1000.0 - steady_s;
    ts0  = now_ms();
    while (now_ms() - ts0 < steady_s * 1000) pump(&R, 50);
    unsigned long long m2, b2;
    size_t             h2;
    double             c2;
    collect_stats(&R, &m2, &b2, &h2, &c2);
    secs              = (now_ms() - ts0) / 1000.0;
    res->pkt_s_settled   = (double)(m2 - m0) / n / secs;
    res->bytes_s_settled = (double)(b2 - b0) / n / secs;
    printf("steady: settled (%.0fs after the first window): per-member msgs-out=%.2f msg/s "
           "%.1f B/s cpu=%.1f%% of one core\n", steady_s, res->pkt_s_settled,
           res->bytes_s_settled, (c2 - c0) / (secs * 1000.0) * 100.0);
    printf("memory: settled (end of that window): heap per member=%.1f KiB; swim backend "
           "state per member=%.1f KiB; resident per member=%.1f KiB (arenas %.1f)\n",
           (double)h2 / 1024.0 / n, (double)R.state_bytes / 1024.0 / n,
           (double)R.rss_kb / n, (double)R.anon_kb / n);
    if (g_hold_s > 0) {
        double th = now_ms();
        while (now_ms() - th < g_hold_s * 1000) pump(&R, 50);
        printf("hold: %.0f s more of steady state\n", g_hold_s);
    }
    printf("steady: false dead declarations so far=%d\n", R.false_dead);
    fflush(stdout);
    if (!res->converged) goto quit;

    int gone = 0;
    if (g_kill) {
        /* SIGKILL: the last member's process dies (its connections close) */
        res->kill_all = victim_phase(&R, n - 1, 'K', det_s * 1000, n - 1, xs, &nx);
        double* kc    = calloc((size_t)n, sizeof *kc);
        memcpy(kc, xs, (size_t)nx * sizeof *xs);
        res->kill_first = pct(kc, nx, 0.0);
        res->kill_p50   = pct(xs, nx, 0.5);
        res->kill_p99   = pct(xs, nx, 0.99);
        res->kill_max   = pct(xs, nx, 1.0);
        free(kc);
        printf("kill: SIGKILL of a worker process holding one member: first-declared-dead="
               "%.3fs all-declared=%s p50=%.3fs p99=%.3fs max=%.3fs (%d/%d survivors)\n",
               res->kill_first, res->kill_all ? "true" : "false", res->kill_p50,
               res->kill_p99, res->kill_max, nx, n - 1);
        fflush(stdout);
        gone = 1;
    }
    /* crash: the last (shared-process) member stops without leaving */
    res->crash_all = victim_phase(&R, n - 1 - gone, 'C', det_s * 1000, n - 1 - gone, xs, &nx);
    double* copy   = calloc((size_t)n, sizeof *copy);
    memcpy(copy, xs, (size_t)nx * sizeof *xs);
    res->crash_first = pct(copy, nx, 0.0);
    res->crash_p50   = pct(xs, nx, 0.5);
    res->crash_p99   = pct(xs, nx, 0.99);
    res->crash_max   = pct(xs, nx, 1.0);
    free(copy);
    printf("crash: first-declared-dead=%.3fs all-declared=%s p50=%.3fs p99=%.3fs max=%.3fs "
           "(%d/%d survivors)\n", res->crash_first, res->crash_all ? "true" : "false",
           res->crash_p50, res->crash_p99, res->crash_max, nx, n - 1 - gone);
    fflush(stdout);
    if (n > 2 + gone) {
        res->leave_all = victim_phase(&R, n - 2 - gone, 'L', 30000, n - 2 - gone, xs, &nx);
        res->leave_p50 = pct(xs, nx, 0.5);
        res->leave_max = pct(xs, nx, 1.0);
        printf("leave: all-saw-leave=%s p50=%.3fs max=%.3fs (%d/%d)\n",
               res->leave_all ? "true" : "false", res->leave_p50, res->leave_max, nx,
               n - 2 - gone);
    }
    printf("false positives (dead declarations of live members, whole run)=%d\n",
           R.false_dead);
    res->false_dead = R.false_dead;
    fflush(stdout);
quit:
    for (int i = 0; i < R.nw; i++) wsend(&R.w[i], "QUIT\n");
    for (int i = 0; i < R.nw; i++) {
        double tq = now_ms();
        int    st;
        while (waitpid(R.w[i].pid, &st, WNOHANG) == 0) {
            if (now_ms() - tq > 20000) {
                kill(R.w[i].pid, SIGKILL);
                waitpid(R.w[i].pid, &st, 0);
                break;
            }
            pump(&R, 20);
        }
        close(R.w[i].in);
        close(R.w[i].out);
    }
    free(R.w);
    free(R.full_at);
    free(R.maddr);
    free(R.mpid);
    free(R.seen_at);
    free(xs);
    return 0;
}

/* ================================================================== */
/* memberlist side by side                                            */
/* ================================================================== */

typedef struct mlres {
    bool   ok;
    double all_see_n, pkt_s, bytes_s, heap_kib, crash_max, leave_max;
    long   fp;
} mlres;

static bool ports_free(int base, int n)
{
    for (int i = 0; i < n; i++) {
        for (int type = 0; type < 2; type++) {
            int fd = socket(AF_INET, type ? SOCK_DGRAM : SOCK_STREAM, 0);
            struct sockaddr_in sa = {.sin_family = AF_INET,
                                     .sin_port   = htons((uint16_t)(base + i)),
                                     .sin_addr   = {htonl(INADDR_LOOPBACK)}};
            int ok = bind(fd, (struct sockaddr*)&sa, sizeof sa) == 0;
            close(fd);
            if (!ok) return false;
        }
    }
    return true;
}

static mlres run_memberlist(const char* script, int n)
{
    mlres r = {0};
    int   base = 0;
    /* ports below the kernel's ephemeral range: inside it, the outgoing
     * connections of the harness's own members could take a port one of
     * its later members must listen on (seen: "bind: address already in
     * use" at N = 128) */
    int   lo = 32768, hi = 60999;
    FILE* pr = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (pr) {
        if (fscanf(pr, "%d %d", &lo, &hi) != 2) lo = 32768;
        fclose(pr);
    }
    int first = 10000, last = lo - n - 1; /* candidate bases: [first, last] */
    if (last <= first) { /* no room below: above the range */
        first = hi + 1;
        last  = 65535 - n;
    }
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    for (int tries = 0; tries < 50 && !base && last > first; tries++) {
        int b = first + rand() % (last - first);
        if (ports_free(b, n)) base = b;
    }
    if (!base) return r;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s -n %d -profile lan -port %d 2>&1", script, n, base);
    FILE* f = popen(cmd, "r");
    if (!f) return r;
    char line[1024];
    printf("--- memberlist N=%d (%s)\n", n, script);
    while (fgets(line, sizeof line, f)) {
        fputs("    ", stdout);
        fputs(line, stdout);
        char* p;
        if ((p = strstr(line, "all-see-N="))) r.all_see_n = atof(p + 10);
        if ((p = strstr(line, "udp-out="))) {
            r.pkt_s = atof(p + 8);
            char* q = strstr(p, "pkt/s");
            if (q) r.bytes_s = atof(q + 5);
        }
        if ((p = strstr(line, "per member="))) r.heap_kib = atof(p + 11);
        if (strncmp(line, "crash:", 6) == 0 && (p = strstr(line, "max="))) r.crash_max = atof(p + 4);
        if (strncmp(line, "leave:", 6) == 0 && (p = strstr(line, "max="))) r.leave_max = atof(p + 4);
        if ((p = strstr(line, "summed over observers)="))) r.fp = atol(p + 23);
        if (strstr(line, "converged=true")) r.ok = true;
    }
    fflush(stdout);
    pclose(f);
    return r;
}

static int parse_list(const char* s, int* out, int max)
{
    int n = 0;
    if (strcmp(s, "none") == 0) return 0;
    while (*s && n < max) {
        out[n++] = atoi(s);
        const char* c = strchr(s, ',');
        if (!c) break;
        s = c + 1;
    }
    return n;
}

int main(int argc, char** argv)
{
    int         ns[16] = {16, 64, 128, 256, 1024}, nn = 5;
    int         mls[16] = {16, 64, 128}, nml = 3;
    int         procs = 0, hog = 0, use_gfile = 0;
    pid_t       hogs[8];
    double      steady = 10, conv = 90, det = 120;
    const char* script = NULL;
    const char* extra_cfg = NULL;
    char        defscript[1024];
    const char* src    = getenv("FLOCK_SOURCE_DIR");
#ifdef FLOCK_BENCH_SOURCE_DIR
    if (!src) src = FLOCK_BENCH_SOURCE_DIR;
#endif
    for (int i = 1; i < argc; i++) {
        const char* a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "missing value for %s\n", a);
            return 2;
        }
        if (!strcmp(a, "-n")) nn = parse_list(v, ns, 16);
        else if (!strcmp(a, "-ml")) nml = parse_list(v, mls, 16);
        else if (!strcmp(a, "-procs")) procs = atoi(v);
        else if (!strcmp(a, "-steady")) steady = atof(v);
        else if (!strcmp(a, "-conv-timeout")) conv = atof(v);
        else if (!strcmp(a, "-det-timeout")) det = atof(v);
        else if (!strcmp(a, "-ml-script")) script = v;
        else if (!strcmp(a, "-hold")) g_hold_s = atof(v);
        else if (!strcmp(a, "-hog")) hog = atoi(v);
        else if (!strcmp(a, "-v")) g_verbose = atoi(v);
        else if (!strcmp(a, "-why")) g_why = atoi(v);
        else if (!strcmp(a, "-inst")) g_inst = atoi(v);
        else if (!strcmp(a, "-join-threads")) g_join_threads = atoi(v);
        else if (!strcmp(a, "-gfile")) use_gfile = atoi(v);
        else if (!strcmp(a, "-kill")) g_kill = atoi(v);
        else if (!strcmp(a, "-cfg")) extra_cfg = v;
        else {
            fprintf(stderr, "unknown flag %s\n", a);
            return 2;
        }
        i++;
    }
    char gdir[] = "/tmp/swim-bench-XXXXXX";
    if (use_gfile) {
        if (!mkdtemp(gdir)) {
            perror("mkdtemp");
            return 1;
        }
        snprintf(g_gfile, sizeof g_gfile, "%s/group.flock", gdir);
    }
    if (g_join_threads < 1) g_join_threads = 1;
    if (g_join_threads > MAX_JOIN_THREADS) g_join_threads = MAX_JOIN_THREADS;
    signal(SIGPIPE, SIG_IGN);
    static const char cfg[] =
        "{\"protocol_period_ms\":1000.0,\"ping_timeout_ms\":500.0,\"ping_req_timeout_ms\":"
        "500.0,\"ping_req_members\":3,\"suspicion_timeout_ms\":4000.0,\"suspicion_mult\":4.0,"
        "\"lifeguard_suspicion\":true,\"suspicion_max_timeout_mult\":6.0}";
    static char merged[2048];
    if (extra_cfg && extra_cfg[0] == '{' && extra_cfg[1] != '}') {
        /* the extra keys after the LAN timing: a later key wins in json-c */
        snprintf(merged, sizeof merged, "%.*s,%s", (int)strlen(cfg) - 1, cfg, extra_cfg + 1);
        g_cfg = merged;
    } else {
        g_cfg = cfg;
    }
    printf("swim-bench: protocol period 1 s, ping timeout 500 ms, ping-req timeout 500 ms, "
           "suspicion min 4*log10(N) s, Lifeguard dynamic (max 6x), local health, buddy\n");
    printf("config: %s\n", g_cfg);
    if (hog > 8) hog = 8;
    for (int i = 0; i < hog; i++) {
        hogs[i] = fork();
        if (hogs[i] == 0) {
            volatile unsigned long x = 0;
            for (;;) x++;
        }
    }
    if (hog) printf("CPU hog: %d busy-looping process(es) for the whole run\n", hog);
    result res[16];
    for (int i = 0; i < nn; i++) {
        int p = procs > 0 ? procs : (ns[i] / 16 < 2 ? 2 : ns[i] / 16 > 16 ? 16 : ns[i] / 16);
        printf("=== swim N=%d\n", ns[i]);
        fflush(stdout);
        bench_one(ns[i], p, steady, conv, det, &res[i]);
    }
    if (use_gfile) {
        unlink(g_gfile);
        rmdir(gdir);
    }
    for (int i = 0; i < hog; i++) {
        kill(hogs[i], SIGKILL);
        waitpid(hogs[i], NULL, 0);
    }
    if (!script) {
        snprintf(defscript, sizeof defscript, "%s/../shared/anchors/memberlist-bench/run.sh",
                 src ? src : ".");
        script = defscript;
    }
    if (nml == 0) return 0;
    if (access(script, X_OK) != 0) {
        printf("memberlist reference harness not found at %s: side-by-side skipped\n", script);
        return 0;
    }
    printf("\n=== side by side with memberlist (ratio = swim / memberlist; lower is better "
           "for times, traffic and memory)\n");
    printf("%6s | %-22s | %-22s | %-22s | %-22s | %-24s | %-22s | %s\n", "N", "all-see-N s",
           "crash max s", "leave max s", "msg|pkt/s per member", "B/s per member",
           "heap KiB/member", "false+ swim/ml");
    for (int j = 0; j < nml; j++) {
        mlres m = run_memberlist(script, mls[j]);
        result* s = NULL;
        for (int i = 0; i < nn; i++)
            if (res[i].n == mls[j]) s = &res[i];
        if (!s) {
            printf("(no swim run for N=%d; add it to -n)\n", mls[j]);
            continue;
        }
        printf("%6d | %5.2f/%5.2f = %5.2f  | %5.2f/%5.2f = %5.2f  | %5.2f/%5.2f = %5.2f  | "
               "%5.2f/%5.2f = %5.2f  | %6.0f/%6.0f = %5.2f | %6.1f/%6.1f = %5.2f | %d/%ld\n",
               mls[j], s->all_see_n, m.all_see_n, s->all_see_n / m.all_see_n, s->crash_max,
               m.crash_max, s->crash_max / m.crash_max, s->leave_max, m.leave_max,
               s->leave_max / m.leave_max, s->pkt_s, m.pkt_s, s->pkt_s / m.pkt_s, s->bytes_s,
               m.bytes_s, s->bytes_s / m.bytes_s, s->heap_kib, m.heap_kib,
               s->heap_kib / m.heap_kib, s->false_dead, m.fp);
        fflush(stdout);
    }
    return 0;
}
