/*
 * test-swim-sim.c -- the SWIM state machine under a simulated network and
 * clock: bootstrap, join with state exchange, crash detection, refutation,
 * O(log N) dissemination, tombstones, rejoin after being declared dead,
 * partition healing, Lifeguard (local health, dynamic suspicion, buddy).
 */
#include "flock-test.h"
#include "swim-sim.h"
#include "backends/swim/swim-math.h"

static swim__config test_cfg(void)
{
    swim__config c;
    swim__config_default(&c);
    return c;
}

/* No background traffic (gossip rounds, push-pull, reconnects,
 * anti-entropy): only probes, and what a test provokes, send messages. */
static void quiet(swim__config* c)
{
    c->gossip_interval_ms    = 0;
    c->sync_interval_ms      = 0;
    c->reconnect_interval_ms = 0;
    c->anti_entropy          = false;
}

/* N members that all start from the full view */
static void full_group(sim* S, int n, const swim__config* cfg)
{
    for (int i = 0; i < n; i++) sim_add(S, cfg);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            REQUIRE(swim__add_initial(S->nodes[i].s, S->nodes[j].addr, S->nodes[j].pid) == 0);
    for (int i = 0; i < n; i++) sim_start(S, i, false);
}

static int total_died(sim* S)
{
    int d = 0;
    for (int i = 0; i < S->n; i++) d += S->nodes[i].died_events;
    return d;
}

/* make m a PING from `from` (incarnation 1) carrying the n entries e (m
 * takes them; their strings may already be kept by m) */
static void as_ping_from(swim__msg* m, const sim_node* from, swim__entry* e, uint32_t n)
{
    m->kind        = SWIM_MSG_PING;
    m->sender_addr = strdup(from->addr);
    REQUIRE(m->sender_addr);
    m->sender_pid = from->pid;
    m->sender_inc = 1;
    m->gossip     = e;
    m->ngossip    = n;
}

/* 1. a stable group stays stable: no suspicion ends in a death */
static void test_stable(void)
{
    sim S;
    sim_init(&S, 1);
    swim__config c = test_cfg();
    full_group(&S, 32, &c);
    sim_run(&S, 20000);
    uint64_t syncs0 = S.syncs;
    sim_run(&S, 120000);
    /* views agree: only the periodic 30 s push-pull, no mismatch repairs */
    if (S.syncs - syncs0 > 32 * 4 + 8)
        FT_FAIL("%llu state exchanges in 100 s of a stable group",
                (unsigned long long)(S.syncs - syncs0));
    CHECK_EQ_INT(sim_count_view(&S, 32), 32);
    CHECK_EQ_INT(total_died(&S), 0);
    /* the periodic anti-entropy costs what differs: digests agree, so only
     * every 10th round (a full push-pull, 2 x 32 entries) carries a state */
    uint64_t e0 = S.state_entries;
    sim_run(&S, 420000); /* 300 s: ~10 rounds per member */
    uint64_t full = S.state_entries - e0;
    printf("stable: %llu state entries in 300 s (32 members)\n", (unsigned long long)full);
    CHECK(full <= (32 * 10 / 10 + 8) * 2 * 32);
    CHECK(full >= 2 * 32); /* the full push-pulls still run */
    CHECK_EQ_INT(total_died(&S), 0);
    /* steady state: about one ping + ack per member per period */
    double per = (double)S.msgs / 32 / 420.0;
    CHECK(per > 1.0 && per < 6.0);
    sim_free(&S);
}

/* 2. bootstrap from one seed; a late joiner learns everything from the
 *    state exchange with the member it joins through */
static void test_join_seed(void)
{
    sim S;
    sim_init(&S, 2);
    swim__config c = test_cfg();
    const int    N = 64;
    for (int i = 0; i < N; i++) sim_add(&S, &c);
    sim_start(&S, 0, false);
    for (int i = 1; i < N; i++) {
        REQUIRE(swim__add_initial(S.nodes[i].s, S.nodes[0].addr, S.nodes[0].pid) == 0);
        sim_start(&S, i, true);
    }
    double t = 0;
    while (sim_count_view(&S, N) < N && t < 60000) {
        t += 100;
        sim_run(&S, t);
    }
    CHECK_EQ_INT(sim_count_view(&S, N), N);
    printf("join-seed: all %d see %d after %.1f s (virtual)\n", N, N, t / 1000);
    CHECK(t <= 10000); /* virtual time: well within a few periods */
    CHECK_EQ_INT(total_died(&S), 0);

    /* late joiner through member 5 (not the seed) */
    int j = sim_add(&S, &c);
    REQUIRE(swim__add_initial(S.nodes[j].s, S.nodes[5].addr, S.nodes[5].pid) == 0);
    sim_start(&S, j, true);
    sim_run(&S, S.now + 10); /* one round trip */
    CHECK(swim__join_succeeded(S.nodes[j].s));
    CHECK_EQ_INT(swim__view_size(S.nodes[j].s), N + 1);
    sim_run(&S, S.now + 10000);
    CHECK_EQ_INT(sim_count_view(&S, N + 1), N + 1);
    sim_free(&S);
}

/* 2b. a JOIN that times out (a busy or stopped member) is announced again
 *     with a doubled call timeout until join_timeout_ms; a refusal ends the
 *     join at once */
static void join_with_seed_paused(double pause_ms, double join_timeout_ms, bool* ok,
                                  double* settled_at)
{
    sim S;
    sim_init(&S, 31);
    swim__config c    = test_cfg();
    c.join_timeout_ms = join_timeout_ms;
    sim_add(&S, &c);
    int j = sim_add(&S, &c);
    sim_start(&S, 0, false);
    REQUIRE(swim__add_initial(S.nodes[j].s, S.nodes[0].addr, S.nodes[0].pid) == 0);
    S.nodes[0].paused = true;
    sim_start(&S, j, true);
    *settled_at = -1;
    while (S.now < 30000) {
        if (S.now >= pause_ms) S.nodes[0].paused = false;
        sim_run(&S, S.now + 50);
        if (*settled_at < 0 && swim__join_settled(S.nodes[j].s)) *settled_at = S.now;
    }
    *ok = swim__join_succeeded(S.nodes[j].s);
    if (*ok) CHECK_EQ_INT(swim__view_size(S.nodes[0].s), 2);
    sim_free(&S);
}

static void test_join_retry(void)
{
    bool   ok;
    double at;
    /* rounds at 0 (1 s), 1 s (2 s), 3 s (4 s): the third is answered */
    join_with_seed_paused(1500, 10000, &ok, &at);
    CHECK(ok);
    CHECK(at >= 2900 && at <= 3500);
    /* a member stopped past the join timeout: the join fails, in time */
    /* (rounds at 0 for 1 s and at 1 s for the 1.5 s left) */
    join_with_seed_paused(60000, 2500, &ok, &at);
    CHECK(!ok);
    CHECK(at >= 2400 && at <= 2800);
    /* nobody at the address: refused, no second round */
    sim S;
    sim_init(&S, 32);
    swim__config c = test_cfg();
    sim_add(&S, &c);
    int j = sim_add(&S, &c);
    REQUIRE(swim__add_initial(S.nodes[j].s, S.nodes[0].addr, S.nodes[0].pid) == 0);
    S.nodes[0].up = false;
    S.refuse_down = true;
    sim_start(&S, j, true);
    sim_run(&S, 100);
    CHECK(swim__join_settled(S.nodes[j].s));
    CHECK(!swim__join_succeeded(S.nodes[j].s));
    sim_free(&S);
}

/* 3. a crash is detected by every survivor, and only the crashed member dies */
static void test_crash(void)
{
    sim S;
    sim_init(&S, 3);
    swim__config c = test_cfg();
    const int    N = 40;
    full_group(&S, N, &c);
    sim_run(&S, 5000);
    int victim           = 17;
    S.nodes[victim].up   = false;
    double t0            = S.now;
    double t             = t0;
    bool   all           = false;
    while (!all && t < t0 + 120000) {
        t += 100;
        sim_run(&S, t);
        all = true;
        for (int i = 0; i < N; i++)
            if (i != victim && sim_status(&S, i, victim) != 3) all = false;
    }
    CHECK(all);
    printf("crash: all %d survivors declared it dead after %.1f s\n", N - 1, (t - t0) / 1000);
    CHECK_EQ_INT(total_died(&S), N - 1);
    /* Lifeguard: with confirmations the timeout shrinks to about the minimum
     * (5 s), far below the 30 s maximum */
    CHECK(t - t0 < 25000);
    sim_free(&S);
}

/* 4. a member stopped for less than the suspicion window refutes and is
 *    never removed; its incarnation grew */
static void test_pause_refute(void)
{
    sim S;
    sim_init(&S, 4);
    swim__config c = test_cfg();
    const int    N = 16;
    full_group(&S, N, &c);
    sim_run(&S, 5000);
    int v = 3;
    S.nodes[v].paused = true;
    sim_run(&S, S.now + 3500); /* < 5 s minimum suspicion timeout */
    int suspected = 0;
    for (int i = 0; i < N; i++)
        if (i != v && sim_status(&S, i, v) == 2) suspected++;
    CHECK(suspected > 0);
    S.nodes[v].paused = false;
    sim_run(&S, S.now + 30000);
    CHECK_EQ_INT(total_died(&S), 0);
    CHECK_EQ_INT(sim_count_view(&S, N), N);
    CHECK(swim__self_incarnation(S.nodes[v].s) > 1);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(sim_status(&S, i, v), 1);
    sim_free(&S);
}

/* 5. dissemination within O(log N) periods, gossip carried by probes only */
static int leave_seen;
static void count_left(sim* S, int obs, int type, const char* addr, uint16_t pid)
{
    if (type == SWIM_EV_LEFT) leave_seen++;
}

static void test_dissemination(void)
{
    sim S;
    sim_init(&S, 5);
    swim__config c       = test_cfg();
    c.gossip_interval_ms = 0; /* piggyback only */
    c.sync_interval_ms   = 0;
    const int N          = 128;
    full_group(&S, N, &c);
    sim_run(&S, 3000);
    S.on_event = count_left;
    leave_seen = 0;
    double t0  = S.now;
    swim__leave(S.nodes[0].s, S.now);
    sim_drain(&S, 0);
    double t = t0;
    while (leave_seen < N - 1 && t < t0 + 60000) {
        t += 50;
        sim_run(&S, t);
    }
    CHECK_EQ_INT(leave_seen, N - 1);
    double periods = (t - t0) / c.protocol_period_ms;
    printf("dissemination (piggyback only): leave seen by %d in %.1f periods\n", N - 1, periods);
    unsigned bound = 2 * swim__bit_length(N); /* 2 log2 N periods */
    if (periods > bound) FT_FAIL("leave took %.1f periods > %u", periods, bound);
    S.nodes[0].up = false;

    /* with the dedicated gossip interval (default), a leave reaches all in < 1 s */
    sim S2;
    sim_init(&S2, 55);
    swim__config c2 = test_cfg();
    full_group(&S2, N, &c2);
    sim_run(&S2, 3000);
    S2.on_event = count_left;
    leave_seen  = 0;
    t0          = S2.now;
    swim__leave(S2.nodes[9].s, S2.now);
    sim_drain(&S2, 9);
    sim_run(&S2, t0 + 1000);
    CHECK_EQ_INT(leave_seen, N - 1);
    sim_free(&S2);
    sim_free(&S);
}

/* 6. tombstones: stale ALIVE/JOIN gossip does not resurrect a dead member */
static void test_tombstones(void)
{
    sim S;
    sim_init(&S, 6);
    swim__config c = test_cfg();
    const int    N = 8;
    full_group(&S, N, &c);
    sim_run(&S, 3000);
    S.nodes[7].up = false;
    sim_run(&S, S.now + 60000);
    REQUIRE(sim_status(&S, 0, 7) == 3);
    uint64_t inc = 0;
    swim__member_status(S.nodes[0].s, S.nodes[7].addr, S.nodes[7].pid, &inc);
    /* craft stale gossip from member 1 to member 0 */
    swim__msg    m = {0};
    swim__entry* e = calloc(2, sizeof *e);
    REQUIRE(e);
    e[0].type    = SWIM_E_ALIVE;
    e[0].addr    = swim__msg_keep(&m, S.nodes[7].addr);
    e[0].pid     = S.nodes[7].pid;
    e[0].inc     = inc;
    e[1]         = e[0];
    e[1].type    = SWIM_E_JOIN;
    as_ping_from(&m, &S.nodes[1], e, 2);
    int joined0   = S.nodes[0].joined_events;
    swim__handle_request(S.nodes[0].s, S.now, 999999, &m);
    swim__outbox_clear(swim__get_outbox(S.nodes[0].s));
    CHECK_EQ_INT(sim_status(&S, 0, 7), 3);
    CHECK_EQ_INT(S.nodes[0].joined_events, joined0);
    /* a higher incarnation does bring it back (a genuine rejoin) */
    m.gossip[0].inc = inc + 1;
    m.ngossip       = 1;
    swim__handle_request(S.nodes[0].s, S.now, 999999, &m);
    swim__outbox* o = swim__get_outbox(S.nodes[0].s);
    int           joined = 0;
    for (size_t k = 0; k < o->nevents; k++) joined += o->events[k].type == SWIM_EV_JOINED;
    CHECK_EQ_INT(joined, 1);
    swim__outbox_clear(o);
    CHECK_EQ_INT(sim_status(&S, 0, 7), 1);
    m.ngossip = 2;
    swim__msg_clear(&m);
    sim_free(&S);
}

/* 7. a member wrongly declared dead learns it, rejoins with a higher
 *    incarnation (and logs it); and a partition heals */
static void test_partition_heal(void)
{
    sim S;
    sim_init(&S, 7);
    swim__config c = test_cfg();
    const int    N = 24;
    full_group(&S, N, &c);
    sim_run(&S, 3000);
    for (int i = 0; i < N; i++) S.nodes[i].group = i < N / 2 ? 0 : 1;
    S.partitioned = true;
    sim_run(&S, S.now + 90000);
    /* each side declared the other dead */
    CHECK_EQ_INT(sim_status(&S, 0, N - 1), 3);
    CHECK_EQ_INT(sim_status(&S, N - 1, 0), 3);
    CHECK_EQ_INT(swim__view_size(S.nodes[0].s), N / 2);
    S.partitioned = false;
    double t0 = S.now, t = t0;
    while (sim_count_view(&S, N) < N && t < t0 + 120000) {
        t += 500;
        sim_run(&S, t);
    }
    CHECK_EQ_INT(sim_count_view(&S, N), N);
    printf("partition: healed %.1f s after the network was repaired\n", (t - t0) / 1000);
    int logs = 0;
    for (int i = 0; i < N; i++) logs += S.nodes[i].declared_dead_self_logs;
    CHECK(logs > 0);
    for (int i = 0; i < N; i++) CHECK(swim__self_incarnation(S.nodes[i].s) > 1);
    sim_free(&S);
}

/* 8. Lifeguard local health: an isolated member's score rises (stretching its
 *    probe interval) and recovers when it is reachable again */
static void test_local_health(void)
{
    sim S;
    sim_init(&S, 8);
    swim__config c = test_cfg();
    const int    N = 8;
    full_group(&S, N, &c);
    sim_run(&S, 3000);
    CHECK_EQ_INT(swim__local_health(S.nodes[2].s), 0);
    for (int i = 0; i < N; i++) S.nodes[i].group = i == 2 ? 1 : 0;
    S.partitioned = true;
    sim_run(&S, S.now + 8000);
    int h = swim__local_health(S.nodes[2].s);
    CHECK(h > 0);
    CHECK(h <= 7);
    S.partitioned = false;
    sim_run(&S, S.now + 120000);
    CHECK_EQ_INT(swim__local_health(S.nodes[2].s), 0);
    CHECK_EQ_INT(sim_count_view(&S, N), N);

    /* with local health off the score never moves */
    sim S2;
    sim_init(&S2, 9);
    swim__config c2           = test_cfg();
    c2.lifeguard_local_health = false;
    full_group(&S2, N, &c2);
    for (int i = 0; i < N; i++) S2.nodes[i].group = i == 2 ? 1 : 0;
    S2.partitioned = true;
    sim_run(&S2, 8000);
    CHECK_EQ_INT(swim__local_health(S2.nodes[2].s), 0);
    sim_free(&S2);
    sim_free(&S);
}

/* 9. dynamic suspicion: without confirmations a suspicion lasts the max;
 *    the fixed timeout applies when Lifeguard suspicion is off */
static void test_dynamic_suspicion(void)
{
    const int N = 16;
    for (int mode = 0; mode < 2; mode++) {
        sim S;
        sim_init(&S, 10 + mode);
        swim__config c        = test_cfg();
        c.lifeguard_suspicion = mode == 1;
        full_group(&S, N, &c);
        sim_run(&S, 3000);
        S.nodes[5].up = false;
        double t0 = S.now, t = t0, first = -1;
        while (t < t0 + 200000) {
            t += 100;
            sim_run(&S, t);
            if (first < 0 && total_died(&S) > 0) first = t - t0;
            if (total_died(&S) == N - 1) break;
        }
        CHECK_EQ_INT(total_died(&S), N - 1);
        printf("suspicion (%s): first death %.1f s, all %.1f s\n", mode ? "dynamic" : "fixed",
               first / 1000, (t - t0) / 1000);
        /* fixed: ~5 s after suspicion; dynamic: confirmations pull it toward 5 s
         * but never below */
        CHECK(first >= 5000);
        if (mode == 0) CHECK(t - t0 < 5000 + 25000);
        sim_free(&S);
    }
}

/* 9b. the dynamic timeout, exactly: max with one suspector, shrinking with
 *     each independent confirmation (log-scaled), min after k; duplicates
 *     do not count */
static void suspect_from(swim__t* s, const sim_node* about, const sim_node* from, double now)
{
    swim__msg    m = {0};
    swim__entry* e = calloc(1, sizeof *e);
    REQUIRE(e);
    e->type       = SWIM_E_SUSPECT;
    e->addr       = swim__msg_keep(&m, about->addr);
    e->pid        = about->pid;
    e->inc        = 1;
    e->from_addr  = swim__msg_keep(&m, from->addr);
    e->from_pid   = from->pid;
    as_ping_from(&m, from, e, 1);
    swim__handle_request(s, now, 1, &m);
    swim__outbox_clear(swim__get_outbox(s));
    swim__msg_clear(&m);
}

static void test_suspicion_deadlines(void)
{
    sim S;
    sim_init(&S, 12);
    swim__config c          = test_cfg();
    c.protocol_period_ms    = 1e9; /* keep probes out of the deadlines */
    quiet(&c);
    full_group(&S, 16, &c);
    swim__t* s = S.nodes[0].s;
    /* start() jitters the first probe within one period: push it away */
    REQUIRE(swim__next_deadline(s) > 1e6);
    /* the machine wakes a ping timeout before each deadline for the
     * last-chance check (buddy system on) */
    long long L = (long long)c.ping_timeout_ms;
    suspect_from(s, &S.nodes[5], &S.nodes[1], 0);
    CHECK_EQ_INT(sim_status(&S, 0, 5), 2);
    CHECK_EQ_INT((long long)swim__next_deadline(s), 30000 - L); /* max = 6 x 5000 */
    suspect_from(s, &S.nodes[5], &S.nodes[1], 100);              /* same suspector */
    CHECK_EQ_INT((long long)swim__next_deadline(s), 30000 - L);
    suspect_from(s, &S.nodes[5], &S.nodes[2], 200);
    CHECK_EQ_INT((long long)swim__next_deadline(s), 14226 - L); /* floor(30000 - log2/log3 * 25000) */
    suspect_from(s, &S.nodes[5], &S.nodes[3], 300);
    CHECK_EQ_INT((long long)swim__next_deadline(s), 5000 - L);
    suspect_from(s, &S.nodes[5], &S.nodes[4], 400); /* beyond k: stays at min */
    CHECK_EQ_INT((long long)swim__next_deadline(s), 5000 - L);
    /* the check goes out (one ping to the suspect), then the deadline */
    swim__tick(s, 5000 - L);
    swim__outbox* oc = swim__get_outbox(s);
    CHECK_EQ_INT((long long)oc->nsends, 1);
    if (oc->nsends == 1) {
        CHECK(strcmp(oc->sends[0].addr, S.nodes[5].addr) == 0);
        CHECK_EQ_INT(oc->sends[0].msg.kind, SWIM_MSG_PING);
    }
    swim__outbox_clear(oc);
    CHECK_EQ_INT((long long)swim__next_deadline(s), 5000);
    swim__tick(s, 4999);
    CHECK_EQ_INT(sim_status(&S, 0, 5), 2);
    swim__tick(s, 5000);
    CHECK_EQ_INT(sim_status(&S, 0, 5), 3);
    swim__outbox* o    = swim__get_outbox(s);
    int           died = 0;
    for (size_t k = 0; k < o->nevents; k++) died += o->events[k].type == SWIM_EV_DIED;
    CHECK_EQ_INT(died, 1);
    swim__outbox_clear(o);
    /* Lifeguard off: the fixed timeout, whatever the confirmations */
    sim S2;
    sim_init(&S2, 13);
    c.lifeguard_suspicion = false;
    full_group(&S2, 16, &c);
    suspect_from(S2.nodes[0].s, &S2.nodes[5], &S2.nodes[1], 0);
    CHECK_EQ_INT((long long)swim__next_deadline(S2.nodes[0].s), 5000 - L);
    sim_free(&S2);
    sim_free(&S);
}

/* 10. buddy system: the suspect hears of the suspicion directly */
static void test_buddy(void)
{
    for (int buddy = 0; buddy < 2; buddy++) {
        sim S;
        sim_init(&S, 20 + buddy);
        swim__config c       = test_cfg();
        c.lifeguard_buddy    = buddy == 1;
        c.gossip_interval_ms = 0; /* make the piggyback path the only one */
        full_group(&S, 6, &c);
        sim_run(&S, 3000);
        S.nodes[1].paused = true;
        /* paused until a member suspects it (which member probes it first,
         * and when, depends on the shuffled probe orders) */
        double until = S.now + 10000;
        bool   suspected = false;
        while (!suspected && S.now < until) {
            sim_run(&S, S.now + 100);
            for (int i = 0; i < 6; i++)
                if (i != 1 && sim_status(&S, i, 1) == 2) suspected = true;
        }
        CHECK(suspected);
        S.nodes[1].paused = false;
        sim_run(&S, S.now + 40000);
        CHECK_EQ_INT(total_died(&S), 0);
        CHECK(swim__self_incarnation(S.nodes[1].s) > 1);
        sim_free(&S);
    }
}

/* 10b. last-chance check: a member that alone holds a suspicion of a live
 * member (it missed the refutation) pings the suspect before the deadline
 * and learns the refutation from the ack, instead of declaring it dead;
 * without the buddy system it declares it dead at the deadline. A dead
 * suspect is still declared at the deadline. */
static void test_last_chance(void)
{
    for (int buddy = 0; buddy < 2; buddy++) {
        for (int alive = 0; alive < 2; alive++) {
            sim S;
            sim_init(&S, 50 + 2 * buddy + alive);
            swim__config c          = test_cfg();
            c.lifeguard_buddy       = buddy == 1;
            c.protocol_period_ms    = 1e9; /* no probes: only the check talks */
            quiet(&c);
            full_group(&S, 8, &c);
            if (!alive) S.nodes[5].up = false;
            suspect_from(S.nodes[0].s, &S.nodes[5], &S.nodes[1], S.now);
            double t0 = S.now;
            sim_run(&S, t0 + 40000);
            bool spared = buddy && alive;
            CHECK_EQ_INT(sim_status(&S, 0, 5), spared ? 1 : 3);
            CHECK_EQ_INT(S.nodes[0].died_events, spared ? 0 : 1);
            if (spared) CHECK(swim__self_incarnation(S.nodes[5].s) > 1);
            sim_free(&S);
        }
    }
}

/* 10c. a suspicion heard through gossip makes the suspect the target of
 * the member's next probe (its confirmation or its refutation comes within
 * a period instead of after ~N periods of round-robin); with the dynamic
 * suspicion off the order is unchanged */
static void test_probe_suspect_first(void)
{
    for (int lg = 0; lg < 2; lg++) {
        int hits = 0;
        for (int trial = 0; trial < 8; trial++) {
            sim S;
            sim_init(&S, 70 + 10 * lg + trial);
            swim__config c          = test_cfg();
            c.lifeguard_suspicion   = lg == 1;
            quiet(&c);
            full_group(&S, 32, &c);
            swim__t* s = S.nodes[0].s;
            suspect_from(s, &S.nodes[7], &S.nodes[1], S.now);
            CHECK_EQ_INT(sim_status(&S, 0, 7), 2);
            double t = swim__next_deadline(s);
            swim__tick(s, t); /* the first probe round */
            swim__outbox* o = swim__get_outbox(s);
            for (size_t k = 0; k < o->nsends; k++)
                if (o->sends[k].msg.kind == SWIM_MSG_PING &&
                    strcmp(o->sends[k].addr, S.nodes[7].addr) == 0)
                    hits++;
            swim__outbox_clear(o);
            sim_free(&S);
        }
        if (lg)
            CHECK_EQ_INT(hits, 8);
        else
            CHECK(hits <= 2); /* round-robin over 31 members: rarely the suspect */
    }
}

/* 11. any ping_req_members value is safe; garbage entries are ignored */
static void test_hostile_values(void)
{
    long long vals[] = {-5, 0, 1, 1000000, INT64_MAX};
    for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
        sim S;
        sim_init(&S, 30 + v);
        swim__config c     = test_cfg();
        c.ping_req_members = vals[v];
        full_group(&S, 10, &c);
        sim_run(&S, 3000);
        S.nodes[4].up = false;
        sim_run(&S, 120000);
        CHECK(sim_status(&S, 0, 4) == 3 || sim_status(&S, 0, 4) == 0);
        CHECK_EQ_INT(S.nodes[0].died_events, 1);
        sim_free(&S);
    }
    sim S;
    sim_init(&S, 40);
    swim__config c = test_cfg();
    full_group(&S, 3, &c);
    swim__msg    m = {0};
    swim__entry* e = calloc(4, sizeof *e);
    REQUIRE(e);
    e[0].type = 99; /* unknown type */
    e[0].addr = swim__msg_keep(&m, "sim://x");
    e[1].type = SWIM_E_ALIVE; /* no address */
    e[2].type = SWIM_E_SUSPECT;
    e[2].addr = swim__msg_keep(&m, S.nodes[1].addr);
    e[2].pid  = S.nodes[1].pid;
    e[2].inc  = 1; /* from_addr missing: still a valid suspicion */
    e[3].type = SWIM_E_ALIVE;
    e[3].addr = ""; /* empty */
    m.kind    = SWIM_MSG_PING_REQ; /* no target */
    m.gossip  = e;
    m.ngossip = 4;
    swim__handle_request(S.nodes[0].s, 0, 1, &m);
    swim__outbox* o = swim__get_outbox(S.nodes[0].s);
    CHECK_EQ_INT(o->nreplies, 1);
    CHECK_EQ_INT(o->nevents, 0);
    CHECK_EQ_INT(sim_status(&S, 0, 1), 2);
    swim__outbox_clear(o);
    swim__msg_clear(&m);
    sim_free(&S);
}

/* 17. the bucketed push-pull (views of SWIM_DIFF_MIN_VIEW members or more):
 *     after a partition in which one side learned three joiners and a
 *     metadata write and its gossip ran out, the bucketed exchanges alone
 *     (no full push-pull: the periodic one is off) bring every member the
 *     joiners and the write, moving a fraction of the view per exchange */
static void test_bucketed_sync(void)
{
    static sim S; /* large: SIM_MAX_NODES nodes */
    sim_init(&S, 17);
    swim__config c         = test_cfg();
    c.sync_interval_ms     = 0;
    c.suspicion_timeout_ms = 600000; /* nobody is declared dead meanwhile */
    c.suspicion_max_mult   = 1;
    const int N            = (int)SWIM_DIFF_MIN_VIEW + 44;
    full_group(&S, N, &c);
    sim_run(&S, 3000);
    for (int i = 0; i < N; i++) S.nodes[i].group = i < N / 2 ? 0 : 1;
    S.partitioned = true;
    for (int k = 0; k < 3; k++) { /* three joiners on side 0 */
        int j = sim_add(&S, &c);
        S.nodes[j].group = 0;
        REQUIRE(swim__add_initial(S.nodes[j].s, S.nodes[0].addr, S.nodes[0].pid) == 0);
        sim_start(&S, j, true);
    }
    CHECK_EQ_INT(swim__meta_set(S.nodes[1].s, S.now, "rack", "r7"), SWIM_META_APPLIED);
    sim_drain(&S, 1);
    sim_run(&S, S.now + 30000); /* the gossip runs out on side 0 */
    CHECK_EQ_INT(sim_count_view(&S, N + 3), N / 2 + 3);
    uint64_t syncs0 = S.syncs, diffs0 = S.diffs, pushes0 = S.pushes;
    uint64_t entries0 = S.bucket_entries;
    S.partitioned     = false;
    double t          = S.now;
    while (sim_count_view(&S, N + 3) < N + 3 && S.now < t + 60000) sim_run(&S, S.now + 500);
    CHECK_EQ_INT(sim_count_view(&S, N + 3), N + 3);
    sim_run(&S, S.now + 10000);
    int have = 0;
    for (int i = 0; i < S.n; i++) {
        const char* v = swim__meta_get(S.nodes[i].s, "rack");
        have += v && strcmp(v, "r7") == 0;
    }
    CHECK_EQ_INT(have, N + 3);
    uint64_t diffs = S.diffs - diffs0, entries = S.bucket_entries - entries0;
    printf("bucketed sync: all %d see %d after %.1f s; %llu DIFFs, %llu PUSHes, "
           "%.1f entries each\n", N + 3, N + 3, (S.now - t) / 1000, (unsigned long long)diffs,
           (unsigned long long)(S.pushes - pushes0), diffs ? (double)entries / diffs : 0.0);
    CHECK_EQ_INT(S.syncs - syncs0, 0); /* no full push-pull */
    CHECK(diffs > 0 && S.pushes > pushes0);
    CHECK(entries < diffs * (uint64_t)N / 4); /* a full push-pull moves 2 N */
    CHECK_EQ_INT(total_died(&S), 0);
    sim_free(&S);
}

/* does the answer to a PING that says (size, digest) carry news of addr? */
static bool ack_carries(sim* S, int to, int from, uint64_t size, uint64_t digest,
                        const char* addr)
{
    swim__msg p = {0};
    as_ping_from(&p, &S->nodes[from], NULL, 0);
    p.sender_view_size   = (uint32_t)size;
    p.sender_view_digest = (uint32_t)digest;
    swim__handle_request(S->nodes[to].s, S->now, 4242, &p);
    swim__msg_clear(&p);
    swim__outbox* o     = swim__get_outbox(S->nodes[to].s);
    bool          found = false;
    REQUIRE(o->nreplies == 1);
    for (uint32_t k = 0; k < o->replies[0].msg.ngossip; k++)
        found |= strcmp(o->replies[0].msg.gossip[k].addr, addr) == 0;
    swim__outbox_clear(o);
    return found;
}

/* 18. the news that a member entered the view is not sent to a peer whose
 *     view (as it reports it) equals ours; it is to any other, and it
 *     stops after the same number of transmissions either way */
static void test_peer_has_view(void)
{
    sim S;
    sim_init(&S, 18);
    swim__config c = test_cfg();
    quiet(&c);
    full_group(&S, 4, &c);
    sim_run(&S, 3000);
    swim__t* s0 = S.nodes[0].s;
    /* member 1 tells member 0 of a newcomer */
    swim__msg    m = {0};
    swim__entry* e = calloc(1, sizeof *e);
    REQUIRE(e);
    e->type       = SWIM_E_ALIVE;
    e->addr       = swim__msg_keep(&m, "sim://newcomer");
    e->pid        = 1;
    e->inc        = 1;
    as_ping_from(&m, &S.nodes[1], e, 1);
    swim__handle_request(s0, S.now, 4241, &m);
    swim__outbox_clear(swim__get_outbox(s0));
    swim__msg_clear(&m);
    CHECK_EQ_INT(swim__view_size(s0), 5);
    /* a peer with our view: not told; a peer with another view: told */
    CHECK(!ack_carries(&S, 0, 2, 5, swim__view_digest(s0), "sim://newcomer"));
    CHECK(ack_carries(&S, 0, 3, 4, swim__view_digest(s0), "sim://newcomer"));
    CHECK(ack_carries(&S, 0, 3, 5, swim__view_digest(s0) ^ 1, "sim://newcomer"));
    /* the skipped answers count: the news runs out as if each were sent */
    unsigned limit = swim__retransmit_limit(c.gossip_retransmit_mult, 5);
    int      told  = 0;
    for (unsigned k = 0; k < 2 * limit; k++) {
        bool same = k % 2 == 0;
        told += ack_carries(&S, 0, same ? 2 : 3, 5, swim__view_digest(s0) ^ (same ? 0 : 1),
                            "sim://newcomer");
    }
    CHECK(told > 0 && told < (int)limit);
    CHECK(!ack_carries(&S, 0, 3, 4, swim__view_digest(s0), "sim://newcomer"));
    sim_free(&S);
}

int main(void)
{
    test_stable();
    test_join_seed();
    test_join_retry();
    test_crash();
    test_pause_refute();
    test_dissemination();
    test_tombstones();
    test_partition_heal();
    test_local_health();
    test_dynamic_suspicion();
    test_suspicion_deadlines();
    test_buddy();
    test_last_chance();
    test_probe_suspect_first();
    test_hostile_values();
    test_bucketed_sync();
    test_peer_has_view();
    return FT_DONE();
}
