/*
 * test-centralized-logic.c -- table tests of the centralized backend's
 * protocol rules: ping scheduling, failure counting, detection bound,
 * change decisions, seq ordering, catch-up decisions, the event log.
 */
#include "flock-test.h"

#include "backends/centralized/centralized-logic.h"

static void test_schedule(void)
{
    /* draw: uniform in [min, max] */
    CHECK(flock__cent_draw_interval(100, 300, 0.0) == 100);
    CHECK(flock__cent_draw_interval(100, 300, 0.5) == 200);
    CHECK(flock__cent_draw_interval(100, 300, 1.0) == 300);
    CHECK(flock__cent_draw_interval(100, 300, -2) == 100);
    CHECK(flock__cent_draw_interval(100, 300, 7) == 300);
    CHECK(flock__cent_draw_interval(250, 250, 0.3) == 250);

    /* start-to-start: the next ping starts interval after the previous start */
    static const struct {
        double interval, elapsed, delay;
    } d[] = {
        {1000, 0, 1000}, {1000, 1, 999},  {1000, 250, 750},
        {1000, 1000, 0}, {1000, 1500, 0}, /* a ping longer than the interval: next one
                                             right away */
        {0, 0, 0},
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (flock__cent_next_ping_delay(d[i].interval, d[i].elapsed) != d[i].delay)
            FT_FAIL("next_ping_delay(%g, %g) != %g", d[i].interval, d[i].elapsed,
                    d[i].delay);

    /* simulate: pings every 200 ms, each answered in 3 ms -> starts 200 apart */
    double t = 0, last_start = -1;
    for (int k = 0; k < 10; k++) {
        double start = t;
        if (last_start >= 0)
            CHECK(start - last_start > 199.99 && start - last_start < 200.01);
        last_start = start;
        t += 3;                                           /* ping duration */
        t += flock__cent_next_ping_delay(200, t - start); /* wait */
    }
}

static void test_failures(void)
{
    unsigned f = 0;
    /* max 3: three consecutive failures declare the member dead */
    CHECK(!flock__cent_record_ping(&f, false, 3));
    CHECK(!flock__cent_record_ping(&f, false, 3));
    CHECK_EQ_INT(f, 2);
    CHECK(!flock__cent_record_ping(&f, true, 3)); /* a success resets */
    CHECK_EQ_INT(f, 0);
    CHECK(!flock__cent_record_ping(&f, false, 3));
    CHECK(!flock__cent_record_ping(&f, false, 3));
    CHECK(flock__cent_record_ping(&f, false, 3));
    /* max 1: the first failure */
    f = 0;
    CHECK(flock__cent_record_ping(&f, false, 1));
    /* max 0 is treated as 1 */
    f = 0;
    CHECK(flock__cent_record_ping(&f, false, 0));

    /* bound = max x (interval + timeout) + interval */
    CHECK(flock__cent_detection_bound_ms(200, 100, 2) == 800);
    CHECK(flock__cent_detection_bound_ms(1000, 1000, 3) == 7000);
}

static void test_roles_and_changes(void)
{
    CHECK(flock__cent_same_member("na+sm://1-0", 4, "na+sm://1-0", 4));
    CHECK(!flock__cent_same_member("na+sm://1-0", 4, "na+sm://1-0", 5));
    CHECK(!flock__cent_same_member("na+sm://1-0", 4, "na+sm://2-0", 4));
    CHECK(!flock__cent_same_member(NULL, 4, "na+sm://2-0", 4));
    CHECK(!flock__cent_same_member("a", 4, NULL, 4));

    static const struct {
        flock_update_t type;
        bool present;
        flock__cent_change_t change;
    } t[] = {
        {FLOCK_MEMBER_JOINED, false, FLOCK__CENT_ADD},
        {FLOCK_MEMBER_JOINED, true, FLOCK__CENT_NOOP}, /* never duplicate a member */
        {FLOCK_MEMBER_LEFT, true, FLOCK__CENT_REMOVE},
        {FLOCK_MEMBER_LEFT, false, FLOCK__CENT_NOOP},
        {FLOCK_MEMBER_DIED, true, FLOCK__CENT_REMOVE},
        {FLOCK_MEMBER_DIED, false, FLOCK__CENT_NOOP},
        {FLOCK_MEMBER_MOVED, true, FLOCK__CENT_NOOP},
        {(flock_update_t)77, false, FLOCK__CENT_NOOP},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (flock__cent_change_for(t[i].type, t[i].present) != t[i].change)
            FT_FAIL("change_for row %zu", i);

    CHECK(flock__cent_valid_update_type(FLOCK_MEMBER_JOINED));
    CHECK(flock__cent_valid_update_type(FLOCK_MEMBER_LEFT));
    CHECK(flock__cent_valid_update_type(FLOCK_MEMBER_DIED));
    CHECK(!flock__cent_valid_update_type(FLOCK_MEMBER_MOVED));
    CHECK(!flock__cent_valid_update_type(200));
}

static void test_seq(void)
{
    CHECK(flock__cent_classify_seq(0, 1) == FLOCK__CENT_SEQ_APPLY);
    CHECK(flock__cent_classify_seq(5, 6) == FLOCK__CENT_SEQ_APPLY);
    CHECK(flock__cent_classify_seq(5, 5) == FLOCK__CENT_SEQ_SKIP);
    CHECK(flock__cent_classify_seq(5, 2) == FLOCK__CENT_SEQ_SKIP);
    CHECK(flock__cent_classify_seq(5, 7) == FLOCK__CENT_SEQ_GAP);

    /* catch up when behind, or same seq but a different view */
    CHECK(flock__cent_needs_catch_up(3, 0xAA, 4, 0xBB));
    CHECK(flock__cent_needs_catch_up(3, 0xAA, 3, 0xBB));
    CHECK(!flock__cent_needs_catch_up(3, 0xAA, 3, 0xAA));
    /* ahead of the primary's committed state (update being broadcast): fine */
    CHECK(!flock__cent_needs_catch_up(4, 0xAA, 3, 0xBB));
}

static void test_log(void)
{
    flock__cent_log_t log;
    size_t first, n;
    REQUIRE(flock__cent_log_init(&log, 4) == FLOCK_SUCCESS);
    /* empty log: nothing since 0 */
    CHECK(flock__cent_log_since(&log, 0, &first, &n) && n == 0);
    CHECK(!flock__cent_log_since(&log, 3, &first, &n));
    for (uint64_t s = 1; s <= 3; s++)
        REQUIRE(flock__cent_log_append(&log, s, FLOCK_MEMBER_JOINED, "na+sm://9-0",
                                       (uint16_t)s) == FLOCK_SUCCESS);
    CHECK(flock__cent_log_since(&log, 0, &first, &n) && first == 0 && n == 3);
    CHECK(flock__cent_log_since(&log, 2, &first, &n) && n == 1 &&
          flock__cent_log_at(&log, first)->seq == 3);
    CHECK(flock__cent_log_since(&log, 3, &first, &n) && n == 0);
    CHECK(flock__cent_log_since(&log, 9, &first, &n) && n == 0);
    /* wrap around: capacity 4, append 4..6 -> holds 3..6 */
    for (uint64_t s = 4; s <= 6; s++)
        REQUIRE(flock__cent_log_append(&log, s, FLOCK_MEMBER_DIED, "na+sm://8-0", 1) ==
                FLOCK_SUCCESS);
    CHECK_EQ_INT(log.count, 4);
    CHECK_EQ_INT(flock__cent_log_at(&log, 0)->seq, 3);
    CHECK_EQ_INT(flock__cent_log_at(&log, 3)->seq, 6);
    CHECK(flock__cent_log_at(&log, 4) == NULL);
    CHECK(!flock__cent_log_since(&log, 1, &first, &n)); /* seq 2 was dropped */
    CHECK(flock__cent_log_since(&log, 2, &first, &n) && first == 0 && n == 4);
    CHECK(flock__cent_log_since(&log, 4, &first, &n) && n == 2 &&
          flock__cent_log_at(&log, first)->seq == 5 &&
          flock__cent_log_at(&log, first)->type == FLOCK_MEMBER_DIED);
    CHECK_EQ_STR(flock__cent_log_at(&log, 3)->address, "na+sm://8-0");
    flock__cent_log_destroy(&log);
    flock__cent_log_destroy(&log); /* idempotent */
}

/* Rules moved out of the backend: log names of the update kinds, the ping
 * scheduler's random generator (xorshift64*) and its seed. */
static void test_names_and_rng(void)
{
    static const struct {
        flock_update_t type;
        const char* name;
    } names[] = {
        {FLOCK_MEMBER_JOINED, "JOINED"}, {FLOCK_MEMBER_LEFT, "LEFT"},
        {FLOCK_MEMBER_DIED, "DIED"},     {FLOCK_MEMBER_MOVED, "?"},
        {(flock_update_t)99, "?"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_EQ_STR(flock__cent_update_name(names[i].type), names[i].name);

    /* two steps from each seed: the next state and the value x 2^53 (exact) */
    static const struct {
        uint64_t seed;
        uint64_t state[2];
        double scaled[2];
    } steps[] = {
        {1, {0x2000001ULL, 0x4004000802801ULL}, {2529537253518747.0, 6045066965290796.0}},
        {0x9E3779B97F4A7C15ULL,
         {0x3f721dffe39b342ULL, 0x5830920757d41153ULL},
         {475497915171881.0, 2982466348269523.0}},
        {0xdeadbeefcafef00dULL,
         {0xb6e8509d3d084e9eULL, 0x868a8934d18aba9aULL},
         {2860559221411561.0, 4363800167307458.0}},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        uint64_t st = steps[i].seed;
        for (int k = 0; k < 2; k++) {
            double u = flock__cent_rand01(&st);
            if (st != steps[i].state[k] || u * 9007199254740992.0 != steps[i].scaled[k])
                FT_FAIL("rand01 from %llx, step %d", (unsigned long long)steps[i].seed, k);
            CHECK(u >= 0 && u < 1);
        }
    }
    /* many draws stay in [0, 1) and the state never reaches 0 */
    uint64_t st = 12345;
    for (int k = 0; k < 100000; k++) {
        double u = flock__cent_rand01(&st);
        if (!(u >= 0 && u < 1) || st == 0) FT_FAIL("rand01 draw %d out of range", k);
    }

    static const struct {
        uint64_t sec, nsec, pid;
        uint16_t provider_id;
        uint64_t salt, seed;
    } seeds[] = {
        {0, 0, 0, 0, 0, 0x9E3779B97F4A7C15ULL}, /* 0 would stay 0 */
        {1, 0, 0, 0, 0, 1},
        {0, 1, 0, 0, 0, 1ULL << 20},
        {0, 0, 1, 0, 0, 1ULL << 32},
        {0, 0, 0, 1, 0, 1ULL << 48},
        {0, 0, 0, 0, 5, 5},
        {7, 0, 0, 0, 7, 0x9E3779B97F4A7C15ULL}, /* cancels out to 0 */
        {3, 2, 1, 65535, 0x100, 3 ^ (2ULL << 20) ^ (1ULL << 32) ^ (65535ULL << 48) ^ 0x100},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        if (flock__cent_rng_seed(seeds[i].sec, seeds[i].nsec, seeds[i].pid,
                                 seeds[i].provider_id, seeds[i].salt) != seeds[i].seed)
            FT_FAIL("rng_seed row %zu", i);
}

/* Identity and terms (flock__cent_judge), majorities, the watch window. */
static void test_terms_and_quorum(void)
{
    static const struct {
        uint64_t my_group, my_term, msg_group, msg_term;
        flock__cent_verdict_t v;
    } judge[] = {
        {7, 3, 7, 3, FLOCK__CENT_ACCEPT},  /* this group, this term */
        {7, 3, 8, 3, FLOCK__CENT_FOREIGN}, /* another group: refused whatever the term */
        {7, 3, 8, 9, FLOCK__CENT_FOREIGN},
        {7, 3, 7, 4, FLOCK__CENT_ADOPT},   /* a newer term: adopt */
        {7, 3, 7, 2, FLOCK__CENT_STALE},   /* an older term: a former primary */
        {7, 3, 0, 3, FLOCK__CENT_ACCEPT},  /* the sender's group unknown (old file) */
        {0, 3, 7, 3, FLOCK__CENT_ADOPT},   /* ours unknown: learn the id */
        {0, 0, 7, 1, FLOCK__CENT_ADOPT},   /* a secondary that heard nothing yet */
        {0, 0, 0, 0, FLOCK__CENT_ACCEPT},
        {7, 3, 0, 0, FLOCK__CENT_STALE},   /* an unknown term is older than any */
    };
    for (size_t i = 0; i < sizeof judge / sizeof judge[0]; i++)
        CHECK_EQ_INT(flock__cent_judge(judge[i].my_group, judge[i].my_term, judge[i].msg_group,
                                       judge[i].msg_term),
                     judge[i].v);
    static const struct { size_t k, n; bool majority, may_declare; } q[] = {
        {1, 1, true, true},  {1, 2, false, true}, /* a group of two can lose either */
        {2, 3, true, true},  {1, 3, false, false}, /* a primary alone of 3: no deaths */
        {2, 4, false, true}, {3, 4, true, true},   /* 2 | 2: the primary's side goes on */
        {2, 5, false, false}, {3, 5, true, true},  /* 2 | 3: only the 3 elect */
        {0, 0, false, true},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        CHECK_EQ_INT(flock__cent_is_majority(q[i].k, q[i].n), q[i].majority);
        CHECK_EQ_INT(flock__cent_may_declare(q[i].k, q[i].n), q[i].may_declare);
    }
    /* window: max x (interval + timeout) + interval */
    CHECK(flock__cent_watch_window_ms(200, 100, 2) == 800);
    CHECK(flock__cent_watch_window_ms(250, 300, 3) == 1900);
    CHECK(flock__cent_watch_window_ms(200, 100, 0) == 500); /* at least one timeout */
}

int main(void)
{
    test_terms_and_quorum();
    test_schedule();
    test_failures();
    test_roles_and_changes();
    test_seq();
    test_log();
    test_names_and_rng();
    return FT_DONE();
}
