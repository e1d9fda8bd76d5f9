/*
 * swim-sync.c -- whole-state exchanges and announcements: JOIN (the
 * joiner announces itself to the first members of its view; each answers
 * with its whole membership), LEAVE (announced to random members), SYNC
 * (push-pull: on a view mismatch -- anti-entropy --, periodically with a
 * random member, and with a DEAD member to heal partitions), and the
 * bucketed push-pull (DIFF, then PUSH) that replaces the mismatch SYNC
 * once the view has SWIM_DIFF_MIN_VIEW members.
 *
 * Owns: s->next_sync, s->nsyncs, s->next_reconnect, s->next_mismatch_sync,
 * s->join_* (the JOIN rounds of a joiner).
 * May call: the member table (random picks), the merge (announced and
 * exchanged entries), the gossip queue, the outbox, pure math.
 * See swim-core-internal.h.
 */
#include "swim-core-internal.h"

#include <math.h>

/* bit b of a bitmap of 32-bit words */
static inline bool bit_set(const uint32_t* map, uint32_t b) { return map[b / 32] >> (b % 32) & 1u; }

/* member i falls in a bucket (of nb) whose bit map sets (every member if !map) */
static inline bool selected(const swim__t* s, uint32_t i, uint32_t nb, const uint32_t* map)
{
    return !map ||
           bit_set(map, swim__bucket_of(swim__fine_bucket(swim__member_key(&s->members[i])), nb));
}

/* Every member and tombstone, or (map != NULL) those whose key falls in a
 * bucket (of nb) whose bit map sets: counted first, so that a few buckets
 * do not cost an array of the whole table. */
static void attach_members(swim__t* s, swim__msg* m, uint32_t nb, const uint32_t* map)
{
    uint32_t n = s->nmembers < SWIM_MAX_STATE_WIRE ? s->nmembers : SWIM_MAX_STATE_WIRE;
    uint32_t want = map ? 0 : n;
    for (uint32_t i = 0; map && i < n; i++) want += selected(s, i, nb, map);
    m->state = calloc(want ? want : 1, sizeof *m->state);
    if (!m->state) return;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n && k < want; i++) {
        const member* mb = &s->members[i];
        if (!selected(s, i, nb, map)) continue;
        uint8_t t = mb->status == ST_ALIVE     ? SWIM_E_ALIVE
                    : mb->status == ST_SUSPECT ? SWIM_E_SUSPECT
                    : mb->status == ST_LEFT    ? SWIM_E_LEAVE
                                               : SWIM_E_CONFIRM;
        if (swim__fill_entry(s, m, &m->state[k], t, i, mb->inc, NONE)) k++;
    }
    m->nstate = k;
}

/** Full state (every member and tombstone, every metadata entry) for a state
 *  exchange. */
void swim__attach_state(swim__t* s, swim__msg* m)
{
    attach_members(s, m, 0, NULL);
    swim__meta_attach(s, m, true); /* the whole metadata table, tombstones included */
}

static void send_sync(swim__t* s, uint32_t idx)
{
    swim__msg msg;
    if (!swim__init_self_announce(s, &msg, SWIM_ANN_SYNC)) return;
    swim__attach_state(s, &msg);
    swim__attach_gossip(s, &msg, NULL, false);
    const member* m = &s->members[idx];
    swim__emit_send(s, CALL_SYNC, 0, m->addr, m->pid, s->cfg.announce_timeout_ms, &msg);
}

/*
 * The bucketed push-pull (a view of SWIM_DIFF_MIN_VIEW members or more):
 * three messages whose size follows what differs, not the view's size.
 *   DIFF   our bucket digests (nb of them, swim__diff_buckets_for);
 *   ACK    the peer's entries of the buckets whose digest differs from
 *          its own, and which buckets those are (plus one bit: the
 *          metadata differs, then its whole metadata table);
 *   PUSH   our entries of those buckets (and our metadata table): the
 *          peer merges them; its ACK carries no state.
 * A bucket's digest covers the view's members only; a tombstone goes with
 * its bucket. What the digests miss (incarnations, statuses within the
 * view) the periodic full push-pull repairs (swim__sync_due).
 */
static bool send_diff(swim__t* s, uint32_t idx)
{
    const uint32_t* fine = swim__view_buckets(s);
    uint32_t        nb   = swim__diff_buckets_for(s->nview);
    swim__msg       msg;
    if (!fine || !swim__init_self_announce(s, &msg, SWIM_ANN_DIFF)) return false;
    msg.buckets = malloc(nb * sizeof *msg.buckets);
    if (!msg.buckets) {
        swim__msg_clear(&msg);
        return false;
    }
    msg.nbuckets = nb;
    swim__fold_buckets(fine, nb, msg.buckets);
    swim__attach_gossip(s, &msg, NULL, false);
    const member* m = &s->members[idx];
    return swim__emit_send(s, CALL_DIFF, nb, m->addr, m->pid, s->cfg.announce_timeout_ms, &msg);
}

/* The ACK of a DIFF: our entries of the buckets that differ, and the bitmap.
 * Without memory for the buckets: our whole state (the requester then
 * pushes nothing; the digests of later messages repair the rest). */
static void answer_diff(swim__t* s, const swim__msg* req, swim__msg* rep)
{
    uint32_t nb = req->nbuckets, ours[SWIM_MAX_BUCKETS];
    if (!req->buckets || !swim__valid_nbuckets(nb)) return; /* the decoder let none through */
    const uint32_t* fine = swim__view_buckets(s);
    if (fine) rep->buckets = calloc((nb + 1 + 31) / 32, sizeof *rep->buckets);
    if (!rep->buckets) {
        swim__attach_state(s, rep);
        return;
    }
    rep->nbuckets = nb;
    swim__fold_buckets(fine, nb, ours);
    uint32_t theirs_view = 0; /* the low 32 bits of the requester's view digest */
    for (uint32_t b = 0; b < nb; b++) {
        theirs_view ^= req->buckets[b];
        if (ours[b] != req->buckets[b]) rep->buckets[b / 32] |= 1u << (b % 32);
    }
    attach_members(s, rep, nb, rep->buckets);
    uint32_t theirs_meta = req->sender_view_digest ^ theirs_view;
    if (theirs_meta != (uint32_t)s->meta_digest) {
        rep->buckets[nb / 32] |= 1u << (nb % 32);
        swim__meta_attach(s, rep, true);
    }
}

void swim__diff_done(swim__t* s, const pending* pc, bool ok, const swim__msg* resp)
{
    if (!ok || !resp || !resp->buckets || resp->nbuckets != pc->aux ||
        !swim__valid_addr(resp->sender_addr))
        return;
    uint32_t  nb = resp->nbuckets;
    swim__msg msg;
    if (!swim__init_self_announce(s, &msg, SWIM_ANN_PUSH)) return;
    attach_members(s, &msg, nb, resp->buckets);
    if (bit_set(resp->buckets, nb)) swim__meta_attach(s, &msg, true);
    if (msg.nstate == 0 && msg.nmeta == 0) { /* nothing of ours in those buckets */
        swim__msg_clear(&msg);
        return;
    }
    swim__attach_gossip(s, &msg, NULL, false);
    swim__emit_send(s, CALL_SYNC, 0, resp->sender_addr, resp->sender_pid,
                    s->cfg.announce_timeout_ms, &msg);
}

/**
 * Anti-entropy: a peer reports a view different from ours while ours has
 * not changed for a gossip interval (swim__sync_stable_ms: gossip is not
 * simply still in flight), or a view larger than ours by two or more
 * members: push-pull with it (at most once per period, less often in large
 * groups when few members differ; bucketed once our view has
 * SWIM_DIFF_MIN_VIEW members). A settled member thus repairs a straggler
 * whose own view is still changing.
 */
void swim__maybe_sync(swim__t* s, double now, const swim__msg* m)
{
    if (!s->cfg.anti_entropy || s->leaving || !m || !swim__valid_addr(m->sender_addr)) return;
    if (m->sender_view_size == 0) return; /* peer did not say */
    if (swim__msg_has_view(s, m)) return;
    /* behind by several members (two, or n/32 in large groups): sync even
     * while our view is still changing (e.g. an early joiner during a
     * bootstrap); a join or leave in flight is left to gossip */
    bool far_behind = swim__sync_far_behind(m->sender_view_size, s->nview);
    if (!far_behind && now - s->last_view_change <
                           swim__sync_stable_ms(s->cfg.protocol_period_ms,
                                                s->cfg.gossip_interval_ms))
        return;
    if (now < s->next_mismatch_sync) return;
    uint32_t idx = swim__find_member(s, m->sender_addr, m->sender_pid);
    if (idx == NONE || idx == s->self || !swim__in_view(&s->members[idx])) return;
    /* a state exchange costs O(n): in large groups space them out, the
     * more the fewer members differ (see swim__sync_spacing_ms) */
    uint64_t gap = m->sender_view_size > s->nview ? m->sender_view_size - s->nview
                                                  : s->nview - m->sender_view_size;
    s->next_mismatch_sync =
        now + swim__sync_spacing_ms(s->cfg.protocol_period_ms, s->nview, gap);
    if (s->nview < SWIM_DIFF_MIN_VIEW || !send_diff(s, idx)) send_sync(s, idx);
}

/* Tick phase 5: anti-entropy with a random member every sync_interval_ms.
 * It costs what differs: a SYNC without state carries our digest (every
 * message does); the peer answers with its whole state only if its digest
 * differs (a pull; our own differences reach it the same way, through the
 * digest of our next messages). Every SWIM_FULL_SYNC_EVERY-th one is a full
 * push-pull, for what the digest does not cover (incarnations, tombstones). */
void swim__sync_due(swim__t* s, double now)
{
    if (!(s->cfg.sync_interval_ms > 0 && now >= s->next_sync)) return;
    s->next_sync = now + s->cfg.sync_interval_ms;
    uint32_t idx = swim__random_view_member(s, NONE);
    if (idx == NONE) return;
    if (++s->nsyncs % SWIM_FULL_SYNC_EVERY == 0) {
        send_sync(s, idx);
        return;
    }
    swim__msg msg;
    if (!swim__init_self_announce(s, &msg, SWIM_ANN_SYNC)) return;
    swim__attach_gossip(s, &msg, NULL, false);
    const member* m = &s->members[idx];
    swim__emit_send(s, CALL_SYNC, 0, m->addr, m->pid, s->cfg.announce_timeout_ms, &msg);
}

/* Tick phase 6: partition healing: push-pull with a member we declared
 * dead (reservoir sampling over the DEAD tombstones). */
void swim__reconnect_due(swim__t* s, double now)
{
    if (!(s->cfg.reconnect_interval_ms > 0 && now >= s->next_reconnect)) return;
    s->next_reconnect = now + s->cfg.reconnect_interval_ms;
    uint32_t ndead = 0, pick = NONE;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        if (s->members[i].status != ST_DEAD) continue;
        ndead++;
        if (swim__rng_below(s, ndead) == 0) pick = i; /* reservoir sampling */
    }
    if (pick != NONE) send_sync(s, pick);
}

void swim__announce_join(swim__t* s, double now)
{
    member* me = &s->members[s->self];
    swim__enqueue_entered(s, s->self, SWIM_E_JOIN, me->inc);
    unsigned k = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    if (!s->join_started) {
        s->join_deadline     = now + s->cfg.join_timeout_ms;
        s->join_call_timeout = s->cfg.announce_timeout_ms;
    }
    s->join_started    = true;
    s->join_unanswered = false;
    s->join_round_at   = now;
    double timeout     = fmax(1.0, fmin(s->join_call_timeout, s->join_deadline - now));
    s->join_round_timeout = timeout;
    for (uint32_t i = 0; i < s->nmembers && (unsigned)s->join_pending < k; i++) {
        if (i == s->self || !swim__in_view(&s->members[i])) continue;
        swim__msg msg;
        if (!swim__init_self_announce(s, &msg, SWIM_ANN_JOIN)) continue;
        swim__attach_gossip(s, &msg, NULL, false);
        if (swim__emit_send(s, CALL_JOIN, 0, s->members[i].addr, s->members[i].pid, timeout,
                            &msg))
            s->join_pending++;
    }
}

/* A round in which no member answered, but some call timed out (a busy
 * member: 1024 joiners at once keep the first ones busy for seconds), is
 * sent again with twice the call timeout while the join timeout allows.
 * Refusals (nobody listens there) and answers of another group end the
 * join at once: retrying would not change them. */
void swim__join_done(swim__t* s, double now, bool ok, bool refused, const swim__msg* resp)
{
    if (s->join_pending > 0) s->join_pending--;
    if (ok && resp && resp->kind == SWIM_MSG_ANNOUNCE_ACK) s->join_ok = true;
    if (!ok && !refused && now - s->join_round_at >= 0.9 * s->join_round_timeout)
        s->join_unanswered = true;
    if (s->join_ok || s->join_pending > 0 || !s->join_unanswered || s->join_foreign ||
        s->leaving || now + 1.0 >= s->join_deadline)
        return;
    s->join_call_timeout *= 2;
    swim__logf(s, SWIM_LOG_INFO, "no answer to JOIN within %.0f ms; announcing again",
               s->join_call_timeout / 2);
    swim__announce_join(s, now);
}

/** Self was declared dead or departed (we refuted already): until a member
 *  of our group answers a JOIN with the new incarnation, the machine is
 *  "removed" (the driver serves no view) and rejoins every period. */
void swim__mark_removed(swim__t* s, double now)
{
    if (!s->removed) s->next_rejoin = now;
    s->removed = true;
}

/* Tick phase 7: while removed, JOIN (with our state) to up to three random
 * members of our view, or to a random DEAD member if the view is empty. */
void swim__rejoin_due(swim__t* s, double now)
{
    if (!s->removed || now < s->next_rejoin) return;
    s->next_rejoin = now + s->cfg.protocol_period_ms;
    uint32_t dest[3];
    uint32_t n = swim__pick_members(s, 3, NONE, dest);
    if (n == 0) {
        uint32_t ndead = 0;
        for (uint32_t i = 0; i < s->nmembers; i++)
            if (s->members[i].status == ST_DEAD && swim__rng_below(s, ++ndead) == 0)
                dest[0] = i; /* reservoir sampling */
        n = ndead ? 1 : 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        swim__msg msg;
        if (!swim__init_self_announce(s, &msg, SWIM_ANN_JOIN)) continue;
        swim__attach_gossip(s, &msg, NULL, false);
        const member* d = &s->members[dest[i]];
        swim__emit_send(s, CALL_REJOIN, 0, d->addr, d->pid, s->cfg.announce_timeout_ms, &msg);
    }
}

void swim__rejoin_done(swim__t* s, bool ok)
{
    if (!ok || !s->removed) return;
    s->removed = false;
    swim__logf(s, SWIM_LOG_INFO, "back in the group (incarnation %llu)",
               (unsigned long long)s->members[s->self].inc);
}

void swim__announce_leave(swim__t* s)
{
    swim__enqueue(s, s->self, SWIM_E_LEAVE, s->members[s->self].inc, NONE);
    unsigned k = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    uint32_t dest[256];
    if (k > 256) k = 256;
    uint32_t n = s->started ? swim__pick_members(s, k, NONE, dest) : 0;
    for (uint32_t i = 0; i < n; i++) {
        swim__msg msg;
        if (!swim__init_self_announce(s, &msg, SWIM_ANN_LEAVE)) continue;
        swim__attach_gossip(s, &msg, NULL, false);
        const member* d = &s->members[dest[i]];
        swim__emit_send(s, CALL_LEAVE, 0, d->addr, d->pid, s->cfg.announce_timeout_ms, &msg);
    }
}

void swim__answer_announce(swim__t* s, double now, const swim__msg* req,
                           const swim__entry* notice, swim__msg* rep)
{
    if (!s->leaving && swim__valid_addr(req->target_addr)) {
        if (req->ann_type == SWIM_ANN_JOIN || req->ann_type == SWIM_ANN_LEAVE) {
            swim__entry e = {.type = req->ann_type == SWIM_ANN_JOIN ? SWIM_E_JOIN : SWIM_E_LEAVE,
                             .pid  = req->target_pid,
                             .inc  = req->target_inc,
                             .addr = req->target_addr};
            swim__apply_entry(s, now, &e, true);
        }
        if (req->ann_type == SWIM_ANN_SYNC || req->ann_type == SWIM_ANN_PUSH)
            swim__apply_list(s, now, req->state, req->nstate, false);
    }
    /* the requester's metadata (gossip, or its table with a SYNC) was merged
     * with its gossip by the caller */
    if (!swim__init_msg(s, rep, SWIM_MSG_ANNOUNCE_ACK)) return;
    /* a SYNC without state is a digest exchange: our state only if we differ */
    bool same = req->ann_type == SWIM_ANN_SYNC && req->nstate == 0 && swim__msg_has_view(s, req);
    if ((req->ann_type == SWIM_ANN_JOIN || req->ann_type == SWIM_ANN_SYNC) && !same)
        swim__attach_state(s, rep);
    if (req->ann_type == SWIM_ANN_DIFF && !s->leaving) answer_diff(s, req, rep);
    swim__attach_gossip(s, rep, notice, swim__msg_has_view(s, req));
}
