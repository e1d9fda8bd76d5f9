/*
 * test-dial-fds.c -- an outgoing call that cannot get a socket (the
 * process is out of file descriptors) fails at once with HG_AGAIN and a
 * clear log line, not as an unreachable peer; once descriptors are free
 * again the next call succeeds (issue #19 item 1). argv[1]: na+sm or tcp.
 */
#include "flock-test.h"

#include <errno.h>
#include <fcntl.h>
#include <frt.h>
#include <margo.h>
#include <sys/resource.h>
#include <unistd.h>

static void echo(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    (void)uargs;
    frt_respond(req, in, in_len);
}

int main(int argc, char** argv)
{
    const char*       tr  = argc > 1 ? argv[1] : "na+sm";
    margo_instance_id srv = margo_init(strcmp(tr, "tcp") == 0 ? "tcp://127.0.0.1:0" : tr,
                                       MARGO_SERVER_MODE, 0, 1);
    margo_instance_id cli = margo_init(tr, MARGO_CLIENT_MODE, 0, 1);
    REQUIRE(srv && cli);
    REQUIRE(frt_rpc_register(srv, "echo", 1, echo, NULL, NULL) == HG_SUCCESS);
    hg_addr_t addr = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(cli, frt_self_addr_str(srv), &addr) == HG_SUCCESS);

    /* use up every descriptor (under a low limit, so that this is quick) */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 512) {
        rl.rlim_cur = 512;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int  cap = 65536, n = 0;
    int* fill = calloc((size_t)cap, sizeof *fill);
    REQUIRE(fill);
    while (n < cap) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) break;
        fill[n++] = fd;
    }
    if (n == cap) {
        printf("SKIP: could not exhaust file descriptors (limit above %d)\n", cap);
        return 77;
    }
    hg_return_t r = frt_forward(cli, addr, "echo", 1, "x", 1, 5000, NULL, NULL);
    printf("out of fds: %s\n", HG_Error_to_string(r));
    CHECK_EQ_INT(r, HG_AGAIN);

    /* descriptors back: the next call works */
    while (n > 0) close(fill[--n]);
    void*  out     = NULL;
    size_t out_len = 0;
    r              = frt_forward(cli, addr, "echo", 1, "x", 1, 5000, &out, &out_len);
    CHECK_EQ_INT(r, HG_SUCCESS);
    CHECK_EQ_INT((int)out_len, 1);
    free(out);
    free(fill);
    margo_addr_free(cli, addr);
    margo_finalize(cli);
    margo_finalize(srv);
    return FT_DONE();
}
