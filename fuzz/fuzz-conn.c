/*
 * fuzz-conn.c -- the runtime's real receive path: the input is written as
 * a byte stream into a TCP connection to a live server instance (progress
 * loop, incremental frame reassembly, hello/request/response state
 * machine, handler dispatch), then the write side is shut down. The server
 * must close the connection (bad input) or answer and close at EOF; it must
 * never crash, hang or stop accepting: every input ends with a health
 * check, a real RPC from a separate client instance.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-common.h"

static margo_instance_id g_srv, g_cli;
static hg_addr_t         g_srv_addr;
static int               g_port;

static void echo(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    frt_respond(req, in, len);
}

static int setup(void)
{
    fuzz_quiet();
    g_srv = margo_init("tcp://127.0.0.1:0", MARGO_SERVER_MODE, 0, 2);
    g_cli = margo_init("tcp://127.0.0.1:0", MARGO_CLIENT_MODE, 0, 1);
    if (!g_srv || !g_cli) return -1;
    if (frt_rpc_register(g_srv, "echo", 1, echo, NULL, ABT_POOL_NULL) != HG_SUCCESS) return -1;
    const char* self = frt_self_addr_str(g_srv);
    const char* colon = strrchr(self, ':');
    if (!colon) return -1;
    g_port = atoi(colon + 1);
    return margo_addr_lookup(g_cli, self, &g_srv_addr) == HG_SUCCESS ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static int ready = 0;
    if (!ready) {
        if (setup() != 0) abort();
        ready = 1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family      = AF_INET;
    sa.sin_port        = htons((uint16_t)g_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) abort(); /* server stopped accepting */
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0) break; /* the server closed on bad input */
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    /* drain until the server closes (it must: EOF or bad input) */
    uint8_t buf[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int           r = poll(&p, 1, 20000);
        if (r == 0) abort(); /* connection never closed by the server */
        if (r < 0) break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
    }
    close(fd);
    /* health check: the server still serves real clients */
    uint32_t v = 0xC0FFEE, *out = NULL;
    size_t   len = 0;
    if (frt_forward(g_cli, g_srv_addr, "echo", 1, &v, sizeof v, 20000, (void**)&out, &len)
            != HG_SUCCESS
        || len != sizeof v || *out != v)
        abort();
    free(out);
    return 0;
}
