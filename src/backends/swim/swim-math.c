/* swim-math.c -- pure protocol math of the SWIM backend (see swim-math.h). */
#include "swim-math.h"
#include "swim-core.h" /* entry types (swim__etype) */

#include <stdbool.h>

#include <math.h>

unsigned swim__bit_length(uint64_t v)
{
    unsigned n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

unsigned swim__retransmit_limit(int mult, uint64_t n)
{
    if (mult <= 0 || n <= 1) return 1;
    uint64_t r = (uint64_t)mult * swim__bit_length(n - 1);
    if (r < 1) r = 1;
    if (r > 1000000u) r = 1000000u;
    return (unsigned)r;
}

double swim__suspicion_min_ms(double base_ms, double mult, uint64_t n, double period_ms)
{
    double t = base_ms;
    if (mult > 0) {
        double nn    = n < 1 ? 1.0 : (double)n;
        double scale = log10(nn);
        if (scale < 1.0) scale = 1.0;
        t = mult * scale * period_ms;
    }
    if (!(t >= 1.0)) t = 1.0; /* also catches NaN */
    return t;
}

double swim__suspicion_timeout_ms(unsigned c, unsigned k, double min_ms, double max_ms)
{
    if (max_ms < min_ms) max_ms = min_ms;
    if (k < 1) return min_ms;
    double frac = log((double)c + 1.0) / log((double)k + 1.0);
    double raw  = max_ms - frac * (max_ms - min_ms);
    double t    = floor(raw);
    if (t < min_ms) t = min_ms;
    if (t > max_ms) t = max_ms;
    return t;
}

unsigned swim__suspicion_expected(unsigned k, uint64_t n)
{
    if (n < 2 || n - 2 < k) return 0;
    return k;
}

int swim__awareness_apply(int score, int delta, int max_mult)
{
    long s = (long)score + (long)delta;
    if (max_mult < 1) max_mult = 1;
    if (s < 0) s = 0;
    if (s > max_mult - 1) s = max_mult - 1;
    return (int)s;
}

double swim__awareness_scale(double timeout_ms, int score)
{
    if (score < 0) score = 0;
    return timeout_ms * (double)(score + 1);
}

unsigned swim__ping_req_count(int64_t configured, uint64_t candidates)
{
    if (configured <= 0) return 0;
    uint64_t k = (uint64_t)configured;
    if (k > candidates) k = candidates;
    if (k > SWIM_MAX_PING_REQ) k = SWIM_MAX_PING_REQ;
    return (unsigned)k;
}

swim__verdict swim__entry_verdict(int etype, uint64_t inc, int status, uint64_t cur_inc)
{
    bool alive_kind = etype == SWIM_E_ALIVE || etype == SWIM_E_JOIN;
    bool dead_kind  = etype == SWIM_E_CONFIRM || etype == SWIM_E_LEAVE;
    bool in_view    = status == SWIM_ST_ALIVE || status == SWIM_ST_SUSPECT;
    if (status == SWIM_ST_UNKNOWN)
        return alive_kind ? SWIM_V_ALIVE : dead_kind ? SWIM_V_TOMBSTONE : SWIM_V_IGNORE;
    if (alive_kind) return inc > cur_inc ? SWIM_V_ALIVE : SWIM_V_IGNORE;
    if (etype == SWIM_E_SUSPECT) {
        if (!in_view || inc < cur_inc) return SWIM_V_IGNORE;
        return status == SWIM_ST_ALIVE || inc > cur_inc ? SWIM_V_SUSPECT : SWIM_V_CONFIRM;
    }
    if (!dead_kind) return SWIM_V_IGNORE;
    if (in_view && inc < cur_inc) return SWIM_V_IGNORE;
    /* a DEAD verdict removes only a member we suspect ourselves; one we
     * hold ALIVE (e.g. reached all along, and declared by the other side
     * of a healed partition) is suspected first and may refute (a doubt:
     * swim-merge.c keeps later DEAD verdicts from cutting it short) */
    if (in_view) return etype == SWIM_E_CONFIRM && status == SWIM_ST_ALIVE ? SWIM_V_DOUBT
                                                                            : SWIM_V_GONE;
    return inc > cur_inc ? SWIM_V_TOMBSTONE : SWIM_V_IGNORE;
}

swim__self_verdict swim__entry_self_verdict(int etype, uint64_t inc, uint64_t my_inc)
{
    if (etype == SWIM_E_SUSPECT && inc >= my_inc) return SWIM_SELF_REFUTE_SUSPECT;
    if ((etype == SWIM_E_CONFIRM || etype == SWIM_E_LEAVE) && inc >= my_inc)
        return SWIM_SELF_REFUTE_GONE;
    if ((etype == SWIM_E_ALIVE || etype == SWIM_E_JOIN) && inc > my_inc)
        return SWIM_SELF_REFUTE_ALIVE;
    return SWIM_SELF_IGNORE;
}

uint64_t swim__refute_incarnation(uint64_t seen, uint64_t mine)
{
    return seen >= mine ? seen + 1 : mine + 1;
}

int swim__probe_fail_delta(int expected_nacks, int nacks)
{
    if (expected_nacks > 0) return nacks < expected_nacks ? expected_nacks - nacks : 0;
    return 1;
}

uint32_t swim__feedback_transmits(uint32_t transmits, unsigned limit)
{
    unsigned penalty = limit / 3 > 1 ? limit / 3 : 1;
    /* the first third of the budget always goes out (initial spread) */
    return transmits >= limit / 3 ? transmits + penalty : transmits;
}

uint32_t swim__view_summary(uint64_t size, uint64_t digest)
{
    uint64_t x = digest ^ (size * 0x9E3779B97F4A7C15ULL);
    return (uint32_t)(x ^ (x >> 32));
}

int swim__sync_far_behind(uint64_t peer_n, uint32_t our_n)
{
    uint64_t gap = our_n / 32 > 2 ? our_n / 32 : 2;
    return peer_n >= (uint64_t)our_n + gap;
}

double swim__sync_stable_ms(double period_ms, double gossip_interval_ms)
{
    double half = 0.5 * period_ms;
    return gossip_interval_ms > 0 && gossip_interval_ms < half ? gossip_interval_ms : half;
}

double swim__sync_spacing_ms(double period_ms, uint32_t n, uint64_t gap)
{
    double per = 64.0 * (double)(gap > 1 ? gap : 1);
    return period_ms * (n > per ? n / per : 1.0);
}

double swim__grid_deadline(double t, double now, double grid_ms)
{
    if (!(grid_ms > 0) || !isfinite(t) || t <= now) return t;
    return ceil(t / grid_ms) * grid_ms;
}

double swim__tick_grid_for(double tick_grid_ms, double period_ms, uint32_t nview)
{
    if (tick_grid_ms >= 0) return tick_grid_ms;
    return nview >= SWIM_TICK_GRID_AUTO_VIEW && period_ms > 0 ? period_ms / 20.0 : 0.0;
}

double swim__check_lead_ms(double scaled_ping_timeout_ms, double min_ms)
{
    return scaled_ping_timeout_ms < 0.5 * min_ms ? scaled_ping_timeout_ms : 0.5 * min_ms;
}

double swim__hard_suspicion_ms(double scaled_ping_timeout_ms, double scaled_period_ms,
                               double min_ms)
{
    double t = 2.0 * scaled_ping_timeout_ms;
    if (t < scaled_period_ms) t = scaled_period_ms;
    return t < min_ms ? t : min_ms;
}

_Static_assert(SWIM_MAX_BUCKETS == SWIM_FINE_BUCKETS, "the wire's bound is the fine buckets' count");

int swim__valid_nbuckets(uint64_t nb)
{
    return nb >= 1 && nb <= SWIM_FINE_BUCKETS && (nb & (nb - 1)) == 0;
}

void swim__fold_buckets(const uint32_t* fine, uint32_t nb, uint32_t* out)
{
    for (uint32_t b = 0; b < nb; b++) out[b] = 0;
    for (uint32_t f = 0; f < SWIM_FINE_BUCKETS; f++) out[swim__bucket_of(f, nb)] ^= fine[f];
}

uint32_t swim__diff_buckets_for(uint32_t n)
{
    uint32_t nb = 16;
    while (nb < SWIM_FINE_BUCKETS && nb * 8 < n) nb *= 2;
    return nb;
}
