/*
 * swim-probe.c -- failure detection by probing: one probe round per
 * protocol period (stretched by local health), a direct ping, then
 * ping_req_members helpers asked in parallel (indirect probe); the round
 * ends at the first ack or when every call completed, and only then is the
 * target suspected. Also this member's side as a helper (relaying a
 * PING_REQ), and every ping's buddy notice (a suspect is told).
 *
 * Owns: s->probe (the round in flight), s->next_probe, s->probe_pos (reads
 * and clears s->probe_first), s->awareness (local health: +failed probes,
 * -successful ones; refutations add to it in swim-merge.c).
 * May call: the member table, suspicions (start, confirm), the merge
 * (a helper's ack carries the target's incarnation), the gossip queue,
 * the outbox, pure math. See swim-core-internal.h.
 */
#include "swim-core-internal.h"

#include <math.h>

void swim__send_ping(swim__t* s, uint8_t kind, uint64_t aux, uint32_t idx, double timeout)
{
    swim__msg   msg;
    swim__entry buddy;
    bool        have_buddy = false;
    if (!swim__init_msg(s, &msg, SWIM_MSG_PING)) return;
    const member* m = &s->members[idx];
    if (s->cfg.lifeguard_buddy && m->status == ST_SUSPECT) {
        /* buddy system: tell the suspect directly so it can refute at once */
        memset(&buddy, 0, sizeof buddy);
        buddy.type      = SWIM_E_SUSPECT;
        buddy.pid       = m->pid;
        buddy.inc       = m->inc;
        buddy.addr      = (char*)m->addr; /* borrowed */
        buddy.from_addr = (char*)s->members[s->self].addr;
        buddy.from_pid  = s->members[s->self].pid;
        have_buddy      = true;
    }
    swim__attach_gossip(s, &msg, have_buddy ? &buddy : NULL);
    m = &s->members[idx];
    swim__emit_send(s, kind, aux, m->addr, m->pid, timeout, &msg);
}

/** The probe of s->probe ends: local health moves; on failure the target
 *  is suspected (or our suspicion confirmed). */
static void probe_end(swim__t* s, double now, bool success)
{
    if (!s->probe.active) return;
    uint32_t idx = swim__find_member(s, s->probe.addr, s->probe.pid);
    if (success) {
        if (s->cfg.lifeguard_local_health)
            s->awareness = swim__awareness_apply(s->awareness, -1, (int)s->cfg.local_health_max);
    } else {
        int delta = swim__probe_fail_delta(s->probe.expected_nacks, s->probe.nacks);
        if (s->cfg.lifeguard_local_health)
            s->awareness =
                swim__awareness_apply(s->awareness, delta, (int)s->cfg.local_health_max);
        if (idx != NONE && swim__in_view(&s->members[idx]) && !s->leaving) {
            member*  m    = &s->members[idx];
            uint64_t skey = s->self_key;
            if (m->status == ST_ALIVE) {
                swim__logf(s, SWIM_LOG_DEBUG, "suspecting %s/%u (incarnation %llu)", m->addr,
                     (unsigned)m->pid, (unsigned long long)m->inc);
                swim__start_suspicion(s, idx, m->inc, skey, s->self, now);
            } else if (swim__msusp(s, m)) {
                suspicion* sp     = swim__msusp(s, m);
                unsigned   before = sp->n;
                swim__confirm_suspicion(sp, skey);
                s->next_susp = fmin(s->next_susp, swim__susp_wake(s, sp));
                if (sp->n != before) swim__enqueue(s, idx, SWIM_E_SUSPECT, m->inc, s->self);
            }
        }
    }
    free(s->probe.addr);
    s->probe.addr   = NULL;
    s->probe.active = false;
    double nxt      = now;
    if (s->next_probe < nxt) s->next_probe = nxt;
}

/** Start a probe round: the suspect heard of, else the next member in the
 *  shuffled order; ping it directly. */
static void probe_start(swim__t* s, double now)
{
    uint32_t target = NONE;
    /* a suspicion heard through gossip: probe the suspect in this round
     * (instead of the next member in order) -- a dead one gets the
     * independent confirmations that shorten the suspicion timeout, a live
     * one hears the suspicion (buddy notice) and refutes */
    uint32_t f     = s->probe_first;
    s->probe_first = NONE;
    if (f != NONE && f < s->nmembers && f != s->self && s->members[f].status == ST_SUSPECT)
        target = f;
    for (uint32_t step = 0; step <= s->norder && target == NONE; step++) {
        if (s->probe_pos >= s->norder) {
            swim__order_shuffle(s);
            s->probe_pos = 0;
            if (s->norder == 0) break;
        }
        uint32_t idx = s->order[s->probe_pos++];
        if (idx != s->self && swim__in_view(&s->members[idx])) target = idx;
    }
    s->next_probe = now + swim__scaled(s, s->cfg.protocol_period_ms);
    if (target == NONE) return;
    char* a = strdup(s->members[target].addr);
    if (!a) return;
    s->probe.active         = true;
    s->probe.seq++;
    s->probe.addr           = a;
    s->probe.pid            = s->members[target].pid;
    s->probe.outstanding    = 1;
    s->probe.expected_nacks = 0;
    s->probe.nacks          = 0;
    s->probe.ping_failed    = false;
    swim__send_ping(s, CALL_PROBE_PING, s->probe.seq, target, swim__scaled(s, s->cfg.ping_timeout_ms));
}

/** The direct ping failed: ask helpers to probe indirectly. */
static void probe_indirect(swim__t* s, double now)
{
    uint32_t target = swim__find_member(s, s->probe.addr, s->probe.pid);
    uint32_t helpers[SWIM_MAX_PING_REQ];
    uint64_t cand = s->nview >= 2 ? s->nview - 2 : 0; /* minus self and target */
    if (target == NONE || !swim__in_view(&s->members[target])) cand = s->nview >= 1 ? s->nview - 1 : 0;
    unsigned k = swim__ping_req_count(s->cfg.ping_req_members, cand);
    uint32_t n = swim__pick_members(s, k, target, helpers);
    double   t = swim__scaled(s, s->cfg.ping_req_timeout_ms);
    for (uint32_t i = 0; i < n; i++) {
        swim__msg msg;
        if (!swim__init_msg(s, &msg, SWIM_MSG_PING_REQ)) continue;
        msg.target_addr = strdup(s->probe.addr);
        msg.target_pid  = s->probe.pid;
        msg.timeout_ms  = 0.8 * t; /* the helper answers (nack) before we give up */
        if (!msg.target_addr) {
            swim__msg_clear(&msg);
            continue;
        }
        swim__attach_gossip(s, &msg, NULL);
        const member* h = &s->members[helpers[i]];
        if (swim__emit_send(s, CALL_PROBE_PING_REQ, s->probe.seq, h->addr, h->pid, t, &msg)) {
            s->probe.outstanding++;
            s->probe.expected_nacks++;
        }
    }
    if (s->probe.outstanding == 0) probe_end(s, now, false);
}

/* Tick phase 3: a probe round, when none is running and one is due. */
void swim__probe_due(swim__t* s, double now)
{
    if (s->probe.active || now < s->next_probe) return;
    if (s->nview >= 2)
        probe_start(s, now);
    else
        s->next_probe = now + s->cfg.protocol_period_ms;
}

void swim__probe_ping_done(swim__t* s, double now, const pending* pc, bool ok,
                           const swim__msg* resp)
{
    if (!s->probe.active || pc->aux != s->probe.seq) return;
    s->probe.outstanding--;
    if (ok && resp && resp->kind == SWIM_MSG_ACK) {
        probe_end(s, now, true);
    } else {
        s->probe.ping_failed = true;
        probe_indirect(s, now);
    }
}

void swim__probe_ping_req_done(swim__t* s, double now, const pending* pc, bool ok,
                               const swim__msg* resp)
{
    if (!s->probe.active || pc->aux != s->probe.seq) return;
    s->probe.outstanding--;
    if (ok && resp && resp->kind == SWIM_MSG_PING_REQ_ACK) {
        if (resp->responded) {
            swim__entry e = {.type = SWIM_E_ALIVE, .pid = s->probe.pid,
                             .inc  = resp->target_inc, .addr = s->probe.addr};
            swim__apply_entry(s, now, &e, true);
            probe_end(s, now, true);
            return;
        }
        s->probe.nacks++;
    }
    if (s->probe.outstanding <= 0) probe_end(s, now, false);
}

/* The ping relayed for a PING_REQ completed: answer the PING_REQ. */
void swim__relay_done(swim__t* s, const pending* pc, bool ok, const swim__msg* resp)
{
    swim__msg rep;
    if (!swim__init_msg(s, &rep, SWIM_MSG_PING_REQ_ACK)) {
        swim__emit_reply(s, pc->aux, &rep);
        return;
    }
    rep.responded  = ok && resp && resp->kind == SWIM_MSG_ACK;
    rep.target_inc = rep.responded ? resp->sender_inc : 0;
    rep.known_mask = pc->mask;
    swim__attach_gossip(s, &rep, NULL);
    swim__emit_reply(s, pc->aux, &rep);
}

bool swim__answer_ping_req(swim__t* s, uint64_t token, const swim__msg* req, uint64_t known,
                           const swim__entry* notice, swim__msg* rep)
{
    if (!swim__valid_addr(req->target_addr)) {
        if (!swim__init_msg(s, rep, SWIM_MSG_PING_REQ_ACK)) return false;
        rep->responded = 0;
        swim__attach_gossip(s, rep, notice);
        return false;
    }
    uint32_t t = swim__find_member(s, req->target_addr, req->target_pid);
    if (t == s->self) {
        if (!swim__init_msg(s, rep, SWIM_MSG_PING_REQ_ACK)) return false;
        rep->responded  = 1;
        rep->target_inc = s->members[s->self].inc;
        swim__attach_gossip(s, rep, NULL);
        return false;
    }
    /* relay: ping the target, answer when that completes */
    swim__msg ping;
    if (!swim__init_msg(s, &ping, SWIM_MSG_PING)) return false;
    swim__attach_gossip(s, &ping, NULL);
    double to = req->timeout_ms;
    if (!(to >= 1.0)) to = s->cfg.ping_timeout_ms;
    if (to > 60000.0) to = 60000.0;
    if (swim__emit_send(s, CALL_RELAY, token, req->target_addr, req->target_pid, to, &ping)) {
        s->calls[s->ncalls - 1].mask = known;
        return true; /* reply later */
    }
    swim__init_msg(s, rep, SWIM_MSG_PING_REQ_ACK);
    return false;
}
