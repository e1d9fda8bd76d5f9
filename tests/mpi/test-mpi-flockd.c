/*
 * test-mpi-flockd.c -- flockd's "mpi" bootstrap as a user runs it:
 * `mpiexec -n 4 flockd na+sm -c config.json`, checked with the flock CLI.
 *   1. all ranks form one group (group file with 4 members, `flockctl check`
 *      passes), and SIGTERM to mpiexec stops every daemon with status 0;
 *   2. "mpi_ranks": [0, 2] with ["mpi", "self"]: ranks 0 and 2 form a group
 *      of 2, ranks 1 and 3 fall back to groups of their own;
 *   3. a rank out of range fails every daemon with a clear error;
 *   4. a centralized group over MPI: one rank stopped alone leaves the group.
 */
#include "../daemon/tools-test.h"

#define FLOCKD ft_bin("src/daemon/flockd")
#define FLOCK  ft_bin("src/cli/flockctl")

/* Addresses printed by the daemons of a job (up to 8). */
static int job_addresses(const char* out, char addrs[][128], int max)
{
    char* s = tt_read_file(out);
    int   n = 0;
    for (char* p = s; n < max && (p = strstr(p, "flockd: listening on ")) != NULL;) {
        p += strlen("flockd: listening on ");
        size_t len = strcspn(p, "\n");
        if (len < 128) {
            memcpy(addrs[n], p, len);
            addrs[n++][len] = 0;
        }
        p += len;
    }
    free(s);
    return n;
}

static pid_t start_job(const char* cfg, const char* out, const char* err, int ready)
{
    pid_t pid = tt_start(out, err, "'%s' -n 4 '%s' na+sm -c '%s' -v info", FLOCK_MPIEXEC, FLOCKD, cfg);
    if (ready > 0 && !tt_wait_contains(out, "flockd: ready", ready, 60000)) {
        tt_dump("job stdout", out);
        tt_dump("job stderr", err);
        REQUIRE(!"the MPI job did not become ready");
    }
    return pid;
}

static void check_world_group(void)
{
    const char* out  = tt_path("w.out");
    const char* err  = tt_path("w.err");
    const char* cfg  = tt_path("w.json");
    const char* file = tt_path("w.flock");
    const char* cout = tt_path("wc.out");
    const char* cerr = tt_path("wc.err");
    char        json[4096];
    snprintf(json, sizeof json,
             "{'libraries':['libflock-bedrock-module.so'],'providers':[{'type':'flock','name':'g',"
             "'provider_id':3,'config':{'bootstrap':'mpi','file':'%s','group':{'type':'static'}}}]}",
             file);
    tt_write_file(cfg, json, true);
    pid_t job = start_job(cfg, out, err, 4);
    char  addrs[8][128];
    CHECK_EQ_INT(job_addresses(out, addrs, 8), 4);
    /* the group file lists all 4 daemons */
    for (int i = 0; i < 4; i++) {
        char m[256];
        CHECK(snprintf(m, sizeof m, "{\"address\":\"%s\",\"provider_id\":3}", addrs[i]) < (int)sizeof m);
        CHECK(tt_file_contains(file, m));
    }
    CHECK_EQ_INT(tt_run(cout, cerr, "'%s' check '%s'", FLOCK, file), 0);
    CHECK(tt_file_contains(cout, "4 of 4 members answered"));
    CHECK_EQ_INT(tt_file_count(cout, "(view of 4 members"), 4);
    CHECK_EQ_INT(tt_file_count(err, "started with bootstrap \"mpi\""), 4);
    /* mpiexec forwards SIGTERM: every daemon stops gracefully */
    kill(job, SIGTERM);
    int rc = tt_wait_exit(job, 60000);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(tt_file_count(out, "flockd: stopped"), 4);
    if (rc != 0) tt_dump("job stderr", err);
}

static void check_mpi_ranks(void)
{
    const char* out  = tt_path("r.out");
    const char* err  = tt_path("r.err");
    const char* cfg  = tt_path("r.json");
    const char* cout = tt_path("rc.out");
    const char* cerr = tt_path("rc.err");
    tt_write_file(cfg,
                  "{'providers':[{'type':'flock','name':'g','provider_id':3,'config':{"
                  "'bootstrap':['mpi','self'],'mpi_ranks':[2,0],'group':{'type':'static'}}}]}",
                  true);
    pid_t job = start_job(cfg, out, err, 4);
    char  addrs[8][128];
    REQUIRE(job_addresses(out, addrs, 8) == 4);
    int twos = 0, ones = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(tt_run(cout, cerr, "'%s' show --address %s --provider-id 3 --json", FLOCK, addrs[i]), 0);
        int n = tt_file_count(cout, "\"index\":");
        if (n == 2) twos++;
        if (n == 1) ones++;
    }
    CHECK_EQ_INT(twos, 2);
    CHECK_EQ_INT(ones, 2);
    CHECK(tt_file_contains(err, "this process (rank 1) is not listed in mpi_ranks"));
    CHECK(tt_file_contains(err, "this process (rank 3) is not listed in mpi_ranks"));
    CHECK_EQ_INT(tt_file_count(err, "started with bootstrap \"mpi\""), 2);
    CHECK_EQ_INT(tt_file_count(err, "started with bootstrap \"self\""), 2);
    kill(job, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(job, 60000), 0);
}

static void check_rank_out_of_range(void)
{
    const char* out = tt_path("x.out");
    const char* err = tt_path("x.err");
    const char* cfg = tt_path("x.json");
    tt_write_file(cfg,
                  "{'providers':[{'type':'flock','name':'g','provider_id':3,'config':{"
                  "'bootstrap':'mpi','mpi_ranks':[0,9],'group':{'type':'static'}}}]}",
                  true);
    pid_t job = start_job(cfg, out, err, 0);
    int   rc  = tt_wait_exit(job, 60000);
    CHECK(rc != 0 && rc != -1);
    CHECK(tt_file_contains(err, "mpi_ranks: rank 9 is out of range (the job has 4 ranks)"));
    CHECK(!tt_file_contains(out, "flockd: ready"));
}

typedef struct {
    const char* out;
    const char* err;
    const char* cmd;
    int         want;
} count_arg;

/* true once `cmd` (a flockctl show --json) reports `want` members */
static bool pred_members(void* arg)
{
    count_arg* c = arg;
    return tt_run(c->out, c->err, "%s", c->cmd) == 0 && tt_file_count(c->out, "\"index\":") == c->want;
}

/* a centralized group over MPI; one rank stopped on its own leaves the group
 * (its process then waits in MPI_Finalize for the others) */
static void check_one_rank_leaves(void)
{
    const char* out  = tt_path("l.out");
    const char* err  = tt_path("l.err");
    const char* cfg  = tt_path("l.json");
    const char* file = tt_path("l.flock");
    char        json[2048], cmd[2048];
    snprintf(json, sizeof json,
             "{'providers':[{'type':'flock','name':'g','provider_id':3,'config':{'bootstrap':'mpi',"
             "'file':'%s','group':{'type':'centralized','config':{'ping_timeout_ms':400.0,"
             "'ping_interval_ms':[300.0,500.0],'ping_max_num_timeouts':2}}}}]}",
             file);
    tt_write_file(cfg, json, true);
    pid_t job = start_job(cfg, out, err, 4);
    char  addrs[8][128];
    REQUIRE(job_addresses(out, addrs, 8) == 4);
    /* a secondary: any daemon but the group's first member (the primary) */
    char* view = tt_read_file(file);
    char* first = strstr(view, "\"address\":\"");
    int   victim = -1;
    for (int i = 0; i < 4 && first; i++)
        if (strncmp(first + 11, addrs[i], strlen(addrs[i])) != 0) victim = i;
    free(view);
    REQUIRE(victim >= 0);
    /* na+sm addresses are na+sm://<pid>-<n> */
    pid_t vpid = (pid_t)atoi(addrs[victim] + strlen("na+sm://"));
    REQUIRE(vpid > 0);
    kill(vpid, SIGTERM);
    CHECK(tt_wait_contains(out, "flockd: stopped", 1, 60000));
    snprintf(cmd, sizeof cmd, "'%s' show '%s' --json", FLOCK, file);
    count_arg c = {tt_path("lc.out"), tt_path("lc.err"), cmd, 3};
    CHECK(ft_wait_until(pred_members, &c, 60000));
    CHECK(!tt_file_contains(c.out, addrs[victim]));
    CHECK(tt_file_contains(err, "waiting in MPI_Finalize for the other ranks"));
    kill(job, SIGTERM);
    CHECK_EQ_INT(tt_wait_exit(job, 60000), 0);
    CHECK_EQ_INT(tt_file_count(out, "flockd: stopped"), 4);
}

int main(void)
{
    check_world_group();
    check_mpi_ranks();
    check_rank_out_of_range();
    check_one_rank_leaves();
    return FT_DONE();
}
