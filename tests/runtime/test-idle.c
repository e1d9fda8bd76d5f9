/*
 * test-idle.c -- idle connections close politely (conn.c "Idle
 * connections"), over one transport (argv[1]).
 *
 * FRT_IDLE_CLOSE_MS is set short for the whole process. Checked:
 *  - a connection idle that long is closed on both sides, and neither
 *    side's peer watchers hear of it (an end after a bye is no news);
 *  - calls in both directions around the idle threshold all succeed (a
 *    call never meets a connection being closed under it);
 *  - a peer that ends a connection without a bye (its process is gone) is
 *    still reported to the watchers, after idle cycles;
 *  - the same with a group key (the bye is authenticated like any frame);
 *  - over a raw socket, as the dialer: a bye that crosses the server's own
 *    call does not cut it (the server waits for its answer, then closes),
 *    and a bye with extra fields is a protocol error;
 *  - over a raw listening socket, as the peer the instance dials: a hello
 *    that arrives after the instance said bye (a peer that was paused)
 *    does not bring that connection back into the key table (it was, and
 *    its key leaked: LeakSanitizer in rel-chaos-swim); the next call dials
 *    afresh.
 */
#include "rt-test.h"
#include "frt-internal.h"
#include "rt-raw.h"

#include <errno.h>
#include <stdlib.h>

static const char* transport;

#define IDLE_MS "300"

typedef struct {
    pthread_mutex_t m;
    int             n;
} peer_count;

static void on_peer_closed(void* u, const char* peer)
{
    (void)peer;
    peer_count* s = u;
    pthread_mutex_lock(&s->m);
    s->n++;
    pthread_mutex_unlock(&s->m);
}

static int peer_count_get(peer_count* s)
{
    pthread_mutex_lock(&s->m);
    int n = s->n;
    pthread_mutex_unlock(&s->m);
    return n;
}

static bool no_conns(void* u)
{
    margo_instance_id* pair = u;
    return frt__stat_conns(pair[0]) == 0 && frt__stat_conns(pair[1]) == 0;
}

static bool any_peer_closed(void* u) { return peer_count_get(u) > 0; }

/* ---- both sides close, quietly, and calls keep working ---- */

typedef struct {
    margo_instance_id from;
    hg_addr_t         to;
    unsigned          seed;
    _Atomic int*      failures;
} caller_arg;

static void* caller(void* p)
{
    caller_arg* a = p;
    for (int i = 0; i < 12; i++) {
        /* around the idle threshold: some calls find the connection open,
         * some find it being closed, some find it gone */
        usleep((useconds_t)(200000 + rand_r(&a->seed) % 250000));
        void*  out  = NULL;
        size_t olen = 0;
        if (frt_forward(a->from, a->to, "echo", 0, "ping", 4, 60000, &out, &olen) != HG_SUCCESS
            || olen != 4 || memcmp(out, "ping", 4) != 0)
            atomic_fetch_add(a->failures, 1);
        free(out);
    }
    return NULL;
}

static void test_idle_close(void)
{
    margo_instance_id a = rt_server(transport), b = rt_server(transport);
    peer_count        pa = {.m = PTHREAD_MUTEX_INITIALIZER}, pb = {.m = PTHREAD_MUTEX_INITIALIZER};
    CHECK_EQ_INT(frt_peer_watch(a, on_peer_closed, &pa), HG_SUCCESS);
    CHECK_EQ_INT(frt_peer_watch(b, on_peer_closed, &pb), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(a, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(b, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    hg_addr_t to_b = rt_lookup(a, frt_self_addr_str(b));
    hg_addr_t to_a = rt_lookup(b, frt_self_addr_str(a));

    /* one call opens one connection; idle, it closes on both sides */
    CHECK_EQ_INT(frt_forward(a, to_b, "echo", 0, "x", 1, 60000, NULL, NULL), HG_SUCCESS);
    CHECK(frt__stat_conns(a) == 1 && frt__stat_conns(b) == 1);
    margo_instance_id pair[2] = {a, b};
    CHECK(ft_wait_until(no_conns, pair, 30000));
    CHECK_EQ_INT(peer_count_get(&pa), 0);
    CHECK_EQ_INT(peer_count_get(&pb), 0);

    /* and the next call dials afresh, in either direction */
    CHECK_EQ_INT(frt_forward(a, to_b, "echo", 0, "x", 1, 60000, NULL, NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_forward(b, to_a, "echo", 0, "x", 1, 60000, NULL, NULL), HG_SUCCESS);

    /* calls from both sides, at times around the threshold */
    _Atomic int failures = 0;
    pthread_t   t[4];
    caller_arg  args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (caller_arg){i % 2 ? b : a, i % 2 ? to_a : to_b, 1234u + (unsigned)i,
                               &failures};
        pthread_create(&t[i], NULL, caller, &args[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(atomic_load(&failures), 0);
    CHECK(ft_wait_until(no_conns, pair, 30000));
    CHECK_EQ_INT(peer_count_get(&pa), 0);
    CHECK_EQ_INT(peer_count_get(&pb), 0);

    /* an end without a bye is still news: b goes away */
    CHECK_EQ_INT(frt_forward(a, to_b, "echo", 0, "x", 1, 60000, NULL, NULL), HG_SUCCESS);
    margo_addr_free(b, to_a);
    margo_finalize(b);
    CHECK(ft_wait_until(any_peer_closed, &pa, 30000));
    CHECK_EQ_INT(frt_peer_unwatch(a, on_peer_closed, &pa), HG_SUCCESS);
    margo_addr_free(a, to_b);
    margo_finalize(a);
}

/* ---- a raw dialer's bye crosses the server's call ---- */

/* Read frames until one of type `type` (its header in *h, its body
 * skipped); false on EOF or timeout. */
static bool read_until(int fd, uint8_t type, frt__hdr* h)
{
    for (;;) {
        uint8_t buf[FRT__HDR_LEN], body[512];
        if (!rt_raw_recv_all(fd, buf, sizeof buf)) return false;
        REQUIRE(frt__hdr_decode(buf, h) == NULL);
        size_t blen = (size_t)h->name_len + h->payload_len;
        REQUIRE(blen <= sizeof body);
        if (blen && !rt_raw_recv_all(fd, body, blen)) return false;
        if (h->type == type) return true;
    }
}

typedef struct {
    margo_instance_id from;
    hg_addr_t         to;
    hg_return_t       ret;
    char              out[8];
    size_t            olen;
} call_arg;

static void* call_thread(void* p)
{
    call_arg* c   = p;
    void*     out = NULL;
    c->ret        = frt_forward(c->from, c->to, "echo", 0, "q", 1, 60000, &out, &c->olen);
    if (out && c->olen <= sizeof c->out) memcpy(c->out, out, c->olen);
    free(out);
    return NULL;
}

static void test_bye_crosses_call(void)
{
    margo_instance_id srv = rt_server(transport), other = rt_server(transport);
    peer_count        ps  = {.m = PTHREAD_MUTEX_INITIALIZER};
    CHECK_EQ_INT(frt_peer_watch(srv, on_peer_closed, &ps), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(other, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    /* we dial srv and say we are `other`: srv's calls to other come to us */
    const char* claim = frt_self_addr_str(other);
    int         fd    = rt_raw_connect(frt_self_addr_str(srv));
    rt_raw_send_hello(fd, claim);
    frt__hdr h;
    CHECK(read_until(fd, FRT__T_HELLO, &h));
    /* a call of ours answered: srv has taken our hello (frames in order) */
    rt_raw_send_hdr(fd, (frt__hdr){.type        = FRT__T_REQUEST,
                                   .id          = 1,
                                   .name_len    = 4,
                                   .payload_len = 1});
    rt_raw_send(fd, "echoh", 5);
    CHECK(read_until(fd, FRT__T_RESPONSE, &h) && h.id == 1);
    call_arg c = {.from = srv, .to = rt_lookup(srv, claim)};
    pthread_t t;
    pthread_create(&t, NULL, call_thread, &c);
    CHECK(read_until(fd, FRT__T_REQUEST, &h));
    /* bye while srv's call is pending: srv keeps the connection ... */
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_BYE});
    usleep(300000);
    char probe;
    CHECK(recv(fd, &probe, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
    /* ... until its call is answered; then it closes, and tells nobody */
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_RESPONSE, .id = h.id, .payload_len = 2});
    rt_raw_send(fd, "ok", 2);
    pthread_join(t, NULL);
    CHECK_EQ_INT(c.ret, HG_SUCCESS);
    CHECK(c.olen == 2 && memcmp(c.out, "ok", 2) == 0);
    CHECK(rt_raw_sees_end(fd));
    close(fd);
    usleep(200000);
    CHECK_EQ_INT(peer_count_get(&ps), 0);
    /* srv's next call to that address dials the real one */
    call_arg c2 = {.from = srv, .to = c.to};
    call_thread(&c2);
    CHECK_EQ_INT(c2.ret, HG_SUCCESS);
    CHECK(c2.olen == 1 && c2.out[0] == 'q');

    /* a bye with extra fields is a protocol error: srv hangs up */
    fd = rt_raw_connect(frt_self_addr_str(srv));
    rt_raw_send_hello(fd, claim);
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_BYE, .id = 7});
    CHECK(rt_raw_sees_end(fd));
    close(fd);

    CHECK_EQ_INT(frt_peer_unwatch(srv, on_peer_closed, &ps), HG_SUCCESS);
    margo_addr_free(srv, c.to);
    margo_finalize(other);
    margo_finalize(srv);
}

/* ---- a hello that comes after the dialer's bye ---- */

static void test_late_hello(void)
{
    margo_instance_id srv = rt_server(transport);
    char              addr[128];
    int               lfd = rt_raw_listen(transport, addr, sizeof addr);
    hg_addr_t         to  = rt_lookup(srv, addr);
    /* 1. srv dials us; we take its hello and its request and say nothing */
    void*  out  = NULL;
    size_t olen = 0;
    CHECK_EQ_INT(frt_forward(srv, to, "echo", 0, "q", 1, 200, &out, &olen), HG_TIMEOUT);
    free(out);
    int fd = rt_raw_accept(lfd, 10000);
    REQUIRE(fd >= 0);
    /* 2. quiet for IDLE_MS: srv says bye (its connection leaves the table) */
    frt__hdr h;
    CHECK(read_until(fd, FRT__T_BYE, &h));
    /* 3. our hello, late (a peer that was paused) */
    rt_raw_send_hello(fd, addr);
    usleep(200000);
    /* 4. srv's next call to us dials afresh: the old connection carries
     *    nothing more */
    call_arg c = {.from = srv, .to = to};
    pthread_t t;
    pthread_create(&t, NULL, call_thread, &c);
    int fd2 = rt_raw_accept(lfd, 10000);
    CHECK(fd2 >= 0);
    char probe;
    CHECK(recv(fd, &probe, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
    if (fd2 >= 0) {
        rt_raw_send_hello(fd2, addr);
        if (read_until(fd2, FRT__T_REQUEST, &h)) {
            rt_raw_send_hdr(fd2, (frt__hdr){.type = FRT__T_RESPONSE, .id = h.id, .payload_len = 2});
            rt_raw_send(fd2, "ok", 2);
        }
    } else {
        close(fd); /* the call on the old connection fails: join the thread */
        fd = -1;
    }
    pthread_join(t, NULL);
    CHECK_EQ_INT(c.ret, HG_SUCCESS);
    CHECK(c.olen == 2 && memcmp(c.out, "ok", 2) == 0);
    if (fd2 >= 0) close(fd2);
    if (fd >= 0) close(fd);
    close(lfd);
    margo_addr_free(srv, to);
    margo_finalize(srv);
}

int main(int argc, char** argv)
{
    transport = rt_transport(argc, argv);
    setenv("FRT_IDLE_CLOSE_MS", IDLE_MS, 1);
    test_idle_close();
    test_bye_crosses_call();
    test_late_hello();
    /* the same with a group key: the bye is an authenticated frame too */
    char key[] = "/tmp/frt-idle-key-XXXXXX";
    int  kfd   = mkstemp(key);
    REQUIRE(kfd >= 0);
    REQUIRE(write(kfd, "an idle-test group key, 32 bytes", 32) == 32);
    close(kfd);
    setenv("FRT_AUTH_KEY_FILE", key, 1);
    test_idle_close();
    unsetenv("FRT_AUTH_KEY_FILE");
    unlink(key);
    return FT_DONE();
}
