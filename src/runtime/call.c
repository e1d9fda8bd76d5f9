/*
 * call.c -- outgoing calls: the call table (by id, with timeouts in the
 * timer heap), frt_forward / frt_forward_async (a synchronous caller reads
 * its own response), completions, and the responses of handlers
 * (frt_respond*).
 *
 * Owns: frt__call, the instance's calls table and next_id (inst->lock), the
 * answering and freeing of struct frt_request.
 * Calls: conn.c (frt__get_conn, refs), conn-read.c (reader token, reads),
 * conn-write.c (frt__send_frame), rpc.c (in-process requests), timer.c
 * (heap), loop.c (frt__wake_loop), pool.c, instance.c (frt__inst_unref).
 * Called by conn-read.c and loop.c (completions, expiry), conn.c (close),
 * instance.c (finalize), rpc.c (identity lookup).
 */
#define _GNU_SOURCE
#include "frt-core.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static frt__call** frt__call_slot(margo_instance_id mid, uint64_t id)
{
    return &mid->calls[id & (FRT__NBUCKETS - 1)];
}

static void frt__call_insert(margo_instance_id mid, frt__call* c)
{
    frt__call** s = frt__call_slot(mid, c->id);
    c->hnext      = *s;
    *s            = c;
}

/* Remove and return call `id` if it belongs to conn (inst->lock held). */
frt__call* frt__call_take(margo_instance_id mid, uint64_t id, frt__conn* conn)
{
    for (frt__call** pp = frt__call_slot(mid, id); *pp; pp = &(*pp)->hnext) {
        frt__call* c = *pp;
        if (c->id == id) {
            if (c->conn != conn) return NULL;
            *pp = c->hnext;
            frt__heap_remove(mid, &c->node);
            if (conn) atomic_fetch_sub(&conn->ncalls, 1);
            return c;
        }
    }
    return NULL;
}

static void frt__call_async_run(frt__work* w)
{
    frt__call* c = FRT__CONTAINER(w, frt__call, work);
    c->cb(c->uargs, c->ret, c->out, c->out_len);
    free(c->out);
    pthread_mutex_destroy(&c->m);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/** Deliver the outcome of a call already removed from the table. Takes
 *  ownership of out (malloc'd or NULL). Never called with inst->lock held
 *  for sync calls' sake? It may be: it only takes call->m / pool.m. */
void frt__call_finish(margo_instance_id mid, frt__call* c, hg_return_t ret, void* out,
                             size_t out_len)
{
    if (ret != HG_SUCCESS) {
        free(out);
        out     = NULL;
        out_len = 0;
    }
    if (c->async) {
        c->ret     = ret;
        c->out     = out;
        c->out_len = out_len;
        c->work.fn = frt__call_async_run;
        frt__pool_submit(mid, &c->work);
        return;
    }
    pthread_mutex_lock(&c->m);
    c->ret     = ret;
    c->out     = out;
    c->out_len = out_len;
    atomic_store(&c->done, true);
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->m);
}

/* Deliver ret to every call of a list (linked by hnext) already out of
 * the table. */
void frt__calls_fail(margo_instance_id mid, frt__call* list, hg_return_t ret)
{
    while (list) {
        frt__call* n = list->hnext;
        frt__call_finish(mid, list, ret, NULL, 0);
        list = n;
    }
}

/* Take every call pending on conn (all calls if conn is NULL and all is
 * true) out of the table and the heap (inst->lock held).
 * @return them, linked by hnext, for frt__calls_fail. */
frt__call* frt__calls_take_locked(margo_instance_id mid, frt__conn* conn, bool all)
{
    frt__call* taken = NULL;
    for (size_t b = 0; b < FRT__NBUCKETS; b++) {
        for (frt__call** pp = &mid->calls[b]; *pp;) {
            frt__call* k = *pp;
            if (all || k->conn == conn) {
                *pp = k->hnext;
                frt__heap_remove(mid, &k->node);
                if (k->conn) atomic_fetch_sub(&k->conn->ncalls, 1);
                k->hnext = taken;
                taken    = k;
            } else {
                pp = &k->hnext;
            }
        }
    }
    return taken;
}

/* ------------------------------------------------------------------ */
/* Forward                                                             */
/* ------------------------------------------------------------------ */

static frt__call* frt__call_new(void)
{
    frt__call* c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->node.idx  = FRT__NO_IDX;
    c->node.kind = FRT__HK_CALL;
    pthread_mutex_init(&c->m, NULL);
    pthread_cond_init(&c->cv, NULL);
    return c;
}

static void frt__call_free(frt__call* c)
{
    pthread_mutex_destroy(&c->m);
    pthread_cond_destroy(&c->cv);
    free(c->out);
    free(c);
}

/* Register call k (inst->lock held) with its timeout. */
static hg_return_t frt__call_arm(margo_instance_id mid, frt__call* k, double timeout_ms)
{
    if (mid->stopping) return HG_CANCELED;
    k->id = ++mid->next_id;
    if (timeout_ms > 0) {
        int r = frt__heap_push(mid, &k->node, frt_now_ms() + timeout_ms);
        if (r < 0) return HG_NOMEM;
        if (r > 0) frt__wake_loop(mid);
    }
    frt__call_insert(mid, k);
    return HG_SUCCESS;
}

/* In-process call k (addr is this instance): the handler runs on the pool,
 * no socket. keep: a synchronous caller (its own handler's request runs
 * first when a handler of this instance calls itself). */
static hg_return_t frt__call_start_local(margo_instance_id mid, const char* name,
                                         uint16_t provider_id, const void* in, size_t in_len,
                                         double timeout_ms, frt__call* k, bool keep)
{
    hg_return_t         ret = HG_SUCCESS;
    struct frt_request* r   = calloc(1, sizeof *r);
    void*               b   = in_len ? malloc(in_len) : NULL;
    if (!r || (in_len && !b)) {
        free(r);
        free(b);
        return HG_NOMEM;
    }
    if (in_len) memcpy(b, in, in_len);
    pthread_mutex_lock(&mid->lock);
    k->work.urgent = frt__rpc_urgent_name_locked(mid, name);
    frt__entry* e  = mid->stopping ? NULL : frt__entry_find(mid, name, provider_id);
    ret = mid->stopping ? HG_CANCELED : e ? frt__call_arm(mid, k, timeout_ms) : HG_NOENTRY;
    /* once the lock is released an async k may expire, complete and be
     * freed on another thread: what is needed of it is read now */
    uint64_t id = k->id;
    if (ret == HG_SUCCESS) e->active++;
    pthread_mutex_unlock(&mid->lock);
    if (ret != HG_SUCCESS) {
        free(r);
        free(b);
        return ret;
    }
    frt__request_init(r, mid, NULL, e, id, provider_id, b, b, in_len, mid->self);
    /* a handler of this instance calling itself synchronously waits
     * for this request: it runs first (depth first), so a storm of
     * nested self-calls keeps few handlers -- and threads -- blocked */
    frt__pool_enqueue(mid, &r->work,
                      keep && frt__tls.pool_inst == mid && frt__tls.worker &&
                          frt__tls.worker->busy);
    return HG_SUCCESS;
}

/* Call k over a connection: get (or open) it, register k, send the
 * request. A synchronous caller (keep) takes the reader token first and
 * gets the connection's ref in *keep. */
static hg_return_t frt__call_start_remote(margo_instance_id mid, hg_addr_t addr, const char* name,
                                          uint16_t provider_id, const void* in, size_t in_len,
                                          double timeout_ms, frt__call* k, frt__conn** keep)
{
    frt__conn*  conn = NULL;
    hg_return_t ret  = frt__get_conn(mid, addr, timeout_ms, &conn);
    if (ret != HG_SUCCESS) return ret;
    pthread_mutex_lock(&mid->lock);
    k->conn        = conn;
    k->work.urgent = frt__rpc_urgent_name_locked(mid, name);
    ret = conn->state == FRT__CS_CLOSED ? HG_HOSTUNREACH : frt__call_arm(mid, k, timeout_ms);
    if (ret == HG_SUCCESS) atomic_fetch_add(&conn->ncalls, 1);
    /* once the lock is released an async k may fail (its connection
     * closes, it expires), complete and be freed on another thread: only
     * a synchronous caller's k (keep) may be touched after this */
    uint64_t id = k->id;
    pthread_mutex_unlock(&mid->lock);
    if (ret == HG_SUCCESS) {
        frt__hdr h    = {0};
        h.type        = FRT__T_REQUEST;
        h.id          = id;
        h.provider_id = provider_id;
        h.name_len    = (uint16_t)strlen(name);
        h.payload_len = (uint32_t)in_len;
        /* A synchronous caller reads its own response: it takes the reader
         * token (and EPOLLIN out of the loop's set) before the request goes
         * out, so even a response that comes back at once (the peer may run
         * on this core first) never wakes the loop. */
        if (keep)
            k->reading = frt__reader_acquire(conn, true);
        else
            frt__conn_need_reader(conn);
        /* a send failure shuts the socket down; the loop then fails k */
        (void)frt__send_frame(conn, &h, name, in);
        if (keep) {
            *keep = conn; /* the caller's ref now */
            conn  = NULL;
        }
    }
    frt__conn_unref(conn);
    return ret;
}

/**
 * Start call k. On HG_SUCCESS exactly one frt__call_finish will follow; on
 * error k was not registered and nothing else happens.
 */
static hg_return_t frt__call_start(margo_instance_id mid, hg_addr_t addr, const char* name,
                                   uint16_t provider_id, const void* in, size_t in_len,
                                   double timeout_ms, frt__call* k, frt__conn** keep)
{
    if (!mid || !addr || !name || (in_len && !in)) return HG_INVALID_ARG;
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > FRT_MAX_RPC_NAME_LEN) return HG_INVALID_ARG;
    if (in_len > FRT_MAX_PAYLOAD) return HG_MSGSIZE;
    if (strcmp(addr->key, mid->self_key) == 0)
        return frt__call_start_local(mid, name, provider_id, in, in_len, timeout_ms, k,
                                     keep != NULL);
    return frt__call_start_remote(mid, addr, name, provider_id, in, in_len, timeout_ms, k, keep);
}

#define FRT__CALLER_READ_MS 20.0 /* a caller reads its own response for this long at most */
#define FRT__CALLER_BUF     16384 /* ... in blocking reads of FRT__CALLER_SLICE_MS (transport.h) */

bool frt_no_answer(hg_return_t ret)
{
    switch (ret) {
    case HG_HOSTUNREACH:
    case HG_TIMEOUT:
    case HG_NA_ERROR:
    case HG_CANCELED:
    case HG_IO_ERROR:
    case HG_INVALID_ARG:
    case HG_PROTONOSUPPORT:
    case HG_ADDRNOTAVAIL:
    case HG_AGAIN: return true;
    default: return false;
    }
}

/*
 * Leader/follower on the client side: a synchronous caller whose request
 * went out on conn takes the connection's reader token if nobody holds it
 * and reads the socket itself, so its response needs no thread hop. Frames
 * for others are processed as the loop would. It gives the token back when
 * its call is done, after FRT__CALLER_READ_MS, or when the connection dies
 * (shut down: the loop then closes it and fails its calls).
 */
static void frt__forward_wait_reading(margo_instance_id mid, frt__conn* conn, frt__call* k)
{
    uint8_t buf[FRT__CALLER_BUF];
    double  end = frt_now_ms() + FRT__CALLER_READ_MS;
    if (!k->reading && (atomic_load(&k->done) || !frt__reader_acquire(conn, true))) return;
    k->reading = false;
    int r      = 0;
    while (!atomic_load(&k->done) && frt_now_ms() < end) {
        /* blocks for a slice when nothing is there (r == 0 last time) */
        r = frt__conn_read_some(mid, conn, buf, sizeof buf, NULL, r == 0, false);
        if (r < 0) {
            shutdown(conn->fd, SHUT_RDWR); /* the loop sees the hang-up and closes it */
            break;
        }
    }
    frt__reader_release(conn, true, r != 0);
}

hg_return_t frt_forward(margo_instance_id mid, hg_addr_t addr, const char* name,
                        uint16_t provider_id, const void* in, size_t in_len, double timeout_ms,
                        void** out, size_t* out_len)
{
    hg_return_t ret  = HG_SUCCESS;
    frt__call*  k    = NULL;
    frt__conn*  conn = NULL;
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    k = frt__call_new();
    if (!k) return HG_NOMEM;
    ret = frt__call_start(mid, addr, name, provider_id, in, in_len, timeout_ms, k, &conn);
    if (ret != HG_SUCCESS) goto finish;
    frt__about_to_block();
    frt_wait_begin();
    if (conn) {
        /* the instance may be finalized by another thread meanwhile: keep
         * its memory until this thread stops reading for it */
        atomic_fetch_add(&mid->memrefs, 1);
        frt__forward_wait_reading(mid, conn, k);
        frt__conn_unref(conn);
        frt__inst_unref(mid);
    }
    pthread_mutex_lock(&k->m);
    while (!k->done) pthread_cond_wait(&k->cv, &k->m);
    pthread_mutex_unlock(&k->m);
    frt_wait_end();
    ret = k->ret;
    if (ret == HG_SUCCESS) {
        if (out) {
            *out   = k->out;
            k->out = NULL;
        }
        if (out_len) *out_len = k->out_len;
    }
finish:
    frt__call_free(k);
    return ret;
}

hg_return_t frt_forward_async(margo_instance_id mid, hg_addr_t addr, const char* name,
                              uint16_t provider_id, const void* in, size_t in_len,
                              double timeout_ms, frt_completion_fn cb, void* uargs)
{
    if (!cb) return HG_INVALID_ARG;
    frt__call* k = frt__call_new();
    if (!k) return HG_NOMEM;
    k->async       = true;
    k->cb          = cb;
    k->uargs       = uargs;
    hg_return_t rc = frt__call_start(mid, addr, name, provider_id, in, in_len, timeout_ms, k, NULL);
    if (rc != HG_SUCCESS) frt__call_free(k);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static hg_return_t frt__respond(struct frt_request* req, hg_return_t code, const void* out,
                                size_t out_len)
{
    hg_return_t ret = HG_SUCCESS;
    if (code == HG_SUCCESS && out_len > FRT_MAX_PAYLOAD) {
        code = HG_MSGSIZE;
        ret  = HG_MSGSIZE;
    }
    if (code == HG_SUCCESS && out_len && !out) {
        code = HG_INVALID_ARG;
        ret  = HG_INVALID_ARG;
    }
    if (!req->conn) {
        margo_instance_id mid  = req->inst;
        void*             copy = NULL;
        if (code == HG_SUCCESS && out_len) {
            copy = malloc(out_len);
            if (!copy)
                code = HG_NOMEM;
            else
                memcpy(copy, out, out_len);
        }
        pthread_mutex_lock(&mid->lock);
        frt__call* k = frt__call_take(mid, req->id, NULL);
        pthread_mutex_unlock(&mid->lock);
        if (k)
            frt__call_finish(mid, k, code, copy, code == HG_SUCCESS ? out_len : 0);
        else
            free(copy);
    } else {
        frt__hdr h = {0};
        h.id       = req->id;
        if (code == HG_SUCCESS) {
            h.type        = FRT__T_RESPONSE;
            h.payload_len = (uint32_t)out_len;
        } else {
            h.type   = FRT__T_ERROR;
            h.status = (uint32_t)code;
        }
        hg_return_t sret = frt__send_frame(req->conn, &h, NULL, code == HG_SUCCESS ? out : NULL);
        if (ret == HG_SUCCESS && sret != HG_SUCCESS) ret = sret;
    }
    frt__request_free(req);
    return ret;
}

hg_return_t frt_respond(frt_request_t req, const void* out, size_t out_len)
{
    if (!req) return HG_INVALID_ARG;
    return frt__respond(req, HG_SUCCESS, out, out_len);
}

hg_return_t frt_respond_error(frt_request_t req, hg_return_t code)
{
    if (!req) return HG_INVALID_ARG;
    if (code == HG_SUCCESS || (int)code < 0 || code >= HG_RETURN_MAX) code = HG_OTHER_ERROR;
    return frt__respond(req, code, NULL, 0);
}

const char*       frt_request_source(frt_request_t req) { return req ? req->source : NULL; }

margo_instance_id frt_request_instance(frt_request_t req) { return req ? req->inst : NULL; }

uint16_t          frt_request_provider_id(frt_request_t req) { return req ? req->provider_id : 0; }
