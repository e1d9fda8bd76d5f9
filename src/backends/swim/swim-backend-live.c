/*
 * swim-backend-live.c -- what the swim backends of one process share: the
 * list of live backends (for flock__swim_get_stats and
 * flock_swim_set_crash_mode, which finds a provider's backend here) and
 * the message counters.
 *
 * Owns: g_list (g_list_mtx), swim_backend.next_live/prev_live/listed,
 * swim__g_* counters. May call: the machine's memory estimate and the
 * interned-address table (stats). See swim-backend-state.h.
 */
#include "swim-backend.h"
#include "swim-backend-internal.h"
#include "swim-backend-state.h"
#include "swim-intern.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

_Atomic uint64_t swim__g_msgs, swim__g_bytes, swim__g_providers, swim__g_bad;

/* every live backend of the process, for flock__swim_get_stats and
 * flock_swim_set_crash_mode (which finds a provider's backend here) */
static pthread_mutex_t        g_list_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct swim_backend*   g_list     = NULL;


void swim__live_add(swim_backend* b)
{
    pthread_mutex_lock(&g_list_mtx);
    b->next_live = g_list;
    b->prev_live = NULL;
    if (g_list) g_list->prev_live = b;
    g_list    = b;
    b->listed = true;
    pthread_mutex_unlock(&g_list_mtx);
}

void swim__live_remove(swim_backend* b)
{
    pthread_mutex_lock(&g_list_mtx);
    if (b->listed) {
        if (b->prev_live) b->prev_live->next_live = b->next_live;
        else g_list = b->next_live;
        if (b->next_live) b->next_live->prev_live = b->prev_live;
        b->listed = false;
    }
    pthread_mutex_unlock(&g_list_mtx);
}

/* bytes glibc takes for an n-byte request (16-byte granules, 8-byte header) */
static size_t chunk(size_t n)
{
    if (n == 0) return 0;
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static size_t meta_bytes(const flock_group_view_t* v)
{
    size_t n = chunk((size_t)v->metadata.capacity * sizeof(flock_metadata_t));
    for (uint64_t i = 0; i < v->metadata.size; i++)
        n += chunk(strlen(v->metadata.data[i].key) + 1) +
             chunk(strlen(v->metadata.data[i].value) + 1);
    return n;
}

void flock__swim_get_stats(flock__swim_stats* out)
{
    out->msgs_sent   = atomic_load(&swim__g_msgs);
    out->bytes_sent  = atomic_load(&swim__g_bytes);
    out->providers   = atomic_load(&swim__g_providers);
    out->bad_msgs    = atomic_load(&swim__g_bad);
    out->state_bytes = 0;
    pthread_mutex_lock(&g_list_mtx);
    for (swim_backend* b = g_list; b; b = b->next_live) {
        pthread_mutex_lock(&b->lock);
        out->state_bytes += chunk(sizeof *b) + swim__memory_estimate(b->sm) +
                            chunk(b->capreqs * sizeof *b->reqs) +
                            chunk(b->capevq * sizeof *b->evq) + meta_bytes(&b->meta);
        pthread_mutex_unlock(&b->lock);
    }
    /* interned addresses: shared by every machine of the process, counted once */
    if (g_list) out->state_bytes += swim__intern_bytes();
    pthread_mutex_unlock(&g_list_mtx);
}

size_t flock__swim_view_size(void* state)
{
    swim_backend* b = state;
    if (!b) return 0;
    pthread_mutex_lock(&b->lock);
    size_t n = swim__published_count(b->sm);
    pthread_mutex_unlock(&b->lock);
    return n;
}

/* The provider's swim backend is found among this process's live swim
 * backends by the provider handle it was given at init_group
 * (flock__backend_owner): no call back into the provider. */
flock_return_t flock_swim_set_crash_mode(flock_provider_t provider, bool crash)
{
    flock_return_t ret = FLOCK_ERR_INVALID_BACKEND;
    if (!provider) return FLOCK_ERR_INVALID_ARGS;
    pthread_mutex_lock(&g_list_mtx);
    for (swim_backend* b = g_list; b; b = b->next_live) {
        if (b->owner != (const void*)provider) continue;
        pthread_mutex_lock(&b->lock);
        b->crash_mode = crash;
        pthread_mutex_unlock(&b->lock);
        ret = FLOCK_SUCCESS;
        break;
    }
    pthread_mutex_unlock(&g_list_mtx);
    return ret;
}
