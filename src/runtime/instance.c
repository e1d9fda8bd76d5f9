/*
 * instance.c -- the life of an instance: margo_init (its phases), the
 * memory refs, margo_finalize (callbacks, cancel calls, stop the loop and
 * the pool, tear down), margo_wait_for_finalize and the zombies that let a
 * late waiter see a finalized instance, margo refs, finalize callbacks.
 *
 * Owns: struct margo_instance (lifetime fields, self address, spec, log
 * ctx, fault and auth state), frt__fcb.
 * Calls: every room below it (transport.h, loop.c, pool.c, conn.c,
 * call.c, timer.c, rpc.c, conn-write.c) and the lower rooms (auth.c,
 * fault.c, util.c). Called by margo.c and by pool.c/call.c for the last
 * memory ref (frt__inst_unref).
 */
#define _GNU_SOURCE
#include "frt-core.h"
#include "transport.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic unsigned long frt__instance_counter = 0;

void frt__inst_unref(margo_instance_id mid)
{
    if (atomic_fetch_sub(&mid->memrefs, 1) != 1) return;
    pthread_mutex_destroy(&mid->lock);
    pthread_cond_destroy(&mid->cv);
    pthread_mutex_destroy(&mid->debt_lock);
    pthread_mutex_destroy(&mid->peer_lock);
    pthread_cond_destroy(&mid->peer_cv);
    free(mid->peer_watch);
    frt__pool_destroy(&mid->pool);
    free(mid);
}

/* Release the OS resources and memory owned by mid (threads are gone;
 * safe after a failed margo_init). */
static void frt__inst_teardown(margo_instance_id mid)
{
    frt__fault_free(mid->fault); /* reliability: drops frames still held back */
    mid->fault = NULL;
    frt__auth_free(mid->auth); /* reliability */
    mid->auth = NULL;
    frt__conns_release(mid);
    frt__loop_close(mid);
    frt__pool_close(&mid->pool);
    frt__rpc_free(mid);
    for (frt__fcb** list = &mid->prefin; list; list = list == &mid->prefin ? &mid->fin : NULL)
        while (*list) {
            frt__fcb* f = *list;
            *list       = f->next;
            free(f);
        }
    frt__timers_orphan(mid);
}

/* init phase 1: a zeroed instance with its locks, defaults and the pool's
 * settings (nothing opened but /dev/null and the standby timer).
 * @return NULL (out of memory), or an instance frt__inst_teardown and
 * frt__inst_unref release even if *ok comes back false. */
static margo_instance_id frt__inst_alloc(int mode, int rpc_thread_count, bool* ok)
{
    margo_instance_id mid = calloc(1, sizeof *mid);
    if (!mid) return NULL;
    pthread_mutex_init(&mid->lock, NULL);
    pthread_cond_init(&mid->cv, NULL);
    pthread_mutex_init(&mid->debt_lock, NULL);
    pthread_mutex_init(&mid->peer_lock, NULL);
    pthread_cond_init(&mid->peer_cv, NULL);
    atomic_init(&mid->memrefs, 1);
    atomic_init(&mid->log.level, (int)frt__global_log_level());
    mid->log.name = mid->self;
    atomic_init(&mid->loop_stop, false);
    mid->loop_wake_at = HUGE_VAL;
    mid->listen_fd = mid->epfd = mid->evfd = mid->debt_fd = -1;
    mid->maint_fd = mid->park_fd = -1;
    mid->spare_fd   = open("/dev/null", O_RDONLY | O_CLOEXEC);
    *ok             = frt__pool_init(&mid->pool, rpc_thread_count);
    mid->margo_refs = 1;
    mid->server     = mode == MARGO_SERVER_MODE;
    frt__rpc_init(mid);
    return mid;
}

/* init phase 2: parse addr_str (a listen form), open the endpoint through
 * its transport, and compute the self address and key. */
static bool frt__inst_open_endpoint(margo_instance_id mid, const char* addr_str)
{
    hg_return_t pr = frt__addr_parse(addr_str, &mid->spec);
    if (pr != HG_SUCCESS || (mid->spec.kind == FRT__AK_SM && mid->spec.has_id)) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot listen on \"%s\": %s",
                 addr_str ? addr_str : "(null)",
                 pr == HG_PROTONOSUPPORT ? "protocol not supported" : "malformed address");
        return false;
    }
    mid->tp         = frt__transport_of(mid->spec.kind);
    unsigned long n = atomic_fetch_add(&frt__instance_counter, 1);
    mid->listen_fd  = mid->tp->listen(&mid->spec, n, mid->server, mid->self, sizeof mid->self);
    if (mid->listen_fd < 0) return false;
    frt__addr_spec self_spec;
    if (frt__addr_parse(mid->self, &self_spec) != HG_SUCCESS) return false;
    frt__addr_key(&self_spec, mid->self_key, sizeof mid->self_key);
    return true;
}

/* init phase 3 (reliability): the fault seam (NULL: no seam), the memory
 * budgets (FRT_INPUT_BUDGET, FRT_OUTPUT_BUDGET), when idle connections
 * close (FRT_IDLE_CLOSE_MS), when an idle loop parks (FRT_PARK_MS) and the
 * group key state,
 * with the key file of FRT_AUTH_KEY_FILE if set. */
static bool frt__inst_reliability(margo_instance_id mid)
{
    mid->fault = frt__fault_new(&mid->log, &frt__conn_fault_ops);
    mid->auth  = frt__auth_new();
    if (!mid->auth) return false;
    mid->in_max  = frt__env_bytes(&mid->log, "FRT_INPUT_BUDGET", FRT__BUDGET_DEFAULT);
    mid->out_max = frt__env_bytes(&mid->log, "FRT_OUTPUT_BUDGET", FRT__BUDGET_DEFAULT);
    mid->idle_close_ms = frt__env_ms(&mid->log, "FRT_IDLE_CLOSE_MS", FRT__IDLE_CLOSE_MS);
    const char* park = getenv("FRT_PARK_MS"); /* "never", or ms idle before parking */
    mid->park_ms     = park && strcmp(park, "never") == 0
                           ? -1
                           : (int)frt__env_ms(&mid->log, "FRT_PARK_MS", FRT__PARK_MS);
    const char* kf = getenv("FRT_AUTH_KEY_FILE");
    return !(kf && *kf && frt__auth_set_key_file(mid->auth, &mid->log, kf) != HG_SUCCESS);
}

margo_instance_id margo_init(const char* addr_str, int mode, int use_progress_thread,
                             int rpc_thread_count)
{
    (void)use_progress_thread;
    if (mode != MARGO_CLIENT_MODE && mode != MARGO_SERVER_MODE) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: bad mode %d", mode);
        return NULL;
    }
    bool              ok  = false;
    margo_instance_id mid = frt__inst_alloc(mode, rpc_thread_count, &ok);
    if (!mid) return NULL;
    if (!frt__inst_open_endpoint(mid, addr_str)) goto fail;
    if (!frt__inst_reliability(mid)) goto fail;
    if (!ok || !frt__loop_init(mid)) goto fail;
    if (!frt__pool_start(mid)) goto fail; /* the supervisor watches it; the leader */
    frt__log(&mid->log, MARGO_LOG_INFO, "instance started (%s mode)",
             mid->server ? "server" : "client");
    return mid;
fail:
    frt__inst_teardown(mid);
    frt__inst_unref(mid);
    return NULL;
}

/* Pop and run callbacks of one stack until it is empty. */
static void frt__run_callbacks(margo_instance_id mid, frt__fcb** list)
{
    for (;;) {
        pthread_mutex_lock(&mid->lock);
        frt__fcb* f = *list;
        if (f) *list = f->next;
        pthread_mutex_unlock(&mid->lock);
        if (!f) return;
        f->cb(f->uargs);
        free(f);
    }
}

/*
 * Zombies. A server's main thread typically calls margo_wait_for_finalize
 * while a handler calls margo_finalize when told to quit; if the handler
 * wins the race, main would wait on freed memory. So an instance finalized
 * by one of its own pool threads while nobody waits keeps its (small)
 * struct as a zombie: a late margo_wait_for_finalize returns at once and
 * frees it; otherwise it is freed at exit.
 */
static pthread_mutex_t        frt__zombie_lock = PTHREAD_MUTEX_INITIALIZER;
static struct margo_instance* frt__zombies;
static pthread_once_t         frt__zombie_once = PTHREAD_ONCE_INIT;

static void frt__zombies_free(void)
{
    pthread_mutex_lock(&frt__zombie_lock);
    struct margo_instance* z = frt__zombies;
    frt__zombies             = NULL;
    pthread_mutex_unlock(&frt__zombie_lock);
    while (z) {
        struct margo_instance* n = z->zombie_next;
        frt__inst_unref(z);
        z = n;
    }
}

static void frt__zombies_init(void) { atexit(frt__zombies_free); }

/* finalize step 2: no new calls; take every pending call and every
 * timer out of the heap; @return the calls, to be failed (HG_CANCELED). */
static frt__call* frt__inst_stop_calls(margo_instance_id mid)
{
    pthread_mutex_lock(&mid->lock);
    mid->stopping       = true;
    frt__call* canceled = frt__calls_take_locked(mid, NULL, true);
    frt__heap_clear_locked(mid); /* timers */
    pthread_cond_broadcast(&mid->cv);
    pthread_mutex_unlock(&mid->lock);
    return canceled;
}

/* finalize step 4: free everything and wake margo_wait_for_finalize. An
 * instance finalized by its own pool thread with nobody waiting becomes a
 * zombie; that thread drops the last ref after its callback returns. */
static void frt__inst_bury(margo_instance_id mid)
{
    bool own_thread = frt__tls.pool_inst == mid;
    bool zombie     = false;
    pthread_mutex_lock(&mid->lock);
    frt__inst_teardown(mid);
    mid->finalized = true;
    if (own_thread && mid->waiters == 0) {
        mid->zombie = zombie = true;
        atomic_fetch_add(&mid->memrefs, 1); /* the zombie list's ref */
    }
    pthread_cond_broadcast(&mid->cv);
    pthread_mutex_unlock(&mid->lock);
    if (zombie) {
        pthread_once(&frt__zombie_once, frt__zombies_init);
        pthread_mutex_lock(&frt__zombie_lock);
        mid->zombie_next = frt__zombies;
        frt__zombies     = mid;
        pthread_mutex_unlock(&frt__zombie_lock);
    }
    if (own_thread)
        frt__tls.finalized = mid; /* the worker drops the last ref after the callback */
    else
        frt__inst_unref(mid);
}

void margo_finalize(margo_instance_id mid)
{
    if (!mid) return;
    pthread_mutex_lock(&mid->lock);
    if (mid->finalizing) {
        pthread_mutex_unlock(&mid->lock);
        return;
    }
    mid->finalizing = true;
    pthread_mutex_unlock(&mid->lock);
    frt__log(&mid->log, MARGO_LOG_DEBUG, "finalizing");
    /* a handler that finalizes (a "quit" RPC) may hold its own response
     * and its batch's back: they go out now, not with the batch's end */
    frt__tls.cork_ok = false;
    frt__uncork_all(mid);

    /* 1. callbacks, LIFO, while the network works */
    frt__run_callbacks(mid, &mid->prefin);
    frt__run_callbacks(mid, &mid->fin);
    /* 2. no new calls; fail pending ones */
    frt__calls_fail(mid, frt__inst_stop_calls(mid), HG_CANCELED);
    /* 3. stop the loop, then drain and join the handler pool */
    frt__pool_stop(mid);
    frt__uncork_all(mid); /* held back by a batch that ran while finalize waited */
    /* 4. free everything; wake margo_wait_for_finalize */
    frt__inst_bury(mid);
}

void margo_wait_for_finalize(margo_instance_id mid)
{
    if (!mid) return;
    frt__about_to_block();
    frt_wait_begin();
    pthread_mutex_lock(&mid->lock);
    atomic_fetch_add(&mid->memrefs, 1);
    mid->waiters++;
    while (!mid->finalized) pthread_cond_wait(&mid->cv, &mid->lock);
    mid->waiters--;
    bool zombie = mid->zombie;
    mid->zombie = false;
    pthread_mutex_unlock(&mid->lock);
    frt_wait_end(); /* the pool's memory is alive: we hold a memref */
    if (zombie) {
        bool found = false;
        pthread_mutex_lock(&frt__zombie_lock);
        for (struct margo_instance** pp = &frt__zombies; *pp; pp = &(*pp)->zombie_next)
            if (*pp == mid) {
                *pp   = mid->zombie_next;
                found = true;
                break;
            }
        pthread_mutex_unlock(&frt__zombie_lock);
        if (found) frt__inst_unref(mid);
    }
    frt__inst_unref(mid);
}

hg_return_t margo_instance_ref_incr(margo_instance_id mid)
{
    if (!mid) return HG_INVALID_ARG;
    pthread_mutex_lock(&mid->lock);
    mid->margo_refs++;
    pthread_mutex_unlock(&mid->lock);
    return HG_SUCCESS;
}

hg_return_t margo_instance_release(margo_instance_id mid)
{
    if (!mid) return HG_INVALID_ARG;
    pthread_mutex_lock(&mid->lock);
    bool fin = mid->margo_refs > 0 && --mid->margo_refs == 0 && !mid->finalizing;
    pthread_mutex_unlock(&mid->lock);
    if (fin) margo_finalize(mid);
    return HG_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Finalize callbacks                                                  */
/* ------------------------------------------------------------------ */

static void frt__push_cb(margo_instance_id mid, frt__fcb** list, const void* owner,
                         margo_finalize_callback_t cb, void* uargs)
{
    if (!mid || !cb) return;
    frt__fcb* f = calloc(1, sizeof *f);
    if (!f) {
        frt__log(&mid->log, MARGO_LOG_ERROR, "out of memory pushing a finalize callback");
        return;
    }
    f->owner = owner;
    f->cb    = cb;
    f->uargs = uargs;
    pthread_mutex_lock(&mid->lock);
    f->next = *list;
    *list   = f;
    pthread_mutex_unlock(&mid->lock);
}

void margo_push_prefinalize_callback(margo_instance_id mid, margo_finalize_callback_t cb,
                                     void* uargs)
{
    if (mid) frt__push_cb(mid, &mid->prefin, NULL, cb, uargs);
}

void margo_push_finalize_callback(margo_instance_id mid, margo_finalize_callback_t cb, void* uargs)
{
    if (mid) frt__push_cb(mid, &mid->fin, NULL, cb, uargs);
}

void margo_provider_push_finalize_callback(margo_instance_id mid, const void* owner,
                                           margo_finalize_callback_t cb, void* uargs)
{
    if (mid) frt__push_cb(mid, &mid->fin, owner, cb, uargs);
}

int margo_provider_pop_finalize_callback(margo_instance_id mid, const void* owner)
{
    if (!mid) return 0;
    frt__fcb* f = NULL;
    pthread_mutex_lock(&mid->lock);
    for (frt__fcb** pp = &mid->fin; *pp; pp = &(*pp)->next)
        if ((*pp)->owner == owner) {
            f   = *pp;
            *pp = f->next;
            break;
        }
    pthread_mutex_unlock(&mid->lock);
    free(f);
    return f ? 1 : 0;
}
