/*
 * swim-suspicion.c -- suspicions: a pool of timers indexed from the
 * suspected member (104 B each, freed when none is left), Lifeguard's
 * dynamic timeout (independent confirmations shrink it from max to min),
 * the last-chance check a ping timeout before the deadline, and expiry
 * (SUSPECT -> DEAD, announced as CONFIRM).
 *
 * Owns: s->susps/susp_next/capsusps/susp_free, s->nsuspect, s->next_susp,
 * member.susp (the index into the pool).
 * May call: the member table (leave_view), the gossip queue (enqueue),
 * the outbox (events, log), swim__send_ping (the last-chance check), pure
 * math. See swim-core-internal.h.
 */
#include "swim-core-internal.h"

#include <math.h>

/** A zeroed suspicion from the pool; NONE on allocation failure. */
static uint32_t susp_alloc(swim__t* s)
{
    if (s->susp_free == NONE) {
        uint32_t   nc = s->capsusps ? s->capsusps * 2 : 4;
        suspicion* ns = realloc(s->susps, (size_t)nc * sizeof *ns);
        if (!ns) return NONE;
        s->susps      = ns;
        uint32_t* nn  = realloc(s->susp_next, (size_t)nc * sizeof *nn);
        if (!nn) return NONE;
        s->susp_next  = nn;
        for (uint32_t i = nc; i > s->capsusps; i--) {
            s->susp_next[i - 1] = s->susp_free;
            s->susp_free        = i - 1;
        }
        s->capsusps = nc;
    }
    uint32_t i   = s->susp_free;
    s->susp_free = s->susp_next[i];
    memset(&s->susps[i], 0, sizeof s->susps[i]);
    return i;
}

void swim__free_susp(swim__t* s, member* m)
{
    if (m->susp == NONE) return;
    s->susp_next[m->susp] = s->susp_free;
    s->susp_free          = m->susp;
    m->susp               = NONE;
    s->nsuspect--;
    if (s->nsuspect == 0 && s->capsusps > 16) {
        /* a burst of suspicions is over: give the pool back */
        free(s->susps);
        free(s->susp_next);
        s->susps     = NULL;
        s->susp_next = NULL;
        s->capsusps  = 0;
        s->susp_free = NONE;
    }
}

static double susp_deadline(const suspicion* sp)
{
    return sp->start + swim__suspicion_timeout_ms(sp->n, sp->k, sp->min_ms, sp->max_ms);
}

/*
 * Last-chance check (with the buddy system): a ping timeout before a
 * suspicion expires, the member pings the suspect directly, telling it
 * that it is suspected. A live suspect refutes on the spot and its ack
 * carries the new incarnation, which clears the suspicion before the
 * deadline; a dead one does not answer and is declared at the deadline as
 * before (no detection delay). This closes the hole gossip leaves open in
 * large, loaded groups: a member that missed the refutation's gossip used
 * to declare a live member dead on its own (seen at N = 1024).
 */
static double check_lead(const swim__t* s, const suspicion* sp)
{
    return swim__check_lead_ms(swim__scaled(s, s->cfg.ping_timeout_ms), sp->min_ms);
}

/* when the machine must look at this suspicion next */
double swim__susp_wake(const swim__t* s, const suspicion* sp)
{
    double dl = susp_deadline(sp);
    if (s->cfg.lifeguard_buddy && !sp->checked) dl -= check_lead(s, sp);
    return dl;
}

/* suspectors are told apart by 32 bits of their hash: a collision (odds
 * ~k^2/2^33 for k suspectors) only counts two confirmations as one */
static uint32_t fold32(uint64_t key) { return (uint32_t)(key ^ (key >> 32)); }

void swim__confirm_suspicion(suspicion* sp, uint64_t who)
{
    uint32_t w = fold32(who);
    for (unsigned i = 0; i < sp->nconfirmers; i++)
        if (sp->confirmers[i] == w) return;
    if (sp->nconfirmers < MAX_CONFIRMERS) sp->confirmers[sp->nconfirmers++] = w;
    if (sp->n < sp->k) sp->n++;
}

/** Start suspecting member idx (ALIVE -> SUSPECT). */
void swim__start_suspicion(swim__t* s, uint32_t idx, uint64_t inc, uint64_t from_key,
                            uint32_t from, double now)
{
    member* m = &s->members[idx];
    swim__free_susp(s, m);
    m->status = ST_SUSPECT;
    m->inc    = inc;
    m->since  = swim__rel_time(s, now);
    uint32_t si = susp_alloc(s);
    if (si != NONE) {
        suspicion* sp = &s->susps[si];
        sp->start  = now;
        sp->min_ms = swim__suspicion_min_ms(s->cfg.suspicion_timeout_ms, s->cfg.suspicion_mult,
                                            s->nview, s->cfg.protocol_period_ms);
        if (s->cfg.lifeguard_suspicion) {
            sp->k      = swim__suspicion_expected((unsigned)s->cfg.suspicion_confirmations,
                                                  s->nview);
            sp->max_ms = sp->min_ms * s->cfg.suspicion_max_mult;
        } else {
            sp->k      = 0;
            sp->max_ms = sp->min_ms;
        }
        sp->confirmers[0] = fold32(from_key);
        sp->nconfirmers   = 1;
        sp->checked       = false;
        m->susp           = si;
        s->nsuspect++;
        s->next_susp = fmin(s->next_susp, swim__susp_wake(s, sp));
    }
    swim__enqueue(s, idx, SWIM_E_SUSPECT, inc, from);
}

void swim__suspicion_harden(swim__t* s, double now, uint32_t idx)
{
    member*    m  = &s->members[idx];
    suspicion* sp = swim__msusp(s, m);
    if (m->status != ST_SUSPECT || !sp) return;
    double hard = swim__hard_suspicion_ms(swim__scaled(s, s->cfg.ping_timeout_ms),
                                          swim__scaled(s, s->cfg.protocol_period_ms),
                                          sp->min_ms);
    if (now + hard >= susp_deadline(sp)) return;
    sp->n       = sp->k; /* deadline = start + min_ms = now + hard */
    sp->start   = now + hard - sp->min_ms;
    sp->checked = false;
    s->next_susp = fmin(s->next_susp, swim__susp_wake(s, sp));
}

/** A DEAD verdict from another member about a member we hold ALIVE: a
 *  doubt, never a removal. It is suspected at inc; the suspicion's deadline becomes now +
 *  min(minimum timeout, 4 ping timeouts scaled by local health), only its
 *  expiry removes the member, and further DEAD verdicts at that
 *  incarnation are not news. Meanwhile the member is probed first (with
 *  the buddy notice) and gets the last-chance check: a live one refutes in
 *  its ack. */
bool swim__suspicion_doubt(swim__t* s, double now, uint32_t idx, uint64_t inc)
{
    member*    m  = &s->members[idx];
    suspicion* sp = swim__msusp(s, m);
    if (m->status == ST_SUSPECT && m->inc == inc && sp && sp->doubt) return false;
    if (m->status != ST_SUSPECT || inc > m->inc || !sp) {
        swim__start_suspicion(s, idx, inc, 0, NONE, now);
        sp = swim__msusp(s, &s->members[idx]);
        if (!sp) return true;
    }
    /* the window: long enough for a probe and the last-chance check to
     * reach a live member, which refutes in its ack; short enough that a
     * dead one leaves every view soon after the first declaration */
    double window = fmin(sp->min_ms, 4.0 * swim__scaled(s, s->cfg.ping_timeout_ms));
    sp->n         = sp->k; /* deadline = start + min_ms */
    sp->start     = now + window - sp->min_ms;
    sp->checked   = false;
    sp->doubt     = true;
    s->next_susp = fmin(s->next_susp, swim__susp_wake(s, sp));
    if (s->cfg.lifeguard_suspicion) s->probe_first = idx;
    return true;
}

/* Tick phase 1: for every suspicion due, the last-chance check (if not
 * sent yet and its lead has come) or, past the deadline, DEAD. next_susp
 * becomes the earliest time another suspicion needs looking at. */
void swim__suspicions_due(swim__t* s, double now)
{
    if (!(s->nsuspect && now >= s->next_susp)) return;
    s->next_susp = INFINITY;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        member*    m  = &s->members[i];
        suspicion* sp = swim__msusp(s, m);
        if (m->status != ST_SUSPECT || !sp) continue;
        double dl = susp_deadline(sp);
        if (now < dl) {
            if (s->cfg.lifeguard_buddy && !sp->checked && now >= dl - check_lead(s, sp)) {
                sp->checked = true;
                swim__send_ping(s, CALL_CHECK, 0, i, dl - now);
                m  = &s->members[i];
                sp = swim__msusp(s, m);
                if (!sp) continue;
            }
            s->next_susp = fmin(s->next_susp, swim__susp_wake(s, sp));
            continue;
        }
        swim__logf(s, SWIM_LOG_INFO, "declaring %s/%u dead (incarnation %llu)", m->addr,
                   (unsigned)m->pid, (unsigned long long)m->inc);
        swim__leave_view(s, m, ST_DEAD, now);
        swim__emit_event(s, SWIM_EV_DIED, m);
        swim__enqueue(s, i, SWIM_E_CONFIRM, m->inc, NONE);
    }
}
