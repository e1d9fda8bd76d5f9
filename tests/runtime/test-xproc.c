/*
 * test-xproc.c -- RPCs across processes (fork/exec of rt-server) over one
 * transport (argv[1]): echo, identity, nested cross-process RPC, a peer
 * killed mid-call, timeouts, a peer restarted (reconnect), a peer that
 * finalizes with calls in flight.
 */
#include "rt-test.h"

#include <signal.h>

static const char* transport;

typedef struct {
    margo_instance_id mid;
    hg_addr_t         a;
    const char*       rpc;
    hg_return_t       ret;
    double            ms;
} call_args;

static void* call_thread(void* arg)
{
    call_args* c = arg;
    double     t0 = ft_now_ms();
    c->ret        = frt_forward(c->mid, c->a, c->rpc, 1, NULL, 0, 0, NULL, NULL);
    c->ms         = ft_now_ms() - t0;
    return NULL;
}

static hg_return_t echo_once(margo_instance_id cli, hg_addr_t a)
{
    void*       out  = NULL;
    size_t      olen = 0;
    hg_return_t r    = frt_forward(cli, a, "echo", 1, "hello", 5, 60000, &out, &olen);
    if (r == HG_SUCCESS && (olen != 5 || memcmp(out, "hello", 5) != 0)) r = HG_PROTOCOL_ERROR;
    free(out);
    return r;
}

static void test_basic_and_nested(margo_instance_id cli)
{
    char  a1[128], a2[128];
    pid_t p1 = rt_spawn_server(rt_listen_addr(transport), a1, sizeof a1);
    pid_t p2 = rt_spawn_server(rt_listen_addr(transport), a2, sizeof a2);
    CHECK(strcmp(a1, a2) != 0);
    hg_addr_t s1 = rt_lookup(cli, a1);
    CHECK_EQ_INT(echo_once(cli, s1), HG_SUCCESS);
    char   buf[64];
    size_t sz = sizeof buf;
    CHECK_EQ_INT(margo_provider_get_identity(cli, s1, 1, buf, &sz), HG_SUCCESS);
    CHECK_EQ_STR(buf, "rt-server");
    CHECK_EQ_INT(frt_forward(cli, s1, "echo", 9, NULL, 0, 5000, NULL, NULL), HG_NOENTRY);
    void*  out  = NULL;
    size_t olen = 0;
    CHECK_EQ_INT(frt_forward(cli, s1, "call", 1, a2, strlen(a2), 60000, &out, &olen), HG_SUCCESS);
    CHECK(olen == 4 && memcmp(out, "ping", 4) == 0);
    free(out);
    /* timeout against a live peer */
    CHECK_EQ_INT(frt_forward(cli, s1, "block", 1, NULL, 0, 100, NULL, NULL), HG_TIMEOUT);
    /* a peer that finalizes with our call in flight: its prefinalize
     * callback fails the blocked request with HG_CANCELED */
    hg_addr_t s2 = rt_lookup(cli, a2);
    call_args c  = {cli, s2, "block", HG_SUCCESS, 0};
    pthread_t t;
    pthread_create(&t, NULL, call_thread, &c);
    ft_sleep_ms(200);
    CHECK_EQ_INT(frt_forward(cli, s2, "quit", 1, NULL, 0, 60000, NULL, NULL), HG_SUCCESS);
    pthread_join(t, NULL);
    CHECK(c.ret == HG_CANCELED || c.ret == HG_HOSTUNREACH);
    int st = rt_wait_child(p2, 60000);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(frt_forward(cli, s2, "echo", 1, NULL, 0, 5000, NULL, NULL), HG_HOSTUNREACH);
    /* s1 still fine; quit it */
    CHECK_EQ_INT(echo_once(cli, s1), HG_SUCCESS);
    CHECK_EQ_INT(frt_forward(cli, s1, "quit", 1, NULL, 0, 60000, NULL, NULL), HG_SUCCESS);
    st = rt_wait_child(p1, 60000);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    margo_addr_free(cli, s1);
    margo_addr_free(cli, s2);
}

static void test_kill_and_restart(margo_instance_id cli)
{
    char listen[128], a1[128], a2[128];
    if (strcmp(transport, "na+sm") == 0)
        snprintf(listen, sizeof listen, "na+sm");
    else
        snprintf(listen, sizeof listen, "%s://127.0.0.1:%d", transport, ft_free_tcp_port());
    pid_t     p1 = rt_spawn_server(listen, a1, sizeof a1);
    hg_addr_t s1 = rt_lookup(cli, a1);
    CHECK_EQ_INT(echo_once(cli, s1), HG_SUCCESS);
    /* killed mid-call: the call fails at once (no timeout given) */
    call_args c = {cli, s1, "block", HG_SUCCESS, 0};
    pthread_t t;
    pthread_create(&t, NULL, call_thread, &c);
    ft_sleep_ms(200);
    kill(p1, SIGKILL);
    pthread_join(t, NULL);
    CHECK_EQ_INT(c.ret, HG_HOSTUNREACH);
    CHECK(c.ms < 60000);
    rt_wait_child(p1, 60000);
    CHECK_EQ_INT(echo_once(cli, s1), HG_HOSTUNREACH);
    /* restart: same address for tcp (same port), a new one for na+sm */
    pid_t p2 = rt_spawn_server(listen, a2, sizeof a2);
    if (strcmp(transport, "na+sm") != 0) CHECK_EQ_STR(a2, a1);
    hg_addr_t s2 = rt_lookup(cli, a2);
    CHECK_EQ_INT(echo_once(cli, s2), HG_SUCCESS);
    CHECK_EQ_INT(echo_once(cli, s2), HG_SUCCESS);
    CHECK_EQ_INT(frt_forward(cli, s2, "quit", 1, NULL, 0, 60000, NULL, NULL), HG_SUCCESS);
    int st = rt_wait_child(p2, 60000);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    margo_addr_free(cli, s1);
    margo_addr_free(cli, s2);
}

int main(int argc, char** argv)
{
    transport             = rt_transport(argc, argv);
    margo_instance_id cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    test_basic_and_nested(cli);
    test_kill_and_restart(cli);
    /* a server-mode instance as the client works the same way */
    margo_instance_id srv = rt_server(transport);
    test_kill_and_restart(srv);
    margo_finalize(srv);
    margo_finalize(cli);
    return FT_DONE();
}
