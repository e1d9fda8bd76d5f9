/*
 * util.c -- address grammar, logging, error strings, the futex mutex and
 * clocks. Nothing here touches the network.
 */
#include "frt-internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---------------- errors ---------------- */

const char* HG_Error_to_string(hg_return_t ret)
{
    switch (ret) {
#define X(__code__, __msg__) \
    case __code__: return __msg__;
        HG_RETURN_VALUES
#undef X
    default: return "unknown error";
    }
}

/* ---------------- clocks ---------------- */

double frt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double margo_get_wtime(void) { return frt_now_ms() / 1e3; }

int frt__cpu_target(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return ncpu < 2 ? 2 : ncpu > 256 ? 256 : (int)ncpu;
}

/* ---------------- futex mutex (ABT_mutex) ---------------- */
/* state: 0 unlocked, 1 locked, 2 locked with (possible) waiters. */

static void frt__futex_wait(int* addr, int val)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void frt__futex_wake(int* addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

int ABT_mutex_lock(ABT_mutex m)
{
    if (!m) return -1;
    _Atomic int* s = (_Atomic int*)&m->state;
    int          c = 0;
    if (atomic_compare_exchange_strong(s, &c, 1)) return ABT_SUCCESS;
    if (c != 2) c = atomic_exchange(s, 2);
    while (c != 0) {
        frt__futex_wait(&m->state, 2);
        c = atomic_exchange(s, 2);
    }
    return ABT_SUCCESS;
}

int ABT_mutex_trylock(ABT_mutex m)
{
    if (!m) return -1;
    int c = 0;
    return atomic_compare_exchange_strong((_Atomic int*)&m->state, &c, 1) ? ABT_SUCCESS : 1;
}

int ABT_mutex_unlock(ABT_mutex m)
{
    if (!m) return -1;
    if (atomic_exchange((_Atomic int*)&m->state, 0) == 2) frt__futex_wake(&m->state, 1);
    return ABT_SUCCESS;
}

/* ---------------- logging ---------------- */

static _Atomic int frt__global_level = MARGO_LOG_WARNING;

margo_log_level frt__global_log_level(void) { return (margo_log_level)atomic_load(&frt__global_level); }

int margo_set_global_log_level(margo_log_level level)
{
    if ((int)level < MARGO_LOG_EXTERNAL || (int)level > MARGO_LOG_CRITICAL) return -1;
    atomic_store(&frt__global_level, (int)level);
    return 0;
}

static const char* frt__level_name(margo_log_level l)
{
    switch (l) {
    case MARGO_LOG_EXTERNAL: return "external";
    case MARGO_LOG_TRACE: return "trace";
    case MARGO_LOG_DEBUG: return "debug";
    case MARGO_LOG_INFO: return "info";
    case MARGO_LOG_WARNING: return "warning";
    case MARGO_LOG_ERROR: return "error";
    case MARGO_LOG_CRITICAL: return "critical";
    }
    return "?";
}

/* FRT_LOG_FORMAT=json (read once; flockd --log-format json sets it): one
 * JSON object per line instead of text. */
static bool frt__log_json(void)
{
    static _Atomic int mode = -1;
    int                m    = atomic_load(&mode);
    if (m < 0) {
        const char* e = getenv("FRT_LOG_FORMAT");
        m             = e && strcmp(e, "json") == 0;
        atomic_store(&mode, m);
    }
    return m == 1;
}

/* s as the inside of a JSON string (quotes, backslashes, control bytes escaped; cut to fit). */
static void frt__json_escape(const char* s, char* out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 7 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}

void frt__vlog(const frt__log_ctx* lc, margo_log_level level, const char* fmt, va_list ap)
{
    margo_log_level min = lc ? (margo_log_level)atomic_load(&lc->level) : frt__global_log_level();
    if (level < min) return;
    char            msg[1024];
    char            ts[64];
    struct timespec now;
    struct tm       tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm); /* ISO 8601, UTC ("Z") */
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* one fprintf call: lines from different threads do not interleave */
    if (frt__log_json()) {
        char emsg[2 * sizeof msg], ename[2 * FRT_MAX_ADDR_LEN + 8];
        frt__json_escape(msg, emsg, sizeof emsg);
        frt__json_escape(lc ? lc->name : "-", ename, sizeof ename);
        fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"instance\":\"%s\",\"msg\":\"%s\"}\n",
                ts, now.tv_nsec / 1000000, frt__level_name(level), ename, emsg);
    } else {
        fprintf(stderr, "[%s.%03ldZ] [%s] [%s] %s\n", ts, now.tv_nsec / 1000000,
                frt__level_name(level), lc ? lc->name : "-", msg);
    }
}

void frt__log(const frt__log_ctx* lc, margo_log_level level, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    frt__vlog(lc, level, fmt, ap);
    va_end(ap);
}


/* ---------------- address grammar ---------------- */

/* Parse a decimal number of 1..max_digits digits covering [s, s+n). */
static bool frt__parse_uint(const char* s, size_t n, size_t max_digits, unsigned long* out)
{
    if (n == 0 || n > max_digits) return false;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* "[IPv6]" or "[IPv6]:port" (the part after "tcp://"): a literal that
 * inet_pton accepts, kept in canonical form (inet_ntop) so that two
 * spellings of one address share a key. No zone ids (fe80::1%eth0). */
static hg_return_t frt__parse_v6(const char* rest, frt__addr_spec* o)
{
    const char* close = strchr(rest, ']');
    if (!close) return HG_INVALID_ARG;
    size_t hlen = (size_t)(close - rest - 1);
    char   lit[INET6_ADDRSTRLEN];
    if (hlen == 0 || hlen >= sizeof lit) return HG_INVALID_ARG;
    for (size_t i = 0; i < hlen; i++) {
        char c = rest[1 + i];
        if (!(isxdigit((unsigned char)c) || c == ':' || c == '.')) return HG_INVALID_ARG;
    }
    memcpy(lit, rest + 1, hlen);
    lit[hlen] = 0;
    struct in6_addr a;
    if (inet_pton(AF_INET6, lit, &a) != 1) return HG_INVALID_ARG;
    if (!inet_ntop(AF_INET6, &a, o->host, sizeof o->host)) return HG_INVALID_ARG;
    o->v6 = true;
    if (close[1] == 0) return HG_SUCCESS;
    if (close[1] != ':') return HG_INVALID_ARG;
    unsigned long port;
    if (!frt__parse_uint(close + 2, strlen(close + 2), 5, &port) || port > 65535)
        return HG_INVALID_ARG;
    o->port = (int)port;
    return HG_SUCCESS;
}

hg_return_t frt__addr_parse(const char* s, frt__addr_spec* o)
{
    if (!s || !o) return HG_INVALID_ARG;
    memset(o, 0, sizeof *o);
    o->port  = -1;
    size_t len = strlen(s);
    if (len == 0 || len > FRT_MAX_ADDR_LEN) return HG_INVALID_ARG;

    const char* sep  = strstr(s, "://");
    size_t      slen = sep ? (size_t)(sep - s) : len;
    const char* rest = sep ? sep + 3 : "";
    if (slen == 0 || slen > 31) return HG_INVALID_ARG;
    for (size_t i = 0; i < slen; i++) {
        char c = s[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '+' || c == ';'
              || c == '_' || c == '-'))
            return HG_INVALID_ARG;
    }
    char scheme[32];
    memcpy(scheme, s, slen);
    scheme[slen] = 0;

    if (strcmp(scheme, "na+sm") == 0 || strcmp(scheme, "sm") == 0) {
        o->kind = FRT__AK_SM;
        strcpy(o->scheme, "na+sm");
        if (!*rest) return HG_SUCCESS;
        const char* dash = strchr(rest, '-');
        if (!dash) return HG_INVALID_ARG;
        if (!frt__parse_uint(rest, (size_t)(dash - rest), 10, &o->pid)) return HG_INVALID_ARG;
        if (!frt__parse_uint(dash + 1, strlen(dash + 1), 10, &o->n)) return HG_INVALID_ARG;
        if (o->pid == 0) return HG_INVALID_ARG;
        o->has_id = true;
        return HG_SUCCESS;
    }
    if (strcmp(scheme, "tcp") == 0 || strcmp(scheme, "ofi+tcp") == 0
        || strcmp(scheme, "ofi+tcp;ofi_rxm") == 0 || strcmp(scheme, "na+tcp") == 0) {
        o->kind = FRT__AK_TCP;
        strcpy(o->scheme, scheme[0] == 'o' ? "ofi+tcp" : "tcp");
        if (!*rest) return HG_SUCCESS;
        if (rest[0] == '[') return frt__parse_v6(rest, o);
        const char* colon = strrchr(rest, ':');
        size_t      hlen  = colon ? (size_t)(colon - rest) : strlen(rest);
        for (size_t i = 0; i < hlen; i++) {
            char c = rest[i];
            if (!(isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_')) return HG_INVALID_ARG;
        }
        memcpy(o->host, rest, hlen);
        o->host[hlen] = 0;
        if (colon) {
            unsigned long port;
            if (!frt__parse_uint(colon + 1, strlen(colon + 1), 5, &port) || port > 65535)
                return HG_INVALID_ARG;
            o->port = (int)port;
        }
        if (hlen == 0 && !colon) return HG_INVALID_ARG;
        return HG_SUCCESS;
    }
    return HG_PROTONOSUPPORT;
}

bool frt__addr_is_peer(const frt__addr_spec* spec)
{
    if (spec->kind == FRT__AK_SM) return spec->has_id;
    return spec->host[0] != 0 && spec->port > 0;
}

hg_return_t frt_addr_canonical(const char* addr, const char* tcp_scheme, char* out,
                               size_t size)
{
    frt__addr_spec spec;
    hg_return_t    ret = frt__addr_parse(addr, &spec);
    if (ret != HG_SUCCESS) return ret;
    if (!frt__addr_is_peer(&spec) || !out) return HG_INVALID_ARG;
    int n;
    if (spec.kind == FRT__AK_SM) {
        n = snprintf(out, size, "na+sm://%lu-%lu", spec.pid, spec.n);
    } else {
        const char* scheme = spec.scheme;
        if (tcp_scheme && (strcmp(tcp_scheme, "tcp") == 0 || strcmp(tcp_scheme, "ofi+tcp") == 0))
            scheme = tcp_scheme;
        n = snprintf(out, size, spec.v6 ? "%s://[%s]:%d" : "%s://%s:%d", scheme, spec.host,
                     spec.port);
    }
    return n < 0 || (size_t)n >= size ? HG_OVERFLOW : HG_SUCCESS;
}

void frt__addr_key(const frt__addr_spec* spec, char* key, size_t key_size)
{
    if (spec->kind == FRT__AK_SM)
        snprintf(key, key_size, "sm:%lu-%lu", spec->pid, spec->n);
    else
        snprintf(key, key_size, spec->v6 ? "tcp:[%s]:%d" : "tcp:%s:%d", spec->host, spec->port);
}

/* The environment variable `name` read as an unsigned decimal number (for
 * the two readers below). */
typedef struct frt__env_num {
    const char*        text; /* the variable's value */
    unsigned long long n;    /* the number its digits make */
    const char*        rest; /* what follows the digits */
    bool               ok;   /* digits, without a sign (strtoull would take
                                "-1" for the largest number), no overflow */
} frt__env_num;

/* false if `name` is unset or empty. */
static bool frt__env_number(const char* name, frt__env_num* out)
{
    const char* v = getenv(name);
    if (!v || !*v) return false;
    const char* first = v + strspn(v, " \t");
    char*       end   = NULL;
    errno             = 0;
    out->n            = strtoull(v, &end, 10);
    out->text         = v;
    out->rest         = end;
    out->ok           = end != v && !errno && *first != '-' && *first != '+';
    return true;
}

/* A byte count from the environment: digits with an optional K, M or G
 * suffix (powers of 1024; "KiB"/"MiB"/"GiB" too), at least 64 KiB. Unset:
 * dflt; malformed or too small: dflt with a warning. */
size_t frt__env_bytes(const frt__log_ctx* lc, const char* name, size_t dflt)
{
    frt__env_num e;
    if (!frt__env_number(name, &e)) return dflt;
    const char*        end = e.rest;
    unsigned long long n   = e.n;
    unsigned           sh  = 0;
    if (e.ok && *end) {
        sh = (*end == 'k' || *end == 'K') ? 10 : (*end == 'm' || *end == 'M') ? 20
             : (*end == 'g' || *end == 'G') ? 30 : 99;
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0) end += strlen(end);
    }
    if (!e.ok || *end || sh == 99 || n > (SIZE_MAX >> sh) || (n << sh) < ((size_t)64 << 10)) {
        frt__log(lc, MARGO_LOG_WARNING, "%s=\"%s\" is not a byte count of at least 64K; using %zu",
                 name, e.text, dflt);
        return dflt;
    }
    return (size_t)(n << sh);
}

/* A duration in milliseconds from the environment: a whole number, 0
 * included (it means "never" to the callers). Unset: dflt; malformed or
 * over a day: dflt with a warning. */
double frt__env_ms(const frt__log_ctx* lc, const char* name, double dflt)
{
    frt__env_num e;
    if (!frt__env_number(name, &e)) return dflt;
    if (!e.ok || *e.rest || e.n > 86400000ull) {
        frt__log(lc, MARGO_LOG_WARNING,
                 "%s=\"%s\" is not a number of milliseconds (0 to 86400000); using %.0f", name,
                 e.text, dflt);
        return dflt;
    }
    return (double)e.n;
}
