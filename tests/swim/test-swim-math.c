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

/* the bucketed push-pull: bucket counts, the fold, a key's bucket */
static void test_buckets(void)
{
    struct { uint64_t nb; int want; } v[] = {{0, 0}, {1, 1}, {2, 1}, {3, 0}, {16, 1}, {96, 0},
                                             {128, 1}, {256, 1}, {257, 0}, {512, 0},
                                             {UINT64_MAX, 0}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (swim__valid_nbuckets(v[i].nb) != v[i].want)
            FT_FAIL("valid_nbuckets(%llu) != %d", (unsigned long long)v[i].nb, v[i].want);
    struct { uint32_t n, want; } f[] = {{0, 16}, {1, 16}, {128, 16}, {129, 32}, {256, 32},
                                        {1024, 128}, {1025, 256}, {2048, 256}, {1u << 24, 256}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        uint32_t nb = swim__diff_buckets_for(f[i].n);
        if (nb != f[i].want) FT_FAIL("diff_buckets_for(%u) = %u, want %u", f[i].n, nb, f[i].want);
        CHECK(swim__valid_nbuckets(nb));
    }
    CHECK_EQ_INT(swim__fine_bucket(0xab00000000000001ULL), 0xab);
    CHECK_EQ_INT(swim__bucket_of(0xab, 256), 0xab);
    CHECK_EQ_INT(swim__bucket_of(0xab, 16), 0xa);
    CHECK_EQ_INT(swim__bucket_of(255, 1), 0);
    /* folding keeps the XOR of all buckets, and nb = 256 is the identity */
    uint32_t fine[SWIM_FINE_BUCKETS], out[SWIM_FINE_BUCKETS], all = 0;
    for (uint32_t i = 0; i < SWIM_FINE_BUCKETS; i++) all ^= fine[i] = 0x9e3779b9u * (i + 7);
    for (uint32_t nb = 1; nb <= SWIM_FINE_BUCKETS; nb *= 2) {
        swim__fold_buckets(fine, nb, out);
        uint32_t x = 0;
        for (uint32_t b = 0; b < nb; b++) x ^= out[b];
        CHECK(x == all);
    }
    swim__fold_buckets(fine, SWIM_FINE_BUCKETS, out);
    CHECK(memcmp(out, fine, sizeof fine) == 0);
    swim__fold_buckets(fine, 2, out);
    uint32_t lo = 0;
    for (uint32_t i = 0; i < 128; i++) lo ^= fine[i];
    CHECK(out[0] == lo && out[1] == (all ^ lo));
}

/* a view summary tells views apart by size and by digest */
static void test_view_summary(void)
{
    const uint64_t d = 0x0123456789abcdefULL;
    CHECK(swim__view_summary(64, d) == swim__view_summary(64, d));
    CHECK(swim__view_summary(64, d) != swim__view_summary(65, d));
    CHECK(swim__view_summary(64, d) != swim__view_summary(64, d ^ 1));
    CHECK(swim__view_summary(64, d) != swim__view_summary(64, d ^ (1ULL << 40)));
    /* sizes alone (equal digests) map to distinct summaries */
    for (uint64_t n = 1; n < 4096; n++)
        CHECK(swim__view_summary(n, 0) != swim__view_summary(n + 1, 0));
}

int main(void)
{
    test_view_summary();
    test_buckets();
    test_tick_grid();
    test_retransmit();
    test_suspicion_min();
    test_suspicion_timeout();
    test_awareness();
    test_ping_req_count();
    return FT_DONE();
}
