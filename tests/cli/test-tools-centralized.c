/*
 * test-tools-centralized.c -- flockd and the flock CLI on a centralized
 * group (or a swim group with argument "swim"), as a user runs them (this
 * is what scripts/demo.sh shows):
 * a group started with ["join", "self"], members joining through the group
 * file, a daemon with two providers in the same group, `flockctl watch`
 * reporting JOINED / DIED / LEFT, `flockctl show` and `flockctl check` before and
 * after a SIGKILL and a SIGTERM.
 */
#include "../daemon/tools-test.h"

#define FLOCKD ft_bin("src/daemon/flockd")
#define FLOCK  ft_bin("src/cli/flockctl")
/* generous: detection takes ~2 s with the config below, the machine is loaded */
#define EVENT_TIMEOUT_MS 60000.0

/* the "group" section, per backend (argv[1]: centralized (default) or swim) */
static const char* group_config = NULL;

static const char* const centralized_config =
    "'group':{'type':'centralized','config':{'ping_timeout_ms':400.0,'ping_interval_ms':"
    "[300.0,500.0],'ping_max_num_timeouts':2}}";
static const char* const swim_config =
    "'group':{'type':'swim','config':{'protocol_period_ms':200.0,'ping_timeout_ms':100.0,"
    "'ping_req_timeout_ms':200.0,'ping_req_members':2,'suspicion_timeout_ms':1000.0}}";

static void write_member_config(const char* path, const char* file, const char* bootstrap)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{'libraries':['libflock-bedrock-module.so'],'providers':[{'type':'flock','name':'g',"
             "'provider_id':42,'config':{'bootstrap':%s,'file':'%s',%s}}]}",
             bootstrap, file, group_config);
    tt_write_file(path, json, true);
}

static bool event_seen(const char* log, const char* event, const char* addr, int pid)
{
    char line[256];
    snprintf(line, sizeof line, "Z %-6s %s %d\n", event, addr, pid);
    return tt_file_contains(log, line);
}

typedef struct {
    const char* log;
    const char* event;
    const char* addr;
    int         pid;
} event_arg;

static bool pred_event(void* arg)
{
    event_arg* e = arg;
    return event_seen(e->log, e->event, e->addr, e->pid);
}

static bool wait_event(const char* log, const char* event, const char* addr, int pid)
{
    event_arg e = {log, event, addr, pid};
    return ft_wait_until(pred_event, &e, EVENT_TIMEOUT_MS);
}

/* `flockctl show` of one member until its view has the text `want` (a
 * member that still suspects a dead peer lists it until its own
 * declaration or the gossip of someone else's reaches it) */
typedef struct {
    const char *cmd, *out, *err, *want;
} show_arg;

static bool pred_show(void* arg)
{
    show_arg* a = arg;
    return tt_run(a->out, a->err, "%s", a->cmd) == 0 && tt_file_contains(a->out, a->want);
}

/* centralized only: a group on a fixed tcp address, joined through an inline
 * "view" (no group file) that names the primary */
static void check_join_by_view(void)
{
    const char* cfgp = tt_path("vp.json");
    const char* cfgj = tt_path("vj.json");
    const char* out  = tt_path("v.out");
    const char* err  = tt_path("v.err");
    char        json[2048], primary[128];
    int         port = ft_free_tcp_port();
    REQUIRE(port > 0);
    snprintf(primary, sizeof primary, "tcp://127.0.0.1:%d", port);
    tt_write_file(cfgp,
                  "{'providers':[{'type':'flock','name':'g','provider_id':42,'config':{"
                  "'bootstrap':'self','group':{'type':'centralized'}}}]}",
                  true);
    snprintf(json, sizeof json,
             "{'providers':[{'type':'flock','name':'g','provider_id':42,'config':{'bootstrap':'view',"
             "'view':{'members':[{'address':'%s','provider_id':42}]},'group':{'type':'centralized',"
             "'config':{'primary_address':'%s','primary_provider_id':42}}}}]}",
             primary, primary);
    tt_write_file(cfgj, json, true);
    pid_t p = tt_start_flockd(primary, cfgp, tt_path("vp.out"), tt_path("vp.err"));
    pid_t j = tt_start_flockd("tcp://127.0.0.1:0", cfgj, tt_path("vj.out"), tt_path("vj.err"));
    CHECK(tt_file_contains(tt_path("vj.err"), "started with bootstrap \"view\""));
    CHECK_EQ_INT(tt_run(out, err, "'%s' check --address %s --provider-id 42", FLOCK, primary), 0);
    CHECK(tt_file_contains(out, "2 of 2 members answered"));
    kill(j, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(j, TT_EXIT_TIMEOUT_MS), 0);
    kill(p, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(p, TT_EXIT_TIMEOUT_MS), 0);
}

int main(int argc, char** argv)
{
    bool swim    = argc > 1 && strcmp(argv[1], "swim") == 0;
    group_config = swim ? swim_config : centralized_config;
    const char* file = tt_path("g.flock");
    const char* cfg0 = tt_path("first.json");
    const char* cfgj = tt_path("join.json");
    const char* cfg2 = tt_path("two.json");
    const char* wlog = tt_path("watch.log");
    const char* werr = tt_path("watch.err");
    const char* out  = tt_path("cli.out");
    const char* err  = tt_path("cli.err");
    char        addr[5][256];
    pid_t       d[5];

    write_member_config(cfg0, file, "['join','self']");
    write_member_config(cfgj, file, "'join'");
    {
        char json[2048];
        snprintf(json, sizeof json,
                 "{'providers':[{'type':'flock','name':'a','provider_id':10,'config':{'bootstrap':"
                 "'join','file':'%s',%s}},{'type':'flock','name':'b','provider_id':11,"
                 "'config':{'bootstrap':'join','file':'%s',%s}}]}",
                 file, group_config, file, group_config);
        tt_write_file(cfg2, json, true);
    }

    /* 1. the group: the file does not exist yet, so "join" fails and "self" starts it */
    d[0] = tt_start_flockd("na+sm", cfg0, tt_path("d0.out"), tt_path("d0.err"));
    REQUIRE(snprintf(addr[0], sizeof addr[0], "%s", tt_flockd_address(tt_path("d0.out"))) < (int)sizeof addr[0]);
    CHECK(tt_file_contains(tt_path("d0.err"), "bootstrap \"join\" failed"));
    CHECK(tt_file_contains(tt_path("d0.err"), "started with bootstrap \"self\""));

    /* 2. a watcher from the start */
    pid_t w = tt_start(wlog, werr, "'%s' watch '%s' --interval 100", FLOCK, file);
    REQUIRE(wait_event(wlog, "MEMBER", addr[0], 42));

    /* 3. three members join through the file */
    for (int i = 1; i <= 3; i++) {
        char o[32], e[32];
        snprintf(o, sizeof o, "d%d.out", i);
        snprintf(e, sizeof e, "d%d.err", i);
        for (int k = 0; k < i; k++) {
            char m[512];
            if (snprintf(m, sizeof m, "{\"address\":\"%s\",\"provider_id\":42}", addr[k])
                < (int)sizeof m)
                CHECK(tt_wait_contains(file, m, 1, EVENT_TIMEOUT_MS));
        }
        d[i] = tt_start_flockd("na+sm", cfgj, tt_path(o), tt_path(e));
        REQUIRE(snprintf(addr[i], sizeof addr[i], "%s", tt_flockd_address(tt_path(o))) < (int)sizeof addr[i]);
        CHECK(tt_file_contains(tt_path(e), "started with bootstrap \"join\""));
    }
    for (int i = 1; i <= 3; i++)
        if (!wait_event(wlog, "JOINED", addr[i], 42)) FT_FAIL("JOINED %s not seen", addr[i]);

    /* 4. a daemon with two providers joining the same group */
    d[4] = tt_start_flockd("na+sm", cfg2, tt_path("d4.out"), tt_path("d4.err"));
    snprintf(addr[4], sizeof addr[4], "%s", tt_flockd_address(tt_path("d4.out")));
    CHECK(wait_event(wlog, "JOINED", addr[4], 10));
    CHECK(wait_event(wlog, "JOINED", addr[4], 11));

    CHECK_EQ_INT(tt_run(out, err, "'%s' show '%s' --json", FLOCK, file), 0);
    CHECK_EQ_INT(tt_file_count(out, "\"index\":"), 6);
    CHECK_EQ_INT(tt_run(out, err, "'%s' check '%s'", FLOCK, file), 0);
    CHECK(tt_file_contains(out, "6 of 6 members answered"));

    /* 5. SIGKILL: detected as DIED, and check fails until then */
    kill(d[1], SIGKILL);
    tt_wait_exit(d[1], TT_EXIT_TIMEOUT_MS);
    if (!wait_event(wlog, "DIED", addr[1], 42)) {
        FT_FAIL("DIED %s not seen", addr[1]);
        tt_dump("watch", wlog);
    }
    CHECK(!event_seen(wlog, "LEFT", addr[1], 42));

    /* 6. SIGTERM: a graceful leave, LEFT */
    kill(d[2], SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(d[2], TT_EXIT_TIMEOUT_MS), 0);
    CHECK(tt_file_contains(tt_path("d2.out"), "flockd: stopped"));
    if (!wait_event(wlog, "LEFT", addr[2], 42)) {
        FT_FAIL("LEFT %s not seen", addr[2]);
        tt_dump("watch", wlog);
    }
    CHECK(!event_seen(wlog, "DIED", addr[2], 42));

    /* 7. the two-provider daemon leaves: both providers LEFT */
    kill(d[4], SIGINT);
    CHECK_EQ_INT(tt_wait_exit(d[4], TT_EXIT_TIMEOUT_MS), 0);
    CHECK(wait_event(wlog, "LEFT", addr[4], 10));
    CHECK(wait_event(wlog, "LEFT", addr[4], 11));

    /* 8. the group now: first and fourth */
    CHECK_EQ_INT(tt_run(out, err, "'%s' check '%s'", FLOCK, file), 0);
    CHECK(tt_file_contains(out, "2 of 2 members answered"));
    char show[1024];
    snprintf(show, sizeof show, "'%s' show --address %s --provider-id 42", FLOCK, addr[3]);
    show_arg sa = {show, out, err, "2 members, digest"};
    CHECK(ft_wait_until(pred_show, &sa, EVENT_TIMEOUT_MS));
    CHECK(tt_file_contains(out, addr[0]));
    if (ft_failures) tt_dump("show", out);

    /* 9. the watcher stops on SIGTERM with status 0; every line is well formed */
    kill(w, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(w, TT_EXIT_TIMEOUT_MS), 0);
    CHECK_EQ_INT(tt_file_count(wlog, " JOINED "), 5);
    CHECK_EQ_INT(tt_file_count(wlog, " DIED "), 1);
    CHECK_EQ_INT(tt_file_count(wlog, " LEFT "), 3);
    if (ft_failures) {
        tt_dump("watch", wlog);
        tt_dump("watch stderr", werr);
        tt_dump("first flockd", tt_path("d0.err"));
    }

    kill(d[0], SIGTERM);
    kill(d[3], SIGTERM);
    int st3 = tt_wait_exit(d[3], TT_EXIT_TIMEOUT_MS);
    int st0 = tt_wait_exit(d[0], TT_EXIT_TIMEOUT_MS);
    CHECK_EQ_INT(st3, 0);
    CHECK_EQ_INT(st0, 0);
    if (st3 != 0) tt_dump("fourth flockd", tt_path("d3.err"));
    if (st0 != 0) tt_dump("first flockd", tt_path("d0.err"));

    if (!swim) check_join_by_view();
    return FT_DONE();
}
