/*
 * test-centralized-inproc.c -- centralized backend behaviours checked with
 * two runtime instances in one process (no timing assertions):
 *   - the primary need not sort first: it updates and pings a member that
 *     sorts before it (pid 1 < primary pid 2), never itself;
 *   - join through the primary; exactly-once callbacks; no duplicates;
 *   - a duplicate join gets an explicit error; a join sent to a secondary
 *     is refused; hostile/duplicated/out-of-order updates are harmless;
 *   - leave carries the real provider id (5) and is seen as LEFT;
 *   - every RPC is deregistered on destroy;
 *   - a member whose ping RPC vanished is declared DIED (pinged though it
 *     sorts before the primary);
 *   - __type__ / __config__ metadata and get_config;
 *   - config errors at registration leave the runtime usable;
 *   - destroying a primary while pings are in flight is safe (ASan).
 */
#include "flock-test.h"

#include <pthread.h>
#include <flock/flock-server.h>
#include <flock/flock-bootstrap.h>
#include "flock/provider-internal.h"
#include "flock/backend-util.h"
#include "backends/centralized/centralized-wire.h"

/* ---------------- callback recorder ---------------- */

typedef struct {
    pthread_mutex_t m;
    int n;
    flock_update_t type[64];
    char addr[64][128];
    uint16_t pid[64];
} rec_t;

static void rec_cb(void* ctx, flock_update_t t, const char* a, uint16_t pid)
{
    rec_t* r = ctx;
    pthread_mutex_lock(&r->m);
    if (r->n < 64) {
        r->type[r->n] = t;
        snprintf(r->addr[r->n], 128, "%s", a);
        r->pid[r->n] = pid;
        r->n++;
    }
    pthread_mutex_unlock(&r->m);
}
static void rec_meta(void* ctx, const char* k, const char* v) {}

static int rec_count(rec_t* r, flock_update_t t, const char* a, uint16_t pid)
{
    int c = 0;
    pthread_mutex_lock(&r->m);
    for (int i = 0; i < r->n; i++)
        if (r->type[i] == t && !strcmp(r->addr[i], a) && r->pid[i] == pid) c++;
    pthread_mutex_unlock(&r->m);
    return c;
}

/* ---------------- provider view access ---------------- */

static void copy_cb(void* uargs, const flock_group_view_t* v)
{
    flock_group_view_t* out = uargs;
    FLOCK_GROUP_VIEW_LOCK((flock_group_view_t*)v);
    flock_group_view_clear(out);
    flock_group_view_copy(v, out);
    FLOCK_GROUP_VIEW_UNLOCK((flock_group_view_t*)v);
}

/** A copy of the provider's backend view (caller clears it). */
static flock_group_view_t view_of(flock_provider_t p)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_backend_impl* impl = NULL;
    void* state = NULL;
    if (flock__provider_get_backend(p, &impl, &state) == FLOCK_SUCCESS)
        impl->get_view(state, copy_cb, &v);
    return v;
}

static size_t count_of(flock_provider_t p)
{
    flock_group_view_t v = view_of(p);
    size_t n = v.members.size;
    flock_group_view_clear(&v);
    return n;
}
static uint64_t digest_of(flock_provider_t p)
{
    flock_group_view_t v = view_of(p);
    uint64_t d = v.digest;
    flock_group_view_clear(&v);
    return d;
}

typedef struct {
    flock_provider_t* ps;
    int n;
    size_t members;
} conv_arg;

static bool converged(void* arg)
{
    conv_arg* c = arg;
    uint64_t d = digest_of(c->ps[0]);
    for (int i = 0; i < c->n; i++)
        if (count_of(c->ps[i]) != c->members || digest_of(c->ps[i]) != d) return false;
    return true;
}

static bool no_duplicates(flock_provider_t p)
{
    flock_group_view_t v = view_of(p);
    bool ok = true;
    for (size_t i = 1; i < v.members.size; i++)
        if (flock_member_cmp(&v.members.data[i - 1], &v.members.data[i]) >= 0) ok = false;
    flock_group_view_clear(&v);
    return ok;
}

static char* self_addr(margo_instance_id mid)
{
    hg_addr_t a = HG_ADDR_NULL;
    char buf[256];
    hg_size_t sz = sizeof buf;
    margo_addr_self(mid, &a);
    margo_addr_to_string(mid, buf, &sz, a);
    margo_addr_free(mid, a);
    return strdup(buf);
}

static flock_return_t reg(margo_instance_id mid, uint16_t pid, const char* cfg,
                          const flock_group_view_t* initial, flock_provider_t* out)
{
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_view_copy(initial, &v);
    args.initial_view = &v;
    flock_return_t ret = flock_provider_register(mid, pid, cfg, &args, out);
    flock_group_view_clear(&v);
    return ret;
}

/* raw RPC: returns the u32 status of the reply, or -1 */
static long raw_call(margo_instance_id mid, const char* addr, const char* rpc,
                     uint16_t pid, const frt_wbuf* in)
{
    hg_addr_t a = HG_ADDR_NULL;
    void* out = NULL;
    size_t len = 0;
    long st = -1;
    if (margo_addr_lookup(mid, addr, &a) != HG_SUCCESS) return -1;
    if (frt_forward(mid, a, rpc, pid, in->data, in->len, 5000, &out, &len) ==
        HG_SUCCESS) {
        frt_rbuf r;
        uint32_t s;
        frt_rbuf_init(&r, out, len);
        if (flock__cent_decode_status(&r, &s)) st = s;
    }
    free(out);
    margo_addr_free(mid, a);
    return st;
}

static uint64_t group_id; /* of test_group's group */

static void test_group(void)
{
    margo_instance_id m1 = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    margo_instance_id m2 = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(m1 && m2);
    char* a1 = self_addr(m1);
    char* a2 = self_addr(m2);
    char cfg[1024];
    snprintf(
        cfg, sizeof cfg,
        "{\"group\":{\"type\":\"centralized\",\"config\":{\"primary_address\":\"%s\","
        "\"primary_provider_id\":2,\"ping_interval_ms\":[20,40],\"ping_timeout_ms\":2000,"
        "\"ping_max_num_timeouts\":3}}}",
        a1);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_view_add_member(&v, a1, 1);
    flock_group_view_add_member(&v, a1, 2);

    flock_provider_t p1 = NULL, p2 = NULL, p5 = NULL;
    static rec_t r1, r2, r5;
    pthread_mutex_init(&r1.m, NULL);
    pthread_mutex_init(&r2.m, NULL);
    pthread_mutex_init(&r5.m, NULL);
    REQUIRE(reg(m1, 2, cfg, &v, &p2) == FLOCK_SUCCESS); /* primary, sorts second */
    REQUIRE(reg(m1, 1, cfg, &v, &p1) == FLOCK_SUCCESS);
    flock_provider_add_update_callbacks(p1, rec_cb, rec_meta, &r1);
    flock_provider_add_update_callbacks(p2, rec_cb, rec_meta, &r2);

    /* metadata and config */
    {
        flock_group_view_t pv = view_of(p2);
        CHECK_EQ_STR(flock_group_view_find_metadata(&pv, "__type__"), "centralized");
        const char* c = flock_group_view_find_metadata(&pv, "__config__");
        char expect[1024], gid[17];
        /* the group id of a view founding: derived from the member set, the
         * same at every founder; the primary opened term 1 */
        flock_group_view_t same = FLOCK_GROUP_VIEW_INITIALIZER;
        flock_group_view_add_member(&same, a1, 2);
        flock_group_view_add_member(&same, a1, 1);
        group_id = flock__group_id_new(&same, "centralized");
        flock_group_view_clear(&same);
        flock__group_id_format(group_id, gid);
        snprintf(expect, sizeof expect,
                 "{\"ping_timeout_ms\":2000.0,\"ping_interval_ms\":[20.0,40.0],"
                 "\"ping_max_num_timeouts\":3,\"primary_address\":\"%s\","
                 "\"primary_provider_id\":2,\"group_id\":\"%s\",\"term\":1}",
                 a1, gid);
        CHECK_EQ_STR(c, expect);
        char* gc = flock_provider_get_config(p2);
        char full[2048];
        snprintf(full, sizeof full,
                 "{\"gateway\":{\"type\":\"default\",\"config\":{}},\"group\":{\"type\":"
                 "\"centralized\",\"config\":%s}}",
                 expect);
        CHECK_EQ_STR(gc, full);
        free(gc);
        flock_group_view_clear(&pv);
    }

    /* join from the second instance (pid 5) */
    REQUIRE(reg(m2, 5, cfg, &v, &p5) == FLOCK_SUCCESS);
    flock_provider_add_update_callbacks(p5, rec_cb, rec_meta, &r5);
    flock_provider_t all[3] = {p1, p2, p5};
    conv_arg c3 = {all, 3, 3};
    REQUIRE(ft_wait_until(converged, &c3, 30000));
    CHECK_EQ_INT(rec_count(&r1, FLOCK_MEMBER_JOINED, a2, 5),
                 1); /* sorts before the primary */
    CHECK_EQ_INT(rec_count(&r2, FLOCK_MEMBER_JOINED, a2, 5), 1);
    CHECK_EQ_INT(r5.n, 0);
    CHECK(no_duplicates(p1) && no_duplicates(p2) && no_duplicates(p5));

    /* a second join of a member: a rejoin (a restart), answered with the
     * view, nothing duplicated, no event */
    {
        frt_wbuf b = FRT_WBUF_INIT;
        flock__cent_encode_envelope(&b, group_id, 1, 2);
        flock__cent_encode_u16(&b, 5);
        CHECK_EQ_INT(raw_call(m2, a1, FLOCK__CENT_RPC_JOIN, 2, &b), FLOCK_SUCCESS);
        /* a join sent to a secondary is refused */
        CHECK_EQ_INT(raw_call(m2, a1, FLOCK__CENT_RPC_JOIN, 1, &b),
                     FLOCK_ERR_OP_FORBIDDEN);
        frt_wbuf_free(&b);
        /* garbage to membership_update */
        frt_put_u32(&b, 0xFFFFFFF0u);
        CHECK_EQ_INT(raw_call(m1, a2, FLOCK__CENT_RPC_UPDATE, 5, &b),
                     FLOCK_ERR_INVALID_ARGS);
        frt_wbuf_free(&b);
        /* a replayed (already applied) update: no callback, no change */
        flock__cent_event_t e = {1, FLOCK_MEMBER_JOINED, a2, 5, NULL};
        flock__cent_encode_envelope(&b, group_id, 1, 2);
        flock__cent_encode_events(&b, &e, 1);
        CHECK_EQ_INT(raw_call(m2, a1, FLOCK__CENT_RPC_UPDATE, 1, &b), FLOCK_SUCCESS);
        frt_wbuf_free(&b);
        /* an update from the future (gap): the member resyncs from the primary */
        flock__cent_event_t f = {1000, FLOCK_MEMBER_JOINED, "na+sm://1-0", 9, NULL};
        flock__cent_encode_envelope(&b, group_id, 1, 2);
        flock__cent_encode_events(&b, &f, 1);
        CHECK_EQ_INT(raw_call(m2, a1, FLOCK__CENT_RPC_UPDATE, 1, &b), FLOCK_SUCCESS);
        frt_wbuf_free(&b);
        /* the same from another group, or from an older term: refused */
        flock__cent_encode_envelope(&b, group_id ^ 1, 1, 2);
        flock__cent_encode_events(&b, &f, 1);
        CHECK_EQ_INT(raw_call(m2, a1, FLOCK__CENT_RPC_UPDATE, 1, &b), FLOCK_ERR_INVALID_GROUP);
        frt_wbuf_free(&b);
        flock__cent_encode_envelope(&b, group_id, 0, 2);
        flock__cent_encode_events(&b, &f, 1);
        CHECK_EQ_INT(raw_call(m2, a1, FLOCK__CENT_RPC_UPDATE, 1, &b), FLOCK_ERR_OP_FORBIDDEN);
        frt_wbuf_free(&b);
        CHECK(ft_wait_until(converged, &c3, 30000));
        CHECK_EQ_INT(rec_count(&r1, FLOCK_MEMBER_JOINED, a2, 5), 1);
        CHECK_EQ_INT(r1.n, 1);
        CHECK(no_duplicates(p1) && no_duplicates(p2));
    }

    /* hostile frames to every RPC of the primary and of a secondary: each is
     * answered (error or ignored) and the group is unchanged */
    {
        static const char* names[5] = {FLOCK__CENT_RPC_PING, FLOCK__CENT_RPC_UPDATE,
                                       FLOCK__CENT_RPC_VIEW, FLOCK__CENT_RPC_LEAVE,
                                       FLOCK__CENT_RPC_JOIN};
        uint64_t before = digest_of(p2);
        unsigned seed = 12345;
        hg_addr_t target = HG_ADDR_NULL;
        REQUIRE(margo_addr_lookup(m2, a1, &target) == HG_SUCCESS);
        for (int round = 0; round < 200; round++) {
            uint8_t junk[64];
            size_t len = (size_t)(rand_r(&seed) % sizeof junk);
            uint16_t pid = (round & 1) ? 1 : 2;
            for (size_t k = 0; k < len; k++)
                junk[k] = (uint8_t)rand_r(&seed);
            /* length 20 could be a well-formed join/leave of pid 5 (an
             * 18-byte envelope + a u16); skip those so the group really is
             * unchanged */
            const char* rpc = names[round % 5];
            if ((rpc == names[3] || rpc == names[4]) && len == 20) continue;
            void* out = NULL;
            size_t olen = 0;
            frt_forward(m2, target, rpc, pid, junk, len, 5000, &out, &olen);
            free(out);
        }
        margo_addr_free(m2, target);
        CHECK(digest_of(p2) == before);
        CHECK(ft_wait_until(converged, &c3, 30000));
        CHECK_EQ_INT(r1.n, 1);
        CHECK_EQ_INT(r2.n, 1);
    }

    /* leave with the real provider id (5) */
    CHECK(flock_provider_destroy(p5) == FLOCK_SUCCESS);
    for (int i = 0; i < 5; i++) {
        static const char* names[5] = {FLOCK__CENT_RPC_PING, FLOCK__CENT_RPC_UPDATE,
                                       FLOCK__CENT_RPC_VIEW, FLOCK__CENT_RPC_LEAVE,
                                       FLOCK__CENT_RPC_JOIN};
        CHECK(!frt_rpc_is_registered(m2, names[i], 5));
    }
    flock_provider_t two[2] = {p1, p2};
    conv_arg c2 = {two, 2, 2};
    CHECK(ft_wait_until(converged, &c2, 30000));
    CHECK_EQ_INT(rec_count(&r1, FLOCK_MEMBER_LEFT, a2, 5), 1);
    CHECK_EQ_INT(rec_count(&r2, FLOCK_MEMBER_LEFT, a2, 5), 1);

    /* pid 1 sorts before the primary and is still pinged: make it deaf */
    CHECK(frt_rpc_deregister(m1, FLOCK__CENT_RPC_PING, 1) == HG_SUCCESS);
    flock_provider_t one[1] = {p2};
    conv_arg c1 = {one, 1, 1};
    CHECK(ft_wait_until(converged, &c1, 30000));
    CHECK_EQ_INT(rec_count(&r2, FLOCK_MEMBER_DIED, a1, 1), 1);
    CHECK_EQ_INT(rec_count(&r2, FLOCK_MEMBER_DIED, a1, 2), 0); /* never itself */

    CHECK(flock_provider_destroy(p1) == FLOCK_SUCCESS);
    CHECK(flock_provider_destroy(p2) == FLOCK_SUCCESS);
    CHECK(!frt_rpc_is_registered(m1, FLOCK__CENT_RPC_JOIN, 2));
    CHECK(!frt_rpc_is_registered(m1, FLOCK__CENT_RPC_LEAVE, 2));
    flock_group_view_clear(&v);
    free(a1);
    free(a2);
    margo_finalize(m2);
    margo_finalize(m1);
}

static void test_config_errors(void)
{
    margo_instance_id m = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(m);
    char* a = self_addr(m);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_view_t other = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_provider_t p = NULL;
    char cfg[512];
    flock_group_view_add_member(&v, a, 3);
    flock_group_view_add_member(&other, "na+sm://1-0", 3);

    CHECK_EQ_INT(reg(m, 3,
                     "{\"group\":{\"type\":\"centralized\",\"config\":{\"ping_timeout_"
                     "ms\":\"x\"}}}",
                     &v, &p),
                 FLOCK_ERR_INVALID_CONFIG);
    CHECK_EQ_INT(reg(m, 3,
                     "{\"group\":{\"type\":\"centralized\",\"config\":{\"primary_"
                     "provider_id\":99}}}",
                     &v, &p),
                 FLOCK_ERR_INVALID_CONFIG);
    /* joining without knowing the primary */
    CHECK_EQ_INT(
        reg(m, 3, "{\"group\":{\"type\":\"centralized\",\"config\":{}}}", &other, &p),
        FLOCK_ERR_INVALID_CONFIG);
    /* a broken __config__ in the view */
    flock_group_view_add_metadata(&other, "__config__", "{oops");
    CHECK_EQ_INT(
        reg(m, 3, "{\"group\":{\"type\":\"centralized\",\"config\":{}}}", &other, &p),
        FLOCK_ERR_INVALID_ARGS);
    /* still usable: a valid registration on the same id works */
    snprintf(
        cfg, sizeof cfg,
        "{\"group\":{\"type\":\"centralized\",\"config\":{\"ping_interval_ms\":5}}}");
    CHECK_EQ_INT(reg(m, 3, cfg, &v, &p), FLOCK_SUCCESS);
    if (p) CHECK(flock_provider_destroy(p) == FLOCK_SUCCESS);
    flock_group_view_clear(&v);
    flock_group_view_clear(&other);
    free(a);
    margo_finalize(m);
}

/* destroy the primary while its pings (1-2 ms apart) are in flight */
static void test_destroy_in_flight(void)
{
    margo_instance_id m1 = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    margo_instance_id m2 = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(m1 && m2);
    char* a1 = self_addr(m1);
    char cfg[512];
    snprintf(
        cfg, sizeof cfg,
        "{\"group\":{\"type\":\"centralized\",\"config\":{\"primary_address\":\"%s\","
        "\"primary_provider_id\":10,\"ping_interval_ms\":[1,2],\"ping_timeout_ms\":1000}}"
        "}",
        a1);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_view_add_member(&v, a1, 10);
    for (int round = 0; round < 5; round++) {
        flock_provider_t prim = NULL, sec[4] = {NULL};
        REQUIRE(reg(m1, 10, cfg, &v, &prim) == FLOCK_SUCCESS);
        for (int i = 0; i < 4; i++)
            REQUIRE(reg(m2, (uint16_t)(20 + i), cfg, &v, &sec[i]) == FLOCK_SUCCESS);
        CHECK_EQ_INT(count_of(prim), 5);
        margo_thread_sleep(m1, 100 + 20 * round);
        CHECK(flock_provider_destroy(prim) == FLOCK_SUCCESS); /* pings in flight */
        for (int i = 0; i < 4; i++)
            CHECK(flock_provider_destroy(sec[i]) == FLOCK_SUCCESS);
    }
    flock_group_view_clear(&v);
    free(a1);
    margo_finalize(m2);
    margo_finalize(m1);
}

int main(void)
{
    ft_tmpdir();
    test_group();
    test_config_errors();
    test_destroy_in_flight();
    return FT_DONE();
}
