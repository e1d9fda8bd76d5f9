/*
 * fault.c -- the transport's fault-injection seam (see frt-fault.h and the
 * frt_fault_* API in frt.h).
 *
 * Locks: f->m protects rules, the generator, stats and the pending list.
 * It is never held while calling ops->send / ops->unref (which take the
 * connection's write lock), so the seam adds no lock-order edge to the runtime.
 * Frames that are delayed or held for reordering are copied and keep a
 * reference on their connection until the delay thread (started on first
 * use) sends them or frt__fault_free drops them.
 */
#define _GNU_SOURCE
#include "frt-fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FRT__FAULT_KEY_LEN   (FRT_MAX_ADDR_LEN + 32)
#define FRT__REORDER_DEFAULT 50.0

typedef struct frt__fault_rule {
    bool                    any; /* applies to every peer without its own rule */
    char                    key[FRT__FAULT_KEY_LEN];
    frt_fault_spec          spec;
    struct frt__fault_rule* next;
} frt__fault_rule;

typedef struct frt__pending {
    double               due;
    bool                 held; /* reorder: released by the next frame to conn */
    void*                conn;
    uint8_t*             bytes;
    size_t               len;
    struct frt__pending* next;
} frt__pending;

struct frt__fault {
    const frt__fault_conn_ops* ops;
    pthread_mutex_t            m;
    pthread_cond_t             cv;
    _Atomic bool               enabled;
    frt__fault_rule*           rules;
    uint64_t                   rng;
    frt_fault_stats            stats;
    frt__pending*              pending; /* sorted by due */
    pthread_t                  thread;
    bool                       thread_started, stop;
};

/* ---------------- helpers (f->m held where noted) ---------------- */

/* xorshift64*: uniform double in [0,1). f->m held. */
static double frt__fault_rand(frt__fault* f)
{
    uint64_t x = f->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    f->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static bool frt__spec_valid(const frt_fault_spec* s)
{
    const double p[4] = {s->drop, s->duplicate, s->reorder, s->delay};
    for (int i = 0; i < 4; i++)
        if (!(p[i] >= 0 && p[i] <= 1)) return false;
    return s->delay_min_ms >= 0 && s->delay_max_ms >= s->delay_min_ms
           && s->delay_max_ms <= 3600e3 && s->reorder_window_ms <= 3600e3;
}

static bool frt__spec_empty(const frt_fault_spec* s)
{
    return s->drop == 0 && s->duplicate == 0 && s->reorder == 0 && s->delay == 0;
}

/* Canonical key of an address string or an already canonical key. */
static bool frt__fault_key(const char* s, char* key, size_t size)
{
    frt__addr_spec spec;
    if (!strstr(s, "://") && (strncmp(s, "sm:", 3) == 0 || strncmp(s, "tcp:", 4) == 0)) {
        snprintf(key, size, "%s", s);
        return true;
    }
    if (frt__addr_parse(s, &spec) != HG_SUCCESS || !frt__addr_is_peer(&spec)) return false;
    frt__addr_key(&spec, key, size);
    return true;
}

/* f->m held. */
static const frt_fault_spec* frt__fault_lookup(frt__fault* f, const char* key)
{
    const frt_fault_spec* any = NULL;
    for (frt__fault_rule* r = f->rules; r; r = r->next) {
        if (r->any)
            any = &r->spec;
        else if (strcmp(r->key, key) == 0)
            return &r->spec;
    }
    return any;
}

/* ---------------- delay thread ---------------- */

static void frt__pending_free(frt__fault* f, frt__pending* p)
{
    f->ops->unref(p->conn);
    free(p->bytes);
    free(p);
}

static void frt__pending_send(frt__fault* f, frt__pending* p)
{
    struct iovec iov = {p->bytes, p->len};
    (void)f->ops->send(p->conn, &iov, 1); /* errors: the loop closes the connection */
    frt__pending_free(f, p);
}

static void* frt__fault_thread(void* arg)
{
    frt__fault* f = arg;
    pthread_mutex_lock(&f->m);
    while (!f->stop) {
        if (!f->pending) {
            pthread_cond_wait(&f->cv, &f->m);
            continue;
        }
        double now = frt_now_ms();
        if (f->pending->due > now) {
            double          wait = f->pending->due - now;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long ns = (long long)ts.tv_nsec + (long long)(wait * 1e6);
            ts.tv_sec += (time_t)(ns / 1000000000LL);
            ts.tv_nsec = (long)(ns % 1000000000LL);
            pthread_cond_timedwait(&f->cv, &f->m, &ts);
            continue;
        }
        frt__pending* p = f->pending;
        f->pending      = p->next;
        pthread_mutex_unlock(&f->m);
        frt__pending_send(f, p);
        pthread_mutex_lock(&f->m);
    }
    pthread_mutex_unlock(&f->m);
    return NULL;
}

/* Queue a copy of the frame. f->m held. false on allocation failure. */
/* Insert p into f->pending, kept sorted by due time (FIFO among equals).
 * Caller holds f->m. */
static void frt__pending_insert(frt__fault* f, frt__pending* p)
{
    frt__pending** pp = &f->pending;
    while (*pp && (*pp)->due <= p->due) pp = &(*pp)->next;
    p->next = *pp;
    *pp     = p;
}

static bool frt__fault_queue(frt__fault* f, void* conn, struct iovec* iov, int cnt, double due,
                             bool held)
{
    size_t len = 0;
    for (int i = 0; i < cnt; i++) len += iov[i].iov_len;
    frt__pending* p = calloc(1, sizeof *p);
    uint8_t*      b = malloc(len ? len : 1);
    if (!p || !b) {
        free(p);
        free(b);
        return false;
    }
    for (size_t off = 0, i = 0; i < (size_t)cnt; off += iov[i].iov_len, i++)
        memcpy(b + off, iov[i].iov_base, iov[i].iov_len);
    if (!f->thread_started) {
        if (pthread_create(&f->thread, NULL, frt__fault_thread, f) != 0) {
            free(p);
            free(b);
            return false;
        }
        f->thread_started = true;
    }
    f->ops->ref(conn);
    p->due   = due;
    p->held  = held;
    p->conn  = conn;
    p->bytes = b;
    p->len   = len;
    frt__pending_insert(f, p);
    pthread_cond_signal(&f->cv);
    return true;
}

/* ---------------- the seam ---------------- */

bool frt__fault_enabled(const frt__fault* f) { return f && atomic_load(&f->enabled); }

hg_return_t frt__fault_send(frt__fault* f, void* conn, const char* peer_key, struct iovec* iov,
                            int cnt)
{
    char          key[FRT__FAULT_KEY_LEN];
    frt__pending* release = NULL; /* held frames to send after this one */
    int           copies  = 1;    /* sent now: 0 (dropped/queued), 1 or 2 */
    hg_return_t   ret     = HG_SUCCESS;

    if (!peer_key || !frt__fault_key(peer_key, key, sizeof key)) key[0] = 0;
    pthread_mutex_lock(&f->m);
    const frt_fault_spec* s = key[0] ? frt__fault_lookup(f, key) : NULL;
    if (!s) goto unlock;
    f->stats.seen++;
    /* frames held back for this connection go out after this one */
    for (frt__pending** pp = &f->pending; *pp;) {
        frt__pending* p = *pp;
        if (p->held && p->conn == conn) {
            *pp     = p->next;
            p->next = NULL;
            frt__pending** tail = &release;
            while (*tail) tail = &(*tail)->next;
            *tail = p;
        } else {
            pp = &p->next;
        }
    }
    if (frt__fault_rand(f) < s->drop) {
        f->stats.dropped++;
        copies = 0;
        goto unlock;
    }
    bool dup = frt__fault_rand(f) < s->duplicate;
    if (dup) f->stats.duplicated++;
    if (frt__fault_rand(f) < s->reorder) {
        double w = s->reorder_window_ms > 0 ? s->reorder_window_ms : FRT__REORDER_DEFAULT;
        if (frt__fault_queue(f, conn, iov, cnt, frt_now_ms() + w, true)) {
            f->stats.reordered++;
            copies = dup ? 1 : 0;
        }
        goto unlock;
    }
    if (frt__fault_rand(f) < s->delay) {
        double d   = s->delay_min_ms + frt__fault_rand(f) * (s->delay_max_ms - s->delay_min_ms);
        double due = frt_now_ms() + d;
        bool   ok  = frt__fault_queue(f, conn, iov, cnt, due, false);
        if (ok && dup) ok = frt__fault_queue(f, conn, iov, cnt, due, false);
        if (ok) {
            f->stats.delayed++;
            copies = 0;
            /* frames held back for reordering still go out after this one:
             * queue them behind it (same due time, inserted after) */
            while (release) {
                frt__pending* p = release;
                release         = p->next;
                p->held         = false;
                p->due          = due;
                frt__pending_insert(f, p);
            }
            pthread_cond_signal(&f->cv);
        }
        goto unlock;
    }
    copies = dup ? 2 : 1;
unlock:
    pthread_mutex_unlock(&f->m);
    for (int i = 0; i < copies; i++) {
        /* the iov is consumed by a partial write: send from a copy each time */
        struct iovec tmp[8];
        int          n = cnt < 8 ? cnt : 8;
        memcpy(tmp, iov, (size_t)n * sizeof *tmp);
        hg_return_t r = f->ops->send(conn, tmp, n);
        if (i == 0) ret = r;
    }
    while (release) {
        frt__pending* n = release->next;
        frt__pending_send(f, release);
        release = n;
    }
    return ret;
}

/* ---------------- lifetime and configuration ---------------- */

static void frt__fault_set_locked(frt__fault* f, const char* key, const frt_fault_spec* spec,
                                  hg_return_t* ret)
{
    bool              any = key == NULL;
    frt__fault_rule** pp  = &f->rules;
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->any == any && (any || strcmp((*pp)->key, key) == 0)) break;
    if (!spec || frt__spec_empty(spec)) {
        if (*pp) {
            frt__fault_rule* r = *pp;
            *pp                = r->next;
            free(r);
        }
    } else if (*pp) {
        (*pp)->spec = *spec;
    } else {
        frt__fault_rule* r = calloc(1, sizeof *r);
        if (!r) {
            *ret = HG_NOMEM;
            return;
        }
        r->any  = any;
        r->spec = *spec;
        if (key) snprintf(r->key, sizeof r->key, "%s", key);
        r->next  = f->rules;
        f->rules = r;
    }
    atomic_store(&f->enabled, f->rules != NULL);
}

typedef struct {
    frt__fault* f;
    hg_return_t ret;
} frt__env_ctx;

static void frt__env_apply(void* ctx, const char* peer, const frt_fault_spec* spec)
{
    frt__env_ctx* c = ctx;
    char          key[FRT__FAULT_KEY_LEN];
    if (peer && !frt__fault_key(peer, key, sizeof key)) {
        c->ret = HG_INVALID_ARG;
        return;
    }
    pthread_mutex_lock(&c->f->m);
    frt__fault_set_locked(c->f, peer ? key : NULL, spec, &c->ret);
    pthread_mutex_unlock(&c->f->m);
}

frt__fault* frt__fault_new(const frt__log_ctx* log, const frt__fault_conn_ops* ops)
{
    frt__fault* f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->ops = ops;
    pthread_mutex_init(&f->m, NULL);
    pthread_cond_init(&f->cv, NULL);
    atomic_init(&f->enabled, false);
    f->rng = ((uint64_t)getpid() << 32) ^ (uint64_t)(frt_now_ms() * 1000.0) ^ (uint64_t)(uintptr_t)f;
    if (!f->rng) f->rng = 88172645463325252ULL;
    const char* seed = getenv("FRT_FAULT_SEED");
    if (seed && *seed) {
        f->rng = strtoull(seed, NULL, 0) * 2654435761ULL + 1;
    }
    const char* env = getenv("FRT_FAULTS");
    if (env && *env) {
        frt__env_ctx c   = {f, HG_SUCCESS};
        const char*  why = frt__fault_parse(env, frt__env_apply, &c);
        if (why || c.ret != HG_SUCCESS) {
            frt__log(log, MARGO_LOG_ERROR, "FRT_FAULTS ignored: %s",
                     why ? why : "bad peer address or out of memory");
            pthread_mutex_lock(&f->m);
            while (f->rules) {
                frt__fault_rule* r = f->rules;
                f->rules           = r->next;
                free(r);
            }
            atomic_store(&f->enabled, false);
            pthread_mutex_unlock(&f->m);
        } else {
            frt__log(log, MARGO_LOG_WARNING, "fault injection enabled (FRT_FAULTS=%s)", env);
        }
    }
    return f;
}

void frt__fault_free(frt__fault* f)
{
    if (!f) return;
    pthread_mutex_lock(&f->m);
    f->stop = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->m);
    if (f->thread_started) pthread_join(f->thread, NULL);
    while (f->pending) {
        frt__pending* p = f->pending;
        f->pending      = p->next;
        frt__pending_free(f, p);
    }
    while (f->rules) {
        frt__fault_rule* r = f->rules;
        f->rules           = r->next;
        free(r);
    }
    pthread_mutex_destroy(&f->m);
    pthread_cond_destroy(&f->cv);
    free(f);
}

/* ---------------- FRT_FAULTS grammar ---------------- */

static bool frt__parse_double(const char* s, size_t n, double* out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char* end = NULL;
    errno     = 0;
    double v  = strtod(buf, &end);
    if (errno || end != buf + n) return false;
    *out = v;
    return true;
}

const char* frt__fault_parse(const char* text,
                             void (*apply)(void* ctx, const char* peer,
                                           const frt_fault_spec* spec),
                             void* ctx)
{
    const char* p = text;
    if (!text) return "no text";
    while (*p) {
        frt_fault_spec spec = {0};
        char           peer[FRT_MAX_ADDR_LEN + 1];
        bool           has_peer = false;
        const char*    end      = strchr(p, ';');
        if (!end) end = p + strlen(p);
        const char* q = p;
        while (q < end) {
            const char* comma = memchr(q, ',', (size_t)(end - q));
            if (!comma) comma = end;
            const char* eq = memchr(q, '=', (size_t)(comma - q));
            if (!eq) return "expected key=value";
            size_t      klen = (size_t)(eq - q);
            const char* v    = eq + 1;
            size_t      vlen = (size_t)(comma - v);
            double*     dst  = NULL;
            if (klen == 4 && !strncmp(q, "drop", 4)) dst = &spec.drop;
            else if (klen == 3 && !strncmp(q, "dup", 3)) dst = &spec.duplicate;
            else if (klen == 7 && !strncmp(q, "reorder", 7)) dst = &spec.reorder;
            else if (klen == 5 && !strncmp(q, "delay", 5)) dst = &spec.delay;
            else if (klen == 9 && !strncmp(q, "window_ms", 9)) dst = &spec.reorder_window_ms;
            if (dst) {
                if (!frt__parse_double(v, vlen, dst)) return "bad number";
            } else if (klen == 8 && !strncmp(q, "delay_ms", 8)) {
                const char* dash = memchr(v, '-', vlen);
                if (!dash) {
                    if (!frt__parse_double(v, vlen, &spec.delay_min_ms)) return "bad delay_ms";
                    spec.delay_max_ms = spec.delay_min_ms;
                } else if (!frt__parse_double(v, (size_t)(dash - v), &spec.delay_min_ms)
                           || !frt__parse_double(dash + 1, (size_t)(comma - dash - 1),
                                                 &spec.delay_max_ms)) {
                    return "bad delay_ms (expected MIN-MAX)";
                }
            } else if (klen == 4 && !strncmp(q, "peer", 4)) {
                if (vlen == 0 || vlen > FRT_MAX_ADDR_LEN) return "bad peer";
                memcpy(peer, v, vlen);
                peer[vlen] = 0;
                has_peer   = !(vlen == 1 && peer[0] == '*');
            } else {
                return "unknown key (expected drop, dup, reorder, delay, delay_ms, window_ms, peer)";
            }
            q = comma < end ? comma + 1 : end;
        }
        if (!frt__spec_valid(&spec)) return "probability outside [0,1] or bad delay range";
        apply(ctx, has_peer ? peer : NULL, &spec);
        p = *end ? end + 1 : end;
    }
    return NULL;
}

/* ---------------- rules (the frt_fault_* API in margo.c passes the seam) ---------------- */

hg_return_t frt__fault_set(frt__fault* f, const char* peer, const frt_fault_spec* spec)
{
    char        key[FRT__FAULT_KEY_LEN];
    hg_return_t ret = HG_SUCCESS;
    if (!f) return HG_NOMEM;
    if (spec && !frt__spec_valid(spec)) return HG_INVALID_ARG;
    bool any = !peer || strcmp(peer, "*") == 0;
    if (!any && !frt__fault_key(peer, key, sizeof key)) return HG_INVALID_ARG;
    pthread_mutex_lock(&f->m);
    frt__fault_set_locked(f, any ? NULL : key, spec, &ret);
    pthread_mutex_unlock(&f->m);
    return ret;
}

hg_return_t frt__fault_clear(frt__fault* f)
{
    if (!f) return HG_INVALID_ARG;
    pthread_mutex_lock(&f->m);
    while (f->rules) {
        frt__fault_rule* r = f->rules;
        f->rules           = r->next;
        free(r);
    }
    atomic_store(&f->enabled, false);
    pthread_mutex_unlock(&f->m);
    return HG_SUCCESS;
}

hg_return_t frt__fault_seed(frt__fault* f, uint64_t seed)
{
    if (!f) return HG_INVALID_ARG;
    pthread_mutex_lock(&f->m);
    f->rng = seed * 2654435761ULL + 1;
    pthread_mutex_unlock(&f->m);
    return HG_SUCCESS;
}

hg_return_t frt__fault_get_stats(frt__fault* f, frt_fault_stats* stats)
{
    if (!f || !stats) return HG_INVALID_ARG;
    pthread_mutex_lock(&f->m);
    *stats = f->stats;
    pthread_mutex_unlock(&f->m);
    return HG_SUCCESS;
}
