/*
 * provider-admin.c -- the operators' RPCs of a provider (provider-admin.h):
 * flock_admin_info, flock_admin_leave, flock_admin_force_leave, served for
 * `flockctl info / show / leave / force-leave`. Owns the admin state
 * (start time, event counters, the "left on request" flag) and the three
 * handlers. Calls down only: the provider's public and internal getters
 * (flock__provider_get_backend, flock_provider_get_config), the backend's
 * get_view slot and its operators' extension (backend-ext.h, found through
 * builtin.c), the runtime (frt.h). provider.c calls flock__admin_start /
 * _stop and nothing else.
 */
#include "flock/provider-admin.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <frt.h>

#include "flock/backend-ext.h"
#include "flock/provider-internal.h"

#ifndef FLOCK_VERSION_STRING
#define FLOCK_VERSION_STRING "unknown"
#endif

/* An RPC no provider registers: a live process answers it with HG_NOENTRY
 * at once (the liveness check of force_leave). */
#define FLOCK__ADMIN_PROBE_RPC "flock_admin_probe"
#define FLOCK__ADMIN_MAX_ADDR  1024u
#define FLOCK__ADMIN_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct flock__admin {
    margo_instance_id mid;
    uint16_t          provider_id;
    flock_provider_t  provider;
    double            start_ms;
    _Atomic uint64_t  joins, leaves, deaths, info_served;
    atomic_bool       left; /* left on request (flock_admin_leave) */
    bool              cb_added;
    bool              registered[3];
};

static const char* const admin_rpcs[3] = {FLOCK__ADMIN_INFO_RPC, FLOCK__ADMIN_LEAVE_RPC,
                                          FLOCK__ADMIN_FORCE_LEAVE_RPC};

/* Counts the membership events this member saw (a provider update callback). */
static void admin_on_member(void* ctx, flock_update_t update, const char* address, uint16_t pid)
{
    flock__admin* a = ctx;
    (void)address;
    (void)pid;
    if (update == FLOCK_MEMBER_JOINED) atomic_fetch_add(&a->joins, 1);
    else if (update == FLOCK_MEMBER_LEFT) atomic_fetch_add(&a->leaves, 1);
    else if (update == FLOCK_MEMBER_DIED) atomic_fetch_add(&a->deaths, 1);
}

/* Respond "u32 ret, str text" (text may be NULL: ""). */
static void admin_respond(frt_request_t req, flock_return_t ret, const char* text)
{
    frt_wbuf out = FRT_WBUF_INIT;
    frt_put_u32(&out, (uint32_t)(int32_t)ret);
    frt_put_str(&out, text ? text : "");
    if (out.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, out.data, out.len);
    frt_wbuf_free(&out);
}

/* ---------------- info ---------------- */

typedef struct {
    struct json_object* out;
    bool                called;
} admin_view_ctx;

static void admin_view_cb(void* uargs, const flock_group_view_t* cv)
{
    admin_view_ctx*     c = uargs;
    flock_group_view_t* v = (flock_group_view_t*)cv;
    char                dg[32];
    if (c->called) return;
    c->called = true;
    FLOCK_GROUP_VIEW_LOCK(v);
    snprintf(dg, sizeof dg, "0x%016" PRIx64, v->digest);
    json_object_object_add(c->out, "view_size", json_object_new_int64((int64_t)v->members.size));
    json_object_object_add(c->out, "view_digest", json_object_new_string(dg));
    FLOCK_GROUP_VIEW_UNLOCK(v);
}

/* Contract: fills o with everything info reports; the backend's own part
 * through its extension (FLOCK_ERR_OP_UNSUPPORTED without one: the rest is
 * still filled). */
static flock_return_t admin_describe(flock__admin* a, struct json_object* o)
{
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    flock_return_t      ret   = FLOCK_SUCCESS;
    if (flock__provider_get_backend(a->provider, &impl, &state) != FLOCK_SUCCESS)
        return FLOCK_ERR_INVALID_GROUP;
    const flock__backend_ext* ext = flock__backend_ext_find(impl);
    json_object_object_add(o, "version", json_object_new_string(FLOCK_VERSION_STRING));
    json_object_object_add(o, "pid", json_object_new_int64((int64_t)getpid()));
    json_object_object_add(o, "uptime_s",
                           json_object_new_double((frt_now_ms() - a->start_ms) / 1e3));
    json_object_object_add(o, "address", json_object_new_string(frt_self_addr_str(a->mid)));
    json_object_object_add(o, "provider_id", json_object_new_int(a->provider_id));
    json_object_object_add(o, "backend", json_object_new_string(impl->name));
    json_object_object_add(o, "left", json_object_new_boolean(atomic_load(&a->left)));
    char* cfg = flock_provider_get_config(a->provider);
    if (cfg) {
        struct json_object* c = json_tokener_parse(cfg);
        if (c) json_object_object_add(o, "config", c);
        free(cfg);
    }
    admin_view_ctx vc = {o, false};
    impl->get_view(state, admin_view_cb, &vc);
    if (ext) ret = ext->describe(state, o);
    else ret = FLOCK_ERR_OP_UNSUPPORTED;
    /* the provider's counters join the backend's */
    struct json_object* counters = NULL;
    if (!json_object_object_get_ex(o, "counters", &counters)) {
        counters = json_object_new_object();
        json_object_object_add(o, "counters", counters);
    }
    if (counters) {
        json_object_object_add(counters, "joins_seen", json_object_new_int64((int64_t)atomic_load(&a->joins)));
        json_object_object_add(counters, "leaves_seen", json_object_new_int64((int64_t)atomic_load(&a->leaves)));
        json_object_object_add(counters, "deaths_seen", json_object_new_int64((int64_t)atomic_load(&a->deaths)));
        json_object_object_add(counters, "info_served", json_object_new_int64((int64_t)atomic_load(&a->info_served)));
    }
    return ret;
}

static void admin_info_handler(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    flock__admin*       a = uargs;
    struct json_object* o = json_object_new_object();
    (void)in;
    (void)in_len;
    atomic_fetch_add(&a->info_served, 1);
    if (!o) {
        admin_respond(req, FLOCK_ERR_ALLOCATION, NULL);
        return;
    }
    flock_return_t ret = admin_describe(a, o);
    /* without an extension the generic part is still useful: answer it */
    if (ret == FLOCK_ERR_OP_UNSUPPORTED)
        json_object_object_add(o, "extension", json_object_new_boolean(false));
    admin_respond(req, ret == FLOCK_ERR_OP_UNSUPPORTED ? FLOCK_SUCCESS : ret,
                  json_object_to_json_string_ext(o, FLOCK__ADMIN_JSON_FLAGS));
    json_object_put(o);
}

/* ---------------- leave ---------------- */

static void admin_leave_handler(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    flock__admin*       a     = uargs;
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    char                msg[256];
    flock_return_t      ret;
    (void)in;
    (void)in_len;
    if (flock__provider_get_backend(a->provider, &impl, &state) != FLOCK_SUCCESS) {
        admin_respond(req, FLOCK_ERR_INVALID_GROUP, "the group is not running");
        return;
    }
    const flock__backend_ext* ext = flock__backend_ext_find(impl);
    if (!ext) {
        snprintf(msg, sizeof msg, "backend \"%s\" cannot leave on request", impl->name);
        admin_respond(req, FLOCK_ERR_OP_UNSUPPORTED, msg);
        return;
    }
    if (atomic_exchange(&a->left, true)) {
        admin_respond(req, FLOCK_ERR_OP_FORBIDDEN, "this member has already left its group");
        return;
    }
    margo_info(a->mid, "[flock] provider %u: leaving the group on request from %s",
               (unsigned)a->provider_id, frt_request_source(req));
    char why[256] = "";
    ret           = ext->leave(state, why, sizeof why);
    if (ret == FLOCK_SUCCESS) {
        margo_info(a->mid, "[flock] provider %u: left the group; the process stays up (stop it "
                           "or restart it to join again)",
                   (unsigned)a->provider_id);
        snprintf(msg, sizeof msg, "left the group");
    } else {
        atomic_store(&a->left, false);
        snprintf(msg, sizeof msg, "cannot leave: %s (%s)", why[0] ? why : "see the member's log",
                 flock__return_name(ret));
        margo_warning(a->mid, "[flock] provider %u: %s", (unsigned)a->provider_id, msg);
    }
    admin_respond(req, ret, msg);
}

/* ---------------- force_leave ---------------- */

/* Contract: true if the process at address answers any RPC within timeout
 * (HG_NOENTRY and authentication failures count as answers). */
static bool admin_answers(flock__admin* a, const char* address, uint16_t pid, double timeout_ms)
{
    hg_addr_t addr = HG_ADDR_NULL;
    if (margo_addr_lookup(a->mid, address, &addr) != HG_SUCCESS) return false;
    hg_return_t hr = frt_forward(a->mid, addr, FLOCK__ADMIN_PROBE_RPC, pid, NULL, 0, timeout_ms,
                                 NULL, NULL);
    margo_addr_free(a->mid, addr);
    return !frt_no_answer(hr);
}

static void admin_force_leave_handler(frt_request_t req, const void* in, size_t in_len,
                                      void* uargs)
{
    flock__admin*       a     = uargs;
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    char                msg[FLOCK__ADMIN_MAX_ADDR + 256];
    frt_rbuf            r;
    frt_rbuf_init(&r, in, in_len);
    char*          address = frt_get_str(&r, FLOCK__ADMIN_MAX_ADDR);
    uint16_t       pid     = frt_get_u16(&r);
    double         timeout = frt_get_f64(&r);
    flock_return_t ret     = FLOCK_ERR_INVALID_ARGS;
    if (!address || !frt_rbuf_done(&r) || !(timeout >= 1.0 && timeout <= 3600e3)) {
        admin_respond(req, FLOCK_ERR_INVALID_ARGS, "malformed force-leave request");
        goto finish;
    }
    if (flock__provider_get_backend(a->provider, &impl, &state) != FLOCK_SUCCESS) {
        admin_respond(req, FLOCK_ERR_INVALID_GROUP, "the group is not running");
        goto finish;
    }
    const flock__backend_ext* ext = flock__backend_ext_find(impl);
    if (!ext) {
        snprintf(msg, sizeof msg, "backend \"%s\" cannot remove members on request", impl->name);
        admin_respond(req, FLOCK_ERR_OP_UNSUPPORTED, msg);
        goto finish;
    }
    if (strcmp(impl->name, "static") != 0 && admin_answers(a, address, pid, timeout)) {
        snprintf(msg, sizeof msg,
                 "%s (provider %u) still answers: force-leave only removes a member that does "
                 "not (ask it to leave instead: flockctl leave)",
                 address, (unsigned)pid);
        admin_respond(req, FLOCK_ERR_OP_FORBIDDEN, msg);
        goto finish;
    }
    char why[512] = "";
    ret           = ext->force_remove(state, address, pid, why, sizeof why);
    switch (ret) {
    case FLOCK_SUCCESS:
        snprintf(msg, sizeof msg, "%s (provider %u) removed from the group", address, (unsigned)pid);
        margo_info(a->mid, "[flock] provider %u: force-leave of %s (provider %u) on request "
                           "from %s",
                   (unsigned)a->provider_id, address, (unsigned)pid, frt_request_source(req));
        break;
    case FLOCK_ERR_NO_MEMBER:
        snprintf(msg, sizeof msg, "%s (provider %u) is not a member of the group", address,
                 (unsigned)pid);
        break;
    default:
        snprintf(msg, sizeof msg, "cannot remove %s (provider %u): %s (%s)", address,
                 (unsigned)pid, why[0] ? why : "see the member's log", flock__return_name(ret));
        break;
    }
    admin_respond(req, ret, msg);
finish:
    free(address);
}

const char* flock__return_name(flock_return_t ret)
{
#define X(err, msg) #err,
    static const char* const names[] = {FLOCK_RETURN_VALUES};
#undef X
    if ((int)ret < 0 || (size_t)ret >= sizeof names / sizeof names[0]) return "FLOCK_ERR_?";
    return names[ret];
}

/* ---------------- life ---------------- */

static const frt_handler_fn admin_handlers[3] = {admin_info_handler, admin_leave_handler,
                                                 admin_force_leave_handler};

void flock__admin_stop(flock__admin* a)
{
    if (!a) return;
    if (a->cb_added) flock_provider_remove_update_callbacks(a->provider, a);
    for (int i = 0; i < 3; i++)
        if (a->registered[i]) frt_rpc_deregister(a->mid, admin_rpcs[i], a->provider_id);
    free(a);
}

flock__admin* flock__admin_start(margo_instance_id mid, uint16_t provider_id,
                                 flock_provider_t provider)
{
    flock__admin* a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->mid         = mid;
    a->provider_id = provider_id;
    a->provider    = provider;
    a->start_ms    = frt_now_ms();
    for (int i = 0; i < 3; i++) {
        hg_return_t hr = frt_rpc_register(mid, admin_rpcs[i], provider_id, admin_handlers[i], a,
                                          ABT_POOL_NULL);
        if (hr != HG_SUCCESS) {
            margo_warning(mid, "[flock] provider %u: cannot register %s (%s): flockctl info, "
                               "leave and force-leave will not work",
                          (unsigned)provider_id, admin_rpcs[i], HG_Error_to_string(hr));
            flock__admin_stop(a);
            return NULL;
        }
        a->registered[i] = true;
    }
    a->cb_added = flock_provider_add_update_callbacks(provider, admin_on_member, NULL, a)
               == FLOCK_SUCCESS;
    return a;
}
