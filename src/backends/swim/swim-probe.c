/*
 * swim-probe.c -- failure detection by probing: one probe round per
 * protocol period (stretched by local health), a direct ping, then
 * ping_req_members helpers asked in parallel (indirect probe); the round
 * ends at the first ack or when every call completed, and only then is the
 * target suspected. Crash hints (a connection the peer closed, a call
 * refused at once) start the same probe of that member at once, beside the
 * round (SWIM_HINT_SLOTS at a time, one per member and period). A probe
 * whose ping was refused, and whose helpers' relayed pings were all
 * refused too, found nobody listening: the suspicion it starts is hard
 * (swim__suspicion_harden). Also this member's side as a helper (relaying
 * a PING_REQ, reporting a refused relay), and every ping's buddy notice.
 *
 * Owns: s->probe (the round in flight), s->hints (crash-hint probes),
 * s->probe_seq, s->hint_recent, s->next_probe, s->probe_pos (reads and
 * clears s->probe_first), s->awareness (local health: +failed probes,
 * -successful ones; refutations add to it in swim-merge.c).
 * May call: the member table, suspicions (start, confirm, harden), the
 * merge (a helper's ack carries the target's incarnation), the gossip
 * queue, the outbox, pure math. See swim-core-internal.h.
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
    swim__attach_gossip(s, &msg, have_buddy ? &buddy : NULL, swim__peer_has_view(s, idx));
    if (kind == CALL_GOSSIP && msg.ngossip == 0 && msg.nmeta == 0) {
        /* the peer already has every piece of news: a dedicated gossip
         * message would carry nothing */
        swim__drop_last_refs(s);
        swim__msg_clear(&msg);
        return;
    }
    m = &s->members[idx];
    swim__emit_send(s, kind, aux, m->addr, m->pid, timeout, &msg);
}

static probe_slot* slot_of(swim__t* s, uint64_t seq)
{
    if (s->probe.active && s->probe.seq == seq) return &s->probe;
    for (unsigned i = 0; i < SWIM_HINT_SLOTS; i++)
        if (s->hints[i].active && s->hints[i].seq == seq) return &s->hints[i];
    return NULL;
}

/** Nobody listens at the target: our ping was refused, and so was the
 *  relayed ping of every helper that answered (at least one, if any was
 *  asked; a helper that timed out says nothing either way). */
static bool probe_hard(const probe_slot* p)
{
    if (!p->ping_refused) return false;
    if (p->expected_nacks == 0) return true;
    return p->refused_nacks > 0 && p->refused_nacks == p->nacks;
}

/** A probe ends: local health moves (not for a hint's probe); on failure
 *  the target is suspected (or our suspicion confirmed), hard if nobody
 *  listens there. */
static void probe_end(swim__t* s, double now, probe_slot* p, bool success)
{
    if (!p->active) return;
    uint32_t idx = swim__find_member(s, p->addr, p->pid);
    if (success) {
        if (s->cfg.lifeguard_local_health && !p->hint)
            s->awareness = swim__awareness_apply(s->awareness, -1, (int)s->cfg.local_health_max);
    } else {
        int delta = swim__probe_fail_delta(p->expected_nacks, p->nacks);
        if (s->cfg.lifeguard_local_health && !p->hint)
            s->awareness =
                swim__awareness_apply(s->awareness, delta, (int)s->cfg.local_health_max);
        if (idx != NONE && swim__in_view(&s->members[idx]) && !s->leaving) {
            member*  m    = &s->members[idx];
            uint64_t skey = s->self_key;
            bool     hard = probe_hard(p);
            if (m->status == ST_ALIVE) {
                swim__logf(s, SWIM_LOG_DEBUG, "suspecting %s/%u (incarnation %llu)%s", m->addr,
                           (unsigned)m->pid, (unsigned long long)m->inc,
                           hard ? ": nobody listens there" : "");
                swim__start_suspicion(s, idx, m->inc, skey, s->self, now);
            } else if (swim__msusp(s, m)) {
                suspicion* sp     = swim__msusp(s, m);
                unsigned   before = sp->n;
                swim__confirm_suspicion(sp, skey);
                s->next_susp = fmin(s->next_susp, swim__susp_wake(s, sp));
                if (sp->n != before) swim__enqueue(s, idx, SWIM_E_SUSPECT, m->inc, s->self);
            }
            if (hard) swim__suspicion_harden(s, now, idx);
        }
    }
    free(p->addr);
    p->addr   = NULL;
    p->active = false;
    if (p == &s->probe && s->next_probe < now) s->next_probe = now;
}

/** Start probe p of member target: ping it directly. */
static void probe_launch(swim__t* s, probe_slot* p, uint32_t target, bool hint)
{
    char* a = strdup(s->members[target].addr);
    if (!a) return;
    memset(p, 0, sizeof *p);
    p->active      = true;
    p->hint        = hint;
    p->seq         = ++s->probe_seq;
    p->addr        = a;
    p->pid         = s->members[target].pid;
    p->outstanding = 1;
    swim__send_ping(s, CALL_PROBE_PING, p->seq, target, swim__scaled(s, s->cfg.ping_timeout_ms));
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
    if (target != NONE) probe_launch(s, &s->probe, target, false);
}

/** The direct ping failed: ask helpers to probe indirectly. */
static void probe_indirect(swim__t* s, double now, probe_slot* p)
{
    uint32_t target = swim__find_member(s, p->addr, p->pid);
    uint32_t helpers[SWIM_MAX_PING_REQ];
    uint64_t cand = s->nview >= 2 ? s->nview - 2 : 0; /* minus self and target */
    if (target == NONE || !swim__in_view(&s->members[target])) cand = s->nview >= 1 ? s->nview - 1 : 0;
    unsigned k = swim__ping_req_count(s->cfg.ping_req_members, cand);
    uint32_t n = swim__pick_members(s, k, target, helpers);
    double   t = swim__scaled(s, s->cfg.ping_req_timeout_ms);
    for (uint32_t i = 0; i < n; i++) {
        swim__msg msg;
        if (!swim__init_msg(s, &msg, SWIM_MSG_PING_REQ)) continue;
        msg.target_addr = strdup(p->addr);
        msg.target_pid  = p->pid;
        msg.timeout_ms  = 0.8 * t; /* the helper answers (nack) before we give up */
        if (!msg.target_addr) {
            swim__msg_clear(&msg);
            continue;
        }
        swim__attach_gossip(s, &msg, NULL, swim__peer_has_view(s, helpers[i]));
        const member* h = &s->members[helpers[i]];
        if (swim__emit_send(s, CALL_PROBE_PING_REQ, p->seq, h->addr, h->pid, t, &msg)) {
            p->outstanding++;
            p->expected_nacks++;
        }
    }
    if (p->outstanding == 0) probe_end(s, now, p, false);
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

bool swim__probe_busy(const swim__t* s) { return s->probe.active; }

/** A crash hint about member idx: probe it now, beside the round, unless it
 *  is probed already, was hinted within the last period, or every hint
 *  slot is busy. */
void swim__hint_member(swim__t* s, double now, uint32_t idx)
{
    if (!s->cfg.crash_hints || !s->started || s->leaving || idx == NONE || idx == s->self ||
        idx >= s->nmembers || !swim__in_view(&s->members[idx]))
        return;
    const member* m   = &s->members[idx];
    uint64_t      key = swim__member_key(m);
    for (unsigned i = 0; i < SWIM_HINT_RECENT; i++)
        if (s->hint_recent[i].key == key && now - s->hint_recent[i].at < s->cfg.protocol_period_ms)
            return;
    probe_slot* free_slot = NULL;
    for (unsigned i = 0; i < SWIM_HINT_SLOTS + 1; i++) {
        probe_slot* p = i == 0 ? &s->probe : &s->hints[i - 1];
        if (p->active && p->pid == m->pid && strcmp(p->addr, m->addr) == 0) return;
        if (i > 0 && !p->active && !free_slot) free_slot = p;
    }
    if (!free_slot) return;
    s->hint_recent[s->hint_recent_pos].key = key;
    s->hint_recent[s->hint_recent_pos].at  = now;
    s->hint_recent_pos                     = (s->hint_recent_pos + 1) % SWIM_HINT_RECENT;
    swim__logf(s, SWIM_LOG_DEBUG, "crash hint: probing %s/%u now", m->addr, (unsigned)m->pid);
    probe_launch(s, free_slot, idx, true);
}

void swim__hint_addr(swim__t* s, double now, const char* addr)
{
    if (!s->cfg.crash_hints || !swim__valid_addr(addr)) return;
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (i != s->self && swim__in_view(&s->members[i]) && strcmp(s->members[i].addr, addr) == 0)
            swim__hint_member(s, now, i);
}

void swim__probe_ping_refused(swim__t* s, uint64_t seq)
{
    probe_slot* p = slot_of(s, seq);
    if (p) p->ping_refused = true;
}

void swim__probe_ping_done(swim__t* s, double now, const pending* pc, bool ok,
                           const swim__msg* resp)
{
    probe_slot* p = slot_of(s, pc->aux);
    if (!p) return;
    p->outstanding--;
    if (ok && resp && resp->kind == SWIM_MSG_ACK)
        probe_end(s, now, p, true);
    else
        probe_indirect(s, now, p);
}

void swim__probe_ping_req_done(swim__t* s, double now, const pending* pc, bool ok,
                               const swim__msg* resp)
{
    probe_slot* p = slot_of(s, pc->aux);
    if (!p) return;
    p->outstanding--;
    if (ok && resp && resp->kind == SWIM_MSG_PING_REQ_ACK) {
        if (resp->responded == 1) {
            swim__entry e = {.type = SWIM_E_ALIVE, .pid = p->pid,
                             .inc  = resp->target_inc, .addr = p->addr};
            swim__apply_entry(s, now, &e, true);
            probe_end(s, now, p, true);
            return;
        }
        p->nacks++;
        if (resp->responded == SWIM_PING_REQ_REFUSED) p->refused_nacks++;
    }
    if (p->outstanding <= 0) probe_end(s, now, p, false);
}

/* The ping relayed for a PING_REQ completed: answer the PING_REQ (a ping
 * that could not even connect is reported as refused). */
void swim__relay_done(swim__t* s, const pending* pc, bool ok, bool refused,
                      const swim__msg* resp)
{
    swim__msg rep;
    if (!swim__init_msg(s, &rep, SWIM_MSG_PING_REQ_ACK)) {
        swim__emit_reply(s, pc->aux, &rep);
        return;
    }
    rep.responded  = ok && resp && resp->kind == SWIM_MSG_ACK ? 1
                     : refused                                ? SWIM_PING_REQ_REFUSED
                                                              : 0;
    rep.target_inc = rep.responded == 1 ? resp->sender_inc : 0;
    rep.known_mask = pc->mask;
    swim__attach_gossip(s, &rep, NULL, false);
    swim__emit_reply(s, pc->aux, &rep);
}

void swim__probe_free(swim__t* s)
{
    free(s->probe.addr);
    s->probe.addr = NULL;
    for (unsigned i = 0; i < SWIM_HINT_SLOTS; i++) {
        free(s->hints[i].addr);
        s->hints[i].addr = NULL;
    }
}

size_t swim__probe_memory(const swim__t* s)
{
    size_t b = 0;
    for (unsigned i = 0; i < SWIM_HINT_SLOTS + 1; i++) {
        const probe_slot* p = i == 0 ? &s->probe : &s->hints[i - 1];
        if (p->addr) b += ((strlen(p->addr) + 1 + 8 + 15) & ~(size_t)15) < 32 ? 32
                          : ((strlen(p->addr) + 1 + 8 + 15) & ~(size_t)15);
    }
    return b;
}

bool swim__answer_ping_req(swim__t* s, uint64_t token, const swim__msg* req, uint64_t known,
                           const swim__entry* notice, swim__msg* rep)
{
    if (!swim__valid_addr(req->target_addr)) {
        if (!swim__init_msg(s, rep, SWIM_MSG_PING_REQ_ACK)) return false;
        rep->responded = 0;
        swim__attach_gossip(s, rep, notice, swim__msg_has_view(s, req));
        return false;
    }
    uint32_t t = swim__find_member(s, req->target_addr, req->target_pid);
    if (t == s->self) {
        if (!swim__init_msg(s, rep, SWIM_MSG_PING_REQ_ACK)) return false;
        rep->responded  = 1;
        rep->target_inc = s->members[s->self].inc;
        swim__attach_gossip(s, rep, NULL, swim__msg_has_view(s, req));
        return false;
    }
    /* relay: ping the target, answer when that completes */
    swim__msg ping;
    if (!swim__init_msg(s, &ping, SWIM_MSG_PING)) return false;
    swim__attach_gossip(s, &ping, NULL, t != NONE && swim__peer_has_view(s, t));
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
