/*
 * swim-core.c -- SWIM + Lifeguard as a pure state machine (see swim-core.h):
 * the machine's lifecycle (create, initial members, start, leave, destroy),
 * the config defaults, and the entry points, each a short body over the
 * rooms that own the state:
 *   swim__tick             suspicions -> housekeeping -> probe -> gossip ->
 *                          sync -> reconnect (one call per phase)
 *   swim__handle_request   note the sender and its gossip, answer by kind
 *   swim__handle_response  feedback, note the responder and its gossip, the
 *                          call's continuation by kind
 * plus introspection and the memory estimate.
 *
 * Owns: swim__t itself (allocation, s->cfg, s->rng, s->t0, s->self,
 * s->self_key, s->started/leaving, s->next_purge).
 * May call: every file of the machine (swim-core-internal.h says which
 * file owns which structure).
 */
#include "swim-core-internal.h"

#include <math.h>

void swim__config_default(swim__config* c)
{
    c->protocol_period_ms      = 1000.0;
    c->ping_timeout_ms         = 200.0;
    c->ping_req_timeout_ms     = 500.0;
    c->ping_req_members        = 3;
    c->suspicion_timeout_ms    = 5000.0;
    c->suspicion_mult          = 0.0;
    c->lifeguard_suspicion     = true;
    c->suspicion_max_mult      = 6.0;
    c->suspicion_confirmations = 2;
    c->lifeguard_local_health  = true;
    c->local_health_max        = 8;
    c->lifeguard_buddy         = true;
    c->gossip_interval_ms      = 200.0;
    c->gossip_fanout           = 3;
    c->gossip_max_entries      = 64;
    c->gossip_retransmit_mult  = 3;
    c->announce_timeout_ms     = 1000.0;
    c->join_timeout_ms         = 10000.0;
    c->sync_interval_ms        = 30000.0;
    c->reconnect_interval_ms   = 10000.0;
    c->tombstone_timeout_ms    = 600000.0;
    c->anti_entropy            = true;
    c->crash_hints             = true;
    c->urgent_join             = false;
    c->tick_grid_ms            = SWIM_TICK_GRID_AUTO; /* docs/config.md */
}

static double clampd(double v, double lo, double hi, double dflt)
{
    if (!(v == v)) return dflt; /* NaN */
    if (v < lo) return lo;
    if (v > hi) return hi;
    return v;
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void swim__config_sanitize(swim__config* c)
{
    const double day = 86400000.0;
    c->protocol_period_ms   = clampd(c->protocol_period_ms, 1.0, day, 1000.0);
    c->ping_timeout_ms      = clampd(c->ping_timeout_ms, 1.0, day, 200.0);
    c->ping_req_timeout_ms  = clampd(c->ping_req_timeout_ms, 1.0, day, 500.0);
    /* ping_req_members: any value is accepted; swim__ping_req_count clamps */
    c->suspicion_timeout_ms = clampd(c->suspicion_timeout_ms, 1.0, day, 5000.0);
    c->suspicion_mult       = clampd(c->suspicion_mult, 0.0, 1000.0, 0.0);
    c->suspicion_max_mult   = clampd(c->suspicion_max_mult, 1.0, 1000.0, 6.0);
    c->suspicion_confirmations = clampi(c->suspicion_confirmations, 0, MAX_CONFIRMERS - 1);
    c->local_health_max        = clampi(c->local_health_max, 1, 1000);
    c->gossip_interval_ms      = clampd(c->gossip_interval_ms, 0.0, day, 200.0);
    c->gossip_fanout           = clampi(c->gossip_fanout, 0, 64);
    c->gossip_max_entries      = clampi(c->gossip_max_entries, 1, SWIM_MAX_GOSSIP_WIRE);
    c->gossip_retransmit_mult  = clampi(c->gossip_retransmit_mult, 1, 100);
    c->announce_timeout_ms     = clampd(c->announce_timeout_ms, 1.0, day, 1000.0);
    c->join_timeout_ms         = clampd(c->join_timeout_ms, 1.0, day, 10000.0);
    c->sync_interval_ms        = clampd(c->sync_interval_ms, 0.0, day, 30000.0);
    c->reconnect_interval_ms   = clampd(c->reconnect_interval_ms, 0.0, day, 10000.0);
    c->tombstone_timeout_ms    = clampd(c->tombstone_timeout_ms, 0.0, 30 * day, 600000.0);
    /* negative or NaN: auto; at most a quarter of the period */
    if (!(c->tick_grid_ms >= 0.0)) c->tick_grid_ms = SWIM_TICK_GRID_AUTO;
    if (c->tick_grid_ms > c->protocol_period_ms / 4.0)
        c->tick_grid_ms = c->protocol_period_ms / 4.0;
}

swim__t* swim__create(const swim__config* cfg, const char* self_addr, uint16_t self_pid,
                      uint64_t seed, double now, swim__log_fn log, void* log_ctx)
{
    swim__t* s = NULL;
    if (!swim__valid_addr(self_addr)) goto fail;
    s = calloc(1, sizeof *s);
    if (!s) goto fail;
    if (cfg)
        s->cfg = *cfg;
    else
        swim__config_default(&s->cfg);
    swim__config_sanitize(&s->cfg);
    s->log     = log;
    s->log_ctx = log_ctx;
    s->rng     = seed ? seed : 0x9E3779B97F4A7C15ULL;
    s->rng ^= swim__hash_member(self_addr, self_pid);
    if (!s->rng) s->rng = 1;
    s->probe_first = NONE;
    s->next_susp = INFINITY;
    s->susp_free = NONE;
    s->t0        = now;
    s->self_key  = swim__hash_member(self_addr, self_pid);
    s->self = swim__add_member(s, now, self_addr, self_pid, 1, ST_ALIVE);
    if (s->self == NONE) goto fail;
    return s;
fail:
    swim__destroy(s);
    return NULL;
}

void swim__destroy(swim__t* s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->nmembers; i++) swim__unintern(s->members[i].addr);
    free(s->members);
    free(s->susps);
    free(s->susp_next);
    free(s->last_refs);
    free(s->slots);
    free(s->vbuckets);
    free(s->order);
    free(s->bq);
    for (uint32_t i = 0; i < s->ncalls; i++) free(s->calls[i].refs);
    free(s->calls);
    swim__probe_free(s);
    swim__meta_free(s);
    swim__outbox_free(&s->out);
    free(s);
}

int swim__add_initial(swim__t* s, const char* addr, uint16_t pid)
{
    if (!swim__valid_addr(addr)) return -1;
    if (swim__find_member(s, addr, pid) != NONE) return 0;
    return swim__add_member(s, 0, addr, pid, 1, ST_ALIVE) == NONE ? -1 : 0;
}

static double jitter(swim__t* s, double base)
{
    /* spread periodic work of co-started members over one interval */
    return base * (double)(swim__rng_next(s) % 1000) / 1000.0;
}

void swim__start(swim__t* s, bool join, double now)
{
    if (s->started) return;
    s->started        = true;
    s->next_probe     = now + jitter(s, s->cfg.protocol_period_ms);
    s->next_gossip    = now + s->cfg.gossip_interval_ms;
    s->next_sync      = now + s->cfg.sync_interval_ms + jitter(s, s->cfg.sync_interval_ms);
    s->next_reconnect = now + s->cfg.reconnect_interval_ms;
    s->next_purge     = now + 1000.0;
    if (join) swim__announce_join(s, now);
}

bool swim__join_settled(const swim__t* s) { return s->join_ok || s->join_pending == 0; }
bool swim__join_succeeded(const swim__t* s) { return s->join_ok; }

/* Tick phase 2: expired tombstones, and the slack of the tables after
 * growth, once a second. */
static void housekeeping_due(swim__t* s, double now)
{
    if (now < s->next_purge) return;
    swim__compact(s, now);
    swim__trim(s);
    swim__meta_expire(s, now);
    s->next_purge = now + 1000.0;
}

void swim__tick(swim__t* s, double now)
{
    if (!s->started || s->leaving) return;
    swim__suspicions_due(s, now); /* 1. last-chance checks, suspicion timeouts */
    housekeeping_due(s, now);     /* 2. tombstones, table slack */
    swim__probe_due(s, now);      /* 3. probe round */
    swim__gossip_due(s, now);     /* 4. dedicated gossip (only when there is news) */
    swim__sync_due(s, now);       /* 5. anti-entropy push-pull */
    swim__reconnect_due(s, now);  /* 6. partition healing: push-pull with a DEAD member */
    swim__rejoin_due(s, now);     /* 7. declared dead: JOIN again until answered */
}

double swim__next_deadline(const swim__t* s)
{
    double d = INFINITY;
    if (!s->started || s->leaving) return d;
    if (!swim__probe_busy(s)) d = fmin(d, s->next_probe);
    if (s->cfg.gossip_interval_ms > 0 && (s->nbq > 0 || s->nmeta_queued > 0))
        d = fmin(d, s->next_gossip);
    if (s->cfg.sync_interval_ms > 0) d = fmin(d, s->next_sync);
    if (s->cfg.reconnect_interval_ms > 0) d = fmin(d, s->next_reconnect);
    if (s->ntomb || s->nmeta_tomb) d = fmin(d, s->next_purge);
    if (s->nsuspect) d = fmin(d, s->next_susp); /* O(1): cached */
    if (s->removed) d = fmin(d, s->next_rejoin);
    return d;
}
/* A PING: ack it, maybe push-pull with a sender whose view differs. */
static void answer_ping(swim__t* s, double now, const swim__msg* req, const swim__entry* notice,
                        swim__msg* rep)
{
    swim__maybe_sync(s, now, req);
    if (!swim__init_msg(s, rep, SWIM_MSG_ACK)) return;
    swim__attach_gossip(s, rep, notice, swim__msg_has_view(s, req));
}

static void handle_request_ours(swim__t* s, double now, uint64_t token, const swim__msg* req);

/* The metadata a message carries is a whole table (a state's, a PUSH's, a
 * DIFF answer's), not news: merged, but not gossiped on. */
static bool meta_is_table(const swim__msg* m, bool answers_diff)
{
    return m->nstate > 0 || answers_diff ||
           (m->kind == SWIM_MSG_ANNOUNCE && m->ann_type == SWIM_ANN_PUSH);
}

/* Group identity: a message belongs to our group if it carries our id, or
 * if either side does not know its id yet (a joiner whose group file had
 * none, before the first answer). */
static bool same_group(const swim__t* s, uint64_t id)
{
    return id == s->group_id || id == 0 || s->group_id == 0;
}

/* A message of another group: one log line per 10 s (with the count). */
static void note_foreign(swim__t* s, double now, const char* what, const swim__msg* m)
{
    s->foreign_drops++;
    if (now < s->next_foreign_log) return;
    swim__logf(s, SWIM_LOG_WARN,
               "dropping %s from %s/%u of group %016llx (this member is in group %016llx; "
               "%llu such message(s) since the last report)",
               what, m->sender_addr ? m->sender_addr : "?", (unsigned)m->sender_pid,
               (unsigned long long)m->group_id, (unsigned long long)s->group_id,
               (unsigned long long)s->foreign_drops);
    s->foreign_drops    = 0;
    s->next_foreign_log = now + 10000.0;
}

/* A request of another group: nothing merged; answered with a bare message
 * that carries our id only (its sender learns it reached another group). */
static void answer_foreign(swim__t* s, double now, uint64_t token, const swim__msg* req)
{
    static const uint8_t reply_kind[] = {0, SWIM_MSG_ACK, SWIM_MSG_PING_REQ_ACK,
                                         SWIM_MSG_ANNOUNCE_ACK};
    swim__msg rep;
    note_foreign(s, now, "a request", req);
    if (!swim__init_msg(s, &rep, req->kind <= SWIM_MSG_ANNOUNCE ? reply_kind[req->kind] : 0))
        memset(&rep, 0, sizeof rep);
    swim__emit_reply(s, token, &rep);
}

void swim__handle_request(swim__t* s, double now, uint64_t token, const swim__msg* req)
{
    if (!same_group(s, req->group_id)) {
        answer_foreign(s, now, token, req);
        return;
    }
    handle_request_ours(s, now, token, req);
}

/* A response: adopt the group id from the first JOIN answer if ours is not
 * known; a response of another group is a failed call (the id of a JOIN
 * answer is kept to name it). */
static bool accept_response(swim__t* s, double now, const pending* pc, const swim__msg* resp)
{
    if (!same_group(s, resp->group_id)) {
        if (pc->kind == CALL_JOIN && !s->join_foreign) s->join_foreign = resp->group_id;
        note_foreign(s, now, "a response", resp);
        return false;
    }
    if (s->group_id == 0 && resp->group_id != 0 && pc->kind == CALL_JOIN) {
        s->group_id = resp->group_id;
        swim__logf(s, SWIM_LOG_INFO, "joined group %016llx (the group file named none)",
                   (unsigned long long)s->group_id);
    }
    return true;
}

static void handle_request_ours(swim__t* s, double now, uint64_t token, const swim__msg* req)
{
    swim__msg   rep;
    swim__entry notice;
    bool        have_notice = false;
    uint64_t    known       = 0;
    uint32_t    sender      = NONE;
    memset(&rep, 0, sizeof rep);
    /* 1. what the message tells about its sender and the group */
    if (!s->leaving)
        have_notice = swim__note_sender(s, now, req->sender_addr, req->sender_pid,
                                        req->sender_inc, &notice, &sender);
    if (!s->leaving) known = swim__apply_list(s, now, req->gossip, req->ngossip, true);
    if (!s->leaving) swim__note_peer_view(s, sender, req);
    if (!s->leaving)
        swim__meta_apply_list(s, now, req->meta, req->nmeta, !meta_is_table(req, false));
    /* 2. the answer, by kind (a relayed PING_REQ is answered later) */
    const swim__entry* first = have_notice ? &notice : NULL;
    switch (req->kind) {
    case SWIM_MSG_PING:
        answer_ping(s, now, req, first, &rep);
        break;
    case SWIM_MSG_PING_REQ:
        if (swim__answer_ping_req(s, token, req, known, first, &rep)) return;
        break;
    case SWIM_MSG_ANNOUNCE:
        swim__answer_announce(s, now, req, first, &rep);
        break;
    default:
        break;
    }
    /* 3. an empty rep (kind 0) tells the driver to fail the request */
    rep.known_mask = known;
    swim__emit_reply(s, token, &rep);
}

/* A completion; `refused`: the call could not even connect (then !ok). */
static void handle_completion(swim__t* s, double now, uint64_t call_id, bool ok,
                              const swim__msg* resp, bool refused, const char* addr,
                              uint16_t pid)
{
    pending pc;
    if (!swim__take_call(s, call_id, &pc)) return;
    if (refused && pc.kind == CALL_PROBE_PING) swim__probe_ping_refused(s, pc.aux);
    if (refused && pc.kind != CALL_PROBE_PING && pc.kind != CALL_RELAY && !s->leaving)
        swim__hint_member(s, now, swim__find_member(s, addr, pid));
    if (ok && resp && !accept_response(s, now, &pc, resp)) ok = false;
    /* 1. feedback on the gossip the call carried */
    if (ok && resp && !s->leaving) swim__apply_feedback(s, &pc, resp->known_mask);
    free(pc.refs);
    pc.refs = NULL;
    /* 2. what the response tells about its sender and the group */
    if (ok && resp && !s->leaving) {
        uint32_t sender;
        swim__note_sender(s, now, resp->sender_addr, resp->sender_pid, resp->sender_inc, NULL,
                          &sender);
        swim__apply_list(s, now, resp->gossip, resp->ngossip, true);
        swim__note_peer_view(s, sender, resp);
        if (resp->nstate && (pc.kind == CALL_JOIN || pc.kind == CALL_SYNC ||
                             pc.kind == CALL_REJOIN || pc.kind == CALL_DIFF))
            swim__apply_list(s, now, resp->state, resp->nstate, false);
        swim__meta_apply_list(s, now, resp->meta, resp->nmeta,
                              !meta_is_table(resp, pc.kind == CALL_DIFF));
        if (resp->kind == SWIM_MSG_ACK) swim__maybe_sync(s, now, resp);
    }
    /* 3. the call's own continuation */
    switch (pc.kind) {
    case CALL_PROBE_PING: swim__probe_ping_done(s, now, &pc, ok, resp); break;
    case CALL_PROBE_PING_REQ: swim__probe_ping_req_done(s, now, &pc, ok, resp); break;
    case CALL_RELAY: swim__relay_done(s, &pc, ok, refused, resp); break;
    case CALL_JOIN: swim__join_done(s, now, ok, refused, resp); break;
    case CALL_REJOIN: swim__rejoin_done(s, ok); break;
    case CALL_DIFF: swim__diff_done(s, &pc, ok, resp); break;
    default: break; /* GOSSIP, LEAVE, SYNC, CHECK: nothing more */
    }
}

void swim__handle_response(swim__t* s, double now, uint64_t call_id, bool ok,
                           const swim__msg* resp)
{
    handle_completion(s, now, call_id, ok, resp, false, NULL, 0);
}

void swim__handle_refused(swim__t* s, double now, uint64_t call_id, const char* addr,
                          uint16_t pid)
{
    handle_completion(s, now, call_id, false, NULL, s->cfg.crash_hints, addr, pid);
}

void swim__hint(swim__t* s, double now, const char* addr)
{
    if (s->started && !s->leaving) swim__hint_addr(s, now, addr);
}

void swim__leave(swim__t* s, double now)
{
    if (s->leaving) return;
    swim__announce_leave(s);
    s->leaving = true;
}

void swim__leave_silently(swim__t* s) { s->leaving = true; }

size_t swim__pending_calls(const swim__t* s) { return s->ncalls; }
void swim__set_group_id(swim__t* s, uint64_t id) { s->group_id = id; }
uint64_t swim__group_id(const swim__t* s) { return s->group_id; }
uint64_t swim__join_foreign_id(const swim__t* s) { return s->join_foreign; }
bool swim__removed(const swim__t* s) { return s->removed; }
void swim__set_incarnation(swim__t* s, uint64_t inc)
{
    if (!s->started && inc > s->members[s->self].inc) s->members[s->self].inc = inc;
}
swim__outbox* swim__get_outbox(swim__t* s) { return &s->out; }
size_t swim__view_size(const swim__t* s) { return s->nview; }
uint32_t swim__view_digest(const swim__t* s) { return swim__wire_digest(s); }
uint64_t swim__self_incarnation(const swim__t* s) { return s->members[s->self].inc; }
int swim__local_health(const swim__t* s) { return s->awareness; }
const swim__config* swim__get_config(const swim__t* s) { return &s->cfg; }

/* bytes glibc takes for an n-byte request (16-byte granules, 8-byte header) */
static size_t chunk(size_t n)
{
    if (n == 0) return 0;
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

size_t swim__memory_estimate(const swim__t* s)
{
    size_t b = chunk(sizeof *s);
    b += chunk((size_t)s->capmembers * sizeof(member)) + chunk((size_t)s->capslots * sizeof(uint32_t));
    b += chunk((size_t)s->caporder * sizeof(uint32_t)) + chunk((size_t)s->capbq * sizeof(bcast));
    b += chunk((size_t)s->capcalls * sizeof(pending));
    b += chunk((size_t)s->capsusps * sizeof(suspicion)) + chunk((size_t)s->capsusps * sizeof(uint32_t));
    for (uint32_t i = 0; i < s->ncalls; i++) b += chunk((size_t)s->calls[i].nrefs * sizeof(sent_ref));
    b += chunk((size_t)s->nlast_refs * sizeof(sent_ref));
    b += swim__probe_memory(s);
    b += chunk(s->out.capsends * sizeof(swim__send)) + chunk(s->out.capreplies * sizeof(swim__reply)) +
         chunk(s->out.capevents * sizeof(swim__event));
    b += swim__meta_memory(s);
    if (s->vbuckets) b += chunk(SWIM_FINE_BUCKETS * sizeof(uint32_t));
    /* member addresses are interned: swim__intern_bytes() counts them once per process */
    return b;
}
