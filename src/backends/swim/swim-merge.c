/*
 * swim-merge.c -- what an entry (gossip, state exchange, announcement, a
 * message's sender) does to the membership: the precedence rules
 * (swim__entry_verdict, swim__entry_self_verdict in swim-math.c) applied
 * to the member table, with the events (JOINED, LEFT, DIED), the re-gossip
 * of changes, refutation of news about self, and the "you are dead" notice
 * for a sender we hold as a tombstone.
 *
 * Owns: no structure of its own; it is the one place that changes a
 * member's status and incarnation from received news (self's incarnation
 * included, by refutation), and s->probe_first (a suspect heard of).
 * May call: the member table, suspicions, the gossip queue, the outbox
 * (events, log), pure math. See swim-core-internal.h.
 */
#include "swim-core-internal.h"

#include <math.h>

/** Raise self's incarnation above seen_inc and gossip it (ALIVE). */
static void refute(swim__t* s, uint64_t seen_inc, bool health_penalty)
{
    member* me = &s->members[s->self];
    me->inc    = swim__refute_incarnation(seen_inc, me->inc);
    swim__enqueue(s, s->self, SWIM_E_ALIVE, me->inc, NONE);
    if (health_penalty && s->cfg.lifeguard_local_health)
        s->awareness = swim__awareness_apply(s->awareness, 1, (int)s->cfg.local_health_max);
}

/** News about self: refute what does not hold (not while leaving). */
static bool apply_about_self(swim__t* s, double now, const swim__entry* e)
{
    member* me = &s->members[s->self];
    if (s->leaving) return false;
    switch (swim__entry_self_verdict(e->type, e->inc, me->inc)) {
    case SWIM_SELF_REFUTE_SUSPECT:
        swim__logf(s, SWIM_LOG_DEBUG, "refuting suspicion (incarnation %llu)",
                   (unsigned long long)e->inc);
        refute(s, e->inc, true);
        return true;
    case SWIM_SELF_REFUTE_GONE:
        refute(s, e->inc, true);
        swim__mark_removed(s, now);
        swim__logf(s, SWIM_LOG_WARN,
                   "this member was declared %s by the group (incarnation %llu); rejoining "
                   "with incarnation %llu",
                   e->type == SWIM_E_LEAVE ? "departed" : "dead", (unsigned long long)e->inc,
                   (unsigned long long)me->inc);
        return true;
    case SWIM_SELF_REFUTE_ALIVE:
        refute(s, e->inc, false);
        return true;
    default:
        return false;
    }
}

/** News about a member not in the table: a newcomer (JOINED) or a
 *  tombstone remembered so that stale ALIVE gossip cannot add it later. */
static bool apply_about_unknown(swim__t* s, double now, const swim__entry* e, bool requeue)
{
    uint32_t idx;
    switch (swim__entry_verdict(e->type, e->inc, SWIM_ST_UNKNOWN, 0)) {
    case SWIM_V_ALIVE:
        idx = swim__add_member(s, now, e->addr, e->pid, e->inc, ST_ALIVE);
        if (idx == NONE) return false;
        swim__emit_event(s, SWIM_EV_JOINED, &s->members[idx]);
        if (requeue) swim__enqueue_entered(s, idx, SWIM_E_ALIVE, e->inc);
        return true;
    case SWIM_V_TOMBSTONE:
        idx = swim__add_member(s, now, e->addr, e->pid, e->inc,
                               e->type == SWIM_E_LEAVE ? ST_LEFT : ST_DEAD);
        if (idx == NONE) return false;
        if (requeue) swim__enqueue(s, idx, e->type, e->inc, NONE);
        return true;
    default:
        return false; /* SUSPECT about an unknown member: nothing to suspect */
    }
}

/** ALIVE at a higher incarnation: refreshed, or back from a tombstone. */
static void become_alive(swim__t* s, double now, uint32_t idx, const swim__entry* e,
                         bool requeue)
{
    member* m       = &s->members[idx];
    bool    was_out = !swim__in_view(m);
    if (was_out) {
        s->ntomb--;
        swim__view_enter(s, idx, now);
        swim__order_add(s, idx);
        m = &s->members[idx];
    }
    swim__free_susp(s, m);
    m->status = ST_ALIVE;
    m->inc    = e->inc;
    m->since  = swim__rel_time(s, now);
    if (was_out) swim__emit_event(s, SWIM_EV_JOINED, m);
    if (was_out) swim__enqueue_entered(s, idx, SWIM_E_ALIVE, e->inc);
    else if (requeue) swim__enqueue(s, idx, SWIM_E_ALIVE, e->inc, NONE);
}

/** SUSPECT: a new suspicion, or a possible confirmation of the current one.
 *  Returns whether our state changed. */
static bool apply_suspect(swim__t* s, double now, uint32_t idx, const swim__entry* e,
                          bool requeue, bool fresh)
{
    uint64_t fkey = e->from_addr && swim__valid_addr(e->from_addr)
                        ? swim__hash_member(e->from_addr, e->from_pid)
                        : 0;
    uint32_t from = e->from_addr ? swim__find_member_memo(s, e->from_addr, e->from_pid) : NONE;
    if (fresh) {
        /* queued even in a state merge: the suspect must hear it to refute */
        swim__start_suspicion(s, idx, e->inc, fkey, from, now);
        if (s->cfg.lifeguard_suspicion && fkey != s->self_key) s->probe_first = idx;
        return true;
    }
    /* already suspected at this incarnation: an independent confirmation? */
    suspicion* sp = swim__msusp(s, &s->members[idx]);
    if (sp && fkey) {
        unsigned before = sp->n;
        swim__confirm_suspicion(sp, fkey);
        s->next_susp = fmin(s->next_susp, swim__susp_wake(s, sp));
        if (sp->n != before) {
            if (requeue) swim__enqueue(s, idx, SWIM_E_SUSPECT, e->inc, from);
            return true;
        }
    }
    return false;
}

/**
 * Apply one gossip/state entry. `requeue`: re-gossip changes (false for
 * state merges, whose content is not news). Returns true if the entry
 * changed our state.
 */
bool swim__apply_entry(swim__t* s, double now, const swim__entry* e, bool requeue)
{
    if (!swim__valid_addr(e->addr) || e->type > SWIM_E_MAX) return false;
    uint32_t idx = swim__find_member_memo(s, e->addr, e->pid);
    if (idx == s->self) return apply_about_self(s, now, e);
    if (idx == NONE) return apply_about_unknown(s, now, e, requeue);

    member* m = &s->members[idx];
    switch (swim__entry_verdict(e->type, e->inc, m->status, m->inc)) {
    case SWIM_V_ALIVE:
        become_alive(s, now, idx, e, requeue);
        return true;
    case SWIM_V_SUSPECT:
        return apply_suspect(s, now, idx, e, requeue, true);
    case SWIM_V_CONFIRM:
        return apply_suspect(s, now, idx, e, requeue, false);
    case SWIM_V_DOUBT: /* DEAD about a member we hold ALIVE */
        return swim__suspicion_doubt(s, now, idx, e->inc);
    case SWIM_V_GONE: { /* CONFIRM / LEAVE about a member in the view */
        const suspicion* sp = swim__msusp(s, m);
        if (e->type == SWIM_E_CONFIRM && sp && sp->doubt && e->inc == m->inc)
            return false; /* a doubt: only its own expiry removes the member */
        uint8_t st = e->type == SWIM_E_LEAVE ? ST_LEFT : ST_DEAD;
        m->inc     = e->inc;
        swim__leave_view(s, m, st, now);
        swim__emit_event(s, st == ST_LEFT ? SWIM_EV_LEFT : SWIM_EV_DIED, m);
        swim__enqueue(s, idx, e->type, e->inc, NONE);
        return true;
    }
    case SWIM_V_TOMBSTONE: /* a newer verdict about a tombstone */
        m->inc   = e->inc;
        m->since = swim__rel_time(s, now);
        if (requeue) swim__enqueue(s, idx, e->type, e->inc, NONE);
        return true;
    default:
        return false;
    }
}

/** Apply entries; returns the feedback mask (bit i: entry i was not news). */
uint64_t swim__apply_list(swim__t* s, double now, const swim__entry* list, uint32_t n,
                           bool requeue)
{
    uint64_t mask = 0;
    uint32_t lim  = n < SWIM_MAX_STATE_WIRE ? n : SWIM_MAX_STATE_WIRE;
    /* the memo names this list's addresses: valid for this call only */
    s->memo.n = s->memo.next = 0;
    s->memo_on = true;
    for (uint32_t i = 0; i < lim; i++)
        if (!swim__apply_entry(s, now, &list[i], requeue) && i < 64) mask |= 1ULL << i;
    s->memo_on = false;
    return mask;
}

/**
 * Note the sender of a message: it is evidently alive at its incarnation.
 * If we hold a tombstone that the sender's incarnation does not beat, fill
 * *notice with the tombstone so the reply tells the sender it is dead.
 * *sender gets the sender's member index (NONE if it has none).
 */
bool swim__note_sender(swim__t* s, double now, const char* addr, uint16_t pid, uint64_t inc,
                        swim__entry* notice, uint32_t* sender)
{
    *sender = NONE;
    if (!swim__valid_addr(addr)) return false;
    swim__entry e = {.type = SWIM_E_ALIVE, .pid = pid, .inc = inc, .addr = (char*)addr};
    swim__apply_entry(s, now, &e, true);
    uint32_t idx = swim__find_member(s, addr, pid);
    *sender      = idx;
    if (notice && idx != NONE && idx != s->self && !swim__in_view(&s->members[idx])) {
        const member* m = &s->members[idx];
        memset(notice, 0, sizeof *notice);
        notice->type = m->status == ST_LEFT ? SWIM_E_LEAVE : SWIM_E_CONFIRM;
        notice->pid  = m->pid;
        notice->inc  = m->inc;
        notice->addr = (char*)m->addr; /* borrowed: attach_gossip copies it */
        return true;
    }
    return false;
}
