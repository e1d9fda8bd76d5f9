/*
 * test-centralized-failure.c -- failure detection across real processes:
 *   1. a member paused (SIGSTOP) for less than the detection window stays;
 *   2. a SIGKILLed member is declared DIED by the primary and announced to
 *      every member exactly once, within the bound (checked with x3 slack;
 *      precise figures are in bench/centralized);
 *   3. a join racing with a failure corrupts nothing: the survivors and the
 *      joiner converge to the same sane view, callbacks exactly once.
 */
#include "cent-test.h"

#define PID      3
#define INTERVAL 200.0
#define TIMEOUT  1000.0
#define MAXF     3
#define CONFIG                                                                           \
    "{\"ping_interval_ms\":200,\"ping_timeout_ms\":1000,\"ping_max_num_timeouts\":3}"

static ct_status_t st, scratch;

static double bound_ms(void)
{
    return MAXF * (INTERVAL + TIMEOUT) + INTERVAL;
}

int main(void)
{
    char file[1024];
    const char* names[6] = {"A", "B", "C", "D", "E", "F"};
    ct_server_t s[6];
    char self[6][128];

    snprintf(file, sizeof file, "%s/failure.flock", ft_tmpdir());
    REQUIRE(ct_start(&s[0], "A", "self", "na+sm", file, CONFIG, PID, 1, "50") > 0);
    REQUIRE(ct_wait_status("A", PID, &st, 30000));
    snprintf(self[0], 128, "%s", st.self);
    for (int i = 1; i <= 4; i++) {
        REQUIRE(ct_start(&s[i], names[i], "join", "na+sm", file, "{}", PID, 1, "50") > 0);
        REQUIRE(ct_wait_status(names[i], PID, &st, 30000));
        snprintf(self[i], 128, "%s", st.self);
    }
    ct_ref_t five[5] = {{"A", PID}, {"B", PID}, {"C", PID}, {"D", PID}, {"E", PID}};
    REQUIRE(ct_wait_converged(five, 5, 5, 60000, &scratch));

    /* 1. SIGSTOP shorter than the window (3 consecutive 1 s timeouts): not
     *    removed, though it is longer than one ping timeout + interval */
    fprintf(stderr, "== SIGSTOP D for 1500 ms (bound %.0f ms)\n", bound_ms());
    kill(s[3].pid, SIGSTOP);
    ft_sleep_ms(1500);
    kill(s[3].pid, SIGCONT);
    ft_sleep_ms(2000); /* several ping rounds */
    CHECK(ct_wait_converged(five, 5, 5, 30000, &scratch));
    for (int i = 0; i < 5; i++) {
        REQUIRE(ct_read_status(names[i], PID, &st));
        CHECK(ct_has_member(&st, self[3], PID));
        CHECK_EQ_INT(ct_count_events(&st, "DIED", self[3], PID), 0);
    }

    /* 2. SIGKILL C: DIED at every survivor, exactly once, within the bound */
    fprintf(stderr, "== SIGKILL C\n");
    double t_kill = ft_now_ms();
    CHECK(ct_stop(&s[2], SIGKILL, 30000) >= 0);
    ct_ref_t four[4] = {{"A", PID}, {"B", PID}, {"D", PID}, {"E", PID}};
    REQUIRE(ct_wait_converged(four, 4, 4, 60000, &scratch));
    double worst = 0;
    for (int k = 0; k < 4; k++) {
        CHECK(ct_wait_count(four[k].name, PID, "DIED", self[2], PID, 1, 30000));
        REQUIRE(ct_read_status(four[k].name, PID, &st));
        CHECK_EQ_INT(ct_count_events(&st, "LEFT", self[2], PID), 0);
        CHECK(!ct_has_member(&st, self[2], PID));
        CHECK(ct_members_sane(&st));
        if (st.last_event_ms - t_kill > worst) worst = st.last_event_ms - t_kill;
    }
    fprintf(stderr, "   announced to all %.0f ms after the kill (bound %.0f ms)\n", worst,
            bound_ms());
    CHECK(worst > 0 && worst <= 3 * bound_ms());

    /* 3. a join while another member fails */
    fprintf(stderr, "== SIGKILL B while F joins\n");
    kill(s[1].pid, SIGKILL);
    REQUIRE(ct_start(&s[5], "F", "join", "na+sm", file, "{}", PID, 1, "50") > 0);
    CHECK(ct_stop(&s[1], SIGKILL, 30000) >= 0);
    REQUIRE(ct_wait_status("F", PID, &st, 30000));
    snprintf(self[5], 128, "%s", st.self);
    ct_ref_t after[4] = {{"A", PID}, {"D", PID}, {"E", PID}, {"F", PID}};
    REQUIRE(ct_wait_converged(after, 4, 4, 60000, &scratch));
    for (int k = 0; k < 4; k++) {
        if (strcmp(after[k].name, "F") != 0) {
            CHECK(ct_wait_count(after[k].name, PID, "DIED", self[1], PID, 1, 30000));
            CHECK(ct_wait_count(after[k].name, PID, "JOINED", self[5], PID, 1, 30000));
        }
        REQUIRE(ct_read_status(after[k].name, PID, &st));
        CHECK(ct_members_sane(&st));
        CHECK(!ct_has_member(&st, self[1], PID));
        CHECK(ct_has_member(&st, self[5], PID));
        CHECK_EQ_INT(ct_count_events(&st, "JOINED", st.self, PID), 0);
        for (size_t e = 0; e < st.nevents; e++)
            CHECK_EQ_INT(ct_count_events(&st, st.events[e].type, st.events[e].address,
                                         st.events[e].pid),
                         1);
    }
    for (int i = 5; i >= 0; i--) /* secondaries first, so their leaves reach A */
        if (i != 1 && i != 2) {
            int ws = ct_stop(&s[i], SIGTERM, 30000);
            CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
        }
    return FT_DONE();
}
