/*
 * centralized-failover.c -- the centralized group without a single point of
 * failure (docs/design.md, "Group identity, terms and failover"):
 *   - the current primary: who a member's requests go to, and redirects to
 *     it from a member that is not the primary;
 *   - succession: when the primary stops answering, the member next after
 *     it in view order (each later one waiting one window more) asks every
 *     member of the last view for a vote in a new term; a member grants at
 *     most one vote per term, only if it cannot reach the primary itself and
 *     its view is not newer than the candidate's; a majority of the last
 *     view (the old primary counted) elects. Two candidates cannot both win
 *     a term: each needs a majority, and majorities intersect in a member
 *     that votes once per term;
 *   - the quorum rule: a primary that reaches no majority of its view
 *     declares nobody dead and refuses joins;
 *   - stepping down: a primary that meets a newer term becomes a secondary
 *     of the newer primary and rejoins.
 *
 * Owns: s->primary_addr/primary_str/primary_pid, s->voted_term,
 * s->step_down, s->quorum_lost, s->retired_json (under mtx). May call:
 * centralized-ping.c (start, drop), centralized-primary.c (change_new),
 * centralized-common.c, centralized-config.c, centralized-logic.c,
 * centralized-wire.c, backend-util, frt/margo. Called by: the watch
 * (take over, step down), rpc (vote, redirect), ping (quorum), secondary
 * (calls to the primary, redirects).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flock/backend-util.h"

#include "centralized-internal.h"
#include "centralized-wire.h"

#define CENT_VOTE_MIN_TIMEOUT_MS 500.0

/* ------------------------------------------------------------------ */
/* The current primary                                                  */
/* ------------------------------------------------------------------ */

hg_return_t cent__call_primary(cent_state_t* s, const char* rpc, const frt_wbuf* in,
                               double timeout_ms, void** out, size_t* out_len)
{
    hg_addr_t a = HG_ADDR_NULL;
    uint16_t pid;
    pthread_mutex_lock(&s->mtx);
    hg_return_t hret = margo_addr_dup(s->mid, s->primary_addr, &a);
    pid = s->primary_pid;
    pthread_mutex_unlock(&s->mtx);
    if (hret != HG_SUCCESS) return hret;
    hret = frt_forward(s->mid, a, rpc, pid, in->data, in->len, timeout_ms, out, out_len);
    margo_addr_free(s->mid, a);
    return hret;
}

void cent__primary_name(cent_state_t* s, char* buf, size_t size, uint16_t* pid)
{
    pthread_mutex_lock(&s->mtx);
    snprintf(buf, size, "%s", s->primary_str);
    *pid = s->primary_pid;
    pthread_mutex_unlock(&s->mtx);
}

flock_return_t cent__set_primary(cent_state_t* s, const char* address, uint16_t pid)
{
    hg_addr_t a = HG_ADDR_NULL, old = HG_ADDR_NULL;
    if (!address || strlen(address) > FRT_MAX_ADDR_LEN ||
        margo_addr_lookup(s->mid, address, &a) != HG_SUCCESS)
        return FLOCK_ERR_FROM_MERCURY;
    pthread_mutex_lock(&s->mtx);
    old = s->primary_addr;
    s->primary_addr = a;
    snprintf(s->primary_str, sizeof s->primary_str, "%s", address);
    s->primary_pid = pid;
    pthread_mutex_unlock(&s->mtx);
    if (old != HG_ADDR_NULL) margo_addr_free(s->mid, old);
    return FLOCK_SUCCESS;
}

void cent__respond_redirect(cent_state_t* s, frt_request_t req)
{
    frt_wbuf b = FRT_WBUF_INIT;
    char addr[FRT_MAX_ADDR_LEN + 1];
    uint16_t pid;
    uint64_t gid, term;
    cent__primary_name(s, addr, sizeof addr, &pid);
    cent__identity(s, &gid, &term);
    bool self = flock__cent_same_member(addr, pid, s->self_addr, s->provider_id);
    flock__cent_encode_status(&b, FLOCK_ERR_OP_FORBIDDEN);
    flock__cent_encode_redirect(&b, self ? FLOCK__CENT_REDIRECT_NONE : FLOCK__CENT_REDIRECT_PRIMARY,
                                addr, pid, term);
    if (b.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, b.data, b.len);
    frt_wbuf_free(&b);
}

bool cent__follow_redirect(cent_state_t* s, frt_rbuf* r)
{
    uint8_t kind;
    char* addr = NULL;
    uint16_t pid = 0;
    uint64_t term = 0, my_gid, my_term;
    bool moved = false;
    if (!flock__cent_decode_redirect(r, &kind, &addr, &pid, &term)) return false;
    cent__identity(s, &my_gid, &my_term);
    if (kind == FLOCK__CENT_REDIRECT_PRIMARY && term >= my_term &&
        !flock__cent_same_member(addr, pid, s->self_addr, s->provider_id)) {
        char cur[FRT_MAX_ADDR_LEN + 1];
        uint16_t cur_pid;
        cent__primary_name(s, cur, sizeof cur, &cur_pid);
        if (!flock__cent_same_member(addr, pid, cur, cur_pid) &&
            cent__set_primary(s, addr, pid) == FLOCK_SUCCESS) {
            margo_info(s->mid, CENT_LOG_PREFIX "redirected to the primary %s (%u), term %llu",
                       addr, pid, (unsigned long long)term);
            cent__adopt(s, 0, term);
            moved = true;
        }
    }
    free(addr);
    return moved;
}

/* ------------------------------------------------------------------ */
/* Quorum (primary)                                                     */
/* ------------------------------------------------------------------ */

void cent__failover_quorum_locked(cent_state_t* s)
{
    size_t n = 1, reachable = 1; /* this member */
    for (cent_peer_t* p = s->peers; p; p = p->next) {
        if (p->declared) continue;
        n++;
        if (p->failures == 0) reachable++;
    }
    bool lost = !flock__cent_may_declare(reachable, n);
    if (lost != s->quorum_lost)
        margo_warning(s->mid,
                      lost ? CENT_LOG_PREFIX "the primary reaches %zu of %zu members, and "
                                             "the others are a majority: it declares nobody "
                                             "dead and refuses joins until it reaches half"
                           : CENT_LOG_PREFIX "the primary reaches %zu of %zu members again",
                      reachable, n);
    s->quorum_lost = lost;
}

/* ------------------------------------------------------------------ */
/* Votes                                                                */
/* ------------------------------------------------------------------ */

/* Contract: no lock held. true if the current primary answers this member
 * (any answer: a process that answers is alive). */
static bool cent__primary_answers(cent_state_t* s)
{
    frt_wbuf b = FRT_WBUF_INIT;
    void* out = NULL;
    size_t olen = 0;
    cent__put_envelope(s, &b);
    flock__cent_encode_ping(&b, 0, 0);
    hg_return_t h = b.failed ? HG_NOMEM
                             : cent__call_primary(s, FLOCK__CENT_RPC_PING, &b,
                                                  s->config.ping_timeout_ms > 0
                                                      ? s->config.ping_timeout_ms
                                                      : CENT_VOTE_MIN_TIMEOUT_MS,
                                                  &out, &olen);
    free(out);
    frt_wbuf_free(&b);
    return h == HG_SUCCESS;
}

static void cent__vote_reply(frt_request_t req, flock_return_t status, uint64_t term)
{
    frt_wbuf b = FRT_WBUF_INIT;
    flock__cent_encode_status(&b, (uint32_t)status);
    frt_put_u64(&b, term);
    if (b.failed)
        frt_respond_error(req, HG_NOMEM);
    else
        frt_respond(req, b.data, b.len);
    frt_wbuf_free(&b);
}

void cent__failover_vote(cent_state_t* s, frt_request_t req, uint64_t term,
                         uint16_t cand_pid, uint64_t cand_last_term, uint64_t cand_seq)
{
    uint64_t my_term, my_seq, voted;
    const char* cand = frt_request_source(req);
    pthread_mutex_lock(&s->mtx);
    my_term = s->term;
    voted = s->voted_term;
    pthread_mutex_unlock(&s->mtx);
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    my_seq = s->seq;
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);

    const char* refused = NULL;
    if (!s->failover)
        refused = "failover is off";
    else if (s->is_primary)
        refused = "this member is the primary and alive";
    else if (term <= my_term || term <= voted)
        refused = "it already knows that term or a newer one";
    else if (cand_last_term < my_term || (cand_last_term == my_term && cand_seq < my_seq))
        refused = "the candidate's view is older than this member's";
    else if (cent__primary_answers(s))
        refused = "the primary still answers this member";
    if (!refused) {
        pthread_mutex_lock(&s->mtx);
        if (term > s->voted_term && term > s->term) {
            s->voted_term = term;
            /* give the candidate time to win before standing itself */
            double w = flock__cent_watch_window_ms(s->config.ping_interval_max_ms,
                                                   s->config.ping_timeout_ms,
                                                   s->config.ping_max_num_timeouts);
            s->next_candidacy_ms = frt_now_ms() + 2 * w;
        } else {
            refused = "it voted in that term meanwhile";
        }
        my_term = s->term;
        pthread_mutex_unlock(&s->mtx);
    }
    margo_info(s->mid, CENT_LOG_PREFIX "vote for %s (%u) in term %llu: %s%s", cand ? cand : "?",
               cand_pid, (unsigned long long)term, refused ? "refused, " : "granted",
               refused ? refused : "");
    cent__vote_reply(req, refused ? FLOCK_ERR_OP_FORBIDDEN : FLOCK_SUCCESS, my_term);
}

/* ------------------------------------------------------------------ */
/* Taking over                                                          */
/* ------------------------------------------------------------------ */

/* Contract: view lock held. This member's rank in the succession after the
 * primary (pid, addr): 0 for the member just after it in view order
 * (wrapping), n-2 for the one just before; -1 if either is not listed. */
static long cent__succession_rank_locked(cent_state_t* s, const char* paddr, uint16_t ppid)
{
    ssize_t pi = flock_group_view_members_binary_search(&s->view, paddr, ppid);
    ssize_t me = flock_group_view_members_binary_search(&s->view, s->self_addr, s->provider_id);
    size_t n = s->view.members.size;
    if (pi < 0 || me < 0 || pi == me || n < 2) return -1;
    return (long)(((size_t)me + n - (size_t)pi) % n) - 1;
}

typedef struct cent_ballot {
    pthread_mutex_t m;
    pthread_cond_t c;
    size_t pending, granted;
    uint64_t newest_term; /* the newest term a voter knows */
} cent_ballot_t;

static void cent__ballot_done(void* uargs, hg_return_t ret, const void* out, size_t len)
{
    cent_ballot_t* bl = uargs;
    frt_rbuf r;
    uint32_t status = FLOCK_ERR_OTHER;
    uint64_t term = 0;
    if (ret == HG_SUCCESS) {
        frt_rbuf_init(&r, out, len);
        if (flock__cent_decode_status(&r, &status)) term = frt_get_u64(&r);
        if (!frt_rbuf_ok(&r)) status = FLOCK_ERR_OTHER;
    }
    pthread_mutex_lock(&bl->m);
    if (status == FLOCK_SUCCESS) bl->granted++;
    if (term > bl->newest_term) bl->newest_term = term;
    bl->pending--;
    pthread_cond_broadcast(&bl->c);
    pthread_mutex_unlock(&bl->m);
}

/* Contract: sync_mtx held, no other lock. Ask every member of the view but
 * this one and the old primary for a vote in `term`; *granted counts this
 * member's own vote too; *newest is the newest term a voter knows. */
static void cent__collect_votes(cent_state_t* s, uint64_t term, const char* paddr,
                                uint16_t ppid, size_t* granted, uint64_t* newest)
{
    cent_ballot_t bl = {.pending = 0, .granted = 1, .newest_term = 0};
    frt_wbuf b = FRT_WBUF_INIT;
    uint64_t gid, my_term;
    double timeout = s->config.ping_timeout_ms * 2 > CENT_VOTE_MIN_TIMEOUT_MS
                         ? s->config.ping_timeout_ms * 2
                         : CENT_VOTE_MIN_TIMEOUT_MS;
    pthread_mutex_init(&bl.m, NULL);
    pthread_cond_init(&bl.c, NULL);
    cent__identity(s, &gid, &my_term);
    flock__cent_encode_envelope(&b, gid, term, s->provider_id);
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    frt_put_u64(&b, my_term);
    frt_put_u64(&b, s->seq);
    size_t n = s->view.members.size;
    char** addrs = calloc(n ? n : 1, sizeof(*addrs));
    uint16_t* pids = calloc(n ? n : 1, sizeof(*pids));
    size_t k = 0;
    for (size_t i = 0; addrs && pids && i < n; i++) {
        const flock_member_t* m = &s->view.members.data[i];
        if (flock__cent_same_member(m->address, m->provider_id, s->self_addr, s->provider_id) ||
            flock__cent_same_member(m->address, m->provider_id, paddr, ppid))
            continue;
        pids[k] = m->provider_id;
        if ((addrs[k] = strdup(m->address))) k++;
    }
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    for (size_t i = 0; !b.failed && i < k; i++) {
        hg_addr_t a = HG_ADDR_NULL;
        if (margo_addr_lookup(s->mid, addrs[i], &a) != HG_SUCCESS) continue;
        pthread_mutex_lock(&bl.m);
        bl.pending++;
        pthread_mutex_unlock(&bl.m);
        if (frt_forward_async(s->mid, a, FLOCK__CENT_RPC_VOTE, pids[i], b.data, b.len, timeout,
                              cent__ballot_done, &bl) != HG_SUCCESS)
            cent__ballot_done(&bl, HG_OTHER_ERROR, NULL, 0);
        margo_addr_free(s->mid, a);
    }
    frt_wait_begin();
    pthread_mutex_lock(&bl.m);
    while (bl.pending > 0)
        pthread_cond_wait(&bl.c, &bl.m);
    pthread_mutex_unlock(&bl.m);
    frt_wait_end();
    *granted = bl.granted;
    *newest = bl.newest_term;
    for (size_t i = 0; i < k; i++)
        free(addrs[i]);
    free(addrs);
    free(pids);
    frt_wbuf_free(&b);
    pthread_cond_destroy(&bl.c);
    pthread_mutex_destroy(&bl.m);
}

/* Contract: sync_mtx held, no other lock; elected in `term`. Become the
 * primary: the role, the primary record, the config naming this member
 * (so its __config__ and the group file do), a fresh event log and seq,
 * pings to every member. */
static flock_return_t cent__become_primary(cent_state_t* s, uint64_t term)
{
    flock__cent_config_t cfg = s->config;
    struct json_object* json = NULL;
    cfg.primary_address = s->self_addr; /* borrowed for to_json */
    cfg.primary_provider_id = s->provider_id;
    cfg.has_primary_provider_id = true;
    cfg.term = term;
    pthread_mutex_lock(&s->mtx);
    cfg.group_id = s->group_id;
    pthread_mutex_unlock(&s->mtx);
    json = flock__cent_config_to_json(&cfg);
    if (!json || cent__set_primary(s, s->self_addr, s->provider_id) != FLOCK_SUCCESS) {
        if (json) json_object_put(json);
        return FLOCK_ERR_ALLOCATION;
    }
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    flock_return_t ret = flock__view_set_reserved_metadata(&s->view, "centralized", json);
    s->seq = 0;
    if (ret == FLOCK_SUCCESS) { /* a fresh log: seq numbers restart with the term */
        flock__cent_log_destroy(&s->log);
        ret = flock__cent_log_init(&s->log, CENT_EVENT_LOG_CAPACITY);
    }
    uint64_t digest = s->view.digest;
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    pthread_mutex_lock(&s->mtx);
    s->term = term;
    s->committed_seq = 0;
    s->committed_digest = digest;
    if (s->nretired < sizeof s->retired_json / sizeof s->retired_json[0]) {
        s->retired_json[s->nretired++] = s->config_json; /* a get_config may still read it */
        s->config_json = json;
    } else {
        json_object_put(json); /* keep the last one: get_config shows an older term */
    }
    s->is_primary = true;
    pthread_mutex_unlock(&s->mtx);
    if (ret == FLOCK_SUCCESS) ret = cent__ping_start_all(s);
    return ret;
}

void cent__failover_maybe_take_over(cent_state_t* s, double silent_ms, double window_ms,
                                    cent_change_t** died)
{
    char paddr[FRT_MAX_ADDR_LEN + 1];
    uint16_t ppid;
    size_t granted = 0, n;
    uint64_t newest = 0, term, my_term;
    *died = NULL;
    if (!s->failover || s->is_primary) return;
    cent__primary_name(s, paddr, sizeof paddr, &ppid);
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    long rank = cent__succession_rank_locked(s, paddr, ppid);
    n = s->view.members.size;
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    pthread_mutex_lock(&s->mtx);
    bool handover = s->handover;
    s->handover = false;
    pthread_mutex_unlock(&s->mtx);
    /* rank r stands after r + 1 windows of silence (the watch looks every
     * half window): the next successor first, a later one only if it did
     * not win, so that two ballots seldom overlap (votes are exclusive per
     * term anyway: the stagger only spares split votes) */
    if (rank < 0 || (!handover && silent_ms < window_ms * (1.0 + (double)rank))) return;
    pthread_mutex_lock(&s->mtx);
    bool wait = !handover && frt_now_ms() < s->next_candidacy_ms;
    pthread_mutex_unlock(&s->mtx);
    if (wait) return;

    pthread_mutex_lock(&s->mtx);
    term = (s->term > s->voted_term ? s->term : s->voted_term) + 1;
    s->voted_term = term; /* this member's own vote */
    my_term = s->term;
    pthread_mutex_unlock(&s->mtx);
    cent__collect_votes(s, term, paddr, ppid, &granted, &newest);
    pthread_mutex_lock(&s->mtx);
    bool moved_on = s->term != my_term || s->is_primary; /* a primary spoke meanwhile */
    pthread_mutex_unlock(&s->mtx);
    if (moved_on || newest >= term || !flock__cent_is_majority(granted, n)) {
        /* lost: stand again after a randomized pause (no split-vote livelock) */
        pthread_mutex_lock(&s->mtx);
        s->next_candidacy_ms =
            frt_now_ms() + window_ms * (1.0 + (double)n * flock__cent_rand01(&s->rng));
        pthread_mutex_unlock(&s->mtx);
        margo_warning(s->mid,
                      CENT_LOG_PREFIX "the primary %s (%u) does not answer; %zu of %zu members "
                      "agree to replace it in term %llu: %s",
                      paddr, ppid, granted, n, (unsigned long long)term,
                      moved_on || newest >= term ? "a newer term exists, not taking over"
                                                 : "no majority, not taking over");
        return;
    }
    if (cent__become_primary(s, term) != FLOCK_SUCCESS) {
        margo_error(s->mid, CENT_LOG_PREFIX "elected in term %llu but cannot take over",
                    (unsigned long long)term);
        return;
    }
    margo_warning(s->mid,
                  CENT_LOG_PREFIX "took over as the primary in term %llu: the primary %s (%u) "
                  "%s and %zu of %zu members agreed",
                  (unsigned long long)term, paddr, ppid,
                  handover ? "left and handed over" : "stopped answering", granted, n);
    *died = cent__change_new(handover ? FLOCK_MEMBER_LEFT : FLOCK_MEMBER_DIED, paddr, ppid);
}

void cent__failover_step_down(cent_state_t* s)
{
    char paddr[FRT_MAX_ADDR_LEN + 1];
    uint16_t ppid;
    uint64_t gid, term;
    cent__ping_drop_all(s);
    pthread_mutex_lock(&s->mtx);
    s->is_primary = false;
    s->step_down = false;
    s->quorum_lost = false;
    s->joined = true;
    pthread_mutex_unlock(&s->mtx);
    cent__primary_name(s, paddr, sizeof paddr, &ppid);
    cent__identity(s, &gid, &term);
    margo_warning(s->mid,
                  CENT_LOG_PREFIX "stepping down: the group has a newer primary, %s (%u) in "
                  "term %llu",
                  paddr, ppid, (unsigned long long)term);
    cent__watch_removed(s, "its primary role ended with its term");
}

/* ------------------------------------------------------------------ */
/* Handing over (graceful destroy of the primary)                       */
/* ------------------------------------------------------------------ */

void cent__failover_on_handover(cent_state_t* s, frt_request_t req)
{
    bool ok = s->failover && !s->is_primary;
    if (ok) {
        pthread_mutex_lock(&s->mtx);
        s->handover = true;
        pthread_mutex_unlock(&s->mtx);
        margo_info(s->mid, CENT_LOG_PREFIX "the primary %s leaves and hands over to this member",
                   frt_request_source(req));
    }
    cent__respond_status(req, ok ? FLOCK_SUCCESS : FLOCK_ERR_OP_FORBIDDEN);
}

void cent__failover_hand_over(cent_state_t* s)
{
    frt_wbuf b = FRT_WBUF_INIT;
    if (!s->failover) return;
    cent__put_envelope(s, &b);
    FLOCK_GROUP_VIEW_LOCK(&s->view);
    size_t n = s->view.members.size;
    ssize_t me = flock_group_view_members_binary_search(&s->view, s->self_addr, s->provider_id);
    char** addrs = calloc(n ? n : 1, sizeof(*addrs));
    uint16_t* pids = calloc(n ? n : 1, sizeof(*pids));
    size_t k = 0;
    for (size_t i = 1; me >= 0 && addrs && pids && i < n; i++) { /* succession order */
        const flock_member_t* m = &s->view.members.data[((size_t)me + i) % n];
        pids[k] = m->provider_id;
        if ((addrs[k] = strdup(m->address))) k++;
    }
    FLOCK_GROUP_VIEW_UNLOCK(&s->view);
    for (size_t i = 0; !b.failed && i < k; i++) {
        hg_addr_t a = HG_ADDR_NULL;
        void* out = NULL;
        size_t olen = 0;
        frt_rbuf r;
        uint32_t status = FLOCK_ERR_OTHER;
        if (margo_addr_lookup(s->mid, addrs[i], &a) != HG_SUCCESS) continue;
        hg_return_t h = frt_forward(s->mid, a, FLOCK__CENT_RPC_HANDOVER, pids[i], b.data, b.len,
                                    CENT_LEAVE_TIMEOUT_MS, &out, &olen);
        margo_addr_free(s->mid, a);
        if (h == HG_SUCCESS) {
            frt_rbuf_init(&r, out, olen);
            (void)flock__cent_decode_status(&r, &status);
        }
        free(out);
        if (status == FLOCK_SUCCESS) {
            margo_info(s->mid, CENT_LOG_PREFIX "handed over to %s (%u)", addrs[i], pids[i]);
            break;
        }
    }
    for (size_t i = 0; i < k; i++)
        free(addrs[i]);
    free(addrs);
    free(pids);
    frt_wbuf_free(&b);
}
