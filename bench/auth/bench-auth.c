/*
 * bench-auth.c -- what a group key costs: echo RPC latency/throughput
 * between two instances of one process, without and with a key (HMAC-SHA256
 * on every frame, auth.c), per transport and payload size.
 *
 *   bench-auth [-n CALLS] [transports...]   (default: 5000 calls, na+sm tcp)
 *
 * Prints one line per (transport, size, mode): calls/s, mean and p99 latency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <margo.h>

static void echo(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    frt_respond(req, in, len);
}

static int cmp_double(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static int run(const char* tr, size_t size, bool keyed, int n)
{
    const char*       listen = strcmp(tr, "na+sm") == 0 ? "na+sm" : "tcp://127.0.0.1:0";
    margo_instance_id srv    = margo_init(listen, MARGO_SERVER_MODE, 0, 0);
    margo_instance_id cli    = margo_init(listen, MARGO_CLIENT_MODE, 0, 0);
    static const char key[]  = "benchmark group key 0123456789abcdef";
    if (!srv || !cli) return -1;
    if (keyed) {
        frt_auth_set_key(srv, key, sizeof key - 1);
        frt_auth_set_key(cli, key, sizeof key - 1);
    }
    frt_rpc_register(srv, "echo", 1, echo, NULL, ABT_POOL_NULL);
    hg_addr_t a = HG_ADDR_NULL;
    margo_addr_lookup(cli, frt_self_addr_str(srv), &a);
    char*   buf = calloc(1, size ? size : 1);
    double* lat = calloc((size_t)n, sizeof *lat);
    int     rc  = 0;
    for (int i = 0; i < 100; i++) /* warm-up (connection set-up) */
        frt_forward(cli, a, "echo", 1, buf, size, 10000, NULL, NULL);
    double t0 = frt_now_ms();
    for (int i = 0; i < n; i++) {
        double s = frt_now_ms();
        if (frt_forward(cli, a, "echo", 1, buf, size, 10000, NULL, NULL) != HG_SUCCESS) rc = -1;
        lat[i] = frt_now_ms() - s;
    }
    double total = frt_now_ms() - t0;
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf("%-6s %8zu B  %-6s %9.0f calls/s  mean %7.1f us  p99 %7.1f us\n", tr, size,
           keyed ? "key" : "no-key", n / (total / 1000.0), total * 1000.0 / n,
           lat[(size_t)(n * 0.99)] * 1000.0);
    fflush(stdout);
    free(buf);
    free(lat);
    margo_addr_free(cli, a);
    margo_finalize(cli);
    margo_finalize(srv);
    return rc;
}

int main(int argc, char** argv)
{
    int         n   = 5000, rc = 0;
    const char* trs[8];
    int         ntr = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (ntr < 8)
            trs[ntr++] = argv[i];
    }
    if (ntr == 0) {
        trs[ntr++] = "na+sm";
        trs[ntr++] = "tcp";
    }
    if (n < 100) n = 100;
    margo_set_global_log_level(MARGO_LOG_ERROR);
    const size_t sizes[] = {64, 4096, 65536};
    for (int t = 0; t < ntr; t++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int k = 0; k < 2; k++)
                if (run(trs[t], sizes[s], k == 1, n) != 0) rc = 1;
    return rc;
}
