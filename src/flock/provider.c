/*
 * provider.c -- flock_provider_register / destroy / get_config, the update
 * callback list, the dispatcher given to backends, the group-file writer
 * and the "flock_get_view" RPC handler (FLOCK-SPEC 2.1, 3.0, 3.4, 5.5, 5.6).
 *
 * Locking (see docs/design.md, "Flock core"):
 *   - cb_lock (rwlock) protects the user callback list; dispatchers hold it
 *     for reading while calling user callbacks, add/remove take it for
 *     writing (so remove waits for running callbacks). User callbacks must
 *     not add/remove callbacks of the same provider.
 *   - file_mutex serializes group-file writes of this provider, so a newer
 *     view is never overwritten by an older one. Order: file_mutex, then
 *     the backend's view lock (taken inside the get_view callback); the
 *     file is written after the view lock is released.
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

#include "flock/backend-util.h"
#include "flock/provider-internal.h"
#include "flock/view-codec.h"

typedef struct {
    flock_membership_update_fn member_fn;
    flock_metadata_update_fn   metadata_fn;
    void*                      context;
} update_cb;

struct flock_provider {
    margo_instance_id mid;
    uint16_t          provider_id;
    ABT_pool          pool;
    char*             filename;   /* group file, or NULL */
    char*             self_addr;  /* public address (gateway) */
    char*             local_addr; /* local address (gateway) */

    flock_gateway_impl* gateway;
    void*               gateway_state;
    flock_backend_impl* backend;
    _Atomic(void*)      backend_state; /* NULL until init_group returned */

    pthread_rwlock_t cb_lock;
    update_cb*       cbs;
    size_t           ncbs, cbcap;

    pthread_mutex_t file_mutex;
    bool            file_owner; /* wrote the group file at registration (under file_mutex) */
    atomic_bool     closing;

    bool rpc_registered;
    bool identity_registered;
    bool finalize_pushed;
    bool ref_taken;
};

/* ------------------------------------------------------------------ */
/* Group file                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
    flock_provider_t p;
    char*            text;
    bool             oom;
} file_ctx;

static void file_view_cb(void* uargs, const flock_group_view_t* cv)
{
    file_ctx*           c = (file_ctx*)uargs;
    flock_group_view_t* v = (flock_group_view_t*)cv; /* the lock is ours to take */
    FLOCK_GROUP_VIEW_LOCK(v);
    flock_member_t* first = flock_group_view_member_at(v, 0);
    bool is_first = first && first->provider_id == c->p->provider_id
                 && strcmp(first->address, c->p->self_addr) == 0;
    if (is_first || c->p->file_owner) {
        c->text = flock__view_to_json(v);
        c->oom  = (c->text == NULL);
    }
    FLOCK_GROUP_VIEW_UNLOCK(v);
}

/* Rewrite the group file if this provider is member 0 of its view (the
 * reference rule), or if it is the provider that wrote the file when it
 * registered (its "owner"). The second case goes beyond the reference: when
 * joiners sort before the member that created the file (na+sm pids, tcp
 * ports), nobody would otherwise keep the file current, and later joiners
 * would load a stale view. Two writers of one path are safe: each write is
 * an atomic replace of a complete view.
 * `registering` marks the write at the end of registration, which decides
 * ownership. Errors are logged and returned. Must not be called with the
 * view locked. */
static flock_return_t provider_write_file(flock_provider_t p, bool registering)
{
    flock_return_t ret   = FLOCK_SUCCESS;
    void*          state = atomic_load(&p->backend_state);
    file_ctx       c     = {p, NULL, false};

    if (!p->filename || !state) return FLOCK_SUCCESS;
    pthread_mutex_lock(&p->file_mutex);
    ret = p->backend->get_view(state, file_view_cb, &c);
    if (ret != FLOCK_SUCCESS) {
        margo_error(p->mid, "[flock] provider %u: backend get_view failed (%d), group file "
                            "\"%s\" not written", (unsigned)p->provider_id, (int)ret,
                    p->filename);
        goto finish;
    }
    if (c.oom) {
        ret = FLOCK_ERR_ALLOCATION;
        margo_error(p->mid, "[flock] provider %u: out of memory writing \"%s\"",
                    (unsigned)p->provider_id, p->filename);
        goto finish;
    }
    if (c.text) {
        ret = flock__write_file_atomic(p->filename, c.text);
        if (ret == FLOCK_SUCCESS && registering) p->file_owner = true;
        if (ret != FLOCK_SUCCESS)
            margo_error(p->mid, "[flock] provider %u: cannot write group file \"%s\" (%d)",
                        (unsigned)p->provider_id, p->filename, (int)ret);
    }
finish:
    pthread_mutex_unlock(&p->file_mutex);
    free(c.text);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Dispatchers (the callbacks given to the backend)                     */
/* ------------------------------------------------------------------ */

static void dispatch_member_update(void* ctx, flock_update_t update, const char* address,
                                   uint16_t provider_id)
{
    flock_provider_t p = (flock_provider_t)ctx;
    if (!p || atomic_load(&p->closing)) return;
    pthread_rwlock_rdlock(&p->cb_lock);
    for (size_t i = 0; i < p->ncbs; i++)
        if (p->cbs[i].member_fn)
            p->cbs[i].member_fn(p->cbs[i].context, update, address, provider_id);
    pthread_rwlock_unlock(&p->cb_lock);
    provider_write_file(p, false);
}

static void dispatch_metadata_update(void* ctx, const char* key, const char* value)
{
    flock_provider_t p = (flock_provider_t)ctx;
    if (!p || atomic_load(&p->closing)) return;
    pthread_rwlock_rdlock(&p->cb_lock);
    for (size_t i = 0; i < p->ncbs; i++)
        if (p->cbs[i].metadata_fn) p->cbs[i].metadata_fn(p->cbs[i].context, key, value);
    pthread_rwlock_unlock(&p->cb_lock);
    provider_write_file(p, false);
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
            margo_error(p->mid, "[flock] provider %u: backend get_view failed (%d)",
                        (unsigned)p->provider_id, (int)br);
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
/* Teardown                                                             */
/* ------------------------------------------------------------------ */

/* Undo whatever registration did (flags say what). Used by a failed
 * register (release_ref irrelevant: no reference taken yet), by
 * flock_provider_destroy and by the margo finalize callback. */
static void provider_teardown(flock_provider_t p)
{
    atomic_store(&p->closing, true);
    if (p->rpc_registered) frt_rpc_deregister(p->mid, FLOCK__GET_VIEW_RPC, p->provider_id);
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
    pthread_mutex_destroy(&p->file_mutex);
    free(p->filename);
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

flock_return_t flock_provider_register(margo_instance_id mid, uint16_t provider_id,
                                       const char* config,
                                       const struct flock_provider_args* args,
                                       flock_provider_t* provider)
{
    flock_return_t            ret       = FLOCK_SUCCESS;
    flock_provider_t          p         = NULL;
    struct json_object*       root      = NULL;
    struct json_object*       gw_config = NULL;
    struct json_object*       bk_config = NULL;
    flock_group_view_t        view      = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_backend_init_args_t bargs;
    bool                      self_only = true;
    ABT_pool                  pool      = ABT_POOL_NULL;
    flock_backend_impl*       backend   = NULL;
    flock_gateway_impl*       gateway   = NULL;

    memset(&bargs, 0, sizeof bargs);
    /* 1. take the initial view (the caller's view is left empty) */
    if (args) {
        pool    = args->pool;
        backend = args->backend;
        gateway = args->gateway;
        if (args->initial_view) {
            self_only = false;
            FLOCK_GROUP_VIEW_MOVE(args->initial_view, &view);
        }
    }
    /* 2. built-ins; explicit implementations must be complete */
    flock__register_builtins();
    if ((backend && !flock__backend_impl_valid(backend))
        || (gateway && !flock__gateway_impl_valid(gateway))) {
        margo_error(mid, "[flock] flock_provider_register: explicit backend or gateway with a "
                         "NULL name or function");
        ret = FLOCK_ERR_INVALID_ARGS;
        goto finish;
    }
    /* 3. instance */
    if (mid == MARGO_INSTANCE_NULL || !margo_is_listening(mid)) {
        margo_error(mid, "[flock] flock_provider_register: %s",
                    mid ? "the runtime instance is not in server mode"
                        : "NULL runtime instance");
        ret = FLOCK_ERR_INVALID_ARGS;
        goto finish;
    }
    /* 4. provider id free? */
    if (margo_provider_registered_identity(mid, provider_id)
        || frt_rpc_is_registered(mid, FLOCK__GET_VIEW_RPC, provider_id)) {
        margo_error(mid, "[flock] flock_provider_register: provider id %u is already in use",
                    (unsigned)provider_id);
        ret = FLOCK_ERR_INVALID_PROVIDER;
        goto finish;
    }
    /* 5. config */
    {
        enum json_tokener_error jerr = json_tokener_success;
        root = json_tokener_parse_verbose(config ? config : "{}", &jerr);
        if (!root) {
            margo_error(mid, "[flock] config: JSON syntax error: %s",
                        json_tokener_error_desc(jerr));
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        if (!json_object_is_type(root, json_type_object)) {
            margo_error(mid, "[flock] config: the configuration must be a JSON object");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
    }
    /* 5b. authenticated group (reliability helper, docs/reliability.md):
     * "auth": {"key_file": "<path>"} gives the instance its group key
     * (frt_auth_set_key_file). The key is never logged nor part of
     * flock_provider_get_config's output. */
    {
        struct json_object *auth = NULL, *kf = NULL;
        if (json_object_object_get_ex(root, "auth", &auth)) {
            if (!json_object_is_type(auth, json_type_object)
                || !json_object_object_get_ex(auth, "key_file", &kf)
                || !json_object_is_type(kf, json_type_string)) {
                margo_error(mid, "[flock] config: \"auth\" must be an object with a "
                                 "\"key_file\" string");
                ret = FLOCK_ERR_INVALID_CONFIG;
                goto finish;
            }
            if (frt_auth_set_key_file(mid, json_object_get_string(kf)) != HG_SUCCESS) {
                margo_error(mid, "[flock] config: cannot use auth.key_file \"%s\"",
                            json_object_get_string(kf));
                ret = FLOCK_ERR_INVALID_CONFIG;
                goto finish;
            }
        }
    }
    p = (flock_provider_t)calloc(1, sizeof(*p));
    if (!p) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    p->mid         = mid;
    p->provider_id = provider_id;
    p->pool        = pool;
    pthread_rwlock_init(&p->cb_lock, NULL);
    pthread_mutex_init(&p->file_mutex, NULL);
    atomic_init(&p->backend_state, NULL);
    atomic_init(&p->closing, false);
    /* 6. file */
    {
        struct json_object* f = NULL;
        if (json_object_object_get_ex(root, "file", &f)) {
            if (!json_object_is_type(f, json_type_string) || !json_object_get_string_len(f)) {
                margo_error(mid, "[flock] config: \"file\" must be a non-empty string");
                ret = FLOCK_ERR_INVALID_CONFIG;
                goto finish;
            }
            p->filename = strdup(json_object_get_string(f));
            if (!p->filename) {
                ret = FLOCK_ERR_ALLOCATION;
                goto finish;
            }
        }
    }
    /* 7. gateway */
    {
        struct json_object* sec = NULL;
        if (json_object_object_get_ex(root, "gateway", &sec)
            && !json_object_is_type(sec, json_type_object)) {
            margo_error(mid, "[flock] config: \"gateway\" must be an object");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        if (gateway) {
            if (sec && json_object_object_get_ex(sec, "type", NULL))
                margo_warning(mid, "[flock] config: \"gateway.type\" ignored (explicit "
                                   "gateway \"%s\" given)", gateway->name);
        } else if (sec) {
            const char* type = NULL;
            ret              = section_type(mid, sec, "gateway", &type);
            if (ret != FLOCK_SUCCESS) goto finish;
            gateway = flock__find_gateway(type);
            if (!gateway) {
                margo_error(mid, "[flock] config: unknown gateway type \"%s\"", type);
                ret = FLOCK_ERR_INVALID_CONFIG;
                goto finish;
            }
        } else {
            gateway = flock__find_gateway("default");
            if (!gateway) {
                ret = FLOCK_ERR_OTHER;
                goto finish;
            }
        }
        ret = sub_config(mid, sec, "gateway", &gw_config);
        if (ret != FLOCK_SUCCESS) goto finish;
    }
    /* 8. group */
    {
        struct json_object* sec = NULL;
        if (json_object_object_get_ex(root, "group", &sec)
            && !json_object_is_type(sec, json_type_object)) {
            margo_error(mid, "[flock] config: \"group\" must be an object");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        if (backend) {
            if (sec && json_object_object_get_ex(sec, "type", NULL))
                margo_warning(mid, "[flock] config: \"group.type\" ignored (explicit backend "
                                   "\"%s\" given)", backend->name);
        } else if (sec) {
            const char* type = NULL;
            ret              = section_type(mid, sec, "group", &type);
            if (ret != FLOCK_SUCCESS) goto finish;
            backend = flock__find_backend(type);
            if (!backend) {
                margo_error(mid, "[flock] config: unknown group (backend) type \"%s\"", type);
                ret = FLOCK_ERR_INVALID_CONFIG;
                goto finish;
            }
        } else {
            margo_error(mid, "[flock] config: no \"group\" section and no explicit backend");
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        ret = sub_config(mid, sec, "group", &bk_config);
        if (ret != FLOCK_SUCCESS) goto finish;
    }
    p->backend = backend;
    p->gateway = gateway;
    /* 9. gateway instance and addresses */
    {
        flock_gateway_init_args_t gargs = {mid, provider_id, pool, gw_config};
        void*                     gs    = NULL;
        ret                             = gateway->init_gateway(&gargs, &gs);
        if (ret != FLOCK_SUCCESS) {
            margo_error(mid, "[flock] gateway \"%s\" failed to initialize (%d)", gateway->name,
                        (int)ret);
            goto finish;
        }
        p->gateway_state = gs;
        const char* pub  = gateway->get_public_address(gs);
        const char* loc  = gateway->get_local_address(gs);
        if (!pub || !loc) {
            margo_error(mid, "[flock] gateway \"%s\" gave no address", gateway->name);
            ret = FLOCK_ERR_OTHER;
            goto finish;
        }
        p->self_addr  = strdup(pub);
        p->local_addr = strdup(loc);
        if (!p->self_addr || !p->local_addr) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    /* 10. join flag */
    if (self_only) {
        if (!flock_group_view_add_member(&view, p->self_addr, provider_id)) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    bargs.join = true;
    if (flock_group_view_find_member(&view, p->self_addr, provider_id)) {
        bargs.join = false;
    } else {
        flock_member_t* m = flock_group_view_find_member(&view, p->local_addr, provider_id);
        if (m) {
            /* Listed under the local address: advertise the public one
             * (remove + add keeps the order and the digest right). */
            bargs.join = false;
            flock_group_view_remove_member(&view, m);
            if (!flock_group_view_add_member(&view, p->self_addr, provider_id)) {
                ret = FLOCK_ERR_ALLOCATION;
                goto finish;
            }
        }
    }
    /* 11. client-facing RPC */
    {
        hg_return_t hret = frt_rpc_register(mid, FLOCK__GET_VIEW_RPC, provider_id,
                                            get_view_handler, p, pool);
        if (hret == HG_EXIST) {
            margo_error(mid, "[flock] provider id %u is already in use", (unsigned)provider_id);
            ret = FLOCK_ERR_INVALID_PROVIDER;
            goto finish;
        }
        if (hret != HG_SUCCESS) {
            margo_error(mid, "[flock] cannot register %s: %s", FLOCK__GET_VIEW_RPC,
                        HG_Error_to_string(hret));
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        p->rpc_registered = true;
    }
    /* 12. backend */
    {
        void* state                    = NULL;
        bargs.mid                      = mid;
        bargs.provider_id              = provider_id;
        bargs.pool                     = pool;
        bargs.config                   = bk_config;
        bargs.self_addr_str            = p->self_addr;
        bargs.member_update_callback   = dispatch_member_update;
        bargs.metadata_update_callback = dispatch_metadata_update;
        bargs.callback_context         = p;
        FLOCK_GROUP_VIEW_MOVE(&view, &bargs.initial_view);
        ret = backend->init_group(&bargs, &state);
        if (ret != FLOCK_SUCCESS) {
            margo_error(mid, "[flock] backend \"%s\" failed to initialize the group (%d)",
                        backend->name, (int)ret);
            goto finish;
        }
        atomic_store(&p->backend_state, state);
    }
    /* 13. finalize callback, identity, group file */
    margo_provider_push_finalize_callback(mid, p, provider_finalize_cb, p);
    p->finalize_pushed = true;
    {
        hg_return_t hret = margo_provider_register_identity(mid, provider_id, "flock");
        if (hret != HG_SUCCESS) {
            margo_error(mid, "[flock] cannot register identity for provider id %u: %s",
                        (unsigned)provider_id, HG_Error_to_string(hret));
            ret = hret == HG_EXIST ? FLOCK_ERR_INVALID_PROVIDER : FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        p->identity_registered = true;
    }
    provider_write_file(p, true); /* failures are logged only */
    /* 14. keep the instance alive as long as the provider */
    margo_instance_ref_incr(mid);
    p->ref_taken = true;
    if (provider) *provider = p;
    p = NULL;

finish:
    if (p) {
        if (p->finalize_pushed) margo_provider_pop_finalize_callback(mid, p);
        provider_teardown(p);
    }
    flock_group_view_clear(&bargs.initial_view);
    flock_group_view_clear(&view);
    json_object_put(bk_config);
    json_object_put(gw_config);
    json_object_put(root);
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
    if (provider->filename) file = json_string_literal(provider->filename);
    if (!gw.text || !bk.text || !gw_type || !bk_type || (provider->filename && !file))
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
