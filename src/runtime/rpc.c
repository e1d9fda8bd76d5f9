/*
 * rpc.c -- the RPC registry (handlers by name and provider id), the dispatch
 * of a request to its handler, and provider identities (the builtin
 * __frt_identity RPC).
 *
 * Owns: frt__entry, frt__ident, the creation of struct frt_request; the
 * instance's entries, identity_entry and idents (inst->lock).
 * Calls: pool.c (frt__pool_submit, frt__about_to_block, frt_wait_*),
 * conn-write.c (frt__send_error), conn-read.c (frt__protocol_warning),
 * call.c (frt_forward, frt_respond*). Called by conn-read.c (dispatch),
 * call.c (in-process calls), instance.c (init, teardown).
 */
#include <stdio.h>
#include <unistd.h>
#include "frt-core.h"

#include <stdlib.h>
#include <string.h>

/* The registry is a hash table of chains keyed by (name, provider id): a
 * process with many providers has hundreds of entries, and every request
 * looks one up. The table doubles when it holds more entries than buckets. */
static size_t entry_bucket(const margo_instance_id mid, const char* name, uint16_t provider_id)
{
    return (size_t)frt_hash_str(name, provider_id) & (mid->nbuckets - 1);
}

/* Lookup of a handler; inst->lock held. */
frt__entry* frt__entry_find(margo_instance_id mid, const char* name, uint16_t provider_id)
{
    if (strcmp(name, FRT__IDENTITY_RPC) == 0) return &mid->identity_entry;
    if (!mid->nbuckets) return NULL;
    for (frt__entry* e = mid->entries[entry_bucket(mid, name, provider_id)]; e; e = e->next)
        if (e->provider_id == provider_id && strcmp(e->name, name) == 0) return e;
    return NULL;
}

/* Make room for one more entry (inst->lock held); false when out of memory. */
static bool entries_reserve(margo_instance_id mid)
{
    if (mid->nentries < mid->nbuckets) return true;
    size_t       nb   = mid->nbuckets ? mid->nbuckets * 2 : 16;
    frt__entry** nt   = calloc(nb, sizeof *nt);
    frt__entry** old  = mid->entries;
    size_t       oldn = mid->nbuckets;
    if (!nt) return false;
    mid->entries  = nt;
    mid->nbuckets = nb;
    for (size_t i = 0; i < oldn; i++)
        while (old[i]) {
            frt__entry* e = old[i];
            old[i]        = e->next;
            size_t b      = entry_bucket(mid, e->name, e->provider_id);
            e->next       = nt[b];
            nt[b]         = e;
        }
    free(old);
    return true;
}

void frt__request_free(struct frt_request* r)
{
    if (r->charged) atomic_fetch_sub(&r->inst->in_bytes, r->charged); /* input budget */
    frt__conn_unref(r->conn);
    free(r->body);
    free(r);
}

/* Pool: run a handler, then release the invocation count. */
void frt__handler_run(frt__work* w)
{
    struct frt_request* r     = FRT__CONTAINER(w, struct frt_request, work);
    margo_instance_id   mid   = r->inst;
    frt__entry*         e     = r->entry;
    frt__entry*         saved = frt__tls.entry;
    frt__tls.entry            = e;
    e->fn(r, r->in, r->in_len, e->uargs); /* r may be gone after this */
    frt__tls.entry = saved;
    if (frt__tls.finalized == mid) return;
    pthread_mutex_lock(&mid->lock);
    e->active--;
    if (e->active == 0) {
        if (e->orphaned) {
            for (frt__entry** pp = &mid->orphans; *pp; pp = &(*pp)->next)
                if (*pp == e) {
                    *pp = e->next;
                    break;
                }
            free(e);
        } else {
            pthread_cond_broadcast(&mid->cv);
        }
    }
    pthread_mutex_unlock(&mid->lock);
}

/* Fill a new (zeroed) request for entry e, whose invocation count the
 * caller took; conn (a ref the request now holds) is NULL in-process. */
void frt__request_init(struct frt_request* r, margo_instance_id mid, frt__conn* conn,
                       frt__entry* e, uint64_t id, uint16_t provider_id, void* body,
                       const void* in, size_t in_len, const char* source)
{
    r->work.fn     = frt__handler_run;
    r->work.urgent = atomic_load(&e->urgent);
    r->inst        = mid;
    r->conn        = conn;
    r->entry       = e;
    r->id          = id;
    r->provider_id = provider_id;
    r->body        = body;
    r->in          = in;
    r->in_len      = in_len;
    strcpy(r->source, source);
}

/* A request frame arrived on c (consumes body): find its handler and queue
 * it (to *inl if inl and *inl is empty: the leader runs it itself after
 * handing off), or answer an error (unknown RPC, out of memory).
 * @return false if c must be closed (a NUL in the RPC name). */
bool frt__rpc_dispatch(margo_instance_id mid, frt__conn* c, const frt__hdr* h, uint8_t* body,
                       frt__work** inl)
{
    char name[FRT_MAX_RPC_NAME_LEN + 1];
    memcpy(name, body, h->name_len);
    name[h->name_len] = 0;
    if (memchr(body, 0, h->name_len)) {
        free(body);
        frt__protocol_warning(mid, c, "RPC name contains a NUL byte");
        return false;
    }
    pthread_mutex_lock(&mid->lock);
    frt__entry* e = frt__entry_find(mid, name, h->provider_id);
    if (e) e->active++;
    pthread_mutex_unlock(&mid->lock);
    if (!e) {
        free(body);
        frt__log(&mid->log, MARGO_LOG_DEBUG, "request for unknown RPC %s (provider %u) from %s",
                 name, h->provider_id, frt__conn_peer(c));
        frt__send_error(c, h->id, HG_NOENTRY);
        return true;
    }
    struct frt_request* r = calloc(1, sizeof *r);
    if (!r) {
        free(body);
        pthread_mutex_lock(&mid->lock);
        e->active--;
        pthread_cond_broadcast(&mid->cv);
        pthread_mutex_unlock(&mid->lock);
        frt__send_error(c, h->id, HG_NOMEM);
        return true;
    }
    atomic_fetch_add(&c->refs, 1);
    frt__request_init(r, mid, c, e, h->id, h->provider_id, body,
                      h->payload_len ? body + h->name_len : NULL, h->payload_len, frt__conn_peer(c));
    /* its input, and the request itself, stay on the input budget until it
     * is freed: requests queued faster than handlers run are bounded too */
    r->charged    = c->in_charged + FRT__REQUEST_COST;
    c->in_charged = 0;
    atomic_fetch_add(&mid->in_bytes, FRT__REQUEST_COST);
    if (inl && !*inl)
        *inl = &r->work; /* the leader runs it itself after handing off */
    else
        frt__pool_submit(mid, &r->work);
    return true;
}

hg_return_t frt_rpc_register(margo_instance_id mid, const char* name, uint16_t provider_id,
                             frt_handler_fn handler, void* uargs, ABT_pool pool)
{
    (void)pool;
    if (!mid || !name || !handler) return HG_INVALID_ARG;
    size_t n = strlen(name);
    if (n == 0 || n > FRT_MAX_RPC_NAME_LEN || strcmp(name, FRT__IDENTITY_RPC) == 0)
        return HG_INVALID_ARG;
    frt__entry* e = calloc(1, sizeof *e);
    if (!e) return HG_NOMEM;
    memcpy(e->name, name, n + 1);
    e->provider_id  = provider_id;
    e->fn           = handler;
    e->uargs        = uargs;
    hg_return_t ret = HG_SUCCESS;
    pthread_mutex_lock(&mid->lock);
    if (frt__entry_find(mid, name, provider_id)) {
        ret = HG_EXIST;
    } else if (!entries_reserve(mid)) {
        ret = HG_NOMEM;
    } else {
        size_t b        = entry_bucket(mid, name, provider_id);
        e->next         = mid->entries[b];
        mid->entries[b] = e;
        mid->nentries++;
        e               = NULL;
    }
    pthread_mutex_unlock(&mid->lock);
    free(e);
    return ret;
}

bool frt__rpc_urgent_name_locked(margo_instance_id mid, const char* name)
{
    for (size_t i = 0; i < mid->nunames; i++)
        if (strcmp(mid->unames[i].name, name) == 0) return true;
    return false;
}

/* inst->lock held: e becomes urgent or not; count its name. false: out of
 * memory (nothing changed). */
static bool entry_set_urgent_locked(margo_instance_id mid, frt__entry* e, bool urgent)
{
    if (atomic_load(&e->urgent) == urgent) return true;
    size_t i = 0;
    while (i < mid->nunames && strcmp(mid->unames[i].name, e->name) != 0) i++;
    if (urgent && i == mid->nunames) {
        frt__uname* n = realloc(mid->unames, (mid->nunames + 1) * sizeof *n);
        if (!n) return false;
        mid->unames = n;
        memcpy(n[i].name, e->name, sizeof n[i].name);
        n[i].count = 0;
        mid->nunames++;
    }
    if (i < mid->nunames) {
        mid->unames[i].count += urgent ? 1 : -1;
        if (mid->unames[i].count == 0) mid->unames[i] = mid->unames[--mid->nunames];
    }
    atomic_store(&e->urgent, urgent);
    return true;
}

hg_return_t frt_rpc_set_urgent(margo_instance_id mid, const char* name, uint16_t provider_id,
                               bool urgent)
{
    if (!mid || !name) return HG_INVALID_ARG;
    pthread_mutex_lock(&mid->lock);
    frt__entry* e   = frt__entry_find(mid, name, provider_id);
    hg_return_t ret = !e || e->builtin ? HG_NOENTRY
                    : entry_set_urgent_locked(mid, e, urgent) ? HG_SUCCESS : HG_NOMEM;
    pthread_mutex_unlock(&mid->lock);
    return ret;
}

hg_return_t frt_rpc_deregister(margo_instance_id mid, const char* name, uint16_t provider_id)
{
    if (!mid || !name) return HG_INVALID_ARG;
    frt__entry* e = NULL;
    pthread_mutex_lock(&mid->lock);
    frt__entry** pp = mid->nbuckets ? &mid->entries[entry_bucket(mid, name, provider_id)] : NULL;
    for (; pp && *pp; pp = &(*pp)->next)
        if ((*pp)->provider_id == provider_id && strcmp((*pp)->name, name) == 0) {
            e   = *pp;
            *pp = e->next;
            mid->nentries--;
            (void)entry_set_urgent_locked(mid, e, false); /* never allocates */
            break;
        }
    if (!e) {
        pthread_mutex_unlock(&mid->lock);
        return HG_NOENTRY;
    }
    int self = frt__tls.entry == e ? 1 : 0;
    if (e->active > self) { /* the handlers may be queued behind us */
        frt__about_to_block();
        frt_wait_begin();
        while (e->active > self) pthread_cond_wait(&mid->cv, &mid->lock);
        frt_wait_end();
    }
    if (e->active == 0) {
        free(e);
    } else { /* freed by frt__handler_run when its handler returns, or by the
              * teardown if that handler finalizes the instance */
        e->orphaned  = true;
        e->next      = mid->orphans;
        mid->orphans = e;
    }
    pthread_mutex_unlock(&mid->lock);
    return HG_SUCCESS;
}

bool frt_rpc_is_registered(margo_instance_id mid, const char* name, uint16_t provider_id)
{
    if (!mid || !name) return false;
    pthread_mutex_lock(&mid->lock);
    frt__entry* e = frt__entry_find(mid, name, provider_id);
    pthread_mutex_unlock(&mid->lock);
    return e != NULL && !e->builtin;
}

/* ------------------------------------------------------------------ */
/* Identities                                                          */
/* ------------------------------------------------------------------ */

hg_return_t margo_provider_register_identity(margo_instance_id mid, uint16_t provider_id,
                                             const char* identity)
{
    if (!mid || !identity) return HG_INVALID_ARG;
    hg_return_t ret = HG_SUCCESS;
    frt__ident* n   = calloc(1, sizeof *n);
    char*       s   = strdup(identity);
    if (!n || !s) {
        free(n);
        free(s);
        return HG_NOMEM;
    }
    pthread_mutex_lock(&mid->lock);
    for (frt__ident* k = mid->idents; k; k = k->next)
        if (k->provider_id == provider_id) ret = HG_EXIST;
    if (ret == HG_SUCCESS) {
        n->provider_id = provider_id;
        n->identity    = s;
        n->next        = mid->idents;
        mid->idents    = n;
        n              = NULL;
        s              = NULL;
    }
    pthread_mutex_unlock(&mid->lock);
    free(n);
    free(s);
    return ret;
}

hg_return_t margo_provider_deregister_identity(margo_instance_id mid, uint16_t provider_id)
{
    if (!mid) return HG_INVALID_ARG;
    frt__ident* found = NULL;
    pthread_mutex_lock(&mid->lock);
    for (frt__ident** pp = &mid->idents; *pp; pp = &(*pp)->next)
        if ((*pp)->provider_id == provider_id) {
            found = *pp;
            *pp   = found->next;
            break;
        }
    pthread_mutex_unlock(&mid->lock);
    if (!found) return HG_NOENTRY;
    free(found->identity);
    free(found);
    return HG_SUCCESS;
}

const char* margo_provider_registered_identity(margo_instance_id mid, uint16_t provider_id)
{
    if (!mid) return NULL;
    const char* s = NULL;
    pthread_mutex_lock(&mid->lock);
    for (frt__ident* k = mid->idents; k; k = k->next)
        if (k->provider_id == provider_id) s = k->identity;
    pthread_mutex_unlock(&mid->lock);
    return s;
}

/* Builtin handler of FRT__IDENTITY_RPC (any provider id). */
static void frt__identity_handler(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    margo_instance_id mid = req->inst;
    char*             s   = NULL;
    pthread_mutex_lock(&mid->lock);
    for (frt__ident* k = mid->idents; k; k = k->next)
        if (k->provider_id == req->provider_id) s = strdup(k->identity);
    pthread_mutex_unlock(&mid->lock);
    if (s)
        frt_respond(req, s, strlen(s));
    else
        frt_respond_error(req, HG_NOENTRY);
    free(s);
}

hg_return_t margo_provider_get_identity(margo_instance_id mid, hg_addr_t address,
                                        uint16_t provider_id, char* buffer, size_t* bufsize)
{
    void*       out = NULL;
    size_t      len = 0;
    hg_return_t ret;
    if (!mid || !address || !bufsize) return HG_INVALID_ARG;
    ret = frt_forward(mid, address, FRT__IDENTITY_RPC, provider_id, NULL, 0,
                      FRT__IDENTITY_TIMEOUT_MS, &out, &len);
    if (ret != HG_SUCCESS) goto finish;
    if (memchr(out, 0, len)) {
        ret = HG_PROTOCOL_ERROR;
        goto finish;
    }
    if (!buffer || *bufsize < len + 1) {
        *bufsize = len + 1;
        ret      = HG_OVERFLOW;
        goto finish;
    }
    if (len) memcpy(buffer, out, len);
    buffer[len] = 0;
    *bufsize    = len + 1;
finish:
    free(out);
    return ret;
}

/* Instance setup: the builtin identity RPC. */
void frt__rpc_init(margo_instance_id mid)
{
    strcpy(mid->identity_entry.name, FRT__IDENTITY_RPC);
    mid->identity_entry.fn      = frt__identity_handler;
    mid->identity_entry.builtin = true;
}

/* Teardown: free the registry and the identities (threads are gone). */
void frt__rpc_free(margo_instance_id mid)
{
    for (size_t i = 0; i < mid->nbuckets; i++)
        while (mid->entries[i]) {
            frt__entry* e   = mid->entries[i];
            mid->entries[i] = e->next;
            free(e);
        }
    free(mid->entries);
    mid->entries  = NULL;
    mid->nbuckets = mid->nentries = 0;
    free(mid->unames);
    mid->unames  = NULL;
    mid->nunames = 0;
    while (mid->orphans) {
        frt__entry* e = mid->orphans;
        mid->orphans  = e->next;
        free(e);
    }
    while (mid->idents) {
        frt__ident* k = mid->idents;
        mid->idents   = k->next;
        free(k->identity);
        free(k);
    }
}
