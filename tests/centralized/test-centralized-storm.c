/*
 * test-centralized-storm.c -- 32 processes join at the same moment: all
 * get in, every member ends with the same view (33 members, sorted, no
 * duplicate), and no member got two callbacks for the same event or one
 * about itself.
 */
#include "cent-test.h"

#define NJOIN 32
#define PID   7
#define CONFIG                                                                           \
    "{\"ping_interval_ms\":[200,300],\"ping_timeout_ms\":2000,\"ping_max_num_"           \
    "timeouts\":5}"

static ct_status_t st, scratch;

int main(void)
{
    char file[1024], names[NJOIN + 1][16];
    ct_server_t srv[NJOIN + 1];
    ct_ref_t refs[NJOIN + 1];

    snprintf(file, sizeof file, "%s/storm.flock", ft_tmpdir());
    snprintf(names[0], 16, "P");
    REQUIRE(ct_start(&srv[0], names[0], "self", "na+sm", file, CONFIG, PID, 1, "100") >
            0);
    REQUIRE(ct_wait_status(names[0], PID, &st, 30000));

    for (int i = 1; i <= NJOIN; i++) {
        snprintf(names[i], 16, "J%d", i);
        REQUIRE(ct_start(&srv[i], names[i], "join", "na+sm", file, "{}", PID, 1, "100") >
                0);
    }
    for (int i = 0; i <= NJOIN; i++) {
        refs[i].name = names[i];
        refs[i].pid = PID;
    }
    for (int i = 1; i <= NJOIN; i++)
        REQUIRE(ct_wait_status(names[i], PID, &st, 120000));
    REQUIRE(ct_wait_converged(refs, NJOIN + 1, NJOIN + 1, 120000, &scratch));

    /* callbacks run just after the view changes: let the primary's log settle */
    CHECK(ct_wait_nevents(names[0], PID, NJOIN, 30000));
    /* every member: the same sane view, exactly-once callbacks */
    uint64_t digest = 0;
    for (int i = 0; i <= NJOIN; i++) {
        REQUIRE(ct_read_status(names[i], PID, &st));
        if (i == 0) digest = st.digest;
        CHECK(st.digest == digest);
        CHECK_EQ_INT(st.nmembers, NJOIN + 1);
        CHECK(ct_members_sane(&st));
        CHECK_EQ_INT(ct_count_events(&st, "JOINED", st.self, PID), 0);
        for (size_t e = 0; e < st.nevents; e++) {
            CHECK_EQ_STR(st.events[e].type, "JOINED");
            CHECK_EQ_INT(
                ct_count_events(&st, "JOINED", st.events[e].address, st.events[e].pid),
                1);
        }
        if (i == 0) CHECK_EQ_INT(st.nevents, NJOIN); /* the primary saw every join */
    }
    /* nothing happens afterwards (pings only) */
    ft_sleep_ms(1000);
    CHECK(ct_wait_converged(refs, NJOIN + 1, NJOIN + 1, 60000, &scratch));
    /* clean shutdown everywhere (leaves, then the primary); exit 0 also means
     * no sanitizer report in -DFLOCK_SANITIZE=ON builds */
    for (int i = NJOIN; i >= 0; i--) {
        int ws = ct_stop(&srv[i], SIGTERM, 60000);
        CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    return FT_DONE();
}
