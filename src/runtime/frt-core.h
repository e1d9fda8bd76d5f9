/*
 * frt-core.h -- the runtime's shared structures and the frt__ functions that
 * cross files (internal; not installed, not seen by the lower rooms).
 *
 * Rooms, from the top (each file may call the ones below it and its
 * neighbours named here; nothing below calls up):
 *   margo.c      the thin Margo facade (addresses, log level, getters,
 *                frt_fault_* / frt_auth_* entry points)
 *   instance.c   margo_init/finalize, refs, zombies, finalize callbacks:
 *                owns struct margo_instance and frt__fcb
 *   rpc.c        RPC registry, dispatch of a request, provider identities:
 *                owns frt__entry, frt__ident, struct frt_request (creation)
 *   call.c       call table, frt_forward(_async), responses: owns frt__call
 *   timer.c      timer heap and margo_timer_*: owns frt__hnode, margo_timer
 *   loop.c       the leader's progress loop (wait, accept, debts, reads,
 *                expiry)
 *   pool.c       handler pool, leader/worker roles, hand-off, stall check,
 *                frt_wait_*: owns frt__pool, frt__worker, frt__tls
 *   supervisor.c the process's one thread that fires every pool's standby
 *                timer and stall check, unparks idle loops and watches the
 *                hub's queue (pool.c's neighbour)
 *   hub.c        the process's pool threads, shared by the instances
 *                (pool.c's neighbour: frt__hub_give, frt__pool_serve)
 *   conn.c       connection state, refs, the instance's list, connecting
 *   conn-read.c  reader token, read-debt, frame parsing and processing
 *   conn-write.c sends, output queue, write coalescing (cork)
 *   transport.h  transport-unix.c / transport-tcp.c behind one ops table
 *   lower rooms  util.c (log, clocks, addresses), codec.c, frame.c, auth.c,
 *                fault.c: they take what they need as arguments
 *                (frt__log_ctx, frt__auth*, frt__fault*) and never see an
 *                instance.
 *
 * Threads and locks (docs/design.md "Threads"):
 *  - One pool thread at a time (the leader) runs the epoll loop: accept(),
 *    reads (unless a caller holds a connection's reader token), expiry of
 *    the timer heap. It runs no user code while it leads; after a batch it
 *    leaves the loop lazily and runs the batch's work itself (another
 *    takes the loop over if that blocks or lasts; see pool.c).
 *  - Other pool threads run queued handlers, async completions and timer
 *    callbacks. Callers of frt_forward write requests themselves and a
 *    synchronous caller reads its own response.
 *  - Lock order: inst->lock -> conn->wlock -> pool.m -> call->m. The loop
 *    takes inst->lock and conn->wlock but never both in the other order.
 *    The supervisor's lock comes before every pool.m (supervisor.c), the
 *    hub's after (hub.c).
 *  - Pool threads belong to the process (hub.c): a thread serves one pool
 *    at a time and goes back to the hub when that pool lets it go; an
 *    idle loop parks in the supervisor's epoll set (pool.c "Parking").
 */
#ifndef FLOCK_FRT_CORE_H
#define FLOCK_FRT_CORE_H

#include "frt-internal.h"
#include "frt-fault.h" /* reliability: fault-injection seam (fault.c) */
#include "frt-auth.h"  /* reliability: authenticated groups (auth.c) */

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/uio.h>

#define FRT__NBUCKETS        256u    /* call.c: call table buckets (in the instance) */
#define FRT__POOL_MAX        2048    /* pool.c */
#define FRT__POOL_IDLE_S     10      /* pool.c */
#define FRT__HANDOFF_NS      500000L /* pool.c: an inline handler keeps the loop this long */
#define FRT__LAZY_MAX        16 /* pool.c: items of one batch the leader keeps for itself */
#define FRT__READ_CHUNK      (64u * 1024u) /* loop.c: most bytes per loop read (a scratch
                                              on the leader's stack) */
#define FRT__OUTQ_MAX        ((size_t)4 * FRT_MAX_PAYLOAD) /* conn-write.c: unsent bytes per connection */
#define FRT__CONNECT_DEFAULT_MS 10000.0 /* conn.c */
#define FRT__MAINT_MS        1000   /* loop.c: housekeeping period (reaping) */
#define FRT__ACCEPT_PAUSE_MS 100    /* loop.c: accept paused after EMFILE with nothing to shed */
#define FRT__HELLO_TIMEOUT_MS 10000.0 /* conn.c: an accepted peer must say hello by then */
#define FRT__IDLE_SHED_MS    1000.0 /* conn.c: idle this long: shed when out of fds */
#define FRT__SHED_MAX        32     /* conn.c: connections shed per EMFILE */
#define FRT__IDLE_CLOSE_MS   10000.0 /* conn.c: a dialer says bye after this long idle
                                        (FRT_IDLE_CLOSE_MS; 0: never) */
#define FRT__BYE_LINGER_MS   30000.0 /* conn.c: a peer that does not close after our bye:
                                        we close it ourselves after this long quiet */
#define FRT__PARK_MS         0 /* pool.c: an idle loop parks after this long beside other
                                   instances (FRT_PARK_MS; 0: at once, "never": never) */
#define FRT__FD_REPORT_MS    10000.0 /* loop.c: one fd-exhaustion log line per period */
#define FRT__BUDGET_DEFAULT  ((size_t)64 << 20) /* instance.c: input / output budget */
#define FRT__REQUEST_COST    (sizeof(struct frt_request) + 64) /* rpc.c: charged per request */
#define FRT__IDENTITY_RPC    "__frt_identity" /* rpc.c */
#define FRT__IDENTITY_TIMEOUT_MS 30000.0      /* rpc.c */

/** A unit of work for the handler pool; embedded in the owning object
 *  (pool.c runs it; the owner's fn frees what it must). */
typedef struct frt__work {
    void (*fn)(struct frt__work*);
    struct frt__work* next;
    bool              urgent; /* queued ahead of the rest (frt_rpc_set_urgent) */
} frt__work;

#define FRT__NO_IDX SIZE_MAX
enum { FRT__HK_CALL = 1, FRT__HK_TIMER = 2 };

/** A timer-heap node (timer.c; inst->lock). idx == FRT__NO_IDX when not queued. */
typedef struct frt__hnode {
    double   deadline;
    uint64_t seq;
    size_t   idx;
    int      kind;
} frt__hnode;

#define FRT__CONTAINER(ptr, type, member) ((type*)((char*)(ptr)-offsetof(type, member)))

/** An address handle (margo.c). */
struct hg_addr {
    frt__addr_spec spec;
    char           str[FRT_MAX_ADDR_LEN + 1];
    char           key[FRT_MAX_ADDR_LEN + 32];
};

enum { FRT__CS_CONNECTING = 1, FRT__CS_OPEN = 2, FRT__CS_CLOSED = 3 };

/** A connection (conn.c: state, refs, the instance list; conn-read.c: the
 *  read side and the reader token; conn-write.c: the write side). Refs: one for the instance list (dropped by whoever closes
 *  it: the loop, or finalize), one per user (caller writing, request). The
 *  fd is closed when the last ref goes. */
typedef struct frt__conn {
    _Atomic int       refs;
    int               fd;
    struct margo_instance* inst;
    int               state;    /* inst->lock */
    bool              in_table; /* inst->lock: reachable by key */
    char*             key;  /* inst->lock; set once: its key in the table (NULL: none) */
    char*             peer; /* the peer's self address: the dialed one, then its hello's
                               (NULL until known; frt__conn_peer) */
    char*             peer_prev; /* the dialed address its hello replaced (freed with c:
                                    a thread may still be printing it) */
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
    /* hardening (conn.c reaper; loop thread only) */
    double since_ms; /* accepted at, then the last input the loop read */
    /* idle connections (conn.c "Idle connections") */
    _Atomic double used_ms;  /* a caller last took it for a call (frt__get_conn) */
    bool           bye_sent; /* inst->lock: we said bye: its end is no news */
    _Atomic bool   bye_recv; /* the peer said bye: we close it once quiet */
    int    dial_errno; /* why the dial failed (frt__get_conn's thread) */
    size_t in_charged; /* reader token: bytes of body charged to inst->in_bytes */
    bool   cut;        /* wlock: over the output budget, shut down, logged once */
    _Atomic int fail_ret; /* why it closes, for its calls (0: HG_HOSTUNREACH);
                           * HG_CHECKSUM_ERROR after an authentication failure */
} frt__conn;

/** A pending call (call.c). Lives in inst->calls (and the heap if timed) until one
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

/** A registered handler (rpc.c). `active` counts running invocations. */
/** An RPC name with urgent entries, and how many (rpc.c; inst->lock). */
typedef struct frt__uname {
    char name[FRT_MAX_RPC_NAME_LEN + 1];
    int  count;
} frt__uname;

typedef struct frt__entry {
    char               name[FRT_MAX_RPC_NAME_LEN + 1];
    uint16_t           provider_id;
    frt_handler_fn     fn;
    void*              uargs;
    int                active;   /* inst->lock */
    bool               orphaned; /* deregistered by its own handler */
    bool               builtin;
    _Atomic bool       urgent;   /* frt_rpc_set_urgent */
    struct frt__entry* next;
} frt__entry;

/** A request being handled (rpc.c creates it, call.c answers and frees it). */
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
    size_t                 charged; /* bytes of inst->in_bytes it holds (input budget) */
};

/** A timer (timer.c). */
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

/** A finalize callback (instance.c). */
typedef struct frt__fcb {
    const void*               owner;
    margo_finalize_callback_t cb;
    void*                     uargs;
    struct frt__fcb*          next;
} frt__fcb;

/** A provider identity (rpc.c). */
typedef struct frt__ident {
    uint16_t           provider_id;
    char*              identity;
    struct frt__ident* next;
} frt__ident;

/** A handler-pool thread (pool.c). */
typedef struct frt__worker {
    pid_t                  os_tid; /* for the stall check's look at its state */
    struct margo_instance* inst;
    bool                   busy;    /* pool.m: inside a work item */
    uint8_t                asleep;  /* pool.m: stall checks that found it asleep in a row */
    bool                   waiting; /* pool.m: in frt_wait_begin/end */
    struct frt__worker*    hub_next; /* hub.m: on the hub's queue (no thread yet) */
    struct frt__worker*    next;
} frt__worker;

/** The handler pool (pool.c; its cork list: conn-write.c). */
typedef struct frt__pool {
    pthread_mutex_t m;
    pthread_cond_t  cv;
    frt__work *     head, *tail;   /* queued with a wake-up (frt__pool_submit) */
    frt__work*      utail;         /* the last urgent item of the queue's urgent prefix */
    frt__work *     lhead, *ltail; /* queued lazily by the leader (its batch) */
    int             nqueued, nidle, nthreads, min, max; /* nqueued: head list only */
    int             nstarting; /* workers the hub gave, not yet in frt__pool_serve */
    int             nlazy;   /* lhead list length */
    bool            stop;
    bool            leader;  /* a thread runs the progress loop */
    bool            parked;  /* the idle loop waits in the supervisor's set */
    bool            vacant;  /* the leader left lazily to run a handler inline */
    bool            tick_armed;  /* standby_fd is armed (or fired and not yet handled) */
    bool            handoff_now; /* the inline handler blocks: take the loop over now */
    uint64_t        inline_seq;  /* counts inline runs */
    uint64_t        tick_seq;    /* inline_seq when the standby timer last fired */
    bool            takeover;    /* a thread was asked to take the vacant loop over */
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
    int             boost;    /* granted by the stall check when work stalls */
    uint64_t        nstarted; /* work items started (progress, for the stall check) */
    uint64_t        stall_seen; /* nstarted at the last stall check */
    _Atomic bool    sup_watch;  /* the supervisor checks the queue for stalls */
    /* supervisor.c (its lock) */
    bool                   sup_on;   /* on its list */
    uint64_t               sup_id;   /* epoll data of standby_fd in its set */
    int                    sup_epfd; /* its epoll set (set before any frt__sup_park) */
    bool                   park_added; /* pool.m: the loop's epfd is in that set */
    struct margo_instance* sup_next;
} frt__pool;

/** An instance. Owned by instance.c (lifetime, refs, callbacks); each
 *  group of fields says which file owns it. */
struct margo_instance {
    /* instance.c */
    pthread_mutex_t lock;
    pthread_cond_t  cv; /* registry, timers, connection state changes */
    frt__log_ctx    log; /* level and name of this instance's log lines */
    bool            server;
    frt__addr_spec  spec;
    const struct frt__transport* tp; /* the transport of spec (transport.h) */
    char            self[FRT_MAX_ADDR_LEN + 1];
    char            self_key[FRT_MAX_ADDR_LEN + 32];
    /* loop.c (the fds: created by instance.c/loop.c, closed by loop.c) */
    int             listen_fd, epfd, evfd;
    int             debt_fd;      /* timerfd: re-arm the reads callers left disarmed */
    _Atomic unsigned long nsends; /* send system calls on connections (tests) */
    pthread_mutex_t debt_lock;    /* leaf lock: debt */
    struct frt__conn* debt;       /* conn-read.c: connections owing an EPOLLIN re-arm (frt__reader_release) */
    int             spare_fd; /* /dev/null, given up to shed a connection on EMFILE */
    int             maint_fd; /* timerfd: housekeeping (reaping), accept back-off */
    int             park_fd;  /* timerfd: the next deadline of a parked loop */
    int             park_ms;  /* FRT_PARK_MS: idle that long, it parks (-1: never) */
    bool            accept_paused;  /* loop thread: listen_fd out of the set (EMFILE) */
    double          fd_report_at;   /* loop thread: last fd-exhaustion log line (ms) */
    unsigned long   fd_refused, fd_shed; /* loop thread: since that line */
    _Atomic bool    fd_short;       /* a dial found no fd: the loop sheds idle connections */
    /* memory budgets (instance.c reads them; conn-read.c / conn-write.c charge) */
    size_t          in_max, out_max;   /* FRT_INPUT_BUDGET, FRT_OUTPUT_BUDGET (bytes) */
    double          idle_close_ms;     /* FRT_IDLE_CLOSE_MS (conn.c; 0: never) */
    _Atomic size_t  in_bytes;          /* bodies of frames being received */
    _Atomic size_t  out_bytes;         /* output buffers of every connection */
    _Atomic bool    loop_stop;
    /* lifetime */
    bool        finalizing, stopping, finalized; /* lock */
    int         waiters;                         /* lock: in margo_wait_for_finalize */
    bool        zombie;                          /* lock: kept for a late waiter */
    struct margo_instance* zombie_next;          /* frt__zombies */
    int         margo_refs;                      /* lock */
    _Atomic int memrefs;
    /* state under lock: heap (timer.c), calls (call.c), conns (conn.c),
     * entries/identity_entry/idents (rpc.c), prefin/fin (instance.c),
     * timers (timer.c) */
    uint64_t             next_id, heap_seq;
    double               loop_wake_at; /* when the sleeping leader wakes by itself (ms) */
    frt__hnode**         heap;
    size_t               heap_len, heap_cap;
    frt__call*           calls[FRT__NBUCKETS];
    frt__conn*           conns;
    frt__entry**         entries;   /* hash buckets, chained by next (rpc.c) */
    size_t               nbuckets;  /* 0 or a power of two */
    size_t               nentries;
    frt__entry*          orphans; /* deregistered while their own handler runs (rpc.c) */
    struct frt__uname*   unames;  /* RPC names with urgent entries (rpc.c) */
    size_t               nunames;
    frt__entry           identity_entry;
    frt__ident*          idents;
    frt__fcb *           prefin, *fin;
    struct margo_timer*  timers;
    /* conn-read.c: rate limit of protocol warnings (loop thread only) */
    _Atomic long warn_window; /* ms */
    _Atomic int  warn_count;
    frt__conn** held;  /* loop.c: closed during this epoll batch, a ref each (leader only) */
    size_t      nheld, capheld;
    frt__pool pool; /* pool.c */
    frt__fault* fault; /* reliability: fault-injection seam (fault.c), NULL-safe */
    frt__auth*  auth;  /* reliability: group key (auth.c), NULL-safe */
    /* conn.c: frt_peer_watch (peer_lock: a leaf lock, never held while a
     * watcher runs; peer_busy counts the dispatches running, peer_cv tells
     * their end to frt_peer_unwatch) */
    pthread_mutex_t         peer_lock;
    pthread_cond_t          peer_cv;
    struct frt__peer_watch* peer_watch;
    size_t                  npeer_watch, cappeer_watch;
    int                     peer_busy;
};

/* Per-thread context (pool.c defines it): which instance's pool this
 * thread serves, the handler entry / timer running on it, and whether it
 * finalized. */
typedef struct frt__tls_t {
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
} frt__tls_t;
extern __thread frt__tls_t frt__tls __attribute__((visibility("hidden")));

/* frt__conn_ctl_locked: put c's epoll interest (EPOLLIN while in_armed,
 * EPOLLOUT while want_out, edge-triggered) into the loop's set (wlock
 * held). Inline: the reader token and the write side both use it on the
 * hot path. */
static inline void frt__conn_ctl_locked(frt__conn* c)
{
    if (c->wclosed || c->fd < 0) return;
    struct epoll_event ev = {.events = EPOLLET, .data.ptr = c};
    if (c->in_armed) ev.events |= EPOLLIN | EPOLLRDHUP;
    if (c->want_out) ev.events |= EPOLLOUT;
    epoll_ctl(c->inst->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The size to malloc for a buffer of n bytes whose size varies from one
 * message to the next (a frame's body): small sizes round up to a power of
 * two (64 B to 1 KiB). glibc's per-thread caches keep up to 7 freed chunks
 * per 16-byte size step; exact sizes would fill dozens of steps on every
 * pool thread (measured: a third of a SWIM member's resident memory). */
static inline size_t frt__size_class(size_t n)
{
    if (n > 1024) return n;
    size_t c = 64;
    while (c < n) c <<= 1;
    return c;
}

/* ---------------- instance.c ---------------- */
/** Drop a memory ref; the last one destroys the locks and frees mid. */
void frt__inst_unref(margo_instance_id mid);

/* ---------------- loop.c ---------------- */
extern frt__work frt__lazy_marker; /* frt__lead's "run the lazy list" */
extern frt__work frt__park_marker; /* frt__lead's "idle: park the loop" */
/** A dial found no free fd: the loop sheds idle connections (any thread). */
void frt__fd_short(margo_instance_id mid);
/** Wake the leader out of epoll_wait (any thread, no lock needed). */
void frt__wake_loop(margo_instance_id mid);
/** Create the loop's fds and watch them. false: frt__loop_close cleans up. */
bool frt__loop_init(margo_instance_id mid);
/** Close the loop's fds and the endpoint (threads gone; -1 safe). */
void frt__loop_close(margo_instance_id mid);
/** Run the loop until it stops (NULL), a batch left work for the leader,
 *  or (park_ms >= 0) it was idle for park_ms (&frt__park_marker). */
frt__work* frt__lead(margo_instance_id mid, int park_ms);

/* ---------------- pool.c ---------------- */
/** Queue w for the pool (lazily while leading a batch). Takes pool.m. */
void frt__pool_submit(margo_instance_id mid, frt__work* w);
/** Queue w, at the queue's head if front. Takes pool.m. */
void frt__pool_enqueue(margo_instance_id mid, frt__work* w, bool front);
/** The calling thread is about to block in the runtime: hand the loop
 *  over now if it runs an inline handler, send what its batch held back. */
void frt__about_to_block(void);
bool frt__pool_init(frt__pool* p, int rpc_thread_count);
bool frt__pool_start(margo_instance_id mid);
void frt__pool_stop(margo_instance_id mid);
void frt__pool_close(frt__pool* p);
void frt__pool_destroy(frt__pool* p);

/** The supervisor: the standby timer fired (p->m held). */
void frt__pool_standby_fire(margo_instance_id mid);
/** The supervisor's stall check (p->m held). @return go on watching. */
bool frt__pool_stall_check(margo_instance_id mid);
/** The supervisor: a parked loop has an event (p->m held): lead it again. */
void frt__pool_unpark(margo_instance_id mid);
/** A hub thread: serve as worker w of its pool until the pool lets go. */
void frt__pool_serve(frt__worker* w);

/* ---------------- hub.c ---------------- */
/** A thread for worker w of a started pool (its p->m held). */
bool frt__hub_give(frt__worker* w);
/** A pool starts / stopped (no lock held); the last one joins the threads. */
void frt__hub_enter(void);
void frt__hub_leave(void);
/** Whether more than one pool shares the hub. */
bool frt__hub_shared(void);
/** A hub thread enters (true) / leaves (false) a runtime wait: its slot
 *  may serve another pool meanwhile (no lock held). */
void frt__hub_block(bool on);
/** The supervisor's check of the jobs waiting for a thread (sup.m held).
 *  @return whether any is still waiting. */
bool frt__hub_stall_check(void);

/* ---------------- supervisor.c ---------------- */
#define FRT__STALL_MS 10 /* a watched queue is checked this often */
/** Watch a starting pool (its standby timer, its queue); starts the
 *  process's supervisor thread with the first pool. No lock held. */
bool frt__sup_add(margo_instance_id mid);
/** Stop watching it (no lock held); the last pool joins the thread. */
void frt__sup_remove(margo_instance_id mid);
/** A pool has queued work to watch (any thread, any lock held). */
void frt__sup_wake(void);
/** Watch mid's idle loop (its epfd, one-shot) for frt__pool_unpark
 *  (p->m held). false: it could not (the loop stays led). */
bool frt__sup_park(margo_instance_id mid);

/* ---------------- timer.c (inst->lock held) ---------------- */
/** Queue n at deadline. @return -1 ENOMEM, 1 the loop must be woken, 0. */
int  frt__heap_push(margo_instance_id mid, frt__hnode* n, double deadline);
/** Take n out of the heap if it is in. */
void frt__heap_remove(margo_instance_id mid, frt__hnode* n);
void frt__heap_clear_locked(margo_instance_id mid);
/** Timer node n (out of the heap) came due: re-queue / run it. */
void frt__timer_due_locked(margo_instance_id mid, frt__hnode* n, double now);
/** Teardown: orphan every timer and free the heap (no lock: threads gone). */
void frt__timers_orphan(margo_instance_id mid);

/* ---------------- call.c ---------------- */
/** Remove and return call id if it belongs to conn (inst->lock held). */
frt__call* frt__call_take(margo_instance_id mid, uint64_t id, frt__conn* conn);
/** Deliver the outcome of a call out of the table; owns out. */
void frt__call_finish(margo_instance_id mid, frt__call* c, hg_return_t ret, void* out,
                      size_t out_len);
/** Take conn's calls (all: every call) out of the table (inst->lock held). */
frt__call* frt__calls_take_locked(margo_instance_id mid, frt__conn* conn, bool all);
/** Finish every call of a list (hnext) with ret (no lock held). */
void frt__calls_fail(margo_instance_id mid, frt__call* list, hg_return_t ret);

/* ---------------- rpc.c ---------------- */
/** The handler of (name, provider_id) or the builtin (inst->lock held). */
frt__entry* frt__entry_find(margo_instance_id mid, const char* name, uint16_t provider_id);
/** Whether some provider's `name` is urgent here (inst->lock held): the
 *  completions of this instance's calls to `name` are urgent too. */
bool frt__rpc_urgent_name_locked(margo_instance_id mid, const char* name);
void frt__request_init(struct frt_request* r, margo_instance_id mid, frt__conn* conn,
                       frt__entry* e, uint64_t id, uint16_t provider_id, void* body,
                       const void* in, size_t in_len, const char* source);
/** Drop the request's conn ref and free it with its input. */
void frt__request_free(struct frt_request* r);
/** Pool: run a request's handler, then release its invocation count. */
void frt__handler_run(frt__work* w);
/** A request frame arrived on c (consumes body). false: close c. */
bool frt__rpc_dispatch(margo_instance_id mid, frt__conn* c, const frt__hdr* h, uint8_t* body,
                       frt__work** inl);
void frt__rpc_init(margo_instance_id mid);
void frt__rpc_free(margo_instance_id mid);

/* ---------------- conn.c ---------------- */
frt__conn* frt__conn_new(margo_instance_id mid, int fd);
/** Drop a ref (NULL safe); the last closes the fd and frees c. */
void frt__conn_unref(frt__conn* c);
frt__conn* frt__conn_find_locked(margo_instance_id mid, const char* key);
/** Watch c's socket in the loop's epoll set. false: epoll refused it. */
bool frt__conn_watch(margo_instance_id mid, frt__conn* c);
/** What c's calls fail with when it closes (HG_HOSTUNREACH or fail_ret). */
hg_return_t frt__conn_fail_ret(frt__conn* c);
/** Unlist c, fail its calls (frt__conn_fail_ret), drop the list's ref. */
void frt__conn_close(margo_instance_id mid, frt__conn* c);
/** The peer closed or reset c (the loop's read failed): close it, then
 *  tell the frt_peer_watch watchers (loop thread). */
void frt__conn_close_by_peer(margo_instance_id mid, frt__conn* c);
/** An open connection to addr (new ref), connecting if needed (blocks). */
hg_return_t frt__get_conn(margo_instance_id mid, hg_addr_t addr, double timeout_ms,
                          frt__conn** out);
void frt__conns_release(margo_instance_id mid);
/** Loop: close accepted connections that never said hello within
 *  FRT__HELLO_TIMEOUT_MS and, when shed (out of fds), up to FRT__SHED_MAX
 *  accepted ones idle for FRT__IDLE_SHED_MS (silent ones first, then the
 *  oldest). @return how many were closed. */
int frt__conns_reap(margo_instance_id mid, bool shed);
/** Loop: say bye on the connections we dialed that were idle for
 *  inst->idle_close_ms, and close those the peer said bye on once nothing
 *  of ours is on them (conn.c "Idle connections"). */
void frt__conns_idle(margo_instance_id mid);
/** Loop: the peer said bye on c: close it now if nothing of ours is on it
 *  (else frt__conns_idle does, later). */
void frt__conn_bye_check(margo_instance_id mid, frt__conn* c);

/** Loop: keep c's ref (given) until the current epoll batch ends: a later
 *  event of the batch may still name c (loop.c). */
void frt__loop_hold(margo_instance_id mid, frt__conn* c);

/** c's peer address for logs and request sources ("" until known). */
static inline const char* frt__conn_peer(const frt__conn* c) { return c->peer ? c->peer : ""; }

/* ---------------- conn-read.c ---------------- */
/** Take c's reader token (a caller: disarm EPOLLIN). false: held. */
bool frt__reader_acquire(frt__conn* c, bool disarm);
/** Give it back (re-arm or go into debt, see conn-read.c). */
void frt__reader_release(frt__conn* c, bool caller, bool more);
void frt__conn_arm_unread_locked(frt__conn* c);
void frt__conn_need_reader(frt__conn* c);
/** Detach the debt list (each entry holds a ref). */
frt__conn* frt__debt_take(margo_instance_id mid);
/** Read and process what c has (reader token held): 1 more, 0 none, -1 dead. */
int frt__conn_read_some(margo_instance_id mid, frt__conn* c, uint8_t* buf, size_t size,
                        frt__work** inl, bool wait, bool hup);
/** Give back what c's partial frame holds of the input budget. */
void frt__conn_input_release(frt__conn* c);
/** Rate-limited warning about a peer's bad input. */
void frt__protocol_warning(margo_instance_id mid, frt__conn* c, const char* why);

/* ---------------- conn-write.c ---------------- */
extern const frt__fault_conn_ops frt__conn_fault_ops; /* how fault.c reaches a conn */
/** Loop: flush c's output queue on EPOLLOUT. */
void frt__conn_flush(frt__conn* c);
/** Send everything held back on mid's connections (pool.m not held). */
void frt__uncork_all(margo_instance_id mid);
/** Send one frame on c (auth, fault seam, coalescing). Any thread. */
hg_return_t frt__send_frame(frt__conn* c, const frt__hdr* h, const void* name, const void* payload);
/** Send our hello on c (never held back). */
hg_return_t frt__send_hello(margo_instance_id mid, frt__conn* c);
void frt__send_error(frt__conn* c, uint64_t id, hg_return_t code);
/** Free c's output buffer and give its bytes back to the budget (wlock
 *  held, or the last ref). */
void frt__outq_free_locked(frt__conn* c);

#endif /* FLOCK_FRT_CORE_H */
