/*
 * test-cli-format.c -- table-driven tests of the flock CLI's pure parts:
 * argument parsing, protocol detection, timestamps, table / JSON output and
 * view diffs.
 */
#include "flock-test.h"
#include "cli/flock-cli.h"

#include <json-c/json.h>

typedef struct {
    const char* argv[12];
    int         ok;          /* 1: accepted */
    flock_cli_cmd cmd;       /* expected command when accepted */
    const char* error;       /* substring of the usage error when rejected */
} args_case;

static const args_case args_cases[] = {
    {{"flock", "show", "g.flock", NULL}, 1, FLOCK_CLI_SHOW, NULL},
    {{"flock", "show", "--address", "na+sm://1-0", "--provider-id", "42", NULL}, 1, FLOCK_CLI_SHOW, NULL},
    {{"flock", "show", "-a", "na+sm://1-0", "-p", "42", "--json", "--all", NULL}, 1, FLOCK_CLI_SHOW, NULL},
    {{"flock", "show", "--address=na+sm://1-0", "--provider-id=0", NULL}, 1, FLOCK_CLI_SHOW, NULL},
    {{"flock", "watch", "g.flock", "--interval", "100", "--count", "3", "--duration", "2.5", NULL}, 1, FLOCK_CLI_WATCH, NULL},
    {{"flock", "watch", "g.flock", "-i", "100", "-n", "1", "--json", NULL}, 1, FLOCK_CLI_WATCH, NULL},
    {{"flock", "check", "g.flock", "--timeout", "500", "-v", "debug", NULL}, 1, FLOCK_CLI_CHECK, NULL},
    {{"flock", "check", "g.flock", "--protocol", "ofi+tcp", "--json", NULL}, 1, FLOCK_CLI_CHECK, NULL},
    {{"flock", "--help", NULL}, 1, FLOCK_CLI_HELP, NULL},
    {{"flock", "-h", NULL}, 1, FLOCK_CLI_HELP, NULL},
    {{"flock", "help", "watch", NULL}, 1, FLOCK_CLI_HELP, NULL},
    {{"flock", "show", "--help", NULL}, 1, FLOCK_CLI_HELP, NULL},
    {{"flock", "check", "-h", "--bogus", NULL}, 1, FLOCK_CLI_HELP, NULL},
    {{"flock", "--version", NULL}, 1, FLOCK_CLI_VERSION, NULL},
    {{"flockctl", "info", "-a", "na+sm://1-0", "-p", "1", "--json", NULL}, 1, FLOCK_CLI_INFO, NULL},
    {{"flockctl", "leave", "--address", "na+sm://1-0", "--provider-id", "1", NULL}, 1, FLOCK_CLI_LEAVE, NULL},
    {{"flockctl", "force-leave", "g.flock", "na+sm://2-0", NULL}, 1, FLOCK_CLI_FORCE_LEAVE, NULL},
    {{"flockctl", "force-leave", "-a", "na+sm://1-0", "-p", "1", "na+sm://2-0", "7", NULL}, 1, FLOCK_CLI_FORCE_LEAVE, NULL},
    {{"flockctl", "keygen", "k.key", NULL}, 1, FLOCK_CLI_KEYGEN, NULL},
    {{"flockctl", "meta", "get", "g.flock", "k", NULL}, 1, FLOCK_CLI_META, NULL},
    {{"flockctl", "meta", "set", "g.flock", "k", "v", "--key-file", "x.key", NULL}, 1, FLOCK_CLI_META, NULL},
    {{"flockctl", "meta", "unset", "-a", "na+sm://1-0", "-p", "1", "k", NULL}, 1, FLOCK_CLI_META, NULL},
    {{"flockctl", "keygen", NULL}, 0, 0, "keygen needs exactly one FILE"},
    {{"flockctl", "keygen", "a", "b", NULL}, 0, 0, "keygen needs exactly one FILE"},
    {{"flockctl", "keygen", "a", "-a", "x://1", NULL}, 0, 0, "keygen takes no --address"},
    {{"flockctl", "force-leave", "g.flock", NULL}, 0, 0, "missing the MEMBER address"},
    {{"flockctl", "force-leave", "g.flock", "x://1", "99999", NULL}, 0, 0, "expected the member's provider id"},
    {{"flockctl", "meta", "frob", "g.flock", "k", NULL}, 0, 0, "expected get, set or unset"},
    {{"flockctl", "meta", "set", "g.flock", "k", NULL}, 0, 0, "expected [groupfile] KEY VALUE"},
    {{"flockctl", "meta", "get", "g.flock", "k", "v", NULL}, 0, 0, "expected [groupfile] KEY"},
    {{"flockctl", "info", "g.flock", "-a", "x://1", "-p", "1", NULL}, 0, 0, "either a group file or --address"},
    {{"flockctl", "show", "g.flock", "--key-file=", NULL}, 0, 0, "--key-file: empty path"},
    {{"flockctl", "leave", "g.flock", NULL}, 0, 0, "leave needs the member itself"},

    {{"flock", NULL}, 0, 0, "missing command"},
    {{"flock", "list", NULL}, 0, 0, "unknown command \"list\""},
    {{"flock", "help", "list", NULL}, 0, 0, "unknown command \"list\""},
    {{"flock", "show", NULL}, 0, 0, "missing target"},
    {{"flock", "show", "a.flock", "b.flock", NULL}, 0, 0, "one group file only"},
    {{"flock", "show", "g.flock", "--address", "x://1", "-p", "1", NULL}, 0, 0, "either a group file or --address"},
    {{"flock", "show", "--address", "na+sm://1-0", NULL}, 0, 0, "--address needs --provider-id"},
    {{"flock", "show", "--provider-id", "3", NULL}, 0, 0, "--provider-id needs --address"},
    {{"flock", "show", "g.flock", "--provider-id", "3", NULL}, 0, 0, "--provider-id needs --address"},
    {{"flock", "show", "-a", "na+sm://1-0", "-p", "x", NULL}, 0, 0, "--provider-id: expected an integer"},
    {{"flock", "show", "-a", "na+sm://1-0", "-p", "65536", NULL}, 0, 0, "--provider-id: expected an integer between 0 and 65535"},
    {{"flock", "show", "-a", "na+sm://1-0", "-p", "-1", NULL}, 0, 0, "--provider-id: expected an integer"},
    {{"flock", "show", "-a", NULL}, 0, 0, "option -a needs a value"},
    {{"flock", "show", "g.flock", "--interval", "10", NULL}, 0, 0, "unknown option \"--interval\" for \"flockctl show\""},
    {{"flock", "check", "g.flock", "--all", NULL}, 0, 0, "unknown option \"--all\""},
    {{"flock", "watch", "g.flock", "--interval", "0", NULL}, 0, 0, "--interval: expected milliseconds"},
    {{"flock", "watch", "g.flock", "--interval", "fast", NULL}, 0, 0, "--interval: expected milliseconds"},
    {{"flock", "watch", "g.flock", "--count", "0", NULL}, 0, 0, "--count: expected a positive integer"},
    {{"flock", "watch", "g.flock", "--duration", "-1", NULL}, 0, 0, "--duration: expected a positive number"},
    {{"flock", "check", "g.flock", "--timeout", "1e99", NULL}, 0, 0, "--timeout: expected milliseconds"},
    {{"flock", "check", "g.flock", "-v", "loud", NULL}, 0, 0, "--verbose: unknown level \"loud\""},
    {{"flock", "check", "g.flock", "--json=yes", NULL}, 0, 0, "option --json does not take a value"},
    {{"flock", "--version", "x", NULL}, 0, 0, "unexpected argument"},
};

static void check_args(void)
{
    for (size_t i = 0; i < sizeof args_cases / sizeof args_cases[0]; i++) {
        const args_case* c = &args_cases[i];
        int              argc = 0;
        while (c->argv[argc]) argc++;
        flock_cli_args a;
        char           err[256];
        int            rc = flock_cli__parse_args(argc, (char* const*)c->argv, &a, err, sizeof err);
        if (c->ok) {
            if (rc != 0) FT_FAIL("case %zu (%s %s): rejected: %s", i, c->argv[1], c->argv[2] ? c->argv[2] : "", err);
            else if (a.cmd != c->cmd) FT_FAIL("case %zu: cmd %d != %d", i, a.cmd, c->cmd);
        } else if (rc == 0) {
            FT_FAIL("case %zu: accepted, expected '%s'", i, c->error);
        } else if (!strstr(err, c->error)) {
            FT_FAIL("case %zu: error '%s' does not contain '%s'", i, err, c->error);
        }
    }
    /* parsed values */
    const char* argv[] = {"flock", "watch", "--address", "ofi+tcp://127.0.0.1:5000", "-p", "7",
                          "--interval=250", "-n", "4", "--timeout", "300", "--duration", "9", NULL};
    flock_cli_args a;
    char           err[256];
    REQUIRE(flock_cli__parse_args(13, (char* const*)argv, &a, err, sizeof err) == 0);
    CHECK_EQ_STR(a.address, "ofi+tcp://127.0.0.1:5000");
    CHECK_EQ_INT(a.provider_id, 7);
    CHECK(a.interval_ms == 250.0);
    CHECK_EQ_INT(a.count, 4);
    CHECK(a.timeout_ms == 300.0);
    CHECK(a.duration_s == 9.0);
    CHECK(a.group_file == NULL);
    const char* argv2[] = {"flock", "show", "g.flock", NULL};
    REQUIRE(flock_cli__parse_args(3, (char* const*)argv2, &a, err, sizeof err) == 0);
    CHECK_EQ_STR(a.group_file, "g.flock");
    CHECK_EQ_INT(a.provider_id, -1);
    CHECK(a.interval_ms == FLOCK_CLI_DEFAULT_INTERVAL_MS);
    CHECK(a.timeout_ms == FLOCK_CLI_DEFAULT_TIMEOUT_MS);
    CHECK(!a.json && !a.all);
    const char* argv3[] = {"flock", "help", "check", NULL};
    REQUIRE(flock_cli__parse_args(3, (char* const*)argv3, &a, err, sizeof err) == 0);
    CHECK_EQ_INT(a.help_for, FLOCK_CLI_CHECK);
    const char* argv4[] = {"flock", "watch", "--help", NULL};
    REQUIRE(flock_cli__parse_args(3, (char* const*)argv4, &a, err, sizeof err) == 0);
    CHECK_EQ_INT(a.cmd, FLOCK_CLI_HELP);
    CHECK_EQ_INT(a.help_for, FLOCK_CLI_WATCH);
}

static char* capture(void (*fn)(FILE*, void*), void* arg)
{
    char*  buf = NULL;
    size_t len = 0;
    FILE*  f   = open_memstream(&buf, &len);
    REQUIRE(f);
    fn(f, arg);
    fclose(f);
    return buf;
}

static void help_all(FILE* f, void* arg)
{
    (void)arg;
    for (int c = FLOCK_CLI_NONE; c <= FLOCK_CLI_LAST_CMD; c++) flock_cli__print_help(f, (flock_cli_cmd)c);
}

static void check_help(void)
{
    char* h = capture(help_all, NULL);
    CHECK(strstr(h, "Usage: flockctl <command>") != NULL);
    CHECK(strstr(h, "Usage: flockctl show <groupfile>") != NULL);
    CHECK(strstr(h, "Usage: flockctl watch <groupfile>") != NULL);
    CHECK(strstr(h, "-i, --interval MS        polling interval in milliseconds (default 500)") != NULL);
    CHECK(strstr(h, "Usage: flockctl check <groupfile>") != NULL);
    CHECK(strstr(h, "Exit status: 0 if every member answered") != NULL);
    free(h);
}

static void check_small_functions(void)
{
    static const struct {
        const char* addr;
        const char* proto;
    } protos[] = {{"na+sm://1234-0", "na+sm"},
                  {"ofi+tcp://127.0.0.1:5000", "ofi+tcp"},
                  {"tcp://10.0.0.1:1", "tcp"},
                  {"na+sm", NULL},
                  {"://x", NULL},
                  {"", NULL}};
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        char out[64];
        int  rc = flock_cli__protocol_of(protos[i].addr, out, sizeof out);
        if (protos[i].proto) {
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_STR(out, protos[i].proto);
        } else {
            CHECK_EQ_INT(rc, -1);
        }
    }
    char small[4];
    CHECK_EQ_INT(flock_cli__protocol_of("ofi+tcp://x", small, sizeof small), -1);
    CHECK_EQ_INT(flock_cli__protocol_of(NULL, small, sizeof small), -1);

    char ts[40];
    flock_cli__format_time(0, ts, sizeof ts);
    CHECK_EQ_STR(ts, "1970-01-01T00:00:00.000Z");
    flock_cli__format_time(1795930860456.0, ts, sizeof ts);
    CHECK_EQ_STR(ts, "2026-11-29T05:41:00.456Z");

    CHECK_EQ_STR(flock_cli__strerror(FLOCK_SUCCESS), "Success");
    CHECK_EQ_STR(flock_cli__strerror(FLOCK_ERR_INVALID_PROVIDER), "Invalid provider id");
    CHECK_EQ_STR(flock_cli__strerror(FLOCK_ERR_FROM_MERCURY), "RPC/network error");
    CHECK_EQ_STR(flock_cli__strerror(99), "unknown error");
    CHECK_EQ_STR(flock_cli__strerror(-1), "unknown error");
    CHECK_EQ_STR(flock_cli__cmd_name(FLOCK_CLI_WATCH), "watch");
}

static void make_view(flock_group_view_t* v)
{
    REQUIRE(flock_group_view_add_member(v, "na+sm://200-0", 42));
    REQUIRE(flock_group_view_add_member(v, "na+sm://100-0", 42));
    REQUIRE(flock_group_view_add_member(v, "na+sm://100-0", 7));
    REQUIRE(flock_group_view_add_metadata(v, "__type__", "centralized"));
    REQUIRE(flock_group_view_add_metadata(v, "__config__", "{}"));
    REQUIRE(flock_group_view_add_metadata(v, "color", "blue"));
}

typedef struct {
    flock_group_view_t* view;
    bool                all;
} print_arg;

static void print_table(FILE* f, void* arg)
{
    print_arg* p = arg;
    flock_cli__print_table(f, p->view, p->all);
}

static void print_json(FILE* f, void* arg)
{
    print_arg* p = arg;
    CHECK_EQ_INT(flock_cli__print_json(f, p->view, p->all), 0);
}

static void check_output(void)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    make_view(&v);
    char      digest[40];
    print_arg pa = {&v, false};
    snprintf(digest, sizeof digest, "digest 0x%016llx", (unsigned long long)v.digest);

    char* t = capture(print_table, &pa);
    CHECK(strstr(t, "INDEX  ADDRESS        PROVIDER_ID\n") == t);
    CHECK(strstr(t, "    0  na+sm://100-0            7\n") != NULL);
    CHECK(strstr(t, "    1  na+sm://100-0           42\n") != NULL);
    CHECK(strstr(t, "    2  na+sm://200-0           42\n") != NULL);
    CHECK(strstr(t, "  color = blue\n") != NULL);
    CHECK(strstr(t, "__type__") == NULL);
    CHECK(strstr(t, "(2 internal keys hidden, see --all)") != NULL);
    CHECK(strstr(t, "3 members, ") != NULL);
    CHECK(strstr(t, digest) != NULL);
    free(t);

    pa.all = true;
    t      = capture(print_table, &pa);
    CHECK(strstr(t, "  __type__ = centralized\n") != NULL);
    CHECK(strstr(t, "  __config__ = {}\n") != NULL);
    CHECK(strstr(t, "hidden") == NULL);
    free(t);

    pa.all = false;
    char* j = capture(print_json, &pa);
    char  expect[512];
    snprintf(expect, sizeof expect,
             "{\"digest\":\"0x%016llx\",\"backend\":\"centralized\",\"members\":[{\"index\":0,\"address\":\"na+sm://100-0\","
             "\"provider_id\":7},{\"index\":1,\"address\":\"na+sm://100-0\",\"provider_id\":42},"
             "{\"index\":2,\"address\":\"na+sm://200-0\",\"provider_id\":42}],\"metadata\":{"
             "\"color\":\"blue\"}}\n",
             (unsigned long long)v.digest);
    CHECK_EQ_STR(j, expect);
    free(j);

    /* empty metadata */
    flock_group_view_t e = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_add_member(&e, "tcp://x:1", 1));
    pa.view = &e;
    t       = capture(print_table, &pa);
    CHECK(strstr(t, "\nmetadata: none\n") != NULL);
    CHECK(strstr(t, "1 member, ") != NULL);
    free(t);
    flock_group_view_clear(&e);
    flock_group_view_clear(&v);
}

typedef struct {
    flock_group_view_t* view;
    struct json_object* info;
} print_info_arg;

static void print_table_info(FILE* f, void* arg)
{
    print_info_arg* p = arg;
    flock_cli__print_table_info(f, p->view, false, p->info);
}

static void print_json_info(FILE* f, void* arg)
{
    print_info_arg* p = arg;
    CHECK_EQ_INT(flock_cli__print_json_info(f, p->view, false, p->info), 0);
}

/* show with what a member said (the flock_admin_info answer): status, role, incarnation
 * columns, "unknown" for a member it does not describe, the backend from the answer, and the
 * count of members it says are suspect or dead. */
static void check_output_info(void)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    make_view(&v);
    struct json_object* info = json_tokener_parse(
        "{\"backend\":\"swim\",\"members\":["
        "{\"address\":\"na+sm://100-0\",\"provider_id\":7,\"status\":\"alive\",\"incarnation\":3},"
        "{\"address\":\"na+sm://200-0\",\"provider_id\":42,\"status\":\"suspect\",\"role\":\"primary\"}]}");
    REQUIRE(info != NULL);
    print_info_arg pa = {&v, info};
    char*          t  = capture(print_table_info, &pa);
    CHECK(strstr(t, "INDEX  ADDRESS        PROVIDER_ID  STATUS   ROLE       INCARNATION\n") == t);
    CHECK(strstr(t, "    0  na+sm://100-0            7  alive    -          3\n") != NULL);
    CHECK(strstr(t, "    1  na+sm://100-0           42  unknown  -          -\n") != NULL);
    CHECK(strstr(t, "    2  na+sm://200-0           42  suspect  primary    -\n") != NULL);
    free(t);
    char* j = capture(print_json_info, &pa);
    CHECK(strstr(j, "\"backend\":\"swim\"") != NULL);
    CHECK(strstr(j, "{\"index\":0,\"address\":\"na+sm://100-0\",\"provider_id\":7,\"status\":\"alive\",\"incarnation\":3}") != NULL);
    CHECK(strstr(j, "{\"index\":1,\"address\":\"na+sm://100-0\",\"provider_id\":42,\"status\":\"unknown\"}") != NULL);
    CHECK(strstr(j, "\"status\":\"suspect\",\"role\":\"primary\"") != NULL);
    free(j);
    CHECK_EQ_INT((int)flock_cli__count_unhealthy(&v, info), 1);
    CHECK_EQ_INT((int)flock_cli__count_unhealthy(&v, NULL), 0);
    CHECK(flock_cli__member_info(info, "na+sm://100-0", 42) == NULL);
    json_object_put(info);
    flock_group_view_clear(&v);
}

typedef struct {
    char log[1024];
} diff_log;

static void on_diff(void* uargs, bool joined, const char* address, uint16_t pid)
{
    diff_log* d = uargs;
    size_t    n = strlen(d->log);
    snprintf(d->log + n, sizeof d->log - n, "%s %s %u;", joined ? "+" : "-", address, (unsigned)pid);
}

static void check_diff(void)
{
    static const struct {
        const char* old[6];
        const char* cur[6];
        const char* expect;
    } cases[] = {
        {{NULL}, {NULL}, ""},
        {{"a:1", "b:1", NULL}, {"a:1", "b:1", NULL}, ""},
        {{"a:1", NULL}, {"a:1", "b:1", NULL}, "+ b 1;"},
        {{"a:1", "b:1", "c:1", NULL}, {"a:1", "c:1", NULL}, "- b 1;"},
        {{"a:1", "b:1", NULL}, {"a:2", "c:1", NULL}, "+ a 2;+ c 1;- a 1;- b 1;"},
        {{NULL}, {"a:1", "a:2", NULL}, "+ a 1;+ a 2;"},
        {{"a:1", "a:2", NULL}, {NULL}, "- a 1;- a 2;"},
        {{"a:1", "a:1", NULL}, {"a:1", NULL}, "- a 1;"}, /* multiset difference */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        flock_group_view_t old = FLOCK_GROUP_VIEW_INITIALIZER, cur = FLOCK_GROUP_VIEW_INITIALIZER;
        for (int k = 0; cases[i].old[k]; k++) {
            char a[16];
            snprintf(a, sizeof a, "%s", cases[i].old[k]);
            char* colon = strchr(a, ':');
            *colon      = 0;
            REQUIRE(flock_group_view_add_member(&old, a, (uint16_t)atoi(colon + 1)));
        }
        for (int k = 0; cases[i].cur[k]; k++) {
            char a[16];
            snprintf(a, sizeof a, "%s", cases[i].cur[k]);
            char* colon = strchr(a, ':');
            *colon      = 0;
            REQUIRE(flock_group_view_add_member(&cur, a, (uint16_t)atoi(colon + 1)));
        }
        diff_log d = {""};
        flock_cli__view_diff(&old, &cur, on_diff, &d);
        if (strcmp(d.log, cases[i].expect) != 0)
            FT_FAIL("diff case %zu: got '%s', expected '%s'", i, d.log, cases[i].expect);
        flock_group_view_clear(&old);
        flock_group_view_clear(&cur);
    }
}

int main(void)
{
    check_args();
    check_help();
    check_small_functions();
    check_output();
    check_output_info();
    check_diff();
    return FT_DONE();
}
