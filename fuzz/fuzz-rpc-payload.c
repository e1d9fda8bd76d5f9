/*
 * fuzz-rpc-payload.c -- the request decoders of every provider-level and
 * backend RPC. A real provider of each built-in backend (static, and
 * centralized / swim when they are built in) runs in-process; the first
 * input byte picks one of their registered RPCs, the rest is sent as its
 * payload through the runtime (in-process path, same handler code as over
 * a socket). Handlers must answer or fail cleanly; the call must complete
 * (a bounded timeout makes a hang visible as a libFuzzer timeout instead).
 */
#include <flock/flock-server.h>

#include "flock/provider-internal.h"
#include "fuzz-common.h"

typedef struct {
    const char* backend;
    uint16_t    provider_id;
    const char* config;
    const char* rpcs[8];
} fuzz_backend;

/* Short timers so that background activity (pings, gossip) also runs. */
static const fuzz_backend k_backends[] = {
    {"static", 1, "{\"group\":{\"type\":\"static\"}}", {FLOCK__GET_VIEW_RPC}},
    {"centralized", 2,
     "{\"group\":{\"type\":\"centralized\",\"config\":{\"ping_timeout_ms\":50.0,"
     "\"ping_interval_ms\":100.0,\"ping_max_num_timeouts\":2}}}",
     {FLOCK__GET_VIEW_RPC, "flock_centralized_ping", "flock_centralized_membership_update",
      "flock_centralized_get_view", "flock_centralized_leave", "flock_centralized_join"}},
    {"swim", 3,
     "{\"group\":{\"type\":\"swim\",\"config\":{\"protocol_period_ms\":100.0,"
     "\"ping_timeout_ms\":50.0,\"ping_req_timeout_ms\":50.0,\"suspicion_timeout_ms\":300.0}}}",
     {FLOCK__GET_VIEW_RPC, "flock_swim_ping", "flock_swim_ping_req", "flock_swim_announce"}},
};

typedef struct {
    const char* name;
    uint16_t    provider_id;
} fuzz_rpc;

static margo_instance_id g_mid;
static hg_addr_t         g_self;
static fuzz_rpc          g_rpcs[64];
static size_t            g_nrpcs;

static int setup(void)
{
    fuzz_quiet();
    g_mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 2);
    if (!g_mid || margo_addr_self(g_mid, &g_self) != HG_SUCCESS) return -1;
    for (size_t b = 0; b < sizeof k_backends / sizeof k_backends[0]; b++) {
        const fuzz_backend* fb = &k_backends[b];
        flock_provider_t    p  = NULL;
        if (flock_provider_register(g_mid, fb->provider_id, fb->config, NULL, &p)
            != FLOCK_SUCCESS)
            continue; /* backend not built in (yet) */
        for (size_t i = 0; i < 8 && fb->rpcs[i]; i++)
            if (frt_rpc_is_registered(g_mid, fb->rpcs[i], fb->provider_id)
                && g_nrpcs < sizeof g_rpcs / sizeof g_rpcs[0])
                g_rpcs[g_nrpcs++] = (fuzz_rpc){fb->rpcs[i], fb->provider_id};
    }
    return g_nrpcs > 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static int ready = 0;
    if (!ready) {
        if (setup() != 0) abort();
        ready = 1;
    }
    if (size == 0) return 0;
    const fuzz_rpc* rpc = &g_rpcs[data[0] % g_nrpcs];
    void*           out = NULL;
    size_t          out_len = 0;
    hg_return_t     ret = frt_forward(g_mid, g_self, rpc->name, rpc->provider_id,
                                      size > 1 ? data + 1 : NULL, size - 1, 10000.0, &out,
                                      &out_len);
    if (ret == HG_TIMEOUT) abort(); /* a handler that never answers */
    free(out);
    return 0;
}
