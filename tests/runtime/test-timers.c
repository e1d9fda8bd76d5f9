/*
 * test-timers.c -- one-shot and periodic timers: firing, restart, cancel
 * (before firing; waiting for a running callback; from its own callback),
 * destroy from its own callback, callbacks that forward RPCs, timers left
 * at finalize, margo_thread_sleep letting timers run.
 */
#include "rt-test.h"

static _Atomic int fired;
static void count_cb(void* u) { atomic_fetch_add((_Atomic int*)u, 1); }

static bool at_least(void* u) { return atomic_load(&fired) >= (int)(intptr_t)u; }

static _Atomic int slow_state; /* 1 running, 2 done */
static void slow_cb(void* u)
{
    atomic_store(&slow_state, 1);
    ft_sleep_ms(300);
    atomic_store(&slow_state, 2);
}
static bool slow_running(void* u) { return atomic_load(&slow_state) == 1; }

static margo_timer_t self_destroy_timer;
static _Atomic int   self_destroy_done;
static void self_destroy_cb(void* u)
{
    CHECK_EQ_INT(margo_timer_destroy(self_destroy_timer), HG_SUCCESS);
    atomic_store(&self_destroy_done, 1);
}
static bool self_destroyed(void* u) { return atomic_load(&self_destroy_done) == 1; }

static margo_timer_t self_cancel_timer;
static _Atomic int   self_cancel_runs;
static bool self_cancel_ran(void* u) { return atomic_load(&self_cancel_runs) >= 1; }
static void self_cancel_cb(void* u)
{
    atomic_fetch_add(&self_cancel_runs, 1);
    CHECK_EQ_INT(margo_timer_cancel(self_cancel_timer), HG_SUCCESS);
}

static margo_timer_t rearm_timer;
static _Atomic int   rearm_runs;
static void rearm_cb(void* u)
{
    if (atomic_fetch_add(&rearm_runs, 1) < 4) margo_timer_start(rearm_timer, 0);
}
static bool rearmed(void* u) { return atomic_load(&rearm_runs) >= 5; }

static _Atomic int rpc_from_timer = -1;
static void rpc_cb(void* u)
{
    margo_instance_id mid  = u;
    hg_addr_t         self = HG_ADDR_NULL;
    margo_addr_self(mid, &self);
    atomic_store(&rpc_from_timer, frt_forward(mid, self, "echo", 0, "t", 1, 5000, NULL, NULL));
    margo_addr_free(mid, self);
}
static bool rpc_done(void* u) { return atomic_load(&rpc_from_timer) != -1; }

int main(int argc, char** argv)
{
    margo_instance_id mid = rt_server("na+sm");
    margo_timer_t     t   = MARGO_TIMER_NULL;

    /* one-shot fires once */
    atomic_store(&fired, 0);
    CHECK_EQ_INT(margo_timer_create(mid, count_cb, &fired, &t), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_start(t, 20), HG_SUCCESS);
    CHECK(ft_wait_until(at_least, (void*)1, 120000));
    ft_sleep_ms(100);
    CHECK_EQ_INT(atomic_load(&fired), 1);
    /* restart re-arms; cancel before firing prevents the run */
    CHECK_EQ_INT(margo_timer_start(t, 10), HG_SUCCESS);
    CHECK(ft_wait_until(at_least, (void*)2, 120000));
    CHECK_EQ_INT(margo_timer_start(t, 5000), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_cancel(t), HG_SUCCESS);
    ft_sleep_ms(500);
    CHECK_EQ_INT(atomic_load(&fired), 2);
    /* periodic, then cancel */
    CHECK_EQ_INT(frt_timer_start_periodic(t, 0, 20), HG_SUCCESS);
    CHECK(ft_wait_until(at_least, (void*)7, 120000));
    CHECK_EQ_INT(margo_timer_cancel(t), HG_SUCCESS);
    int after = atomic_load(&fired);
    ft_sleep_ms(150);
    CHECK_EQ_INT(atomic_load(&fired), after);
    CHECK_EQ_INT(frt_timer_start_periodic(t, 0, 0), HG_INVALID_ARG);
    CHECK_EQ_INT(margo_timer_start(t, -1), HG_INVALID_ARG);
    CHECK_EQ_INT(margo_timer_destroy(t), HG_SUCCESS);

    /* cancel waits for a running callback */
    CHECK_EQ_INT(margo_timer_create(mid, slow_cb, NULL, &t), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_start(t, 0), HG_SUCCESS);
    CHECK(ft_wait_until(slow_running, NULL, 120000));
    CHECK_EQ_INT(margo_timer_cancel(t), HG_SUCCESS);
    CHECK_EQ_INT(atomic_load(&slow_state), 2);
    /* destroy waits too */
    atomic_store(&slow_state, 0);
    CHECK_EQ_INT(margo_timer_start(t, 0), HG_SUCCESS);
    CHECK(ft_wait_until(slow_running, NULL, 120000));
    CHECK_EQ_INT(margo_timer_destroy(t), HG_SUCCESS);
    CHECK_EQ_INT(atomic_load(&slow_state), 2);

    /* destroy from its own callback */
    CHECK_EQ_INT(margo_timer_create(mid, self_destroy_cb, NULL, &self_destroy_timer), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_start(self_destroy_timer, 5), HG_SUCCESS);
    CHECK(ft_wait_until(self_destroyed, NULL, 120000));

    /* cancel from its own callback stops a periodic timer */
    CHECK_EQ_INT(margo_timer_create(mid, self_cancel_cb, NULL, &self_cancel_timer), HG_SUCCESS);
    CHECK_EQ_INT(frt_timer_start_periodic(self_cancel_timer, 0, 10), HG_SUCCESS);
    CHECK(ft_wait_until(self_cancel_ran, NULL, 120000));
    ft_sleep_ms(200);
    CHECK_EQ_INT(atomic_load(&self_cancel_runs), 1);
    CHECK_EQ_INT(margo_timer_destroy(self_cancel_timer), HG_SUCCESS);

    /* a one-shot restarted from its own callback (even with 0 ms) runs again */
    CHECK_EQ_INT(margo_timer_create(mid, rearm_cb, NULL, &rearm_timer), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_start(rearm_timer, 0), HG_SUCCESS);
    CHECK(ft_wait_until(rearmed, NULL, 120000));
    ft_sleep_ms(50);
    CHECK_EQ_INT(atomic_load(&rearm_runs), 5);
    CHECK_EQ_INT(margo_timer_destroy(rearm_timer), HG_SUCCESS);

    /* a timer callback may block on an RPC to its own instance */
    CHECK_EQ_INT(frt_rpc_register(mid, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_create(mid, rpc_cb, mid, &t), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_start(t, 1), HG_SUCCESS);
    CHECK(ft_wait_until(rpc_done, NULL, 120000));
    CHECK_EQ_INT(atomic_load(&rpc_from_timer), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_destroy(t), HG_SUCCESS);

    /* many timers, ordered deadlines; margo_thread_sleep lets them run */
    margo_timer_t many[200];
    atomic_store(&fired, 0);
    for (int i = 0; i < 200; i++) {
        CHECK_EQ_INT(margo_timer_create(mid, count_cb, &fired, &many[i]), HG_SUCCESS);
        margo_timer_start(many[i], (i * 37) % 100);
    }
    margo_thread_sleep(mid, 400);
    CHECK(ft_wait_until(at_least, (void*)200, 120000));
    for (int i = 0; i < 200; i++) margo_timer_destroy(many[i]);

    /* a timer still armed at finalize never runs; destroying it afterwards is safe */
    atomic_store(&fired, 0);
    CHECK_EQ_INT(margo_timer_create(mid, count_cb, &fired, &t), HG_SUCCESS);
    CHECK_EQ_INT(margo_timer_start(t, 5000), HG_SUCCESS);
    margo_finalize(mid);
    ft_sleep_ms(300);
    CHECK_EQ_INT(atomic_load(&fired), 0);
    CHECK_EQ_INT(margo_timer_destroy(t), HG_SUCCESS);
    return FT_DONE();
}
