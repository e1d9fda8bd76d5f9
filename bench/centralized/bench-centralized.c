/*
 * bench-centralized.c -- figures for the centralized backend, with real
 * processes (tests/centralized/cent-server):
 *
 *   join storm: a primary process, then every other member joins at once;
 *     time until all N members hold the same view (N = 16, 64, 256; several
 *     providers per process for large N; the process count is printed).
 *     Two figures: from the spawn of the joiner processes (includes process
 *     start-up) and from the first join request (registration start).
 *     "Holds the final view" = max(registration return, last callback) of
 *     each member, once every member reports the same N-member digest.
 *
 *   failure detection: ping_interval 200 ms, ping_timeout 100 ms, max 2;
 *     20 rounds per mode; a victim joins, then is SIGKILLed (crash), or
 *     SIGSTOPped (hang: its pings time out), or SIGTERMed (graceful leave);
 *     time from the signal to the primary's callback and to the last
 *     member's callback. Bound = max x (interval + timeout) + interval.
 *
 * Usage: bench-centralized [storm|detect|all] [rounds] [na+sm|tcp]
 */
#include "cent-test.h"

#include <math.h>

#ifndef CENT_BENCH_BINDIR
#define CENT_BENCH_BINDIR "."
#endif

static ct_status_t st, scratch;
static const char* g_proto = "na+sm";

/* The --addr of a new server: na+sm, or tcp on a free loopback port. */
static const char* next_addr(void)
{
    static char buf[64];
    if (strcmp(g_proto, "tcp") != 0) return g_proto;
    snprintf(buf, sizeof buf, "ofi+tcp://127.0.0.1:%d", ft_free_tcp_port());
    return buf;
}

static int cmp_double(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static double pct(double* v, int n, double p)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    int i = (int)ceil(p * n) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return v[i];
}

/* ---------------- join storm ---------------- */

static void storm(int n_members)
{
    char file[1024], pname[32];
    int per_proc = n_members <= 16 ? 1 : n_members <= 64 ? 3 : 8;
    int joiners = n_members - 1;
    int nproc = (joiners + per_proc - 1) / per_proc;
    ct_server_t prim, *srv = calloc((size_t)nproc, sizeof(ct_server_t));
    char(*names)[32] = calloc((size_t)nproc, 32);
    ct_ref_t* refs = calloc((size_t)n_members, sizeof(ct_ref_t));
    int nrefs = 0;
    const char* cfg = "{\"ping_interval_ms\":[500,1000],\"ping_timeout_ms\":1000}";

    snprintf(file, sizeof file, "%s/storm-%d.flock", ft_tmpdir(), n_members);
    snprintf(pname, sizeof pname, "S%d-P", n_members);
    if (ct_start(&prim, pname, "self", next_addr(), file, cfg, 1000, 1, "1000") <= 0 ||
        !ct_wait_status(pname, 1000, &st, 30000)) {
        printf("storm N=%d: primary failed to start\n", n_members);
        goto finish;
    }
    refs[nrefs].name = pname;
    refs[nrefs++].pid = 1000;

    double t_spawn = ft_now_ms();
    int left = joiners;
    for (int i = 0; i < nproc; i++) {
        int k = left < per_proc ? left : per_proc;
        left -= k;
        snprintf(names[i], 32, "S%d-J%d", n_members, i);
        ct_start(&srv[i], names[i], "join", next_addr(), file, "{}", 2000, k, "1000");
        for (int j = 0; j < k; j++) {
            refs[nrefs].name = names[i];
            refs[nrefs++].pid = (unsigned)(2000 + j);
        }
    }
    if (!ct_wait_converged(refs, (size_t)nrefs, (size_t)n_members, 300000, &scratch)) {
        printf("storm N=%d: did NOT converge within 300 s\n", n_members);
        goto stop;
    }
    double first_start = 1e300, done = 0;
    uint64_t digest = 0;
    bool same = true;
    for (int i = 0; i < nrefs; i++) {
        if (!ct_read_status(refs[i].name, refs[i].pid, &st)) continue;
        if (i == 0) digest = st.digest;
        same = same && st.digest == digest && st.nmembers == (size_t)n_members &&
               ct_members_sane(&st);
        double t = st.ready_ms > st.last_event_ms ? st.ready_ms : st.last_event_ms;
        if (i > 0 && st.start_ms < first_start) first_start = st.start_ms;
        if (t > done) done = t;
    }
    printf("storm %-5s N=%-4d processes=%-3d (1 primary + %d x <=%d providers)  "
           "converged=%s  "
           "from spawn %.0f ms  from first join request %.0f ms\n",
           g_proto, n_members, nproc + 1, nproc, per_proc, same ? "yes" : "NO",
           done - t_spawn, done - first_start);
    fflush(stdout);
stop:
    for (int i = 0; i < nproc; i++)
        if (srv[i].pid > 0) ct_stop(&srv[i], SIGKILL, 30000);
    ct_stop(&prim, SIGKILL, 30000);
finish:
    free(srv);
    free(names);
    free(refs);
}

/* ---------------- failure detection ---------------- */

static bool gone_from(const char* name, unsigned pid, const char* who)
{
    if (!ct_read_status(name, pid, &st)) return false;
    return !ct_has_member(&st, who, 5);
}

/* The base group of the detection bench: a primary and 3 secondaries that
 * stay up. Rebuilt (new names) when load made the primary remove one of
 * them (a false positive, counted and reported). */
typedef struct {
    int gen;
    char names[4][16];
    char self[4][160];
    ct_server_t srv[4];
    char file[1024];
} base_t;

static const char* g_detect_cfg =
    "{\"ping_interval_ms\":200,\"ping_timeout_ms\":100,\"ping_max_num_timeouts\":2}";

static void base_stop(base_t* b)
{
    for (int i = 3; i >= 0; i--)
        if (b->srv[i].pid > 0) ct_stop(&b->srv[i], SIGKILL, 30000);
    memset(b->srv, 0, sizeof b->srv);
}

static bool base_start(base_t* b)
{
    b->gen++;
    snprintf(b->file, sizeof b->file, "%s/detect-%d.flock", ft_tmpdir(), b->gen);
    for (int i = 0; i < 4; i++) {
        snprintf(b->names[i], sizeof b->names[i], "D%d-%c", b->gen, "PABC"[i]);
        if (ct_start(&b->srv[i], b->names[i], i ? "join" : "self", next_addr(), b->file,
                     i ? "{}" : g_detect_cfg, 5, 1, "20") <= 0 ||
            !ct_wait_status(b->names[i], 5, &st, 30000))
            return false;
        snprintf(b->self[i], sizeof b->self[i], "%s", st.self);
    }
    ct_ref_t refs[4] = {
        {b->names[0], 5}, {b->names[1], 5}, {b->names[2], 5}, {b->names[3], 5}};
    return ct_wait_converged(refs, 4, 4, 30000, &scratch);
}

/* true if every member of the base still lists every other one */
static bool base_intact(const base_t* b)
{
    for (int i = 0; i < 4; i++) {
        if (!ct_read_status(b->names[i], 5, &st)) return false;
        for (int j = 0; j < 4; j++)
            if (!ct_has_member(&st, b->self[j], 5)) return false;
    }
    return true;
}

static void detect(int rounds)
{
    const double interval = 200, timeout = 100;
    const int maxf = 2;
    const double bound = maxf * (interval + timeout) + interval;
    const char* modes[3] = {"SIGKILL (crash)", "SIGSTOP (hang)",
                            "SIGTERM (graceful leave)"};
    const int sigs[3] = {SIGKILL, SIGSTOP, SIGTERM};
    base_t b;
    int spurious = 0;

    memset(&b, 0, sizeof b);
    if (!base_start(&b)) {
        printf("failure detection: the base group did not start\n");
        base_stop(&b);
        return;
    }
    printf("failure detection (%s): interval %.0f ms, timeout %.0f ms, max %d -> bound "
           "%.0f ms; "
           "%d rounds per mode; 4 survivors (primary + 3)\n",
           g_proto, interval, timeout, maxf, bound, rounds);
    srand((unsigned)getpid());
    for (int m = 0; m < 3; m++) {
        double* at_primary = calloc((size_t)rounds, sizeof(double));
        double* at_all = calloc((size_t)rounds, sizeof(double));
        int ok = 0, within = 0, attempts = 0;
        while (ok < rounds && attempts < 3 * rounds) {
            char vname[32], self[160];
            ct_server_t v;
            bool all_gone = false;
            attempts++;
            if (!base_intact(&b)) { /* load made the primary drop a live member */
                spurious++;
                base_stop(&b);
                if (!base_start(&b)) break;
            }
            snprintf(vname, sizeof vname, "D%d-V%d-%d", b.gen, m, attempts);
            memset(&v, 0, sizeof v);
            if (ct_start(&v, vname, "join", next_addr(), b.file, "{}", 5, 1, "20") <= 0)
                continue;
            ct_ref_t five[5] = {{b.names[0], 5},
                                {b.names[1], 5},
                                {b.names[2], 5},
                                {b.names[3], 5},
                                {vname, 5}};
            if (!ct_wait_status(vname, 5, &st, 30000)) goto next;
            snprintf(self, sizeof self, "%s", st.self);
            if (!ct_wait_converged(five, 5, 5, 30000, &scratch)) goto next;
            ft_sleep_ms(300 + rand() % 200); /* random phase w.r.t. the pings */
            double t0 = ft_now_ms();
            kill(v.pid, sigs[m]);
            double end = t0 + 30000;
            while (!all_gone && ft_now_ms() < end) {
                all_gone = true;
                for (int i = 0; i < 4 && all_gone; i++)
                    all_gone = gone_from(b.names[i], 5, self);
                if (!all_gone) ft_sleep_ms(5);
            }
            if (!all_gone || !base_intact(&b)) goto next; /* not a clean round */
            double worst = 0, prim = 0;
            for (int i = 0; i < 4; i++) {
                ct_read_status(b.names[i], 5, &st);
                double t = st.last_event_ms - t0;
                if (i == 0) prim = t;
                if (t > worst) worst = t;
            }
            at_primary[ok] = prim;
            at_all[ok] = worst;
            if (worst <= bound) within++;
            ok++;
        next:
            if (v.pid > 0) {
                kill(v.pid, SIGCONT);
                ct_stop(&v, SIGKILL, 30000);
            }
        }
        if (ok > 0) {
            double pmax = pct(at_primary, ok, 1.0), p50p = pct(at_primary, ok, 0.5);
            double amax = pct(at_all, ok, 1.0), p50a = pct(at_all, ok, 0.5);
            printf("  %-25s n=%2d  primary p50 %5.0f ms max %5.0f ms | all members p50 "
                   "%5.0f ms "
                   "max %5.0f ms | within bound %d/%d\n",
                   modes[m], ok, p50p, pmax, p50a, amax, within, ok);
        } else {
            printf("  %-25s no successful round\n", modes[m]);
        }
        fflush(stdout);
        free(at_primary);
        free(at_all);
    }
    printf("  live base members wrongly declared dead under load (group rebuilt): %d\n",
           spurious);
    base_stop(&b);
}

int main(int argc, char** argv)
{
    const char* what = argc > 1 ? argv[1] : "all";
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    if (argc > 3) g_proto = argv[3];
    (void)ft_failures;
    setenv("FLOCK_TEST_BINDIR", CENT_BENCH_BINDIR, 0);
    ft_tmpdir();
    printf("centralized backend benchmark (%ld online CPUs)\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    if (!strcmp(what, "storm") || !strcmp(what, "all")) {
        storm(16);
        storm(64);
        storm(256);
    }
    if (!strcmp(what, "detect") || !strcmp(what, "all")) detect(rounds > 0 ? rounds : 20);
    return 0;
}
