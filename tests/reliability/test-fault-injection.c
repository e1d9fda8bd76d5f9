/*
 * test-fault-injection.c -- the transport's fault-injection seam
 * (frt_fault_* in frt.h, src/runtime/fault.c).
 *
 *  1. grammar: FRT_FAULTS parsing (pure).
 *  2. frame level, deterministic: an frt client talks to a raw TCP socket
 *     owned by the test, which parses what arrives with the runtime's own
 *     frame parser; proves drop, duplicate, reorder and delay are applied
 *     exactly as specified, per peer, and that faults are off by default.
 *  3. end to end over the transport given in argv[1] (na+sm, tcp): calls
 *     with timeouts always terminate (dropped request or response, delay
 *     beyond the timeout -> HG_TIMEOUT), late and duplicate responses are
 *     ignored, the connection stays usable, FRT_FAULTS works, and a random
 *     mix of every fault never mixes up responses.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include <margo.h>

#include "frt-fault.h"
#include "frt-frame.h"
#include "flock-test.h"

/* ------------------------------------------------------------------ */
/* 1. grammar                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
    int            n;
    char           peer[4][128];
    frt_fault_spec spec[4];
} parsed_rules;

static void collect(void* ctx, const char* peer, const frt_fault_spec* spec)
{
    parsed_rules* p = ctx;
    if (p->n >= 4) return;
    snprintf(p->peer[p->n], sizeof p->peer[0], "%s", peer ? peer : "*");
    p->spec[p->n++] = *spec;
}

static void test_grammar(void)
{
    parsed_rules p = {0};
    CHECK(frt__fault_parse("drop=0.1,dup=0.2,reorder=0.3,delay=0.4,delay_ms=5-50,window_ms=20",
                           collect, &p)
          == NULL);
    CHECK_EQ_INT(p.n, 1);
    CHECK_EQ_STR(p.peer[0], "*");
    CHECK(p.spec[0].drop == 0.1 && p.spec[0].duplicate == 0.2 && p.spec[0].reorder == 0.3
          && p.spec[0].delay == 0.4 && p.spec[0].delay_min_ms == 5 && p.spec[0].delay_max_ms == 50
          && p.spec[0].reorder_window_ms == 20);
    memset(&p, 0, sizeof p);
    CHECK(frt__fault_parse("drop=0.5;peer=tcp://10.0.0.2:4000,drop=1,delay_ms=7", collect, &p)
          == NULL);
    CHECK_EQ_INT(p.n, 2);
    CHECK_EQ_STR(p.peer[1], "tcp://10.0.0.2:4000");
    CHECK(p.spec[1].drop == 1 && p.spec[1].delay_min_ms == 7 && p.spec[1].delay_max_ms == 7);
    const char* bad[] = {"drop", "drop=2", "drop=-0.1", "dup=x", "delay_ms=9-3", "bogus=1",
                         "delay_ms=1-", "peer=", NULL};
    for (int i = 0; bad[i]; i++) {
        memset(&p, 0, sizeof p);
        const char* why = frt__fault_parse(bad[i], collect, &p);
        if (!why) FT_FAIL("FRT_FAULTS \"%s\" accepted", bad[i]);
        CHECK_EQ_INT(p.n, 0);
    }
}

/* ------------------------------------------------------------------ */
/* 2. frame level: a raw TCP peer                                      */
/* ------------------------------------------------------------------ */

typedef struct {
    int      lfd, fd;
    uint8_t  buf[1 << 16];
    size_t   len;
} raw_peer;

static void raw_listen(raw_peer* r, char* addr, size_t size)
{
    struct sockaddr_in sa;
    socklen_t          sl = sizeof sa;
    memset(r, 0, sizeof *r);
    r->fd  = -1;
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(r->lfd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family      = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(r->lfd, (struct sockaddr*)&sa, sizeof sa) == 0);
    REQUIRE(listen(r->lfd, 8) == 0);
    REQUIRE(getsockname(r->lfd, (struct sockaddr*)&sa, &sl) == 0);
    snprintf(addr, size, "tcp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* Next complete frame (accepting the connection first if needed), waiting
 * up to timeout_ms. false on timeout. */
static bool raw_next(raw_peer* r, frt__frame* f, uint8_t* payload_copy, size_t* plen,
                     double timeout_ms)
{
    double end = ft_now_ms() + timeout_ms;
    for (;;) {
        size_t      used = 0;
        const char* why  = NULL;
        if (r->len) {
            frt__frame_status st = frt__frame_parse(r->buf, r->len, f, &used, &why);
            REQUIRE(st != FRT__FRAME_BAD);
            if (st == FRT__FRAME_OK) {
                *plen = f->hdr.payload_len < 256 ? f->hdr.payload_len : 256;
                if (*plen) memcpy(payload_copy, f->payload, *plen);
                memmove(r->buf, r->buf + used, r->len - used);
                r->len -= used;
                return true;
            }
        }
        double left = end - ft_now_ms();
        if (left <= 0) return false;
        struct pollfd pfd = {r->fd >= 0 ? r->fd : r->lfd, POLLIN, 0};
        if (poll(&pfd, 1, (int)left + 1) <= 0) continue;
        if (r->fd < 0) {
            r->fd = accept(r->lfd, NULL, NULL);
            REQUIRE(r->fd >= 0);
            continue;
        }
        ssize_t n = recv(r->fd, r->buf + r->len, sizeof r->buf - r->len, 0);
        REQUIRE(n > 0);
        r->len += (size_t)n;
    }
}

static void raw_close(raw_peer* r)
{
    if (r->fd >= 0) close(r->fd);
    close(r->lfd);
}

typedef struct {
    atomic_int done;
} async_count;

static void count_cb(void* u, hg_return_t ret, const void* out, size_t len)
{
    (void)ret;
    (void)out;
    (void)len;
    atomic_fetch_add(&((async_count*)u)->done, 1);
}

static bool all_done(void* u) { return atomic_load(&((async_count*)u)->done) >= 0; }

static void send_tagged(margo_instance_id mid, hg_addr_t a, uint8_t tag, async_count* cnt,
                        double timeout_ms)
{
    atomic_fetch_sub(&cnt->done, 1);
    REQUIRE(frt_forward_async(mid, a, "raw_rpc", 0, &tag, 1, timeout_ms, count_cb, cnt)
            == HG_SUCCESS);
}

static void test_frame_level(void)
{
    raw_peer          r;
    char              addr[64];
    frt__frame        f;
    uint8_t           pl[256];
    size_t            plen;
    async_count       cnt = {0};
    frt_fault_stats   st;
    margo_instance_id mid = margo_init("tcp://127.0.0.1:0", MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(mid);
    raw_listen(&r, addr, sizeof addr);
    hg_addr_t a = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(mid, addr, &a) == HG_SUCCESS);
    frt_fault_seed(mid, 42);

    /* off by default: the frame arrives once, untouched */
    atomic_store(&cnt.done, 0);
    send_tagged(mid, a, 1, &cnt, 500);
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    CHECK_EQ_INT(f.hdr.type, 1); /* hello first */
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    CHECK(f.hdr.type == 2 && plen == 1 && pl[0] == 1);
    REQUIRE(frt_fault_get_stats(mid, &st) == HG_SUCCESS);
    CHECK_EQ_INT(st.seen, 0);

    /* a rule for another peer does not apply */
    frt_fault_spec drop_all = {.drop = 1};
    CHECK(frt_fault_set(mid, "tcp://127.0.0.1:1", &drop_all) == HG_SUCCESS);
    send_tagged(mid, a, 2, &cnt, 500);
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    CHECK(plen == 1 && pl[0] == 2);

    /* drop: nothing reaches the peer, the calls time out */
    CHECK(frt_fault_set(mid, addr, &drop_all) == HG_SUCCESS);
    for (uint8_t t = 10; t < 13; t++) send_tagged(mid, a, t, &cnt, 300);
    CHECK(!raw_next(&r, &f, pl, &plen, 600));
    frt_fault_get_stats(mid, &st);
    CHECK_EQ_INT(st.dropped, 3);

    /* duplicate: the same frame (same id) arrives twice */
    frt_fault_spec dup = {.duplicate = 1};
    CHECK(frt_fault_set(mid, addr, &dup) == HG_SUCCESS);
    send_tagged(mid, a, 20, &cnt, 500);
    uint64_t id1 = 0;
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    id1 = f.hdr.id;
    CHECK(plen == 1 && pl[0] == 20);
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    CHECK(plen == 1 && pl[0] == 20 && f.hdr.id == id1);
    frt_fault_get_stats(mid, &st);
    CHECK_EQ_INT(st.duplicated, 1);

    /* reorder: A is held back, B (no fault) overtakes it, A follows */
    frt_fault_spec hold = {.reorder = 1, .reorder_window_ms = 30000};
    CHECK(frt_fault_set(mid, addr, &hold) == HG_SUCCESS);
    send_tagged(mid, a, 30, &cnt, 2000);
    CHECK(!raw_next(&r, &f, pl, &plen, 200)); /* held */
    /* a 0 ms "delay" rule keeps the seam on without holding B back */
    frt_fault_spec pass = {.delay = 1, .delay_min_ms = 0, .delay_max_ms = 0};
    CHECK(frt_fault_set(mid, addr, &pass) == HG_SUCCESS);
    send_tagged(mid, a, 31, &cnt, 2000);
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    uint8_t first = plen ? pl[0] : 0;
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    uint8_t second = plen ? pl[0] : 0;
    /* A (30) is released behind B (31): B must be first */
    CHECK_EQ_INT(first, 31);
    CHECK_EQ_INT(second, 30);
    frt_fault_get_stats(mid, &st);
    CHECK_EQ_INT(st.reordered, 1);

    /* delay: the frame arrives no earlier than the delay */
    frt_fault_spec slow = {.delay = 1, .delay_min_ms = 400, .delay_max_ms = 400};
    CHECK(frt_fault_set(mid, addr, &slow) == HG_SUCCESS);
    double t0 = ft_now_ms();
    send_tagged(mid, a, 40, &cnt, 1500);
    REQUIRE(raw_next(&r, &f, pl, &plen, 10000));
    CHECK(ft_now_ms() - t0 >= 399.0);
    CHECK(plen == 1 && pl[0] == 40);

    /* clearing: back to untouched */
    CHECK(frt_fault_clear(mid) == HG_SUCCESS);
    frt_fault_get_stats(mid, &st);
    uint64_t seen = st.seen;
    send_tagged(mid, a, 50, &cnt, 500);
    REQUIRE(raw_next(&r, &f, pl, &plen, 5000));
    CHECK(plen == 1 && pl[0] == 50);
    frt_fault_get_stats(mid, &st);
    CHECK_EQ_INT(st.seen, seen);

    /* bad arguments */
    frt_fault_spec badp = {.drop = 1.5};
    CHECK(frt_fault_set(mid, addr, &badp) == HG_INVALID_ARG);
    CHECK(frt_fault_set(mid, "not an address", &drop_all) == HG_INVALID_ARG);
    CHECK(frt_fault_set(NULL, addr, &drop_all) == HG_INVALID_ARG);

    /* every call completes (they all time out: the raw peer never answers) */
    CHECK(ft_wait_until(all_done, &cnt, 20000));
    margo_addr_free(mid, a);
    margo_finalize(mid);
    raw_close(&r);
}

/* ------------------------------------------------------------------ */
/* 3. end to end                                                       */
/* ------------------------------------------------------------------ */

static atomic_int g_calls;

static void echo(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    atomic_fetch_add(&g_calls, 1);
    frt_respond(req, in, len);
}

static const char* listen_addr(const char* tr)
{
    return strcmp(tr, "na+sm") == 0 ? "na+sm" : "tcp://127.0.0.1:0";
}

static hg_return_t call(margo_instance_id mid, hg_addr_t a, uint32_t v, double timeout_ms,
                        bool* echoed_ok)
{
    void*       out = NULL;
    size_t      len = 0;
    hg_return_t r   = frt_forward(mid, a, "echo", 3, &v, sizeof v, timeout_ms, &out, &len);
    if (echoed_ok) *echoed_ok = r == HG_SUCCESS && len == sizeof v && memcmp(out, &v, len) == 0;
    free(out);
    return r;
}

typedef struct {
    int target;
} calls_at_least;

static bool calls_reached(void* u) { return atomic_load(&g_calls) >= ((calls_at_least*)u)->target; }

static void test_end_to_end(const char* tr)
{
    margo_instance_id srv = margo_init(listen_addr(tr), MARGO_SERVER_MODE, 0, 0);
    margo_instance_id cli = margo_init(listen_addr(tr), MARGO_SERVER_MODE, 0, 0);
    REQUIRE(srv && cli);
    REQUIRE(frt_rpc_register(srv, "echo", 3, echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    hg_addr_t sa = HG_ADDR_NULL, ca = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(cli, frt_self_addr_str(srv), &sa) == HG_SUCCESS);
    REQUIRE(margo_addr_lookup(srv, frt_self_addr_str(cli), &ca) == HG_SUCCESS);
    bool ok = false;
    CHECK_EQ_INT(call(cli, sa, 1, 5000, &ok), HG_SUCCESS);
    CHECK(ok);

    /* dropped request: timeout, handler never ran */
    frt_fault_spec drop = {.drop = 1};
    int            before = atomic_load(&g_calls);
    REQUIRE(frt_fault_set(cli, frt_self_addr_str(srv), &drop) == HG_SUCCESS);
    CHECK_EQ_INT(call(cli, sa, 2, 300, NULL), HG_TIMEOUT);
    CHECK_EQ_INT(atomic_load(&g_calls), before);
    frt_fault_clear(cli);

    /* dropped response: timeout, handler ran */
    REQUIRE(frt_fault_set(srv, frt_self_addr_str(cli), &drop) == HG_SUCCESS);
    CHECK_EQ_INT(call(cli, sa, 3, 300, NULL), HG_TIMEOUT);
    CHECK_EQ_INT(atomic_load(&g_calls), before + 1);
    frt_fault_clear(srv);

    /* response delayed beyond the timeout: timeout; the late response is
     * ignored and the next call is fine */
    frt_fault_spec slow = {.delay = 1, .delay_min_ms = 600, .delay_max_ms = 600};
    REQUIRE(frt_fault_set(srv, NULL, &slow) == HG_SUCCESS);
    CHECK_EQ_INT(call(cli, sa, 4, 150, NULL), HG_TIMEOUT);
    frt_fault_clear(srv);
    ft_sleep_ms(800); /* the late response arrives meanwhile */
    CHECK_EQ_INT(call(cli, sa, 5, 5000, &ok), HG_SUCCESS);
    CHECK(ok);

    /* duplicated request and response: the handler runs twice, the call
     * completes once with the right answer */
    frt_fault_spec dup = {.duplicate = 1};
    before = atomic_load(&g_calls);
    REQUIRE(frt_fault_set(cli, NULL, &dup) == HG_SUCCESS);
    REQUIRE(frt_fault_set(srv, NULL, &dup) == HG_SUCCESS);
    CHECK_EQ_INT(call(cli, sa, 6, 5000, &ok), HG_SUCCESS);
    CHECK(ok);
    calls_at_least want = {before + 2};
    CHECK(ft_wait_until(calls_reached, &want, 10000));
    frt_fault_clear(cli);
    frt_fault_clear(srv);

    /* a random mix of every fault, both directions: every call terminates
     * (success with its own answer, or timeout) */
    frt_fault_spec mix = {.drop = 0.08, .duplicate = 0.15, .reorder = 0.15, .delay = 0.3,
                          .delay_min_ms = 1, .delay_max_ms = 30, .reorder_window_ms = 20};
    REQUIRE(frt_fault_set(cli, NULL, &mix) == HG_SUCCESS);
    REQUIRE(frt_fault_set(srv, NULL, &mix) == HG_SUCCESS);
    int n_ok = 0, n_to = 0, n_bad = 0;
    for (uint32_t i = 0; i < 120; i++) {
        hg_return_t r = call(cli, sa, 1000 + i, 250, &ok);
        if (r == HG_SUCCESS && ok) n_ok++;
        else if (r == HG_TIMEOUT) n_to++;
        else n_bad++;
    }
    printf("%s mix: %d ok, %d timeouts, %d other\n", tr, n_ok, n_to, n_bad);
    CHECK_EQ_INT(n_bad, 0);
    CHECK(n_ok > 0 && n_to > 0);
    frt_fault_stats cs, ss;
    frt_fault_get_stats(cli, &cs);
    frt_fault_get_stats(srv, &ss);
    CHECK(cs.dropped > 0 && cs.duplicated > 0 && cs.reordered > 0 && cs.delayed > 0);
    CHECK(ss.dropped > 0 && ss.duplicated > 0 && ss.reordered > 0 && ss.delayed > 0);
    frt_fault_clear(cli);
    frt_fault_clear(srv);
    CHECK_EQ_INT(call(cli, sa, 7, 5000, &ok), HG_SUCCESS);
    CHECK(ok);

    margo_addr_free(cli, sa);
    margo_addr_free(srv, ca);
    margo_finalize(cli);
    margo_finalize(srv);
}

static void test_env(const char* tr)
{
    margo_instance_id srv = margo_init(listen_addr(tr), MARGO_SERVER_MODE, 0, 0);
    REQUIRE(srv);
    REQUIRE(frt_rpc_register(srv, "echo", 3, echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    char env[256];
    snprintf(env, sizeof env, "dup=0;peer=%s,drop=1", frt_self_addr_str(srv));
    setenv("FRT_FAULTS", env, 1);
    margo_instance_id cli = margo_init(listen_addr(tr), MARGO_CLIENT_MODE, 0, 0);
    unsetenv("FRT_FAULTS");
    REQUIRE(cli);
    hg_addr_t sa = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(cli, frt_self_addr_str(srv), &sa) == HG_SUCCESS);
    CHECK_EQ_INT(call(cli, sa, 9, 300, NULL), HG_TIMEOUT);
    frt_fault_stats st;
    frt_fault_get_stats(cli, &st);
    CHECK_EQ_INT(st.dropped, 1);
    frt_fault_clear(cli);
    bool ok = false;
    CHECK_EQ_INT(call(cli, sa, 10, 5000, &ok), HG_SUCCESS);
    CHECK(ok);
    /* a malformed FRT_FAULTS is ignored (logged), never fatal */
    setenv("FRT_FAULTS", "drop=7", 1);
    margo_instance_id cli2 = margo_init(listen_addr(tr), MARGO_CLIENT_MODE, 0, 0);
    unsetenv("FRT_FAULTS");
    REQUIRE(cli2);
    hg_addr_t sa2 = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(cli2, frt_self_addr_str(srv), &sa2) == HG_SUCCESS);
    CHECK_EQ_INT(call(cli2, sa2, 11, 5000, &ok), HG_SUCCESS);
    margo_addr_free(cli2, sa2);
    margo_finalize(cli2);
    margo_addr_free(cli, sa);
    margo_finalize(cli);
    margo_finalize(srv);
}

int main(int argc, char** argv)
{
    const char* tr = argc > 1 ? argv[1] : "na+sm";
    margo_set_global_log_level(MARGO_LOG_CRITICAL);
    test_grammar();
    test_frame_level();
    test_end_to_end(tr);
    test_env(tr);
    return FT_DONE();
}
