/*
 * frt-internal.h -- internal interfaces of the Flock runtime (not installed).
 *
 * Everything here is prefixed frt__ and hidden from the shared library's
 * dynamic symbol table (see frt.map). Pure functions (wire header codec,
 * address grammar) are declared here so the tests can exercise them through
 * the static frt-internal library.
 */
#ifndef FLOCK_FRT_INTERNAL_H
#define FLOCK_FRT_INTERNAL_H

#include <margo.h>
#include <stdarg.h>
#include <stdatomic.h>

/* ------------------------------------------------------------------ */
/* Wire format (docs/design.md "Wire format")                          */
/* ------------------------------------------------------------------ */

#define FRT__MAGIC   0x31545246u /* bytes "FRT1" */
#define FRT__VERSION 1u
#define FRT__HDR_LEN 32u

/** Frame types. */
enum {
    FRT__T_HELLO    = 1, /* name = sender's self address, no payload */
    FRT__T_REQUEST  = 2, /* name = RPC name, payload = input */
    FRT__T_RESPONSE = 3, /* no name, payload = output */
    FRT__T_ERROR    = 4, /* no name, no payload, status = hg_return_t != 0 */
    FRT__T_BYE      = 5, /* nothing but the type: the dialer closes this idle
                            connection (conn.c "Idle connections") */
};

/** A decoded frame header (all fields host order). */
typedef struct frt__hdr {
    uint8_t  type;
    uint8_t  version;
    uint16_t flags;       /* must be 0 in version 1 */
    uint64_t id;          /* request id chosen by the caller */
    uint16_t provider_id; /* REQUEST only */
    uint16_t name_len;    /* bytes of name that follow the header */
    uint32_t status;      /* ERROR only: an hg_return_t */
    uint32_t payload_len; /* bytes of payload after the name */
} frt__hdr;

/** Encode h into exactly FRT__HDR_LEN bytes (magic, version 1, reserved 0). */
void frt__hdr_encode(const frt__hdr* h, uint8_t out[FRT__HDR_LEN]);

/**
 * Decode and fully validate a header: magic, version, type, flags, reserved
 * word, per-type name/payload/status limits. Pure function.
 * @return NULL if valid, otherwise a static string naming the problem.
 */
const char* frt__hdr_decode(const uint8_t in[FRT__HDR_LEN], frt__hdr* h);

/* ------------------------------------------------------------------ */
/* Address grammar (docs/design.md "Addresses")                        */
/* ------------------------------------------------------------------ */

typedef enum { FRT__AK_SM = 1, FRT__AK_TCP = 2 } frt__addr_kind;

typedef struct frt__addr_spec {
    frt__addr_kind kind;
    char           scheme[16]; /* "na+sm", "tcp" or "ofi+tcp" */
    bool           has_id;     /* na+sm: <pid>-<n> present */
    unsigned long  pid, n;
    char           host[FRT_MAX_ADDR_LEN + 1]; /* tcp: "" if none; IPv6: canonical, no [] */
    int            port;                       /* tcp: -1 if none */
    bool           v6;                         /* tcp: host is an IPv6 literal ([...]) */
} frt__addr_spec;

/**
 * Parse an address string (listen forms and peer forms). Pure function.
 * @return HG_SUCCESS; HG_INVALID_ARG (syntax); HG_PROTONOSUPPORT (scheme).
 */
hg_return_t frt__addr_parse(const char* s, frt__addr_spec* out);

/** true if spec names one reachable peer (na+sm with id, tcp host+port). */
bool frt__addr_is_peer(const frt__addr_spec* spec);

/** Canonical key of a peer spec ("sm:<pid>-<n>" / "tcp:<host>:<port>");
 *  two strings naming the same endpoint the same way share a key. */
void frt__addr_key(const frt__addr_spec* spec, char* key, size_t key_size);

/* ------------------------------------------------------------------ */
/* Logging                                                             */
/* ------------------------------------------------------------------ */

/** What a log line needs from its emitter: the minimum level and the name
 *  shown in each line. The instance owns one (instance.c, `log`); lower
 *  rooms (auth.c, fault.c) are handed a pointer to it and never see the
 *  instance. A NULL ctx logs at the global level with the name "-". */
typedef struct frt__log_ctx {
    _Atomic int level; /* margo_log_level (margo_set_log_level) */
    const char* name;  /* the instance's self address; "" until it is known */
} frt__log_ctx;

void frt__log(const frt__log_ctx* lc, margo_log_level level, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
void frt__vlog(const frt__log_ctx* lc, margo_log_level level, const char* fmt, va_list ap);

margo_log_level frt__global_log_level(void);

/** A byte count from the environment variable name ("64M", "1048576",
 *  "512KiB"; at least 64 KiB), dflt when unset or malformed (warned). */
size_t frt__env_bytes(const frt__log_ctx* lc, const char* name, size_t dflt);
/** A duration from the environment: whole milliseconds, 0 to one day
 *  (unset: dflt; malformed: dflt, with a warning). */
double frt__env_ms(const frt__log_ctx* lc, const char* name, double dflt);

/** How many work items a pool runs at once: the online CPUs, 2 to 256
 *  (pool.c's bound; the hub lets twice that many threads serve). */
int frt__cpu_target(void);

/* ------------------------------------------------------------------ */
/* Test hooks                                                          */
/* ------------------------------------------------------------------ */

/** How soon the loop re-arms reads a synchronous caller left disarmed
 *  (conn-read.c, "Read side"; default 1 ms, <= 0 restores it). Process-wide.
 *  Tests make it long to prove that no path depends on it. */
void frt__set_read_debt_ns(long ns);

/** Send system calls made so far on mid's connections (write coalescing
 *  tests). */
unsigned long frt__stat_sends(margo_instance_id mid);

/** Bytes of output buffers held by mid's connections (0 when idle). */
size_t frt__stat_outq_bytes(margo_instance_id mid);
/** Connections of mid (open, connecting, or closing after a bye). */
size_t frt__stat_conns(margo_instance_id mid);

#endif /* FLOCK_FRT_INTERNAL_H */
