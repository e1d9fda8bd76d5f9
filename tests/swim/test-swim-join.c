/*
 * test-swim-join.c -- the joiner's JOIN RPC (flock_swim_join): a member
 * joins through it with `urgent_join` off (the default) and on; and
 * through a seed that does not know it (an older member: the RPC
 * deregistered), where the joiner sends the JOIN again on
 * flock_swim_announce and still joins. Three runtime instances in one
 * process (one member each), TCP on loopback.
 */
#include <flock/flock-server.h>
#include <flock/flock-group-view.h>

#include <frt.h>

#include "flock-test.h"
#include "../common/view-size.h"

#define CFG_FMT                                                                        \
    "{\"group\":{\"type\":\"swim\",\"config\":{\"protocol_period_ms\":200.0,"         \
    "\"ping_timeout_ms\":100.0,\"ping_req_timeout_ms\":200.0,\"suspicion_timeout_ms\":" \
    "3000.0,\"urgent_join\":%s}}}"

typedef struct {
    margo_instance_id mid;
    flock_provider_t  p;
} member;

static bool start(member* m, const char* urgent, const char* seed_addr)
{
    char config[512];
    snprintf(config, sizeof config, CFG_FMT, urgent);
    m->mid = margo_init("tcp://127.0.0.1:0", MARGO_SERVER_MODE, 0, 2);
    REQUIRE(m->mid != MARGO_INSTANCE_NULL);
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    if (seed_addr) REQUIRE(flock_group_view_add_member(&view, seed_addr, 5));
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    args.initial_view               = &view;
    flock_return_t r = flock_provider_register(m->mid, 5, config, &args, &m->p);
    flock_group_view_clear(&view);
    return r == FLOCK_SUCCESS;
}

static void stop(member* m)
{
    if (m->p) flock_provider_destroy(m->p);
    m->p = NULL;
    margo_finalize(m->mid);
}

typedef struct {
    member* m;
    size_t  n;
} size_arg;

static bool has_size(void* a)
{
    size_arg* s = a;
    return provider_view_size(s->m->p) == s->n;
}

static void join_case(const char* name, const char* urgent, bool old_seed)
{
    member seed = {0}, joiner = {0};
    REQUIRE(start(&seed, urgent, NULL));
    if (old_seed) /* as a member of an older version: no flock_swim_join */
        CHECK(frt_rpc_deregister(seed.mid, "flock_swim_join", 5) == HG_SUCCESS);
    bool joined = start(&joiner, urgent, frt_self_addr_str(seed.mid));
    if (!joined) FT_FAIL("%s: the joiner could not register", name);
    size_arg s1 = {&seed, 2}, s2 = {&joiner, 2};
    if (joined) {
        CHECK(ft_wait_until(has_size, &s1, 30000));
        CHECK(ft_wait_until(has_size, &s2, 30000));
    }
    printf("%s: joined=%d, views %zu / %zu\n", name, joined, provider_view_size(seed.p),
           joined ? provider_view_size(joiner.p) : 0);
    stop(&joiner);
    stop(&seed);
}

int main(void)
{
    join_case("default", "false", false);
    join_case("urgent_join", "true", false);
    join_case("older seed", "true", true);
    return FT_DONE();
}
