/*
 * core.c -- the runtime engine: instances, the progress loop, connections,
 * calls, the handler registry, the elastic handler pool and timers.
 *
 * Threads and locks (docs/design.md "Threads"):
 *  - One pool thread at a time (the leader) runs the epoll loop: accept(),
 *    reads (unless a caller holds a connection's reader token), expiry of
 *    the timer heap. It runs no user code while it leads; after a batch it
 *    leaves the loop lazily and runs the batch's work itself (the standby
 *    takes the loop over if that blocks or lasts; see frt__worker_main).
 *  - Other pool threads run queued handlers, async completions and timer
 *    callbacks. Callers of frt_forward write requests themselves and a
 *    synchronous caller reads its own response.
 *  - Lock order: inst->lock -> conn->wlock -> pool.m -> call->m. The loop
 *    takes inst->lock and conn->wlock but never both in the other order.
 */
#define _GNU_SOURCE
#include "frt-internal.h"
#include "frt-fault.h" /* reliability: fault-injection seam (fault.c) */
#include "frt-auth.h"  /* reliability: authenticated groups (auth.c) */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FRT__NBUCKETS        1024u
#define FRT__POOL_MAX        2048
#define FRT__POOL_IDLE_S     10
#define FRT__HANDOFF_NS      500000L /* an inline handler keeps the loop this long */
#define FRT__LAZY_MAX        16 /* items of one batch the leader keeps for itself */
#define FRT__READ_CHUNK      (64u * 1024u)
#define FRT__OUTQ_MAX        ((size_t)4 * FRT_MAX_PAYLOAD) /* unsent bytes per connection */
#define FRT__CONNECT_DEFAULT_MS 10000.0
#define FRT__IDENTITY_RPC    "__frt_identity"
#define FRT__IDENTITY_TIMEOUT_MS 30000.0

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

/** A unit of work for the handler pool; embedded in the owning object. */
typedef struct frt__work {
    void (*fn)(struct frt__work*);
    struct frt__work* next;
} frt__work;

#define FRT__NO_IDX SIZE_MAX
enum { FRT__HK_CALL = 1, FRT__HK_TIMER = 2 };

/** A timer-heap node (inst->lock). idx == FRT__NO_IDX when not queued. */
typedef struct frt__hnode {
    double   deadline;
    uint64_t seq;
    size_t   idx;
    int      kind;
} frt__hnode;

#define FRT__CONTAINER(ptr, type, member) ((type*)((char*)(ptr)-offsetof(type, member)))

struct hg_addr {
    frt__addr_spec spec;
    char           str[FRT_MAX_ADDR_LEN + 1];
    char           key[FRT_MAX_ADDR_LEN + 32];
};

enum { FRT__CS_CONNECTING = 1, FRT__CS_OPEN = 2, FRT__CS_CLOSED = 3 };

/** A connection. Refs: one for the instance list (dropped by whoever closes
 *  it: the loop, or finalize), one per user (caller writing, request). The
 *  fd is closed when the last ref goes. */
typedef struct frt__conn {
    _Atomic int       refs;
    int               fd;
    struct margo_instance* inst;
    int               state;    /* inst->lock */
    bool              in_table; /* inst->lock: reachable by key */
    char              key[FRT_MAX_ADDR_LEN + 32];
    char              peer[FRT_MAX_ADDR_LEN + 1]; /* peer's self address (hello) */
    struct frt__conn* next;                       /* inst->conns, inst->lock */
    /* write side: wlock */
    pthread_mutex_t wlock;
    bool            wclosed;
    bool            want_out;      /* output queued: EPOLLOUT wanted */
    bool            reader_active; /* a thread owns the read side (see below) */
    bool            in_armed;      /* EPOLLIN is in the loop's interest set */
    bool            loop_missed;   /* the loop had an event while the token was held */
    bool            in_debt;       /* on inst->debt: EPOLLIN to be re-armed by the loop */
    struct frt__conn* debt_next;   /* inst->debt list (debt_lock), holds a ref */
    _Atomic int     ncalls;        /* pending calls on this connection (inst->lock) */
    bool            corked;        /* outq holds frames held back by a batch (wlock) */
    bool            cork_listed;   /* on pool.cork (pool.m) */
    struct frt__conn* cork_next;   /* pool.cork list (pool.m), holds a ref */
    uint8_t*        outq;
    size_t          outq_off, outq_len, outq_cap;
    /* read side: only the thread that holds the reader token
     * (reader_active, taken under wlock): the loop or a caller waiting for
     * its response (frt__forward_wait_reading). */
    uint8_t  hdr_buf[FRT__HDR_LEN];
    size_t   hdr_got;
    frt__hdr hdr;
    uint8_t* body;
    size_t   body_len, body_got;
    bool     got_hello;
    /* reliability: authenticated groups (auth.c) */
    struct frt__auth_conn* auth;       /* NULL until the instance has a key */
    bool                   dialer;     /* we connected (vs accepted) */
    bool                   hello_seen; /* inst->lock: the peer's hello was processed */
} frt__conn;

/** A pending call. Lives in inst->calls (and the heap if timed) until one
 *  completer removes it under inst->lock; then exactly one completion. */
typedef struct frt__call {
    frt__work         work; /* async completion */
    frt__hnode        node; /* timeout */
    uint64_t          id;
    frt__conn*        conn; /* identity only; NULL for in-process calls */
    struct frt__call* hnext;
    bool              async;
    bool              reading; /* the (sync) caller holds conn's reader token */
    frt_completion_fn cb;
    void*             uargs;
    pthread_mutex_t   m;
    pthread_cond_t    cv;
    _Atomic bool      done; /* set under m */
    hg_return_t       ret;
    void*             out;
    size_t            out_len;
} frt__call;

/** A registered handler. `active` counts running invocations. */
typedef struct frt__entry {
    char               name[FRT_MAX_RPC_NAME_LEN + 1];
    uint16_t           provider_id;
    frt_handler_fn     fn;
    void*              uargs;
    int                active;   /* inst->lock */
    bool               orphaned; /* deregistered by its own handler */
    bool               builtin;
    struct frt__entry* next;
} frt__entry;

struct frt_request {
    frt__work              work;
    struct margo_instance* inst;
    frt__conn*             conn; /* ref held; NULL when in-process */
    frt__entry*            entry;
    uint64_t               id;
    uint16_t               provider_id;
    void*                  body; /* owns `in` */
    const void*            in;
    size_t                 in_len;
    char                   source[FRT_MAX_ADDR_LEN + 1];
};

struct margo_timer {
    struct margo_instance*  inst; /* NULL once the instance is finalized */
    margo_timer_callback_fn cb;
    void*                   uargs;
    frt__hnode              node;
    double                  period; /* > 0: periodic */
    uint64_t                gen;    /* bumped by cancel */
    bool                    running; /* a run is queued or executing */
    bool                    refire;  /* expired while running (one-shot) */
    bool                    destroy_pending;
    struct margo_timer *    prev, *next; /* inst->timers */
};

typedef struct frt__timer_run {
    frt__work           work;
    struct margo_timer* t;
    uint64_t            gen;
} frt__timer_run;

enum { FRT__CB_PRE = 1, FRT__CB_FIN = 2 };
typedef struct frt__fcb {
    const void*               owner;
    margo_finalize_callback_t cb;
    void*                     uargs;
    struct frt__fcb*          next;
} frt__fcb;

typedef struct frt__ident {
    uint16_t           provider_id;
    char*              identity;
    struct frt__ident* next;
} frt__ident;

typedef struct frt__worker {
    pthread_t              tid;
    pid_t                  os_tid; /* for the monitor's look at its state */
    struct margo_instance* inst;
    bool                   exited, joined;
    bool                   busy;    /* pool.m: inside a work item */
    uint8_t                asleep;  /* pool.m: stall checks that found it asleep in a row */
    bool                   waiting; /* pool.m: in frt_wait_begin/end */
    struct frt__worker*    next;
} frt__worker;

typedef struct frt__pool {
    pthread_mutex_t m;
    pthread_cond_t  cv;
    frt__work *     head, *tail;   /* queued with a wake-up (frt__pool_submit) */
    frt__work *     lhead, *ltail; /* queued lazily by the leader (its batch) */
    int             nqueued, nidle, nthreads, min, max; /* nqueued: head list only */
    int             nlazy;   /* lhead list length */
    int             nexited; /* workers that exited on idle, not yet joined */
    bool            stop;
    bool            leader;  /* a thread runs the progress loop */
    bool            vacant;  /* the leader left lazily to run a handler inline */
    bool            standby; /* a thread waits on standby_fd */
    bool            tick_armed;  /* standby_fd is armed (or fired and not yet handled) */
    bool            handoff_now; /* the inline handler blocks: take the loop over now */
    uint64_t        inline_seq;  /* counts inline runs */
    uint64_t        tick_seq;    /* inline_seq at the standby's last wake-up */
    double          inline_start; /* when the leader left the loop (ms) */
    int             standby_fd;
    frt__worker*    workers;
    struct frt__conn* cork; /* connections with frames held back (frt__conn_send) */
    _Atomic uint64_t  cork_seq; /* the inline run allowed to hold frames back (0: none) */
    /* bounded concurrency: at most `target` (+ `boost`) threads run work
     * items at once, not counting those blocked in a runtime wait */
    int             nrunning; /* threads inside a work item */
    int             nblocked; /* of those, waiting in the runtime (frt_wait_begin) */
    int             target;   /* runnable threads wanted: online CPUs, >= 2 */
    int             boost;    /* granted by the monitor when work stalls */
    uint64_t        nstarted; /* work items started (progress, for the monitor) */
    bool            mon_started, mon_stop, mon_idle;
    pthread_t       mon_tid;
    pthread_cond_t  mon_cv;
} frt__pool;

struct margo_instance {
    pthread_mutex_t lock;
    pthread_cond_t  cv; /* registry, timers, connection state changes */
    frt__log_ctx    log; /* level and name of this instance's log lines */
    bool            server;
    frt__addr_spec  spec;
    char            self[FRT_MAX_ADDR_LEN + 1];
    char            self_key[FRT_MAX_ADDR_LEN + 32];
    int             listen_fd, epfd, evfd;
    int             debt_fd;      /* timerfd: re-arm the reads callers left disarmed */
    _Atomic unsigned long nsends; /* send system calls on connections (tests) */
    pthread_mutex_t debt_lock;    /* leaf lock: debt */
    struct frt__conn* debt;       /* connections owing an EPOLLIN re-arm (frt__reader_release) */
    int             spare_fd; /* /dev/null, given up to shed a connection on EMFILE */
    _Atomic bool    loop_stop;
    /* lifetime */
    bool        finalizing, stopping, finalized; /* lock */
    int         waiters;                         /* lock: in margo_wait_for_finalize */
    bool        zombie;                          /* lock: kept for a late waiter */
    struct margo_instance* zombie_next;          /* frt__zombies */
    int         margo_refs;                      /* lock */
    _Atomic int memrefs;
    /* state under lock */
    uint64_t             next_id, heap_seq;
    double               loop_wake_at; /* when the sleeping leader wakes by itself (ms) */
    frt__hnode**         heap;
    size_t               heap_len, heap_cap;
    frt__call*           calls[FRT__NBUCKETS];
    frt__conn*           conns;
    frt__entry*          entries;
    frt__entry           identity_entry;
    frt__ident*          idents;
    frt__fcb *           prefin, *fin;
    struct margo_timer*  timers;
    /* rate limit of protocol warnings (loop thread only) */
    _Atomic long warn_window; /* ms */
    _Atomic int  warn_count;
    uint8_t* rbuf; /* loop scratch */
    frt__pool pool;
    frt__fault* fault; /* reliability: fault-injection seam (fault.c), NULL-safe */
    frt__auth*  auth;  /* reliability: group key (auth.c), NULL-safe */
};

/* Per-thread context: which instance's pool this thread serves, the
 * handler entry / timer running on it, and whether it finalized. */
static __thread struct {
    struct margo_instance* pool_inst;
    struct margo_instance* finalized;
    struct margo_instance* vacated; /* running an inline handler (lazy hand-off) */
    struct margo_instance* lazy;    /* leading: work submitted now needs no wake-up */
    int                    nlazy;   /* ... how many items were queued that way */
    uint64_t               vacated_seq; /* ... that inline run (pool.inline_seq) */
    int                    waiting; /* frt_wait_begin depth */
    bool                   cork_ok;  /* running a batch item with more to follow */
    uint64_t               cork_seq; /* ... of that inline run (pool.cork_seq) */
    struct frt__worker*    worker;  /* this thread's pool worker */
    frt__entry*            entry;
    struct margo_timer*    timer;
} frt__tls;

static _Atomic unsigned long frt__instance_counter = 0;
static char                  frt__tag_listen, frt__tag_event, frt__tag_debt;
static frt__work             frt__lazy_marker; /* frt__lead: "run the queue inline" */

static void frt__inst_unref(margo_instance_id mid);
static void frt__pool_submit(margo_instance_id mid, frt__work* w);
static void frt__conn_unref(frt__conn* c);
static void frt__timer_work(frt__work* w);
static frt__work* frt__lead(margo_instance_id mid);
static frt__work* frt__pool_pop(frt__pool* p, bool lazy_only);
static bool frt__pool_spawn(margo_instance_id mid);


/* ------------------------------------------------------------------ */
/* Timer heap (inst->lock held)                                        */
/* ------------------------------------------------------------------ */

static bool frt__heap_less(const frt__hnode* a, const frt__hnode* b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void frt__heap_set(margo_instance_id mid, size_t i, frt__hnode* n)
{
    mid->heap[i] = n;
    n->idx       = i;
}

static void frt__heap_up(margo_instance_id mid, size_t i)
{
    frt__hnode* n = mid->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!frt__heap_less(n, mid->heap[p])) break;
        frt__heap_set(mid, i, mid->heap[p]);
        i = p;
    }
    frt__heap_set(mid, i, n);
}

static void frt__heap_down(margo_instance_id mid, size_t i)
{
    frt__hnode* n = mid->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        frt__hnode* best = n;
        if (l < mid->heap_len && frt__heap_less(mid->heap[l], best)) { m = l; best = mid->heap[l]; }
        if (r < mid->heap_len && frt__heap_less(mid->heap[r], best)) { m = r; best = mid->heap[r]; }
        if (m == i) break;
        frt__heap_set(mid, i, mid->heap[m]);
        i = m;
    }
    frt__heap_set(mid, i, n);
}

/** Insert n (not queued) at deadline. Returns -1 on ENOMEM, 1 if the loop
 *  must be woken (the deadline is earlier than the time the leader planned
 *  to wake up at), 0 otherwise. */
static int frt__heap_push(margo_instance_id mid, frt__hnode* n, double deadline)
{
    if (mid->heap_len == mid->heap_cap) {
        size_t       cap = mid->heap_cap ? mid->heap_cap * 2 : 64;
        frt__hnode** h   = realloc(mid->heap, cap * sizeof *h);
        if (!h) return -1;
        mid->heap     = h;
        mid->heap_cap = cap;
    }
    n->deadline = deadline;
    n->seq      = ++mid->heap_seq;
    mid->heap_len++;
    frt__heap_set(mid, mid->heap_len - 1, n);
    frt__heap_up(mid, mid->heap_len - 1);
    /* The leader sleeps until loop_wake_at at most (set when it computed
     * its epoll timeout, not lowered when nodes go away), so a later
     * deadline needs no wake-up: a client issuing one timed call after the
     * other costs no loop wake per call. */
    return deadline < mid->loop_wake_at ? 1 : 0;
}

static void frt__heap_remove(margo_instance_id mid, frt__hnode* n)
{
    if (n->idx == FRT__NO_IDX) return;
    size_t i = n->idx;
    n->idx   = FRT__NO_IDX;
    mid->heap_len--;
    if (i == mid->heap_len) return;
    frt__heap_set(mid, i, mid->heap[mid->heap_len]);
    frt__heap_up(mid, i);
    frt__heap_down(mid, mid->heap[i]->idx);
}

static void frt__wake_loop(margo_instance_id mid)
{
    uint64_t one = 1;
    ssize_t  r;
    do {
        r = write(mid->evfd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
}

/* ------------------------------------------------------------------ */
/* Handler pool                                                        */
/* ------------------------------------------------------------------ */

/* Arm the standby timer to fire after ns nanoseconds (0: disarm). */
static void frt__standby_arm(frt__pool* p, long ns)
{
    struct itimerspec its = {{0, 0}, {0, ns}};
    if (p->standby_fd >= 0) timerfd_settime(p->standby_fd, 0, &its, NULL);
}

static void frt__pool_unlazy(margo_instance_id mid);
static void frt__pool_watch(margo_instance_id mid);
static void frt__uncork_all(margo_instance_id mid);

/* A thread running an inline handler is about to block in the runtime:
 * let the standby take the loop over now instead of after
 * FRT__HANDOFF_NS, and give the rest of its batch threads at once (what
 * it waits for may be there). */
static void frt__about_to_block(void)
{
    margo_instance_id mid = frt__tls.vacated;
    if (!mid) return;
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    if (p->vacant && !p->leader && p->inline_seq == frt__tls.vacated_seq) {
        p->handoff_now = true;
        p->tick_armed  = true;
        frt__standby_arm(p, 1);
        frt__pool_unlazy(mid);
    }
    frt__tls.vacated = NULL;
    frt__tls.cork_ok = false;
    bool held        = p->cork != NULL;
    pthread_mutex_unlock(&p->m);
    if (held) frt__uncork_all(mid); /* what it waits for may answer them */
}

/*
 * Bounded concurrency. The pool grows a thread whenever queued work finds
 * no idle thread, because a handler may block (a nested forward, a sleep)
 * and the work it waits for must still run. But under CPU overload that
 * rule turns a backlog into hundreds of threads fighting for the cores
 * (seen: 200-500 threads per process in a 1024-member SWIM group on 2
 * cores, which made every RPC late and the group collapse). So queued work
 * starts only while fewer than `target` threads (the number of CPUs) are
 * running work items, not counting those blocked in a runtime wait
 * (frt_forward, margo_thread_sleep, margo_wait_for_finalize, or any code
 * between frt_wait_begin/frt_wait_end). A handler that blocks elsewhere
 * (a user lock or condition) is covered by the monitor thread: if queued
 * work makes no progress for FRT__STALL_MS and a busy worker is asleep
 * outside the runtime, it allows one more thread.
 */
#define FRT__STALL_MS 10

static void* frt__pool_monitor_main(void* arg);

/* Is this thread of ours asleep (blocked, not runnable)? From its
 * /proc state; unknown counts as asleep so that progress never stops. */
static bool frt__thread_sleeping(pid_t tid)
{
    char path[64];
    char buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", (long)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return true;
    buf[n]        = '\0';
    const char* r = strrchr(buf, ')'); /* the name may contain spaces */
    if (!r || r[1] != ' ' || !r[2]) return true;
    return r[2] != 'R';
}

/* p->m held: put w in the pool queue (at its head if front). */
static void frt__queue_push(frt__pool* p, frt__work* w, bool front)
{
    if (front) {
        w->next = p->head;
        p->head = w;
        if (!p->tail) p->tail = w;
    } else {
        w->next = NULL;
        if (p->tail)
            p->tail->next = w;
        else
            p->head = w;
        p->tail = w;
    }
    p->nqueued++;
}

/* p->m held: may queued work start now? */
static bool frt__pool_room(const frt__pool* p)
{
    return p->stop || p->nrunning - p->nblocked < p->target + p->boost;
}

/* p->m held: have the monitor watch the (non-empty) queue. */
static void frt__pool_watch(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (!p->mon_started && !p->stop) {
        if (pthread_create(&p->mon_tid, NULL, frt__pool_monitor_main, mid) == 0)
            p->mon_started = true;
        else
            p->boost++; /* no monitor: never risk a stall */
    } else if (p->mon_idle) {
        p->mon_idle = false;
        pthread_cond_signal(&p->mon_cv);
    }
}

/* p->m held: get a thread to run queued work, if there is room for it. */
static void frt__pool_kick(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (p->nqueued == 0) return;
    /* the monitor watches every non-empty queue: work queued while there
     * was room may be stranded when the room is gone */
    frt__pool_watch(mid);
    if (!frt__pool_room(p)) return;
    if (p->nidle > 0 || p->nthreads >= p->max) {
        pthread_cond_signal(&p->cv);
    } else if (!frt__pool_spawn(mid)) {
        if (p->nthreads == 0)
            frt__log(&mid->log, MARGO_LOG_CRITICAL, "cannot start any handler thread");
        pthread_cond_signal(&p->cv);
    }
}

static void* frt__pool_monitor_main(void* arg)
{
    margo_instance_id mid  = arg;
    frt__pool*        p    = &mid->pool;
    pthread_mutex_lock(&p->m);
    uint64_t seen = p->nstarted;
    while (!p->mon_stop) {
        if (p->nqueued == 0) {
            /* woken by frt__pool_kick when work is queued */
            p->boost    = 0; /* the backlog is gone: back to the CPU bound */
            p->mon_idle = true;
            pthread_cond_wait(&p->mon_cv, &p->m);
            p->mon_idle = false;
            seen = p->nstarted;
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += FRT__STALL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&p->mon_cv, &p->m, &ts);
        if (p->mon_stop) break;
        if (p->nqueued > 0 && p->nstarted == seen) {
            /* no queued work started for FRT__STALL_MS: allow as many
             * more threads as there are busy workers asleep outside the
             * runtime (a user lock, a sleep); workers computing keep
             * their slot, so CPU-bound handlers do not grow the pool */
            int stuck = 0;
            for (frt__worker* x = p->workers; x; x = x->next) {
                if (!x->busy || x->waiting || x->exited) continue;
                /* asleep at two checks in a row: not a passing lock wait */
                if (!frt__thread_sleeping(x->os_tid))
                    x->asleep = 0;
                else if (x->asleep < 2 && ++x->asleep == 2)
                    stuck++;
                else if (x->asleep >= 2)
                    stuck++;
            }
            if (stuck > p->boost) p->boost++; /* one per stall: gentle growth */
            frt__pool_kick(mid);
        }
        seen = p->nstarted;
    }
    pthread_mutex_unlock(&p->m);
    return NULL;
}

void frt_wait_begin(void)
{
    margo_instance_id mid = frt__tls.pool_inst;
    if (!mid || frt__tls.waiting++ > 0) return;
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    p->nblocked++;
    if (frt__tls.worker) frt__tls.worker->waiting = true;
    frt__pool_kick(mid);
    pthread_mutex_unlock(&p->m);
}

void frt_wait_end(void)
{
    margo_instance_id mid = frt__tls.pool_inst;
    if (!mid || frt__tls.waiting == 0 || --frt__tls.waiting > 0) return;
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    p->nblocked--;
    if (frt__tls.worker) frt__tls.worker->waiting = false;
    pthread_mutex_unlock(&p->m);
}

/*
 * Pool threads play three roles (pool.m):
 *  - the leader runs the progress loop (frt__lead). When a batch yields a
 *    request, it leaves the loop *lazily*: it records the start of this
 *    inline run and runs the handler itself, then takes the loop back if
 *    nobody did. A handler that blocks in the runtime hands over at once
 *    (frt__about_to_block); one that runs long or blocks elsewhere loses
 *    the loop FRT__HANDOFF_NS after it started. No wake-up and no system
 *    call are needed on the fast path: the standby timer is armed only
 *    when it is not armed already, and the standby keeps it armed while
 *    inline runs keep coming (one standby wake-up per FRT__HANDOFF_NS
 *    while busy; a request after an idle period pays one timerfd_settime).
 *  - the standby sleeps on the timer fd. When it fires, it takes the loop
 *    over if the current inline run is FRT__HANDOFF_NS old (or blocks);
 *    if a younger run holds it, it re-arms the timer for that run's due
 *    time; if the leader is back, it re-arms it for a full period if any
 *    inline run happened since its last wake-up, else lets it lapse.
 *  - the others run queued work (handlers, completions, timer callbacks).
 */
static void* frt__worker_main(void* arg)
{
    frt__worker*      self = arg;
    margo_instance_id mid  = self->inst;
    frt__pool*        p    = &mid->pool;
    frt__tls.pool_inst     = mid;
    frt__tls.worker        = self;
    pthread_mutex_lock(&p->m);
    self->os_tid = (pid_t)syscall(SYS_gettid);
    for (;;) {
        frt__work* w        = NULL;
        bool       stopping = atomic_load(&mid->loop_stop);
        if (!p->leader && !stopping) {
            p->leader = true;
            /* a new leader: no older inline run holds frames back any more */
            atomic_store(&p->cork_seq, 0);
            bool held = p->cork != NULL;
            if (held) {
                pthread_mutex_unlock(&p->m);
                frt__uncork_all(mid);
                pthread_mutex_lock(&p->m);
            }
            /* queued work may have woken (or started) this thread: make
             * sure someone else runs it */
            frt__pool_kick(mid);
            /* the rest of the batch of an inline thread that lost the loop
             * (blocked, or ran FRT__HANDOFF_NS) goes to the pool queue */
            frt__pool_unlazy(mid);
            p->vacant      = false; /* the standby timer lapses by itself */
            p->handoff_now = false;
            pthread_mutex_unlock(&p->m);
            w = frt__lead(mid);
            pthread_mutex_lock(&p->m);
            p->leader = false;
            if (!w) {
                pthread_cond_broadcast(&p->cv); /* finalize waits for this */
                continue;
            }
            if (w == &frt__lazy_marker && !(w = frt__pool_pop(p, true))) continue; /* moved */
            if (!frt__pool_room(p)) {
                /* every CPU is busy: the batch waits its turn in the
                 * queue and this thread goes on leading */
                frt__queue_push(p, w, false);
                frt__pool_unlazy(mid);
                frt__pool_kick(mid); /* the monitor watches for a stall */
                continue;
            }
            p->vacant       = true;
            p->inline_start = frt_now_ms();
            p->inline_seq++;
            if (!p->tick_armed) {
                p->tick_armed = true;
                frt__standby_arm(p, FRT__HANDOFF_NS);
            }
            if (!p->standby) {
                if (p->nidle > 0 || p->nthreads >= p->max || !frt__pool_spawn(mid))
                    pthread_cond_signal(&p->cv);
            }
            uint64_t seq = p->inline_seq;
            p->nrunning++;
            p->nstarted++;
            self->busy   = true;
            self->asleep = 0;
            atomic_store(&p->cork_seq, seq);
            frt__tls.cork_seq = seq;
            frt__tls.cork_ok  = p->lhead != NULL;
            pthread_mutex_unlock(&p->m);
        run_next:
            frt__tls.vacated     = mid;
            frt__tls.vacated_seq = seq;
            w->fn(w);
            frt__tls.vacated = NULL;
            frt__tls.cork_ok = false;
            if (frt__tls.finalized == mid) goto finalized_by_us;
            pthread_mutex_lock(&p->m);
            /* The rest of the batch (requests, completions, timer runs)
             * was queued without waking anyone: run it here, unless the
             * loop was taken over meanwhile (then it is in the pool queue:
             * frt__pool_unlazy). The FRT__HANDOFF_NS limit counts from when
             * the loop was left, not per item. */
            if (p->vacant && !p->leader && p->inline_seq == seq && (w = frt__pool_pop(p, true))) {
                p->nstarted++;
                self->asleep = 0;
                frt__tls.cork_ok = p->lhead != NULL;
                pthread_mutex_unlock(&p->m);
                goto run_next;
            }
            self->busy = false;
            p->nrunning--;
            frt__pool_kick(mid);
            if (p->cork) { /* the batch is over: send what it held back */
                pthread_mutex_unlock(&p->m);
                frt__uncork_all(mid);
                pthread_mutex_lock(&p->m);
            }
            continue;
        }
        if (p->head && frt__pool_room(p)) {
            w = frt__pool_pop(p, false);
            p->nrunning++;
            p->nstarted++;
            self->busy   = true;
            self->asleep = 0;
            pthread_mutex_unlock(&p->m);
            w->fn(w);
            if (frt__tls.finalized == mid) goto finalized_by_us;
            pthread_mutex_lock(&p->m);
            self->busy = false;
            p->nrunning--;
            continue;
        }
        if (!p->standby && !stopping) {
            p->standby = true;
            for (;;) {
                pthread_mutex_unlock(&p->m);
                struct pollfd pf = {.fd = p->standby_fd, .events = POLLIN};
                (void)poll(&pf, 1, -1);
                uint64_t ticks;
                (void)!read(p->standby_fd, &ticks, sizeof ticks);
                pthread_mutex_lock(&p->m);
                if (atomic_load(&mid->loop_stop) || (!p->leader && !p->vacant)) break;
                bool busy   = p->inline_seq != p->tick_seq;
                p->tick_seq = p->inline_seq;
                if (p->leader) {
                    if (busy) /* requests keep coming: stay armed (off their path) */
                        frt__standby_arm(p, FRT__HANDOFF_NS);
                    else /* idle: let the timer lapse */
                        p->tick_armed = false;
                    continue;
                }
                double left = p->inline_start + FRT__HANDOFF_NS / 1e6 - frt_now_ms();
                if (p->handoff_now || left <= 0) break; /* take the loop over */
                frt__standby_arm(p, (long)(left * 1e6) + 1); /* a younger run: its due time */
            }
            p->tick_armed = false;
            p->standby    = false;
            pthread_cond_broadcast(&p->cv);
            continue;
        }
        if (p->stop) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += FRT__POOL_IDLE_S;
        p->nidle++;
        int rc = pthread_cond_timedwait(&p->cv, &p->m, &ts);
        p->nidle--;
        if (rc == ETIMEDOUT && !p->head && !p->stop && p->leader && p->standby
            && p->nthreads > p->min)
            break;
    }
    p->nthreads--;
    p->nexited++;
    self->exited = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->m);
    return NULL;
finalized_by_us:
    /* This thread finalized the instance from user code; every other
     * thread is joined and the pool is gone. */
    frt__tls.finalized = NULL;
    frt__tls.pool_inst = NULL;
    pthread_detach(pthread_self());
    frt__inst_unref(mid);
    return NULL;
}

/* Take the next item (p->m held), NULL if none: from the lazy list (the
 * inline thread) or the pool queue (workers). */
static frt__work* frt__pool_pop(frt__pool* p, bool lazy)
{
    frt__work* w;
    if (!lazy && p->head) {
        w       = p->head;
        p->head = w->next;
        if (!p->head) {
            p->tail  = NULL;
            p->boost = 0;
        }
        p->nqueued--;
    } else if (lazy && p->lhead) {
        w        = p->lhead;
        p->lhead = w->next;
        if (!p->lhead) p->ltail = NULL;
        p->nlazy--;
    } else {
        return NULL;
    }
    return w;
}

/* The inline thread lost the loop: move the rest of its batch (at most
 * FRT__LAZY_MAX items) to the pool queue, get threads for as many as
 * there is room for, and have the monitor watch the rest (p->m held). */
static void frt__pool_unlazy(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    if (!p->lhead) return;
    int room = p->target + p->boost - (p->nrunning - p->nblocked);
    while (p->lhead) {
        frt__queue_push(p, frt__pool_pop(p, true), false);
        if (room-- > 0) frt__pool_kick(mid);
    }
    frt__pool_watch(mid);
}

/* Join workers that exited on idle (called without p->m). */
static void frt__pool_reap(frt__pool* p)
{
    frt__worker* dead = NULL;
    pthread_mutex_lock(&p->m);
    for (frt__worker** pp = &p->workers; *pp;) {
        frt__worker* w = *pp;
        if (w->exited && !p->stop) {
            p->nexited--;
            *pp     = w->next;
            w->next = dead;
            dead    = w;
        } else {
            pp = &w->next;
        }
    }
    pthread_mutex_unlock(&p->m);
    while (dead) {
        frt__worker* n = dead->next;
        pthread_join(dead->tid, NULL);
        free(dead);
        dead = n;
    }
}

/* Start one worker; p->m held. */
static bool frt__pool_spawn(margo_instance_id mid)
{
    frt__pool*   p = &mid->pool;
    frt__worker* w = calloc(1, sizeof *w);
    if (!w) return false;
    w->inst = mid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 4u << 20);
    int rc = pthread_create(&w->tid, &attr, frt__worker_main, w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(w);
        return false;
    }
    w->next    = p->workers;
    p->workers = w;
    p->nthreads++;
    return true;
}

/* Queue w for the pool. Work produced by the leader while it processes a
 * batch (frt__tls.lazy; the first FRT__LAZY_MAX items, the rest of a flood
 * is queued as usual) goes to the lazy list without a wake-up: the leader
 * runs it itself after the batch (see frt__worker_main), and threads come
 * for it only if that thread blocks or runs long (frt__pool_unlazy). */
static void frt__pool_enqueue(margo_instance_id mid, frt__work* w, bool front);
static void frt__pool_submit(margo_instance_id mid, frt__work* w)
{
    frt__pool_enqueue(mid, w, false);
}

/* Queue w (at the head if front: work its submitter is about to wait for). */
static void frt__pool_enqueue(margo_instance_id mid, frt__work* w, bool front)
{
    frt__pool* p = &mid->pool;
    w->next      = NULL;
    pthread_mutex_lock(&p->m);
    if (frt__tls.lazy == mid && frt__tls.nlazy < FRT__LAZY_MAX) {
        if (p->ltail)
            p->ltail->next = w;
        else
            p->lhead = w;
        p->ltail = w;
        p->nlazy++;
        frt__tls.nlazy++;
        pthread_mutex_unlock(&p->m);
        return;
    }
    frt__queue_push(p, w, front);
    frt__pool_kick(mid);
    bool any_exited = p->nexited > 0;
    pthread_mutex_unlock(&p->m);
    if (any_exited) frt__pool_reap(p);
}

/* Stop the pool: queued work still runs; join every worker but the caller. */
static void frt__pool_stop_join(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    pthread_mutex_lock(&p->m);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    if (p->mon_started) {
        p->mon_stop = true;
        pthread_cond_signal(&p->mon_cv);
        pthread_mutex_unlock(&p->m);
        pthread_join(p->mon_tid, NULL);
        pthread_mutex_lock(&p->m);
        p->mon_started = false;
    }
    for (;;) {
        frt__worker* target = NULL;
        for (frt__worker* w = p->workers; w; w = w->next)
            if (!w->joined && !pthread_equal(w->tid, pthread_self())) {
                target = w;
                break;
            }
        if (!target) break;
        target->joined = true;
        pthread_mutex_unlock(&p->m);
        pthread_join(target->tid, NULL);
        pthread_mutex_lock(&p->m);
    }
    while (p->workers) {
        frt__worker* n = p->workers->next;
        free(p->workers);
        p->workers = n;
    }
    pthread_mutex_unlock(&p->m);
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */
/* ------------------------------------------------------------------ */

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
static frt__call* frt__call_take(margo_instance_id mid, uint64_t id, frt__conn* conn)
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
static void frt__call_finish(margo_instance_id mid, frt__call* c, hg_return_t ret, void* out,
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

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static frt__conn* frt__conn_new(margo_instance_id mid, int fd)
{
    frt__conn* c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    c->fd    = fd;
    c->inst  = mid;
    c->state = FRT__CS_CONNECTING;
    pthread_mutex_init(&c->wlock, NULL);
    return c;
}

static void frt__conn_unref(frt__conn* c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    if (c->fd >= 0) close(c->fd);
    frt__auth_conn_free(c->auth); /* reliability */
    pthread_mutex_destroy(&c->wlock);
    free(c->outq);
    free(c->body);
    free(c);
}

/*
 * Read side of a connection (docs/design.md "Who reads a connection").
 *
 * Connections are registered edge-triggered, once: a loop read costs no
 * epoll_ctl. The reader token (reader_active, under wlock) says which
 * thread reads: the loop, or a synchronous caller waiting for its own
 * response. A caller takes EPOLLIN out of the loop's set while it reads
 * (so its response wakes only the caller), and on release puts it back
 * only when someone else needs the loop to read: another call pending on
 * the connection, or an event the loop saw while the caller held the
 * token. Otherwise the connection goes on inst->debt and the loop re-arms
 * it within FRT__DEBT_NS (a timerfd); a caller that comes back before
 * that finds EPOLLIN already out, so back-to-back calls cost no epoll_ctl.
 * Until the debt is paid, what the peer sends unprompted (a request on a
 * reused connection, EOF) waits at most FRT__DEBT_NS.
 */
#define FRT__DEBT_NS 1000000L
static _Atomic long frt__debt_ns = FRT__DEBT_NS;

unsigned long frt__stat_sends(margo_instance_id mid) { return atomic_load(&mid->nsends); }

size_t frt__stat_outq_bytes(margo_instance_id mid)
{
    size_t n = 0;
    pthread_mutex_lock(&mid->lock);
    for (frt__conn* c = mid->conns; c; c = c->next) {
        pthread_mutex_lock(&c->wlock);
        n += c->outq_cap;
        pthread_mutex_unlock(&c->wlock);
    }
    pthread_mutex_unlock(&mid->lock);
    return n;
}

void frt__set_read_debt_ns(long ns) { atomic_store(&frt__debt_ns, ns > 0 ? ns : FRT__DEBT_NS); }

static void frt__conn_ctl_locked(frt__conn* c)
{
    if (c->wclosed || c->fd < 0) return;
    struct epoll_event ev = {.events = EPOLLET, .data.ptr = c};
    if (c->in_armed) ev.events |= EPOLLIN | EPOLLRDHUP;
    if (c->want_out) ev.events |= EPOLLOUT;
    epoll_ctl(c->inst->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Take the reader token of c; false if another thread holds it. A caller
 * (disarm) also takes EPOLLIN out of the loop's set; the loop, when it
 * cannot have the token, leaves a note for the holder (loop_missed). */
static bool frt__reader_acquire(frt__conn* c, bool disarm)
{
    bool ok = false;
    pthread_mutex_lock(&c->wlock);
    if (!c->reader_active && !c->wclosed) {
        c->reader_active = true;
        ok               = true;
        if (disarm && c->in_armed) {
            c->in_armed = false;
            frt__conn_ctl_locked(c);
        }
    } else if (!disarm) {
        c->loop_missed = true;
    }
    pthread_mutex_unlock(&c->wlock);
    return ok;
}

/* Put c on inst->debt (wlock held): the loop re-arms EPOLLIN soon. */
static void frt__conn_debt_locked(frt__conn* c)
{
    margo_instance_id mid = c->inst;
    if (c->in_debt) return;
    c->in_debt = true;
    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_lock(&mid->debt_lock);
    bool first   = mid->debt == NULL;
    c->debt_next = mid->debt;
    mid->debt    = c;
    pthread_mutex_unlock(&mid->debt_lock);
    if (first) {
        long              ns  = atomic_load(&frt__debt_ns);
        struct itimerspec its = {{0, 0}, {ns / 1000000000L, ns % 1000000000L}};
        timerfd_settime(mid->debt_fd, 0, &its, NULL);
    }
}

/* Give the token back. The loop (caller = false) always leaves EPOLLIN
 * armed; `more`: data may be left unread (re-arming makes epoll report it
 * again). A caller re-arms only when the loop must read now (see above). */
static void frt__reader_release(frt__conn* c, bool caller, bool more)
{
    pthread_mutex_lock(&c->wlock);
    c->reader_active = false;
    if (!c->wclosed) {
        if (!caller || more || c->loop_missed || atomic_load(&c->ncalls) > 0) {
            if (!c->in_armed || more || c->loop_missed) {
                c->in_armed    = true;
                c->loop_missed = false;
                frt__conn_ctl_locked(c);
            }
        } else if (!c->in_armed) {
            frt__conn_debt_locked(c);
        }
    }
    pthread_mutex_unlock(&c->wlock);
}

/* Nobody reads c and EPOLLIN is out: put it back (wlock held). A caller
 * holding the token decides itself when it releases it. */
static void frt__conn_arm_unread_locked(frt__conn* c)
{
    if (!c->reader_active && !c->in_armed && !c->wclosed) {
        c->in_armed = true;
        frt__conn_ctl_locked(c);
    }
}

/* An asynchronous call went out on c: make sure someone will read its
 * response (c may be in debt, EPOLLIN out, with nobody reading). */
static void frt__conn_need_reader(frt__conn* c)
{
    pthread_mutex_lock(&c->wlock);
    frt__conn_arm_unread_locked(c);
    pthread_mutex_unlock(&c->wlock);
}

/* Detach the whole debt list (each entry holds a ref). */
static frt__conn* frt__debt_take(margo_instance_id mid)
{
    pthread_mutex_lock(&mid->debt_lock);
    frt__conn* list = mid->debt;
    mid->debt       = NULL;
    pthread_mutex_unlock(&mid->debt_lock);
    return list;
}

/* Loop: the debt timer fired; re-arm every connection nobody reads. */
static void frt__pay_debts(margo_instance_id mid)
{
    uint64_t ticks;
    (void)!read(mid->debt_fd, &ticks, sizeof ticks);
    frt__conn* list = frt__debt_take(mid);
    while (list) {
        frt__conn* c = list;
        list         = c->debt_next; /* read before in_debt is cleared */
        pthread_mutex_lock(&c->wlock);
        c->in_debt = false;
        frt__conn_arm_unread_locked(c);
        pthread_mutex_unlock(&c->wlock);
        frt__conn_unref(c);
    }
}

static void frt__iov_advance(struct iovec** iov, int* cnt, size_t n)
{
    while (*cnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (*cnt > 0 && n) {
        (*iov)->iov_base = (char*)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

/*
 * Write coalescing. A thread running a batch of work items (the requests
 * or completions one read brought, see frt__worker_main) has cork_ok set
 * while more items of the batch follow the current one. Frames it sends
 * then are held back in the connection's outq (up to FRT__CORK_MAX bytes)
 * and go out together, in one sendmsg, with the next frame sent without
 * cork_ok -- typically the batch's last response -- or when the batch
 * ends, its thread is about to block, or the standby takes the loop over
 * (frt__uncork_all). So 16 responses cost one system call, not 16, and a
 * frame is held back at most until the batch's thread finishes the next
 * item or loses the loop (FRT__HANDOFF_NS).
 */
#define FRT__CORK_MAX ((size_t)64 * 1024)
#define FRT__OUTQ_KEEP ((size_t)0) /* output buffer kept once drained: none (memory per member) */

static void frt__conn_cork_locked(frt__conn* c)
{
    if (c->corked) return;
    c->corked    = true;
    frt__pool* p = &c->inst->pool;
    pthread_mutex_lock(&p->m);
    if (!c->cork_listed) {
        c->cork_listed = true;
        atomic_fetch_add(&c->refs, 1);
        c->cork_next = p->cork;
        p->cork      = c;
    }
    pthread_mutex_unlock(&p->m);
}

/* c's output queue is empty (wlock held): reset it and give its buffer
 * back (an idle connection holds no output buffer; a malloc per batch
 * costs far less than the system calls coalescing saves). */
static void frt__outq_drained(frt__conn* c)
{
    c->outq_off = c->outq_len = 0;
    c->corked                 = false;
    if (c->outq_cap > FRT__OUTQ_KEEP) {
        free(c->outq);
        c->outq     = NULL;
        c->outq_cap = 0;
    }
}

/* sendmsg *iov on c until all of it is sent or the socket is full (wlock
 * held); *iov / *cnt are advanced past what went out. @return the bytes
 * sent, -1 on a socket error (the socket is then shut down: the loop
 * closes the connection and fails its calls). */
static ssize_t frt__sendv_locked(frt__conn* c, struct iovec** iov, int* cnt)
{
    size_t sent = 0;
    while (*cnt > 0) {
        struct msghdr msg = {0};
        msg.msg_iov       = *iov;
        msg.msg_iovlen    = (size_t)*cnt;
        ssize_t n         = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        atomic_fetch_add_explicit(&c->inst->nsends, 1, memory_order_relaxed);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            shutdown(c->fd, SHUT_RDWR);
            return -1;
        }
        sent += (size_t)n;
        frt__iov_advance(iov, cnt, (size_t)n);
    }
    return (ssize_t)sent;
}

/* Append iov to c's output queue (wlock held). false: out of memory. */
static bool frt__outq_append(frt__conn* c, const struct iovec* iov, int cnt, size_t rest)
{
    if (c->outq_len + rest > c->outq_cap) {
        if (c->outq_off > 0) {
            memmove(c->outq, c->outq + c->outq_off, c->outq_len - c->outq_off);
            c->outq_len -= c->outq_off;
            c->outq_off = 0;
        }
        if (c->outq_len + rest > c->outq_cap) {
            /* doubling, from 1 KiB: held-back frames are usually small */
            size_t cap = c->outq_cap ? c->outq_cap * 2 : 1024;
            if (cap < c->outq_len + rest) cap = c->outq_len + rest;
            uint8_t* q = realloc(c->outq, cap);
            if (!q) return false;
            c->outq     = q;
            c->outq_cap = cap;
        }
    }
    for (int i = 0; i < cnt; i++) {
        memcpy(c->outq + c->outq_len, iov[i].iov_base, iov[i].iov_len);
        c->outq_len += iov[i].iov_len;
    }
    return true;
}

/**
 * Send a whole frame (iov) on c from any thread. Writes directly when the
 * queue is empty; what does not fit is queued and flushed by the loop;
 * inside a batch, frames may be held back (see above).
 * On a socket error the connection is shut down (the loop then closes it
 * and fails its calls). @return HG_SUCCESS, HG_HOSTUNREACH, HG_NOMEM.
 */
static hg_return_t frt__conn_send(frt__conn* c, struct iovec* iov, int cnt)
{
    hg_return_t  ret = HG_SUCCESS;
    struct iovec all[8];
    size_t       rest = 0;
    for (int i = 0; i < cnt; i++) rest += iov[i].iov_len;
    pthread_mutex_lock(&c->wlock);
    if (c->wclosed) {
        ret = HG_HOSTUNREACH;
        goto finish;
    }
    size_t held = c->outq_len - c->outq_off;
    if (frt__tls.cork_ok && atomic_load(&c->inst->pool.cork_seq) == frt__tls.cork_seq
        && !c->want_out && held + rest <= FRT__CORK_MAX) {
        if (!frt__outq_append(c, iov, cnt, rest)) {
            shutdown(c->fd, SHUT_RDWR);
            ret = HG_NOMEM;
            goto finish;
        }
        frt__conn_cork_locked(c);
        goto finish;
    }
    if (c->corked && !c->want_out && cnt < 8) {
        /* frames held back go out first, in the same system call */
        c->corked = false;
        all[0]    = (struct iovec){c->outq + c->outq_off, held};
        memcpy(all + 1, iov, (size_t)cnt * sizeof *iov);
        struct iovec* v    = all;
        int           vc   = cnt + 1;
        ssize_t       sent = frt__sendv_locked(c, &v, &vc);
        if (sent < 0) {
            ret = HG_HOSTUNREACH;
            goto finish;
        }
        if ((size_t)sent >= held) {
            frt__outq_drained(c);
            iov = v; /* what is left of the new frame */
            cnt = vc;
        } else {
            c->outq_off += (size_t)sent; /* the new frame is still whole */
        }
        if (cnt == 0) goto finish;
    } else if (c->outq_off == c->outq_len) {
        if (frt__sendv_locked(c, &iov, &cnt) < 0) {
            ret = HG_HOSTUNREACH;
            goto finish;
        }
        if (cnt == 0) goto finish;
    }
    /* queue the rest */
    rest = 0;
    for (int i = 0; i < cnt; i++) rest += iov[i].iov_len;
    if (c->outq_len - c->outq_off + rest > FRT__OUTQ_MAX) {
        /* the peer does not read: give up on it rather than grow forever */
        frt__log(&c->inst->log, MARGO_LOG_WARNING, "connection to %s: peer not reading, closing", c->peer);
        shutdown(c->fd, SHUT_RDWR);
        ret = HG_HOSTUNREACH;
        goto finish;
    }
    if (!frt__outq_append(c, iov, cnt, rest)) {
        shutdown(c->fd, SHUT_RDWR);
        ret = HG_NOMEM;
        goto finish;
    }
    if (!c->want_out) {
        c->want_out = true;
        frt__conn_ctl_locked(c);
    }
finish:
    pthread_mutex_unlock(&c->wlock);
    return ret;
}

/* Send the output queue until it is empty or the socket is full (wlock). */
static void frt__conn_flush_locked(frt__conn* c)
{
    while (!c->wclosed && c->outq_off < c->outq_len) {
        ssize_t n = send(c->fd, c->outq + c->outq_off, c->outq_len - c->outq_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        atomic_fetch_add_explicit(&c->inst->nsends, 1, memory_order_relaxed);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            shutdown(c->fd, SHUT_RDWR);
            break;
        }
        c->outq_off += (size_t)n;
    }
    if (c->outq_off == c->outq_len) frt__outq_drained(c);
}

/* Loop: flush the output queue on EPOLLOUT. */
static void frt__conn_flush(frt__conn* c)
{
    pthread_mutex_lock(&c->wlock);
    frt__conn_flush_locked(c);
    if (c->outq_off == c->outq_len && c->want_out) {
        c->want_out = false;
        frt__conn_ctl_locked(c); /* edge-triggered EPOLLOUT would fire on every read */
    }
    pthread_mutex_unlock(&c->wlock);
}

/* Send what was held back on c (see frt__conn_send). */
static void frt__conn_uncork(frt__conn* c)
{
    pthread_mutex_lock(&c->wlock);
    if (c->corked && !c->want_out && !c->wclosed) {
        frt__conn_flush_locked(c);
        if (c->outq_off < c->outq_len) { /* socket full: the loop sends the rest */
            c->corked   = false;
            c->want_out = true;
            frt__conn_ctl_locked(c);
        }
    }
    pthread_mutex_unlock(&c->wlock);
}

/* Send everything held back on mid's connections (pool.m not held). A
 * connection may be listed again while this runs: each pass detaches
 * the entries it handles under pool.m. */
static void frt__uncork_all(margo_instance_id mid)
{
    frt__pool* p = &mid->pool;
    for (;;) {
        frt__conn* got[32];
        int        n = 0;
        pthread_mutex_lock(&p->m);
        while (p->cork && n < 32) {
            frt__conn* c   = p->cork;
            p->cork        = c->cork_next;
            c->cork_listed = false;
            got[n++]       = c;
        }
        pthread_mutex_unlock(&p->m);
        for (int i = 0; i < n; i++) {
            frt__conn_uncork(got[i]);
            frt__conn_unref(got[i]);
        }
        if (n < 32) return;
    }
}

/* reliability: how the fault-injection seam (fault.c) reaches a connection */
static hg_return_t frt__fault_op_send(void* c, struct iovec* iov, int cnt)
{
    return frt__conn_send(c, iov, cnt);
}
static void frt__fault_op_ref(void* c) { atomic_fetch_add(&((frt__conn*)c)->refs, 1); }
static void frt__fault_op_unref(void* c) { frt__conn_unref(c); }
static const frt__fault_conn_ops frt__fault_ops = {frt__fault_op_send, frt__fault_op_ref,
                                                   frt__fault_op_unref};

/* Write a whole encoded frame: through the fault seam if enabled. */
static hg_return_t frt__send_iov(void* conn, uint8_t type, struct iovec* iov, int cnt)
{
    frt__conn* c = conn;
    /* reliability: fault injection (off unless frt_fault_set / FRT_FAULTS) */
    if (type != FRT__T_HELLO && frt__fault_enabled(c->inst->fault))
        return frt__fault_send(c->inst->fault, c, c->key[0] ? c->key : c->peer, iov, cnt);
    return frt__conn_send(c, iov, cnt);
}

static hg_return_t frt__send_frame(frt__conn* c, const frt__hdr* h, const void* name,
                                   const void* payload)
{
    /* reliability: with a group key every frame is tagged (auth.c) */
    if (frt__auth_active(c->inst->auth))
        return frt__auth_send(c->inst->auth, &c->auth, c->dialer, h, name, payload,
                              frt__send_iov, c);
    uint8_t      hb[FRT__HDR_LEN];
    struct iovec iov[3];
    int          cnt = 0;
    frt__hdr_encode(h, hb);
    iov[cnt++] = (struct iovec){hb, FRT__HDR_LEN};
    if (h->name_len) iov[cnt++] = (struct iovec){(void*)name, h->name_len};
    if (h->payload_len) iov[cnt++] = (struct iovec){(void*)payload, h->payload_len};
    return frt__send_iov(c, h->type, iov, cnt);
}

static hg_return_t frt__send_hello(margo_instance_id mid, frt__conn* c)
{
    frt__hdr h = {0};
    h.type     = FRT__T_HELLO;
    h.name_len = (uint16_t)strlen(mid->self);
    /* never held back: a keyed peer may wait for it before it answers */
    bool cork_ok     = frt__tls.cork_ok;
    frt__tls.cork_ok = false;
    hg_return_t ret  = frt__send_frame(c, &h, mid->self, NULL);
    frt__tls.cork_ok = cork_ok;
    return ret;
}

static void frt__send_error(frt__conn* c, uint64_t id, hg_return_t code)
{
    frt__hdr h = {0};
    h.type     = FRT__T_ERROR;
    h.id       = id;
    h.status   = (uint32_t)code;
    (void)frt__send_frame(c, &h, NULL, NULL);
}

/* Rate-limited warning about a peer's bad input (loop thread). */
static void frt__protocol_warning(margo_instance_id mid, frt__conn* c, const char* why)
{
    long now = (long)frt_now_ms();
    long win = atomic_load(&mid->warn_window);
    if (now - win > 1000 && atomic_compare_exchange_strong(&mid->warn_window, &win, now))
        atomic_store(&mid->warn_count, 0);
    if (atomic_fetch_add(&mid->warn_count, 1) < 10)
        frt__log(&mid->log, MARGO_LOG_WARNING, "closing connection from %s: %s",
                 c->peer[0] ? c->peer : "(no hello yet)", why);
}

/**
 * Close a connection: unlist it, fail its pending calls with HG_HOSTUNREACH,
 * drop the list's ref. Loop thread (or finalize once the loop is stopped).
 */
static void frt__conn_close(margo_instance_id mid, frt__conn* c)
{
    frt__call* failed = NULL;
    pthread_mutex_lock(&mid->lock);
    if (c->state == FRT__CS_CLOSED) {
        pthread_mutex_unlock(&mid->lock);
        return;
    }
    c->state    = FRT__CS_CLOSED;
    c->in_table = false;
    for (frt__conn** pp = &mid->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    for (size_t b = 0; b < FRT__NBUCKETS; b++) {
        for (frt__call** pp = &mid->calls[b]; *pp;) {
            frt__call* k = *pp;
            if (k->conn == c) {
                *pp = k->hnext;
                frt__heap_remove(mid, &k->node);
                atomic_fetch_sub(&c->ncalls, 1);
                k->hnext = failed;
                failed   = k;
            } else {
                pp = &k->hnext;
            }
        }
    }
    pthread_cond_broadcast(&mid->cv);
    pthread_mutex_unlock(&mid->lock);

    pthread_mutex_lock(&c->wlock);
    c->wclosed = true;
    pthread_mutex_unlock(&c->wlock);
    epoll_ctl(mid->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    shutdown(c->fd, SHUT_RDWR);
    while (failed) {
        frt__call* n = failed->hnext;
        frt__call_finish(mid, failed, HG_HOSTUNREACH, NULL, 0);
        failed = n;
    }
    frt__conn_unref(c);
}

/* Lookup of a handler; inst->lock held. */
static frt__entry* frt__entry_find(margo_instance_id mid, const char* name, uint16_t provider_id)
{
    if (strcmp(name, FRT__IDENTITY_RPC) == 0) return &mid->identity_entry;
    for (frt__entry* e = mid->entries; e; e = e->next)
        if (e->provider_id == provider_id && strcmp(e->name, name) == 0) return e;
    return NULL;
}

static void frt__request_free(struct frt_request* r)
{
    frt__conn_unref(r->conn);
    free(r->body);
    free(r);
}

/* Pool: run a handler, then release the invocation count. */
static void frt__handler_run(frt__work* w)
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
        if (e->orphaned)
            free(e);
        else
            pthread_cond_broadcast(&mid->cv);
    }
    pthread_mutex_unlock(&mid->lock);
}

/* Loop: a complete frame arrived on c (body owned by c->body). */
static bool frt__process_frame(margo_instance_id mid, frt__conn* c, frt__work** inl)
{
    frt__hdr* h    = &c->hdr;
    uint8_t*  body = c->body;
    c->body        = NULL;
    /* reliability: authenticated groups -- every frame checked first (auth.c) */
    if (frt__auth_active(mid->auth) || (h->flags & FRT__F_AUTH)) {
        const char* why = frt__auth_check(mid->auth, &c->auth, c->dialer, c->hdr_buf, h, body);
        if (why) {
            char who[FRT_MAX_ADDR_LEN + 16];
            if (c->peer[0] || h->type != FRT__T_HELLO || !body)
                snprintf(who, sizeof who, "%s", c->peer);
            else
                snprintf(who, sizeof who, "%.*s", (int)strnlen((const char*)body, h->name_len),
                         (const char*)body);
            frt__auth_reject(&mid->log, mid->auth, who, why);
            free(body);
            return false;
        }
    }
    if (!c->got_hello && h->type != FRT__T_HELLO) {
        free(body);
        frt__protocol_warning(mid, c, "first frame is not a hello");
        return false;
    }
    switch (h->type) {
    case FRT__T_HELLO: {
        char           addr[FRT_MAX_ADDR_LEN + 1];
        frt__addr_spec spec;
        if (c->got_hello) {
            free(body);
            frt__protocol_warning(mid, c, "second hello");
            return false;
        }
        memcpy(addr, body, h->name_len);
        addr[h->name_len] = 0;
        free(body);
        if (memchr(addr, 0, h->name_len) || frt__addr_parse(addr, &spec) != HG_SUCCESS
            || !frt__addr_is_peer(&spec)) {
            frt__protocol_warning(mid, c, "hello with a malformed address");
            return false;
        }
        c->got_hello = true;
        pthread_mutex_lock(&mid->lock);
        c->hello_seen = true;              /* reliability: a keyed dialer waits for it */
        pthread_cond_broadcast(&mid->cv);
        strcpy(c->peer, addr);
        if (!c->in_table) {
            char key[sizeof c->key];
            frt__addr_key(&spec, key, sizeof key);
            bool taken = false;
            for (frt__conn* k = mid->conns; k; k = k->next)
                if (k->in_table && strcmp(k->key, key) == 0) taken = true;
            if (!taken) {
                strcpy(c->key, key);
                c->in_table = true;
            }
        }
        pthread_mutex_unlock(&mid->lock);
        return true;
    }
    case FRT__T_REQUEST: {
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
                     name, h->provider_id, c->peer);
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
        r->work.fn     = frt__handler_run;
        r->inst        = mid;
        r->conn        = c;
        r->entry       = e;
        r->id          = h->id;
        r->provider_id = h->provider_id;
        r->body        = body;
        r->in          = h->payload_len ? body + h->name_len : NULL;
        r->in_len      = h->payload_len;
        strcpy(r->source, c->peer);
        if (inl && !*inl)
            *inl = &r->work; /* the leader runs it itself after handing off */
        else
            frt__pool_submit(mid, &r->work);
        return true;
    }
    case FRT__T_RESPONSE:
    case FRT__T_ERROR: {
        pthread_mutex_lock(&mid->lock);
        frt__call* k = frt__call_take(mid, h->id, c);
        pthread_mutex_unlock(&mid->lock);
        if (!k) {
            free(body);
            frt__log(&mid->log, MARGO_LOG_DEBUG, "late or unknown response %llu from %s",
                     (unsigned long long)h->id, c->peer);
            return true;
        }
        if (h->type == FRT__T_ERROR)
            frt__call_finish(mid, k, (hg_return_t)h->status, body, 0);
        else
            frt__call_finish(mid, k, HG_SUCCESS, body, h->payload_len);
        return true;
    }
    default: free(body); return false; /* unreachable: validated by decode */
    }
}

/* Loop: feed received bytes into c's frame parser. false: close c. */
static bool frt__conn_feed(margo_instance_id mid, frt__conn* c, const uint8_t* p, size_t n,
                          frt__work** inl)
{
    while (n > 0) {
        if (c->hdr_got < FRT__HDR_LEN) {
            size_t k = FRT__HDR_LEN - c->hdr_got;
            if (k > n) k = n;
            memcpy(c->hdr_buf + c->hdr_got, p, k);
            c->hdr_got += k;
            p += k;
            n -= k;
            if (c->hdr_got < FRT__HDR_LEN) return true;
            const char* why = frt__hdr_decode(c->hdr_buf, &c->hdr);
            if (why) {
                frt__protocol_warning(mid, c, why);
                return false;
            }
            c->body_len = (size_t)c->hdr.name_len + c->hdr.payload_len;
            if (c->hdr.flags & FRT__F_AUTH) /* reliability: auth trailer (auth.c) */
                c->body_len += frt__auth_trailer_len(c->hdr.type);
            c->body_got = 0;
            c->body     = c->body_len ? malloc(c->body_len) : NULL;
            if (c->body_len && !c->body) {
                frt__protocol_warning(mid, c, "out of memory for a frame");
                return false;
            }
        }
        size_t k = c->body_len - c->body_got;
        if (k > n) k = n;
        if (k) {
            memcpy(c->body + c->body_got, p, k);
            c->body_got += k;
            p += k;
            n -= k;
        }
        if (c->body_got == c->body_len) {
            c->hdr_got = 0;
            if (!frt__process_frame(mid, c, inl)) return false;
        }
    }
    return true;
}

/* Read what is available on c into buf and process it (reader token held).
 * With wait, the first recv blocks for at most FRT__CALLER_SLICE_MS (the
 * socket's SO_RCVTIMEO; sockets are blocking, every other I/O on them is
 * MSG_DONTWAIT): one system call where poll + recv would take two.
 * A short read means the socket was drained: edge-triggered epoll reports
 * data that comes later. Not so for a hang-up that came with the data
 * (it is a state, not data): with hup, read on until EOF. 
 * @return 1 more may come, 0 nothing more now (or the slice passed), -1 the
 * connection is dead (EOF, error or protocol violation: the caller closes
 * or shuts it down). */
static int frt__conn_read_some(margo_instance_id mid, frt__conn* c, uint8_t* buf, size_t size,
                               frt__work** inl, bool wait, bool hup)
{
    for (int round = 0; round < 16; round++) {
        ssize_t n = recv(c->fd, buf, size, wait && round == 0 ? 0 : MSG_DONTWAIT);
        if (n > 0) {
            if (!frt__conn_feed(mid, c, buf, (size_t)n, inl)) return -1;
            if ((size_t)n < size && !hup) return 0;
            continue;
        }
        if (n == 0) {
            if (c->hdr_got || c->body)
                frt__protocol_warning(mid, c, "peer closed in the middle of a frame");
            frt__log(&mid->log, MARGO_LOG_DEBUG, "connection to %s closed by peer", c->peer);
            return -1;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        frt__log(&mid->log, MARGO_LOG_DEBUG, "connection to %s: %s", c->peer, strerror(errno));
        return -1;
    }
    return 1;
}

#define FRT__CALLER_READ_MS   20.0 /* a caller reads its own response for this long at most */
#define FRT__CALLER_SLICE_MS  5    /* ... in blocking reads this long (to notice other completions) */
#define FRT__CALLER_BUF       16384

/* A connected socket: blocking (only a caller waiting for its response
 * blocks in recv, for a slice at most; everything else passes
 * MSG_DONTWAIT), no Nagle on TCP. false: the socket cannot be set up. */
static bool frt__set_sockopts(int fd, bool tcp)
{
    if (tcp) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) return false;
    struct timeval tv = {0, FRT__CALLER_SLICE_MS * 1000};
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

/* Loop: accept every pending connection. */
static void frt__accept_all(margo_instance_id mid)
{
    for (;;) {
        int fd = accept4(mid->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if ((errno == EMFILE || errno == ENFILE) && mid->spare_fd >= 0) {
                /* out of fds: accept and drop the connection (instead of
                 * spinning on a listen socket that stays readable) */
                frt__log(&mid->log, MARGO_LOG_ERROR, "accept: %s; dropping a connection", strerror(errno));
                close(mid->spare_fd);
                int drop = accept4(mid->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (drop >= 0) close(drop);
                mid->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                frt__log(&mid->log, MARGO_LOG_ERROR, "accept: %s", strerror(errno));
            return;
        }
        frt__conn* c = frt__set_sockopts(fd, mid->spec.kind == FRT__AK_TCP) ? frt__conn_new(mid, fd)
                                                                              : NULL;
        if (!c) {
            close(fd);
            continue;
        }
        c->state = FRT__CS_OPEN;
        pthread_mutex_lock(&mid->lock);
        c->next    = mid->conns;
        mid->conns = c;
        pthread_mutex_unlock(&mid->lock);
        c->in_armed           = true;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 || frt__send_hello(mid, c) != HG_SUCCESS)
            frt__conn_close(mid, c);
    }
}

/* Loop: expire due heap nodes. */
static void frt__expire(margo_instance_id mid)
{
    frt__call* expired = NULL;
    double     now     = frt_now_ms();
    pthread_mutex_lock(&mid->lock);
    while (mid->heap_len > 0 && mid->heap[0]->deadline <= now) {
        frt__hnode* n = mid->heap[0];
        frt__heap_remove(mid, n);
        if (n->kind == FRT__HK_CALL) {
            frt__call* k = FRT__CONTAINER(n, frt__call, node);
            frt__call* t = frt__call_take(mid, k->id, k->conn);
            if (t) {
                t->hnext = expired;
                expired  = t;
            }
            continue;
        }
        struct margo_timer* t = FRT__CONTAINER(n, struct margo_timer, node);
        if (t->period > 0) {
            double next = n->deadline + t->period;
            if (next <= now) next = now + t->period;
            (void)frt__heap_push(mid, n, next);
        }
        if (t->running) {
            if (t->period <= 0) t->refire = true;
            continue;
        }
        frt__timer_run* run = calloc(1, sizeof *run);
        if (!run) {
            frt__log(&mid->log, MARGO_LOG_ERROR, "out of memory running a timer");
            continue;
        }
        run->work.fn = frt__timer_work;
        run->t       = t;
        run->gen     = t->gen;
        t->running   = true;
        frt__pool_submit(mid, &run->work);
    }
    pthread_mutex_unlock(&mid->lock);
    while (expired) {
        frt__call* n = expired->hnext;
        frt__call_finish(mid, expired, HG_TIMEOUT, NULL, 0);
        expired = n;
    }
}

/*
 * The progress loop, run by the current leader (one pool thread at a time,
 * see frt__worker_main). Returns when the loop stops (NULL) or after a
 * batch that produced a request: the leader then hands leadership to
 * another thread and runs that handler itself, so a request costs no
 * thread hop before its handler starts.
 */
static frt__work* frt__lead(margo_instance_id mid)
{
    struct epoll_event evs[64];
    frt__work*         inl = NULL;
    while (!atomic_load(&mid->loop_stop)) {
        int timeout = -1;
        pthread_mutex_lock(&mid->lock);
        mid->loop_wake_at = HUGE_VAL;
        if (mid->heap_len > 0) {
            double now = frt_now_ms();
            double d   = mid->heap[0]->deadline - now;
            if (d <= 0)
                timeout = 0;
            else if (d > 3600e3)
                timeout = 3600000;
            else
                timeout = (int)d + 1;
            mid->loop_wake_at = now + timeout;
        }
        pthread_mutex_unlock(&mid->lock);
        int n = epoll_wait(mid->epfd, evs, 64, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            frt__log(&mid->log, MARGO_LOG_CRITICAL, "epoll_wait: %s", strerror(errno));
            break;
        }
        frt__tls.lazy  = mid;
        frt__tls.nlazy = 0;
        for (int i = 0; i < n; i++) {
            void* tag = evs[i].data.ptr;
            if (tag == &frt__tag_listen) {
                frt__accept_all(mid);
            } else if (tag == &frt__tag_debt) {
                frt__pay_debts(mid);
            } else if (tag == &frt__tag_event) {
                uint64_t v;
                while (read(mid->evfd, &v, sizeof v) < 0 && errno == EINTR) {}
            } else {
                frt__conn* c = tag;
                if (evs[i].events & EPOLLOUT) frt__conn_flush(c);
                uint32_t hup = evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
                if ((evs[i].events & EPOLLIN || hup) && frt__reader_acquire(c, false)) {
                    int r = frt__conn_read_some(mid, c, mid->rbuf, FRT__READ_CHUNK, &inl, false,
                                                hup != 0);
                    if (r < 0) {
                        frt__conn_close(mid, c); /* c may be gone now */
                        continue;
                    }
                    frt__reader_release(c, false, r > 0);
                }
            }
        }
        frt__expire(mid);
        frt__tls.lazy = NULL;
        if (inl) return inl;
        if (frt__tls.nlazy > 0) return &frt__lazy_marker;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Outgoing connections                                                */
/* ------------------------------------------------------------------ */

/* Resolve a tcp host to an IPv4 address (blocking). */
static bool frt__resolve_ipv4(const char* host, struct in_addr* out)
{
    if (inet_pton(AF_INET, host, out) == 1) return true;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family       = AF_INET;
    hints.ai_socktype     = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return false;
    *out = ((struct sockaddr_in*)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return true;
}

/* The socket address of a tcp spec: an IPv6 literal, or an IPv4 address
 * or host name (resolved to IPv4). An empty host is the wildcard. */
static bool frt__tcp_sockaddr(const frt__addr_spec* spec, int port, struct sockaddr_storage* ss,
                              socklen_t* sl)
{
    memset(ss, 0, sizeof *ss);
    if (spec->v6) {
        struct sockaddr_in6* s6 = (struct sockaddr_in6*)ss;
        s6->sin6_family         = AF_INET6;
        s6->sin6_port           = htons((uint16_t)port);
        *sl                     = sizeof *s6;
        return inet_pton(AF_INET6, spec->host, &s6->sin6_addr) == 1;
    }
    struct sockaddr_in* sin = (struct sockaddr_in*)ss;
    sin->sin_family         = AF_INET;
    sin->sin_port           = htons((uint16_t)port);
    sin->sin_addr.s_addr    = htonl(INADDR_ANY);
    *sl                     = sizeof *sin;
    return !spec->host[0] || frt__resolve_ipv4(spec->host, &sin->sin_addr);
}

static socklen_t frt__sm_sockaddr(unsigned long pid, unsigned long n, struct sockaddr_un* sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int len = snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1, "frt-na+sm-%lu-%lu", pid, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

/* Connect a socket for spec within timeout_ms. Returns the fd or -1. */
static int frt__dial(margo_instance_id mid, const frt__addr_spec* spec, double timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t               sl;
    int                     fd     = -1;
    double                  end    = frt_now_ms() + timeout_ms;
    if (spec->kind == FRT__AK_SM) {
        sl = frt__sm_sockaddr(spec->pid, spec->n, (struct sockaddr_un*)&ss);
    } else if (!frt__tcp_sockaddr(spec, spec->port, &ss, &sl)) {
        frt__log(&mid->log, MARGO_LOG_DEBUG, "cannot resolve host %s", spec->host);
        return -1;
    }
    for (;;) {
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (connect(fd, (struct sockaddr*)&ss, sl) == 0) break;
        if (errno == EAGAIN && spec->kind == FRT__AK_SM && frt_now_ms() < end) {
            /* unix backlog full: retry shortly */
            close(fd);
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (errno != EINPROGRESS && errno != EINTR) {
            close(fd);
            return -1;
        }
        for (;;) {
            double left = end - frt_now_ms();
            if (left <= 0) {
                close(fd);
                return -1;
            }
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int           r   = poll(&pfd, 1, (int)left + 1);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                close(fd);
                return -1;
            }
            int       err = 0;
            socklen_t el  = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
                close(fd);
                return -1;
            }
            break;
        }
        break;
    }
    if (!frt__set_sockopts(fd, spec->kind == FRT__AK_TCP)) {
        close(fd);
        return -1;
    }
    return fd;
}

/**
 * Get an open connection to addr (a new ref for the caller), connecting if
 * needed. Concurrent callers for the same key wait for one connect.
 * @return HG_SUCCESS, HG_HOSTUNREACH, HG_NOMEM, HG_CANCELED.
 */
static hg_return_t frt__get_conn(margo_instance_id mid, hg_addr_t addr, double timeout_ms,
                                 frt__conn** out)
{
    frt__conn* c = NULL;
    pthread_mutex_lock(&mid->lock);
    for (;;) {
        if (mid->stopping) {
            pthread_mutex_unlock(&mid->lock);
            return HG_CANCELED;
        }
        frt__conn* found = NULL;
        for (frt__conn* k = mid->conns; k; k = k->next)
            if (k->in_table && strcmp(k->key, addr->key) == 0) {
                found = k;
                break;
            }
        if (!found) break;
        if (found->state == FRT__CS_OPEN) {
            atomic_fetch_add(&found->refs, 1);
            pthread_mutex_unlock(&mid->lock);
            *out = found;
            return HG_SUCCESS;
        }
        pthread_cond_wait(&mid->cv, &mid->lock); /* CONNECTING: wait */
    }
    c = frt__conn_new(mid, -1);
    if (!c) {
        pthread_mutex_unlock(&mid->lock);
        return HG_NOMEM;
    }
    atomic_fetch_add(&c->refs, 1); /* caller's ref */
    c->dialer = true; /* reliability: auth role */
    strcpy(c->key, addr->key);
    strcpy(c->peer, addr->str);
    c->in_table = true;
    c->next     = mid->conns;
    mid->conns  = c;
    pthread_mutex_unlock(&mid->lock);

    int  fd = frt__dial(mid, &addr->spec, timeout_ms > 0 ? timeout_ms : FRT__CONNECT_DEFAULT_MS);
    bool ok = false;
    if (fd >= 0) {
        c->fd                 = fd;
        c->in_armed           = true;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        /* a failed hello shuts the socket down: the loop then closes it.
         * Sent before the socket is watched, so our hello always precedes any
         * reaction to the peer's (reliability: auth rejections name us). */
        (void)frt__send_hello(mid, c);
        ok = epoll_ctl(mid->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
    }
    pthread_mutex_lock(&mid->lock);
    /* reliability: with a group key, wait for the peer's (authenticated)
     * hello so that the session keys exist before the first request; a peer
     * that rejects us closes the connection (the loop marks it CLOSED). */
    if (ok && frt__auth_active(mid->auth)) {
        double end = frt_now_ms() + (timeout_ms > 0 ? timeout_ms : FRT__CONNECT_DEFAULT_MS);
        bool   cut = false;
        while (!c->hello_seen && c->state == FRT__CS_CONNECTING) {
            double left = end - frt_now_ms();
            if (left <= 0 && !cut) {
                shutdown(c->fd, SHUT_RDWR); /* the loop then closes it */
                cut = true;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long ns = (long long)ts.tv_nsec + (long long)((left > 0 ? left : 50) * 1e6);
            ts.tv_sec += (time_t)(ns / 1000000000LL);
            ts.tv_nsec = (long)(ns % 1000000000LL);
            pthread_cond_timedwait(&mid->cv, &mid->lock, &ts);
        }
    }
    if (ok && c->state == FRT__CS_CONNECTING) {
        c->state = FRT__CS_OPEN;
        pthread_cond_broadcast(&mid->cv);
        pthread_mutex_unlock(&mid->lock);
        *out = c;
        return HG_SUCCESS;
    }
    if (c->state == FRT__CS_CONNECTING) {
        /* failed before the loop could see it: unlist it ourselves */
        c->state    = FRT__CS_CLOSED;
        c->in_table = false;
        for (frt__conn** pp = &mid->conns; *pp; pp = &(*pp)->next)
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        pthread_cond_broadcast(&mid->cv);
        pthread_mutex_unlock(&mid->lock);
        frt__conn_unref(c); /* list ref */
    } else {
        pthread_mutex_unlock(&mid->lock); /* the loop closed it already */
    }
    frt__conn_unref(c); /* caller ref */
    frt__log(&mid->log, MARGO_LOG_DEBUG, "cannot connect to %s", addr->str);
    return HG_HOSTUNREACH;
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

/**
 * Start call k. On HG_SUCCESS exactly one frt__call_finish will follow; on
 * error k was not registered and nothing else happens.
 */
static hg_return_t frt__call_start(margo_instance_id mid, hg_addr_t addr, const char* name,
                                   uint16_t provider_id, const void* in, size_t in_len,
                                   double timeout_ms, frt__call* k, frt__conn** keep)
{
    hg_return_t ret  = HG_SUCCESS;
    frt__conn*  conn = NULL;
    if (!mid || !addr || !name || (in_len && !in)) return HG_INVALID_ARG;
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > FRT_MAX_RPC_NAME_LEN) return HG_INVALID_ARG;
    if (in_len > FRT_MAX_PAYLOAD) return HG_MSGSIZE;

    if (strcmp(addr->key, mid->self_key) == 0) {
        /* in-process path: the handler runs on the pool, no socket */
        struct frt_request* r = calloc(1, sizeof *r);
        void*               b = in_len ? malloc(in_len) : NULL;
        if (!r || (in_len && !b)) {
            free(r);
            free(b);
            return HG_NOMEM;
        }
        if (in_len) memcpy(b, in, in_len);
        pthread_mutex_lock(&mid->lock);
        frt__entry* e = mid->stopping ? NULL : frt__entry_find(mid, name, provider_id);
        ret           = mid->stopping ? HG_CANCELED : e ? frt__call_arm(mid, k, timeout_ms) : HG_NOENTRY;
        if (ret == HG_SUCCESS) e->active++;
        pthread_mutex_unlock(&mid->lock);
        if (ret != HG_SUCCESS) {
            free(r);
            free(b);
            return ret;
        }
        r->work.fn     = frt__handler_run;
        r->inst        = mid;
        r->entry       = e;
        r->id          = k->id;
        r->provider_id = provider_id;
        r->body        = b;
        r->in          = b;
        r->in_len      = in_len;
        strcpy(r->source, mid->self);
        /* a handler of this instance calling itself synchronously waits
         * for this request: it runs first (depth first), so a storm of
         * nested self-calls keeps few handlers -- and threads -- blocked */
        frt__pool_enqueue(mid, &r->work,
                          keep && frt__tls.pool_inst == mid && frt__tls.worker &&
                              frt__tls.worker->busy);
        return HG_SUCCESS;
    }

    ret = frt__get_conn(mid, addr, timeout_ms, &conn);
    if (ret != HG_SUCCESS) return ret;
    pthread_mutex_lock(&mid->lock);
    k->conn = conn;
    ret     = conn->state == FRT__CS_CLOSED ? HG_HOSTUNREACH : frt__call_arm(mid, k, timeout_ms);
    if (ret == HG_SUCCESS) atomic_fetch_add(&conn->ncalls, 1);
    pthread_mutex_unlock(&mid->lock);
    if (ret == HG_SUCCESS) {
        frt__hdr h    = {0};
        h.type        = FRT__T_REQUEST;
        h.id          = k->id;
        h.provider_id = provider_id;
        h.name_len    = (uint16_t)nlen;
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

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

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
    } else {
        e->next      = mid->entries;
        mid->entries = e;
        e            = NULL;
    }
    pthread_mutex_unlock(&mid->lock);
    free(e);
    return ret;
}

hg_return_t frt_rpc_deregister(margo_instance_id mid, const char* name, uint16_t provider_id)
{
    if (!mid || !name) return HG_INVALID_ARG;
    frt__entry* e = NULL;
    pthread_mutex_lock(&mid->lock);
    for (frt__entry** pp = &mid->entries; *pp; pp = &(*pp)->next)
        if ((*pp)->provider_id == provider_id && strcmp((*pp)->name, name) == 0) {
            e   = *pp;
            *pp = e->next;
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
    if (e->active == 0)
        free(e);
    else
        e->orphaned = true; /* freed by frt__handler_run when its handler returns */
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

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

/* The IPv4 address to report for a wildcard bind. */
static void frt__routable_ipv4(char* out, size_t size)
{
    const char* env = getenv("FRT_TCP_HOST");
    if (env && *env && strlen(env) < size) {
        snprintf(out, size, "%s", env);
        return;
    }
    snprintf(out, size, "127.0.0.1");
    struct ifaddrs* ifs = NULL;
    if (getifaddrs(&ifs) != 0) return;
    for (struct ifaddrs* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
        inet_ntop(AF_INET, &((struct sockaddr_in*)i->ifa_addr)->sin_addr, out, (socklen_t)size);
        break;
    }
    freeifaddrs(ifs);
}

/* The IPv6 address to report for a [::] bind: FRT_TCP_HOST6 if set, else
 * the first up, non-loopback interface's global address (link-local ones
 * need a zone id, which addresses do not carry), else ::1. */
static void frt__routable_ipv6(char* out, size_t size)
{
    const char*     env = getenv("FRT_TCP_HOST6");
    struct in6_addr a;
    if (env && inet_pton(AF_INET6, env, &a) == 1 && inet_ntop(AF_INET6, &a, out, (socklen_t)size))
        return;
    snprintf(out, size, "::1");
    struct ifaddrs* ifs = NULL;
    if (getifaddrs(&ifs) != 0) return;
    for (struct ifaddrs* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6) continue;
        if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
        const struct in6_addr* x = &((struct sockaddr_in6*)i->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(x) || IN6_IS_ADDR_LOOPBACK(x)) continue;
        inet_ntop(AF_INET6, x, out, (socklen_t)size);
        break;
    }
    freeifaddrs(ifs);
}

/* Create, bind (and listen, in server mode) the instance's socket and
 * compute its self address. */
static bool frt__open_endpoint(margo_instance_id mid, unsigned long n)
{
    int fd = -1;
    if (mid->spec.kind == FRT__AK_SM) {
        struct sockaddr_un sa;
        unsigned long      pid = (unsigned long)getpid();
        socklen_t          sl  = frt__sm_sockaddr(pid, n, &sa);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr*)&sa, sl) != 0) {
            frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot bind na+sm socket: %s", strerror(errno));
            goto fail;
        }
        snprintf(mid->self, sizeof mid->self, "na+sm://%lu-%lu", pid, n);
    } else {
        struct sockaddr_storage ss;
        socklen_t               sl;
        char                    ip[INET6_ADDRSTRLEN];
        if (!frt__tcp_sockaddr(&mid->spec, mid->spec.port > 0 ? mid->spec.port : 0, &ss, &sl)) {
            frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot resolve host %s", mid->spec.host);
            goto fail;
        }
        fd      = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* [::] means IPv6 only: IPv4 peers use an IPv4 address */
        if (fd >= 0 && mid->spec.v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr*)&ss, sl) != 0
            || getsockname(fd, (struct sockaddr*)&ss, &sl) != 0) {
            frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot bind tcp socket: %s", strerror(errno));
            goto fail;
        }
        unsigned port;
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6* s6 = (struct sockaddr_in6*)&ss;
            if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
                frt__routable_ipv6(ip, sizeof ip);
            else
                inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
            port = ntohs(s6->sin6_port);
            snprintf(mid->self, sizeof mid->self, "%s://[%s]:%u", mid->spec.scheme, ip, port);
        } else {
            struct sockaddr_in* sa = (struct sockaddr_in*)&ss;
            if (sa->sin_addr.s_addr == htonl(INADDR_ANY))
                frt__routable_ipv4(ip, sizeof ip);
            else
                inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
            port = ntohs(sa->sin_port);
            snprintf(mid->self, sizeof mid->self, "%s://%s:%u", mid->spec.scheme, ip, port);
        }
    }
    if (mid->server && listen(fd, SOMAXCONN) != 0) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: listen: %s", strerror(errno));
        goto fail;
    }
    mid->listen_fd = fd;
    return true;
fail:
    if (fd >= 0) close(fd);
    return false;
}

static void frt__inst_unref(margo_instance_id mid)
{
    if (atomic_fetch_sub(&mid->memrefs, 1) != 1) return;
    pthread_mutex_destroy(&mid->lock);
    pthread_cond_destroy(&mid->cv);
    pthread_mutex_destroy(&mid->debt_lock);
    pthread_mutex_destroy(&mid->pool.m);
    pthread_cond_destroy(&mid->pool.cv);
    pthread_cond_destroy(&mid->pool.mon_cv);
    free(mid);
}

/* Release the OS resources and memory owned by mid (threads are gone). */
static void frt__inst_teardown(margo_instance_id mid)
{
    frt__fault_free(mid->fault); /* reliability: drops frames still held back */
    mid->fault = NULL;
    frt__auth_free(mid->auth); /* reliability */
    mid->auth = NULL;
    while (mid->conns) {
        frt__conn* c = mid->conns;
        mid->conns   = c->next;
        pthread_mutex_lock(&c->wlock);
        c->wclosed = true;
        pthread_mutex_unlock(&c->wlock);
        c->state = FRT__CS_CLOSED;
        shutdown(c->fd, SHUT_RDWR);
        frt__conn_unref(c);
    }
    while (mid->pool.cork) { /* held-back frames of a batch cut short by finalize */
        frt__conn* c    = mid->pool.cork;
        mid->pool.cork  = c->cork_next;
        c->cork_listed  = false;
        frt__conn_unref(c);
    }
    /* every connection is wclosed now: nothing joins the debt list again */
    frt__conn* debt = frt__debt_take(mid);
    while (debt) {
        frt__conn* c = debt;
        debt         = c->debt_next;
        frt__conn_unref(c);
    }
    if (mid->debt_fd >= 0) close(mid->debt_fd);
    mid->debt_fd = -1;
    if (mid->listen_fd >= 0) close(mid->listen_fd);
    if (mid->epfd >= 0) close(mid->epfd);
    if (mid->evfd >= 0) close(mid->evfd);
    if (mid->spare_fd >= 0) close(mid->spare_fd);
    if (mid->pool.standby_fd >= 0) close(mid->pool.standby_fd);
    mid->listen_fd = mid->epfd = mid->evfd = mid->spare_fd = mid->pool.standby_fd = -1;
    while (mid->entries) {
        frt__entry* e = mid->entries;
        mid->entries  = e->next;
        free(e);
    }
    while (mid->idents) {
        frt__ident* k = mid->idents;
        mid->idents   = k->next;
        free(k->identity);
        free(k);
    }
    for (frt__fcb** list = &mid->prefin; list; list = list == &mid->prefin ? &mid->fin : NULL)
        while (*list) {
            frt__fcb* f = *list;
            *list       = f->next;
            free(f);
        }
    for (struct margo_timer* t = mid->timers; t; t = t->next) {
        t->inst     = NULL; /* later cancel/destroy calls only free it */
        t->node.idx = FRT__NO_IDX;
    }
    mid->timers = NULL;
    free(mid->heap);
    mid->heap = NULL;
    free(mid->rbuf);
    mid->rbuf = NULL;
}

margo_instance_id margo_init(const char* addr_str, int mode, int use_progress_thread,
                             int rpc_thread_count)
{
    margo_instance_id mid = NULL;
    (void)use_progress_thread;
    if (mode != MARGO_CLIENT_MODE && mode != MARGO_SERVER_MODE) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: bad mode %d", mode);
        return NULL;
    }
    mid = calloc(1, sizeof *mid);
    if (!mid) return NULL;
    pthread_mutex_init(&mid->lock, NULL);
    pthread_cond_init(&mid->cv, NULL);
    pthread_mutex_init(&mid->debt_lock, NULL);
    pthread_mutex_init(&mid->pool.m, NULL);
    pthread_cond_init(&mid->pool.cv, NULL);
    pthread_cond_init(&mid->pool.mon_cv, NULL);
    atomic_init(&mid->memrefs, 1);
    atomic_init(&mid->log.level, (int)frt__global_log_level());
    mid->log.name = mid->self;
    atomic_init(&mid->loop_stop, false);
    mid->loop_wake_at = HUGE_VAL;
    mid->listen_fd = mid->epfd = mid->evfd = mid->pool.standby_fd = -1;
    mid->spare_fd                           = open("/dev/null", O_RDONLY | O_CLOEXEC);
    mid->pool.standby_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    mid->debt_fd         = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    mid->margo_refs                         = 1;
    mid->server                             = mode == MARGO_SERVER_MODE;
    /* the leader, the standby and one worker */
    mid->pool.min                           = rpc_thread_count > 2 ? rpc_thread_count : 3;
    mid->pool.max = FRT__POOL_MAX > mid->pool.min ? FRT__POOL_MAX : mid->pool.min;
    {
        long ncpu       = sysconf(_SC_NPROCESSORS_ONLN);
        mid->pool.target = ncpu < 2 ? 2 : ncpu > 256 ? 256 : (int)ncpu;
    }
    strcpy(mid->identity_entry.name, FRT__IDENTITY_RPC);
    mid->identity_entry.fn      = frt__identity_handler;
    mid->identity_entry.builtin = true;

    hg_return_t pr = frt__addr_parse(addr_str, &mid->spec);
    if (pr != HG_SUCCESS || (mid->spec.kind == FRT__AK_SM && mid->spec.has_id)) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot listen on \"%s\": %s",
                 addr_str ? addr_str : "(null)",
                 pr == HG_PROTONOSUPPORT ? "protocol not supported" : "malformed address");
        goto fail;
    }
    unsigned long n = atomic_fetch_add(&frt__instance_counter, 1);
    if (!frt__open_endpoint(mid, n)) goto fail;
    {
        frt__addr_spec self_spec;
        if (frt__addr_parse(mid->self, &self_spec) != HG_SUCCESS) goto fail;
        frt__addr_key(&self_spec, mid->self_key, sizeof mid->self_key);
    }
    mid->fault = frt__fault_new(&mid->log, &frt__fault_ops); /* reliability; NULL: no seam */
    mid->auth  = frt__auth_new();                      /* reliability: group key */
    if (!mid->auth) goto fail;
    {
        const char* kf = getenv("FRT_AUTH_KEY_FILE");
        if (kf && *kf && frt_auth_set_key_file(mid, kf) != HG_SUCCESS) goto fail;
    }
    mid->rbuf = malloc(FRT__READ_CHUNK);
    mid->epfd = epoll_create1(EPOLL_CLOEXEC);
    mid->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!mid->rbuf || mid->epfd < 0 || mid->evfd < 0 || mid->pool.standby_fd < 0
        || mid->debt_fd < 0)
        goto fail;
    {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &frt__tag_event};
        if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->evfd, &ev) != 0) goto fail;
        struct epoll_event dev = {.events = EPOLLIN, .data.ptr = &frt__tag_debt};
        if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->debt_fd, &dev) != 0) goto fail;
        if (mid->server) {
            struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &frt__tag_listen};
            if (epoll_ctl(mid->epfd, EPOLL_CTL_ADD, mid->listen_fd, &lev) != 0) goto fail;
        }
    }
    /* the first pool threads become the loop's leader and standby */
    pthread_mutex_lock(&mid->pool.m);
    bool started = frt__pool_spawn(mid);
    if (started) (void)frt__pool_spawn(mid);
    pthread_mutex_unlock(&mid->pool.m);
    if (!started) goto fail;
    frt__log(&mid->log, MARGO_LOG_INFO, "instance started (%s mode)", mid->server ? "server" : "client");
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

void margo_finalize(margo_instance_id mid)
{
    frt__call* canceled = NULL;
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
    pthread_mutex_lock(&mid->lock);
    mid->stopping = true;
    for (size_t b = 0; b < FRT__NBUCKETS; b++)
        while (mid->calls[b]) {
            frt__call* k  = mid->calls[b];
            mid->calls[b] = k->hnext;
            frt__heap_remove(mid, &k->node);
            if (k->conn) atomic_fetch_sub(&k->conn->ncalls, 1);
            k->hnext = canceled;
            canceled = k;
        }
    while (mid->heap_len > 0) frt__heap_remove(mid, mid->heap[0]); /* timers */
    pthread_cond_broadcast(&mid->cv);
    pthread_mutex_unlock(&mid->lock);
    while (canceled) {
        frt__call* n = canceled->hnext;
        frt__call_finish(mid, canceled, HG_CANCELED, NULL, 0);
        canceled = n;
    }

    /* 3. stop the loop, then drain and join the handler pool */
    pthread_mutex_lock(&mid->pool.m);
    atomic_store(&mid->loop_stop, true);
    frt__wake_loop(mid);
    mid->pool.tick_armed = true;
    frt__standby_arm(&mid->pool, 1); /* wake the standby: it sees loop_stop */
    while (mid->pool.leader || mid->pool.standby)
        pthread_cond_wait(&mid->pool.cv, &mid->pool.m);
    frt__pool_unlazy(mid); /* the batch of an inline thread that finalized (a quit handler) */
    pthread_mutex_unlock(&mid->pool.m);
    frt__pool_stop_join(mid);

    frt__uncork_all(mid); /* held back by a batch that ran while finalize waited */

    /* 4. free everything; wake margo_wait_for_finalize */
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

bool margo_is_listening(margo_instance_id mid) { return mid && mid->server; }

int margo_set_log_level(margo_instance_id mid, margo_log_level level)
{
    if ((int)level < MARGO_LOG_EXTERNAL || (int)level > MARGO_LOG_CRITICAL) return -1;
    if (!mid) return margo_set_global_log_level(level);
    atomic_store(&mid->log.level, (int)level);
    return 0;
}

hg_return_t margo_get_handler_pool(margo_instance_id mid, ABT_pool* pool)
{
    if (!mid || !pool) return HG_INVALID_ARG;
    *pool = (ABT_pool)(void*)&mid->pool;
    return HG_SUCCESS;
}

void margo_thread_sleep(margo_instance_id mid, double timeout_ms)
{
    (void)mid;
    if (!(timeout_ms > 0)) return;
    frt__about_to_block();
    frt_wait_begin();
    struct timespec ts;
    ts.tv_sec  = (time_t)(timeout_ms / 1000.0);
    ts.tv_nsec = (long)((timeout_ms - (double)ts.tv_sec * 1000.0) * 1e6);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    frt_wait_end();
}

const char* frt_self_addr_str(margo_instance_id mid) { return mid ? mid->self : NULL; }

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

static hg_addr_t frt__addr_new(const char* s, const frt__addr_spec* spec)
{
    hg_addr_t a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->spec = *spec;
    snprintf(a->str, sizeof a->str, "%s", s);
    frt__addr_key(spec, a->key, sizeof a->key);
    return a;
}

hg_return_t margo_addr_self(margo_instance_id mid, hg_addr_t* addr)
{
    if (!mid || !addr) return HG_INVALID_ARG;
    frt__addr_spec spec;
    if (frt__addr_parse(mid->self, &spec) != HG_SUCCESS) return HG_OTHER_ERROR;
    *addr = frt__addr_new(mid->self, &spec);
    return *addr ? HG_SUCCESS : HG_NOMEM;
}

hg_return_t margo_addr_lookup(margo_instance_id mid, const char* name, hg_addr_t* addr)
{
    if (!mid || !name || !addr) return HG_INVALID_ARG;
    frt__addr_spec spec;
    hg_return_t    ret = frt__addr_parse(name, &spec);
    if (ret != HG_SUCCESS) return ret;
    if (!frt__addr_is_peer(&spec)) return HG_INVALID_ARG;
    *addr = frt__addr_new(name, &spec);
    return *addr ? HG_SUCCESS : HG_NOMEM;
}

hg_return_t margo_addr_dup(margo_instance_id mid, hg_addr_t addr, hg_addr_t* new_addr)
{
    if (!addr || !new_addr) return HG_INVALID_ARG;
    *new_addr = calloc(1, sizeof **new_addr);
    if (!*new_addr) return HG_NOMEM;
    **new_addr = *addr;
    return HG_SUCCESS;
}

hg_return_t margo_addr_free(margo_instance_id mid, hg_addr_t addr)
{
    free(addr);
    return HG_SUCCESS;
}

bool margo_addr_cmp(margo_instance_id mid, hg_addr_t a, hg_addr_t b)
{
    if (!a || !b) return a == b;
    return strcmp(a->key, b->key) == 0;
}

hg_return_t margo_addr_to_string(margo_instance_id mid, char* buf, hg_size_t* buf_size,
                                 hg_addr_t addr)
{
    if (!buf_size || !addr) return HG_INVALID_ARG;
    hg_size_t need = strlen(addr->str) + 1;
    if (!buf || *buf_size < need) {
        *buf_size = need;
        return HG_OVERFLOW;
    }
    memcpy(buf, addr->str, need);
    *buf_size = need;
    return HG_SUCCESS;
}

const char* frt_addr_str(hg_addr_t addr) { return addr ? addr->str : NULL; }

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

/* ------------------------------------------------------------------ */
/* Timers                                                              */
/* ------------------------------------------------------------------ */

hg_return_t margo_timer_create(margo_instance_id mid, margo_timer_callback_fn cb, void* uargs,
                               margo_timer_t* timer)
{
    if (!mid || !cb || !timer) return HG_INVALID_ARG;
    struct margo_timer* t = calloc(1, sizeof *t);
    if (!t) return HG_NOMEM;
    t->inst      = mid;
    t->cb        = cb;
    t->uargs     = uargs;
    t->node.idx  = FRT__NO_IDX;
    t->node.kind = FRT__HK_TIMER;
    pthread_mutex_lock(&mid->lock);
    if (mid->finalized) {
        pthread_mutex_unlock(&mid->lock);
        free(t);
        return HG_CANCELED;
    }
    t->next = mid->timers;
    if (mid->timers) mid->timers->prev = t;
    mid->timers = t;
    pthread_mutex_unlock(&mid->lock);
    *timer = t;
    return HG_SUCCESS;
}

static hg_return_t frt__timer_arm(margo_timer_t t, double first_ms, double period_ms)
{
    if (!t || !(first_ms >= 0) || period_ms < 0) return HG_INVALID_ARG;
    margo_instance_id mid = t->inst;
    if (!mid) return HG_CANCELED;
    hg_return_t ret = HG_SUCCESS;
    pthread_mutex_lock(&mid->lock);
    if (mid->stopping) {
        ret = HG_CANCELED;
    } else {
        frt__heap_remove(mid, &t->node);
        t->period = period_ms;
        int r     = frt__heap_push(mid, &t->node, frt_now_ms() + first_ms);
        if (r < 0) ret = HG_NOMEM;
        if (r > 0) frt__wake_loop(mid);
    }
    pthread_mutex_unlock(&mid->lock);
    return ret;
}

hg_return_t margo_timer_start(margo_timer_t timer, double timeout_ms)
{
    return frt__timer_arm(timer, timeout_ms, 0);
}

hg_return_t frt_timer_start_periodic(margo_timer_t timer, double first_ms, double period_ms)
{
    if (!(period_ms > 0)) return HG_INVALID_ARG;
    return frt__timer_arm(timer, first_ms, period_ms);
}

/* Pool: run one expiry of a timer. */
static void frt__timer_work(frt__work* w)
{
    frt__timer_run*     run = FRT__CONTAINER(w, frt__timer_run, work);
    struct margo_timer* t   = run->t;
    margo_instance_id   mid = t->inst;
    bool                call;
    pthread_mutex_lock(&mid->lock);
    call = run->gen == t->gen && !mid->stopping;
    pthread_mutex_unlock(&mid->lock);
    for (;;) {
        if (call) {
            struct margo_timer* saved = frt__tls.timer;
            frt__tls.timer            = t;
            t->cb(t->uargs);
            frt__tls.timer = saved;
            if (frt__tls.finalized == mid) {
                /* the instance is gone; the timer is orphaned (inst NULL) */
                if (t->destroy_pending) free(t);
                else t->running = false;
                free(run);
                return;
            }
        }
        pthread_mutex_lock(&mid->lock);
        if (t->refire && !t->destroy_pending && !mid->stopping) {
            t->refire = false;
            call      = true;
            pthread_mutex_unlock(&mid->lock);
            continue;
        }
        t->refire  = false;
        t->running = false;
        pthread_cond_broadcast(&mid->cv);
        bool dead = t->destroy_pending;
        pthread_mutex_unlock(&mid->lock);
        if (dead) free(t);
        free(run);
        return;
    }
}

/* Cancel; inst->lock held. Waits for a running callback unless it is ours. */
static void frt__timer_cancel_locked(margo_instance_id mid, margo_timer_t t)
{
    frt__heap_remove(mid, &t->node);
    t->gen++;
    t->refire = false;
    if (t->running && frt__tls.timer != t) { /* its run may be queued behind us */
        frt__about_to_block();
        frt_wait_begin();
        while (t->running && frt__tls.timer != t) pthread_cond_wait(&mid->cv, &mid->lock);
        frt_wait_end();
    }
}

hg_return_t margo_timer_cancel(margo_timer_t timer)
{
    if (!timer) return HG_INVALID_ARG;
    margo_instance_id mid = timer->inst;
    if (!mid) return HG_SUCCESS;
    pthread_mutex_lock(&mid->lock);
    frt__timer_cancel_locked(mid, timer);
    pthread_mutex_unlock(&mid->lock);
    return HG_SUCCESS;
}

hg_return_t margo_timer_destroy(margo_timer_t timer)
{
    if (!timer) return HG_INVALID_ARG;
    margo_instance_id mid = timer->inst;
    if (!mid) {
        if (timer->running)
            timer->destroy_pending = true;
        else
            free(timer);
        return HG_SUCCESS;
    }
    pthread_mutex_lock(&mid->lock);
    frt__timer_cancel_locked(mid, timer);
    if (timer->prev)
        timer->prev->next = timer->next;
    else if (mid->timers == timer)
        mid->timers = timer->next;
    if (timer->next) timer->next->prev = timer->prev;
    timer->prev = timer->next = NULL;
    bool later                = timer->running; /* destroyed from its own callback */
    if (later) timer->destroy_pending = true;
    pthread_mutex_unlock(&mid->lock);
    if (!later) free(timer);
    return HG_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Logging, fault injection and group keys: the instance's state       */
/* ------------------------------------------------------------------ */

#define FRT__LOGFN(name, level)                          \
    void name(margo_instance_id mid, const char* fmt, ...) \
    {                                                     \
        va_list ap;                                       \
        va_start(ap, fmt);                                \
        frt__vlog(mid ? &mid->log : NULL, level, fmt, ap);              \
        va_end(ap);                                       \
    }
FRT__LOGFN(margo_trace, MARGO_LOG_TRACE)
FRT__LOGFN(margo_debug, MARGO_LOG_DEBUG)
FRT__LOGFN(margo_info, MARGO_LOG_INFO)
FRT__LOGFN(margo_warning, MARGO_LOG_WARNING)
FRT__LOGFN(margo_error, MARGO_LOG_ERROR)
FRT__LOGFN(margo_critical, MARGO_LOG_CRITICAL)

hg_return_t frt_fault_set(margo_instance_id mid, const char* peer, const frt_fault_spec* spec)
{
    return mid ? frt__fault_set(mid->fault, peer, spec) : HG_INVALID_ARG;
}

hg_return_t frt_fault_clear(margo_instance_id mid)
{
    return frt__fault_clear(mid ? mid->fault : NULL);
}

hg_return_t frt_fault_seed(margo_instance_id mid, uint64_t seed)
{
    return frt__fault_seed(mid ? mid->fault : NULL, seed);
}

hg_return_t frt_fault_get_stats(margo_instance_id mid, frt_fault_stats* stats)
{
    return frt__fault_get_stats(mid ? mid->fault : NULL, stats);
}

hg_return_t frt_auth_set_key(margo_instance_id mid, const void* key, size_t key_len)
{
    return mid ? frt__auth_set_key(mid->auth, key, key_len) : HG_INVALID_ARG;
}

hg_return_t frt_auth_set_key_file(margo_instance_id mid, const char* path)
{
    return mid ? frt__auth_set_key_file(mid->auth, &mid->log, path) : HG_INVALID_ARG;
}

bool frt_auth_enabled(margo_instance_id mid) { return mid && frt__auth_active(mid->auth); }
