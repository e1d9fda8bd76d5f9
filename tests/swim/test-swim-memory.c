/*
 * test-swim-memory.c -- swim__memory_estimate (+ swim__intern_bytes) against
 * the exact live heap (tests/common/heap-count.h), and the compactness of
 * the per-known-member state. Deterministic: machines driven by hand, every
 * call completed at once (ack or failure). Skipped (77) where the heap
 * cannot be counted exactly (sanitizers, valgrind).
 */
#include "flock-test.h"
#include "heap-count.h"

#include <math.h>

#include "backends/swim/swim-core.h"
#include "backends/swim/swim-intern.h"

/* drive one machine for `ms` of virtual time; every call gets an answer:
 * probes of even-numbered ports succeed (an ACK from the target), others
 * fail, so suspicions, tombstones and gossip all occur */
static void drive(swim__t* s, double* now, double ms)
{
    for (double end = *now + ms; *now < end; *now += 25.0) {
        swim__tick(s, *now);
        for (int round = 0; round < 4; round++) {
            swim__outbox* o = swim__get_outbox(s);
            size_t        n = o->nsends;
            if (n == 0) break;
            uint64_t ids[64];
            bool     ok[64];
            if (n > 64) n = 64;
            for (size_t k = 0; k < n; k++) {
                ids[k] = o->sends[k].call_id;
                ok[k]  = o->sends[k].pid % 2 == 0;
            }
            swim__outbox_clear(o);
            for (size_t k = 0; k < n; k++) {
                swim__msg ack;
                memset(&ack, 0, sizeof ack);
                ack.kind = SWIM_MSG_ACK;
                swim__handle_response(s, *now, ids[k], ok[k], ok[k] ? &ack : NULL);
            }
        }
        swim__outbox_clear(swim__get_outbox(s));
    }
}

static swim__t* make(int n, int per_addr, uint16_t self_pid)
{
    swim__config cfg;
    swim__config_default(&cfg);
    cfg.suspicion_timeout_ms = 2000;
    cfg.tombstone_timeout_ms = 4000;
    swim__t* s = swim__create(&cfg, "ofi+tcp://127.0.0.1:40000", self_pid, 7, 0, NULL, NULL);
    REQUIRE(s != NULL);
    char a[64];
    for (int i = 0; i < n; i++) {
        snprintf(a, sizeof a, "ofi+tcp://127.0.0.1:%d", 40000 + i / per_addr);
        REQUIRE(swim__add_initial(s, a, (uint16_t)(i % per_addr + 1)) == 0);
    }
    swim__start(s, false, 0);
    return s;
}

int main(void)
{
    if (!HEAP_EXACT) {
        printf("skipped: the heap cannot be counted exactly in this build\n");
        return 77;
    }
    size_t probe0 = heap_bytes();
    void*  probe  = malloc(100);
    bool   counting = heap_bytes() > probe0;
    free(probe);
    if (!counting) {
        printf("skipped: malloc is replaced (valgrind?)\n");
        return 77;
    }

    const int sizes[] = {16, 64, 256, 1024};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        int    n     = sizes[t];
        size_t h0    = heap_bytes();
        double now   = 0;
        swim__t* s   = make(n, 16, 1);
        drive(s, &now, 12000.0);
        size_t live  = heap_bytes() - h0;
        size_t est   = swim__memory_estimate(s) + swim__intern_bytes();
        double err   = fabs((double)est - (double)live) / (double)live;
        double per   = (double)swim__memory_estimate(s) / n;
        swim__destroy(s);
        size_t after = heap_bytes();
        printf("N=%d live=%zu estimate=%zu (%.2f%%) state per known member=%.1f B\n", n, live,
               est, 100.0 * err, per);
        CHECK(err < 0.03);
        /* compact entries: member 32 B + hash slots + probe order */
        if (n >= 256) CHECK(per < 64.0);
        CHECK_EQ_INT((long long)swim__intern_count(), 0);
        CHECK(after == h0); /* everything given back */
    }

    /* interning: K machines of one process that know the same members
     * store each address once */
    {
        size_t   h0 = heap_bytes();
        swim__t* m[8];
        double   now[8];
        for (int k = 0; k < 8; k++) {
            m[k]   = make(128, 16, (uint16_t)(k + 1));
            now[k] = 0;
            drive(m[k], &now[k], 3000.0);
        }
        CHECK_EQ_INT((long long)swim__intern_count(), 8); /* 128 members / 16 per address */
        size_t est = swim__intern_bytes();
        for (int k = 0; k < 8; k++) est += swim__memory_estimate(m[k]);
        size_t live = heap_bytes() - h0;
        printf("8 machines x 128 members: live=%zu estimate=%zu\n", live, est);
        CHECK(fabs((double)est - (double)live) / (double)live < 0.03);
        for (int k = 0; k < 8; k++) swim__destroy(m[k]);
        CHECK_EQ_INT((long long)swim__intern_count(), 0);
    }
    return FT_DONE();
}
