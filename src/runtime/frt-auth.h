/*
 * frt-auth.h -- authenticated connections (internal; API in frt.h).
 *
 * With a group key K set on an instance (frt_auth_set_key), every frame it
 * sends carries FRT__F_AUTH in the header flags and a trailer after the
 * payload; every frame it receives must carry a valid one, or the
 * connection is closed (and the rejection logged once per peer).
 *
 *   hello trailer:  nonce (16 random bytes) | tag (32)
 *   other frames:   tag (32)
 *   tag = HMAC-SHA256(k_dir, u64 counter | 32-byte header | name | payload)
 *
 * Hellos use k = HMAC(K, "frt-hello" | nonce_sender). Every later frame of
 * a direction uses k_dir = HMAC(K, "frt-session" | role | nonce_dialer |
 * nonce_acceptor), with a counter that starts at 0 after the hello and must
 * increase by exactly one: a replayed, reordered, duplicated or truncated
 * stream is rejected. A dialer waits for the acceptor's hello before it
 * sends anything else, so every session key depends on a fresh nonce of
 * each side: a recorded connection cannot be replayed to either side.
 */
#ifndef FLOCK_FRT_AUTH_H
#define FLOCK_FRT_AUTH_H

#include <sys/uio.h>

#include "frt-internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FRT__F_AUTH        0x0001u /* header flag: an auth trailer follows */
#define FRT__AUTH_NONCE    16u
#define FRT__AUTH_TAG      32u
#define FRT__AUTH_MAX_KEY  1024u

/* ---- SHA-256 / HMAC-SHA256 (FIPS 180-4, RFC 2104; RFC 4231 vectors in tests) ---- */
typedef struct frt__sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t  buf[64];
    size_t   fill;
} frt__sha256;
void frt__sha256_init(frt__sha256* s);
void frt__sha256_update(frt__sha256* s, const void* data, size_t n);
void frt__sha256_final(frt__sha256* s, uint8_t out[32]);

typedef struct frt__hmac {
    frt__sha256 inner, outer;
} frt__hmac;
void frt__hmac_init(frt__hmac* m, const void* key, size_t key_len);
void frt__hmac_update(frt__hmac* m, const void* data, size_t n);
void frt__hmac_final(frt__hmac* m, uint8_t out[32]);
void frt__hmac_sha256(const void* key, size_t key_len, const void* data, size_t n,
                      uint8_t out[32]);

/* ---- instance and connection state ---- */
typedef struct frt__auth      frt__auth;      /* per instance */
typedef struct frt__auth_conn frt__auth_conn; /* per connection */

frt__auth* frt__auth_new(void);
void       frt__auth_free(frt__auth* a);
/** true once a key is set (cheap, lock-free). */
bool frt__auth_active(const frt__auth* a);
void frt__auth_conn_free(frt__auth_conn* ac);

/** Trailer length of a frame of this type when authenticated. */
size_t frt__auth_trailer_len(uint8_t type);

/** How frt__auth_send writes the tagged frame (conn-write.c: fault seam or socket). */
typedef hg_return_t (*frt__auth_write_fn)(void* conn, uint8_t type, struct iovec* iov, int cnt);

/**
 * Tag and send one frame on a connection (creates *pac on first use).
 * Serialized per connection, so counters follow the byte stream.
 * @return what write returned; HG_NOMEM.
 */
hg_return_t frt__auth_send(frt__auth* a, frt__auth_conn** pac, bool dialer, const frt__hdr* h,
                           const void* name, const void* payload, frt__auth_write_fn write,
                           void* conn);

/**
 * Check a received frame (raw 32-byte header, decoded header, body = name |
 * payload | trailer). Called for every frame when the instance has a key or
 * the frame claims one. @return NULL if authentic, else the reason.
 */
const char* frt__auth_check(frt__auth* a, frt__auth_conn** pac, bool dialer,
                            const uint8_t raw_hdr[FRT__HDR_LEN], const frt__hdr* h,
                            const uint8_t* body);

/** Log a rejection, once per peer (and at most 64 distinct peers per second). */
void frt__auth_reject(const frt__log_ctx* log, frt__auth* a, const char* peer, const char* why);

/** Set the group key (16..FRT__AUTH_MAX_KEY bytes) of a.
 *  @return HG_SUCCESS; HG_NOMEM (a NULL); HG_INVALID_ARG (key). */
hg_return_t frt__auth_set_key(frt__auth* a, const void* key, size_t key_len);

/** Read the group key of a from a file (trailing blanks/newlines cut;
 *  a warning through log if group/others can read it).
 *  @return as frt__auth_set_key; HG_INVALID_ARG (unreadable file, bad length). */
hg_return_t frt__auth_set_key_file(frt__auth* a, const frt__log_ctx* log, const char* path);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_FRT_AUTH_H */
