/*
 * test-urgent.c -- urgent RPCs (frt_rpc_set_urgent): a request for an
 * urgent RPC is queued ahead of the work already waiting in the handler
 * pool, and the completion of a call to it ahead of the caller's queue.
 *
 * How: "bulk" handlers block on a gate, so the pool's queue fills with
 * hundreds of bulk requests (the pool adds threads only for handlers that
 * sleep, a few at a time). An urgent request sent after all of them must
 * complete while the gate is still closed and only a few bulk handlers
 * have started; a plain request sent with it must not have run (it waits
 * behind the bulk). Once the gate opens everything completes. Both with
 * in-process calls and from another instance over the transport.
 */
#include "rt-test.h"

#include <stdlib.h>

#define NBULK 300

static pthread_mutex_t gate_m  = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  gate_cv = PTHREAD_COND_INITIALIZER;
static bool            gate_open;
static _Atomic int     bulk_started, urgent_runs, plain_runs;

static void bulk_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)in, (void)len, (void)u;
    atomic_fetch_add(&bulk_started, 1);
    pthread_mutex_lock(&gate_m);
    while (!gate_open) pthread_cond_wait(&gate_cv, &gate_m);
    pthread_mutex_unlock(&gate_m);
    frt_respond(req, NULL, 0);
}

static void urgent_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)in, (void)len, (void)u;
    atomic_fetch_add(&urgent_runs, 1);
    frt_respond(req, NULL, 0);
}

static void plain_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)in, (void)len, (void)u;
    atomic_fetch_add(&plain_runs, 1);
    frt_respond(req, NULL, 0);
}

typedef struct {
    _Atomic int done, ok;
} completion;

static void on_done(void* uargs, hg_return_t ret, const void* out, size_t out_len)
{
    (void)out, (void)out_len;
    completion* c = uargs;
    if (ret == HG_SUCCESS) atomic_fetch_add(&c->ok, 1);
    atomic_fetch_add(&c->done, 1);
}

static bool at_least(_Atomic int* v, int n)
{
    return atomic_load(v) >= n;
}
static bool bulk_begun(void* a)
{
    (void)a;
    return at_least(&bulk_started, 1);
}
static bool one_done(void* a)
{
    return at_least(&((completion*)a)->done, 1);
}
static bool all_bulk_done(void* a)
{
    return at_least(&((completion*)a)->done, NBULK);
}

static void set_gate(bool open)
{
    pthread_mutex_lock(&gate_m);
    gate_open = open;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_m);
}

static void register_all(margo_instance_id server, uint16_t pid)
{
    REQUIRE(frt_rpc_register(server, "bulk", pid, bulk_handler, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    REQUIRE(frt_rpc_register(server, "urgent", pid, urgent_handler, NULL, ABT_POOL_NULL)
            == HG_SUCCESS);
    REQUIRE(frt_rpc_register(server, "plain", pid, plain_handler, NULL, ABT_POOL_NULL)
            == HG_SUCCESS);
    REQUIRE(frt_rpc_set_urgent(server, "urgent", pid, true) == HG_SUCCESS);
}

/* caller calls server (the same instance: in-process) */
static void run_case(const char* what, margo_instance_id caller, margo_instance_id server,
                     uint16_t pid)
{
    atomic_store(&bulk_started, 0);
    atomic_store(&urgent_runs, 0);
    atomic_store(&plain_runs, 0);
    set_gate(false);
    hg_addr_t  to = rt_lookup(caller, frt_self_addr_str(server));
    completion bulk = {0}, urgent = {0}, plain = {0};

    for (int i = 0; i < NBULK; i++)
        REQUIRE(frt_forward_async(caller, to, "bulk", pid, NULL, 0, 120000, on_done, &bulk)
                == HG_SUCCESS);
    REQUIRE(ft_wait_until(bulk_begun, NULL, 30000));
    REQUIRE(frt_forward_async(caller, to, "plain", pid, NULL, 0, 120000, on_done, &plain)
            == HG_SUCCESS);
    REQUIRE(frt_forward_async(caller, to, "urgent", pid, NULL, 0, 120000, on_done, &urgent)
            == HG_SUCCESS);

    /* the urgent call completes while the gate is closed */
    CHECK(ft_wait_until(one_done, &urgent, 60000));
    int started = atomic_load(&bulk_started);
    CHECK_EQ_INT(atomic_load(&urgent.ok), 1);
    CHECK_EQ_INT(atomic_load(&urgent_runs), 1);
    CHECK_EQ_INT(atomic_load(&plain_runs), 0); /* behind the bulk */
    if (started >= NBULK / 2)
        FT_FAIL("%s: %d of %d bulk handlers started before the urgent one ran", what, started,
                NBULK);
    printf("%s: the urgent call completed with %d of %d bulk handlers started\n", what,
           started, NBULK);

    set_gate(true);
    CHECK(ft_wait_until(all_bulk_done, &bulk, 120000));
    CHECK(ft_wait_until(one_done, &plain, 60000));
    CHECK_EQ_INT(atomic_load(&bulk.ok), NBULK);
    CHECK_EQ_INT(atomic_load(&plain.ok), 1);
    margo_addr_free(caller, to);
}

static void check_api(margo_instance_id mid)
{
    CHECK(frt_rpc_set_urgent(mid, "no-such-rpc", 1, true) == HG_NOENTRY);
    CHECK(frt_rpc_set_urgent(mid, NULL, 1, true) == HG_INVALID_ARG);
    CHECK(frt_rpc_set_urgent(NULL, "urgent", 1, true) == HG_INVALID_ARG);
    CHECK(frt_rpc_set_urgent(mid, "urgent", 99, true) == HG_NOENTRY); /* other provider */
    /* marking twice, unmarking, marking again */
    REQUIRE(frt_rpc_register(mid, "twice", 1, rt_echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    REQUIRE(frt_rpc_register(mid, "twice", 2, rt_echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    CHECK(frt_rpc_set_urgent(mid, "twice", 1, true) == HG_SUCCESS);
    CHECK(frt_rpc_set_urgent(mid, "twice", 1, true) == HG_SUCCESS);
    CHECK(frt_rpc_set_urgent(mid, "twice", 2, true) == HG_SUCCESS);
    CHECK(frt_rpc_set_urgent(mid, "twice", 1, false) == HG_SUCCESS);
    CHECK(frt_rpc_deregister(mid, "twice", 2) == HG_SUCCESS); /* drops its mark */
    CHECK(frt_rpc_set_urgent(mid, "twice", 2, true) == HG_NOENTRY);
    CHECK(frt_rpc_deregister(mid, "twice", 1) == HG_SUCCESS);
    /* an urgent RPC still answers normally when nothing is queued */
    REQUIRE(frt_rpc_register(mid, "quick", 3, rt_echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    CHECK(frt_rpc_set_urgent(mid, "quick", 3, true) == HG_SUCCESS);
    hg_addr_t self = rt_lookup(mid, frt_self_addr_str(mid));
    void*     out  = NULL;
    size_t    olen = 0;
    CHECK(frt_forward(mid, self, "quick", 3, "hi", 2, 30000, &out, &olen) == HG_SUCCESS);
    CHECK(olen == 2 && out && memcmp(out, "hi", 2) == 0);
    free(out);
    margo_addr_free(mid, self);
}

int main(int argc, char** argv)
{
    const char*       transport = rt_transport(argc, argv);
    margo_instance_id server    = rt_server(transport);
    register_all(server, 7);
    check_api(server);

    run_case("in-process", server, server, 7);

    margo_instance_id client = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(client != MARGO_INSTANCE_NULL);
    run_case("remote", client, server, 7);
    margo_finalize(client);

    set_gate(true);
    margo_finalize(server);
    return FT_DONE();
}
