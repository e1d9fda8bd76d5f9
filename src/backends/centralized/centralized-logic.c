/*
 * centralized-logic.c -- see centralized-logic.h.
 */
#include "centralized-logic.h"

#include <stdlib.h>
#include <string.h>

double flock__cent_draw_interval(double min_ms, double max_ms, double u)
{
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    if (max_ms <= min_ms) return min_ms;
    return min_ms + (max_ms - min_ms) * u;
}

double flock__cent_next_ping_delay(double interval_ms, double elapsed_ms)
{
    double d = interval_ms - elapsed_ms;
    return d > 0 ? d : 0;
}

bool flock__cent_record_ping(unsigned* consecutive_failures, bool success,
                             unsigned max_failures)
{
    if (success) {
        *consecutive_failures = 0;
        return false;
    }
    if (*consecutive_failures < UINT32_MAX) (*consecutive_failures)++;
    return *consecutive_failures >= (max_failures ? max_failures : 1);
}

double flock__cent_detection_bound_ms(double interval_max_ms, double timeout_ms,
                                      unsigned max_failures)
{
    return (double)max_failures * (interval_max_ms + timeout_ms) + interval_max_ms;
}

double flock__cent_rand01(uint64_t* state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

uint64_t flock__cent_rng_seed(uint64_t sec, uint64_t nsec, uint64_t pid,
                              uint16_t provider_id, uint64_t salt)
{
    uint64_t seed = (nsec << 20) ^ sec ^ (pid << 32) ^ ((uint64_t)provider_id << 48) ^ salt;
    return seed ? seed : 0x9E3779B97F4A7C15ULL;
}

bool flock__cent_same_member(const char* address, uint16_t pid, const char* self_address,
                             uint16_t self_pid)
{
    return address && self_address && pid == self_pid &&
           strcmp(address, self_address) == 0;
}

flock__cent_change_t flock__cent_change_for(flock_update_t type, bool present)
{
    switch (type) {
    case FLOCK_MEMBER_JOINED:
        return present ? FLOCK__CENT_NOOP : FLOCK__CENT_ADD;
    case FLOCK_MEMBER_LEFT:
    case FLOCK_MEMBER_DIED:
        return present ? FLOCK__CENT_REMOVE : FLOCK__CENT_NOOP;
    default:
        return FLOCK__CENT_NOOP;
    }
}

const char* flock__cent_update_name(flock_update_t type)
{
    switch ((int)type) {
    case FLOCK_MEMBER_JOINED:
        return "JOINED";
    case FLOCK_MEMBER_LEFT:
        return "LEFT";
    case FLOCK_MEMBER_DIED:
        return "DIED";
    case FLOCK__CENT_META_SET:
        return "META_SET";
    case FLOCK__CENT_META_DEL:
        return "META_DEL";
    default:
        return "?";
    }
}

bool flock__cent_valid_update_type(uint32_t type)
{
    return type == FLOCK_MEMBER_JOINED || type == FLOCK_MEMBER_LEFT ||
           type == FLOCK_MEMBER_DIED || type == FLOCK__CENT_META_SET ||
           type == FLOCK__CENT_META_DEL;
}

flock__cent_seq_action_t flock__cent_classify_seq(uint64_t applied_seq, uint64_t ev_seq)
{
    if (ev_seq <= applied_seq) return FLOCK__CENT_SEQ_SKIP;
    if (ev_seq == applied_seq + 1) return FLOCK__CENT_SEQ_APPLY;
    return FLOCK__CENT_SEQ_GAP;
}

flock__cent_verdict_t flock__cent_judge(uint64_t my_group, uint64_t my_term,
                                        uint64_t msg_group, uint64_t msg_term)
{
    if (my_group && msg_group && my_group != msg_group) return FLOCK__CENT_FOREIGN;
    if (msg_term > my_term) return FLOCK__CENT_ADOPT;
    if (msg_term < my_term) return FLOCK__CENT_STALE;
    if (!my_group && msg_group) return FLOCK__CENT_ADOPT; /* learn the id */
    return FLOCK__CENT_ACCEPT;
}

bool flock__cent_is_majority(size_t k, size_t n)
{
    return n > 0 && k * 2 > n;
}

bool flock__cent_may_declare(size_t reachable, size_t n)
{
    return reachable * 2 >= n;
}

double flock__cent_watch_window_ms(double interval_max_ms, double timeout_ms,
                                   int max_timeouts)
{
    if (max_timeouts < 1) max_timeouts = 1;
    return (double)max_timeouts * (interval_max_ms + timeout_ms) + interval_max_ms;
}

bool flock__cent_needs_catch_up(uint64_t applied_seq, uint64_t my_digest,
                                uint64_t primary_seq, uint64_t primary_digest)
{
    if (applied_seq < primary_seq) return true;
    if (applied_seq == primary_seq && my_digest != primary_digest) return true;
    return false;
}

flock_return_t flock__cent_log_init(flock__cent_log_t* log, size_t capacity)
{
    memset(log, 0, sizeof(*log));
    if (capacity == 0) capacity = 1;
    log->ring = calloc(capacity, sizeof(*log->ring));
    if (!log->ring) return FLOCK_ERR_ALLOCATION;
    log->capacity = capacity;
    return FLOCK_SUCCESS;
}

void flock__cent_log_destroy(flock__cent_log_t* log)
{
    if (!log) return;
    if (log->ring) {
        for (size_t i = 0; i < log->capacity; i++) {
            free(log->ring[i].address);
            free(log->ring[i].value);
        }
        free(log->ring);
    }
    memset(log, 0, sizeof(*log));
}

flock_return_t flock__cent_log_append(flock__cent_log_t* log, uint64_t seq,
                                      flock_update_t type, const char* address,
                                      uint16_t provider_id)
{
    flock__cent_event_t e = {seq, type, (char*)address, provider_id, NULL};
    return flock__cent_log_append_event(log, &e);
}

flock_return_t flock__cent_log_append_event(flock__cent_log_t* log,
                                            const flock__cent_event_t* e)
{
    char* copy  = strdup(e->address ? e->address : "");
    char* value = e->value ? strdup(e->value) : NULL;
    if (!copy || (e->value && !value) || !log->ring) {
        free(copy);
        free(value);
        return FLOCK_ERR_ALLOCATION;
    }
    size_t slot;
    if (log->count == log->capacity) { /* drop the oldest */
        slot = log->head;
        log->head = (log->head + 1) % log->capacity;
    } else {
        slot = (log->head + log->count) % log->capacity;
        log->count++;
    }
    free(log->ring[slot].address);
    free(log->ring[slot].value);
    log->ring[slot].seq = e->seq;
    log->ring[slot].type = e->type;
    log->ring[slot].address = copy;
    log->ring[slot].provider_id = e->provider_id;
    log->ring[slot].value = value;
    return FLOCK_SUCCESS;
}

const flock__cent_event_t* flock__cent_log_at(const flock__cent_log_t* log, size_t i)
{
    if (!log->ring || i >= log->count) return NULL;
    return &log->ring[(log->head + i) % log->capacity];
}

bool flock__cent_log_since(const flock__cent_log_t* log, uint64_t since_seq,
                           size_t* first, size_t* n)
{
    *first = 0;
    *n = 0;
    if (log->count == 0) return since_seq == 0;
    uint64_t oldest = flock__cent_log_at(log, 0)->seq;
    uint64_t newest = flock__cent_log_at(log, log->count - 1)->seq;
    if (since_seq >= newest) return true;     /* nothing newer */
    if (since_seq + 1 < oldest) return false; /* some were dropped */
    /* seqs are consecutive in the log */
    *first = (size_t)(since_seq + 1 - oldest);
    *n = (size_t)(newest - since_seq);
    /* seqs must be consecutive; anything else means a lost append */
    if (*first + *n != log->count ||
        flock__cent_log_at(log, *first)->seq != since_seq + 1) {
        *first = 0;
        *n = 0;
        return false;
    }
    return true;
}
