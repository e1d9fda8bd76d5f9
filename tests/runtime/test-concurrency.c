/*
 * test-concurrency.c -- many threads x many RPCs over one transport
 * (argv[1]): 8 threads x 500 synchronous RPCs through one client instance
 * (payloads checked), the same against the instance's own address, async
 * bursts, handlers that forward nested RPCs while all of this runs, and a
 * server in another process.
 */
#include "rt-test.h"

static const char* transport;

typedef struct {
    margo_instance_id mid;
    hg_addr_t         to;
    int               idx;
    const char*       rpc;
    int               ok;
    uint16_t          provider_id;
} worker_args;

#define NTHREADS 8
#define NCALLS   500

static void* worker(void* arg)
{
    worker_args* w = arg;
    for (int i = 0; i < NCALLS; i++) {
        uint8_t buf[2048];
        size_t  n = (size_t)((i * 131 + w->idx * 17) % (int)sizeof buf);
        for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)(k ^ (size_t)i ^ (size_t)w->idx);
        void*       out  = NULL;
        size_t      olen = 0;
        hg_return_t r    = frt_forward(w->mid, w->to, w->rpc, w->provider_id, buf, n, 60000, &out, &olen);
        if (r == HG_SUCCESS && olen == n && (n == 0 || memcmp(out, buf, n) == 0)) w->ok++;
        free(out);
    }
    return NULL;
}

/* handler that forwards its input to "echo" on the address it was given
 * at registration (nested RPC), then answers with the result */
static void relay(frt_request_t req, const void* in, size_t len, void* u)
{
    margo_instance_id mid  = frt_request_instance(req);
    void*             out  = NULL;
    size_t            olen = 0;
    hg_return_t       r    = frt_forward(mid, (hg_addr_t)u, "echo", 0, in, len, 60000, &out, &olen);
    if (r == HG_SUCCESS)
        frt_respond(req, out, olen);
    else
        frt_respond_error(req, r);
    free(out);
}

static _Atomic int async_ok, async_done;
static void async_cb(void* u, hg_return_t ret, const void* out, size_t len)
{
    if (ret == HG_SUCCESS && len == sizeof(int) && memcmp(out, &u, sizeof(int)) == 0)
        atomic_fetch_add(&async_ok, 1);
    atomic_fetch_add(&async_done, 1);
}
static bool all_done(void* n) { return atomic_load(&async_done) >= (int)(intptr_t)n; }

static void run_threads(margo_instance_id mid, hg_addr_t to, const char* rpc, const char* what)
{
    pthread_t   t[NTHREADS];
    worker_args w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker_args){mid, to, i, rpc, 0, 0};
        pthread_create(&t[i], NULL, worker, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    if (ok != NTHREADS * NCALLS) FT_FAIL("%s: %d/%d RPCs ok", what, ok, NTHREADS * NCALLS);
}

int main(int argc, char** argv)
{
    transport             = rt_transport(argc, argv);
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    hg_addr_t srv_self = HG_ADDR_NULL;
    margo_addr_self(srv, &srv_self);
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(srv, "relay", 0, relay, srv_self, ABT_POOL_NULL), HG_SUCCESS);
    hg_addr_t a = rt_lookup(cli, frt_self_addr_str(srv));

    run_threads(cli, a, "echo", "client -> server");
    run_threads(srv, srv_self, "echo", "server -> self");
    run_threads(cli, a, "relay", "client -> server -> self (nested)");

    /* async bursts: 2000 in flight from one thread, mixed targets */
    atomic_store(&async_ok, 0);
    atomic_store(&async_done, 0);
    for (int i = 0; i < 2000; i++)
        CHECK_EQ_INT(frt_forward_async(cli, a, i % 3 ? "echo" : "relay", 0, &i, sizeof i, 30000,
                                       async_cb, (void*)(intptr_t)i),
                     HG_SUCCESS);
    CHECK(ft_wait_until(all_done, (void*)(intptr_t)2000, 120000));
    CHECK_EQ_INT(atomic_load(&async_ok), 2000);

    /* a server in another process, several client instances at once */
    char  remote[128];
    pid_t pid = rt_spawn_server(rt_listen_addr(transport), remote, sizeof remote);
    margo_instance_id c2 = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(c2);
    hg_addr_t r1 = rt_lookup(cli, remote), r2 = rt_lookup(c2, remote);
    /* rt-server registers echo with provider id 1 */
    pthread_t   t[NTHREADS];
    worker_args w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker_args){i % 2 ? cli : c2, i % 2 ? r1 : r2, i, "echo", 0, 1};
        pthread_create(&t[i], NULL, worker, &w[i]);
    }
    int ok = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    CHECK_EQ_INT(ok, NTHREADS * NCALLS);
    /* provider id 0 is not registered there */
    CHECK_EQ_INT(frt_forward(cli, r1, "echo", 0, "x", 1, 60000, NULL, NULL), HG_NOENTRY);
    CHECK_EQ_INT(frt_forward(cli, r1, "quit", 1, NULL, 0, 60000, NULL, NULL), HG_SUCCESS);
    int st = rt_wait_child(pid, 60000);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    margo_addr_free(cli, r1);
    margo_addr_free(c2, r2);
    margo_addr_free(cli, a);
    margo_finalize(c2);
    margo_finalize(cli);
    margo_finalize(srv);
    margo_addr_free(NULL, srv_self);
    return FT_DONE();
}
