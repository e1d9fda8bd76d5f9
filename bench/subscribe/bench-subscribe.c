/*
 * bench-subscribe.c -- figures for subscriptions and run-time metadata
 * (issue #16), in one process (a server instance holding the members, a
 * client instance holding the subscribers, over na+sm):
 *
 *   push latency: a centralized group whose primary serves K subscribers
 *     (K = 1 and 256); a member joins, then leaves, R times; latency =
 *     time of each subscriber's callback - time of the primary's own
 *     callback for the same change (the moment the group applied it).
 *     p50 / p99 over all (K x 2R) deliveries.
 *
 *   metadata spread: a group of N members (N = 16, 64, 256, view bootstrap,
 *     all in the server instance), a client sets a key R times; time from
 *     the call to the last member's metadata callback. p50 / max.
 *     Centralized and swim (skipped with a message when the backend
 *     refuses run-time metadata).
 *
 * Baseline, measured in the same run: the round trip of an empty RPC
 * between the two instances (the physical floor of one push); every figure
 * is printed with its ratio to it.
 *
 * Usage: bench-subscribe [-r rounds] [-k 1,256] [-n 16,64,256] [-b centralized,swim]
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flock/flock-client.h>
#include <flock/flock-group.h>
#include <flock/flock-server.h>

static margo_instance_id srv, cli;
static char              srv_addr[128];

static double now_s(void) { return margo_get_wtime(); }

static int cmp_double(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static double pct(double* v, int n, double p)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    int i = (int)ceil(p * n) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return v[i];
}

/* ---------------- baseline: empty RPC round trip ---------------- */

static void echo(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)in, (void)len, (void)u;
    frt_respond(req, NULL, 0);
}

static double baseline_rtt_ms(void)
{
    enum { N = 2000 };
    static double v[N];
    hg_addr_t     a = HG_ADDR_NULL;
    frt_rpc_register(srv, "bench_echo", 0, echo, NULL, ABT_POOL_NULL);
    margo_addr_lookup(cli, srv_addr, &a);
    for (int i = 0; i < N; i++) {
        double t0 = now_s();
        frt_forward(cli, a, "bench_echo", 0, NULL, 0, 5000, NULL, NULL);
        v[i] = (now_s() - t0) * 1e3;
    }
    margo_addr_free(cli, a);
    return pct(v, N, 0.5);
}

/* ---------------- push latency ---------------- */

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t  c;
    double          applied_at; /* primary's callback for the current change */
    int             seen;       /* subscribers that saw it */
    double*         lat;
    int             nlat, cap;
    const char*     target;     /* address of the change being timed */
    uint16_t        target_pid;
} push_state;

static push_state ps;

static void primary_cb(void* ctx, flock_update_t u, const char* a, uint16_t pid)
{
    (void)ctx, (void)u;
    pthread_mutex_lock(&ps.m);
    if (pid == ps.target_pid && strcmp(a, ps.target) == 0) ps.applied_at = now_s();
    pthread_mutex_unlock(&ps.m);
}

static void sub_cb(void* ctx, flock_update_t u, const char* a, uint16_t pid)
{
    (void)ctx, (void)u;
    double t = now_s();
    pthread_mutex_lock(&ps.m);
    if (pid == ps.target_pid && strcmp(a, ps.target) == 0) {
        if (ps.nlat < ps.cap) ps.lat[ps.nlat++] = (t - ps.applied_at) * 1e3;
        ps.seen++;
        pthread_cond_broadcast(&ps.c);
    }
    pthread_mutex_unlock(&ps.m);
}

static bool wait_seen(int k)
{
    double deadline = now_s() + 30.0;
    pthread_mutex_lock(&ps.m);
    while (ps.seen < k && now_s() < deadline) {
        pthread_mutex_unlock(&ps.m);
        usleep(200);
        pthread_mutex_lock(&ps.m);
    }
    bool ok = ps.seen >= k;
    ps.seen = 0;
    pthread_mutex_unlock(&ps.m);
    return ok;
}

static const char* CENT_CFG = "{\"group\":{\"type\":\"centralized\",\"config\":{}}}";

static void push_latency(int k, int rounds, double rtt)
{
    flock_provider_t p1 = NULL;
    flock_client_t   c  = NULL;
    if (flock_provider_register(srv, 1, CENT_CFG, NULL, &p1) != FLOCK_SUCCESS) exit(1);
    flock_provider_add_update_callbacks(p1, primary_cb, NULL, &ps);
    flock_client_init(cli, ABT_POOL_NULL, &c);
    flock_group_handle_t* hs = calloc((size_t)k, sizeof *hs);
    hg_addr_t             a  = HG_ADDR_NULL;
    margo_addr_lookup(cli, srv_addr, &a);
    for (int i = 0; i < k; i++) {
        if (flock_group_handle_create(c, a, 1, 0, &hs[i]) != FLOCK_SUCCESS
            || flock_group_subscribe(hs[i], sub_cb, NULL, NULL) != FLOCK_SUCCESS) {
            fprintf(stderr, "subscribe %d failed\n", i);
            exit(1);
        }
    }
    margo_addr_free(cli, a);
    ps.cap  = k * rounds * 2;
    ps.lat  = calloc((size_t)ps.cap, sizeof(double));
    ps.nlat = 0;
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"group\":{\"type\":\"centralized\",\"config\":{\"primary_address\":\"%s\","
             "\"primary_provider_id\":1}}}", srv_addr);
    for (int r = 0; r < rounds; r++) {
        flock_group_view_t         v  = FLOCK_GROUP_VIEW_INITIALIZER;
        struct flock_provider_args pa = FLOCK_PROVIDER_ARGS_INIT;
        flock_provider_t           p2 = NULL;
        flock_group_view_add_member(&v, srv_addr, 1);
        pa.initial_view = &v;
        pthread_mutex_lock(&ps.m);
        ps.target     = srv_addr;
        ps.target_pid = 2;
        pthread_mutex_unlock(&ps.m);
        if (flock_provider_register(srv, 2, cfg, &pa, &p2) != FLOCK_SUCCESS) exit(1);
        flock_group_view_clear(&v);
        if (!wait_seen(k)) fprintf(stderr, "round %d: not every subscriber saw the join\n", r);
        flock_provider_destroy(p2);
        if (!wait_seen(k)) fprintf(stderr, "round %d: not every subscriber saw the leave\n", r);
    }
    double p50 = pct(ps.lat, ps.nlat, 0.5), p99 = pct(ps.lat, ps.nlat, 0.99);
    printf("push latency  K=%-4d deliveries=%-5d p50 %7.3f ms  p99 %7.3f ms  "
           "(p50/rtt %.1fx, p99/rtt %.1fx)\n", k, ps.nlat, p50, p99, p50 / rtt, p99 / rtt);
    fflush(stdout);
    for (int i = 0; i < k; i++) flock_group_handle_release(hs[i]);
    free(hs);
    free(ps.lat);
    flock_client_finalize(c);
    flock_provider_destroy(p1);
}

/* ---------------- metadata spread ---------------- */

typedef struct {
    pthread_mutex_t m;
    const char*     key;
    int             seen;
    double          last;
} meta_state;

static meta_state ms;

static void meta_cb(void* ctx, const char* key, const char* value)
{
    (void)ctx, (void)value;
    double t = now_s();
    pthread_mutex_lock(&ms.m);
    if (ms.key && strcmp(key, ms.key) == 0) {
        ms.seen++;
        if (t > ms.last) ms.last = t;
    }
    pthread_mutex_unlock(&ms.m);
}

static void metadata_spread(const char* backend, int n, int rounds, double rtt)
{
    flock_provider_t* ps_ = calloc((size_t)n, sizeof *ps_);
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    char               cfg[256];
    snprintf(cfg, sizeof cfg, "{\"group\":{\"type\":\"%s\",\"config\":{}}}", backend);
    for (int i = 0; i < n; i++) flock_group_view_add_member(&view, srv_addr, (uint16_t)(10 + i));
    for (int i = 0; i < n; i++) {
        flock_group_view_t         v  = FLOCK_GROUP_VIEW_INITIALIZER;
        struct flock_provider_args pa = FLOCK_PROVIDER_ARGS_INIT;
        flock_group_view_copy(&view, &v);
        pa.initial_view = &v;
        if (flock_provider_register(srv, (uint16_t)(10 + i), cfg, &pa, &ps_[i]) != FLOCK_SUCCESS) {
            fprintf(stderr, "%s member %d failed to start\n", backend, i);
            exit(1);
        }
        flock_group_view_clear(&v);
        flock_provider_add_update_callbacks(ps_[i], NULL, meta_cb, &ms);
    }
    flock_group_view_clear(&view);
    usleep(500 * 1000); /* let the group settle */
    flock_client_t       c = NULL;
    flock_group_handle_t h = NULL;
    hg_addr_t            a = HG_ADDR_NULL;
    flock_client_init(cli, ABT_POOL_NULL, &c);
    margo_addr_lookup(cli, srv_addr, &a);
    flock_group_handle_create(c, a, 10, 0, &h);
    margo_addr_free(cli, a);
    double* t = calloc((size_t)rounds, sizeof(double));
    int     ok = 0;
    for (int r = 0; r < rounds; r++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", r);
        pthread_mutex_lock(&ms.m);
        ms.key  = key;
        ms.seen = 0;
        ms.last = 0;
        pthread_mutex_unlock(&ms.m);
        double         t0  = now_s();
        flock_return_t ret = flock_group_metadata_set(h, key, "v");
        if (ret == FLOCK_ERR_OP_UNSUPPORTED || ret == FLOCK_ERR_OP_FORBIDDEN) {
            printf("metadata      %-11s N=%-4d unsupported by this backend: skipped\n", backend, n);
            break;
        }
        double deadline = t0 + 60.0;
        for (;;) {
            pthread_mutex_lock(&ms.m);
            int    seen = ms.seen;
            double last = ms.last;
            pthread_mutex_unlock(&ms.m);
            if (seen >= n) {
                t[ok++] = (last - t0) * 1e3;
                break;
            }
            if (now_s() > deadline) {
                fprintf(stderr, "%s N=%d: only %d of %d members saw %s\n", backend, n, seen, n,
                        key);
                break;
            }
            usleep(500);
        }
    }
    if (ok > 0) {
        double p50 = pct(t, ok, 0.5), mx = pct(t, ok, 1.0);
        printf("metadata      %-11s N=%-4d rounds=%-3d all members p50 %8.2f ms  max %8.2f ms  "
               "(p50/rtt %.0fx)\n", backend, n, ok, p50, mx, p50 / rtt);
    }
    pthread_mutex_lock(&ms.m);
    ms.key = NULL;
    pthread_mutex_unlock(&ms.m);
    fflush(stdout);
    free(t);
    flock_group_handle_release(h);
    flock_client_finalize(c);
    for (int i = n - 1; i >= 0; i--) flock_provider_destroy(ps_[i]);
    free(ps_);
}

static int parse_list(const char* s, int* out, int max)
{
    int n = 0;
    while (s && *s && n < max) {
        out[n++] = atoi(s);
        s = strchr(s, ',');
        if (s) s++;
    }
    return n;
}

int main(int argc, char** argv)
{
    int         rounds = 20, ks[8] = {1, 256}, nk = 2, ns[8] = {16, 64, 256}, nn = 3;
    const char* backends = "centralized,swim";
    int         opt;
    while ((opt = getopt(argc, argv, "r:k:n:b:")) != -1) {
        if (opt == 'r') rounds = atoi(optarg);
        else if (opt == 'k') nk = parse_list(optarg, ks, 8);
        else if (opt == 'n') nn = parse_list(optarg, ns, 8);
        else if (opt == 'b') backends = optarg;
        else {
            fprintf(stderr, "usage: %s [-r rounds] [-k 1,256] [-n 16,64,256] "
                            "[-b centralized,swim]\n", argv[0]);
            return 2;
        }
    }
    pthread_mutex_init(&ps.m, NULL);
    pthread_cond_init(&ps.c, NULL);
    pthread_mutex_init(&ms.m, NULL);
    srv = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    cli = margo_init("na+sm", MARGO_CLIENT_MODE, 0, 0);
    if (!srv || !cli) return 1;
    margo_set_log_level(srv, MARGO_LOG_ERROR);
    margo_set_log_level(cli, MARGO_LOG_ERROR);
    snprintf(srv_addr, sizeof srv_addr, "%s", frt_self_addr_str(srv));
    double rtt = baseline_rtt_ms();
    printf("baseline      empty RPC round trip (na+sm, one process) p50 %.3f ms\n", rtt);
    fflush(stdout);
    for (int i = 0; i < nk; i++) push_latency(ks[i], rounds, rtt);
    char* list = strdup(backends);
    for (char* b = strtok(list, ","); b; b = strtok(NULL, ","))
        for (int i = 0; i < nn; i++) metadata_spread(b, ns[i], rounds, rtt);
    free(list);
    margo_finalize(cli);
    margo_finalize(srv);
    return 0;
}
