/* test-swim-rules.c -- table tests of the membership precedence rules and
 * the small protocol decisions the state machine takes from swim-math.h
 * (entry verdicts, refutation, probe-failure health delta, gossip feedback,
 * anti-entropy thresholds, last-chance check lead). */
#include "flock-test.h"
#include "backends/swim/swim-core.h"
#include "backends/swim/swim-math.h"

#include <math.h>

enum { A = SWIM_E_ALIVE, S = SWIM_E_SUSPECT, C = SWIM_E_CONFIRM, J = SWIM_E_JOIN,
       L = SWIM_E_LEAVE };
enum { UNK = SWIM_ST_UNKNOWN, ALV = SWIM_ST_ALIVE, SUS = SWIM_ST_SUSPECT, DED = SWIM_ST_DEAD,
       LFT = SWIM_ST_LEFT };

static void test_entry_verdict(void)
{
    struct { int type; uint64_t inc; int status; uint64_t cur; int want; } t[] = {
        /* unknown member: ALIVE/JOIN add it, CONFIRM/LEAVE a tombstone, SUSPECT nothing */
        {A, 1, UNK, 0, SWIM_V_ALIVE},     {J, 1, UNK, 0, SWIM_V_ALIVE},
        {C, 1, UNK, 0, SWIM_V_TOMBSTONE}, {L, 7, UNK, 0, SWIM_V_TOMBSTONE},
        {S, 1, UNK, 0, SWIM_V_IGNORE},    {9, 1, UNK, 0, SWIM_V_IGNORE},
        /* ALIVE(i) overrides ALIVE/SUSPECT(j) and tombstones iff i > j */
        {A, 2, ALV, 1, SWIM_V_ALIVE},  {A, 1, ALV, 1, SWIM_V_IGNORE}, {A, 0, ALV, 1, SWIM_V_IGNORE},
        {A, 2, SUS, 1, SWIM_V_ALIVE},  {A, 1, SUS, 1, SWIM_V_IGNORE},
        {J, 2, DED, 1, SWIM_V_ALIVE},  {J, 1, DED, 1, SWIM_V_IGNORE},
        {A, 5, LFT, 4, SWIM_V_ALIVE},  {A, 4, LFT, 4, SWIM_V_IGNORE},
        /* SUSPECT(i) overrides ALIVE(j) iff i >= j; same suspicion -> CONFIRM */
        {S, 1, ALV, 1, SWIM_V_SUSPECT}, {S, 2, ALV, 1, SWIM_V_SUSPECT},
        {S, 0, ALV, 1, SWIM_V_IGNORE},  {S, 2, SUS, 1, SWIM_V_SUSPECT},
        {S, 1, SUS, 1, SWIM_V_CONFIRM}, {S, 0, SUS, 1, SWIM_V_IGNORE},
        {S, 9, DED, 1, SWIM_V_IGNORE},  {S, 9, LFT, 1, SWIM_V_IGNORE},
        /* DEAD/LEFT(i) override ALIVE/SUSPECT(j) iff i >= j; a tombstone iff i > j;
         * but DEAD about a member we hold ALIVE only makes us suspect it */
        {C, 1, ALV, 1, SWIM_V_DOUBT},     {C, 4, ALV, 1, SWIM_V_DOUBT},
        {C, 1, SUS, 1, SWIM_V_GONE},      {L, 3, ALV, 1, SWIM_V_GONE},
        {C, 0, ALV, 1, SWIM_V_IGNORE},    {L, 1, SUS, 1, SWIM_V_GONE},
        {C, 0, SUS, 1, SWIM_V_IGNORE},    {C, 2, DED, 1, SWIM_V_TOMBSTONE},
        {C, 1, DED, 1, SWIM_V_IGNORE},    {L, 2, DED, 1, SWIM_V_TOMBSTONE},
        {C, 2, LFT, 1, SWIM_V_TOMBSTONE}, {L, 1, LFT, 1, SWIM_V_IGNORE},
        /* an unknown entry type changes nothing */
        {9, 5, ALV, 1, SWIM_V_IGNORE},    {9, 5, DED, 1, SWIM_V_IGNORE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = swim__entry_verdict(t[i].type, t[i].inc, t[i].status, t[i].cur);
        if (got != t[i].want) FT_FAIL("verdict row %zu: %d != %d", i, got, t[i].want);
    }
}

static void test_self_verdict(void)
{
    struct { int type; uint64_t inc, mine; int want; } t[] = {
        {S, 3, 3, SWIM_SELF_REFUTE_SUSPECT}, {S, 4, 3, SWIM_SELF_REFUTE_SUSPECT},
        {S, 2, 3, SWIM_SELF_IGNORE},
        {C, 3, 3, SWIM_SELF_REFUTE_GONE},    {L, 9, 3, SWIM_SELF_REFUTE_GONE},
        {C, 2, 3, SWIM_SELF_IGNORE},         {L, 2, 3, SWIM_SELF_IGNORE},
        {A, 4, 3, SWIM_SELF_REFUTE_ALIVE},   {J, 4, 3, SWIM_SELF_REFUTE_ALIVE},
        {A, 3, 3, SWIM_SELF_IGNORE},         {J, 1, 3, SWIM_SELF_IGNORE},
        {9, 9, 3, SWIM_SELF_IGNORE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = swim__entry_self_verdict(t[i].type, t[i].inc, t[i].mine);
        if (got != t[i].want) FT_FAIL("self verdict row %zu: %d != %d", i, got, t[i].want);
    }
    struct { uint64_t seen, mine, want; } r[] = {
        {3, 3, 4}, {5, 3, 6}, {1, 3, 4}, {0, 1, 2}, {0, 0, 1},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        CHECK_EQ_INT(swim__refute_incarnation(r[i].seen, r[i].mine), r[i].want);
}

static void test_probe_fail_delta(void)
{
    /* no helpers: +1; helpers: +missing nacks (0 when every helper answered) */
    struct { int expected, nacks, want; } t[] = {
        {0, 0, 1}, {3, 0, 3}, {3, 1, 2}, {3, 3, 0}, {3, 4, 0}, {1, 0, 1}, {-1, 0, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_EQ_INT(swim__probe_fail_delta(t[i].expected, t[i].nacks), t[i].want);
}

static void test_feedback(void)
{
    /* limit 30 (n = 1024, mult 3): free below 10 transmissions, then +10 */
    struct { uint32_t tx; unsigned limit; uint32_t want; } t[] = {
        {0, 30, 0},  {9, 30, 9},  {10, 30, 20}, {25, 30, 35},
        {0, 3, 0},   {1, 3, 2},   {2, 3, 3},   /* limit 3: a third is 1 */
        {0, 1, 1},   {0, 2, 1},   /* limit < 3: every report costs 1 */
        {5, 0, 6},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_EQ_INT(swim__feedback_transmits(t[i].tx, t[i].limit), t[i].want);
}

static void test_sync_rules(void)
{
    struct { uint64_t peer; uint32_t ours; int want; } t[] = {
        {3, 1, 1},  {2, 1, 0},  {10, 8, 1}, {9, 8, 0},
        {66, 64, 1}, {65, 64, 0},           /* 64/32 = 2 */
        {1056, 1024, 1}, {1055, 1024, 0},   /* 1024/32 = 32 */
        {0, 0, 0},  {2, 0, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_EQ_INT(swim__sync_far_behind(t[i].peer, t[i].ours), t[i].want);
    struct { double period; uint32_t n; uint64_t gap; double want; } sp[] = {
        {1000, 1, 1, 1000}, {1000, 64, 1, 1000}, {1000, 65, 1, 1015.625},
        {1000, 1024, 1, 16000}, {1000, 1024, 0, 16000}, /* same size, other members */
        {1000, 1024, 4, 4000}, {1000, 1024, 16, 1000}, {1000, 1024, 900, 1000},
        {200, 128, 1, 400}, {200, 128, 2, 200},
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        double got = swim__sync_spacing_ms(sp[i].period, sp[i].n, sp[i].gap);
        if (fabs(got - sp[i].want) > 1e-9) FT_FAIL("spacing row %zu: %f != %f", i, got, sp[i].want);
    }
    /* a view stable for one gossip interval, at most half a period */
    struct { double period, gossip, want; } st[] = {
        {1000, 200, 200}, {1000, 0, 500}, {1000, 500, 500}, {1000, 900, 500},
        {200, 200, 100},  {1000, -1, 500},
    };
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        double got = swim__sync_stable_ms(st[i].period, st[i].gossip);
        if (fabs(got - st[i].want) > 1e-9) FT_FAIL("stable row %zu: %f != %f", i, got, st[i].want);
    }
}

static void test_check_lead(void)
{
    struct { double ping, min, want; } t[] = {
        {200, 5000, 200}, {200, 300, 150}, {1600, 5000, 1600}, {3000, 5000, 2500},
        {200, 400, 200},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        double got = swim__check_lead_ms(t[i].ping, t[i].min);
        if (fabs(got - t[i].want) > 1e-9) FT_FAIL("lead row %zu: %f != %f", i, got, t[i].want);
    }
}

int main(void)
{
    test_entry_verdict();
    test_self_verdict();
    test_probe_fail_delta();
    test_feedback();
    test_sync_rules();
    test_check_lead();
    return FT_DONE();
}
