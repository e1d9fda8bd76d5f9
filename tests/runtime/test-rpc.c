/*
 * test-rpc.c -- RPC semantics over one transport (argv[1]: na+sm, tcp,
 * ofi+tcp): client/server, self RPCs, nested RPCs, unknown RPCs, errors,
 * timeouts, async completions, deferred responses, identities,
 * deregistration, refused peers, finalize paths.
 */
#include "rt-test.h"

static const char* transport;

/* ---- basic echo between a client-mode and a server-mode instance ---- */

static char last_source[128];
static void source_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    snprintf(last_source, sizeof last_source, "%s", frt_request_source(req));
    frt_respond(req, in, len);
}

static void test_basic(void)
{
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    CHECK(margo_is_listening(srv));
    CHECK(!margo_is_listening(cli));
    CHECK(strcmp(frt_self_addr_str(srv), frt_self_addr_str(cli)) != 0);
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 3, source_handler, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 3, source_handler, NULL, ABT_POOL_NULL), HG_EXIST);
    CHECK(frt_rpc_is_registered(srv, "echo", 3));
    CHECK(!frt_rpc_is_registered(srv, "echo", 4));
    hg_addr_t a = rt_lookup(cli, frt_self_addr_str(srv));
    size_t sizes[] = {0, 1, 1024, 300000, 4u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t   n  = sizes[i];
        uint8_t* in = malloc(n + 1);
        for (size_t k = 0; k < n; k++) in[k] = (uint8_t)(k * 7 + i);
        void*       out = NULL;
        size_t      olen = 99;
        hg_return_t r    = frt_forward(cli, a, "echo", 3, in, n, 120000, &out, &olen);
        CHECK_EQ_INT(r, HG_SUCCESS);
        CHECK_EQ_INT(olen, n);
        CHECK(n == 0 ? out == NULL : (out && memcmp(out, in, n) == 0));
        free(out);
        free(in);
    }
    CHECK_EQ_STR(last_source, frt_self_addr_str(cli));
    /* payload too big is refused locally */
    CHECK_EQ_INT(frt_forward(cli, a, "echo", 3, "x", (size_t)FRT_MAX_PAYLOAD + 1, 1000, NULL, NULL),
                 HG_MSGSIZE);
    /* unknown RPC name / provider id: HG_NOENTRY promptly */
    double t0 = ft_now_ms();
    CHECK_EQ_INT(frt_forward(cli, a, "nope", 3, NULL, 0, 0, NULL, NULL), HG_NOENTRY);
    CHECK_EQ_INT(frt_forward(cli, a, "echo", 4, NULL, 0, 0, NULL, NULL), HG_NOENTRY);
    CHECK(ft_now_ms() - t0 < 60000); /* "at once", not after a timeout */
    /* bad arguments */
    CHECK_EQ_INT(frt_forward(cli, a, "", 3, NULL, 0, 0, NULL, NULL), HG_INVALID_ARG);
    CHECK_EQ_INT(frt_forward(cli, NULL, "echo", 3, NULL, 0, 0, NULL, NULL), HG_INVALID_ARG);
    /* server -> client over the connection the client opened */
    CHECK_EQ_INT(frt_rpc_register(cli, "echo", 1, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    hg_addr_t back = rt_lookup(srv, frt_self_addr_str(cli));
    void*     out  = NULL;
    size_t    olen = 0;
    CHECK_EQ_INT(frt_forward(srv, back, "echo", 1, "hi", 2, 60000, &out, &olen), HG_SUCCESS);
    CHECK(olen == 2 && out && memcmp(out, "hi", 2) == 0);
    free(out);
    margo_addr_free(srv, back);
    margo_addr_free(cli, a);
    margo_finalize(cli);
    margo_finalize(srv);
}

/* ---- self RPCs and nested RPCs ---- */

typedef struct {
    margo_instance_id mid;
    hg_addr_t         next; /* where to forward, NULL: answer */
    int               depth;
} nest_ctx;

static void nest_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    margo_instance_id mid = frt_request_instance(req);
    uint32_t          d   = 0;
    if (len == 4) memcpy(&d, in, 4);
    if (d == 0) {
        frt_respond(req, &d, 4);
        return;
    }
    uint32_t    nd   = d - 1;
    hg_addr_t   self = HG_ADDR_NULL;
    hg_addr_t   to   = HG_ADDR_NULL;
    nest_ctx*   ctx  = u;
    void*       out  = NULL;
    size_t      olen = 0;
    margo_addr_self(mid, &self);
    /* alternate between self and the peer */
    to = (d % 2 && ctx->next) ? ctx->next : self;
    hg_return_t r = frt_forward(mid, to, "nest", 0, &nd, 4, 60000, &out, &olen);
    if (r != HG_SUCCESS || olen != 4) {
        frt_respond_error(req, r == HG_SUCCESS ? HG_PROTOCOL_ERROR : r);
    } else {
        uint32_t v;
        memcpy(&v, out, 4);
        v += 1;
        frt_respond(req, &v, 4);
    }
    free(out);
    margo_addr_free(mid, self);
}

static void test_nested(void)
{
    margo_instance_id s1 = rt_server(transport);
    margo_instance_id s2 = rt_server(transport);
    nest_ctx          c1 = {s1, NULL, 0}, c2 = {s2, NULL, 0};
    c1.next              = rt_lookup(s1, frt_self_addr_str(s2));
    c2.next              = rt_lookup(s2, frt_self_addr_str(s1));
    CHECK_EQ_INT(frt_rpc_register(s1, "nest", 0, nest_handler, &c1, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(frt_rpc_register(s2, "nest", 0, nest_handler, &c2, ABT_POOL_NULL), HG_SUCCESS);
    hg_addr_t self = HG_ADDR_NULL;
    margo_addr_self(s1, &self);
    uint32_t depth = 24;
    void*    out   = NULL;
    size_t   olen  = 0;
    CHECK_EQ_INT(frt_forward(s1, self, "nest", 0, &depth, 4, 60000, &out, &olen), HG_SUCCESS);
    uint32_t v = 0;
    if (olen == 4) memcpy(&v, out, 4);
    CHECK_EQ_INT(v, depth);
    free(out);
    /* self RPC to an unknown RPC fails at once */
    CHECK_EQ_INT(frt_forward(s1, self, "missing", 0, NULL, 0, 0, NULL, NULL), HG_NOENTRY);
    margo_addr_free(s1, self);
    margo_addr_free(s1, c1.next);
    margo_addr_free(s2, c2.next);
    margo_finalize(s1);
    margo_finalize(s2);
}

/* ---- errors, timeouts, deferred responses, async ---- */

static void error_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    frt_respond_error(req, HG_PERMISSION);
}

static void slow_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    ft_sleep_ms(400);
    frt_respond(req, "late", 4);
}

static void* deferred_thread(void* arg)
{
    ft_sleep_ms(50);
    frt_respond((frt_request_t)arg, "deferred", 8);
    return NULL;
}

static void deferred_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    pthread_t t;
    pthread_create(&t, NULL, deferred_thread, req);
    pthread_detach(t);
}

static _Atomic int async_ok, async_done;
static void async_cb(void* u, hg_return_t ret, const void* out, size_t len)
{
    uintptr_t i = (uintptr_t)u;
    if (ret == HG_SUCCESS && len == sizeof i && memcmp(out, &i, sizeof i) == 0) atomic_fetch_add(&async_ok, 1);
    atomic_fetch_add(&async_done, 1);
}

static bool async_all(void* n) { return atomic_load(&async_done) >= (int)(intptr_t)n; }

static void test_errors_timeouts_async(void)
{
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    frt_rpc_register(srv, "err", 0, error_handler, NULL, ABT_POOL_NULL);
    frt_rpc_register(srv, "slow", 0, slow_handler, NULL, ABT_POOL_NULL);
    frt_rpc_register(srv, "deferred", 0, deferred_handler, NULL, ABT_POOL_NULL);
    frt_rpc_register(srv, "echo", 0, rt_echo, NULL, ABT_POOL_NULL);
    hg_addr_t a = rt_lookup(cli, frt_self_addr_str(srv));
    CHECK_EQ_INT(frt_forward(cli, a, "err", 0, NULL, 0, 5000, NULL, NULL), HG_PERMISSION);
    CHECK_EQ_INT(frt_forward(cli, a, "slow", 0, NULL, 0, 50, NULL, NULL), HG_TIMEOUT);
    void*  out  = NULL;
    size_t olen = 0;
    CHECK_EQ_INT(frt_forward(cli, a, "slow", 0, NULL, 0, 0, &out, &olen), HG_SUCCESS);
    CHECK(olen == 4 && memcmp(out, "late", 4) == 0);
    free(out);
    CHECK_EQ_INT(frt_forward(cli, a, "deferred", 0, NULL, 0, 5000, &out, &olen), HG_SUCCESS);
    CHECK(olen == 8 && memcmp(out, "deferred", 8) == 0);
    free(out);
    /* self timeouts too */
    hg_addr_t self = HG_ADDR_NULL;
    margo_addr_self(srv, &self);
    CHECK_EQ_INT(frt_forward(srv, self, "slow", 0, NULL, 0, 50, NULL, NULL), HG_TIMEOUT);
    CHECK_EQ_INT(frt_forward(srv, self, "err", 0, NULL, 0, 0, NULL, NULL), HG_PERMISSION);
    /* async: 200 in flight */
    atomic_store(&async_ok, 0);
    atomic_store(&async_done, 0);
    for (uintptr_t i = 0; i < 200; i++)
        CHECK_EQ_INT(frt_forward_async(cli, i % 2 ? a : self, "echo", 0, &i, sizeof i, 10000,
                                       async_cb, (void*)i),
                     HG_SUCCESS);
    CHECK(ft_wait_until(async_all, (void*)(intptr_t)200, 120000));
    CHECK_EQ_INT(atomic_load(&async_ok), 200); /* srv's self address is srv for cli too */
    margo_addr_free(srv, self);
    margo_addr_free(cli, a);
    margo_finalize(cli);
    margo_finalize(srv);
}

/* ---- identities ---- */

static void test_identity(void)
{
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    CHECK_EQ_INT(margo_provider_register_identity(srv, 42, "flock"), HG_SUCCESS);
    CHECK_EQ_INT(margo_provider_register_identity(srv, 42, "other"), HG_EXIST);
    CHECK_EQ_STR(margo_provider_registered_identity(srv, 42), "flock");
    CHECK(margo_provider_registered_identity(srv, 43) == NULL);
    hg_addr_t a = rt_lookup(cli, frt_self_addr_str(srv));
    char      buf[64];
    size_t    sz = sizeof buf;
    CHECK_EQ_INT(margo_provider_get_identity(cli, a, 42, buf, &sz), HG_SUCCESS);
    CHECK_EQ_STR(buf, "flock");
    CHECK_EQ_INT(sz, 6);
    sz = 3;
    CHECK_EQ_INT(margo_provider_get_identity(cli, a, 42, buf, &sz), HG_OVERFLOW);
    CHECK_EQ_INT(sz, 6);
    sz = sizeof buf;
    CHECK_EQ_INT(margo_provider_get_identity(cli, a, 43, buf, &sz), HG_NOENTRY);
    hg_addr_t self = HG_ADDR_NULL;
    margo_addr_self(srv, &self);
    sz = sizeof buf;
    CHECK_EQ_INT(margo_provider_get_identity(srv, self, 42, buf, &sz), HG_SUCCESS);
    CHECK_EQ_STR(buf, "flock");
    CHECK_EQ_INT(margo_provider_deregister_identity(srv, 42), HG_SUCCESS);
    CHECK_EQ_INT(margo_provider_deregister_identity(srv, 42), HG_NOENTRY);
    sz = sizeof buf;
    CHECK_EQ_INT(margo_provider_get_identity(cli, a, 42, buf, &sz), HG_NOENTRY);
    margo_addr_free(srv, self);
    margo_addr_free(cli, a);
    margo_finalize(cli);
    margo_finalize(srv);
}

/* ---- deregistration ---- */

static _Atomic int in_slow2;
static void slow2_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    atomic_store(&in_slow2, 1);
    ft_sleep_ms(300);
    frt_respond(req, NULL, 0);
    atomic_store(&in_slow2, 2);
}

static void self_dereg_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    hg_return_t r = frt_rpc_deregister(frt_request_instance(req), "selfdereg", 0);
    frt_respond(req, &r, sizeof r);
}

static void* call_slow2(void* arg)
{
    void** p = arg;
    frt_forward(p[0], p[1], "slow2", 0, NULL, 0, 60000, NULL, NULL);
    return NULL;
}

static bool slow2_started(void* u) { return atomic_load(&in_slow2) == 1; }

static void test_deregister(void)
{
    margo_instance_id srv = rt_server(transport);
    hg_addr_t         self = HG_ADDR_NULL;
    margo_addr_self(srv, &self);
    frt_rpc_register(srv, "slow2", 0, slow2_handler, NULL, ABT_POOL_NULL);
    frt_rpc_register(srv, "selfdereg", 0, self_dereg_handler, NULL, ABT_POOL_NULL);
    pthread_t t;
    void*     args[2] = {srv, self};
    pthread_create(&t, NULL, call_slow2, args);
    CHECK(ft_wait_until(slow2_started, NULL, 120000));
    CHECK_EQ_INT(frt_rpc_deregister(srv, "slow2", 0), HG_SUCCESS);
    CHECK_EQ_INT(atomic_load(&in_slow2), 2); /* waited for the running handler */
    CHECK_EQ_INT(frt_rpc_deregister(srv, "slow2", 0), HG_NOENTRY);
    CHECK_EQ_INT(frt_forward(srv, self, "slow2", 0, NULL, 0, 1000, NULL, NULL), HG_NOENTRY);
    pthread_join(t, NULL);
    void*  out  = NULL;
    size_t olen = 0;
    CHECK_EQ_INT(frt_forward(srv, self, "selfdereg", 0, NULL, 0, 5000, &out, &olen), HG_SUCCESS);
    hg_return_t r = HG_OTHER_ERROR;
    if (olen == sizeof r) memcpy(&r, out, sizeof r);
    CHECK_EQ_INT(r, HG_SUCCESS);
    free(out);
    CHECK(!frt_rpc_is_registered(srv, "selfdereg", 0));
    margo_addr_free(srv, self);
    margo_finalize(srv);
}

/* ---- unreachable peers ---- */

static void test_unreachable(void)
{
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    char s[128];
    if (strcmp(transport, "na+sm") == 0)
        snprintf(s, sizeof s, "na+sm://%d-999999", (int)getpid());
    else
        snprintf(s, sizeof s, "%s://127.0.0.1:%d", transport, ft_free_tcp_port());
    hg_addr_t a  = rt_lookup(cli, s);
    double    t0 = ft_now_ms();
    CHECK_EQ_INT(frt_forward(cli, a, "x", 0, NULL, 0, 0, NULL, NULL), HG_HOSTUNREACH);
    CHECK_EQ_INT(frt_forward(cli, a, "x", 0, NULL, 0, 0, NULL, NULL), HG_HOSTUNREACH);
    CHECK(ft_now_ms() - t0 < 60000); /* "at once", not after a timeout */
    /* a client-mode instance does not accept connections */
    margo_instance_id cli2 = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli2);
    hg_addr_t b = rt_lookup(cli, frt_self_addr_str(cli2));
    CHECK_EQ_INT(frt_forward(cli, b, "x", 0, NULL, 0, 2000, NULL, NULL), HG_HOSTUNREACH);
    margo_addr_free(cli, b);
    margo_addr_free(cli, a);
    margo_finalize(cli2);
    margo_finalize(cli);
}

/* ---- finalize paths ---- */

static _Atomic int hang_entered, hang_release;
static bool hang_all_entered(void* n) { return atomic_load(&hang_entered) >= (int)(intptr_t)n; }
static void hang_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    atomic_fetch_add(&hang_entered, 1);
    double end = ft_now_ms() + 60000;
    while (!atomic_load(&hang_release) && ft_now_ms() < end) ft_sleep_ms(5);
    frt_respond(req, NULL, 0);
}

typedef struct {
    margo_instance_id mid;
    hg_addr_t         a;
    hg_return_t       ret;
} fwd_args;

static void* fwd_thread(void* arg)
{
    fwd_args* f = arg;
    f->ret      = frt_forward(f->mid, f->a, "hang", 0, NULL, 0, 0, NULL, NULL);
    return NULL;
}

static _Atomic int async_canceled;
static void cancel_cb(void* u, hg_return_t ret, const void* out, size_t len)
{
    if (ret == HG_CANCELED) atomic_fetch_add(&async_canceled, 1);
}

static int cb_order[8], cb_n;
static hg_addr_t cb_peer;
static hg_return_t cb_rpc;
static void cb_push(void* u) { cb_order[cb_n++] = (int)(intptr_t)u; }
static margo_instance_id cb_mid;
static void cb_forward_real(void* u)
{
    cb_push(u);
    cb_rpc = frt_forward(cb_mid, cb_peer, "echo", 0, "x", 1, 5000, NULL, NULL);
}

static void finalizer_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    margo_instance_id mid = frt_request_instance(req);
    frt_respond(req, NULL, 0);
    margo_finalize(mid);
}

static _Atomic int waiter_started;
static void* waiter_thread(void* arg)
{
    atomic_store(&waiter_started, 1);
    margo_wait_for_finalize(arg);
    return NULL;
}

/* margo_wait_for_finalize must be entered before the instance finalizes
 * (as with Margo): wait until the waiter runs, then give it time to block. */
static void start_waiter(pthread_t* w, margo_instance_id mid)
{
    atomic_store(&waiter_started, 0);
    pthread_create(w, NULL, waiter_thread, mid);
    while (!atomic_load(&waiter_started)) ft_sleep_ms(1);
    ft_sleep_ms(100);
}

static void test_finalize(void)
{
    /* calls in flight fail with HG_CANCELED */
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    frt_rpc_register(srv, "hang", 0, hang_handler, NULL, ABT_POOL_NULL);
    frt_rpc_register(srv, "echo", 0, rt_echo, NULL, ABT_POOL_NULL);
    hg_addr_t a = rt_lookup(cli, frt_self_addr_str(srv));
    fwd_args  f = {cli, a, HG_SUCCESS};
    pthread_t t;
    pthread_create(&t, NULL, fwd_thread, &f);
    atomic_store(&async_canceled, 0);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(frt_forward_async(cli, a, "hang", 0, NULL, 0, 0, cancel_cb, NULL), HG_SUCCESS);
    CHECK(ft_wait_until(hang_all_entered, (void*)(intptr_t)11, 120000));
    /* finalize callbacks: LIFO, prefinalize first, network still works */
    cb_n    = 0;
    cb_mid  = cli;
    cb_peer = a;
    cb_rpc  = HG_OTHER_ERROR;
    margo_push_finalize_callback(cli, cb_push, (void*)1);
    margo_push_finalize_callback(cli, cb_forward_real, (void*)2);
    margo_provider_push_finalize_callback(cli, &cb_n, cb_push, (void*)3);
    margo_provider_push_finalize_callback(cli, &cb_n, cb_push, (void*)4);
    CHECK_EQ_INT(margo_provider_pop_finalize_callback(cli, &cb_n), 1);
    CHECK_EQ_INT(margo_provider_pop_finalize_callback(cli, &f), 0);
    margo_push_prefinalize_callback(cli, cb_push, (void*)5);
    margo_finalize(cli);
    pthread_join(t, NULL);
    margo_addr_free(cli, a);
    CHECK_EQ_INT(f.ret, HG_CANCELED);
    CHECK_EQ_INT(atomic_load(&async_canceled), 10);
    CHECK_EQ_INT(cb_n, 4);
    CHECK_EQ_INT(cb_order[0], 5);
    CHECK_EQ_INT(cb_order[1], 3);
    CHECK_EQ_INT(cb_order[2], 2);
    CHECK_EQ_INT(cb_order[3], 1);
    CHECK_EQ_INT(cb_rpc, HG_SUCCESS);
    atomic_store(&hang_release, 1);
    margo_finalize(srv);

    /* margo_wait_for_finalize returns once a handler calls margo_finalize */
    srv = rt_server(transport);
    frt_rpc_register(srv, "fin", 0, finalizer_handler, NULL, ABT_POOL_NULL);
    pthread_t w;
    start_waiter(&w, srv);
    cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    a               = rt_lookup(cli, frt_self_addr_str(srv));
    hg_return_t r = frt_forward(cli, a, "fin", 0, NULL, 0, 60000, NULL, NULL);
    CHECK(r == HG_SUCCESS || r == HG_HOSTUNREACH);
    pthread_join(w, NULL);
    margo_addr_free(cli, a);
    /* release at refcount 0 finalizes */
    CHECK_EQ_INT(margo_instance_ref_incr(cli), HG_SUCCESS);
    CHECK_EQ_INT(margo_instance_release(cli), HG_SUCCESS);
    start_waiter(&w, cli);
    CHECK_EQ_INT(margo_instance_release(cli), HG_SUCCESS);
    pthread_join(w, NULL);
}

/* ---- addresses ---- */

static void test_addresses(void)
{
    margo_instance_id m[4];
    for (int i = 0; i < 4; i++) m[i] = rt_server(transport);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++) CHECK(strcmp(frt_self_addr_str(m[i]), frt_self_addr_str(m[j])) != 0);
    hg_addr_t self = HG_ADDR_NULL, dup = HG_ADDR_NULL;
    CHECK_EQ_INT(margo_addr_self(m[0], &self), HG_SUCCESS);
    CHECK_EQ_INT(margo_addr_dup(m[0], self, &dup), HG_SUCCESS);
    CHECK(margo_addr_cmp(m[0], self, dup));
    hg_size_t need = 0;
    CHECK_EQ_INT(margo_addr_to_string(m[0], NULL, &need, self), HG_OVERFLOW);
    CHECK_EQ_INT(need, strlen(frt_self_addr_str(m[0])) + 1);
    char      small[4] = "abc";
    hg_size_t sz       = sizeof small;
    CHECK_EQ_INT(margo_addr_to_string(m[0], small, &sz, self), HG_OVERFLOW);
    CHECK_EQ_INT(sz, need);
    char buf[128];
    sz = sizeof buf;
    CHECK_EQ_INT(margo_addr_to_string(m[0], buf, &sz, self), HG_SUCCESS);
    CHECK_EQ_INT(sz, need);
    CHECK_EQ_STR(buf, frt_self_addr_str(m[0]));
    CHECK(strstr(buf, "0.0.0.0") == NULL);
    if (strcmp(transport, "na+sm") == 0)
        CHECK(strncmp(buf, "na+sm://", 8) == 0);
    else {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s://", transport);
        CHECK(strncmp(buf, prefix, strlen(prefix)) == 0);
    }
    margo_addr_free(m[0], self);
    margo_addr_free(m[0], dup);
    for (int i = 0; i < 4; i++) margo_finalize(m[i]);
}

/* ---- a na+sm instance and a tcp instance call each other ---- */

static void test_cross_transport(void)
{
    margo_instance_id sm  = rt_server("na+sm");
    margo_instance_id tcp = rt_server("tcp");
    frt_rpc_register(sm, "echo", 0, source_handler, NULL, ABT_POOL_NULL);
    frt_rpc_register(tcp, "echo", 0, source_handler, NULL, ABT_POOL_NULL);
    hg_addr_t to_tcp = rt_lookup(sm, frt_self_addr_str(tcp));
    hg_addr_t to_sm  = rt_lookup(tcp, frt_self_addr_str(sm));
    CHECK_EQ_INT(frt_forward(sm, to_tcp, "echo", 0, "a", 1, 60000, NULL, NULL), HG_SUCCESS);
    CHECK_EQ_STR(last_source, frt_self_addr_str(sm));
    CHECK_EQ_INT(frt_forward(tcp, to_sm, "echo", 0, "b", 1, 60000, NULL, NULL), HG_SUCCESS);
    CHECK_EQ_STR(last_source, frt_self_addr_str(tcp));
    margo_addr_free(sm, to_tcp);
    margo_addr_free(tcp, to_sm);
    margo_finalize(tcp);
    margo_finalize(sm);
}

/* ---- frt_peer_watch: a connection closed by its peer is reported ---- */

typedef struct {
    pthread_mutex_t m;
    char            last[256];
    int             n;
} peer_seen;

static void on_peer_closed(void* u, const char* peer)
{
    peer_seen* s = u;
    pthread_mutex_lock(&s->m);
    snprintf(s->last, sizeof s->last, "%s", peer);
    s->n++;
    pthread_mutex_unlock(&s->m);
}

static bool peer_seen_any(void* u)
{
    peer_seen* s = u;
    pthread_mutex_lock(&s->m);
    bool any = s->n > 0;
    pthread_mutex_unlock(&s->m);
    return any;
}

static void test_peer_closed(void)
{
    margo_instance_id srv = rt_server(transport);
    margo_instance_id cli = rt_server(transport);
    peer_seen         seen = {.m = PTHREAD_MUTEX_INITIALIZER}, other = {.m = PTHREAD_MUTEX_INITIALIZER};
    CHECK_EQ_INT(frt_peer_watch(cli, NULL, &seen), HG_INVALID_ARG);
    CHECK_EQ_INT(frt_peer_watch(cli, on_peer_closed, &seen), HG_SUCCESS);
    CHECK_EQ_INT(frt_peer_watch(cli, on_peer_closed, &other), HG_SUCCESS);
    CHECK_EQ_INT(frt_peer_unwatch(cli, on_peer_closed, &other), HG_SUCCESS);
    CHECK_EQ_INT(frt_peer_unwatch(cli, on_peer_closed, &other), HG_NOENTRY);
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 1, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    hg_addr_t a = rt_lookup(cli, frt_self_addr_str(srv));
    CHECK_EQ_INT(frt_forward(cli, a, "echo", 1, "x", 1, 60000, NULL, NULL), HG_SUCCESS);
    char srv_addr[256];
    snprintf(srv_addr, sizeof srv_addr, "%s", frt_self_addr_str(srv));
    /* the peer goes away: its connection ends, the watcher hears of it */
    margo_finalize(srv);
    CHECK(ft_wait_until(peer_seen_any, &seen, 60000));
    pthread_mutex_lock(&seen.m);
    CHECK_EQ_STR(seen.last, srv_addr);
    pthread_mutex_unlock(&seen.m);
    CHECK_EQ_INT(other.n, 0);
    /* the next call finds nobody listening: it fails at once */
    double t0 = ft_now_ms();
    CHECK_EQ_INT(frt_forward(cli, a, "echo", 1, "x", 1, 60000, NULL, NULL), HG_HOSTUNREACH);
    CHECK(ft_now_ms() - t0 < 30000);
    CHECK_EQ_INT(frt_peer_unwatch(cli, on_peer_closed, &seen), HG_SUCCESS);
    margo_addr_free(cli, a);
    margo_finalize(cli);
}

int main(int argc, char** argv)
{
    transport = rt_transport(argc, argv);
    test_basic();
    test_nested();
    test_errors_timeouts_async();
    test_identity();
    test_deregister();
    test_unreachable();
    test_finalize();
    test_addresses();
    test_cross_transport();
    test_peer_closed();
    return FT_DONE();
}
