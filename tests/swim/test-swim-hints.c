/*
 * test-swim-hints.c -- crash hints under the simulated network (virtual
 * time, so the times checked are exact protocol times, not machine speed):
 * a "process" (four members at one address) is killed: its peers' calls
 * are refused at once and some peers see their connections close
 * (swim__hint); every survivor declares its members dead within the hard
 * suspicion timeout plus dissemination (< 2 s with the bench's LAN timing
 * at N = 128). A live process whose connections merely closed answers the
 * hint probes: no suspicion. A stopped (SIGSTOP-like) process refuses
 * nothing: only the ordinary suspicion applies, and it refutes in time.
 * With crash_hints off, hints do nothing and refusals are plain failures.
 */
#include "flock-test.h"
#include "swim-sim.h"
#include "backends/swim/swim-math.h"

/* the bench's LAN timing (memberlist's) */
static swim__config lan_cfg(void)
{
    swim__config c;
    swim__config_default(&c);
    c.protocol_period_ms  = 1000;
    c.ping_timeout_ms     = 500;
    c.ping_req_timeout_ms = 500;
    c.suspicion_timeout_ms = 4000;
    c.suspicion_mult       = 4;
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

static int total_died(sim* S)
{
    int d = 0;
    for (int i = 0; i < S->n; i++) d += S->nodes[i].died_events;
    return d;
}

/* per observer: members of the killed process it declared dead */
static int    victim_deaths[SIM_MAX_NODES];
static int    victim_proc = -1;
static int    wrong_deaths;

static void on_event(sim* S, int obs, int type, const char* addr, uint16_t pid)
{
    if (type != SWIM_EV_DIED) return;
    int about = sim_find(S, addr, pid);
    if (about / 4 != victim_proc) {
        wrong_deaths++;
        return;
    }
    victim_deaths[obs]++;
}

static int all_declared(sim* S, int first_victim)
{
    int c = 0;
    for (int i = 0; i < S->n; i++)
        if (S->nodes[i].up && i / 4 != first_victim / 4 && victim_deaths[i] == 4) c++;
    return c;
}

/* kill process p (nodes 4p..4p+3) at S->now; `nhints` peers see their
 * connection close. Returns the time until every survivor declared all
 * four members dead (or -1). */
static double kill_process(sim* S, int p, int nhints, double limit)
{
    double t0 = S->now;
    victim_proc = p;
    memset(victim_deaths, 0, sizeof victim_deaths);
    for (int k = 0; k < 4; k++) S->nodes[4 * p + k].up = false;
    for (int h = 0, obs = 1; h < nhints; h++, obs = (obs + 7) % S->n)
        if (obs / 4 != p) sim_hint(S, obs, 4 * p);
    int survivors = 0;
    for (int i = 0; i < S->n; i++) survivors += S->nodes[i].up;
    while (S->now - t0 < limit) {
        sim_run(S, S->now + 50);
        if (all_declared(S, 4 * p) == survivors) return S->now - t0;
    }
    return -1;
}

/* 1. a killed process: every survivor declares it within 2 s (N = 128) */
static void test_kill(void)
{
    sim          S;
    swim__config c = lan_cfg();
    const int    N = 128;
    sim_init(&S, 21);
    S.refuse_down = true;
    S.on_event    = on_event;
    wrong_deaths  = 0;
    full_group(&S, N, &c);
    sim_run(&S, 20000);
    CHECK_EQ_INT(total_died(&S), 0);
    double t = kill_process(&S, 5, 16, 60000);
    printf("kill (N=%d, 16 peers see the connection close): all declared after %.0f ms\n", N, t);
    CHECK(t >= 0);
    CHECK(t < 2000);
    CHECK_EQ_INT(wrong_deaths, 0);
    CHECK_EQ_INT(total_died(&S), (N - 4) * 4);
    /* no hint at all: the probe round meets the refusals; hard suspicions
     * still end well before the ordinary minimum (4 x log10 N s) */
    double t2 = kill_process(&S, 9, 0, 60000);
    printf("kill without connection hints: all declared after %.0f ms\n", t2);
    CHECK(t2 >= 0);
    CHECK(t2 < 8000);
    CHECK_EQ_INT(wrong_deaths, 0);
    sim_free(&S);
}

/* 2. a live process whose connections merely closed: the hint probes are
 * answered, nobody suspects it (no refutation: incarnation stays 1) */
static void test_live_close(void)
{
    sim          S;
    swim__config c = lan_cfg();
    const int    N = 32;
    sim_init(&S, 22);
    S.refuse_down = true;
    full_group(&S, N, &c);
    sim_run(&S, 5000);
    for (int round = 0; round < 5; round++) {
        for (int obs = 0; obs < N; obs++)
            if (obs / 4 != 2) sim_hint(&S, obs, 8);
        sim_run(&S, S.now + 700);
    }
    sim_run(&S, S.now + 20000);
    CHECK_EQ_INT(total_died(&S), 0);
    for (int k = 8; k < 12; k++) CHECK_EQ_INT(swim__self_incarnation(S.nodes[k].s), 1);
    CHECK_EQ_INT(sim_count_view(&S, N), N);
    sim_free(&S);
}

/* 3. a stopped process refuses nothing: hints lead to ordinary (long)
 * suspicions, and it refutes once it resumes */
static void test_paused_not_hard(void)
{
    sim          S;
    swim__config c = lan_cfg();
    const int    N = 32;
    sim_init(&S, 23);
    S.refuse_down = true;
    full_group(&S, N, &c);
    sim_run(&S, 5000);
    for (int k = 12; k < 16; k++) S.nodes[k].paused = true;
    for (int obs = 0; obs < N; obs++)
        if (obs / 4 != 3) sim_hint(&S, obs, 12);
    sim_run(&S, S.now + 3000); /* > the hard timeout, < 4 x log10(32) s */
    for (int k = 12; k < 16; k++) S.nodes[k].paused = false;
    sim_run(&S, S.now + 30000);
    CHECK_EQ_INT(total_died(&S), 0);
    CHECK_EQ_INT(sim_count_view(&S, N), N);
    sim_free(&S);
}

/* 4. crash_hints off: hints are ignored, refusals are plain failures (the
 * ordinary suspicion: several seconds) */
static void test_hints_off(void)
{
    sim          S;
    swim__config c = lan_cfg();
    c.crash_hints  = false;
    const int N    = 32;
    sim_init(&S, 24);
    S.refuse_down = true;
    S.on_event    = on_event;
    wrong_deaths  = 0;
    full_group(&S, N, &c);
    sim_run(&S, 5000);
    double t = kill_process(&S, 1, 16, 120000);
    printf("crash_hints off: all declared after %.0f ms\n", t);
    CHECK(t > swim__suspicion_min_ms(4000, 4, N, 1000));
    CHECK_EQ_INT(wrong_deaths, 0);
    sim_free(&S);
}

/* 5. the hard timeout rule */
static void test_hard_rule(void)
{
    CHECK(swim__hard_suspicion_ms(500, 1000, 8400) == 1000);
    CHECK(swim__hard_suspicion_ms(800, 1000, 8400) == 1600);
    CHECK(swim__hard_suspicion_ms(200, 1000, 5000) == 1000);
    CHECK(swim__hard_suspicion_ms(500, 1000, 600) == 600); /* never above the minimum */
    CHECK(swim__hard_suspicion_ms(500 * 3, 1000 * 3, 8400) == 3000); /* local health scales it */
}

int main(void)
{
    test_hard_rule();
    test_kill();
    test_live_close();
    test_paused_not_hard();
    test_hints_off();
    return FT_DONE();
}
