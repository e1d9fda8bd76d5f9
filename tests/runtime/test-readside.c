/*
 * test-readside.c -- who reads a connection (core.c "Read side"), over one
 * transport (argv[1]).
 *
 * A synchronous caller reads its own response and leaves the connection's
 * reads disarmed for the loop, which re-arms them shortly after (the
 * "debt"). These tests prove that nothing waits on that re-arm when it
 * matters, by making the re-arm delay far longer than the call timeouts:
 *  - an asynchronous call after a synchronous one on the same connection;
 *  - an asynchronous call pending while a synchronous one completes;
 *  - a burst of synchronous calls from several threads on one connection.
 * And with the default delay, that what a peer sends unprompted on such a
 * connection is still read: a request from the server back to a
 * client-mode instance (which can only come over the client's own
 * connection).
 *
 * Write coalescing (core.c frt__conn_send): requests that arrive together
 * are answered with fewer send calls than responses, and every response
 * arrives whole and right -- also when some are larger than what may be
 * held back, and when the socket fills up.
 */
#include "rt-test.h"
#include "frt-internal.h"
#include "rt-raw.h"

#include <unistd.h>

static const char* transport;

#define LONG_DEBT_NS (600L * 1000000000L) /* 10 minutes: never, for these tests */

/* "sleep": waits the number of ms given as input, then echoes it */
static void sleep_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    int ms = 0;
    if (len == sizeof ms) memcpy(&ms, in, sizeof ms);
    if (ms > 0) usleep((useconds_t)ms * 1000u);
    frt_respond(req, in, len);
}

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t  cv;
    int             done;
    hg_return_t     ret;
} async_wait;

static void async_done(void* u, hg_return_t ret, const void* out, size_t out_len)
{
    (void)out;
    (void)out_len;
    async_wait* w = u;
    pthread_mutex_lock(&w->m);
    w->ret = ret;
    w->done++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->m);
}

/* Wait up to 20 s for w->done to reach n; false on timeout. */
static bool async_wait_for(async_wait* w, int n)
{
    double end = ft_now_ms() + 20000;
    pthread_mutex_lock(&w->m);
    while (w->done < n && ft_now_ms() < end) {
        pthread_mutex_unlock(&w->m);
        usleep(1000);
        pthread_mutex_lock(&w->m);
    }
    bool ok = w->done >= n;
    pthread_mutex_unlock(&w->m);
    return ok;
}

static hg_return_t call_sleep(margo_instance_id cli, hg_addr_t a, int ms);

#define BURST_THREADS 6
#define BURST_CALLS   200
typedef struct {
    margo_instance_id cli;
    hg_addr_t         a;
    int               i;
    _Atomic int*      failed;
} burst_arg;

static void* burst_main(void* p)
{
    burst_arg* b = p;
    for (int k = 0; k < BURST_CALLS; k++)
        if (call_sleep(b->cli, b->a, (k + b->i) % 7 == 0 ? 1 : 0) != HG_SUCCESS) {
            atomic_fetch_add(b->failed, 1);
            break;
        }
    return NULL;
}

static hg_return_t call_sleep(margo_instance_id cli, hg_addr_t a, int ms)
{
    void*       out  = NULL;
    size_t      olen = 0;
    hg_return_t r    = frt_forward(cli, a, "sleep", 0, &ms, sizeof ms, 10000, &out, &olen);
    if (r == HG_SUCCESS && (olen != sizeof ms || memcmp(out, &ms, sizeof ms) != 0)) r = HG_OTHER_ERROR;
    free(out);
    return r;
}

/* With a re-arm delay of 10 minutes, every call must still complete. */
static void test_no_wait_on_rearm(void)
{
    frt__set_read_debt_ns(LONG_DEBT_NS);
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    CHECK_EQ_INT(frt_rpc_register(srv, "sleep", 0, sleep_handler, NULL, ABT_POOL_NULL), HG_SUCCESS);
    hg_addr_t  a = rt_lookup(cli, frt_self_addr_str(srv));
    async_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, HG_SUCCESS};

    /* 1. synchronous, then asynchronous on the same connection */
    CHECK_EQ_INT(call_sleep(cli, a, 0), HG_SUCCESS);
    int zero = 0;
    CHECK_EQ_INT(frt_forward_async(cli, a, "sleep", 0, &zero, sizeof zero, 10000, async_done, &w),
                 HG_SUCCESS);
    if (!async_wait_for(&w, 1)) FT_FAIL("async call after a sync call never completed");
    CHECK_EQ_INT(w.ret, HG_SUCCESS);

    /* 2. an asynchronous call still pending when a synchronous one ends */
    int slow = 300;
    CHECK_EQ_INT(frt_forward_async(cli, a, "sleep", 0, &slow, sizeof slow, 10000, async_done, &w),
                 HG_SUCCESS);
    CHECK_EQ_INT(call_sleep(cli, a, 0), HG_SUCCESS);
    if (!async_wait_for(&w, 2)) FT_FAIL("async call pending over a sync call never completed");
    CHECK_EQ_INT(w.ret, HG_SUCCESS);

    /* 3. synchronous calls from several threads at once, one connection */
    burst_arg args[BURST_THREADS];
    pthread_t th[BURST_THREADS];
    _Atomic int failed = 0;
    for (int i = 0; i < BURST_THREADS; i++) {
        args[i] = (burst_arg){cli, a, i, &failed};
        REQUIRE(pthread_create(&th[i], NULL, burst_main, &args[i]) == 0);
    }
    for (int i = 0; i < BURST_THREADS; i++) pthread_join(th[i], NULL);
    CHECK_EQ_INT(atomic_load(&failed), 0);

    margo_addr_free(cli, a);
    margo_finalize(cli);
    margo_finalize(srv);
    frt__set_read_debt_ns(0);
}

/* ---- what a peer sends unprompted, with the default re-arm delay ---- */

static char          caller_addr[256];
static _Atomic int   backs;
static void ping_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    snprintf(caller_addr, sizeof caller_addr, "%s", frt_request_source(req));
    frt_respond(req, in, len);
}
static void back_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    atomic_fetch_add(&backs, 1);
    frt_respond(req, in, len);
}

/* A client-mode instance does not listen: the server's request can only
 * come over the connection the client opened, which the client's last
 * synchronous call left disarmed. */
static void test_request_on_callers_connection(void)
{
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    CHECK_EQ_INT(frt_rpc_register(srv, "ping", 0, ping_handler, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(cli, "back", 0, back_handler, NULL, ABT_POOL_NULL), HG_SUCCESS);
    hg_addr_t a = rt_lookup(cli, frt_self_addr_str(srv));
    enum { ROUNDS = 50 };
    for (int i = 0; i < ROUNDS; i++) {
        CHECK_EQ_INT(frt_forward(cli, a, "ping", 0, "p", 1, 10000, NULL, NULL), HG_SUCCESS);
        hg_addr_t   b = rt_lookup(srv, caller_addr);
        hg_return_t r = frt_forward(srv, b, "back", 0, "b", 1, 10000, NULL, NULL);
        margo_addr_free(srv, b);
        if (r != HG_SUCCESS) {
            FT_FAIL("round %d: request to the client over its connection: %s", i,
                    HG_Error_to_string(r));
            break;
        }
    }
    CHECK_EQ_INT(atomic_load(&backs), ROUNDS);
    margo_addr_free(cli, a);
    margo_finalize(cli);
    margo_finalize(srv);
}

/* ---- write coalescing ---- */

static void append(uint8_t** buf, size_t* len, const void* p, size_t n)
{
    *buf = realloc(*buf, *len + n);
    REQUIRE(*buf != NULL);
    memcpy(*buf + *len, p, n);
    *len += n;
}

/* Payload of request i: `sizes[i]` bytes derived from i. */
static void fill(uint8_t* p, size_t n, int i)
{
    for (size_t k = 0; k < n; k++) p[k] = (uint8_t)(k * 31 + (size_t)i * 7);
}

/* Send `n` echo requests (payload sizes[i]) in one write on a raw
 * connection, check every response; return the server's send calls. */
static unsigned long batch(margo_instance_id srv, const size_t* sizes, int n)
{
    int      fd  = rt_raw_connect(frt_self_addr_str(srv));
    uint8_t* out = NULL;
    size_t   len = 0;
    uint8_t  hb[FRT__HDR_LEN];
    frt__hdr h;
    /* the server's hello first: it is sent on accept, before we count */
    REQUIRE(rt_raw_recv_all(fd, hb, sizeof hb));
    REQUIRE(frt__hdr_decode(hb, &h) == NULL && h.type == FRT__T_HELLO);
    uint8_t* skip = malloc(h.name_len + 1u);
    REQUIRE(skip && rt_raw_recv_all(fd, skip, h.name_len));
    free(skip);
    const char* me = "na+sm://1-1";
    frt__hdr_encode(&(frt__hdr){.type = FRT__T_HELLO, .name_len = (uint16_t)strlen(me)}, hb);
    append(&out, &len, hb, sizeof hb);
    append(&out, &len, me, strlen(me));
    for (int i = 0; i < n; i++) {
        frt__hdr_encode(&(frt__hdr){.type        = FRT__T_REQUEST,
                                    .id          = (uint64_t)i + 1,
                                    .name_len    = 4,
                                    .payload_len = (uint32_t)sizes[i]},
                        hb);
        append(&out, &len, hb, sizeof hb);
        append(&out, &len, "echo", 4);
        uint8_t* p = malloc(sizes[i] + 1);
        REQUIRE(p != NULL);
        fill(p, sizes[i], i);
        append(&out, &len, p, sizes[i]);
        free(p);
    }
    unsigned long before = frt__stat_sends(srv);
    rt_raw_send(fd, out, len);
    free(out);
    bool* seen = calloc((size_t)n, sizeof *seen);
    REQUIRE(seen != NULL);
    for (int got = 0; got < n; got++) {
        if (!rt_raw_recv_all(fd, hb, sizeof hb)) {
            FT_FAIL("response %d of %d never came", got + 1, n);
            break;
        }
        const char* why = frt__hdr_decode(hb, &h);
        if (why || h.type != FRT__T_RESPONSE || h.id < 1 || h.id > (uint64_t)n || seen[h.id - 1]) {
            FT_FAIL("response %d: bad frame (%s, type %d, id %llu)", got + 1, why ? why : "ok",
                    h.type, (unsigned long long)h.id);
            break;
        }
        int i   = (int)h.id - 1;
        seen[i] = true;
        uint8_t* p = malloc(h.payload_len + 1u);
        uint8_t* q = malloc(h.payload_len + 1u);
        REQUIRE(p && q && rt_raw_recv_all(fd, p, h.payload_len));
        fill(q, h.payload_len, i);
        if (h.payload_len != sizes[i] || memcmp(p, q, h.payload_len) != 0)
            FT_FAIL("response %d: payload of %u bytes differs from the request's %zu", i + 1,
                    h.payload_len, sizes[i]);
        free(p);
        free(q);
    }
    free(seen);
    close(fd);
    return frt__stat_sends(srv) - before;
}

static void test_coalescing(void)
{
    margo_instance_id srv = rt_server(transport);
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(srv, "sleep", 0, sleep_handler, NULL, ABT_POOL_NULL), HG_SUCCESS);
    enum { N = 16 };
    size_t sizes[N];
    /* small requests that come together: fewer sends than responses. The
     * batch's thread hands the rest of the batch to other threads if it is
     * descheduled for 500 us (a loaded machine, valgrind), so the best of
     * five tries counts. */
    for (int i = 0; i < N; i++) sizes[i] = (size_t)i * 8;
    unsigned long best = ~0ul;
    for (int t = 0; t < 5 && best >= N; t++) {
        unsigned long sends = batch(srv, sizes, N);
        if (sends < best) best = sends;
    }
    if (best >= N) FT_FAIL("%d responses to one read took %lu send calls at best", N, best);
    /* mixed with frames larger than what is held back (64 KiB) */
    for (int i = 0; i < N; i++) sizes[i] = i % 5 == 2 ? 100000 + (size_t)i : (size_t)i * 8;
    (void)batch(srv, sizes, N);
    /* more than the socket holds: held-back frames meet a full socket */
    for (int i = 0; i < N; i++) sizes[i] = 60000 + (size_t)i;
    (void)batch(srv, sizes, N);

    /* calls in flight from an instance: every response right, and once
     * all is answered no connection keeps an output buffer */
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    hg_addr_t  a = rt_lookup(cli, frt_self_addr_str(srv));
    async_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, HG_SUCCESS};
    int        ms = 0;
    for (int round = 0; round < 20; round++)
        for (int i = 0; i < N; i++)
            CHECK_EQ_INT(frt_forward_async(cli, a, "sleep", 0, &ms, sizeof ms, 10000, async_done, &w),
                         HG_SUCCESS);
    if (!async_wait_for(&w, 20 * N)) FT_FAIL("%d of %d pipelined calls completed", w.done, 20 * N);
    CHECK_EQ_INT(w.ret, HG_SUCCESS);
    /* (the last sender frees its buffer just after the bytes went out) */
    double end = ft_now_ms() + 5000;
    while ((frt__stat_outq_bytes(srv) || frt__stat_outq_bytes(cli)) && ft_now_ms() < end)
        ft_sleep_ms(10);
    CHECK_EQ_INT((long)frt__stat_outq_bytes(srv), 0);
    CHECK_EQ_INT((long)frt__stat_outq_bytes(cli), 0);
    margo_addr_free(cli, a);
    margo_finalize(cli);
    margo_finalize(srv);
}

/* A "quit" handler answers, then finalizes its instance, in the middle of
 * a batch: the responses held back so far (its own and the one before)
 * must still go out -- finalize drains the pool, whose next send on the
 * connection carries them (finalize also flushes what is held back
 * itself, before and after the drain, for batches with nothing left to
 * send). */
static void quit_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    frt_respond(req, in, len);
    margo_finalize((margo_instance_id)u);
}

static void* waiter_main(void* p)
{
    margo_wait_for_finalize(p);
    return NULL;
}

static void test_quit_in_a_batch(void)
{
    margo_instance_id srv = rt_server(transport);
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(srv, "quit", 0, quit_handler, srv, ABT_POOL_NULL), HG_SUCCESS);
    pthread_t waiter;
    REQUIRE(pthread_create(&waiter, NULL, waiter_main, srv) == 0);
    ft_sleep_ms(50); /* the waiter must be in margo_wait_for_finalize first */
    int      fd  = rt_raw_connect(frt_self_addr_str(srv));
    uint8_t* out = NULL;
    size_t   len = 0;
    uint8_t  hb[FRT__HDR_LEN];
    const char* me = "na+sm://1-1";
    frt__hdr_encode(&(frt__hdr){.type = FRT__T_HELLO, .name_len = (uint16_t)strlen(me)}, hb);
    append(&out, &len, hb, sizeof hb);
    append(&out, &len, me, strlen(me));
    const char* names[3] = {"echo", "quit", "echo"};
    for (int i = 0; i < 3; i++) {
        frt__hdr_encode(&(frt__hdr){.type = FRT__T_REQUEST, .id = (uint64_t)i + 1, .name_len = 4,
                                    .payload_len = 1},
                        hb);
        append(&out, &len, hb, sizeof hb);
        append(&out, &len, names[i], 4);
        append(&out, &len, "x", 1);
    }
    rt_raw_send(fd, out, len);
    free(out);
    /* the server's hello, then responses 1 and 2 (3 may come or not) */
    bool got[4] = {false};
    for (;;) {
        frt__hdr h;
        if (!rt_raw_recv_all(fd, hb, sizeof hb) || frt__hdr_decode(hb, &h) != NULL) break;
        size_t   body = (size_t)h.name_len + h.payload_len;
        uint8_t* b    = malloc(body + 1);
        REQUIRE(b != NULL);
        bool ok = rt_raw_recv_all(fd, b, body);
        free(b);
        if (!ok) break;
        if (h.type == FRT__T_RESPONSE && h.id >= 1 && h.id <= 3) got[h.id] = true;
    }
    close(fd);
    if (!got[1] || !got[2])
        FT_FAIL("responses before a quit handler's finalize were lost (1: %s, 2: %s)",
                got[1] ? "came" : "lost", got[2] ? "came" : "lost");
    pthread_join(waiter, NULL);
}

int main(int argc, char** argv)
{
    transport = rt_transport(argc, argv);
    test_no_wait_on_rearm();
    test_request_on_callers_connection();
    test_coalescing();
    test_quit_in_a_batch();
    return FT_DONE();
}
