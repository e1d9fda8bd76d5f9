/*
 * test-centralized-rejoin.c -- a member paused (SIGSTOP) for longer than
 * the detection window is declared DIED by the primary and announced to
 * everyone exactly once; once resumed, its silence watchdog notices it was
 * removed and it joins again: every member ends with the same view, which
 * lists it once, and the others saw one DIED then one more JOINED.
 */
#include "cent-test.h"

#define PID    9
#define CONFIG "{\"ping_interval_ms\":100,\"ping_timeout_ms\":200,\"ping_max_num_timeouts\":2}"

static ct_status_t st, scratch;

int main(void)
{
    char        file[1024], c_self[160];
    ct_server_t a, b, c;

    snprintf(file, sizeof file, "%s/rejoin.flock", ft_tmpdir());
    REQUIRE(ct_start(&a, "A", "self", "na+sm", file, CONFIG, PID, 1, "50") > 0);
    REQUIRE(ct_wait_status("A", PID, &st, 30000));
    REQUIRE(ct_start(&b, "B", "join", "na+sm", file, "{}", PID, 1, "50") > 0);
    REQUIRE(ct_wait_status("B", PID, &st, 30000));
    REQUIRE(ct_start(&c, "C", "join", "na+sm", file, "{}", PID, 1, "50") > 0);
    REQUIRE(ct_wait_status("C", PID, &st, 30000));
    snprintf(c_self, sizeof c_self, "%s", st.self);
    ct_ref_t all[3] = {{"A", PID}, {"B", PID}, {"C", PID}};
    REQUIRE(ct_wait_converged(all, 3, 3, 30000, &scratch));

    /* pause C until A and B have removed it */
    kill(c.pid, SIGSTOP);
    ct_ref_t ab[2] = {{"A", PID}, {"B", PID}};
    bool     removed = ct_wait_converged(ab, 2, 2, 60000, &scratch);
    kill(c.pid, SIGCONT);
    REQUIRE(removed);
    for (int i = 0; i < 2; i++) CHECK(ct_wait_count(ab[i].name, PID, "DIED", c_self, PID, 1, 30000));

    /* C notices and joins again */
    REQUIRE(ct_wait_converged(all, 3, 3, 60000, &scratch));
    for (int i = 0; i < 3; i++) {
        REQUIRE(ct_read_status(all[i].name, PID, &st));
        CHECK(ct_members_sane(&st));
        CHECK(ct_has_member(&st, c_self, PID));
    }
    for (int i = 0; i < 2; i++) { /* first join + re-join, one death */
        CHECK(ct_wait_count(ab[i].name, PID, "JOINED", c_self, PID, 2, 30000));
        CHECK(ct_wait_count(ab[i].name, PID, "DIED", c_self, PID, 1, 30000));
    }
    int ws;
    ws = ct_stop(&c, SIGTERM, 30000);
    CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    ws = ct_stop(&b, SIGTERM, 30000);
    CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    ws = ct_stop(&a, SIGTERM, 30000);
    CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    return FT_DONE();
}
