/*
 * margo.c -- the thin Margo facade: address handles, log levels and the
 * margo_<level> loggers, getters, margo_thread_sleep, and the frt_fault_* /
 * frt_auth_* entry points (they hand the instance's seam, key state and log
 * ctx to fault.c / auth.c).
 *
 * Owns: struct hg_addr.
 * Calls: instance fields (read-only but the log level), pool.c
 * (frt__about_to_block, frt_wait_*), fault.c, auth.c, util.c. Called by
 * applications only.
 */
#include "frt-core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool margo_is_listening(margo_instance_id mid) { return mid && mid->server; }

int margo_set_log_level(margo_instance_id mid, margo_log_level level)
{
    if ((int)level < MARGO_LOG_EXTERNAL || (int)level > MARGO_LOG_CRITICAL) return -1;
    if (!mid) return margo_set_global_log_level(level);
    atomic_store(&mid->log.level, (int)level);
    return 0;
}

hg_return_t margo_get_handler_pool(margo_instance_id mid, ABT_pool* pool)
{
    if (!mid || !pool) return HG_INVALID_ARG;
    *pool = (ABT_pool)(void*)&mid->pool;
    return HG_SUCCESS;
}

void margo_thread_sleep(margo_instance_id mid, double timeout_ms)
{
    (void)mid;
    if (!(timeout_ms > 0)) return;
    frt__about_to_block();
    frt_wait_begin();
    struct timespec ts;
    ts.tv_sec  = (time_t)(timeout_ms / 1000.0);
    ts.tv_nsec = (long)((timeout_ms - (double)ts.tv_sec * 1000.0) * 1e6);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    frt_wait_end();
}

const char* frt_self_addr_str(margo_instance_id mid) { return mid ? mid->self : NULL; }

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

static hg_addr_t frt__addr_new(const char* s, const frt__addr_spec* spec)
{
    hg_addr_t a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->spec = *spec;
    snprintf(a->str, sizeof a->str, "%s", s);
    frt__addr_key(spec, a->key, sizeof a->key);
    return a;
}

hg_return_t margo_addr_self(margo_instance_id mid, hg_addr_t* addr)
{
    if (!mid || !addr) return HG_INVALID_ARG;
    frt__addr_spec spec;
    if (frt__addr_parse(mid->self, &spec) != HG_SUCCESS) return HG_OTHER_ERROR;
    *addr = frt__addr_new(mid->self, &spec);
    return *addr ? HG_SUCCESS : HG_NOMEM;
}

hg_return_t margo_addr_lookup(margo_instance_id mid, const char* name, hg_addr_t* addr)
{
    if (!mid || !name || !addr) return HG_INVALID_ARG;
    frt__addr_spec spec;
    hg_return_t    ret = frt__addr_parse(name, &spec);
    if (ret != HG_SUCCESS) return ret;
    if (!frt__addr_is_peer(&spec)) return HG_INVALID_ARG;
    *addr = frt__addr_new(name, &spec);
    return *addr ? HG_SUCCESS : HG_NOMEM;
}

hg_return_t margo_addr_dup(margo_instance_id mid, hg_addr_t addr, hg_addr_t* new_addr)
{
    if (!addr || !new_addr) return HG_INVALID_ARG;
    *new_addr = calloc(1, sizeof **new_addr);
    if (!*new_addr) return HG_NOMEM;
    **new_addr = *addr;
    return HG_SUCCESS;
}

hg_return_t margo_addr_free(margo_instance_id mid, hg_addr_t addr)
{
    free(addr);
    return HG_SUCCESS;
}

bool margo_addr_cmp(margo_instance_id mid, hg_addr_t a, hg_addr_t b)
{
    if (!a || !b) return a == b;
    return strcmp(a->key, b->key) == 0;
}

hg_return_t margo_addr_to_string(margo_instance_id mid, char* buf, hg_size_t* buf_size,
                                 hg_addr_t addr)
{
    if (!buf_size || !addr) return HG_INVALID_ARG;
    hg_size_t need = strlen(addr->str) + 1;
    if (!buf || *buf_size < need) {
        *buf_size = need;
        return HG_OVERFLOW;
    }
    memcpy(buf, addr->str, need);
    *buf_size = need;
    return HG_SUCCESS;
}

const char* frt_addr_str(hg_addr_t addr) { return addr ? addr->str : NULL; }

/* ------------------------------------------------------------------ */
/* Logging, fault injection and group keys: the instance's state       */
/* ------------------------------------------------------------------ */

#define FRT__LOGFN(name, level)                          \
    void name(margo_instance_id mid, const char* fmt, ...) \
    {                                                     \
        va_list ap;                                       \
        va_start(ap, fmt);                                \
        frt__vlog(mid ? &mid->log : NULL, level, fmt, ap);              \
        va_end(ap);                                       \
    }
FRT__LOGFN(margo_trace, MARGO_LOG_TRACE)
FRT__LOGFN(margo_debug, MARGO_LOG_DEBUG)
FRT__LOGFN(margo_info, MARGO_LOG_INFO)
FRT__LOGFN(margo_warning, MARGO_LOG_WARNING)
FRT__LOGFN(margo_error, MARGO_LOG_ERROR)
FRT__LOGFN(margo_critical, MARGO_LOG_CRITICAL)

hg_return_t frt_fault_set(margo_instance_id mid, const char* peer, const frt_fault_spec* spec)
{
    return mid ? frt__fault_set(mid->fault, peer, spec) : HG_INVALID_ARG;
}

hg_return_t frt_fault_clear(margo_instance_id mid)
{
    return frt__fault_clear(mid ? mid->fault : NULL);
}

hg_return_t frt_fault_seed(margo_instance_id mid, uint64_t seed)
{
    return frt__fault_seed(mid ? mid->fault : NULL, seed);
}

hg_return_t frt_fault_get_stats(margo_instance_id mid, frt_fault_stats* stats)
{
    return frt__fault_get_stats(mid ? mid->fault : NULL, stats);
}

hg_return_t frt_auth_set_key(margo_instance_id mid, const void* key, size_t key_len)
{
    return mid ? frt__auth_set_key(mid->auth, key, key_len) : HG_INVALID_ARG;
}

hg_return_t frt_auth_set_key_file(margo_instance_id mid, const char* path)
{
    return mid ? frt__auth_set_key_file(mid->auth, &mid->log, path) : HG_INVALID_ARG;
}

bool frt_auth_enabled(margo_instance_id mid) { return mid && frt__auth_active(mid->auth); }
