/*
 * test-client.c -- flock_client_*, group handles, update_view (blocking,
 * request wait/test, digest no_change), get_view deep copy, access_view,
 * ref counting under threads, create_from_file/serialized, hostile
 * responses and requests (FLOCK-SPEC 6, 3.0 and section-10 defects:
 * get_view capacity, create_from_serialized leaks, thread-unsafe refcount,
 * no failover to other members).
 */
#include <pthread.h>
#include "flock-core-test.h"
#include "dyn-backend.h"
#include "flock/view-codec.h"
#include <flock/flock-client.h>
#include <flock/flock-group.h>

static margo_instance_id srv, cli;
static char              srv_addr[128];
static hg_addr_t         srv_on_cli; /* server address looked up on cli */

static uint64_t provider_digest(flock_provider_t p)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(fct_provider_view(p, &v), FLOCK_SUCCESS);
    uint64_t d = v.digest;
    flock_group_view_clear(&v);
    return d;
}

typedef struct {
    uint64_t digest;
    size_t   members;
    bool     locked_inside;
    const flock_group_view_t* seen;
} access_probe;

static void probe(void* uargs, const flock_group_view_t* v)
{
    access_probe* a = (access_probe*)uargs;
    a->digest       = v->digest;
    a->members      = v->members.size;
    a->seen         = v;
    flock_group_view_t* mv = (flock_group_view_t*)v;
    a->locked_inside = ABT_mutex_trylock(ABT_MUTEX_MEMORY_GET_HANDLE(&mv->mtx)) != 0;
    if (!a->locked_inside) ABT_mutex_unlock(ABT_MUTEX_MEMORY_GET_HANDLE(&mv->mtx));
}

static uint64_t handle_digest(flock_group_handle_t h)
{
    access_probe a;
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(flock_group_access_view(h, probe, &a), FLOCK_SUCCESS);
    return a.digest;
}

static void test_client_basics(void)
{
    flock_client_t c = NULL;
    CHECK_EQ_INT(flock_client_init(MARGO_INSTANCE_NULL, ABT_POOL_NULL, &c),
                 FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_client_init(cli, ABT_POOL_NULL, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_client_finalize(NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_client_init(cli, ABT_POOL_NULL, &c), FLOCK_SUCCESS);
    /* two clients on one instance */
    flock_client_t c2 = NULL;
    CHECK_EQ_INT(flock_client_init(cli, ABT_POOL_NULL, &c2), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_client_finalize(c2), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_client_finalize(c), FLOCK_SUCCESS);

    /* finalizing a client with a live handle: a warning, and the handle
     * stays usable until released (upstream left it dangling) */
    flock_provider_t p = NULL;
    CHECK_EQ_INT(flock_provider_register(srv, 9, "{\"group\":{\"type\":\"static\"}}", NULL, &p),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_client_init(cli, ABT_POOL_NULL, &c), FLOCK_SUCCESS);
    flock_group_handle_t h = NULL;
    CHECK_EQ_INT(flock_group_handle_create(c, srv_on_cli, 9, 0, &h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_client_finalize(c), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p), FLOCK_SUCCESS);
}

static void test_create_and_update(flock_client_t c, margo_instance_id via)
{
    flock_provider_t     p = NULL;
    flock_group_handle_t h = NULL;
    hg_addr_t            addr;
    REQUIRE(margo_addr_lookup(via, srv_addr, &addr) == HG_SUCCESS);
    CHECK_EQ_INT(flock_provider_register(srv, 1, "{\"group\":{\"type\":\"static\"}}", NULL, &p),
                 FLOCK_SUCCESS);

    /* identity check */
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 123, 0, &h), FLOCK_ERR_INVALID_PROVIDER);
    CHECK(h == NULL);
    REQUIRE(margo_provider_register_identity(srv, 124, "yokan") == HG_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 124, FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_ERR_INVALID_PROVIDER);
    margo_provider_deregister_identity(srv, 124);
    CHECK_EQ_INT(flock_group_handle_create(NULL, addr, 1, 0, &h), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_create(c, HG_ADDR_NULL, 1, 0, &h), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 1, 0, NULL), FLOCK_ERR_INVALID_ARGS);

    /* without INIT_UPDATE: a 1-member view */
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 1, 0, &h), FLOCK_SUCCESS);
    REQUIRE(h);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_get_view(h, &v), FLOCK_SUCCESS);
    CHECK_EQ_INT(v.members.size, 1);
    CHECK_EQ_INT(v.metadata.size, 0);
    CHECK_EQ_STR(v.members.data[0].address, srv_addr);
    CHECK(v.digest == flock_hash_member(1, srv_addr));
    /* update: full view */
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));
    /* second update: digest equal, no_change; the cache must stay intact */
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));
    CHECK_EQ_INT(flock_group_get_view(h, &v), FLOCK_SUCCESS); /* v was not empty: cleared */
    CHECK_EQ_INT(v.members.size, 1);
    CHECK_EQ_INT(v.metadata.size, 2);
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "__type__"), "static");
    /* the copy is a real deep copy with real capacity (upstream overflowed) */
    for (int i = 0; i < 64; i++) {
        char a[32];
        snprintf(a, sizeof a, "x://%d", i);
        REQUIRE(flock_group_view_add_member(&v, a, 1));
    }
    REQUIRE(flock_group_view_add_metadata(&v, "more", "x"));
    CHECK(handle_digest(h) == provider_digest(p)); /* cache untouched */
    flock_group_view_clear(&v);
    CHECK_EQ_INT(flock_group_get_view(NULL, &v), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_get_view(h, NULL), FLOCK_ERR_INVALID_ARGS);

    /* access_view holds the lock; NULL function: no call */
    access_probe a;
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(flock_group_access_view(h, probe, &a), FLOCK_SUCCESS);
    CHECK(a.locked_inside);
    CHECK_EQ_INT(a.members, 1);
    CHECK_EQ_INT(flock_group_access_view(h, NULL, NULL), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_access_view(NULL, probe, &a), FLOCK_ERR_INVALID_ARGS);

    /* a static group: metadata is forbidden, a subscription works (nothing
     * ever changes); argument checks before any RPC */
    CHECK_EQ_INT(flock_group_metadata_set(h, "k", "v"), FLOCK_ERR_OP_FORBIDDEN);
    CHECK_EQ_INT(flock_group_metadata_set(h, "k", NULL), FLOCK_ERR_OP_FORBIDDEN);
    CHECK_EQ_INT(flock_group_metadata_set(h, "__type__", "x"), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_metadata_set(h, "", "x"), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_metadata_set(h, NULL, "x"), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_metadata_set(NULL, "k", "x"), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_metadata_set(h, "k", "\xff\xfe"), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_unsubscribe(h), FLOCK_ERR_INVALID_ARGS); /* not subscribed */
    CHECK_EQ_INT(flock_group_subscribe(h, NULL, NULL, NULL), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_subscribe(h, NULL, NULL, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK(handle_digest(h) == provider_digest(p)); /* the snapshot is in the cache */
    CHECK_EQ_INT(flock_group_unsubscribe(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_unsubscribe(h), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_subscribe(NULL, NULL, NULL, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_unsubscribe(NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_update_view(NULL, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);

    /* INIT_UPDATE (C callers pass `true`) */
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 1, true, &h), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));

    /* asynchronous update with a request */
    flock_request_t req = NULL;
    CHECK_EQ_INT(flock_group_update_view(h, &req), FLOCK_SUCCESS);
    REQUIRE(req);
    bool done = false;
    for (int i = 0; i < 3000 && !done; i++) {
        CHECK_EQ_INT(flock_request_test(req, &done), FLOCK_SUCCESS);
        if (!done) ft_sleep_ms(10);
    }
    CHECK(done);
    CHECK_EQ_INT(flock_request_test(req, &done), FLOCK_SUCCESS); /* test never frees */
    CHECK_EQ_INT(flock_request_wait(req), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_request_wait(NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_request_test(NULL, &done), FLOCK_ERR_INVALID_ARGS);
    /* a request keeps its handle alive: release first, wait afterwards */
    CHECK_EQ_INT(flock_group_update_view(h, &req), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_request_test(req, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_ref_incr(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_request_wait(req), FLOCK_SUCCESS);

    /* the contact provider is gone: update fails promptly, cache kept */
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 1, FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_SUCCESS);
    uint64_t d = handle_digest(h);
    CHECK_EQ_INT(flock_provider_destroy(p), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_ERR_FROM_MERCURY);
    CHECK_EQ_INT(flock_group_update_view(h, &req), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_request_wait(req), FLOCK_ERR_FROM_MERCURY);
    CHECK(handle_digest(h) == d);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 1, 0, &h), FLOCK_ERR_INVALID_PROVIDER);
    CHECK_EQ_INT(flock_group_handle_ref_incr(NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_release(NULL), FLOCK_ERR_INVALID_ARGS);
    margo_addr_free(via, addr);
}

static void test_view_changes(flock_client_t c)
{
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    flock_provider_t           p    = NULL;
    flock_group_handle_t       h    = NULL;
    args.backend                    = &dyn_backend;
    CHECK_EQ_INT(flock_provider_register(srv, 2, NULL, &args, &p), FLOCK_SUCCESS);
    REQUIRE(last_dyn);
    dyn_state* s = last_dyn;
    CHECK_EQ_INT(flock_group_handle_create(c, srv_on_cli, 2, FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));
    dyn_join(s, "tcp://10.1.1.1:5", 9);
    dyn_set_md(s, "k", "v");
    CHECK(handle_digest(h) != provider_digest(p));
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_get_view(h, &v), FLOCK_SUCCESS);
    CHECK(flock_group_view_find_member(&v, "tcp://10.1.1.1:5", 9) != NULL);
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "k"), "v");
    flock_group_view_clear(&v);
    dyn_leave(s, "tcp://10.1.1.1:5", 9);
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_get_view(h, &v), FLOCK_SUCCESS);
    CHECK(flock_group_view_find_member(&v, "tcp://10.1.1.1:5", 9) == NULL);
    flock_group_view_clear(&v);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p), FLOCK_SUCCESS);
}

static void test_from_file_and_serialized(flock_client_t c)
{
    const char*          f = fct_path("client.flock");
    char                 cfg[800];
    flock_provider_t     p = NULL;
    flock_group_handle_t h = NULL;
    snprintf(cfg, sizeof cfg, "{\"file\":\"%s\",\"group\":{\"type\":\"static\"}}", f);
    CHECK_EQ_INT(flock_provider_register(srv, 3, cfg, NULL, &p), FLOCK_SUCCESS);
    /* from the group file: cached view = file content, no RPC needed */
    CHECK_EQ_INT(flock_group_handle_create_from_file(c, f, 0, &h), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create_from_file(c, f, FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create_from_file(c, fct_path("nope"), 0, &h),
                 FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_create_from_file(NULL, f, 0, &h), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_create_from_file(c, NULL, 0, &h), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_handle_create_from_file(c, f, 0, NULL), FLOCK_ERR_INVALID_ARGS);

    /* serialized: with or without the NUL counted */
    char* text = fct_read_file(f);
    REQUIRE(text);
    CHECK_EQ_INT(flock_group_handle_create_from_serialized(c, text, strlen(text) + 1, 0, &h),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create_from_serialized(c, text, strlen(text),
                                                           FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_SUCCESS);
    CHECK(handle_digest(h) == provider_digest(p));
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    free(text);
    /* malformed / unusable input: errors, nothing leaked (upstream leaked) */
    const char* bad = "{\"members\":[]}";
    CHECK_EQ_INT(flock_group_handle_create_from_serialized(c, bad, strlen(bad), 0, &h),
                 FLOCK_ERR_INVALID_CONFIG);
    const char* badaddr = "{\"members\":[{\"address\":\"nonsense\",\"provider_id\":1}]}";
    CHECK_EQ_INT(flock_group_handle_create_from_serialized(c, badaddr, strlen(badaddr), 0, &h),
                 FLOCK_ERR_FROM_MERCURY);
    /* a reachable-looking address nobody serves: fine without update, error with */
    char gone[160];
    snprintf(gone, sizeof gone,
             "{\"members\":[{\"address\":\"na+sm://%d-4242\",\"provider_id\":1}]}",
             (int)getpid());
    CHECK_EQ_INT(flock_group_handle_create_from_serialized(c, gone, strlen(gone), 0, &h),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create_from_serialized(c, gone, strlen(gone),
                                                           FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_ERR_FROM_MERCURY);
    CHECK_EQ_INT(flock_group_handle_create_from_serialized(c, NULL, 3, 0, &h),
                 FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_provider_destroy(p), FLOCK_SUCCESS);
}

/* The contact member goes away: the handle fails over to another member of
 * its cached view (upstream always asked the same member), for blocking and
 * asynchronous updates; with no member left, the error is reported. */
static void test_failover(flock_client_t c)
{
    flock_provider_t   p[3];
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    for (int i = 0; i < 3; i++) REQUIRE(flock_group_view_add_member(&v, srv_addr, (uint16_t)(70 + i)));
    for (int i = 0; i < 3; i++) {
        flock_group_view_t copy = FLOCK_GROUP_VIEW_INITIALIZER;
        REQUIRE(flock_group_view_copy(&v, &copy));
        struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
        args.initial_view               = &copy;
        CHECK_EQ_INT(flock_provider_register(srv, (uint16_t)(70 + i),
                                             "{\"group\":{\"type\":\"static\"}}", &args, &p[i]),
                     FLOCK_SUCCESS);
    }
    flock_group_handle_t h = NULL;
    CHECK_EQ_INT(flock_group_handle_create(c, srv_on_cli, 70, FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_SUCCESS);
    uint64_t d = handle_digest(h);
    CHECK(d == provider_digest(p[1]));
    /* contact (70) gone: blocking update answered by 71 */
    CHECK_EQ_INT(flock_provider_destroy(p[0]), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == d);
    /* 71 gone too: an asynchronous update is answered by 72 */
    CHECK_EQ_INT(flock_provider_destroy(p[1]), FLOCK_SUCCESS);
    flock_request_t req = NULL;
    CHECK_EQ_INT(flock_group_update_view(h, &req), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_request_wait(req), FLOCK_SUCCESS);
    /* the new contact sticks: with 70 back but 72 serving, updates work */
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    /* nobody left: error, cache kept */
    CHECK_EQ_INT(flock_provider_destroy(p[2]), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_ERR_FROM_MERCURY);
    CHECK(handle_digest(h) == d);
    /* a member comes back (same address and id): found again */
    flock_group_view_t copy = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_copy(&v, &copy));
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    args.initial_view               = &copy;
    CHECK_EQ_INT(flock_provider_register(srv, 71, "{\"group\":{\"type\":\"static\"}}", &args,
                                         &p[1]),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p[1]), FLOCK_SUCCESS);
    flock_group_view_clear(&v);
}

/* A contact that never answers (its frames are dropped, as with a stopped
 * process) no longer blocks updates forever: after the client's timeout
 * (FLOCK_CLIENT_TIMEOUT_MS, 1 s here) the handle fails over to another
 * member, for blocking and asynchronous updates. */
static void test_hung_contact(void)
{
    margo_instance_id srv2 = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(srv2);
    flock_provider_t   p1 = NULL, p2 = NULL;
    flock_group_view_t v  = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_add_member(&v, srv_addr, 90));
    REQUIRE(flock_group_view_add_member(&v, frt_self_addr_str(srv2), 91));
    for (int i = 0; i < 2; i++) {
        flock_group_view_t copy = FLOCK_GROUP_VIEW_INITIALIZER;
        REQUIRE(flock_group_view_copy(&v, &copy));
        struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
        args.initial_view               = &copy;
        CHECK_EQ_INT(flock_provider_register(i == 0 ? srv : srv2, (uint16_t)(90 + i),
                                             "{\"group\":{\"type\":\"static\"}}", &args,
                                             i == 0 ? &p1 : &p2),
                     FLOCK_SUCCESS);
    }
    setenv("FLOCK_CLIENT_TIMEOUT_MS", "1000", 1);
    flock_client_t c = NULL;
    REQUIRE(flock_client_init(cli, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
    unsetenv("FLOCK_CLIENT_TIMEOUT_MS");
    flock_group_handle_t h = NULL;
    CHECK_EQ_INT(flock_group_handle_create(c, srv_on_cli, 90, FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_SUCCESS);
    /* every frame cli sends to the contact's instance is lost */
    frt_fault_spec drop = {.drop = 1.0};
    CHECK_EQ_INT(frt_fault_set(cli, srv_addr, &drop), HG_SUCCESS);
    double t0 = ft_now_ms();
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    double took = ft_now_ms() - t0;
    CHECK(took >= 900 && took < 60000); /* waited for the timeout, then failed over */
    flock_request_t req = NULL;
    CHECK_EQ_INT(flock_group_update_view(h, &req), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_request_wait(req), FLOCK_SUCCESS);
    CHECK_EQ_INT(frt_fault_clear(cli), HG_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_client_finalize(c), FLOCK_SUCCESS);
    /* a malformed value is ignored (default timeout), not fatal */
    setenv("FLOCK_CLIENT_TIMEOUT_MS", "soon", 1);
    REQUIRE(flock_client_init(cli, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
    unsetenv("FLOCK_CLIENT_TIMEOUT_MS");
    CHECK_EQ_INT(flock_client_finalize(c), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p1), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p2), FLOCK_SUCCESS);
    flock_group_view_clear(&v);
    margo_finalize(srv2);
}

/* ---- ref counting from many threads ---- */
typedef struct {
    flock_group_handle_t h;
} thr_arg;
static void* refcount_thread(void* arg)
{
    thr_arg* t = (thr_arg*)arg;
    for (int i = 0; i < 20000; i++) {
        flock_group_handle_ref_incr(t->h);
        flock_group_handle_release(t->h);
    }
    return NULL;
}

static void test_refcount_threads(flock_client_t c)
{
    flock_provider_t     p = NULL;
    flock_group_handle_t h = NULL;
    CHECK_EQ_INT(flock_provider_register(srv, 4, "{\"group\":{\"type\":\"static\"}}", NULL, &p),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create(c, srv_on_cli, 4, 0, &h), FLOCK_SUCCESS);
    pthread_t th[8];
    thr_arg   a = {h};
    for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, refcount_thread, &a);
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    /* still exactly one reference: usable, then freed by one release */
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p), FLOCK_SUCCESS);
}

/* ---- hostile peers ---- */
static int fake_mode = 0;
static void fake_get_view(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    (void)in, (void)in_len, (void)uargs;
    frt_wbuf           b = FRT_WBUF_INIT;
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_view_add_member(&v, "x://1", 1);
    switch (fake_mode) {
    case 0: /* truncated */
        frt_put_u8(&b, 0);
        frt_put_u64(&b, 1);
        break;
    case 1: /* wrong digest */
        frt_put_u8(&b, 0);
        v.digest ^= 1;
        flock__view_encode(&b, &v);
        frt_put_u32(&b, 0);
        break;
    case 2: /* trailing bytes */
        frt_put_u8(&b, 0);
        flock__view_encode(&b, &v);
        frt_put_u32(&b, 0);
        frt_put_u8(&b, 7);
        break;
    case 3: /* remote error code passes through, cache kept */
        frt_put_u8(&b, 0);
        flock_group_view_clear(&v);
        flock__view_encode(&b, &v);
        frt_put_u32(&b, (uint32_t)FLOCK_ERR_INVALID_GROUP);
        break;
    case 4: /* out-of-range code */
        frt_put_u8(&b, 0);
        flock_group_view_clear(&v);
        flock__view_encode(&b, &v);
        frt_put_u32(&b, 9999);
        break;
    case 5: /* bad no_change flag */
        frt_put_u8(&b, 7);
        flock__view_encode(&b, &v);
        frt_put_u32(&b, 0);
        break;
    default: /* valid */
        frt_put_u8(&b, 0);
        flock__view_encode(&b, &v);
        frt_put_u32(&b, 0);
        break;
    }
    frt_respond(req, b.data, b.len);
    frt_wbuf_free(&b);
    flock_group_view_clear(&v);
}

static void test_hostile(flock_client_t c)
{
    /* a fake "flock" provider answering garbage */
    REQUIRE(margo_provider_register_identity(srv, 60, "flock") == HG_SUCCESS);
    REQUIRE(frt_rpc_register(srv, FLOCK__GET_VIEW_RPC, 60, fake_get_view, NULL, ABT_POOL_NULL)
            == HG_SUCCESS);
    flock_group_handle_t h = NULL;
    CHECK_EQ_INT(flock_group_handle_create(c, srv_on_cli, 60, 0, &h), FLOCK_SUCCESS);
    uint64_t d = handle_digest(h);
    static const int expect[] = {FLOCK_ERR_FROM_MERCURY, FLOCK_ERR_FROM_MERCURY,
                                 FLOCK_ERR_FROM_MERCURY, FLOCK_ERR_INVALID_GROUP,
                                 FLOCK_ERR_OTHER,        FLOCK_ERR_FROM_MERCURY};
    for (int m = 0; m < 6; m++) {
        fake_mode = m;
        int r     = flock_group_update_view(h, NULL);
        if (r != expect[m]) FT_FAIL("fake mode %d: got %d", m, r);
        CHECK(handle_digest(h) == d);
    }
    fake_mode = 99;
    CHECK_EQ_INT(flock_group_update_view(h, NULL), FLOCK_SUCCESS);
    CHECK(handle_digest(h) == flock_hash_member(1, "x://1"));
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    frt_rpc_deregister(srv, FLOCK__GET_VIEW_RPC, 60);
    margo_provider_deregister_identity(srv, 60);

    /* garbage requests to a real provider: rejected, provider still fine */
    flock_provider_t p = NULL;
    CHECK_EQ_INT(flock_provider_register(srv, 5, "{\"group\":{\"type\":\"static\"}}", NULL, &p),
                 FLOCK_SUCCESS);
    const char junk[] = "abc";
    CHECK(frt_forward(cli, srv_on_cli, FLOCK__GET_VIEW_RPC, 5, junk, 3, 5000, NULL, NULL)
          != HG_SUCCESS);
    CHECK(frt_forward(cli, srv_on_cli, FLOCK__GET_VIEW_RPC, 5, NULL, 0, 5000, NULL, NULL)
          != HG_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create(c, srv_on_cli, 5, FLOCK_MODE_INIT_UPDATE, &h),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p), FLOCK_SUCCESS);
}

int main(void)
{
    margo_set_global_log_level(MARGO_LOG_CRITICAL);
    srv = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    cli = margo_init("na+sm", MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(srv && cli);
    snprintf(srv_addr, sizeof srv_addr, "%s", frt_self_addr_str(srv));
    REQUIRE(margo_addr_lookup(cli, srv_addr, &srv_on_cli) == HG_SUCCESS);

    test_client_basics();
    flock_client_t c = NULL, self_c = NULL;
    REQUIRE(flock_client_init(cli, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
    REQUIRE(flock_client_init(srv, ABT_POOL_NULL, &self_c) == FLOCK_SUCCESS);
    test_create_and_update(c, cli);           /* client-mode instance */
    test_create_and_update(self_c, srv);      /* the server's own instance (self RPCs) */
    test_view_changes(c);
    test_from_file_and_serialized(c);
    test_refcount_threads(c);
    test_failover(c);
    test_hung_contact();
    test_hostile(c);
    CHECK_EQ_INT(flock_client_finalize(self_c), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_client_finalize(c), FLOCK_SUCCESS);
    margo_addr_free(cli, srv_on_cli);
    margo_finalize(cli);
    margo_finalize(srv);
    return FT_DONE();
}
