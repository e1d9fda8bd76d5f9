/*
 * test-centralized-quorumjoin.c -- a member that joins while the primary
 * reaches fewer than half of its group (two of three members paused: the
 * primary declares nobody and refuses joins, the quorum rule) is not turned
 * away: it asks again until the paused members resume, then gets in, and
 * the four converge. Before, the first refusal failed the registration (a
 * restarted member of rel-chaos-centralized exited that way).
 */
#include "cent-test.h"

#define PID 5
#define CONFIG                                                                           \
    "{\"ping_interval_ms\":200,\"ping_timeout_ms\":500,\"ping_max_num_timeouts\":3}"

static ct_status_t st, scratch;

int main(void)
{
    char file[1024];
    const char* names[4] = {"A", "B", "C", "D"};
    ct_server_t s[4];
    char self[3][128];

    snprintf(file, sizeof file, "%s/quorum.flock", ft_tmpdir());
    REQUIRE(ct_start(&s[0], "A", "self", "na+sm", file, CONFIG, PID, 1, "50") > 0);
    REQUIRE(ct_wait_status("A", PID, &st, 30000));
    snprintf(self[0], sizeof self[0], "%s", st.self);
    for (int i = 1; i <= 2; i++) {
        REQUIRE(ct_start(&s[i], names[i], "join", "na+sm", file, "{}", PID, 1, "50") > 0);
        REQUIRE(ct_wait_status(names[i], PID, &st, 30000));
        snprintf(self[i], sizeof self[i], "%s", st.self);
    }
    ct_ref_t three[3] = {{"A", PID}, {"B", PID}, {"C", PID}};
    REQUIRE(ct_wait_converged(three, 3, 3, 60000, &scratch));

    /* B and C paused: A's next pings to them fail (500 ms timeout), and
     * from the first failure A reaches 1 of 3 */
    fprintf(stderr, "== SIGSTOP B and C\n");
    kill(s[1].pid, SIGSTOP);
    kill(s[2].pid, SIGSTOP);
    ft_sleep_ms(2000);

    /* D joins through the file: refused while B and C are paused */
    fprintf(stderr, "== D joins\n");
    REQUIRE(ct_start(&s[3], "D", "join", "na+sm", file, "{}", PID, 1, "50") > 0);
    ft_sleep_ms(2500);
    int ws = 0;
    CHECK(waitpid(s[3].pid, &ws, WNOHANG) == 0); /* still trying, not failed */
    CHECK(!ct_read_status("D", PID, &st));        /* and not in yet */

    fprintf(stderr, "== SIGCONT B and C\n");
    kill(s[1].pid, SIGCONT);
    kill(s[2].pid, SIGCONT);
    REQUIRE(ct_wait_status("D", PID, &st, 30000));
    /* its registration waited for the group to have a majority again */
    CHECK(st.ready_ms - st.start_ms >= 2000.0);
    ct_ref_t four[4] = {{"A", PID}, {"B", PID}, {"C", PID}, {"D", PID}};
    CHECK(ct_wait_converged(four, 4, 4, 30000, &scratch));
    for (int i = 0; i < 4; i++) {
        REQUIRE(ct_read_status(names[i], PID, &st));
        CHECK(ct_members_sane(&st));
        for (int j = 0; j < 3; j++) /* nobody was declared dead */
            CHECK_EQ_INT(ct_count_events(&st, "DIED", self[j], PID), 0);
    }

    for (int i = 3; i >= 0; i--) {
        ws = ct_stop(&s[i], SIGTERM, 30000);
        CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    return FT_DONE();
}
