/*
 * fuzz-get-view-reply.c -- the client side of flock_get_view: whatever a
 * (possibly hostile) provider answers is fed to flock_group_update_view,
 * which must fail cleanly or install a consistent view.
 *
 * One server-mode instance is created once. A fake provider (identity
 * "flock", a flock_get_view handler answering the current fuzz input) lives
 * on it; the client handle calls it through the runtime's in-process path,
 * so the real request/response/decode code runs without sockets.
 */
#include <stdatomic.h>

#include <flock/flock-client.h>
#include <flock/flock-group.h>

#include "flock/provider-internal.h"
#include "fuzz-common.h"

#define FUZZ_PROVIDER_ID 7

static margo_instance_id    g_mid;
static flock_client_t       g_client;
static flock_group_handle_t g_handle;
static const uint8_t*       g_reply;
static size_t               g_reply_len;

static void fake_get_view(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    (void)in;
    (void)in_len;
    (void)uargs;
    frt_respond(req, g_reply_len ? g_reply : NULL, g_reply_len);
}

static int setup(void)
{
    hg_addr_t self = HG_ADDR_NULL;
    fuzz_quiet();
    g_mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 1);
    if (!g_mid) return -1;
    if (frt_rpc_register(g_mid, FLOCK__GET_VIEW_RPC, FUZZ_PROVIDER_ID, fake_get_view, NULL,
                         ABT_POOL_NULL) != HG_SUCCESS
        || margo_provider_register_identity(g_mid, FUZZ_PROVIDER_ID, "flock") != HG_SUCCESS
        || flock_client_init(g_mid, ABT_POOL_NULL, &g_client) != FLOCK_SUCCESS
        || margo_addr_self(g_mid, &self) != HG_SUCCESS)
        return -1;
    flock_return_t ret = flock_group_handle_create(g_client, self, FUZZ_PROVIDER_ID, 0, &g_handle);
    margo_addr_free(g_mid, self);
    return ret == FLOCK_SUCCESS ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static int ready = 0;
    if (!ready) {
        if (setup() != 0) abort();
        ready = 1;
    }
    g_reply     = data;
    g_reply_len = size;
    flock_return_t ret = flock_group_update_view(g_handle, NULL);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    if (flock_group_get_view(g_handle, &v) != FLOCK_SUCCESS) abort();
    /* the cached view is always internally consistent */
    uint64_t d = 0;
    for (size_t i = 0; i < v.members.size; i++)
        d ^= flock_hash_member(v.members.data[i].provider_id, v.members.data[i].address);
    for (size_t i = 0; i < v.metadata.size; i++)
        d ^= flock_hash_metadata(v.metadata.data[i].key, v.metadata.data[i].value);
    if (d != v.digest) abort();
    (void)ret;
    flock_group_view_clear(&v);
    return 0;
}
