/*
 * swim-wire-bench.c -- the SWIM codec's cost per message: encoding and
 * decoding (with the message's release) of the two shapes that dominate a
 * large group's bootstrap -- a gossip message of 64 entries about members
 * of 16 processes, and a JOIN answer's state of 1024 entries about 17 --
 * against a baseline measured in the same run: copying the encoded bytes
 * once (memcpy), the least any codec must do with them.
 *
 *   swim-wire-bench [-iters 200000]
 *
 * Calls: the codec (swim-wire.h) only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/swim/swim-wire.h"

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static char g_addr[17][40];

/* n entries (ALIVE, distinct pids) about members of `procs` processes */
static void make(swim__msg* m, uint8_t kind, uint32_t n, int procs)
{
    memset(m, 0, sizeof *m);
    m->kind             = kind;
    m->sender_is_source = true;
    swim__entry* e      = calloc(n, sizeof *e);
    if (!e) exit(1);
    for (uint32_t i = 0; i < n; i++) {
        e[i].type = SWIM_E_ALIVE;
        e[i].addr = swim__msg_keep(m, g_addr[i % (uint32_t)procs]);
        e[i].pid  = (uint16_t)(1 + i / (uint32_t)procs);
        e[i].inc  = 1796545677415ULL + i;
        if (!e[i].addr) exit(1);
    }
    if (kind == SWIM_MSG_ANNOUNCE_ACK) {
        m->state  = e;
        m->nstate = n;
    } else {
        m->gossip  = e;
        m->ngossip = n;
    }
}

static volatile size_t g_sink;

static void measure(const char* what, uint8_t kind, uint32_t n, int procs, long iters)
{
    swim__msg m;
    make(&m, kind, n, procs);
    frt_wbuf w = FRT_WBUF_INIT;
    if (!swim__encode(&m, &w)) exit(2);
    char* copy = malloc(w.len);
    if (!copy) exit(1);
    double t0 = now_ns();
    for (long k = 0; k < iters; k++) {
        frt_wbuf x = FRT_WBUF_INIT;
        if (!swim__encode(&m, &x)) exit(2);
        g_sink += x.len;
        frt_wbuf_free(&x);
    }
    double t1 = now_ns();
    for (long k = 0; k < iters; k++) {
        swim__msg   d;
        const char* why = NULL;
        if (!swim__decode(w.data, w.len, 0, &d, &why)) exit(3);
        g_sink += d.ngossip + d.nstate;
        swim__msg_clear(&d);
    }
    double t2 = now_ns();
    for (long k = 0; k < iters; k++) {
        memcpy(copy, w.data, w.len);
        g_sink += (unsigned char)copy[k % w.len];
    }
    double t3   = now_ns();
    double enc  = (t1 - t0) / iters, dec = (t2 - t1) / iters, base = (t3 - t2) / iters;
    double floor = base > 1 ? base : 1;
    printf("%-34s %6zu bytes  encode %8.0f ns  decode+free %8.0f ns  (%.1f / %.1f ns per entry)"
           "  baseline memcpy %6.0f ns  ratio %.0fx / %.0fx\n",
           what, w.len, enc, dec, enc / n, dec / n, base, enc / floor, dec / floor);
    free(copy);
    frt_wbuf_free(&w);
    swim__msg_clear(&m);
}

int main(int argc, char** argv)
{
    long iters = 200000;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "-iters")) iters = atol(argv[i + 1]);
    if (iters < 10) iters = 10;
    for (int i = 0; i < 17; i++) snprintf(g_addr[i], sizeof g_addr[i], "tcp://127.0.0.1:%d", 40000 + 17 * i);
    measure("gossip: 64 entries, 16 processes", SWIM_MSG_PING, 64, 16, iters);
    measure("state: 1024 entries, 17 processes", SWIM_MSG_ANNOUNCE_ACK, 1024, 17, iters / 16);
    return 0;
}
