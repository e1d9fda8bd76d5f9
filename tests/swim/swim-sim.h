/*
 * swim-sim.h -- a deterministic simulated network and clock for the SWIM
 * state machine (src/backends/swim/swim-core.h). Header-only, test use.
 *
 * Every node is a swim__t. Calls are delivered after a fixed latency unless
 * the destination is down/paused, the link is cut, or the message is lost;
 * a call whose response has not arrived by its timeout completes with
 * ok=false. Node ticks run at each node's swim__next_deadline. Everything
 * runs on virtual time, so a minute of protocol runs in milliseconds.
 */
#ifndef FLOCK_SWIM_SIM_H
#define FLOCK_SWIM_SIM_H

#include "backends/swim/swim-core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MAX_NODES 1100

typedef struct sim_call {
    int       caller, dest;
    uint64_t  call_id;
    bool      done;
    swim__msg req;
} sim_call;

enum { EV_REQ = 1, EV_RESP, EV_TIMEOUT, EV_REFUSED };

typedef struct sim_ev {
    double    t;
    uint64_t  seq;
    int       type;
    int       call; /* index into calls */
    swim__msg resp; /* EV_RESP */
    bool      resp_ok;
} sim_ev;

typedef struct sim_node {
    swim__t* s;
    char     addr[64];
    uint16_t pid;
    bool     up;     /* false: crashed (drops everything, no ticks) */
    bool     paused; /* SIGSTOP: drops everything, no ticks, state kept */
    int      group;  /* partition group id */
    int      joined_events, left_events, died_events, meta_events;
    int      declared_dead_self_logs;
} sim_node;

typedef struct sim {
    double    now;
    double    latency_ms;
    double    loss; /* probability of losing each message */
    uint64_t  rng;
    int       n;
    sim_node  nodes[SIM_MAX_NODES];
    sim_call* calls;
    size_t    ncalls, capcalls;
    sim_ev*   heap;
    size_t    nheap, capheap;
    uint64_t  seq;
    uint64_t  msgs;  /* requests + responses delivered */
    uint64_t  syncs; /* push-pull state exchanges started */
    uint64_t  state_entries; /* member entries carried by states (requests + answers) */
    uint64_t  diffs, pushes; /* bucketed push-pulls started, and their PUSHes */
    uint64_t  bucket_entries; /* member entries carried by DIFF answers and PUSHes */
    bool      partitioned;
    bool      refuse_down; /* a call to a crashed node is refused at once (its
                              process is gone: nobody listens) instead of timing out */
    /* event hook: (sim, observer, type, addr, pid) */
    void (*on_event)(struct sim*, int, int, const char*, uint16_t);
    /* metadata hook: (sim, observer, key, value or NULL) */
    void (*on_meta)(struct sim*, int, const char*, const char*);
    void* user;
} sim;

static inline double sim_rand(sim* S)
{
    S->rng ^= S->rng >> 12;
    S->rng ^= S->rng << 25;
    S->rng ^= S->rng >> 27;
    return (double)((S->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static inline bool sim_ev_less(const sim_ev* a, const sim_ev* b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static inline void sim_push(sim* S, sim_ev ev)
{
    if (S->nheap == S->capheap) {
        S->capheap = S->capheap ? S->capheap * 2 : 1024;
        S->heap    = realloc(S->heap, S->capheap * sizeof *S->heap);
        if (!S->heap) abort();
    }
    ev.seq     = ++S->seq;
    size_t i   = S->nheap++;
    S->heap[i] = ev;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!sim_ev_less(&S->heap[i], &S->heap[p])) break;
        sim_ev t = S->heap[i];
        S->heap[i] = S->heap[p];
        S->heap[p] = t;
        i          = p;
    }
}

static inline sim_ev sim_pop(sim* S)
{
    sim_ev top = S->heap[0];
    S->heap[0] = S->heap[--S->nheap];
    size_t i   = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < S->nheap && sim_ev_less(&S->heap[l], &S->heap[m])) m = l;
        if (r < S->nheap && sim_ev_less(&S->heap[r], &S->heap[m])) m = r;
        if (m == i) break;
        sim_ev t = S->heap[i];
        S->heap[i] = S->heap[m];
        S->heap[m] = t;
        i          = m;
    }
    return top;
}

static inline bool sim_reachable(sim* S, int a, int b)
{
    sim_node* d = &S->nodes[b];
    if (!d->up || d->paused) return false;
    if (S->partitioned && S->nodes[a].group != d->group) return false;
    if (S->loss > 0 && sim_rand(S) < S->loss) return false;
    return true;
}

static inline int sim_find(sim* S, const char* addr, uint16_t pid)
{
    for (int i = 0; i < S->n; i++)
        if (S->nodes[i].pid == pid && strcmp(S->nodes[i].addr, addr) == 0) return i;
    return -1;
}

static void sim_log(void* ctx, int level, const char* msg)
{
    sim_node* nd = ctx;
    if (strstr(msg, "rejoining")) nd->declared_dead_self_logs++;
    if (getenv("SWIM_SIM_VERBOSE")) fprintf(stderr, "[%s] %s\n", nd->addr, msg);
}

/** Drain node i's outbox into the network. */
static inline void sim_drain(sim* S, int i)
{
    sim_node*     nd = &S->nodes[i];
    swim__outbox* o  = swim__get_outbox(nd->s);
    for (size_t k = 0; k < o->nsends; k++) {
        swim__send* sd = &o->sends[k];
        if (S->ncalls == S->capcalls) {
            S->capcalls = S->capcalls ? S->capcalls * 2 : 1024;
            S->calls    = realloc(S->calls, S->capcalls * sizeof *S->calls);
            if (!S->calls) abort();
        }
        int       c  = (int)S->ncalls++;
        sim_call* cl = &S->calls[c];
        memset(cl, 0, sizeof *cl);
        cl->caller  = i;
        cl->call_id = sd->call_id;
        cl->dest    = sim_find(S, sd->addr, sd->pid);
        if (sd->msg.kind == SWIM_MSG_ANNOUNCE && sd->msg.ann_type == SWIM_ANN_SYNC) S->syncs++;
        if (sd->msg.kind == SWIM_MSG_ANNOUNCE && sd->msg.ann_type == SWIM_ANN_DIFF) S->diffs++;
        if (sd->msg.kind == SWIM_MSG_ANNOUNCE && sd->msg.ann_type == SWIM_ANN_PUSH) {
            S->pushes++;
            S->bucket_entries += sd->msg.nstate;
        }
        S->state_entries += sd->msg.nstate;
        cl->req     = sd->msg; /* moved */
        memset(&sd->msg, 0, sizeof sd->msg);
        if (S->refuse_down && cl->dest >= 0 && !S->nodes[cl->dest].up) {
            sim_ev rf = {.t = S->now, .type = EV_REFUSED, .call = c};
            sim_push(S, rf);
            continue;
        }
        sim_ev to = {.t = S->now + sd->timeout_ms, .type = EV_TIMEOUT, .call = c};
        sim_push(S, to);
        if (cl->dest >= 0 && sim_reachable(S, i, cl->dest)) {
            sim_ev rq = {.t = S->now + S->latency_ms, .type = EV_REQ, .call = c};
            sim_push(S, rq);
        }
    }
    for (size_t k = 0; k < o->nreplies; k++) {
        swim__reply* rp = &o->replies[k];
        int          c  = (int)rp->token;
        S->state_entries += rp->msg.nstate;
        if (rp->msg.nbuckets) S->bucket_entries += rp->msg.nstate;
        sim_call*    cl = &S->calls[c];
        if (sim_reachable(S, i, cl->caller)) {
            sim_ev ev = {.t = S->now + S->latency_ms, .type = EV_RESP, .call = c,
                         .resp = rp->msg, .resp_ok = rp->msg.kind != 0};
            memset(&rp->msg, 0, sizeof rp->msg);
            sim_push(S, ev);
        }
    }
    for (size_t k = 0; k < o->nevents; k++) {
        swim__event* e = &o->events[k];
        if (e->type == SWIM_EV_JOINED) nd->joined_events++;
        if (e->type == SWIM_EV_LEFT) nd->left_events++;
        if (e->type == SWIM_EV_DIED) nd->died_events++;
        if (e->type == SWIM_EV_META) {
            nd->meta_events++;
            if (S->on_meta) S->on_meta(S, i, e->addr, e->value);
            continue;
        }
        if (S->on_event) S->on_event(S, i, e->type, e->addr, e->pid);
    }
    swim__outbox_clear(o);
}

static inline void sim_init(sim* S, uint64_t seed)
{
    memset(S, 0, sizeof *S);
    S->latency_ms = 1.0;
    S->rng        = seed ? seed : 42;
}

/** Add a node (not started). */
static inline int sim_add(sim* S, const swim__config* cfg)
{
    int       i  = S->n++;
    sim_node* nd = &S->nodes[i];
    memset(nd, 0, sizeof *nd);
    snprintf(nd->addr, sizeof nd->addr, "sim://node%03d", i / 4);
    nd->pid = (uint16_t)(1 + i % 4); /* several providers per "process" */
    nd->up  = true;
    nd->s   = swim__create(cfg, nd->addr, nd->pid, S->rng + (uint64_t)i * 7919, S->now,
                           sim_log, nd);
    if (!nd->s) abort();
    return i;
}

static inline void sim_start(sim* S, int i, bool join)
{
    swim__start(S->nodes[i].s, join, S->now);
    sim_drain(S, i);
}

/** Run the simulation until `until` (virtual ms). */
static inline void sim_run(sim* S, double until)
{
    for (;;) {
        double tnode = INFINITY;
        int    inode = -1;
        for (int i = 0; i < S->n; i++) {
            sim_node* nd = &S->nodes[i];
            if (!nd->up || nd->paused) continue;
            double d = swim__next_deadline(nd->s);
            if (d < S->now) d = S->now;
            if (d < tnode) {
                tnode = d;
                inode = i;
            }
        }
        double tev = S->nheap ? S->heap[0].t : INFINITY;
        double t   = fmin(tnode, tev);
        if (t > until || t == INFINITY) break;
        S->now = t;
        if (tev <= tnode) {
            sim_ev    ev = sim_pop(S);
            sim_call* cl = &S->calls[ev.call];
            if (ev.type == EV_REQ) {
                sim_node* d = &S->nodes[cl->dest];
                if (d->up && !d->paused) {
                    S->msgs++;
                    swim__handle_request(d->s, S->now, (uint64_t)ev.call, &cl->req);
                    swim__msg_clear(&S->calls[ev.call].req);
                    sim_drain(S, cl->dest);
                }
            } else if (ev.type == EV_RESP) {
                sim_node* c = &S->nodes[cl->caller];
                if (!cl->done && c->up && !c->paused) {
                    cl->done = true;
                    S->msgs++;
                    swim__handle_response(c->s, S->now, cl->call_id, ev.resp_ok, &ev.resp);
                    sim_drain(S, cl->caller);
                }
                swim__msg_clear(&ev.resp);
            } else if (ev.type == EV_REFUSED) {
                sim_node* c = &S->nodes[cl->caller];
                if (!cl->done && c->up) {
                    cl->done = true;
                    swim__handle_refused(c->s, S->now, cl->call_id, S->nodes[cl->dest].addr,
                                         S->nodes[cl->dest].pid);
                    sim_drain(S, cl->caller);
                }
            } else {
                sim_node* c = &S->nodes[cl->caller];
                if (!cl->done && c->up) {
                    if (c->paused) {
                        /* a stopped process sees its timeouts when it resumes */
                        ev.t = S->now + 1.0;
                        sim_push(S, ev);
                        continue;
                    }
                    cl->done = true;
                    swim__handle_response(c->s, S->now, cl->call_id, false, NULL);
                    sim_drain(S, cl->caller);
                }
            }
        } else {
            swim__tick(S->nodes[inode].s, S->now);
            sim_drain(S, inode);
        }
    }
    S->now = until;
}

static inline void sim_free(sim* S)
{
    for (int i = 0; i < S->n; i++) swim__destroy(S->nodes[i].s);
    for (size_t c = 0; c < S->ncalls; c++) swim__msg_clear(&S->calls[c].req);
    for (size_t k = 0; k < S->nheap; k++) swim__msg_clear(&S->heap[k].resp);
    free(S->calls);
    free(S->heap);
}

/** Crash hint: node `obs` sees its connection with node `about` closed. */
static inline void sim_hint(sim* S, int obs, int about)
{
    if (!S->nodes[obs].up || S->nodes[obs].paused) return;
    swim__hint(S->nodes[obs].s, S->now, S->nodes[about].addr);
    sim_drain(S, obs);
}

/** Number of nodes (among up, unpaused ones other than `except`) whose view has exactly
 *  `want` members. */
static inline int sim_count_view(sim* S, size_t want)
{
    int c = 0;
    for (int i = 0; i < S->n; i++)
        if (S->nodes[i].up && swim__view_size(S->nodes[i].s) == want) c++;
    return c;
}

static inline int sim_up(sim* S)
{
    int c = 0;
    for (int i = 0; i < S->n; i++) c += S->nodes[i].up;
    return c;
}

/** Status of node `about` as seen by `obs` (swim__member_status codes). */
static inline int sim_status(sim* S, int obs, int about)
{
    return swim__member_status(S->nodes[obs].s, S->nodes[about].addr, S->nodes[about].pid, NULL);
}

#endif /* FLOCK_SWIM_SIM_H */
