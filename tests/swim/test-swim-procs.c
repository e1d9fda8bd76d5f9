/*
 * test-swim-procs.c -- the swim backend across real processes (one member
 * per process, TCP on loopback): join through one seed; a graceful leave is
 * seen by everyone (LEFT); crash mode and SIGKILL are detected by every
 * survivor (DIED); a SIGSTOP shorter than the suspicion window is refuted
 * without any removal; run-time metadata: a key set at two members at once
 * converges to one value at all (callbacks and views), a member that joins
 * later gets it, removal reaches all. Timeouts are generous (loaded 2-core
 * machines).
 */
#include "flock-test.h"

#include <fcntl.h>
#include <poll.h>

#define N 7 /* the last one joins later (metadata) */
#define CFG                                                                            \
    "{\"protocol_period_ms\":500.0,\"ping_timeout_ms\":200.0,\"ping_req_timeout_ms\":" \
    "400.0,\"suspicion_timeout_ms\":4000.0}"

typedef struct child {
    pid_t  pid;
    int    fd;
    bool   alive;
    char   buf[1 << 16];
    size_t len;
    char   addr[256];
    int    view;
    char*  events[256]; /* "L addr pid" / "D addr pid" / "J addr pid" */
    int    nevents;
    char   meta_k[300]; /* the last metadata callback's value of "k" ("-": removed) */
    int    nmeta_k;     /* callbacks about "k" */
    char   mv[300];     /* the view's value of "k" ("-": none) */
    int    set_rc;      /* the last "SET" result, -1 if none */
} child;

static child C[N];

static void parse_line(child* c, char* line)
{
    if (strncmp(line, "ADDR ", 5) == 0) {
        snprintf(c->addr, sizeof c->addr, "%s", line + 5);
    } else if (strncmp(line, "VIEW ", 5) == 0) {
        c->view = atoi(line + 5);
    } else if (strncmp(line, "META k ", 7) == 0) {
        snprintf(c->meta_k, sizeof c->meta_k, "%s", line + 7);
        c->nmeta_k++;
    } else if (strncmp(line, "MV ", 3) == 0) {
        snprintf(c->mv, sizeof c->mv, "%s", line + 3);
    } else if (strncmp(line, "SET ", 4) == 0) {
        c->set_rc = atoi(line + 4);
    } else if (strncmp(line, "EV ", 3) == 0 && c->nevents < 256) {
        c->events[c->nevents++] = strdup(line + 3);
    }
}

/* read whatever the children printed, for up to ms */
static void pump(int ms)
{
    struct pollfd p[N];
    int           map[N], n = 0;
    for (int i = 0; i < N; i++)
        if (C[i].fd >= 0) {
            p[n].fd     = C[i].fd;
            p[n].events = POLLIN;
            map[n++]    = i;
        }
    if (n == 0) {
        ft_sleep_ms(ms);
        return;
    }
    if (poll(p, (nfds_t)n, ms) <= 0) return;
    for (int k = 0; k < n; k++) {
        if (!(p[k].revents & (POLLIN | POLLHUP))) continue;
        child*  c = &C[map[k]];
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (r <= 0) {
            close(c->fd);
            c->fd = -1;
            continue;
        }
        c->len += (size_t)r;
        c->buf[c->len] = 0;
        char* start    = c->buf;
        char* nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = 0;
            parse_line(c, start);
            start = nl + 1;
        }
        c->len -= (size_t)(start - c->buf);
        memmove(c->buf, start, c->len);
    }
}

static bool has_event(const child* c, char type, const child* about)
{
    char want[300];
    snprintf(want, sizeof want, "%c %s 1", type, about->addr);
    for (int i = 0; i < c->nevents; i++)
        if (strcmp(c->events[i], want) == 0) return true;
    return false;
}

static double wait_until_all(bool (*pred)(int, void*), void* arg, double timeout_ms)
{
    double t0 = ft_now_ms();
    for (;;) {
        bool all = true;
        for (int i = 0; i < N; i++)
            if (C[i].alive && !pred(i, arg)) all = false;
        if (all) return ft_now_ms() - t0;
        if (ft_now_ms() - t0 > timeout_ms) return -1;
        pump(20);
    }
}

static bool pred_addr(int i, void* a) { return C[i].addr[0] != 0; }
static bool pred_view(int i, void* a) { return C[i].view == *(int*)a; }
typedef struct { char type; int about; } evq;
static bool pred_event(int i, void* a)
{
    evq* q = a;
    return i == q->about || has_event(&C[i], q->type, &C[q->about]);
}

/* every live member's callbacks and view hold the same value of "k" */
static bool pred_meta_same(int i, void* a)
{
    const char* want = a ? (const char*)a : C[0].meta_k;
    return want[0] && strcmp(C[i].meta_k, want) == 0 && strcmp(C[i].mv, want) == 0;
}

static bool pred_mv(int i, void* a) { return strcmp(C[i].mv, (const char*)a) == 0; }

static void spawn(int i, const char* seed_addr)
{
    char* argv[7] = {(char*)ft_bin("tests/swim/swim-test-server"), "1", CFG, NULL, NULL, NULL};
    if (seed_addr) {
        argv[3] = (char*)seed_addr;
        argv[4] = "1";
    }
    C[i].pid   = ft_spawn_io(argv, &C[i].fd);
    C[i].alive = C[i].pid > 0;
    REQUIRE(C[i].pid > 0);
}

static void reap(int i, bool expect_clean)
{
    int    st = 0;
    double t0 = ft_now_ms();
    while (waitpid(C[i].pid, &st, WNOHANG) == 0) {
        if (ft_now_ms() - t0 > 30000) {
            FT_FAIL("child %d did not exit", i);
            kill(C[i].pid, SIGKILL);
            waitpid(C[i].pid, &st, 0);
            break;
        }
        pump(20);
    }
    if (expect_clean) CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ft_forget(C[i].pid);
    C[i].alive = false;
}

int main(void)
{
    ft_tmpdir();
    for (int i = 0; i < N; i++) C[i].fd = -1;

    /* 1. bootstrap: a seed and N-1 joiners through it */
    C[0].alive = true;
    spawn(0, NULL);
    for (int i = 1; i < N; i++) C[i].alive = false;
    REQUIRE(wait_until_all(pred_addr, NULL, 20000) >= 0);
    for (int i = 1; i < N - 1; i++) spawn(i, C[0].addr);
    REQUIRE(wait_until_all(pred_addr, NULL, 30000) >= 0);
    int    want = N - 1;
    double t    = wait_until_all(pred_view, &want, 30000);
    CHECK(t >= 0);
    printf("join: all %d members see %d after %.0f ms\n", N - 1, N - 1, t);

    /* 1b. metadata: "k" set at two members at once converges; a member that
     * joins later gets it; removal reaches all */
    for (int i = 0; i < N; i++) C[i].set_rc = -1;
    kill(C[1].pid, SIGUSR2);
    kill(C[2].pid, SIGUSR2);
    t = wait_until_all(pred_meta_same, NULL, 30000);
    CHECK(t >= 0);
    CHECK_EQ_INT(C[1].set_rc, 0);
    CHECK_EQ_INT(C[2].set_rc, 0);
    char won[300];
    snprintf(won, sizeof won, "%s", C[0].meta_k);
    char v1[300], v2[300];
    snprintf(v1, sizeof v1, "v-%s", C[1].addr);
    snprintf(v2, sizeof v2, "v-%s", C[2].addr);
    CHECK(strcmp(won, v1) == 0 || strcmp(won, v2) == 0);
    printf("metadata: concurrent sets converged to \"%s\" at all after %.0f ms\n", won, t);
    for (int i = 0; i < N - 1; i++) CHECK(C[i].nmeta_k >= 1 && C[i].nmeta_k <= 2);
    spawn(N - 1, C[0].addr);
    want = N;
    CHECK(wait_until_all(pred_view, &want, 30000) >= 0);
    /* the joiner learned it from the JOIN answer, inside flock_provider_register:
     * its view has it; its callback (delivered by the drainer, which may run
     * before or after the server adds its callbacks) fired at most once */
    CHECK(wait_until_all(pred_mv, won, 30000) >= 0);
    CHECK_EQ_STR(C[N - 1].mv, won);
    CHECK(C[N - 1].nmeta_k <= 1);
    kill(C[3].pid, SIGHUP);
    double t_rm = ft_now_ms();
    CHECK(wait_until_all(pred_mv, "-", 30000) >= 0);
    CHECK(wait_until_all(pred_meta_same, "-", 30000) >= 0);
    t = ft_now_ms() - t_rm;
    CHECK_EQ_INT(C[3].set_rc, 0);
    printf("metadata: removal seen by all after %.0f ms\n", t);
    kill(C[N - 1].pid, SIGTERM);
    reap(N - 1, true);

    /* 2. graceful leave: everybody sees LEFT (target < 1 s; generous bound) */
    kill(C[5].pid, SIGTERM);
    evq q = {'L', 5};
    t     = wait_until_all(pred_event, &q, 20000);
    CHECK(t >= 0);
    CHECK(t < 5000);
    printf("leave: seen by all after %.0f ms\n", t);
    reap(5, true);

    /* 3. crash mode: no announcement, detected as DIED */
    kill(C[4].pid, SIGUSR1);
    reap(4, true);
    q = (evq){'D', 4};
    t = wait_until_all(pred_event, &q, 90000);
    CHECK(t >= 0);
    printf("crash mode: declared dead by all after %.0f ms\n", t);
    for (int i = 0; i < 4; i++) CHECK(!has_event(&C[i], 'L', &C[4]));

    /* 4. SIGKILL */
    kill(C[3].pid, SIGKILL);
    reap(3, false);
    q = (evq){'D', 3};
    t = wait_until_all(pred_event, &q, 90000);
    CHECK(t >= 0);
    printf("SIGKILL: declared dead by all after %.0f ms\n", t);

    /* 5. SIGSTOP for 1 s (< 4 s suspicion): refuted, never removed */
    want = 3;
    CHECK(wait_until_all(pred_view, &want, 30000) >= 0);
    kill(C[2].pid, SIGSTOP);
    double t0 = ft_now_ms();
    while (ft_now_ms() - t0 < 1000) pump(20);
    kill(C[2].pid, SIGCONT);
    t0 = ft_now_ms();
    while (ft_now_ms() - t0 < 12000) pump(50);
    for (int i = 0; i < 2; i++) {
        CHECK(!has_event(&C[i], 'D', &C[2]));
        CHECK(!has_event(&C[i], 'L', &C[2]));
        CHECK_EQ_INT(C[i].view, 3);
    }
    CHECK_EQ_INT(C[2].view, 3);
    /* no member other than the two that went away was ever removed */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            CHECK(!has_event(&C[i], 'D', &C[j]));
            CHECK(!has_event(&C[i], 'L', &C[j]));
        }

    for (int i = 0; i < 3; i++) {
        kill(C[i].pid, SIGTERM);
        reap(i, true);
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C[i].nevents; k++) free(C[i].events[k]);
    return FT_DONE();
}
