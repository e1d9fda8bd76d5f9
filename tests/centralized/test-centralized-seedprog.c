/*
 * test-centralized-seedprog.c -- the seed's workflow with the seed's own C
 * program, built unchanged (tests/centralized/CMakeLists.txt extracts it):
 *   A (cent-server) bootstraps with itself and writes the group file;
 *   B and C run the seed program on that file and join;
 *   every member's view (asked over RPC with the client API) has the same
 *   digest; A got JOINED exactly once for each; a SIGKILLed seed process
 *   is announced as DIED to the others.
 */
#include "cent-test.h"

#include <flock/flock-client.h>
#include <flock/flock-group.h>

#define PID 42
#define CONFIG \
    "{\"ping_interval_ms\":[100,200],\"ping_timeout_ms\":1000,\"ping_max_num_timeouts\":3}"

static ct_status_t st, scratch;

typedef struct {
    margo_instance_id mid;
    flock_client_t client;
    const char* address;
    uint64_t digest;
    size_t members;
} probe_t;

/* Ask the provider (address, PID) for its view; true if it reports `digest`. */
static bool remote_has(void* arg)
{
    probe_t* p = arg;
    hg_addr_t a = HG_ADDR_NULL;
    flock_group_handle_t h = NULL;
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    bool ok = false;
    if (margo_addr_lookup(p->mid, p->address, &a) != HG_SUCCESS) return false;
    if (flock_group_handle_create(p->client, a, PID, FLOCK_MODE_INIT_UPDATE, &h) ==
            FLOCK_SUCCESS &&
        flock_group_get_view(h, &v) == FLOCK_SUCCESS)
        ok = v.digest == p->digest && v.members.size == p->members;
    flock_group_view_clear(&v);
    if (h) flock_group_handle_release(h);
    margo_addr_free(p->mid, a);
    return ok;
}

/* The member of A's view that is neither A nor `known` (a new joiner). */
static bool find_new(const ct_status_t* s, const char* known, char* out)
{
    for (size_t i = 0; i < s->nmembers; i++)
        if (strcmp(s->members[i].address, s->self) &&
            (!known || strcmp(s->members[i].address, known))) {
            snprintf(out, 160, "%s", s->members[i].address);
            return true;
        }
    return false;
}

static bool a_has(void* arg)
{
    return ct_read_status("A", PID, &st) && st.nmembers == (size_t)(intptr_t)arg;
}

int main(void)
{
    char file[1024], b_addr[160] = "", c_addr[160] = "";
    ct_server_t a;
    char* argv[3];
    pid_t b, c;

    snprintf(file, sizeof file, "%s/seed.flock", ft_tmpdir());
    REQUIRE(ct_start(&a, "A", "self", "na+sm", file, CONFIG, PID, 1, "50") > 0);
    REQUIRE(ct_wait_status("A", PID, &st, 30000));

    argv[0] = (char*)ft_bin("tests/centralized/cent-seed-joiner");
    argv[1] = file;
    argv[2] = NULL;
    b = ft_spawn(argv);
    REQUIRE(b > 0);
    REQUIRE(ft_wait_until(a_has, (void*)(intptr_t)2, 30000));
    REQUIRE(find_new(&st, NULL, b_addr));
    c = ft_spawn(argv);
    REQUIRE(c > 0);
    REQUIRE(ft_wait_until(a_has, (void*)(intptr_t)3, 30000));
    REQUIRE(find_new(&st, b_addr, c_addr));
    CHECK(ct_members_sane(&st));
    CHECK(ct_wait_count("A", PID, "JOINED", b_addr, PID, 1, 30000));
    CHECK(ct_wait_count("A", PID, "JOINED", c_addr, PID, 1, 30000));
    REQUIRE(ct_read_status("A", PID, &st));

    /* every member holds the same view */
    margo_instance_id mid = margo_init("na+sm", MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(mid);
    flock_client_t client = FLOCK_CLIENT_NULL;
    REQUIRE(flock_client_init(mid, ABT_POOL_NULL, &client) == FLOCK_SUCCESS);
    probe_t pb = {mid, client, b_addr, st.digest, 3};
    probe_t pc = {mid, client, c_addr, st.digest, 3};
    CHECK(ft_wait_until(remote_has, &pb, 30000));
    CHECK(ft_wait_until(remote_has, &pc, 30000));

    /* the seed program cannot leave gracefully: kill it, it is declared dead */
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    ft_forget(c);
    REQUIRE(ft_wait_until(a_has, (void*)(intptr_t)2, 30000));
    CHECK(ct_wait_count("A", PID, "DIED", c_addr, PID, 1, 30000));
    REQUIRE(ct_read_status("A", PID, &st));
    pb.digest = st.digest;
    pb.members = 2;
    CHECK(ft_wait_until(remote_has, &pb, 30000));

    flock_client_finalize(client);
    margo_finalize(mid);
    kill(b, SIGKILL);
    waitpid(b, NULL, 0);
    ft_forget(b);
    int ws = ct_stop(&a, SIGTERM, 30000);
    CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    (void)scratch;
    return FT_DONE();
}
