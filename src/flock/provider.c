/*
 * provider.c -- flock_provider_register / destroy / get_config, the update
 * callback list, the dispatcher given to backends (which hands each change
 * to the subscribers, provider-subs.c, and asks group-file.c to rewrite the
 * group file), and the "flock_get_view" and "flock_metadata_set" RPC
 * handlers (FLOCK-SPEC 2.1, 3.0, 3.4, 5.5, 5.6; issue #16).
 *
 * Locking (see docs/design.md, "Flock core"):
 *   - cb_lock (rwlock) protects the user callback list; dispatchers hold it
 *     for reading while calling user callbacks, add/remove take it for
 *     writing (so remove waits for running callbacks). User callbacks must
 *     not add/remove callbacks of the same provider.
 *   - the group file's mutex (group-file.c) serializes its writes, so a
 *     newer view is never overwritten by an older one. Order: that mutex,
 *     then the backend's view lock (taken inside the get_view callback);
 *     the file is written after the view lock is released.
 *   - the backend's view lock is taken by the provider's get_view callbacks
 *     (RPC handler, file writer), never while calling into user code.
 *   - backend_state is published atomically once init_group returned; the
 *     RPC handler and the file writer do nothing before that.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <flock/flock-server.h>
#include <frt.h>

#include "flock/backend-util.h"
#include "flock/builtin.h"
#include "flock/provider-internal.h"
#include "flock/view-codec.h"
#include "flock/group-file.h"
#include "flock/provider-admin.h"
#include "flock/provider-subs.h"
#include "flock/subscribe-wire.h"

typedef struct {
    flock_membership_update_fn member_fn;
    flock_metadata_update_fn   metadata_fn;
    void*                      context;
} update_cb;

struct flock_provider {
    margo_instance_id mid;
    uint16_t          provider_id;
    ABT_pool          pool;
    char*             self_addr;  /* public address (gateway) */
    char*             local_addr; /* local address (gateway) */

    flock_gateway_impl* gateway;
    void*               gateway_state;
    flock_backend_impl* backend;
    _Atomic(void*)      backend_state; /* NULL until init_group returned */

    pthread_rwlock_t cb_lock;
    update_cb*       cbs;
    size_t           ncbs, cbcap;

    flock__group_file_t gfile; /* the group file (group-file.c) */
    flock__subs_t   subs;      /* subscribers (provider-subs.c) */
    atomic_bool     closing;

    bool rpc_registered;
    bool meta_rpc_registered;
    bool identity_registered;
    bool finalize_pushed;
    bool ref_taken;
    flock__admin* admin; /* the operators' RPCs (provider-admin.c), NULL if absent */
};

/* ------------------------------------------------------------------ */
/* Group file                                                          */
/* ------------------------------------------------------------------ */

/* The group file's view source: the backend's view (none before
 * init_group returned or after destroy began). */
static flock_return_t provider_view_source(void* ctx,
                                           void (*fn)(void*, const flock_group_view_t*),
                                           void* uargs)
{
    flock_provider_t p     = (flock_provider_t)ctx;
    void*            state = atomic_load(&p->backend_state);
    if (!state) return FLOCK_ERR_INVALID_GROUP;
    return p->backend->get_view(state, fn, uargs);
}

/* ------------------------------------------------------------------ */
/* Dispatchers (the callbacks given to the backend)                     */
/* ------------------------------------------------------------------ */

static void dispatch_member_update(void* ctx, flock_update_t update, const char* address,
                                   uint16_t provider_id)
{
    flock_provider_t p = (flock_provider_t)ctx;
    if (!p || atomic_load(&p->closing)) return;
    margo_info(p->mid, "[flock] provider %u: %s %s (provider %u)", (unsigned)p->provider_id,
               update == FLOCK_MEMBER_JOINED ? "JOINED" : update == FLOCK_MEMBER_LEFT ? "LEFT" : "DIED",
               address, (unsigned)provider_id);
    pthread_rwlock_rdlock(&p->cb_lock);
    for (size_t i = 0; i < p->ncbs; i++)
        if (p->cbs[i].member_fn)
            p->cbs[i].member_fn(p->cbs[i].context, update, address, provider_id);
    pthread_rwlock_unlock(&p->cb_lock);
    flock__subs_publish_member(&p->subs, update, address, provider_id);
    flock__group_file_write(&p->gfile, false);
}

static void dispatch_metadata_update(void* ctx, const char* key, const char* value)
{
    flock_provider_t p = (flock_provider_t)ctx;
    if (!p || atomic_load(&p->closing)) return;
    pthread_rwlock_rdlock(&p->cb_lock);
    for (size_t i = 0; i < p->ncbs; i++)
        if (p->cbs[i].metadata_fn) p->cbs[i].metadata_fn(p->cbs[i].context, key, value);
    pthread_rwlock_unlock(&p->cb_lock);
    flock__subs_publish_metadata(&p->subs, key, value);
    flock__group_file_write(&p->gfile, false);
}

/* ------------------------------------------------------------------ */
/* flock_get_view RPC                                                   */
/* ------------------------------------------------------------------ */

typedef struct {
    frt_wbuf* out;
    uint64_t  digest;
    bool      called;
} get_view_ctx;

static void get_view_cb(void* uargs, const flock_group_view_t* cv)
{
    get_view_ctx*       c = (get_view_ctx*)uargs;
    flock_group_view_t* v = (flock_group_view_t*)cv;
    flock_group_view_t  empty = FLOCK_GROUP_VIEW_INITIALIZER;
    if (c->called) return; /* a backend calling fn twice: keep the first answer */
    c->called = true;
    FLOCK_GROUP_VIEW_LOCK(v);
    if (v->digest == c->digest) {
        frt_put_u8(c->out, 1);
        flock__view_encode(c->out, &empty);
    } else {
        frt_put_u8(c->out, 0);
        flock__view_encode(c->out, v);
    }
    FLOCK_GROUP_VIEW_UNLOCK(v);
}

static void get_view_handler(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    flock_provider_t   p     = (flock_provider_t)uargs;
    frt_wbuf           out   = FRT_WBUF_INIT;
    flock_group_view_t empty = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_return_t     ret   = FLOCK_SUCCESS;
    frt_rbuf           r;

    frt_rbuf_init(&r, in, in_len);
    uint64_t digest = frt_get_u64(&r);
    if (!frt_rbuf_done(&r)) {
        margo_error(p->mid, "[flock] provider %u: malformed flock_get_view request from %s "
                            "(%zu bytes)", (unsigned)p->provider_id,
                    frt_request_source(req), in_len);
        frt_respond_error(req, HG_PROTOCOL_ERROR);
        return;
    }
    void* state = atomic_load(&p->backend_state);
    if (!state) {
        ret = FLOCK_ERR_INVALID_GROUP;
    } else {
        get_view_ctx c = {&out, digest, false};
        flock_return_t br = p->backend->get_view(state, get_view_cb, &c);
        if (br != FLOCK_SUCCESS || !c.called) {
            margo_error(p->mid, "[flock] provider %u: backend get_view failed (%s)",
                        (unsigned)p->provider_id, flock__return_name(br));
            frt_wbuf_free(&out);
            ret = FLOCK_ERR_OTHER;
        }
    }
    if (ret != FLOCK_SUCCESS) {
        frt_put_u8(&out, 0);
        flock__view_encode(&out, &empty);
    }
    frt_put_u32(&out, (uint32_t)(int32_t)ret);
    if (out.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, out.data, out.len);
    frt_wbuf_free(&out);
}

/* ------------------------------------------------------------------ */
/* flock_metadata_set RPC                                               */
/* ------------------------------------------------------------------ */

/* A client sets (value) or removes (no value) a metadata entry: the rules
 * of backend-util.h (limits, UTF-8, reserved keys), then the backend's op,
 * which orders and spreads the change (or refuses it: static). */
static void metadata_set_handler(frt_request_t req, const void* in, size_t in_len,
                                 void* uargs)
{
    flock_provider_t p   = (flock_provider_t)uargs;
    char *           key = NULL, *value = NULL;
    char             why[96];
    flock_return_t   ret;
    frt_wbuf         out = FRT_WBUF_INIT;

    if (!flock__sub_decode_meta_set(in, in_len, &key, &value)) {
        margo_error(p->mid, "[flock] provider %u: malformed flock_metadata_set request from %s "
                            "(%zu bytes)", (unsigned)p->provider_id,
                    frt_request_source(req), in_len);
        frt_respond_error(req, HG_PROTOCOL_ERROR);
        return;
    }
    ret = flock__metadata_check(key, value, true, why, sizeof why);
    if (ret != FLOCK_SUCCESS) {
        margo_warning(p->mid, "[flock] provider %u: metadata change from %s refused: %s",
                      (unsigned)p->provider_id, frt_request_source(req), why);
        goto finish;
    }
    void* state = atomic_load(&p->backend_state);
    if (!state || atomic_load(&p->closing)) {
        ret = FLOCK_ERR_INVALID_GROUP;
        goto finish;
    }
    ret = value ? p->backend->add_metadata(state, key, value)
                : p->backend->remove_metadata(state, key);
finish:
    flock__sub_encode_status(&out, ret);
    if (out.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, out.data, out.len);
    frt_wbuf_free(&out);
    free(key);
    free(value);
}

/* ------------------------------------------------------------------ */
/* Teardown                                                             */
/* ------------------------------------------------------------------ */

/* Undo whatever registration did (flags say what). Used by a failed
 * register (release_ref irrelevant: no reference taken yet), by
 * flock_provider_destroy and by the margo finalize callback. */
static void provider_teardown(flock_provider_t p)
{
    atomic_store(&p->closing, true);
    flock__admin_stop(p->admin); /* waits for its handlers; before the backend goes */
    p->admin = NULL;
    flock__group_file_close(&p->gfile); /* no write from now on (a dispatch may still run) */
    flock__subs_close(&p->subs);          /* subscribers move to another member */
    if (p->rpc_registered) frt_rpc_deregister(p->mid, FLOCK__GET_VIEW_RPC, p->provider_id);
    if (p->meta_rpc_registered)
        frt_rpc_deregister(p->mid, FLOCK__METADATA_SET_RPC, p->provider_id);
    if (p->identity_registered) margo_provider_deregister_identity(p->mid, p->provider_id);
    pthread_rwlock_wrlock(&p->cb_lock); /* waits for running user callbacks */
    free(p->cbs);
    p->cbs  = NULL;
    p->ncbs = p->cbcap = 0;
    pthread_rwlock_unlock(&p->cb_lock);
    void* state = atomic_exchange(&p->backend_state, NULL);
    if (state) p->backend->destroy_group(state);
    if (p->gateway_state) p->gateway->destroy_gateway(p->gateway_state);
    margo_instance_id mid = p->mid;
    bool              ref = p->ref_taken;
    pthread_rwlock_destroy(&p->cb_lock);
    flock__group_file_destroy(&p->gfile);
    flock__subs_destroy(&p->subs); /* no dispatcher can run: the backend is gone */
    free(p->self_addr);
    free(p->local_addr);
    free(p);
    if (ref) margo_instance_release(mid);
}

static void provider_finalize_cb(void* uargs)
{
    flock_provider_t p = (flock_provider_t)uargs;
    p->finalize_pushed = false;
    provider_teardown(p);
}

/* ------------------------------------------------------------------ */
/* Registration                                                         */
/* ------------------------------------------------------------------ */

/* Fetch an optional "config" sub-object of obj; {} if absent. New ref. */
static flock_return_t sub_config(margo_instance_id mid, struct json_object* obj,
                                 const char* section, struct json_object** out)
{
    struct json_object* c = NULL;
    if (obj && json_object_object_get_ex(obj, "config", &c)) {
        if (!json_object_is_type(c, json_type_object)) {
            margo_error(mid, "[flock] config: \"%s.config\" must be an object", section);
            return FLOCK_ERR_INVALID_CONFIG;
        }
        *out = json_object_get(c);
        return FLOCK_SUCCESS;
    }
    *out = json_object_new_object();
    return *out ? FLOCK_SUCCESS : FLOCK_ERR_ALLOCATION;
}

/* Resolve a section ("gateway" or "group") to its "type" string. */
static flock_return_t section_type(margo_instance_id mid, struct json_object* sec,
                                   const char* section, const char** type)
{
    struct json_object* t = NULL;
    if (!sec || !json_object_object_get_ex(sec, "type", &t)
        || !json_object_is_type(t, json_type_string)) {
        margo_error(mid, "[flock] config: \"%s.type\" is missing or not a string", section);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    *type = json_object_get_string(t);
    return FLOCK_SUCCESS;
}

/*
 * Registration runs as phases over one context (reg_ctx). Each phase
 * either succeeds or logs and returns the error; it leaves whatever it
 * built in the context, and reg_finish releases it all (on failure the
 * provider is torn down by its flags, see provider_teardown). The order
 * is that of flock_provider_register's body.
 */
typedef struct {
    margo_instance_id         mid;
    uint16_t                  provider_id;
    ABT_pool                  pool;
    flock_backend_impl*       backend; /* explicit (args) or chosen from "group.type" */
    flock_gateway_impl*       gateway; /* explicit (args) or chosen from "gateway.type" */
    flock_group_view_t        view;    /* the initial view, taken from args */
    bool                      self_only; /* no initial view given: a group of one */
    struct json_object*       root;    /* the parsed config */
    struct json_object*       gw_config;
    struct json_object*       bk_config;
    flock_backend_init_args_t bargs;
    flock_provider_t          p;       /* NULL until reg_new_provider; NULL again once
                                          handed to the caller */
} reg_ctx;

/* Phase 1: take the optional args; the caller's initial view is moved out
 * (left empty). Cannot fail. */
static void reg_take_args(reg_ctx* r, margo_instance_id mid, uint16_t provider_id,
                          const struct flock_provider_args* args)
{
    memset(r, 0, sizeof *r);
    flock_group_view_t empty = FLOCK_GROUP_VIEW_INITIALIZER;
    r->view        = empty;
    r->mid         = mid;
    r->provider_id = provider_id;
    r->pool        = ABT_POOL_NULL;
    r->self_only   = true;
    if (!args) return;
    r->pool    = args->pool;
    r->backend = args->backend;
    r->gateway = args->gateway;
    if (args->initial_view) {
        r->self_only = false;
        FLOCK_GROUP_VIEW_MOVE(args->initial_view, &r->view);
    }
}

/* Phase 2: the built-ins are registered; explicit implementations are
 * complete; the instance is a server; the provider id is free.
 * FLOCK_ERR_INVALID_ARGS / FLOCK_ERR_INVALID_PROVIDER. */
static flock_return_t reg_check(reg_ctx* r)
{
    flock__register_builtins();
    if ((r->backend && !flock__backend_impl_valid(r->backend))
        || (r->gateway && !flock__gateway_impl_valid(r->gateway))) {
        margo_error(r->mid, "[flock] flock_provider_register: explicit backend or gateway with "
                            "a NULL name or function");
        return FLOCK_ERR_INVALID_ARGS;
    }
    if (r->mid == MARGO_INSTANCE_NULL || !margo_is_listening(r->mid)) {
        margo_error(r->mid, "[flock] flock_provider_register: %s",
                    r->mid ? "the runtime instance is not in server mode"
                           : "NULL runtime instance");
        return FLOCK_ERR_INVALID_ARGS;
    }
    if (margo_provider_registered_identity(r->mid, r->provider_id)
        || frt_rpc_is_registered(r->mid, FLOCK__GET_VIEW_RPC, r->provider_id)) {
        margo_error(r->mid, "[flock] flock_provider_register: provider id %u is already in use",
                    (unsigned)r->provider_id);
        return FLOCK_ERR_INVALID_PROVIDER;
    }
    return FLOCK_SUCCESS;
}

/* Phase 3: parse the config (a JSON object; NULL = {}) and apply "auth":
 * {"key_file": "<path>"}, which gives the instance its group key
 * (frt_auth_set_key_file; reliability helper, docs/reliability.md). The
 * key is never logged nor part of flock_provider_get_config's output.
 * FLOCK_ERR_INVALID_CONFIG. */
static flock_return_t reg_parse_config(reg_ctx* r, const char* config)
{
    enum json_tokener_error jerr = json_tokener_success;
    struct json_object *    auth = NULL, *kf = NULL;
    r->root = json_tokener_parse_verbose(config ? config : "{}", &jerr);
    if (!r->root) {
        margo_error(r->mid, "[flock] config: JSON syntax error: %s",
                    json_tokener_error_desc(jerr));
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (!json_object_is_type(r->root, json_type_object)) {
        margo_error(r->mid, "[flock] config: the configuration must be a JSON object");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (!json_object_object_get_ex(r->root, "auth", &auth)) return FLOCK_SUCCESS;
    if (!json_object_is_type(auth, json_type_object)
        || !json_object_object_get_ex(auth, "key_file", &kf)
        || !json_object_is_type(kf, json_type_string)) {
        margo_error(r->mid, "[flock] config: \"auth\" must be an object with a "
                            "\"key_file\" string");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (frt_auth_set_key_file(r->mid, json_object_get_string(kf)) != HG_SUCCESS) {
        margo_error(r->mid, "[flock] config: cannot use auth.key_file \"%s\"",
                    json_object_get_string(kf));
        return FLOCK_ERR_INVALID_CONFIG;
    }
    return FLOCK_SUCCESS;
}

/* Phase 4: the provider object (nothing registered yet) and its "file".
 * FLOCK_ERR_ALLOCATION / FLOCK_ERR_INVALID_CONFIG. */
static flock_return_t reg_new_provider(reg_ctx* r)
{
    struct json_object* f = NULL;
    flock_provider_t    p = (flock_provider_t)calloc(1, sizeof(*p));
    if (!p) return FLOCK_ERR_ALLOCATION;
    r->p           = p;
    p->mid         = r->mid;
    p->provider_id = r->provider_id;
    p->pool        = r->pool;
    pthread_rwlock_init(&p->cb_lock, NULL);
    atomic_init(&p->backend_state, NULL);
    atomic_init(&p->closing, false);
    if (json_object_object_get_ex(r->root, "file", &f)
        && (!json_object_is_type(f, json_type_string) || !json_object_get_string_len(f))) {
        margo_error(r->mid, "[flock] config: \"file\" must be a non-empty string");
        flock__group_file_init(&p->gfile, r->mid, r->provider_id, NULL, NULL,
                               provider_view_source, p);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    return flock__group_file_init(&p->gfile, r->mid, r->provider_id,
                                  f ? json_object_get_string(f) : NULL, NULL,
                                  provider_view_source, p);
}

/* The "gateway" or "group" section of the config: NULL if absent,
 * FLOCK_ERR_INVALID_CONFIG if not an object. When an implementation was
 * given explicitly, a "type" in the section is ignored with a warning. */
static flock_return_t reg_section(reg_ctx* r, const char* section, const char* explicit_name,
                                  const char* what, struct json_object** sec)
{
    *sec = NULL;
    if (json_object_object_get_ex(r->root, section, sec)
        && !json_object_is_type(*sec, json_type_object)) {
        margo_error(r->mid, "[flock] config: \"%s\" must be an object", section);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (explicit_name && *sec && json_object_object_get_ex(*sec, "type", NULL))
        margo_warning(r->mid, "[flock] config: \"%s.type\" ignored (explicit %s \"%s\" given)",
                      section, what, explicit_name);
    return FLOCK_SUCCESS;
}

/* Phase 5: the gateway: explicit, "gateway.type", or "default"; and its
 * "gateway.config" ({} if absent). FLOCK_ERR_INVALID_CONFIG. */
static flock_return_t reg_choose_gateway(reg_ctx* r)
{
    struct json_object* sec = NULL;
    flock_return_t      ret =
        reg_section(r, "gateway", r->gateway ? r->gateway->name : NULL, "gateway", &sec);
    if (ret != FLOCK_SUCCESS) return ret;
    if (!r->gateway && sec) {
        const char* type = NULL;
        ret              = section_type(r->mid, sec, "gateway", &type);
        if (ret != FLOCK_SUCCESS) return ret;
        r->gateway = flock__find_gateway(type);
        if (!r->gateway) {
            margo_error(r->mid, "[flock] config: unknown gateway type \"%s\"", type);
            return FLOCK_ERR_INVALID_CONFIG;
        }
    } else if (!r->gateway) {
        r->gateway = flock__find_gateway("default");
        if (!r->gateway) return FLOCK_ERR_OTHER;
    }
    return sub_config(r->mid, sec, "gateway", &r->gw_config);
}

/* Phase 6: the backend: explicit or "group.type" (required then); and its
 * "group.config" ({} if absent). FLOCK_ERR_INVALID_CONFIG. */
static flock_return_t reg_choose_backend(reg_ctx* r)
{
    struct json_object* sec = NULL;
    flock_return_t      ret =
        reg_section(r, "group", r->backend ? r->backend->name : NULL, "backend", &sec);
    if (ret != FLOCK_SUCCESS) return ret;
    if (!r->backend && sec) {
        const char* type = NULL;
        ret              = section_type(r->mid, sec, "group", &type);
        if (ret != FLOCK_SUCCESS) return ret;
        r->backend = flock__find_backend(type);
        if (!r->backend) {
            margo_error(r->mid, "[flock] config: unknown group (backend) type \"%s\"", type);
            return FLOCK_ERR_INVALID_CONFIG;
        }
    } else if (!r->backend) {
        margo_error(r->mid, "[flock] config: no \"group\" section and no explicit backend");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    ret = sub_config(r->mid, sec, "group", &r->bk_config);
    if (ret != FLOCK_SUCCESS) return ret;
    r->p->backend = r->backend;
    r->p->gateway = r->gateway;
    return FLOCK_SUCCESS;
}

/* Phase 7: start the gateway and copy its public and local addresses.
 * The gateway's error, FLOCK_ERR_OTHER (no address), FLOCK_ERR_ALLOCATION. */
static flock_return_t reg_start_gateway(reg_ctx* r)
{
    flock_provider_t          p     = r->p;
    flock_gateway_init_args_t gargs = {r->mid, r->provider_id, r->pool, r->gw_config};
    void*                     gs    = NULL;
    flock_return_t            ret   = r->gateway->init_gateway(&gargs, &gs);
    if (ret != FLOCK_SUCCESS) {
        margo_error(r->mid, "[flock] gateway \"%s\" failed to initialize (%s)", r->gateway->name,
                    flock__return_name(ret));
        return ret;
    }
    p->gateway_state = gs;
    const char* pub  = r->gateway->get_public_address(gs);
    const char* loc  = r->gateway->get_local_address(gs);
    if (!pub || !loc) {
        margo_error(r->mid, "[flock] gateway \"%s\" gave no address", r->gateway->name);
        return FLOCK_ERR_OTHER;
    }
    p->self_addr  = strdup(pub);
    p->local_addr = strdup(loc);
    /* before the backend starts: its first membership change may write the
     * group file, which needs to know who we are */
    p->gfile.self_addr = p->self_addr;
    return p->self_addr && p->local_addr ? FLOCK_SUCCESS : FLOCK_ERR_ALLOCATION;
}

/* Phase 8: this provider in the initial view: a group of one if no view
 * was given; join iff absent; listed under the local address -> replaced
 * by the public one (remove + add keeps the order and the digest right).
 * FLOCK_ERR_ALLOCATION. */
static flock_return_t reg_place_self(reg_ctx* r)
{
    flock_provider_t p = r->p;
    if (r->self_only && !flock_group_view_add_member(&r->view, p->self_addr, r->provider_id))
        return FLOCK_ERR_ALLOCATION;
    r->bargs.join = true;
    if (flock_group_view_find_member(&r->view, p->self_addr, r->provider_id)) {
        r->bargs.join = false;
        return FLOCK_SUCCESS;
    }
    flock_member_t* m = flock_group_view_find_member(&r->view, p->local_addr, r->provider_id);
    if (!m) return FLOCK_SUCCESS;
    r->bargs.join = false;
    flock_group_view_remove_member(&r->view, m);
    if (!flock_group_view_add_member(&r->view, p->self_addr, r->provider_id))
        return FLOCK_ERR_ALLOCATION;
    return FLOCK_SUCCESS;
}

/* Phase 9: the client-facing RPCs: flock_get_view, flock_metadata_set and
 * the subscriptions (provider-subs.c).
 * FLOCK_ERR_INVALID_PROVIDER (id taken), FLOCK_ERR_FROM_MERCURY,
 * FLOCK_ERR_ALLOCATION. */
static flock_return_t reg_get_view_rpc(reg_ctx* r)
{
    hg_return_t hret = frt_rpc_register(r->mid, FLOCK__GET_VIEW_RPC, r->provider_id,
                                        get_view_handler, r->p, r->pool);
    if (hret == HG_EXIST) {
        margo_error(r->mid, "[flock] provider id %u is already in use", (unsigned)r->provider_id);
        return FLOCK_ERR_INVALID_PROVIDER;
    }
    if (hret != HG_SUCCESS) {
        margo_error(r->mid, "[flock] cannot register %s: %s", FLOCK__GET_VIEW_RPC,
                    HG_Error_to_string(hret));
        return FLOCK_ERR_FROM_MERCURY;
    }
    r->p->rpc_registered = true;
    hret = frt_rpc_register(r->mid, FLOCK__METADATA_SET_RPC, r->provider_id,
                            metadata_set_handler, r->p, r->pool);
    if (hret != HG_SUCCESS) {
        margo_error(r->mid, "[flock] cannot register %s: %s", FLOCK__METADATA_SET_RPC,
                    HG_Error_to_string(hret));
        return FLOCK_ERR_FROM_MERCURY;
    }
    r->p->meta_rpc_registered = true;
    flock_return_t ret = flock__subs_init(&r->p->subs, r->mid, r->provider_id,
                                          provider_view_source, r->p);
    if (ret != FLOCK_SUCCESS)
        margo_error(r->mid, "[flock] provider %u: cannot start the subscription service",
                    (unsigned)r->provider_id);
    return ret;
}

/* Phase 10: the backend's group. The initial view moves into the init
 * args. callback_context is this provider's handle: the dispatchers' context
 * and, by the contract of backend-util.h (flock__backend_owner), the only
 * thing a backend knows of its provider. The state is published once
 * init_group returned. The backend's error. */
static flock_return_t reg_start_backend(reg_ctx* r)
{
    void*                      state = NULL;
    flock_backend_init_args_t* ba    = &r->bargs;
    ba->mid                          = r->mid;
    ba->provider_id                  = r->provider_id;
    ba->pool                         = r->pool;
    ba->config                       = r->bk_config;
    ba->self_addr_str                = r->p->self_addr;
    ba->member_update_callback       = dispatch_member_update;
    ba->metadata_update_callback     = dispatch_metadata_update;
    ba->callback_context             = r->p;
    FLOCK_GROUP_VIEW_MOVE(&r->view, &ba->initial_view);
    flock_return_t ret = r->backend->init_group(ba, &state);
    if (ret != FLOCK_SUCCESS) {
        margo_error(r->mid, "[flock] backend \"%s\" failed to initialize the group (%s)",
                    r->backend->name, flock__return_name(ret));
        return ret;
    }
    atomic_store(&r->p->backend_state, state);
    return FLOCK_SUCCESS;
}

/* Phase 11: live: the finalize callback, the provider identity, the group
 * file (failures logged only), a reference on the instance (kept as long
 * as the provider). FLOCK_ERR_INVALID_PROVIDER / FLOCK_ERR_FROM_MERCURY
 * (identity). */
static flock_return_t reg_go_live(reg_ctx* r)
{
    flock_provider_t p = r->p;
    margo_provider_push_finalize_callback(r->mid, p, provider_finalize_cb, p);
    p->finalize_pushed = true;
    hg_return_t hret   = margo_provider_register_identity(r->mid, r->provider_id, "flock");
    if (hret != HG_SUCCESS) {
        margo_error(r->mid, "[flock] cannot register identity for provider id %u: %s",
                    (unsigned)r->provider_id, HG_Error_to_string(hret));
        return hret == HG_EXIST ? FLOCK_ERR_INVALID_PROVIDER : FLOCK_ERR_FROM_MERCURY;
    }
    p->identity_registered = true;
    flock_return_t wret    = flock__group_file_write(&p->gfile, true);
    if (wret != FLOCK_SUCCESS) {
        /* a group nobody can find: stop now rather than report success */
        margo_error(r->mid, "[flock] provider %u: cannot write its group file \"%s\"",
                    (unsigned)r->provider_id, p->gfile.filename);
        return wret;
    }
    margo_instance_ref_incr(r->mid);
    p->ref_taken = true;
    p->admin     = flock__admin_start(r->mid, r->provider_id, p); /* optional */
    return FLOCK_SUCCESS;
}

/* Release the context; a provider still in it (a failed phase) is torn
 * down by its flags. */
static void reg_finish(reg_ctx* r)
{
    if (r->p) {
        if (r->p->finalize_pushed) margo_provider_pop_finalize_callback(r->mid, r->p);
        provider_teardown(r->p);
    }
    flock_group_view_clear(&r->bargs.initial_view);
    flock_group_view_clear(&r->view);
    json_object_put(r->bk_config);
    json_object_put(r->gw_config);
    json_object_put(r->root);
}

flock_return_t flock_provider_register(margo_instance_id mid, uint16_t provider_id,
                                       const char* config,
                                       const struct flock_provider_args* args,
                                       flock_provider_t* provider)
{
    reg_ctx        r;
    flock_return_t ret;
    reg_take_args(&r, mid, provider_id, args);
    ret = reg_check(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_parse_config(&r, config);
    if (ret == FLOCK_SUCCESS) ret = reg_new_provider(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_choose_gateway(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_choose_backend(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_start_gateway(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_place_self(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_get_view_rpc(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_start_backend(&r);
    if (ret == FLOCK_SUCCESS) ret = reg_go_live(&r);
    if (ret == FLOCK_SUCCESS) {
        if (provider) *provider = r.p;
        r.p = NULL; /* the caller's now */
    }
    reg_finish(&r);
    return ret;
}

flock_return_t flock_provider_destroy(flock_provider_t provider)
{
    if (!provider) return FLOCK_ERR_INVALID_ARGS;
    if (provider->finalize_pushed)
        margo_provider_pop_finalize_callback(provider->mid, provider);
    provider->finalize_pushed = false;
    provider_teardown(provider);
    return FLOCK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                            */
/* ------------------------------------------------------------------ */

flock_return_t flock_provider_add_update_callbacks(flock_provider_t provider,
                                                   flock_membership_update_fn member_fn,
                                                   flock_metadata_update_fn metadata_fn,
                                                   void* context)
{
    flock_return_t ret = FLOCK_SUCCESS;
    if (!provider) return FLOCK_ERR_INVALID_ARGS;
    pthread_rwlock_wrlock(&provider->cb_lock);
    for (size_t i = 0; i < provider->ncbs; i++) {
        if (provider->cbs[i].context == context) {
            provider->cbs[i].member_fn   = member_fn;
            provider->cbs[i].metadata_fn = metadata_fn;
            goto finish;
        }
    }
    if (provider->ncbs == provider->cbcap) {
        size_t     ncap = provider->cbcap ? provider->cbcap * 2 : 4;
        update_cb* n    = (update_cb*)realloc(provider->cbs, ncap * sizeof(*n));
        if (!n) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
        provider->cbs   = n;
        provider->cbcap = ncap;
    }
    provider->cbs[provider->ncbs].member_fn   = member_fn;
    provider->cbs[provider->ncbs].metadata_fn = metadata_fn;
    provider->cbs[provider->ncbs].context     = context;
    provider->ncbs++;
finish:
    pthread_rwlock_unlock(&provider->cb_lock);
    return ret;
}

flock_return_t flock_provider_remove_update_callbacks(flock_provider_t provider,
                                                      void* context)
{
    flock_return_t ret = FLOCK_ERR_INVALID_ARGS;
    if (!provider) return FLOCK_ERR_INVALID_ARGS;
    pthread_rwlock_wrlock(&provider->cb_lock);
    for (size_t i = 0; i < provider->ncbs; i++) {
        if (provider->cbs[i].context == context) {
            memmove(&provider->cbs[i], &provider->cbs[i + 1],
                    (provider->ncbs - i - 1) * sizeof(update_cb));
            provider->ncbs--;
            ret = FLOCK_SUCCESS;
            break;
        }
    }
    pthread_rwlock_unlock(&provider->cb_lock);
    if (ret != FLOCK_SUCCESS)
        margo_error(provider->mid, "[flock] remove_update_callbacks: context %p not registered",
                    context);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Introspection                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
    char* text;
} config_text;

static void config_text_cb(void* uargs, const struct json_object* config)
{
    config_text* c = (config_text*)uargs;
    if (!c->text) c->text = flock__json_to_string(config);
}

/* JSON string literal for s (malloc'd), e.g. "a\"b". */
static char* json_string_literal(const char* s)
{
    struct json_object* o = json_object_new_string(s);
    char*               r = o ? flock__json_to_string(o) : NULL;
    json_object_put(o);
    return r;
}

char* flock_provider_get_config(flock_provider_t provider)
{
    char*       result = NULL;
    config_text gw = {NULL}, bk = {NULL};
    char *      gw_type = NULL, *bk_type = NULL, *file = NULL;
    void*       state = NULL;

    if (!provider) return NULL;
    state = atomic_load(&provider->backend_state);
    if (!state) goto finish;
    if (provider->gateway->get_config(provider->gateway_state, config_text_cb, &gw)
        != FLOCK_SUCCESS)
        goto finish;
    if (provider->backend->get_config(state, config_text_cb, &bk) != FLOCK_SUCCESS)
        goto finish;
    gw_type = json_string_literal(provider->gateway->name);
    bk_type = json_string_literal(provider->backend->name);
    if (provider->gfile.filename) file = json_string_literal(provider->gfile.filename);
    if (!gw.text || !bk.text || !gw_type || !bk_type || (provider->gfile.filename && !file))
        goto finish;
    {
        size_t n = strlen(gw.text) + strlen(bk.text) + strlen(gw_type) + strlen(bk_type)
                 + (file ? strlen(file) : 0) + 96;
        result = (char*)malloc(n);
        if (!result) goto finish;
        snprintf(result, n,
                 "{\"gateway\":{\"type\":%s,\"config\":%s},\"group\":{\"type\":%s,\"config\":%s}"
                 "%s%s}",
                 gw_type, gw.text, bk_type, bk.text, file ? ",\"file\":" : "",
                 file ? file : "");
    }
finish:
    free(gw.text);
    free(bk.text);
    free(gw_type);
    free(bk_type);
    free(file);
    return result;
}

flock_return_t flock__provider_get_backend(flock_provider_t provider,
                                           flock_backend_impl** impl, void** state)
{
    if (!provider) return FLOCK_ERR_INVALID_ARGS;
    void* s = atomic_load(&provider->backend_state);
    if (!s) return FLOCK_ERR_INVALID_ARGS;
    if (impl) *impl = provider->backend;
    if (state) *state = s;
    return FLOCK_SUCCESS;
}

size_t flock__provider_subscriber_count(flock_provider_t provider)
{
    return provider ? flock__subs_count(&provider->subs) : 0;
}
