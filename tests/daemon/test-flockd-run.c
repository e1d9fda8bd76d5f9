/*
 * test-flockd-run.c -- flockd run as a user runs it: command line, every
 * kind of bad configuration (exit status 1, the field named, nothing
 * started), the bootstrap methods self / join / file / view and their
 * fallbacks, several providers in one daemon, SIGTERM / SIGINT.
 */
#include "tools-test.h"

#define FLOCKD ft_bin("src/daemon/flockd")

/* ---------------------------------------------------------------- */
/* command line                                                      */
/* ---------------------------------------------------------------- */

static void check_command_line(void)
{
    const char* out = tt_path("cl.out");
    const char* err = tt_path("cl.err");
    const char* cfg = tt_path("cl.json");
    tt_write_file(cfg,
                  "{'providers':[{'type':'flock','name':'p','config':{'bootstrap':'self',"
                  "'group':{'type':'static'}}}]}",
                  true);

    CHECK_EQ_INT(tt_run(out, err, "'%s' --help", FLOCKD), 0);
    CHECK(tt_file_contains(out, "Usage: flockd <address or protocol> -c <config.json>"));
    CHECK(tt_file_contains(out, "Bootstrap methods"));
    CHECK_EQ_INT(tt_run(out, err, "'%s' --version", FLOCKD), 0);
    CHECK(tt_file_contains(out, "flockd "));

    static const struct {
        const char* args;
        const char* error;
    } usage[] = {
        {"", "missing -c <config.json>"},
        {"na+sm", "missing -c <config.json>"},
        {"-c CFG", "missing the address or protocol"},
        {"na+sm -c", "option -c needs a file"},
        {"na+sm -c CFG -v loud", "unknown log level \"loud\""},
        {"na+sm -c CFG -v", "option -v needs a level"},
        {"na+sm -c CFG --bogus", "unknown option \"--bogus\""},
        {"na+sm tcp -c CFG", "unexpected argument \"tcp\""},
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        char args[512] = "";
        /* substitute CFG */
        const char* p = strstr(usage[i].args, "CFG");
        if (p)
            snprintf(args, sizeof args, "%.*s'%s'%s", (int)(p - usage[i].args), usage[i].args, cfg,
                     p + 3);
        else
            snprintf(args, sizeof args, "%s", usage[i].args);
        int rc = tt_run(out, err, "'%s' %s", FLOCKD, args);
        if (rc != 2 || !tt_file_contains(err, usage[i].error)) {
            FT_FAIL("usage case \"%s\": exit %d, expected 2 and '%s'", usage[i].args, rc, usage[i].error);
            tt_dump("stderr", err);
        }
        CHECK(!tt_file_contains(out, "listening"));
    }

    /* --check */
    CHECK_EQ_INT(tt_run(out, err, "'%s' --check -c '%s'", FLOCKD, cfg), 0);
    CHECK(tt_file_contains(out, "is valid (1 provider)"));
    /* a listen address that cannot work */
    CHECK_EQ_INT(tt_run(out, err, "'%s' bogus+proto -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "flockd: cannot listen on \"bogus+proto\""));
    CHECK(!tt_file_contains(out, "listening"));
}

/* ---------------------------------------------------------------- */
/* bad configurations                                                */
/* ---------------------------------------------------------------- */

#define GRP "'group':{'type':'centralized','config':{}}"
#define ONE(cfg) "{'libraries':['libflock-bedrock-module.so'],'providers':[{'type':'flock','name':'p','provider_id':42,'config':" cfg "}]}"

static const struct {
    const char* name;
    const char* json;
    const char* error; /* must appear in stderr */
} bad_configs[] = {
    {"empty file", "", "(config): invalid JSON"},
    {"bad JSON", "{'providers': [", "(config): invalid JSON at line 1"},
    {"bad JSON line 3", "{\n'providers':\n [}", "(config): invalid JSON at line 3"},
    {"not an object", "42", "(top level): expected an object"},
    {"missing providers", "{'libraries':['libflock-bedrock-module.so']}", "providers: missing"},
    {"providers wrong type", "{'providers':'flock'}", "providers: expected an array of providers, got a string"},
    {"no provider", "{'providers':[]}", "providers: expected at least one provider"},
    {"unknown library", "{'libraries':['libyokan-bedrock-module.so'],'providers':[]}", "libraries[0]: unknown library \"libyokan-bedrock-module.so\""},
    {"unsupported Bedrock section", "{'ssg':[{'name':'g'}],'providers':[]}", "ssg: not supported by flockd"},
    {"unknown provider type", "{'providers':[{'type':'yokan','name':'p','config':{}}]}", "providers[0].type: unknown provider type \"yokan\""},
    {"missing name", "{'providers':[{'type':'flock','config':{}}]}", "providers[0].name: missing"},
    {"provider id wrong type", "{'providers':[{'type':'flock','name':'p','provider_id':'42','config':{}}]}", "providers[0].provider_id: expected an integer, got a string"},
    {"provider id out of range", "{'providers':[{'type':'flock','name':'p','provider_id':70000,'config':{}}]}", "providers[0].provider_id: must be an integer between 0 and 65534"},
    {"duplicate provider id", "{'providers':[{'type':'flock','name':'a','provider_id':1,'config':{'bootstrap':'self'," GRP "}},{'type':'flock','name':'b','provider_id':1,'config':{}}]}", "providers[1].provider_id: 1 is already the provider id of providers[0]"},
    {"pool dependency array", "{'providers':[{'type':'flock','name':'p','dependencies':{'pool':['x']},'config':{}}]}", "providers[0].dependencies.pool: expected a string"},
    {"unknown pool", "{'providers':[{'type':'flock','name':'p','dependencies':{'pool':'x'},'config':{}}]}", "providers[0].dependencies.pool: unknown pool \"x\""},
    {"missing config", "{'providers':[{'type':'flock','name':'p'}]}", "providers[0].config: missing"},
    {"missing bootstrap", ONE("{" GRP "}"), "providers[0].config.bootstrap: missing"},
    {"bootstrap wrong type", ONE("{'bootstrap':true," GRP "}"), "providers[0].config.bootstrap: expected a string or an array of strings, got a boolean"},
    {"unknown bootstrap", ONE("{'bootstrap':'dns'," GRP "}"), "providers[0].config.bootstrap: unknown bootstrap method \"dns\""},
    {"unknown bootstrap in list", ONE("{'bootstrap':['join','dns'],'file':'f'," GRP "}"), "providers[0].config.bootstrap[1]: unknown bootstrap method \"dns\""},
    {"join without file", ONE("{'bootstrap':'join'," GRP "}"), "providers[0].config.file: missing (required by bootstrap method \"join\")"},
    {"file method without file", ONE("{'bootstrap':'file'," GRP "}"), "providers[0].config.file: missing (required by bootstrap method \"file\")"},
    {"view method without view", ONE("{'bootstrap':'view'," GRP "}"), "providers[0].config.view: missing"},
    {"bad inline view", ONE("{'bootstrap':'view','view':{'members':[{'address':'na+sm://1-0'}]}," GRP "}"), "providers[0].config.view.members[0].provider_id: missing"},
    {"file wrong type", ONE("{'bootstrap':'join','file':['g.flock']," GRP "}"), "providers[0].config.file: expected a string, got an array"},
    {"mpi_ranks wrong type", ONE("{'bootstrap':['mpi','self'],'mpi_ranks':'0-3'," GRP "}"), "providers[0].config.mpi_ranks: expected an array of integers"},
    {"static join only", ONE("{'bootstrap':'join','file':'g','group':{'type':'static'}}"), "providers[0].config.bootstrap: \"join\" is impossible with the static backend"},
    {"missing group", ONE("{'bootstrap':'self'}"), "providers[0].config.group: missing"},
    {"unknown backend", ONE("{'bootstrap':'self','group':{'type':'paxos'}}"), "providers[0].config.group.type: unknown backend \"paxos\""},
    {"backend config wrong type", ONE("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_timeout_ms':'1s'}}}"), "providers[0].config.group.config.ping_timeout_ms: expected a number (milliseconds), got a string"},
    {"unknown gateway", ONE("{'bootstrap':'self'," GRP ",'gateway':{'type':'vpn'}}"), "providers[0].config.gateway.type: unknown gateway \"vpn\""},
};

static void check_bad_configs(void)
{
    const char* out = tt_path("bad.out");
    const char* err = tt_path("bad.err");
    const char* cfg = tt_path("bad.json");
    for (size_t i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++) {
        tt_write_file(cfg, bad_configs[i].json, true);
        int rc = tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg);
        bool ok = rc == 1 && tt_file_contains(err, "flockd: invalid configuration")
               && tt_file_contains(err, bad_configs[i].error) && !tt_file_contains(out, "listening");
        if (!ok) {
            FT_FAIL("bad config \"%s\": exit %d, expected 1 with '%s' and nothing started",
                    bad_configs[i].name, rc, bad_configs[i].error);
            tt_dump("stdout", out);
            tt_dump("stderr", err);
        }
        /* --check says the same */
        CHECK_EQ_INT(tt_run(out, err, "'%s' --check -c '%s'", FLOCKD, cfg), 1);
        CHECK(tt_file_contains(err, bad_configs[i].error));
    }
    /* a config file that does not exist */
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, tt_path("nope.json")), 1);
    CHECK(tt_file_contains(err, "nope.json: cannot open: No such file or directory"));
    /* a directory */
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, ft_tmpdir()), 1);
    CHECK(tt_file_contains(err, "flockd: invalid configuration"));
}

/* ---------------------------------------------------------------- */
/* running daemons                                                   */
/* ---------------------------------------------------------------- */

/* self bootstrap, group file, graceful stop on sig */
static void check_self_and_signal(int sig)
{
    const char* out  = tt_path("self.out");
    const char* err  = tt_path("self.err");
    const char* cfg  = tt_path("self.json");
    const char* file = tt_path("self.flock");
    char        json[2048];
    unlink(file);
    snprintf(json, sizeof json,
             "{'libraries':['libflock-bedrock-module.so'],'providers':[{'type':'flock','name':'g',"
             "'provider_id':42,'dependencies':{'pool':'__primary__'},'config':{'bootstrap':'self',"
             "'file':'%s','group':{'type':'static','config':{}}}}]}",
             file);
    tt_write_file(cfg, json, true);
    pid_t       pid  = tt_start_flockd("na+sm", cfg, out, err);
    const char* addr = tt_flockd_address(out);
    REQUIRE(addr != NULL);
    CHECK(strncmp(addr, "na+sm://", 8) == 0);
    /* the group file is written before "ready" */
    char expect[512];
    snprintf(expect, sizeof expect, "{\"members\":[{\"address\":\"%s\",\"provider_id\":42}]", addr);
    CHECK(tt_file_contains(file, expect));
    CHECK(tt_file_contains(err, "provider \"g\" (id 42, static backend) started with bootstrap \"self\""));
    kill(pid, sig);
    int rc = tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS);
    CHECK_EQ_INT(rc, 0);
    CHECK(tt_file_contains(out, "flockd: stopped"));
    if (rc != 0) tt_dump("stderr", err);
}

/* two providers in one daemon, on tcp */
static void check_two_providers(void)
{
    const char* out = tt_path("two.out");
    const char* err = tt_path("two.err");
    const char* cfg = tt_path("two.json");
    char        json[2048];
    snprintf(json, sizeof json,
             "{'providers':["
             "{'type':'flock','name':'a','provider_id':1,'config':{'bootstrap':'self','file':'%s',"
             "'group':{'type':'static'}}},"
             "{'type':'flock','name':'b','provider_id':2,'config':{'bootstrap':['join','self'],"
             "'file':'%s','group':{'type':'static'}}}]}",
             tt_path("two-a.flock"), tt_path("two-b.flock"));
    tt_write_file(cfg, json, true);
    pid_t       pid  = tt_start_flockd("tcp://127.0.0.1:0", cfg, out, err);
    const char* addr = tt_flockd_address(out);
    REQUIRE(addr != NULL);
    CHECK(strncmp(addr, "tcp://127.0.0.1:", 16) == 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "{\"address\":\"%s\",\"provider_id\":1}", addr);
    snprintf(b, sizeof b, "{\"address\":\"%s\",\"provider_id\":2}", addr);
    CHECK(tt_file_contains(tt_path("two-a.flock"), a));
    CHECK(tt_file_contains(tt_path("two-b.flock"), b));
    /* b: join failed (no file yet), then self */
    CHECK(tt_file_contains(err, "provider \"b\": bootstrap \"join\" failed (group file"));
    CHECK(tt_file_contains(err, "No such file or directory); trying \"self\""));
    CHECK(tt_file_contains(err, "provider \"b\" (id 2, static backend) started with bootstrap \"self\""));
    kill(pid, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS), 0);
}

/* a start-up failure: nothing left running, exit 1 */
static void check_start_failures(void)
{
    const char* out = tt_path("fail.out");
    const char* err = tt_path("fail.err");
    const char* cfg = tt_path("fail.json");
    char        json[2048];

    /* join only, the file does not exist */
    snprintf(json, sizeof json, ONE("{'bootstrap':'join','file':'%s'," GRP "}"), tt_path("missing.flock"));
    tt_write_file(cfg, json, true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "bootstrap \"join\" failed: group file"));
    CHECK(tt_file_contains(err, "No such file or directory"));
    CHECK(tt_file_contains(err, "flockd: provider \"p\" could not start"));
    CHECK(!tt_file_contains(out, "flockd: ready"));

    /* join with a file that is not a view */
    tt_write_file(tt_path("garbage.flock"), "{'members':3}", true);
    snprintf(json, sizeof json, ONE("{'bootstrap':'join','file':'%s'," GRP "}"), tt_path("garbage.flock"));
    tt_write_file(cfg, json, true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "not a valid group view"));

    /* "file" with a static group this process is not part of: joining a
     * static group is forbidden, then "self" is not listed: failure */
    tt_write_file(tt_path("other.flock"),
                  "{'members':[{'address':'na+sm://1-0','provider_id':42}],'metadata':{}}", true);
    snprintf(json, sizeof json, ONE("{'bootstrap':'file','file':'%s','group':{'type':'static'}}"),
             tt_path("other.flock"));
    tt_write_file(cfg, json, true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "bootstrap \"file\" failed: joining the group of"));
    CHECK(tt_file_contains(err, "failed: Forbidden operation"));

    /* second provider fails: the first is stopped again, exit 1 */
    snprintf(json, sizeof json,
             "{'providers':[{'type':'flock','name':'a','provider_id':1,'config':{'bootstrap':'self',"
             "'group':{'type':'static'}}},{'type':'flock','name':'b','provider_id':2,'config':{"
             "'bootstrap':'join','file':'%s'," GRP "}}]}",
             tt_path("missing.flock"));
    tt_write_file(cfg, json, true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "provider \"a\" (id 1, static backend) started"));
    CHECK(tt_file_contains(err, "flockd: provider \"b\" could not start"));
}

/* "view" and "file" bootstraps with a fixed tcp address known in advance */
static void check_view_and_file(void)
{
    const char* out  = tt_path("view.out");
    const char* err  = tt_path("view.err");
    const char* cfg  = tt_path("view.json");
    const char* file = tt_path("view.flock");
    char        json[4096], listen[128];
    int         port = ft_free_tcp_port();
    REQUIRE(port > 0);
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", port);
    /* a static group of two: this daemon (index 0) and a member that does not run */
    snprintf(json, sizeof json,
             ONE("{'bootstrap':'view','file':'%s','view':{'members':[{'address':'%s','provider_id':42},"
                 "{'address':'tcp://127.0.0.2:1','provider_id':42}],'metadata':{'color':'blue'}},"
                 "'group':{'type':'static'}}"),
             file, listen);
    tt_write_file(cfg, json, true);
    unlink(file);
    pid_t pid = tt_start_flockd(listen, cfg, out, err);
    CHECK(tt_file_contains(file, "{\"address\":\"tcp://127.0.0.2:1\",\"provider_id\":42}"));
    CHECK(tt_file_contains(file, "\"color\":\"blue\""));
    kill(pid, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS), 0);

    /* "file": the file lists this address, so it takes its place */
    port = ft_free_tcp_port();
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", port);
    snprintf(json, sizeof json,
             "{'members':[{'address':'%s','provider_id':42},{'address':'tcp://127.0.0.2:1',"
             "'provider_id':42}],'metadata':{'k':'v'}}",
             listen);
    tt_write_file(file, json, true);
    snprintf(json, sizeof json, ONE("{'bootstrap':'file','file':'%s','group':{'type':'static'}}"), file);
    tt_write_file(cfg, json, true);
    pid = tt_start_flockd(listen, cfg, out, err);
    CHECK(tt_file_contains(err, "started with bootstrap \"file\""));
    CHECK(tt_file_contains(file, "\"k\":\"v\""));
    kill(pid, SIGINT);
    CHECK_EQ_INT(tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS), 0);

    /* "join" with a file that lists this provider: it takes its place again
     * (a restart), "self" is not tried and the group file is kept */
    port = ft_free_tcp_port();
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", port);
    snprintf(json, sizeof json,
             "{'members':[{'address':'%s','provider_id':42},{'address':'tcp://127.0.0.2:1',"
             "'provider_id':42}],'metadata':{'kept':'yes'}}", listen);
    tt_write_file(file, json, true);
    snprintf(json, sizeof json, ONE("{'bootstrap':['join','self'],'file':'%s','group':{'type':'static'}}"), file);
    tt_write_file(cfg, json, true);
    pid = tt_start_flockd(listen, cfg, out, err);
    CHECK(tt_file_contains(err, "taking its place again"));
    CHECK(tt_file_contains(err, "started with bootstrap \"join\""));
    CHECK(!tt_file_contains(err, "trying \"self\""));
    CHECK(tt_file_contains(file, "tcp://127.0.0.2:1"));
    CHECK(tt_file_contains(file, "\"kept\":\"yes\""));
    kill(pid, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS), 0);
}

/* A group file is never destroyed nor taken over: ["join","self"] falls back
 * to "self" only when the file does not exist. */
static void check_file_protection(void)
{
    const char* out  = tt_path("prot.out");
    const char* err  = tt_path("prot.err");
    const char* cfg  = tt_path("prot.json");
    const char* file = tt_path("prot.flock");
    const char* live = tt_path("live.flock");
    char        json[4096];

    /* invalid JSON: error naming the file, file untouched */
    tt_write_file(file, "{'members':[{'address'", true);
    snprintf(json, sizeof json, ONE("{'bootstrap':['join','self'],'file':'%s'," GRP "}"), file);
    tt_write_file(cfg, json, true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "is not a valid group view"));
    CHECK(tt_file_contains(err, file));
    CHECK(!tt_file_contains(err, "trying \"self\""));
    CHECK(tt_file_contains(file, "{\"members\":[{\"address\""));

    /* unreadable (mode 000; root reads anyway, so only checked for others) */
    if (geteuid() != 0) {
        tt_write_file(file, "{'members':[{'address':'na+sm://1-0','provider_id':1}]}", true);
        REQUIRE(chmod(file, 0) == 0);
        CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
        CHECK(tt_file_contains(err, "Permission denied"));
        REQUIRE(chmod(file, 0644) == 0);
    }

    /* a directory (not a regular file) at the path */
    snprintf(json, sizeof json, ONE("{'bootstrap':['join','self'],'file':'%s'," GRP "}"),
             tt_path("adir"));
    tt_write_file(cfg, json, true);
    REQUIRE(mkdir(tt_path("adir"), 0700) == 0);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "is not a regular file"));

    /* a file of another backend type: error naming both, file untouched */
    tt_write_file(file,
                  "{'members':[{'address':'na+sm://1-0','provider_id':1}],'metadata':"
                  "{'__type__':'centralized','__config__':'{}'}}", true);
    snprintf(json, sizeof json,
             ONE("{'bootstrap':['join','self'],'file':'%s','group':{'type':'swim'}}"), file);
    tt_write_file(cfg, json, true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "describes a \"centralized\" group"));
    CHECK(tt_file_contains(err, "configured for the \"swim\" backend"));
    CHECK(tt_file_contains(file, "na+sm://1-0"));

    /* "self" next to a live group's file refuses; next to a dead one starts */
    snprintf(json, sizeof json, ONE("{'bootstrap':'self','file':'%s'," GRP "}"), live);
    tt_write_file(cfg, json, true);
    unlink(live);
    pid_t pid = tt_start_flockd("na+sm", cfg, out, err);
    REQUIRE(tt_file_contains(live, "na+sm://"));
    CHECK_EQ_INT(tt_run(tt_path("prot2.out"), tt_path("prot2.err"), "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(tt_path("prot2.err"), "describes a live group"));
    kill(pid, SIGKILL);
    tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS);
    pid = tt_start_flockd("na+sm", cfg, out, err);
    CHECK(tt_file_contains(err, "none of the 1 member(s) listed"));
    CHECK(tt_file_contains(err, "started with bootstrap \"self\""));
    kill(pid, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(pid, TT_EXIT_TIMEOUT_MS), 0);
}

/* A group file that cannot be written: at start a non-zero exit with the
 * reason; later, the failed rewrite is retried until it succeeds (as root a
 * read-only directory does not stop a write, so the directory is taken
 * away and given back). */
static void check_file_write_failures(void)
{
    const char* out = tt_path("wf.out");
    const char* err = tt_path("wf.err");
    const char* cfg = tt_path("wf.json");
    char        json[2048], dir[512], away[512], file[600], moved[600], member[600];

    snprintf(json, sizeof json, ONE("{'bootstrap':'self','file':'%s/nodir/g.flock'," GRP "}"),
             ft_tmpdir());
    tt_write_file(cfg, json, true);
    CHECK_EQ_INT(tt_run(out, err, "'%s' na+sm -c '%s'", FLOCKD, cfg), 1);
    CHECK(tt_file_contains(err, "cannot write its group file"));
    CHECK(tt_file_contains(err, "could not start"));
    CHECK(!tt_file_contains(out, "flockd: ready"));

    snprintf(dir, sizeof dir, "%s/wfdir", ft_tmpdir());
    snprintf(away, sizeof away, "%s/wfdir.away", ft_tmpdir());
    snprintf(file, sizeof file, "%s/g.flock", dir);
    snprintf(moved, sizeof moved, "%s/g.flock", away);
    REQUIRE(mkdir(dir, 0700) == 0);
    snprintf(json, sizeof json, ONE("{'bootstrap':'self','file':'%s'," GRP "}"), file);
    tt_write_file(cfg, json, true);
    pid_t primary = tt_start_flockd("na+sm", cfg, out, err);
    REQUIRE(tt_wait_contains(file, "na+sm://", 1, 20000));
    char old[600];
    snprintf(old, sizeof old, "%s/one-member.flock", ft_tmpdir());
    REQUIRE(tt_run(tt_path("cp.out"), tt_path("cp.err"), "cp '%s' '%s'", file, old) == 0);
    REQUIRE(rename(dir, away) == 0);
    /* a joiner through the moved file: the primary's rewrite fails */
    snprintf(json, sizeof json, ONE("{'bootstrap':'join','file':'%s'," GRP "}"), moved);
    tt_write_file(tt_path("wf2.json"), json, true);
    pid_t joiner = tt_start_flockd("na+sm", tt_path("wf2.json"), tt_path("wf2.out"),
                                   tt_path("wf2.err"));
    const char* jaddr = tt_flockd_address(tt_path("wf2.out"));
    REQUIRE(jaddr != NULL);
    snprintf(member, sizeof member, "{\"address\":\"%s\",\"provider_id\":42}", jaddr);
    CHECK(tt_wait_contains(err, "retrying until it can", 1, 20000));
    REQUIRE(mkdir(dir, 0700) == 0); /* the directory is back: the retry writes */
    CHECK(tt_wait_contains(file, member, 1, 30000));
    CHECK(tt_wait_contains(err, "written again", 1, 20000));
    /* flockctl check reports a group file that lags the group's view */
    CHECK_EQ_INT(tt_run(tt_path("ck.out"), tt_path("ck.err"), "'%s' check '%s'",
                        ft_bin("src/cli/flockctl"), file), 0);
    CHECK(!tt_file_contains(tt_path("ck.out"), "is stale"));
    REQUIRE(tt_run(tt_path("cp.out"), tt_path("cp.err"), "cp '%s' '%s'", old, file) == 0);
    CHECK_EQ_INT(tt_run(tt_path("ck.out"), tt_path("ck.err"), "'%s' check '%s'",
                        ft_bin("src/cli/flockctl"), file), 0);
    CHECK(tt_file_contains(tt_path("ck.out"), "is stale: it lists 1 member"));
    kill(joiner, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(joiner, TT_EXIT_TIMEOUT_MS), 0);
    kill(primary, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(primary, TT_EXIT_TIMEOUT_MS), 0);
}

int main(void)
{
    check_command_line();
    check_bad_configs();
    check_self_and_signal(SIGTERM);
    check_self_and_signal(SIGINT);
    check_two_providers();
    check_start_failures();
    check_view_and_file();
    check_file_protection();
    check_file_write_failures();
    return FT_DONE();
}
