/*
 * rt-server.c -- helper server for the cross-process runtime tests.
 *
 *   rt-server <listen-address>
 *
 * Prints its self address on stdout (one line), then serves until the
 * "quit" RPC (or a signal). RPCs (provider id 1):
 *   echo   responds with its input
 *   sleep  input u32 ms: sleeps, then responds with nothing
 *   block  never responds until the process dies (the request is kept)
 *   quit   responds, then finalizes the instance (main returns 0)
 *   call   input "<addr>": forwards "echo" with "ping" to addr, responds
 *          with the output (a nested RPC across processes)
 */
#include <margo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void echo(frt_request_t req, const void* in, size_t len, void* u) { frt_respond(req, in, len); }

static void sleep_h(frt_request_t req, const void* in, size_t len, void* u)
{
    uint32_t ms = 0;
    if (len == 4) memcpy(&ms, in, 4);
    margo_thread_sleep(frt_request_instance(req), ms);
    frt_respond(req, NULL, 0);
}

static frt_request_t    blocked[64];
static int              nblocked;
static ABT_mutex_memory blocked_lock = ABT_MUTEX_INITIALIZER;
static void block_h(frt_request_t req, const void* in, size_t len, void* u)
{
    ABT_mutex m = ABT_MUTEX_MEMORY_GET_HANDLE(&blocked_lock);
    ABT_mutex_lock(m);
    if (nblocked < 64) {
        blocked[nblocked++] = req; /* answered when quitting */
        req                 = NULL;
    }
    ABT_mutex_unlock(m);
    if (req) frt_respond_error(req, HG_BUSY);
}

static void quit_h(frt_request_t req, const void* in, size_t len, void* u)
{
    margo_instance_id mid = frt_request_instance(req);
    frt_respond(req, NULL, 0);
    margo_finalize(mid);
}

static void call_h(frt_request_t req, const void* in, size_t len, void* u)
{
    margo_instance_id mid = frt_request_instance(req);
    char              s[128];
    hg_addr_t         a   = HG_ADDR_NULL;
    void*             out = NULL;
    size_t            olen = 0;
    hg_return_t       r;
    if (len == 0 || len >= sizeof s) {
        frt_respond_error(req, HG_INVALID_ARG);
        return;
    }
    memcpy(s, in, len);
    s[len] = 0;
    r      = margo_addr_lookup(mid, s, &a);
    if (r == HG_SUCCESS) r = frt_forward(mid, a, "echo", 1, "ping", 4, 60000, &out, &olen);
    if (r == HG_SUCCESS)
        frt_respond(req, out, olen);
    else
        frt_respond_error(req, r);
    free(out);
    margo_addr_free(mid, a);
}

static void release_blocked(void* u)
{
    ABT_mutex m = ABT_MUTEX_MEMORY_GET_HANDLE(&blocked_lock);
    ABT_mutex_lock(m);
    for (int i = 0; i < nblocked; i++) frt_respond_error(blocked[i], HG_CANCELED);
    nblocked = 0;
    ABT_mutex_unlock(m);
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <listen-address>\n", argv[0]);
        return 2;
    }
    margo_instance_id mid = margo_init(argv[1], MARGO_SERVER_MODE, 0, 0);
    if (!mid) return 1;
    frt_rpc_register(mid, "echo", 1, echo, NULL, ABT_POOL_NULL);
    frt_rpc_register(mid, "sleep", 1, sleep_h, NULL, ABT_POOL_NULL);
    frt_rpc_register(mid, "block", 1, block_h, NULL, ABT_POOL_NULL);
    frt_rpc_register(mid, "quit", 1, quit_h, NULL, ABT_POOL_NULL);
    frt_rpc_register(mid, "call", 1, call_h, NULL, ABT_POOL_NULL);
    margo_provider_register_identity(mid, 1, "rt-server");
    margo_push_prefinalize_callback(mid, release_blocked, NULL);
    printf("%s\n", frt_self_addr_str(mid));
    fflush(stdout);
    margo_wait_for_finalize(mid);
    return 0;
}
