/*
 * bench-rpc.c -- RPC runtime benchmark (not a test).
 *
 *   bench-rpc [-n iterations] [-r rounds] [-t seconds] [-a CPU,CPU] [-m] [-d dir] [transport...]
 *
 * For each transport (default: na+sm tcp) a child process (fork) serves
 * both a raw-socket echo (same socket family, blocking send/recv, a 4-byte
 * length prefix sent with the payload in one send) and an frt "echo" RPC.
 * The parent measures, in the same run, round-trip latency p50/p99 of an
 * empty and a 1 KiB message for the raw ping-pong and for the RPC: after a
 * warm-up of each, the n samples of each kind are taken in `rounds`
 * alternating blocks (raw, RPC, raw, RPC, ...; default 10) so that a load
 * change on the machine hits both sides alike. Then RPC throughput with 1
 * and 16 calls in flight (empty RPCs). It prints the figures and the ratios
 * (RPC p50 / raw p50; throughput 16 / throughput 1); -m prints a Markdown
 * table instead. -d writes every latency sample, sorted, one per line, to
 * dir/<transport>-<raw|rpc>-<bytes>.dat, for bench/rpc/latency-cdf.gp.
 * -a C,S pins the client (parent) to CPU C and the server (child) to CPU S,
 * every thread included (diagnosis: same core vs cross-core wake-ups).
 */
#define _GNU_SOURCE
#include <margo.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int         iters    = 20000;
static int         rounds   = 10;
static int         cpu_cli = -1, cpu_srv = -1; /* -a */
static double      seconds  = 2.0;
static const char* dump_dir = NULL; /* -d: where sorted samples go */
static const char* cur_transport = "";

static void pin(int cpu)
{
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

/* Sort the samples, report p50/p99 and, with -d, write them out. */
static void percentiles(double* v, int n, double* p50, double* p99, const char* kind,
                        size_t size)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *p50 = v[n / 2];
    *p99 = v[(int)((double)n * 0.99)];
    if (!dump_dir) return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s-%s-%zu.dat", dump_dir, cur_transport, kind, size);
    FILE* f = fopen(path, "w");
    if (!f) {
        perror(path);
        return;
    }
    for (int i = 0; i < n; i++) fprintf(f, "%.2f\n", v[i]);
    fclose(f);
}

/* ---------------- raw socket echo ---------------- */

static bool full_io(int fd, void* buf, size_t n, bool wr)
{
    char* p = buf;
    while (n > 0) {
        ssize_t r = wr ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* Receive one length-prefixed message into buf (prefix included), with as
 * few recv calls as the data allows (usually one). */
static bool raw_recv_msg(int fd, char* buf, size_t cap, size_t* len)
{
    size_t   got = 0;
    uint32_t n   = 0;
    for (;;) {
        if (got >= 4) {
            memcpy(&n, buf, 4);
            if (n > cap - 4) return false;
            if (got >= 4 + (size_t)n) break;
        }
        ssize_t r = recv(fd, buf + got, cap - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    *len = n;
    return true;
}

static void raw_serve(int lfd)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char   buf[4 + 4096];
        size_t len;
        while (raw_recv_msg(fd, buf, sizeof buf, &len) && full_io(fd, buf, 4 + len, true)) {}
        close(fd);
    }
}

typedef struct {
    bool                    tcp;
    struct sockaddr_storage ss;
    socklen_t               sl;
} raw_addr;

static int raw_listen(bool tcp, raw_addr* ra)
{
    int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM, 0);
    memset(ra, 0, sizeof *ra);
    ra->tcp = tcp;
    if (tcp) {
        struct sockaddr_in* sin = (struct sockaddr_in*)&ra->ss;
        sin->sin_family         = AF_INET;
        sin->sin_addr.s_addr    = htonl(INADDR_LOOPBACK);
        ra->sl                  = sizeof *sin;
        bind(fd, (struct sockaddr*)sin, ra->sl);
        getsockname(fd, (struct sockaddr*)sin, &ra->sl);
    } else {
        struct sockaddr_un* sun = (struct sockaddr_un*)&ra->ss;
        sun->sun_family         = AF_UNIX;
        int n  = snprintf(sun->sun_path + 1, sizeof sun->sun_path - 1, "bench-rpc-raw-%d", (int)getpid());
        ra->sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
        bind(fd, (struct sockaddr*)sun, ra->sl);
    }
    listen(fd, 16);
    return fd;
}

static int raw_connect(const raw_addr* ra)
{
    int fd  = socket(ra->tcp ? AF_INET : AF_UNIX, SOCK_STREAM, 0);
    int one = 1;
    if (connect(fd, (const struct sockaddr*)&ra->ss, ra->sl) != 0) {
        perror("raw connect");
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* n raw round trips of size bytes; samples to v (NULL: warm-up). */
static void raw_block(int fd, size_t size, double* v, int n)
{
    char     buf[4 + 4096] = {0};
    uint32_t len           = (uint32_t)size;
    size_t   got;
    for (int i = 0; i < n; i++) {
        double t0 = now_us();
        memcpy(buf, &len, 4);
        if (!full_io(fd, buf, 4 + size, true) || !raw_recv_msg(fd, buf, sizeof buf, &got)
            || got != size) {
            fprintf(stderr, "raw ping-pong failed\n");
            exit(1);
        }
        if (v) v[i] = now_us() - t0;
    }
}

/* ---------------- RPCs ---------------- */

static void echo(frt_request_t req, const void* in, size_t len, void* u) { frt_respond(req, in, len); }

/* n RPC round trips of size bytes; samples to v (NULL: warm-up). */
static void rpc_block(margo_instance_id mid, hg_addr_t a, size_t size, double* v, int n)
{
    char buf[4096] = {0};
    for (int i = 0; i < n; i++) {
        double      t0   = now_us();
        void*       out  = NULL;
        size_t      olen = 0;
        hg_return_t r    = frt_forward(mid, a, "echo", 1, buf, size, 10000, &out, &olen);
        if (r != HG_SUCCESS || olen != size) {
            fprintf(stderr, "rpc failed: %s\n", HG_Error_to_string(r));
            exit(1);
        }
        free(out);
        if (v) v[i] = now_us() - t0;
    }
}

/* Raw (raw_size bytes) and RPC (rpc_size bytes) latency, interleaved in
 * `rounds` blocks after a warm-up; p50/p99 of each. */
static void latency_pair(int fd, margo_instance_id mid, hg_addr_t a, size_t raw_size,
                         size_t rpc_size, double raw_p[2], double rpc_p[2])
{
    double* vr = malloc(sizeof(double) * (size_t)iters);
    double* vc = malloc(sizeof(double) * (size_t)iters);
    raw_block(fd, raw_size, NULL, iters / 10);
    rpc_block(mid, a, rpc_size, NULL, iters / 10);
    for (int r = 0, done = 0; r < rounds; r++) {
        int n = (iters - done) / (rounds - r);
        raw_block(fd, raw_size, vr + done, n);
        rpc_block(mid, a, rpc_size, vc + done, n);
        done += n;
    }
    percentiles(vr, iters, &raw_p[0], &raw_p[1], "raw", raw_size);
    percentiles(vc, iters, &rpc_p[0], &rpc_p[1], "rpc", rpc_size);
    free(vr);
    free(vc);
}

typedef struct {
    margo_instance_id mid;
    hg_addr_t         a;
    _Atomic long      done;
    _Atomic int       inflight;
    _Atomic bool      stop;
} tput_ctx;

static void tput_cb(void* u, hg_return_t ret, const void* out, size_t len)
{
    tput_ctx* t = u;
    atomic_fetch_add(&t->done, 1);
    if (!atomic_load(&t->stop)
        && frt_forward_async(t->mid, t->a, "echo", 1, NULL, 0, 10000, tput_cb, t) == HG_SUCCESS)
        return;
    atomic_fetch_sub(&t->inflight, 1);
}

static double rpc_throughput(margo_instance_id mid, hg_addr_t a, int window)
{
    tput_ctx t = {mid, a, 0, 0, false};
    if (window == 1) {
        double t0 = now_us(), end = t0 + seconds * 1e6;
        long   n  = 0;
        while (now_us() < end) {
            frt_forward(mid, a, "echo", 1, NULL, 0, 10000, NULL, NULL);
            n++;
        }
        return (double)n / ((now_us() - t0) / 1e6);
    }
    atomic_store(&t.inflight, window);
    double t0 = now_us();
    for (int i = 0; i < window; i++) frt_forward_async(mid, a, "echo", 1, NULL, 0, 10000, tput_cb, &t);
    while (now_us() < t0 + seconds * 1e6) usleep(10000);
    long n = atomic_load(&t.done);
    double el = now_us() - t0;
    atomic_store(&t.stop, true);
    while (atomic_load(&t.inflight) > 0) usleep(1000);
    return (double)n / (el / 1e6);
}

/* ---------------- driver ---------------- */

static void run(const char* transport, bool md)
{
    bool     tcp = strcmp(transport, "na+sm") != 0;
    raw_addr ra;
    cur_transport = transport;
    int      lfd = raw_listen(tcp, &ra);
    int      pfd[2];
    if (pipe(pfd) != 0) exit(1);
    char listen_addr[64];
    snprintf(listen_addr, sizeof listen_addr, "%s", tcp ? "tcp://127.0.0.1:0" : "na+sm");
    if (tcp && strcmp(transport, "tcp") != 0)
        snprintf(listen_addr, sizeof listen_addr, "%s://127.0.0.1:0", transport);
    pid_t pid = fork();
    if (pid == 0) {
        pin(cpu_srv);
        close(pfd[0]);
        margo_instance_id srv = margo_init(listen_addr, MARGO_SERVER_MODE, 0, 0);
        if (!srv) _exit(1);
        frt_rpc_register(srv, "echo", 1, echo, NULL, ABT_POOL_NULL);
        char a[128];
        snprintf(a, sizeof a, "%s", frt_self_addr_str(srv));
        if (write(pfd[1], a, sizeof a) != (ssize_t)sizeof a) _exit(1);
        close(pfd[1]);
        raw_serve(lfd); /* until killed */
        _exit(0);
    }
    close(lfd);
    close(pfd[1]);
    char a[128];
    if (read(pfd[0], a, sizeof a) != (ssize_t)sizeof a) {
        fprintf(stderr, "server failed to start\n");
        exit(1);
    }
    close(pfd[0]);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    hg_addr_t         addr = HG_ADDR_NULL;
    if (!cli || margo_addr_lookup(cli, a, &addr) != HG_SUCCESS) exit(1);

    double raw0[2], raw1k[2], rpc0[2], rpc1k[2];
    int    rfd = raw_connect(&ra);
    latency_pair(rfd, cli, addr, 1, 0, raw0, rpc0);
    latency_pair(rfd, cli, addr, 1024, 1024, raw1k, rpc1k);
    close(rfd);
    double t1  = rpc_throughput(cli, addr, 1);
    double t16 = rpc_throughput(cli, addr, 16);

    if (md) {
        printf("| %s | empty | %.1f | %.1f | %.1f | %.1f | %.2f |\n", transport, raw0[0], raw0[1],
               rpc0[0], rpc0[1], rpc0[0] / raw0[0]);
        printf("| %s | 1 KiB | %.1f | %.1f | %.1f | %.1f | %.2f |\n", transport, raw1k[0],
               raw1k[1], rpc1k[0], rpc1k[1], rpc1k[0] / raw1k[0]);
        printf("| %s | throughput (empty RPCs/s) | 1 in flight: %.0f | 16 in flight: %.0f | | | %.2f |\n",
               transport, t1, t16, t16 / t1);
    } else {
        printf("%-8s latency (us)        p50      p99\n", transport);
        printf("  raw ping-pong   1 B  %7.1f  %7.1f\n", raw0[0], raw0[1]);
        printf("  rpc empty            %7.1f  %7.1f   p50 ratio rpc/raw %.2f\n", rpc0[0], rpc0[1],
               rpc0[0] / raw0[0]);
        printf("  raw ping-pong 1 KiB  %7.1f  %7.1f\n", raw1k[0], raw1k[1]);
        printf("  rpc 1 KiB            %7.1f  %7.1f   p50 ratio rpc/raw %.2f\n", rpc1k[0], rpc1k[1],
               rpc1k[0] / raw1k[0]);
        printf("  throughput (empty RPCs/s): 1 in flight %.0f, 16 in flight %.0f, ratio %.2f\n",
               t1, t16, t16 / t1);
    }
    fflush(stdout);
    margo_addr_free(cli, addr);
    margo_finalize(cli);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int main(int argc, char** argv)
{
    bool md = false;
    int  c;
    while ((c = getopt(argc, argv, "n:r:t:a:md:")) != -1) {
        if (c == 'a' && sscanf(optarg, "%d,%d", &cpu_cli, &cpu_srv) != 2) cpu_cli = cpu_srv = -1;
        if (c == 'n') iters = atoi(optarg) > 0 ? atoi(optarg) : iters;
        if (c == 'r') rounds = atoi(optarg) > 0 ? atoi(optarg) : rounds;
        if (c == 'd') dump_dir = optarg;
        if (c == 't') seconds = atof(optarg) > 0 ? atof(optarg) : seconds;
        if (c == 'm') md = true;
    }
    if (rounds > iters) rounds = iters;
    pin(cpu_cli);
    if (md) {
        printf("| transport | message | raw p50 (us) | raw p99 (us) | RPC p50 (us) | RPC p99 (us) | ratio |\n");
        printf("|---|---|---|---|---|---|---|\n");
    }
    if (optind >= argc) {
        run("na+sm", md);
        run("tcp", md);
    } else {
        for (int i = optind; i < argc; i++) run(argv[i], md);
    }
    return 0;
}
