/*
 * swim-test-server.c -- one SWIM group member in its own process, driven by
 * tests/swim/test-swim-procs.c.
 *
 *   swim-test-server <provider_id> <group-config-json> [<seed_addr> <seed_pid>]
 *
 * Without a seed it starts a new group; with one it joins through it.
 * stdout (line-buffered): "ADDR <addr>" once registered, then one line per
 * membership event: "EV <J|L|D> <addr> <pid>", and "VIEW <n>" whenever the
 * backend's view size changes (polled every 20 ms); "META <key> <value|->"
 * per metadata callback, and "MV <value|->" whenever the view's value of
 * the key "k" changes (polled).
 * SIGTERM: graceful leave (provider destroyed, LEAVE announced), exit 0.
 * SIGUSR1: crash mode, then destroy (no announcement), exit 0.
 * SIGUSR2: set metadata "k" to "v-<address>" through the backend op; SIGHUP:
 * remove "k" (each prints "SET <flock_return_t>").
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flock/flock-server.h>
#include <flock/flock-group-view.h>
#include "../src/backends/swim/swim-backend.h"
#include "flock/provider-internal.h"
#include "../common/view-size.h"

static volatile sig_atomic_t g_stop = 0; /* 1 leave, 2 crash */
static volatile sig_atomic_t g_meta = 0; /* 1 set, 2 remove */

static void on_sig(int sig) { g_stop = sig == SIGUSR1 ? 2 : 1; }
static void on_meta_sig(int sig) { g_meta = sig == SIGUSR2 ? 1 : 2; }

static void on_metadata(void* ctx, const char* key, const char* value)
{
    printf("META %s %s\n", key, value ? value : "-");
    fflush(stdout);
}

static void read_k(void* uargs, const flock_group_view_t* v)
{
    flock_group_view_t* view = (flock_group_view_t*)v;
    FLOCK_GROUP_VIEW_LOCK(view);
    const char* val = flock_group_view_find_metadata(view, "k");
    snprintf((char*)uargs, 256, "%s", val ? val : "-");
    FLOCK_GROUP_VIEW_UNLOCK(view);
}

/* the backend's op, as the provider would call it */
static void do_meta(flock_provider_t p, margo_instance_id mid, bool set)
{
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    char                value[300];
    flock_return_t      r = FLOCK_ERR_OTHER;
    snprintf(value, sizeof value, "v-%s", frt_self_addr_str(mid));
    if (flock__provider_get_backend(p, &impl, &state) == FLOCK_SUCCESS)
        r = set ? impl->add_metadata(state, "k", value) : impl->remove_metadata(state, "k");
    printf("SET %d\n", (int)r);
    fflush(stdout);
}

static void on_member(void* ctx, flock_update_t up, const char* addr, uint16_t pid)
{
    char c = up == FLOCK_MEMBER_JOINED ? 'J' : up == FLOCK_MEMBER_LEFT ? 'L' : 'D';
    printf("EV %c %s %u\n", c, addr, (unsigned)pid);
    fflush(stdout);
}

int main(int argc, char** argv)
{
    int                ret = 1;
    margo_instance_id  mid = MARGO_INSTANCE_NULL;
    flock_provider_t   provider = NULL;
    flock_group_view_t view     = FLOCK_GROUP_VIEW_INITIALIZER;
    char*              config   = NULL;
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s <provider_id> <group-config> [<seed_addr> <seed_pid>]\n",
                argv[0]);
        return 2;
    }
    signal(SIGTERM, on_sig);
    signal(SIGUSR1, on_sig);
    signal(SIGUSR2, on_meta_sig);
    signal(SIGHUP, on_meta_sig);
    uint16_t pid = (uint16_t)atoi(argv[1]);
    mid          = margo_init("tcp://127.0.0.1:0", MARGO_SERVER_MODE, 0, 2);
    if (!mid) goto finish;
    size_t clen = strlen(argv[2]) + 64;
    config      = malloc(clen);
    if (!config) goto finish;
    snprintf(config, clen, "{\"group\":{\"type\":\"swim\",\"config\":%s}}", argv[2]);
    if (argc == 5) {
        if (!flock_group_view_add_member(&view, argv[3], (uint16_t)atoi(argv[4]))) goto finish;
    }
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    args.initial_view               = &view;
    flock_return_t fr = flock_provider_register(mid, pid, config, &args, &provider);
    if (fr != FLOCK_SUCCESS) {
        fprintf(stderr, "flock_provider_register: %d\n", (int)fr);
        goto finish;
    }
    flock_provider_add_update_callbacks(provider, on_member, on_metadata, &view);
    printf("ADDR %s\n", frt_self_addr_str(mid));
    fflush(stdout);
    size_t last = 0;
    char   last_k[256] = "", k[256];
    while (!g_stop) {
        if (g_meta) {
            do_meta(provider, mid, g_meta == 1);
            g_meta = 0;
        }
        flock_backend_impl* impl  = NULL;
        void*               state = NULL;
        k[0]                      = 0;
        if (flock__provider_get_backend(provider, &impl, &state) == FLOCK_SUCCESS)
            impl->get_view(state, read_k, k);
        if (k[0] && strcmp(k, last_k) != 0) {
            printf("MV %s\n", k);
            fflush(stdout);
            snprintf(last_k, sizeof last_k, "%s", k);
        }
        size_t n = provider_view_size(provider);
        if (n != last) {
            printf("VIEW %zu\n", n);
            fflush(stdout);
            last = n;
        }
        usleep(20000);
    }
    if (g_stop == 2) flock_swim_set_crash_mode(provider, true);
    flock_provider_destroy(provider);
    provider = NULL;
    ret      = 0;
finish:
    if (provider) flock_provider_destroy(provider);
    flock_group_view_clear(&view);
    free(config);
    if (mid) margo_finalize(mid);
    return ret;
}
