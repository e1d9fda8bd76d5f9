/*
 * swim-math.h -- the timing and sizing rules of the SWIM backend as small
 * pure functions (no state, no clock, no allocation), table-tested in
 * tests/swim/test-swim-math.c. Modelled on memberlist's util.go,
 * suspicion.go and awareness.go (Lifeguard).
 */
#ifndef FLOCK_SWIM_MATH_H
#define FLOCK_SWIM_MATH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Number of significant bits of v (0 for v == 0). */
unsigned swim__bit_length(uint64_t v);

/**
 * How many times one gossip entry is piggybacked before it is dropped:
 * mult * bit_length(n - 1), at least 1 (n <= 1 -> 1). With mult = 3 this is
 * the reference rule (n = 2 -> 3, 3..4 -> 6, 5..8 -> 9). mult <= 0 -> 1.
 */
unsigned swim__retransmit_limit(int mult, uint64_t n);

/**
 * The minimum suspicion timeout (ms). If mult > 0 it is memberlist's
 * size-scaled rule mult * max(1, log10(max(1, n))) * period_ms; otherwise the
 * fixed base_ms. Never below 1 ms.
 */
double swim__suspicion_min_ms(double base_ms, double mult, uint64_t n, double period_ms);

/**
 * Lifeguard's dynamic suspicion timeout (memberlist remainingSuspicionTime
 * without the elapsed part): max - log(c + 1) / log(k + 1) * (max - min),
 * floored to whole milliseconds and clamped to [min, max]. c = independent
 * confirmations received so far, k = confirmations expected. k < 1 -> min.
 */
double swim__suspicion_timeout_ms(unsigned c, unsigned k, double min_ms, double max_ms);

/**
 * Expected confirmations for a new suspicion: k, or 0 when the group is too
 * small to provide them (n - 2 < k, n = members including self).
 */
unsigned swim__suspicion_expected(unsigned k, uint64_t n);

/** Lifeguard local health: new score = clamp(score + delta, 0, max_mult - 1). */
int swim__awareness_apply(int score, int delta, int max_mult);

/** A timeout stretched by local health: timeout * (score + 1). */
double swim__awareness_scale(double timeout_ms, int score);

/**
 * How many ping-req helpers to use: the configured value clamped to
 * [0, candidates] and to SWIM_MAX_PING_REQ. Any configured value is safe
 * (negative -> 0).
 */
unsigned swim__ping_req_count(int64_t configured, uint64_t candidates);

/** Hard cap on ping-req helpers per probe. */
#define SWIM_MAX_PING_REQ 16u

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_MATH_H */
