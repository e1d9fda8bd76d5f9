/* test-swim-math.c -- table tests of the SWIM protocol math (swim-math.h). */
#include "flock-test.h"
#include "backends/swim/swim-math.h"
#include "backends/swim/swim-core.h" /* SWIM_TICK_GRID_AUTO */

#include <math.h>

static void test_retransmit(void)
{
    struct { int mult; uint64_t n; unsigned want; } t[] = {
        {3, 0, 1},  {3, 1, 1},  {3, 2, 3},   {3, 3, 6},   {3, 4, 6},  {3, 5, 9},
        {3, 8, 9},  {3, 9, 12}, {3, 16, 12}, {3, 17, 15}, {3, 1024, 30},
        {4, 2, 4},  {0, 100, 1}, {-3, 100, 1}, {3, UINT64_MAX, 192},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_EQ_INT(swim__retransmit_limit(t[i].mult, t[i].n), t[i].want);
}

static void test_suspicion_min(void)
{
    struct { double base, mult; uint64_t n; double period, want; } t[] = {
        {5000, 0, 100, 1000, 5000},    /* fixed */
        {5000, 4, 1, 1000, 4000},      /* log10 scale floored at 1 */
        {5000, 4, 10, 1000, 4000},
        {5000, 4, 100, 1000, 8000},
        {5000, 4, 1000, 1000, 12000},
        {5000, 4, 0, 1000, 4000},
        {5000, 5, 100, 200, 2000},
        {0, 0, 10, 1000, 1},           /* never below 1 ms */
        {NAN, 0, 10, 1000, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        double got = swim__suspicion_min_ms(t[i].base, t[i].mult, t[i].n, t[i].period);
        if (fabs(got - t[i].want) > 1e-6) FT_FAIL("min row %zu: %f != %f", i, got, t[i].want);
    }
    /* memberlist's 4*log10(16)*1s */
    CHECK(fabs(swim__suspicion_min_ms(0, 4, 16, 1000) - 4816.4799) < 0.01);
}

static void test_suspicion_timeout(void)
{
    /* memberlist suspicion_test.go TestSuspicion_remainingSuspicionTime
     * (k=3, min 2 s, max 30 s), elapsed = 0 */
    struct { unsigned c, k; double min, max, want; } t[] = {
        {0, 3, 2000, 30000, 30000},
        {1, 3, 2000, 30000, 16000},
        {2, 3, 2000, 30000, 7810},  /* 30000 - log(3)/log(4) * 28000 */
        {3, 3, 2000, 30000, 2000},
        {4, 3, 2000, 30000, 2000},   /* more than k: clamped at min */
        {0, 0, 2000, 30000, 2000},   /* k = 0: min */
        {5, 0, 2000, 30000, 2000},
        {0, 2, 5000, 5000, 5000},    /* min == max */
        {0, 2, 5000, 1000, 5000},    /* max < min: min */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        double got = swim__suspicion_timeout_ms(t[i].c, t[i].k, t[i].min, t[i].max);
        if (fabs(got - t[i].want) > 1e-6) FT_FAIL("timeout row %zu: %f != %f", i, got, t[i].want);
    }
    CHECK_EQ_INT(swim__suspicion_expected(2, 1), 0);
    CHECK_EQ_INT(swim__suspicion_expected(2, 3), 0);
    CHECK_EQ_INT(swim__suspicion_expected(2, 4), 2);
    CHECK_EQ_INT(swim__suspicion_expected(2, 100), 2);
    CHECK_EQ_INT(swim__suspicion_expected(0, 100), 0);
}

static void test_awareness(void)
{
    struct { int score, delta, max, want; } t[] = {
        {0, 1, 8, 1}, {0, -1, 8, 0}, {6, 1, 8, 7}, {7, 1, 8, 7}, {7, 5, 8, 7},
        {3, -10, 8, 0}, {0, 3, 1, 0}, {0, 1, 0, 0}, {2, INT32_MAX, 8, 7}, {2, INT32_MIN, 8, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_EQ_INT(swim__awareness_apply(t[i].score, t[i].delta, t[i].max), t[i].want);
    CHECK(swim__awareness_scale(500, 0) == 500);
    CHECK(swim__awareness_scale(500, 1) == 1000);
    CHECK(swim__awareness_scale(500, 7) == 4000);
    CHECK(swim__awareness_scale(500, -3) == 500);
}

static void test_ping_req_count(void)
{
    struct { int64_t cfg; uint64_t cand; unsigned want; } t[] = {
        {3, 10, 3}, {3, 2, 2}, {3, 0, 0}, {0, 10, 0}, {-1, 10, 0}, {INT64_MIN, 10, 0},
        {1000, 1000, SWIM_MAX_PING_REQ}, {INT64_MAX, 5, 5}, {9, 100, 9},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_EQ_INT(swim__ping_req_count(t[i].cfg, t[i].cand), t[i].want);
    CHECK_EQ_INT(swim__bit_length(0), 0);
    CHECK_EQ_INT(swim__bit_length(1), 1);
    CHECK_EQ_INT(swim__bit_length(255), 8);
    CHECK_EQ_INT(swim__bit_length(UINT64_MAX), 64);
}

/* Timer coalescing: deadlines round up to the grid, never down; with
 * tick_grid_ms auto the grid is a twentieth of the period from
 * SWIM_TICK_GRID_AUTO_VIEW members on (the config's parsing and clamps:
 * test-swim-config.c). */
static void test_tick_grid(void)
{
    struct { double t, now, grid, want; } t[] = {
        {1000.0, 900.0, 50.0, 1000.0},  {1000.5, 900.0, 50.0, 1050.0},
        {1049.9, 1000.0, 50.0, 1050.0}, {1.0, 0.0, 50.0, 50.0},
        {0.0, -1.0, 50.0, 0.0},         {1234.5, 0.0, 0.0, 1234.5},
        {1234.5, 0.0, -5.0, 1234.5},    {1234.5, 0.0, NAN, 1234.5},
        {INFINITY, 0.0, 50.0, INFINITY},
        /* due (t <= now): at once, not on the grid */
        {1000.5, 1000.5, 50.0, 1000.5}, {990.0, 1000.5, 50.0, 990.0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        double got = swim__grid_deadline(t[i].t, t[i].now, t[i].grid);
        CHECK(got == t[i].want || (isinf(got) && isinf(t[i].want)));
        bool   late = t[i].grid > 0 && !isinf(got) && got - t[i].t >= t[i].grid;
        CHECK(got >= t[i].t && !late);
    }
    const uint32_t big = SWIM_TICK_GRID_AUTO_VIEW;
    struct { double grid, period; uint32_t nview; double want; } g[] = {
        /* auto: off below the threshold, period / 20 from it on */
        {SWIM_TICK_GRID_AUTO, 1000.0, 1, 0.0},      {SWIM_TICK_GRID_AUTO, 1000.0, 128, 0.0},
        {SWIM_TICK_GRID_AUTO, 1000.0, big - 1, 0.0}, {SWIM_TICK_GRID_AUTO, 1000.0, big, 50.0},
        {SWIM_TICK_GRID_AUTO, 200.0, 4096, 10.0},    {SWIM_TICK_GRID_AUTO, 0.0, 4096, 0.0},
        /* set: as set, whatever the view */
        {0.0, 1000.0, 4096, 0.0}, {25.0, 1000.0, 1, 25.0}, {25.0, 1000.0, 4096, 25.0},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        CHECK(swim__tick_grid_for(g[i].grid, g[i].period, g[i].nview) == g[i].want);
}

int main(void)
{
    test_tick_grid();
    test_retransmit();
    test_suspicion_min();
    test_suspicion_timeout();
    test_awareness();
    test_ping_req_count();
    return FT_DONE();
}
