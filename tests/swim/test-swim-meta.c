/*
 * test-swim-meta.c -- the SWIM machine's run-time metadata (swim-meta.c)
 * under the simulated network: a write at one member reaches all, each
 * applying it once (one SWIM_EV_META); concurrent writes of one key at two
 * members converge to the greater write by the stated total order;
 * removal; a member that joins later learns the metadata with the state;
 * anti-entropy repairs metadata gossip lost to a partition; tombstones
 * expire; the limits; the total order as a table.
 */
#include "flock-test.h"
#include "swim-sim.h"

static swim__config test_cfg(void)
{
    swim__config c;
    swim__config_default(&c);
    return c;
}

static void full_group(sim* S, int n, const swim__config* cfg)
{
    for (int i = 0; i < n; i++) sim_add(S, cfg);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            REQUIRE(swim__add_initial(S->nodes[i].s, S->nodes[j].addr, S->nodes[j].pid) == 0);
    for (int i = 0; i < n; i++) sim_start(S, i, false);
}

/* per observer: the last value each callback reported for key "k" */
static char last_seen[SIM_MAX_NODES][64];
static int  removals[SIM_MAX_NODES];

static void on_meta(sim* S, int obs, const char* key, const char* value)
{
    (void)S;
    if (strcmp(key, "k") != 0) return;
    if (value)
        snprintf(last_seen[obs], sizeof last_seen[obs], "%s", value);
    else {
        last_seen[obs][0] = 0;
        removals[obs]++;
    }
}

static void reset_hooks(sim* S)
{
    memset(last_seen, 0, sizeof last_seen);
    memset(removals, 0, sizeof removals);
    S->on_meta = on_meta;
}

static int count_value(sim* S, const char* key, const char* want)
{
    int c = 0;
    for (int i = 0; i < S->n; i++) {
        if (!S->nodes[i].up) continue;
        const char* v = swim__meta_get(S->nodes[i].s, key);
        if ((!want && !v) || (want && v && strcmp(v, want) == 0)) c++;
    }
    return c;
}

static int total_meta_events(sim* S)
{
    int n = 0;
    for (int i = 0; i < S->n; i++) n += S->nodes[i].meta_events;
    return n;
}

/* 1. a write at one member: seen by all, one event each (the writer too) */
static void test_spread(void)
{
    sim          S;
    swim__config c = test_cfg();
    const int    N = 32;
    sim_init(&S, 11);
    reset_hooks(&S);
    full_group(&S, N, &c);
    sim_run(&S, 3000);
    CHECK_EQ_INT(swim__meta_set(S.nodes[5].s, S.now, "k", "v1"), SWIM_META_APPLIED);
    sim_drain(&S, 5);
    CHECK_EQ_INT(S.nodes[5].meta_events, 1);
    sim_run(&S, S.now + 5000);
    CHECK_EQ_INT(count_value(&S, "k", "v1"), N);
    CHECK_EQ_INT(total_meta_events(&S), N);
    for (int i = 0; i < N; i++) CHECK_EQ_STR(last_seen[i], "v1");
    /* the same value again: nothing written, no event */
    CHECK_EQ_INT(swim__meta_set(S.nodes[7].s, S.now, "k", "v1"), SWIM_META_UNCHANGED);
    /* an update from another member */
    CHECK_EQ_INT(swim__meta_set(S.nodes[9].s, S.now, "k", "v2"), SWIM_META_APPLIED);
    sim_drain(&S, 9);
    sim_run(&S, S.now + 5000);
    CHECK_EQ_INT(count_value(&S, "k", "v2"), N);
    CHECK_EQ_INT(total_meta_events(&S), 2 * N);
    /* removal */
    CHECK_EQ_INT(swim__meta_set(S.nodes[0].s, S.now, "k", NULL), SWIM_META_APPLIED);
    sim_drain(&S, 0);
    CHECK_EQ_INT(swim__meta_set(S.nodes[0].s, S.now, "k", NULL), SWIM_META_ABSENT);
    sim_run(&S, S.now + 5000);
    CHECK_EQ_INT(count_value(&S, "k", NULL), N);
    CHECK_EQ_INT(total_meta_events(&S), 3 * N);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(removals[i], 1);
    /* the view never changed */
    CHECK_EQ_INT(sim_count_view(&S, N), N);
    sim_free(&S);
}

/* 2. concurrent writes of one key at two members converge (several rounds,
 * each pair of writes made at the same instant, before either hears the
 * other); every member ends with the same value and version */
static void test_concurrent(void)
{
    sim          S;
    swim__config c = test_cfg();
    const int    N = 24;
    sim_init(&S, 12);
    reset_hooks(&S);
    full_group(&S, N, &c);
    sim_run(&S, 2000);
    for (int round = 0; round < 6; round++) {
        int  a = (round * 5) % N, b = (round * 7 + 3) % N;
        char va[16], vb[16];
        snprintf(va, sizeof va, "a%d", round);
        snprintf(vb, sizeof vb, "b%d", round);
        CHECK_EQ_INT(swim__meta_set(S.nodes[a].s, S.now, "k", va), SWIM_META_APPLIED);
        CHECK_EQ_INT(swim__meta_set(S.nodes[b].s, S.now, "k", vb), SWIM_META_APPLIED);
        sim_drain(&S, a);
        sim_drain(&S, b);
        sim_run(&S, S.now + 6000);
        const char* v0 = swim__meta_get(S.nodes[0].s, "k");
        REQUIRE(v0 != NULL);
        CHECK(strcmp(v0, va) == 0 || strcmp(v0, vb) == 0);
        CHECK_EQ_INT(count_value(&S, "k", v0), N);
        /* each member's last callback reported the value it holds */
        for (int i = 0; i < N; i++) CHECK_EQ_STR(last_seen[i], v0);
    }
    sim_free(&S);
}

/* 3. a member that joins later gets the metadata (initial + run-time) from
 * the JOIN answer, at once */
static void test_join_later(void)
{
    sim          S;
    swim__config c = test_cfg();
    const int    N = 8;
    sim_init(&S, 13);
    reset_hooks(&S);
    for (int i = 0; i < N; i++) sim_add(&S, &c);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++)
            REQUIRE(swim__add_initial(S.nodes[i].s, S.nodes[j].addr, S.nodes[j].pid) == 0);
        REQUIRE(swim__meta_add_initial(S.nodes[i].s, "init", "file") == 0);
    }
    for (int i = 0; i < N; i++) sim_start(&S, i, false);
    CHECK_EQ_INT(total_meta_events(&S), 0); /* the initial view fires nothing */
    sim_run(&S, 2000);
    CHECK_EQ_INT(swim__meta_set(S.nodes[1].s, S.now, "k", "live"), SWIM_META_APPLIED);
    CHECK_EQ_INT(swim__meta_set(S.nodes[2].s, S.now, "gone", "x"), SWIM_META_APPLIED);
    sim_drain(&S, 1);
    sim_drain(&S, 2);
    sim_run(&S, S.now + 3000);
    CHECK_EQ_INT(swim__meta_set(S.nodes[3].s, S.now, "gone", NULL), SWIM_META_APPLIED);
    sim_drain(&S, 3);
    sim_run(&S, S.now + 3000);
    /* the joiner knows one member (node 0) and a stale value of "k" */
    int j = sim_add(&S, &c);
    REQUIRE(swim__add_initial(S.nodes[j].s, S.nodes[0].addr, S.nodes[0].pid) == 0);
    REQUIRE(swim__meta_add_initial(S.nodes[j].s, "k", "stale") == 0);
    REQUIRE(swim__meta_add_initial(S.nodes[j].s, "gone", "x") == 0);
    sim_start(&S, j, true);
    sim_run(&S, S.now + 50); /* one JOIN round trip */
    CHECK(swim__join_succeeded(S.nodes[j].s));
    CHECK_EQ_STR(swim__meta_get(S.nodes[j].s, "k"), "live");
    CHECK_EQ_STR(swim__meta_get(S.nodes[j].s, "init"), "file");
    CHECK(swim__meta_get(S.nodes[j].s, "gone") == NULL);
    CHECK_EQ_STR(last_seen[j], "live");
    sim_run(&S, S.now + 5000);
    CHECK_EQ_INT(count_value(&S, "k", "live"), N + 1);
    CHECK_EQ_INT(count_value(&S, "gone", NULL), N + 1);
    sim_free(&S);
}

/* 4. gossip lost to a partition: anti-entropy (the metadata is part of the
 * digest) repairs it after the heal, with no periodic push-pull */
static void test_anti_entropy(void)
{
    sim          S;
    swim__config c = test_cfg();
    c.sync_interval_ms      = 0;
    c.suspicion_timeout_ms  = 600000; /* nobody is declared dead meanwhile */
    c.suspicion_max_mult    = 1;
    const int N = 10;
    sim_init(&S, 14);
    reset_hooks(&S);
    full_group(&S, N, &c);
    sim_run(&S, 2000);
    for (int i = 0; i < N; i++) S.nodes[i].group = i < N / 2 ? 0 : 1;
    S.partitioned = true;
    CHECK_EQ_INT(swim__meta_set(S.nodes[0].s, S.now, "k", "left-side"), SWIM_META_APPLIED);
    sim_drain(&S, 0);
    sim_run(&S, S.now + 20000); /* the gossip runs out on side 0 */
    CHECK_EQ_INT(count_value(&S, "k", "left-side"), N / 2);
    S.partitioned = false;
    sim_run(&S, S.now + 30000);
    CHECK_EQ_INT(count_value(&S, "k", "left-side"), N);
    sim_free(&S);
}

/* node `to` receives a PING from node `from` carrying k="old" at version 1 */
static void stale_write(sim* S, int to, int from)
{
    swim__msg        m;
    swim__meta_entry e = {.key = "k", .value = "old", .origin = S->nodes[from].addr,
                          .version = 1, .origin_pid = S->nodes[from].pid};
    memset(&m, 0, sizeof m);
    m.kind        = SWIM_MSG_PING;
    m.sender_addr = S->nodes[from].addr;
    m.sender_pid  = S->nodes[from].pid;
    m.sender_inc  = 1;
    m.meta        = &e;
    m.nmeta       = 1;
    swim__handle_request(S->nodes[to].s, S->now, 999999, &m);
    swim__outbox_clear(swim__get_outbox(S->nodes[to].s));
}

/* 5. tombstones are dropped after tombstone_timeout_ms; limits */
static void test_tombstones_and_limits(void)
{
    sim          S;
    swim__config c = test_cfg();
    c.tombstone_timeout_ms = 5000;
    sim_init(&S, 15);
    reset_hooks(&S);
    full_group(&S, 4, &c);
    swim__t* s = S.nodes[0].s;
    CHECK_EQ_INT(swim__meta_set(s, S.now, "k", "v"), SWIM_META_APPLIED);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "k", NULL), SWIM_META_APPLIED);
    sim_drain(&S, 0);
    /* an older write heard late: the tombstone stops it... */
    stale_write(&S, 0, 1);
    CHECK(swim__meta_get(s, "k") == NULL);
    sim_run(&S, S.now + 20000);
    CHECK_EQ_INT(count_value(&S, "k", NULL), 4);
    /* ...until the tombstone expires (the documented limit) */
    stale_write(&S, 0, 1);
    CHECK_EQ_STR(swim__meta_get(s, "k"), "old");
    CHECK_EQ_INT(swim__meta_set(s, S.now, "k", NULL), SWIM_META_APPLIED);
    sim_drain(&S, 0);
    /* limits */
    char big[SWIM_META_MAX_VALUE + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(swim__meta_set(s, S.now, "big", big), SWIM_META_INVALID);
    big[SWIM_META_MAX_VALUE] = 0;
    CHECK_EQ_INT(swim__meta_set(s, S.now, "big", big), SWIM_META_APPLIED);
    char longkey[SWIM_META_MAX_KEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    CHECK_EQ_INT(swim__meta_set(s, S.now, longkey, "v"), SWIM_META_INVALID);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "", "v"), SWIM_META_INVALID);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "__config__", "{}"), SWIM_META_INVALID);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "bad\xff", "v"), SWIM_META_INVALID);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "k", "\xc0\x80"), SWIM_META_INVALID); /* overlong */
    CHECK_EQ_INT(swim__meta_set(s, S.now, "k", "caf\xc3\xa9"), SWIM_META_APPLIED);
    /* the total: 16 values of 4 KiB fill 64 KiB with the keys */
    int applied = 0;
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof key, "fill%02d", i);
        if (swim__meta_set(s, S.now, key, big) == SWIM_META_APPLIED) applied++;
    }
    CHECK(applied >= 13 && applied <= 15);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "one-more", big), SWIM_META_INVALID);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "fill00", NULL), SWIM_META_APPLIED);
    CHECK_EQ_INT(swim__meta_set(s, S.now, "one-more", big), SWIM_META_APPLIED);
    sim_drain(&S, 0);
    sim_run(&S, S.now + 10000);
    CHECK_EQ_INT(count_value(&S, "one-more", big), 4);
    sim_free(&S);
}

/* 6. the total order, as a table */
static void test_order(void)
{
    struct {
        uint64_t    va;
        const char *oa, *xa;
        uint16_t    pa;
        uint64_t    vb;
        const char *ob, *xb;
        uint16_t    pb;
        bool        a_newer;
    } t[] = {
        {2, "tcp://a", "x", 1, 1, "tcp://b", "y", 1, true},  /* version first */
        {1, "tcp://a", "x", 1, 2, "tcp://a", "x", 1, false},
        {3, "tcp://b", "x", 1, 3, "tcp://a", "y", 9, true},  /* then the origin address */
        {3, "tcp://a", "x", 2, 3, "tcp://a", "y", 1, true},  /* then the provider id */
        {3, "tcp://a", "y", 1, 3, "tcp://a", "x", 1, true},  /* then the value */
        {3, "tcp://a", NULL, 1, 3, "tcp://a", "x", 1, false}, /* a tombstone below a value */
        {0, "", "b", 0, 0, "", "a", 0, true},                /* two initial views */
        {1, "", NULL, 0, 0, "", "a", 0, true},
        {3, "tcp://a", "x", 1, 3, "tcp://a", "x", 1, false}, /* the same write */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        swim__meta_entry a = {.key = "k", .value = (char*)t[i].xa, .origin = (char*)t[i].oa,
                              .version = t[i].va, .origin_pid = t[i].pa};
        swim__meta_entry b = {.key = "k", .value = (char*)t[i].xb, .origin = (char*)t[i].ob,
                              .version = t[i].vb, .origin_pid = t[i].pb};
        if (swim__meta_newer(&a, &b) != t[i].a_newer) FT_FAIL("order row %zu", i);
        if (t[i].a_newer && swim__meta_newer(&b, &a)) FT_FAIL("order row %zu: not antisymmetric", i);
    }
}

int main(void)
{
    test_order();
    test_spread();
    test_concurrent();
    test_join_later();
    test_anti_entropy();
    test_tombstones_and_limits();
    return FT_DONE();
}
