/*
 * test-flockctl-run.c -- the flock CLI run as a user runs it, against
 * groups started with flockd (static backend here; joins, leaves and deaths
 * are in test-tools-centralized): help and usage errors, show (table,
 * --json, --all, --address), check (exit status), failover to another
 * member, watch (initial members, --duration, losing the group).
 */
#include "../daemon/tools-test.h"
#include "../../src/cli/flock-cli.h"

#define FLOCKD ft_bin("src/daemon/flockd")
#define FLOCK  ft_bin("src/cli/flockctl")

static void check_help_and_usage(void)
{
    const char* out = tt_path("h.out");
    const char* err = tt_path("h.err");
    CHECK_EQ_INT(tt_run(out, err, "'%s' --help", FLOCK), 0);
    CHECK(tt_file_contains(out, "Usage: flockctl <command>"));
    static const char* const cmds[] = {"show", "watch", "check"};
    for (size_t i = 0; i < 3; i++) {
        char usage[64];
        snprintf(usage, sizeof usage, "Usage: flockctl %s <groupfile>", cmds[i]);
        CHECK_EQ_INT(tt_run(out, err, "'%s' %s --help", FLOCK, cmds[i]), 0);
        CHECK(tt_file_contains(out, usage));
        CHECK_EQ_INT(tt_run(out, err, "'%s' help %s", FLOCK, cmds[i]), 0);
        CHECK(tt_file_contains(out, usage));
    }
    CHECK_EQ_INT(tt_run(out, err, "'%s' --version", FLOCK), 0);
    CHECK(tt_file_contains(out, "flockctl "));

    static const struct {
        const char* args;
        const char* error;
    } usage[] = {
        {"", "flockctl: missing command"},
        {"frobnicate", "unknown command \"frobnicate\""},
        {"show", "missing target"},
        {"show --address na+sm://1-0", "--address needs --provider-id"},
        {"watch g.flock --interval 0", "--interval: expected milliseconds"},
        {"check g.flock --nope", "unknown option \"--nope\" for \"flockctl check\""},
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        int rc = tt_run(out, err, "'%s' %s", FLOCK, usage[i].args);
        if (rc != 2 || !tt_file_contains(err, usage[i].error)) {
            FT_FAIL("usage \"%s\": exit %d, expected 2 and '%s'", usage[i].args, rc, usage[i].error);
            tt_dump("stderr", err);
        }
        CHECK(tt_file_contains(err, "--help"));
    }
    /* unreadable / invalid group files: exit 1 */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s'", FLOCK, tt_path("none.flock")), 1);
    CHECK(tt_file_contains(err, "cannot read group file"));
    CHECK(tt_file_contains(err, "No such file or directory"));
    tt_write_file(tt_path("bad.flock"), "{'members':[]}", true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' check '%s'", FLOCK, tt_path("bad.flock")), 1);
    CHECK(tt_file_contains(err, "not a valid group file"));
    CHECK_EQ_INT(tt_file_count(err, "\n"), 1); /* one line: no library log on top of it */
    /* a directory: said so */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s'", FLOCK, ft_tmpdir()), 1);
    CHECK(tt_file_contains(err, "not a regular file (a directory)"));
    CHECK_EQ_INT(tt_file_count(err, "\n"), 1);
    /* an address without a protocol */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show -a 1234-0 -p 1", FLOCK), 1);
    CHECK(tt_file_contains(err, "cannot tell the protocol of address \"1234-0\""));
}

/* A static group of 2 listed in a file: one flockd (tcp, index 0 so it
 * writes the file) and one member that does not run. */
static pid_t start_static_pair(const char* file, char* live, size_t livesize, const char* dead)
{
    const char* cfg = tt_path("pair.json");
    char        json[2048];
    int         port = ft_free_tcp_port();
    REQUIRE(port > 0);
    snprintf(live, livesize, "tcp://127.0.0.1:%d", port);
    snprintf(json, sizeof json,
             "{'providers':[{'type':'flock','name':'g','provider_id':42,'config':{"
             "'bootstrap':'view','file':'%s','view':{'members':[{'address':'%s','provider_id':42},"
             "{'address':'%s','provider_id':42}],'metadata':{'color':'blue'}},"
             "'group':{'type':'static'}}}]}",
             file, live, dead);
    tt_write_file(cfg, json, true);
    return tt_start_flockd(live, cfg, tt_path("pair.out"), tt_path("pair.err"));
}

static void check_show_and_check(void)
{
    const char* out  = tt_path("s.out");
    const char* err  = tt_path("s.err");
    const char* file = tt_path("pair.flock");
    const char* dead = "tcp://127.0.0.2:1"; /* sorts after 127.0.0.1: the flockd is index 0 */
    char        live[128], line[512];
    pid_t       pid = start_static_pair(file, live, sizeof live, dead);

    /* table */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s'", FLOCK, file), 0);
    CHECK(tt_file_contains(out, "INDEX  ADDRESS"));
    snprintf(line, sizeof line, "    0  %s", live);
    CHECK(tt_file_contains(out, line));
    snprintf(line, sizeof line, "    1  %s", dead);
    CHECK(tt_file_contains(out, line));
    CHECK(tt_file_contains(out, "  color = blue"));
    CHECK(tt_file_contains(out, "(2 internal keys hidden, see --all)"));
    CHECK(tt_file_contains(out, "2 members, digest 0x"));
    CHECK(!tt_file_contains(out, "__type__"));
    /* --all */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s' --all", FLOCK, file), 0);
    CHECK(tt_file_contains(out, "  __type__ = static"));
    /* --json, by address */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show --address %s --provider-id 42 --json", FLOCK, live), 0);
    snprintf(line, sizeof line,
             "\"backend\":\"static\",\"members\":[{\"index\":0,\"address\":\"%s\",\"provider_id\":42,"
             "\"status\":\"unknown\"},{\"index\":1,\"address\":\"%s\",\"provider_id\":42,"
             "\"status\":\"unknown\"}],\"metadata\":{\"color\":\"blue\"}}",
             live, dead);
    CHECK(tt_file_contains(out, line));
    CHECK(tt_file_contains(out, "{\"digest\":\"0x"));
    /* a provider id nobody serves */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show --address %s --provider-id 7", FLOCK, live), 1);
    CHECK(tt_file_contains(err, "no Flock provider with id 7 there"));

    /* check: the dead member makes it fail, and is named */
    CHECK_EQ_INT(tt_run(out, err, "'%s' check '%s' --timeout 2000", FLOCK, file), 1);
    snprintf(line, sizeof line, "OK    %s  42  (view of 2 members", live);
    CHECK(tt_file_contains(out, line));
    snprintf(line, sizeof line, "FAIL  %s  42  unreachable", dead);
    CHECK(tt_file_contains(out, line));
    CHECK(tt_file_contains(out, "1 of 2 members answered"));
    CHECK_EQ_INT(tt_run(out, err, "'%s' check '%s' --json", FLOCK, file), 1);
    CHECK(tt_file_contains(out, "\"ok\":false"));
    CHECK(tt_file_contains(out, "\"answered\":1"));

    /* failover: a file whose first member is dead */
    const char* f2 = tt_path("failover.flock");
    snprintf(line, sizeof line,
             "{'members':[{'address':'tcp://127.0.0.1:1','provider_id':42},{'address':'%s',"
             "'provider_id':42}],'metadata':{}}",
             live);
    tt_write_file(f2, line, true);
    /* the view is printed, exit 3: the first member tried did not answer */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s'", FLOCK, f2), FLOCK_CLI_EXIT_DEGRADED);
    CHECK(tt_file_contains(err, "tcp://127.0.0.1:1 (provider 42): unreachable"));
    CHECK(tt_file_contains(err, "flockctl show: tcp://127.0.0.1:1 (provider 42) did not answer"));
    CHECK(tt_file_contains(out, "2 members"));

    /* a stopped (SIGSTOP) member: probes time out instead of hanging */
    kill(pid, SIGSTOP);
    CHECK_EQ_INT(tt_run(out, err, "'%s' check '%s' --timeout 300", FLOCK, file), 1);
    snprintf(line, sizeof line, "flockctl: %s (provider 42): unreachable: operation reached timeout", live);
    CHECK(tt_file_contains(err, line));
    CHECK(tt_file_contains(err, "flockctl check: no member of the group answered"));
    kill(pid, SIGCONT);
    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s'", FLOCK, file), 0);

    /* watch: initial members, then --duration ends it */
    CHECK_EQ_INT(tt_run(out, err, "'%s' watch '%s' --interval 100 --duration 1", FLOCK, file), 0);
    snprintf(line, sizeof line, "Z MEMBER %s 42", live);
    CHECK(tt_file_contains(out, line));
    snprintf(line, sizeof line, "Z MEMBER %s 42", dead);
    CHECK(tt_file_contains(out, line));
    CHECK(!tt_file_contains(out, "JOINED") && !tt_file_contains(out, "LEFT") && !tt_file_contains(out, "DIED"));
    /* watch --json */
    CHECK_EQ_INT(tt_run(out, err, "'%s' watch '%s' --interval 100 --duration 0.5 --json", FLOCK, file), 0);
    CHECK(tt_file_contains(out, "\"event\":\"MEMBER\""));

    /* a watcher whose group disappears exits 1 */
    pid_t w = tt_start(out, err, "'%s' watch '%s' --interval 100", FLOCK, file);
    CHECK(tt_wait_contains(out, "MEMBER", 2, TT_START_TIMEOUT_MS));
    kill(pid, SIGKILL);
    tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS);
    CHECK_EQ_INT(tt_wait_exit(w, TT_EXIT_TIMEOUT_MS), 1);
    CHECK(tt_file_contains(err, "no member of the group answers any more"));
    /* and show now fails with every member named */
    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s' --timeout 500", FLOCK, file), 1);
    CHECK(tt_file_contains(err, "no member of the group answered"));
}

int main(void)
{
    check_help_and_usage();
    check_show_and_check();
    return FT_DONE();
}
