/*
 * swim-gossip.c -- the gossip queue: news about members waiting to be
 * piggybacked (at most one entry per member, the newest), which entries a
 * message carries (fewest transmissions first), retransmit counts and their
 * limit (swim__retransmit_limit), the feedback of responses (rumor mongering
 * with feedback, Demers et al. 1987) and the dedicated gossip round.
 *
 * Owns: s->bq/nbq/capbq, s->bq_seq, member.bq (the back index),
 * s->last_refs/nlast_refs/last_refs_valid (the entries of the last message,
 * taken by swim-outbox.c's call table), and s->peer_views (the view
 * summaries peers last reported: news of members entering the view is not
 * sent to a peer whose view equals ours, it is only counted).
 * May call: the outbox (drop_last_refs), pure math, swim__pick_members and
 * swim__send_ping for the dedicated round. See swim-core-internal.h.
 */
#include "swim-core-internal.h"

static void bq_purge(swim__t* s);

static void bq_remove(swim__t* s, uint32_t i)
{
    s->members[s->bq[i].member].bq = NONE;
    s->nbq--;
    if (i != s->nbq) {
        s->bq[i]                       = s->bq[s->nbq];
        s->members[s->bq[i].member].bq = i;
    }
}

/** Queue news about member idx (replacing older news about it). */
void swim__enqueue(swim__t* s, uint32_t idx, uint8_t type, uint64_t inc, uint32_t from)
{
    member* m = &s->members[idx];
    uint32_t i = m->bq;
    if (i == NONE) {
        if (!swim__grow((void**)&s->bq, &s->capbq, s->nbq + 1, sizeof *s->bq)) return;
        i     = s->nbq++;
        m->bq = i;
    }
    s->bq[i].member    = idx;
    s->bq[i].type      = type;
    s->bq[i].inc       = inc;
    s->bq[i].from      = from;
    s->bq[i].transmits = 0;
    s->bq[i].seq       = ++s->bq_seq;
    s->bq[i].entered   = false;
}

void swim__enqueue_entered(swim__t* s, uint32_t idx, uint8_t type, uint64_t inc)
{
    swim__enqueue(s, idx, type, inc, NONE);
    uint32_t i = s->members[idx].bq;
    if (i != NONE) s->bq[i].entered = true;
}

static inline uint32_t peer_slot(uint32_t idx) { return idx % SWIM_PEER_VIEW_SLOTS; }

static uint32_t our_summary(const swim__t* s)
{
    return swim__view_summary(s->nview, swim__wire_digest(s));
}

void swim__note_peer_view(swim__t* s, uint32_t idx, const swim__msg* m)
{
    if (m->sender_view_size == 0 || idx == NONE || idx == s->self) return;
    peer_view* pv = &s->peer_views[peer_slot(idx)];
    pv->member1   = idx + 1;
    pv->summary   = swim__view_summary(m->sender_view_size, m->sender_view_digest);
}

bool swim__peer_has_view(const swim__t* s, uint32_t idx)
{
    const peer_view* pv = &s->peer_views[peer_slot(idx)];
    return pv->member1 == idx + 1 && pv->summary == our_summary(s);
}

bool swim__msg_has_view(const swim__t* s, const swim__msg* m)
{
    return m->sender_view_size == s->nview && m->sender_view_digest == swim__wire_digest(s);
}

bool swim__fill_entry(swim__t* s, swim__msg* m, swim__entry* e, uint8_t type, uint32_t idx,
                      uint64_t inc, uint32_t from)
{
    memset(e, 0, sizeof *e);
    e->type = type;
    e->pid  = s->members[idx].pid;
    e->inc  = inc;
    e->addr = swim__msg_keep(m, s->members[idx].addr);
    if (!e->addr) return false;
    if (type == SWIM_E_SUSPECT) {
        uint32_t f   = from == NONE ? s->self : from;
        e->from_pid  = s->members[f].pid;
        e->from_addr = swim__msg_keep(m, s->members[f].addr);
        if (!e->from_addr) return false;
    }
    return true;
}

/**
 * Feedback from a response: entries the peer already knew are widespread;
 * once an entry has used a third of its transmission budget, each such
 * report costs it another third, so a rumor stops after a few redundant
 * deliveries instead of running its full log-scaled budget (this removes
 * the long gossip drain after a bootstrap of a large group).
 */
void swim__apply_feedback(swim__t* s, const pending* pc, uint64_t mask)
{
    if (!mask || !pc->nrefs) return;
    unsigned limit = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    for (uint8_t i = 0; i < pc->nrefs; i++) {
        const sent_ref* r = &pc->refs[i];
        if (r->pos >= 64 || !(mask & (1ULL << r->pos))) continue;
        if (r->member >= s->nmembers || s->members[r->member].addr != r->addr ||
            s->members[r->member].pid != r->pid)
            continue;
        uint32_t q = s->members[r->member].bq;
        if (q == NONE || s->bq[q].type != r->type || s->bq[q].inc != r->inc) continue;
        s->bq[q].transmits = swim__feedback_transmits(s->bq[q].transmits, limit);
    }
    bq_purge(s);
}

static bool bq_better(const bcast* a, const bcast* b)
{
    return a->transmits < b->transmits || (a->transmits == b->transmits && a->seq > b->seq);
}

/**
 * Quickselect the `room` best entries (fewest transmissions, newest first):
 * O(queue) per message. Returns a malloc'd array of nbq queue indices whose
 * first `room` are the chosen ones, or NULL on allocation failure.
 */
static uint32_t* bq_select(swim__t* s, uint32_t room)
{
    uint32_t* tmp = malloc((size_t)s->nbq * sizeof *tmp);
    if (!tmp) return NULL;
    for (uint32_t i = 0; i < s->nbq; i++) tmp[i] = i;
    uint32_t lo = 0, hi = s->nbq - 1, k = room - 1;
    while (lo < hi) {
        uint32_t pivot = tmp[lo + swim__rng_below(s, hi - lo + 1)];
        bcast    pv    = s->bq[pivot];
        uint32_t i = lo, j = hi;
        while (i <= j) {
            while (bq_better(&s->bq[tmp[i]], &pv)) i++;
            while (bq_better(&pv, &s->bq[tmp[j]])) j--;
            if (i <= j) {
                uint32_t t = tmp[i];
                tmp[i]     = tmp[j];
                tmp[j]     = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return tmp;
}

/* A chosen entry left out because the peer's view equals ours: that view
 * has the member, so the entry counts as delivered to a peer that knew it
 * (a transmission, and for a request the feedback its answer would give). */
static bool peer_knows(swim__t* s, const swim__msg* msg, bcast* b, bool peer_has_view)
{
    if (!peer_has_view || !b->entered || !swim__in_view(&s->members[b->member])) return false;
    b->transmits++;
    if (msg->kind == SWIM_MSG_PING || msg->kind == SWIM_MSG_PING_REQ ||
        msg->kind == SWIM_MSG_ANNOUNCE)
        b->transmits = swim__feedback_transmits(
            b->transmits, swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview));
    return true;
}

/**
 * Piggyback gossip onto msg: an optional first entry (buddy system / "you
 * are dead" notice), then up to gossip_max_entries queued entries with the
 * fewest transmissions (newest first among equals), less those a peer
 * whose view equals ours has (peer_knows). Exhausted entries leave the
 * queue.
 */
void swim__attach_gossip(swim__t* s, swim__msg* msg, const swim__entry* first,
                         bool peer_has_view)
{
    uint32_t lim  = (uint32_t)s->cfg.gossip_max_entries;
    uint32_t room = lim - (first ? 1 : 0);
    uint32_t nsel = 0;
    uint32_t sel_small[SWIM_MAX_GOSSIP_WIRE];
    uint32_t* sel = sel_small;
    uint32_t* tmp = NULL;
    /* 0. metadata news rides along, unless a state exchange carries the table */
    if (!msg->meta) swim__meta_attach(s, msg, false);
    /* 1. choose the entries */
    if (room > 0 && s->nbq <= room) {
        for (uint32_t i = 0; i < s->nbq; i++) sel[nsel++] = i;
    } else if (room > 0) {
        tmp = bq_select(s, room);
        if (tmp) {
            sel  = tmp;
            nsel = room;
        }
    }
    /* 2. copy them into the message, remembering what was sent (feedback) */
    uint32_t total = nsel + (first ? 1 : 0);
    swim__drop_last_refs(s);
    if (total == 0 || !(msg->gossip = calloc(total, sizeof *msg->gossip))) {
        free(tmp);
        return;
    }
    uint32_t n = 0;
    if (first) {
        swim__entry* e = &msg->gossip[n];
        *e             = *first;
        e->addr        = swim__msg_keep(msg, first->addr);
        e->from_addr   = first->from_addr ? swim__msg_keep(msg, first->from_addr) : NULL;
        if (e->addr && (!first->from_addr || e->from_addr)) n++;
    }
    s->last_refs       = nsel ? malloc(nsel * sizeof *s->last_refs) : NULL;
    s->last_refs_valid = s->last_refs != NULL;
    for (uint32_t j = 0; j < nsel; j++) {
        bcast* b = &s->bq[sel[j]];
        if (peer_knows(s, msg, b, peer_has_view)) continue;
        if (swim__fill_entry(s, msg, &msg->gossip[n], b->type, b->member, b->inc, b->from)) {
            if (s->last_refs) {
                sent_ref* r = &s->last_refs[s->nlast_refs++];
                r->addr     = s->members[b->member].addr;
                r->pid      = s->members[b->member].pid;
                r->inc      = b->inc;
                r->member   = b->member;
                r->type     = b->type;
                r->pos      = (uint8_t)n;
            }
            n++;
        }
        b->transmits++;
    }
    msg->ngossip = n;
    free(tmp);
    /* 3. exhausted entries leave the queue */
    bq_purge(s);
}

/** Drop exhausted entries; give back a drained queue's memory. */
static void bq_purge(swim__t* s)
{
    unsigned limit = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    for (uint32_t i = 0; i < s->nbq;) {
        if (s->bq[i].transmits >= limit)
            bq_remove(s, i);
        else
            i++;
    }
    if (s->nbq == 0 && s->capbq > 0) {
        /* a drained queue gives its memory back (a bootstrap burst takes O(n)) */
        free(s->bq);
        s->bq    = NULL;
        s->capbq = 0;
    }
}

/** After compaction: map[old] = new member index or NONE (dropped). News
 *  about dropped members leaves the queue; the back indices are rebuilt;
 *  the peers' view summaries are forgotten. */
void swim__gossip_remap(swim__t* s, const uint32_t* map)
{
    for (uint32_t i = 0; i < s->nbq;) {
        bcast* b = &s->bq[i];
        if (map[b->member] == NONE) {
            s->bq[i] = s->bq[--s->nbq];
            continue;
        }
        b->member = map[b->member];
        b->from   = b->from == NONE ? NONE : map[b->from];
        i++;
    }
    for (uint32_t i = 0; i < s->nmembers; i++) s->members[i].bq = NONE;
    for (uint32_t i = 0; i < s->nbq; i++) s->members[s->bq[i].member].bq = i;
    /* the cache is by index: start it afresh (compaction is rare) */
    memset(s->peer_views, 0, sizeof s->peer_views);
}

/* Tick phase 4: dedicated gossip (only when there is news). Local health
 * also slows it: an overloaded member sheds its optional traffic first
 * (probes keep their own pace). */
void swim__gossip_due(swim__t* s, double now)
{
    if (!(s->cfg.gossip_interval_ms > 0 && now >= s->next_gossip)) return;
    s->next_gossip = now + swim__scaled(s, s->cfg.gossip_interval_ms);
    if ((s->nbq > 0 || s->nmeta_queued > 0) && s->nview >= 2) {
        uint32_t dest[64];
        uint32_t n = swim__pick_members(s, (uint32_t)s->cfg.gossip_fanout, NONE, dest);
        for (uint32_t i = 0; i < n && (s->nbq > 0 || s->nmeta_queued > 0); i++)
            swim__send_ping(s, CALL_GOSSIP, 0, dest[i], s->cfg.ping_req_timeout_ms);
    }
}
