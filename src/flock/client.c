/*
 * client.c -- flock_client_*, group handles and requests (FLOCK-SPEC 6).
 *
 * A handle caches a view (with its own mutex) refreshed from one contact
 * member with the "flock_get_view" RPC. Reference counts (client's handle
 * count, handle refcount) are atomics. An asynchronous update holds a
 * reference on its handle until flock_request_wait, so releasing the
 * handle while an update is in flight is safe. Handles hold a reference on
 * their client, so finalizing the client first (upstream left the handles
 * dangling) only logs a warning and the handles keep working.
 *
 * Failover (upstream always asked the same member, so a handle became
 * useless once that member died): when the contact does not answer
 * (unreachable, provider gone, timeout), the other members of the cached
 * view are tried in view order and the first one that answers becomes the
 * contact.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flock/flock-client.h>
#include <flock/flock-group.h>

#include "flock/backend-util.h"
#include "flock/client-internal.h"
#include "flock/provider-internal.h"
#include "flock/subscribe-wire.h"
#include "flock/view-codec.h"

/* Drop one reference; the last one frees the client. */
static void client_unref(flock_client_t client)
{
    if (atomic_fetch_sub(&client->refs, 1) == 1) free(client);
}

/* Timeout of each get_view attempt, on the contact and then on each other
 * member when it fails: a hung contact (stopped process, dropped frames)
 * fails over instead of blocking the caller forever. FLOCK_CLIENT_TIMEOUT_MS
 * (milliseconds, > 0) overrides it per client, read at flock_client_init. */
#define FLOCK__FAILOVER_TIMEOUT_MS 10000.0

struct flock_request {
    flock_group_handle_t handle;
    uint8_t              in[8]; /* the request (digest) for a failover */
    pthread_mutex_t      mutex;
    pthread_cond_t       cond;
    bool                 done;
    flock_return_t       ret;
};

/* ------------------------------------------------------------------ */
/* Client                                                               */
/* ------------------------------------------------------------------ */

flock_return_t flock_client_init(margo_instance_id mid, ABT_pool pool, flock_client_t* client)
{
    if (mid == MARGO_INSTANCE_NULL || !client) return FLOCK_ERR_INVALID_ARGS;
    flock_client_t c = (flock_client_t)calloc(1, sizeof(*c));
    if (!c) return FLOCK_ERR_ALLOCATION;
    c->mid        = mid;
    c->pool       = pool;
    c->timeout_ms = FLOCK__FAILOVER_TIMEOUT_MS;
    const char* env = getenv("FLOCK_CLIENT_TIMEOUT_MS");
    if (env && *env) {
        char*  end = NULL;
        double v   = strtod(env, &end);
        if (end && *end == '\0' && v > 0 && v <= 86400e3)
            c->timeout_ms = v;
        else
            margo_warning(mid, "[flock] ignoring FLOCK_CLIENT_TIMEOUT_MS=\"%s\": expected "
                               "milliseconds in (0, 86400000]", env);
    }
    atomic_init(&c->num_handles, 0);
    atomic_init(&c->refs, 1);
    *client = c;
    return FLOCK_SUCCESS;
}

flock_return_t flock_client_finalize(flock_client_t client)
{
    if (!client) return FLOCK_ERR_INVALID_ARGS;
    size_t n = atomic_load(&client->num_handles);
    if (n != 0)
        margo_warning(client->mid,
                      "[flock] flock_client_finalize: %zu group handle(s) still alive (they "
                      "stay usable until released)", n);
    client_unref(client);
    return FLOCK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Update (flock_get_view RPC)                                          */
/* ------------------------------------------------------------------ */

/* Apply a flock_get_view response to the handle's cache. */
static flock_return_t apply_response(flock_group_handle_t h, const void* out, size_t out_len)
{
    flock_return_t     ret  = FLOCK_SUCCESS;
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    frt_rbuf           r;

    frt_rbuf_init(&r, out, out_len);
    uint8_t no_change = frt_get_u8(&r);
    ret               = flock__view_decode(&r, &view);
    if (ret != FLOCK_SUCCESS) {
        if (ret != FLOCK_ERR_ALLOCATION) ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    int32_t remote = (int32_t)frt_get_u32(&r);
    if (!frt_rbuf_done(&r) || no_change > 1) {
        margo_error(h->client->mid, "[flock] malformed flock_get_view response (%zu bytes)",
                    out_len);
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    ret = (remote < 0 || remote > FLOCK_ERR_OTHER) ? FLOCK_ERR_OTHER : (flock_return_t)remote;
    if (ret != FLOCK_SUCCESS || no_change) goto finish;
    FLOCK_GROUP_VIEW_LOCK(&h->view);
    flock_group_view_clear(&h->view);
    FLOCK_GROUP_VIEW_MOVE(&view, &h->view);
    FLOCK_GROUP_VIEW_UNLOCK(&h->view);
finish:
    flock_group_view_clear(&view);
    return ret;
}

static flock_return_t from_hg(margo_instance_id mid, hg_return_t hret)
{
    if (hret == HG_SUCCESS) return FLOCK_SUCCESS;
    margo_error(mid, "[flock] flock_get_view RPC failed: %s", HG_Error_to_string(hret));
    return hret == HG_NOMEM ? FLOCK_ERR_ALLOCATION : FLOCK_ERR_FROM_MERCURY;
}

bool flock__worth_failover(hg_return_t hret)
{
    /* HG_CHECKSUM_ERROR: authentication failed; every member has the same key */
    return hret != HG_SUCCESS && hret != HG_CANCELED && hret != HG_NOMEM
        && hret != HG_MSGSIZE && hret != HG_INVALID_ARG && hret != HG_CHECKSUM_ERROR;
}

hg_return_t flock__handle_contact(flock_group_handle_t h, hg_addr_t* addr, uint16_t* pid)
{
    pthread_mutex_lock(&h->contact_lock);
    hg_return_t hret = margo_addr_dup(h->client->mid, h->addr, addr);
    *pid             = h->provider_id;
    pthread_mutex_unlock(&h->contact_lock);
    return hret;
}

void flock__handle_set_contact(flock_group_handle_t h, hg_addr_t addr, uint16_t pid)
{
    pthread_mutex_lock(&h->contact_lock);
    hg_addr_t old  = h->addr;
    h->addr        = addr;
    h->provider_id = pid;
    pthread_mutex_unlock(&h->contact_lock);
    margo_addr_free(h->client->mid, old);
}

/*
 * The contact failed: try the other members of the cached view in view
 * order (starting after the contact), each with a bounded timeout. The
 * first that answers becomes the contact. On success *out and *out_len hold
 * its response. Blocks (may run on a handler thread).
 */
hg_return_t flock__handle_failover(flock_group_handle_t h, const char* rpc, const void* in,
                                   size_t in_len, double extra_timeout_ms, void** out,
                                   size_t* out_len)
{
    hg_return_t hret  = HG_NOENTRY;
    char**      addrs = NULL;
    uint16_t*   pids  = NULL;
    size_t      n = 0, start = 0;
    char        cur[FRT_MAX_ADDR_LEN + 1];
    uint16_t    cur_pid;

    pthread_mutex_lock(&h->contact_lock);
    snprintf(cur, sizeof cur, "%s", frt_addr_str(h->addr) ? frt_addr_str(h->addr) : "");
    cur_pid = h->provider_id;
    pthread_mutex_unlock(&h->contact_lock);

    FLOCK_GROUP_VIEW_LOCK(&h->view);
    n     = (size_t)h->view.members.size;
    addrs = n ? (char**)calloc(n, sizeof(*addrs)) : NULL;
    pids  = n ? (uint16_t*)calloc(n, sizeof(*pids)) : NULL;
    if (addrs && pids) {
        for (size_t i = 0; i < n; i++) {
            addrs[i] = strdup(h->view.members.data[i].address);
            pids[i]  = h->view.members.data[i].provider_id;
            if (pids[i] == cur_pid && strcmp(addrs[i] ? addrs[i] : "", cur) == 0) start = i + 1;
        }
    } else {
        n = 0;
    }
    FLOCK_GROUP_VIEW_UNLOCK(&h->view);

    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        if (!addrs[i] || (pids[i] == cur_pid && strcmp(addrs[i], cur) == 0)) continue;
        hg_addr_t addr = HG_ADDR_NULL;
        if (margo_addr_lookup(h->client->mid, addrs[i], &addr) != HG_SUCCESS) continue;
        hret = frt_forward(h->client->mid, addr, rpc, pids[i], in, in_len,
                           h->client->timeout_ms + extra_timeout_ms, out, out_len);
        if (hret == HG_SUCCESS) {
            margo_warning(h->client->mid,
                          "[flock] group contact %s (provider %u) failed; now using %s "
                          "(provider %u)", cur, (unsigned)cur_pid, addrs[i], (unsigned)pids[i]);
            flock__handle_set_contact(h, addr, pids[i]);
            break;
        }
        margo_addr_free(h->client->mid, addr);
    }
    for (size_t i = 0; i < n; i++) free(addrs[i]);
    free(addrs);
    free(pids);
    return hret;
}

/* Result of an exchange with the contact (hret, response) after failover
 * if needed; applies the response to the cache. */
static flock_return_t finish_update(flock_group_handle_t h, hg_return_t hret, const void* out,
                                    size_t out_len, const uint8_t* in, size_t in_len)
{
    flock_return_t ret      = FLOCK_SUCCESS;
    void*          fo_out   = NULL;
    size_t         fo_len   = 0;
    if (flock__worth_failover(hret)) {
        margo_warning(h->client->mid, "[flock] group contact did not answer (%s); trying "
                                      "the other members", HG_Error_to_string(hret));
        hret = flock__handle_failover(h, FLOCK__GET_VIEW_RPC, in, in_len, 0, &fo_out,
                                      &fo_len);
        out     = fo_out;
        out_len = fo_len;
    }
    ret = from_hg(h->client->mid, hret);
    if (ret == FLOCK_SUCCESS) ret = apply_response(h, out, out_len);
    free(fo_out);
    return ret;
}

static void request_complete(void* uargs, hg_return_t hret, const void* out, size_t out_len)
{
    flock_request_t req = (flock_request_t)uargs;
    flock_return_t  ret = finish_update(req->handle, hret, out, out_len, req->in,
                                        sizeof req->in);
    pthread_mutex_lock(&req->mutex);
    req->ret  = ret;
    req->done = true;
    pthread_cond_broadcast(&req->cond);
    pthread_mutex_unlock(&req->mutex);
}

flock_return_t flock_group_update_view(flock_group_handle_t handle, flock_request_t* req)
{
    flock_return_t  ret     = FLOCK_SUCCESS;
    flock_request_t r       = NULL;
    void*           out     = NULL;
    size_t          out_len = 0;
    uint8_t         in[8];
    frt_wbuf        b       = FRT_WBUF_INIT;
    hg_addr_t       addr    = HG_ADDR_NULL;
    uint16_t        pid     = 0;

    if (!handle) return FLOCK_ERR_INVALID_ARGS;
    FLOCK_GROUP_VIEW_LOCK(&handle->view);
    uint64_t digest = handle->view.digest;
    FLOCK_GROUP_VIEW_UNLOCK(&handle->view);
    frt_put_u64(&b, digest);
    if (b.failed) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    memcpy(in, b.data, sizeof in);
    if (flock__handle_contact(handle, &addr, &pid) != HG_SUCCESS) {
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }

    if (!req) {
        hg_return_t hret = frt_forward(handle->client->mid, addr, FLOCK__GET_VIEW_RPC, pid, in,
                                       sizeof in, handle->client->timeout_ms, &out, &out_len);
        ret = finish_update(handle, hret, out, out_len, in, sizeof in);
        goto finish;
    }
    r = (flock_request_t)calloc(1, sizeof(*r));
    if (!r) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    pthread_mutex_init(&r->mutex, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->handle = handle;
    memcpy(r->in, in, sizeof in);
    flock_group_handle_ref_incr(handle);
    hg_return_t hret = frt_forward_async(handle->client->mid, addr, FLOCK__GET_VIEW_RPC, pid, in,
                                         sizeof in, handle->client->timeout_ms, request_complete,
                                         r);
    if (hret != HG_SUCCESS) {
        /* Could not even be sent: complete the request now (after a
         * failover attempt), so callers can always rely on flock_request_wait. */
        r->ret  = finish_update(handle, hret, NULL, 0, in, sizeof in);
        r->done = true;
    }
    *req = r;
finish:
    if (addr != HG_ADDR_NULL) margo_addr_free(handle->client->mid, addr);
    frt_wbuf_free(&b);
    free(out);
    return ret;
}

flock_return_t flock_request_wait(flock_request_t req)
{
    if (!req) return FLOCK_ERR_INVALID_ARGS;
    frt_wait_begin(); /* a completion must run: not a busy handler thread */
    pthread_mutex_lock(&req->mutex);
    while (!req->done) pthread_cond_wait(&req->cond, &req->mutex);
    flock_return_t ret = req->ret;
    pthread_mutex_unlock(&req->mutex);
    frt_wait_end();
    flock_group_handle_release(req->handle);
    pthread_mutex_destroy(&req->mutex);
    pthread_cond_destroy(&req->cond);
    free(req);
    return ret;
}

flock_return_t flock_request_test(flock_request_t req, bool* completed)
{
    if (!req || !completed) return FLOCK_ERR_INVALID_ARGS;
    pthread_mutex_lock(&req->mutex);
    *completed = req->done;
    pthread_mutex_unlock(&req->mutex);
    return FLOCK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Handles                                                              */
/* ------------------------------------------------------------------ */

/* A handle on contact (addr already owned by the handle), view moved in. */
static flock_return_t handle_new(flock_client_t client, hg_addr_t addr, uint16_t provider_id,
                                 flock_group_view_t* view, flock_group_handle_t* out)
{
    flock_group_handle_t h = (flock_group_handle_t)calloc(1, sizeof(*h));
    if (!h) return FLOCK_ERR_ALLOCATION;
    h->client      = client;
    pthread_mutex_init(&h->contact_lock, NULL);
    h->addr        = addr;
    h->provider_id = provider_id;
    atomic_init(&h->refcount, 1);
    FLOCK_GROUP_VIEW_MOVE(view, &h->view);
    atomic_fetch_add(&client->num_handles, 1);
    atomic_fetch_add(&client->refs, 1);
    *out = h;
    return FLOCK_SUCCESS;
}

/* Finish creating: optional initial update, then hand the handle out. */
static flock_return_t handle_finish(flock_group_handle_t h, uint32_t mode,
                                    flock_group_handle_t* handle)
{
    if (mode & FLOCK_MODE_INIT_UPDATE) {
        flock_return_t ret = flock_group_update_view(h, NULL);
        if (ret != FLOCK_SUCCESS) {
            flock_group_handle_release(h);
            return ret;
        }
    }
    *handle = h;
    return FLOCK_SUCCESS;
}

flock_return_t flock_group_handle_create(flock_client_t client, hg_addr_t addr,
                                         uint16_t provider_id, uint32_t mode,
                                         flock_group_handle_t* handle)
{
    flock_return_t       ret     = FLOCK_SUCCESS;
    hg_addr_t            dup     = HG_ADDR_NULL;
    flock_group_view_t   view    = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_handle_t h       = NULL;
    char                 id[64];
    size_t               id_size = sizeof id;

    if (!client || addr == HG_ADDR_NULL || !handle) return FLOCK_ERR_INVALID_ARGS;
    hg_return_t hret =
        margo_provider_get_identity(client->mid, addr, provider_id, id, &id_size);
    if (hret == HG_CHECKSUM_ERROR) { /* not "no provider": the key is wrong or missing */
        margo_error(client->mid, "[flock] %s: authentication failed (wrong or missing group key)",
                    frt_addr_str(addr) ? frt_addr_str(addr) : "?");
        ret = FLOCK_ERR_INVALID_PROVIDER;
        goto finish;
    }
    if (hret != HG_SUCCESS || strcmp(id, "flock") != 0) {
        margo_error(client->mid, "[flock] no Flock provider with id %u at %s (%s)",
                    (unsigned)provider_id, frt_addr_str(addr) ? frt_addr_str(addr) : "?",
                    hret == HG_SUCCESS ? "another identity" : HG_Error_to_string(hret));
        ret = FLOCK_ERR_INVALID_PROVIDER;
        goto finish;
    }
    if (margo_addr_dup(client->mid, addr, &dup) != HG_SUCCESS) {
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    if (!(mode & FLOCK_MODE_INIT_UPDATE)) {
        const char* a = frt_addr_str(dup);
        if (!a) {
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        if (!flock_group_view_add_member(&view, a, provider_id)) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    ret = handle_new(client, dup, provider_id, &view, &h);
    if (ret != FLOCK_SUCCESS) goto finish;
    dup = HG_ADDR_NULL;
    ret = handle_finish(h, mode, handle);
finish:
    if (dup != HG_ADDR_NULL) margo_addr_free(client->mid, dup);
    flock_group_view_clear(&view);
    return ret;
}

/* Handle from a parsed view: contact = first member. */
static flock_return_t handle_from_view(flock_client_t client, flock_group_view_t* view,
                                       uint32_t mode, flock_group_handle_t* handle)
{
    flock_return_t       ret  = FLOCK_SUCCESS;
    hg_addr_t            addr = HG_ADDR_NULL;
    flock_group_handle_t h    = NULL;
    flock_member_t*      m    = flock_group_view_member_at(view, 0);

    if (!m) return FLOCK_ERR_INVALID_ARGS;
    hg_return_t hret = margo_addr_lookup(client->mid, m->address, &addr);
    if (hret != HG_SUCCESS) {
        margo_error(client->mid, "[flock] cannot look up group member address \"%s\": %s",
                    m->address, HG_Error_to_string(hret));
        return FLOCK_ERR_FROM_MERCURY;
    }
    ret = handle_new(client, addr, m->provider_id, view, &h);
    if (ret != FLOCK_SUCCESS) {
        margo_addr_free(client->mid, addr);
        return ret;
    }
    return handle_finish(h, mode, handle);
}

flock_return_t flock_group_handle_create_from_file(flock_client_t client,
                                                   const char* filename, uint32_t mode,
                                                   flock_group_handle_t* handle)
{
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    if (!client || !filename || !handle) return FLOCK_ERR_INVALID_ARGS;
    flock_return_t ret = flock_group_view_from_file(filename, &view);
    if (ret == FLOCK_SUCCESS) ret = handle_from_view(client, &view, mode, handle);
    flock_group_view_clear(&view);
    return ret;
}

flock_return_t flock_group_handle_create_from_serialized(flock_client_t client,
                                                         const char* serialized_view,
                                                         size_t view_size, uint32_t mode,
                                                         flock_group_handle_t* handle)
{
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    if (!client || !serialized_view || !handle) return FLOCK_ERR_INVALID_ARGS;
    flock_return_t ret = flock_group_view_from_string(serialized_view, view_size, &view);
    if (ret == FLOCK_SUCCESS) ret = handle_from_view(client, &view, mode, handle);
    flock_group_view_clear(&view);
    return ret;
}

flock_return_t flock_group_handle_ref_incr(flock_group_handle_t handle)
{
    if (!handle) return FLOCK_ERR_INVALID_ARGS;
    atomic_fetch_add(&handle->refcount, 1);
    return FLOCK_SUCCESS;
}

flock_return_t flock_group_handle_release(flock_group_handle_t handle)
{
    if (!handle) return FLOCK_ERR_INVALID_ARGS;
    if (atomic_fetch_sub(&handle->refcount, 1) != 1) return FLOCK_SUCCESS;
    flock__client_sub_detach(handle); /* no callback runs after this */
    flock_client_t client = handle->client;
    margo_addr_free(client->mid, handle->addr);
    pthread_mutex_destroy(&handle->contact_lock);
    flock_group_view_clear(&handle->view);
    free(handle);
    atomic_fetch_sub(&client->num_handles, 1);
    client_unref(client);
    return FLOCK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Views                                                                */
/* ------------------------------------------------------------------ */

flock_return_t flock_group_get_view(flock_group_handle_t handle, flock_group_view_t* view)
{
    flock_group_view_t copy = FLOCK_GROUP_VIEW_INITIALIZER;
    if (!handle || !view) return FLOCK_ERR_INVALID_ARGS;
    flock_group_view_clear(view);
    FLOCK_GROUP_VIEW_LOCK(&handle->view);
    bool ok = flock_group_view_copy(&handle->view, &copy);
    FLOCK_GROUP_VIEW_UNLOCK(&handle->view);
    if (!ok) return FLOCK_ERR_ALLOCATION;
    FLOCK_GROUP_VIEW_MOVE(&copy, view);
    return FLOCK_SUCCESS;
}

flock_return_t flock_group_access_view(flock_group_handle_t handle,
                                       void (*access)(void*, const flock_group_view_t*),
                                       void* uargs)
{
    if (!handle) return FLOCK_ERR_INVALID_ARGS;
    if (!access) return FLOCK_SUCCESS;
    FLOCK_GROUP_VIEW_LOCK(&handle->view);
    access(uargs, &handle->view);
    FLOCK_GROUP_VIEW_UNLOCK(&handle->view);
    return FLOCK_SUCCESS;
}

flock_return_t flock_group_metadata_set(flock_group_handle_t handle, const char* key,
                                        const char* value)
{
    flock_return_t ret     = FLOCK_SUCCESS;
    frt_wbuf       in      = FRT_WBUF_INIT;
    hg_addr_t      addr    = HG_ADDR_NULL;
    uint16_t       pid     = 0;
    void*          out     = NULL;
    size_t         out_len = 0;
    char           why[96];

    if (!handle) return FLOCK_ERR_INVALID_ARGS;
    ret = flock__metadata_check(key, value, true, why, sizeof why);
    if (ret != FLOCK_SUCCESS) {
        margo_error(handle->client->mid, "[flock] flock_group_metadata_set: %s", why);
        return ret;
    }
    flock__sub_encode_meta_set(&in, key, value);
    if (in.failed) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    if (flock__handle_contact(handle, &addr, &pid) != HG_SUCCESS) {
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    hg_return_t hret = frt_forward(handle->client->mid, addr, FLOCK__METADATA_SET_RPC, pid,
                                   in.data, in.len, handle->client->timeout_ms, &out, &out_len);
    if (flock__worth_failover(hret)) {
        hg_return_t first = hret;
        hret = flock__handle_failover(handle, FLOCK__METADATA_SET_RPC, in.data, in.len, 0, &out,
                                      &out_len);
        if (hret == HG_NOENTRY && first != HG_NOENTRY) hret = first; /* nobody else to try */
    }
    if (hret == HG_NOENTRY) { /* no member has the RPC: an older version */
        margo_error(handle->client->mid, "[flock] flock_group_metadata_set: no member of the "
                                         "group serves run-time metadata (older version?)");
        ret = FLOCK_ERR_OP_UNSUPPORTED;
        goto finish;
    }
    if (hret == HG_CHECKSUM_ERROR) {
        margo_error(handle->client->mid, "[flock] flock_group_metadata_set: authentication "
                                         "failed (the group requires a key, or this key is "
                                         "wrong)");
        ret = FLOCK_ERR_INVALID_PROVIDER;
        goto finish;
    }
    if (hret != HG_SUCCESS) {
        margo_error(handle->client->mid, "[flock] flock_metadata_set RPC failed: %s",
                    HG_Error_to_string(hret));
        ret = hret == HG_NOMEM ? FLOCK_ERR_ALLOCATION : FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    if (!flock__sub_decode_status(out, out_len, &ret)) {
        margo_error(handle->client->mid, "[flock] malformed flock_metadata_set response "
                                         "(%zu bytes)", out_len);
        ret = FLOCK_ERR_FROM_MERCURY;
    }
finish:
    if (addr != HG_ADDR_NULL) margo_addr_free(handle->client->mid, addr);
    frt_wbuf_free(&in);
    free(out);
    return ret;
}
