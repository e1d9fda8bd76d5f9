/*
 * test-shared.c -- the instances of a process share their threads
 * (src/runtime/hub.c; docs/design.md "Threads"): idle loops park in the
 * supervisor's epoll set and give their thread back, so 32 instances cost
 * a handful of threads, not 32; a parked loop still runs its timers and
 * answers its requests; handlers that block (in the runtime, or outside
 * it, unannounced) still get threads beyond the bound; FRT_PARK_MS=never
 * keeps one thread per instance; and once the last instance is finalized
 * the process has none of these threads left.
 */
#include "rt-test.h"

#include <stdlib.h>

#define NINST 32

static const char* transport;
static margo_instance_id inst[NINST];
static hg_addr_t next_addr[NINST]; /* instance i's handle on instance i + 1 */
static _Atomic int ticks[NINST];
static margo_timer_t timers[NINST];
static _Atomic int done_ok, done_all;

/* Back to the baseline? A joined thread's /proc entry can outlive the
 * join by a moment (the kernel wakes the joiner before it releases the
 * task), so the checks below wait for it. */
static int baseline;
static bool at_baseline(void* u)
{
    (void)u;
    return rt_nthreads() == baseline;
}

static void on_tick(void* u)
{
    atomic_fetch_add(&ticks[(intptr_t)u], 1);
}

static void done_cb(void* u, hg_return_t ret, const void* out, size_t len)
{
    (void)u, (void)out, (void)len;
    if (ret == HG_SUCCESS) atomic_fetch_add(&done_ok, 1);
    atomic_fetch_add(&done_all, 1);
}

static bool all_done(void* n)
{
    return atomic_load(&done_all) >= (int)(intptr_t)n;
}

/* "chain": forward the hop count, minus one, to the next instance and wait
 * (a runtime wait: its thread's slot serves other instances meanwhile). */
static void chain_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    intptr_t i = (intptr_t)u;
    int hops = 0;
    if (len == sizeof hops) memcpy(&hops, in, sizeof hops); /* a body: any alignment */
    if (hops > 0) {
        int left = hops - 1;
        void* out = NULL;
        size_t olen = 0;
        hg_return_t r = frt_forward(inst[i], next_addr[i], "chain", 0, &left, sizeof left,
                                    30000, &out, &olen);
        if (r != HG_SUCCESS) {
            frt_respond(req, "", 0);
            return;
        }
        free(out);
    }
    frt_respond(req, "ok", 2);
}

/* "gate": wait (outside the runtime, unannounced) until gate_need handlers
 * are in: more threads than the hub's bound must be let in. */
static pthread_mutex_t gate_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_in, gate_need;

static void gate_handler(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)in, (void)len, (void)u;
    pthread_mutex_lock(&gate_m);
    if (++gate_in >= gate_need) pthread_cond_broadcast(&gate_cv);
    while (gate_in < gate_need)
        pthread_cond_wait(&gate_cv, &gate_m);
    pthread_mutex_unlock(&gate_m);
    frt_respond(req, "ok", 2);
}

static void start_instances(void)
{
    for (intptr_t i = 0; i < NINST; i++) {
        inst[i] = rt_server(transport);
        CHECK_EQ_INT(frt_rpc_register(inst[i], "echo", 0, rt_echo, NULL, ABT_POOL_NULL),
                     HG_SUCCESS);
        CHECK_EQ_INT(
            frt_rpc_register(inst[i], "chain", 0, chain_handler, (void*)i, ABT_POOL_NULL),
            HG_SUCCESS);
        CHECK_EQ_INT(
            frt_rpc_register(inst[i], "gate", 0, gate_handler, NULL, ABT_POOL_NULL),
            HG_SUCCESS);
        REQUIRE(margo_timer_create(inst[i], on_tick, (void*)i, &timers[i]) == HG_SUCCESS);
        CHECK_EQ_INT(frt_timer_start_periodic(timers[i], 20, 20), HG_SUCCESS);
    }
    for (int i = 0; i < NINST; i++)
        next_addr[i] = rt_lookup(inst[i], frt_self_addr_str(inst[(i + 1) % NINST]));
}

static void stop_instances(void)
{
    for (int i = 0; i < NINST; i++) {
        margo_timer_destroy(timers[i]);
        margo_addr_free(inst[i], next_addr[i]);
    }
    for (int i = 0; i < NINST; i++)
        margo_finalize(inst[i]);
}

/* Rounds of one call from every instance to the next, with pauses long
 * enough for the loops to park in between. */
static void ring_rounds(int rounds)
{
    atomic_store(&done_ok, 0);
    atomic_store(&done_all, 0);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < NINST; i++)
            CHECK_EQ_INT(frt_forward_async(inst[i], next_addr[i], "echo", 0, "x", 1,
                                           30000, done_cb, NULL),
                         HG_SUCCESS);
        CHECK(ft_wait_until(all_done, (void*)(intptr_t)((r + 1) * NINST), 60000));
        usleep(20000);
    }
    CHECK_EQ_INT(atomic_load(&done_ok), rounds * NINST);
}

int main(int argc, char** argv)
{
    transport = rt_transport(argc, argv);
    bool native = getenv("FLOCK_UNDER_VALGRIND") == NULL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int bound = ncpu < 2 ? 4 : 2 * (int)ncpu; /* the hub's: 2 x CPUs, at least 4 */
    /* the baseline once an instance has come and gone (a sanitizer's own
     * thread starts with the first thread created) */
    margo_finalize(rt_server(transport));
    int t0 = rt_nthreads();
    baseline = t0;

    /* 1. 32 instances with a 20 ms timer each, idle: every timer runs
     *    (their loops park between runs), on a handful of threads */
    start_instances();
    usleep(native ? 500000 : 2000000);
    int min_ticks = 1 << 30;
    for (int i = 0; i < NINST; i++)
        if (atomic_load(&ticks[i]) < min_ticks) min_ticks = atomic_load(&ticks[i]);
    int t1 = rt_nthreads() - t0;
    printf("idle: %d instances on %d threads (bound %d); fewest timer runs %d\n", NINST,
           t1, bound, min_ticks);
    CHECK(min_ticks >= 3);
    /* the supervisor + at most the bound serving + what a stall let in
     * (the first registrations and lookups are synchronous); one thread
     * per instance would be 32 */
    if (native) CHECK(t1 <= 2 * bound + 2);

    /* 2. calls between the instances, parked in between: all answered */
    ring_rounds(native ? 20 : 3);
    printf("ring: %d calls answered on %d threads\n", atomic_load(&done_ok),
           rt_nthreads() - t0);

    /* 3. a chain of synchronous calls through 24 instances: each handler
     *    waits in the runtime, so 24 nested handlers need no more than the
     *    bound of runnable threads */
    int hops = 24;
    void* out = NULL;
    size_t olen = 0;
    CHECK_EQ_INT(frt_forward(inst[0], next_addr[0], "chain", 0, &hops, sizeof hops, 60000,
                             &out, &olen),
                 HG_SUCCESS);
    CHECK(olen == 2 && memcmp(out, "ok", 2) == 0);
    free(out);

    /* 4. 12 handlers on 12 instances, each waiting outside the runtime for
     *    all 12: the hub lets more threads in than its bound (stall check) */
    gate_need = 12;
    atomic_store(&done_ok, 0);
    atomic_store(&done_all, 0);
    for (int i = 0; i < 12; i++)
        CHECK_EQ_INT(frt_forward_async(inst[i], next_addr[i], "gate", 0, NULL, 0, 60000,
                                       done_cb, NULL),
                     HG_SUCCESS);
    CHECK(ft_wait_until(all_done, (void*)(intptr_t)12, 60000));
    CHECK_EQ_INT(atomic_load(&done_ok), 12);
    printf("gate: 12 handlers blocked at once, all answered\n");

    stop_instances();
    /* the last pool joined the hub's threads and the supervisor */
    bool none = ft_wait_until(at_baseline, NULL, 5000);
    printf("after finalize: %d thread(s) left\n", rt_nthreads() - t0);
    CHECK(none);

    /* 5. FRT_PARK_MS=never: every instance keeps its loop's thread */
    setenv("FRT_PARK_MS", "never", 1);
    margo_instance_id keep[8];
    for (int i = 0; i < 8; i++)
        keep[i] = rt_server(transport);
    usleep(200000);
    int t3 = rt_nthreads() - t0;
    printf("FRT_PARK_MS=never: 8 instances on %d threads\n", t3);
    CHECK(t3 >= 8);
    for (int i = 0; i < 8; i++)
        margo_finalize(keep[i]);
    unsetenv("FRT_PARK_MS");
    CHECK(ft_wait_until(at_baseline, NULL, 5000));
    return FT_DONE();
}
