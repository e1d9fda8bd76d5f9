/* swim-math.c -- pure protocol math of the SWIM backend (see swim-math.h). */
#include "swim-math.h"

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
