/*
 * auth.c -- SHA-256, HMAC-SHA256 and authenticated connections (see
 * frt-auth.h for the protocol and frt.h for the API).
 *
 * Locks: a->m guards the key, the creation of per-connection state and the
 * rejection log; ac->m serializes one connection's sends (counter order =
 * stream order) and guards its keys. Receive-side state is touched only by
 * the thread holding the connection's reader token (conn-read.c). ac->m is held
 * while the frame is written (it takes the connection's write lock inside):
 * order ac->m -> conn->wlock; a->m is never held with either.
 */
#define _GNU_SOURCE
#include "frt-auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4)                                                */
/* ------------------------------------------------------------------ */

static const uint32_t frt__k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void frt__sha256_block(frt__sha256* s, const uint8_t* p)
{
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16
             | (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i]        = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + frt__k256[i] + w[i];
        uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
        uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + mj;
        h = g, g = f, f = e, e = d + t1;
        d = c, c = b, b = a, a = t1 + t2;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
    s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void frt__sha256_init(frt__sha256* s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len  = 0;
    s->fill = 0;
}

void frt__sha256_update(frt__sha256* s, const void* data, size_t n)
{
    const uint8_t* p = data;
    s->len += n;
    while (n > 0) {
        size_t k = 64 - s->fill;
        if (k > n) k = n;
        memcpy(s->buf + s->fill, p, k);
        s->fill += k;
        p += k;
        n -= k;
        if (s->fill == 64) {
            frt__sha256_block(s, s->buf);
            s->fill = 0;
        }
    }
}

void frt__sha256_final(frt__sha256* s, uint8_t out[32])
{
    uint64_t bits = s->len * 8;
    uint8_t  pad  = 0x80;
    frt__sha256_update(s, &pad, 1);
    pad = 0;
    while (s->fill != 56) frt__sha256_update(s, &pad, 1);
    uint8_t lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    frt__sha256_update(s, lenb, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i]     = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

/* ------------------------------------------------------------------ */
/* HMAC-SHA256 (RFC 2104)                                              */
/* ------------------------------------------------------------------ */

void frt__hmac_init(frt__hmac* m, const void* key, size_t key_len)
{
    uint8_t k[64] = {0}, pad[64];
    if (key_len > 64) {
        frt__sha256 s;
        frt__sha256_init(&s);
        frt__sha256_update(&s, key, key_len);
        frt__sha256_final(&s, k);
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    frt__sha256_init(&m->inner);
    frt__sha256_update(&m->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    frt__sha256_init(&m->outer);
    frt__sha256_update(&m->outer, pad, 64);
    memset(k, 0, sizeof k);
}

void frt__hmac_update(frt__hmac* m, const void* data, size_t n)
{
    frt__sha256_update(&m->inner, data, n);
}

void frt__hmac_final(frt__hmac* m, uint8_t out[32])
{
    uint8_t ih[32];
    frt__sha256_final(&m->inner, ih);
    frt__sha256_update(&m->outer, ih, 32);
    frt__sha256_final(&m->outer, out);
}

void frt__hmac_sha256(const void* key, size_t key_len, const void* data, size_t n,
                      uint8_t out[32])
{
    frt__hmac m;
    frt__hmac_init(&m, key, key_len);
    frt__hmac_update(&m, data, n);
    frt__hmac_final(&m, out);
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

#define FRT__AUTH_LOGGED_MAX 256

struct frt__auth {
    pthread_mutex_t m;
    _Atomic bool    active;
    uint8_t*        key; /* key_len bytes (malloc'd when set: most instances have none) */
    size_t          key_len;
    char**          logged; /* peers whose rejection was logged (grows to FRT__AUTH_LOGGED_MAX) */
    size_t          nlogged, caplogged;
    uint64_t        unlogged;
};

struct frt__auth_conn {
    pthread_mutex_t m;
    uint8_t         my_nonce[FRT__AUTH_NONCE], peer_nonce[FRT__AUTH_NONCE];
    bool            got_peer;
    uint8_t         k_send[32], k_recv[32];
    uint64_t        send_ctr, recv_ctr;
};

frt__auth* frt__auth_new(void)
{
    frt__auth* a = calloc(1, sizeof *a);
    if (!a) return NULL;
    pthread_mutex_init(&a->m, NULL);
    atomic_init(&a->active, false);
    return a;
}

void frt__auth_free(frt__auth* a)
{
    if (!a) return;
    for (size_t i = 0; i < a->nlogged; i++) free(a->logged[i]);
    free(a->logged);
    if (a->key) memset(a->key, 0, a->key_len);
    free(a->key);
    pthread_mutex_destroy(&a->m);
    free(a);
}

bool frt__auth_active(const frt__auth* a) { return a && atomic_load(&a->active); }

void frt__auth_conn_free(frt__auth_conn* ac)
{
    if (!ac) return;
    pthread_mutex_destroy(&ac->m);
    memset(ac, 0, sizeof *ac);
    free(ac);
}

size_t frt__auth_trailer_len(uint8_t type)
{
    return type == FRT__T_HELLO ? FRT__AUTH_NONCE + FRT__AUTH_TAG : FRT__AUTH_TAG;
}

static bool frt__random(void* out, size_t n)
{
    uint8_t* p = out;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* The connection's state, created on first use (a->m). */
static frt__auth_conn* frt__auth_conn_get(frt__auth* a, frt__auth_conn** pac)
{
    pthread_mutex_lock(&a->m);
    if (!*pac) {
        frt__auth_conn* ac = calloc(1, sizeof *ac);
        if (ac && frt__random(ac->my_nonce, sizeof ac->my_nonce)) {
            pthread_mutex_init(&ac->m, NULL);
            *pac = ac;
        } else {
            free(ac);
        }
    }
    pthread_mutex_unlock(&a->m);
    return *pac;
}

/* Session key of one direction: role 'D' (sent by the dialer) or 'A'. */
static void frt__auth_session_key(frt__auth* a, char role, const uint8_t* nd, const uint8_t* na,
                                  uint8_t out[32])
{
    frt__hmac m;
    pthread_mutex_lock(&a->m);
    frt__hmac_init(&m, a->key, a->key_len);
    pthread_mutex_unlock(&a->m);
    frt__hmac_update(&m, "frt-session", 11);
    frt__hmac_update(&m, &role, 1);
    frt__hmac_update(&m, nd, FRT__AUTH_NONCE);
    frt__hmac_update(&m, na, FRT__AUTH_NONCE);
    frt__hmac_final(&m, out);
}

static void frt__auth_hello_key(frt__auth* a, const uint8_t* nonce, uint8_t out[32])
{
    frt__hmac m;
    pthread_mutex_lock(&a->m);
    frt__hmac_init(&m, a->key, a->key_len);
    pthread_mutex_unlock(&a->m);
    frt__hmac_update(&m, "frt-hello", 9);
    frt__hmac_update(&m, nonce, FRT__AUTH_NONCE);
    frt__hmac_final(&m, out);
}

static void frt__auth_tag(const uint8_t k[32], uint64_t ctr, const uint8_t* hdr,
                          const void* name, size_t name_len, const void* payload,
                          size_t payload_len, uint8_t out[32])
{
    frt__hmac m;
    uint8_t   c[8];
    for (int i = 0; i < 8; i++) c[i] = (uint8_t)(ctr >> (8 * i));
    frt__hmac_init(&m, k, 32);
    frt__hmac_update(&m, c, 8);
    frt__hmac_update(&m, hdr, FRT__HDR_LEN);
    if (name_len) frt__hmac_update(&m, name, name_len);
    if (payload_len) frt__hmac_update(&m, payload, payload_len);
    frt__hmac_final(&m, out);
}

/* ac->m held: both session keys once the peer's nonce is known. */
static void frt__auth_derive(frt__auth* a, frt__auth_conn* ac, bool dialer)
{
    const uint8_t* nd = dialer ? ac->my_nonce : ac->peer_nonce;
    const uint8_t* na = dialer ? ac->peer_nonce : ac->my_nonce;
    frt__auth_session_key(a, dialer ? 'D' : 'A', nd, na, ac->k_send);
    frt__auth_session_key(a, dialer ? 'A' : 'D', nd, na, ac->k_recv);
}

hg_return_t frt__auth_send(frt__auth* a, frt__auth_conn** pac, bool dialer, const frt__hdr* h,
                           const void* name, const void* payload, frt__auth_write_fn write,
                           void* conn)
{
    uint8_t         hb[FRT__HDR_LEN], trailer[FRT__AUTH_NONCE + FRT__AUTH_TAG];
    struct iovec    iov[4];
    int             cnt = 0;
    frt__hdr        hh  = *h;
    frt__auth_conn* ac  = frt__auth_conn_get(a, pac);
    if (!ac) return HG_NOMEM;
    hh.flags |= FRT__F_AUTH;
    frt__hdr_encode(&hh, hb);
    pthread_mutex_lock(&ac->m);
    size_t tl = frt__auth_trailer_len(h->type);
    if (h->type == FRT__T_HELLO) {
        uint8_t k[32];
        frt__auth_hello_key(a, ac->my_nonce, k);
        memcpy(trailer, ac->my_nonce, FRT__AUTH_NONCE);
        frt__auth_tag(k, 0, hb, name, h->name_len, payload, h->payload_len,
                      trailer + FRT__AUTH_NONCE);
    } else {
        if (!ac->got_peer) {
            pthread_mutex_unlock(&ac->m);
            return HG_PROTOCOL_ERROR; /* no session yet: the dialer waits for the hello */
        }
        frt__auth_tag(ac->k_send, ac->send_ctr++, hb, name, h->name_len, payload,
                      h->payload_len, trailer);
    }
    iov[cnt++] = (struct iovec){hb, FRT__HDR_LEN};
    if (h->name_len) iov[cnt++] = (struct iovec){(void*)name, h->name_len};
    if (h->payload_len) iov[cnt++] = (struct iovec){(void*)payload, h->payload_len};
    iov[cnt++] = (struct iovec){trailer, tl};
    hg_return_t ret = write(conn, h->type, iov, cnt);
    pthread_mutex_unlock(&ac->m);
    return ret;
}

static bool frt__ct_equal(const uint8_t* x, const uint8_t* y, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= (uint8_t)(x[i] ^ y[i]);
    return d == 0;
}

const char* frt__auth_check(frt__auth* a, frt__auth_conn** pac, bool dialer,
                            const uint8_t raw_hdr[FRT__HDR_LEN], const frt__hdr* h,
                            const uint8_t* body)
{
    bool keyed = frt__auth_active(a);
    bool has   = (h->flags & FRT__F_AUTH) != 0;
    if (!keyed) return has ? "the peer uses a group key and this process has none" : NULL;
    if (!has) return "unauthenticated frame (the peer has no group key)";
    frt__auth_conn* ac = frt__auth_conn_get(a, pac);
    if (!ac) return "out of memory";
    const uint8_t* name    = body;
    const uint8_t* payload = body + h->name_len;
    const uint8_t* trailer = payload + h->payload_len;
    uint8_t        want[32];
    const char*    why = NULL;
    pthread_mutex_lock(&ac->m);
    if (h->type == FRT__T_HELLO) {
        uint8_t k[32];
        if (ac->got_peer) {
            why = "second hello";
            goto finish;
        }
        frt__auth_hello_key(a, trailer, k);
        frt__auth_tag(k, 0, raw_hdr, name, h->name_len, payload, h->payload_len, want);
        if (!frt__ct_equal(want, trailer + FRT__AUTH_NONCE, 32)) {
            why = "bad hello authentication tag (wrong group key)";
            goto finish;
        }
        memcpy(ac->peer_nonce, trailer, FRT__AUTH_NONCE);
        ac->got_peer = true;
        frt__auth_derive(a, ac, dialer);
        goto finish;
    }
    if (!ac->got_peer) {
        why = "authenticated frame before the hello";
        goto finish;
    }
    frt__auth_tag(ac->k_recv, ac->recv_ctr, raw_hdr, name, h->name_len, payload, h->payload_len,
                  want);
    if (!frt__ct_equal(want, trailer, 32)) {
        why = "bad authentication tag (forged, replayed, reordered or duplicated frame)";
        goto finish;
    }
    ac->recv_ctr++;
finish:
    pthread_mutex_unlock(&ac->m);
    return why;
}

void frt__auth_reject(const frt__log_ctx* log, frt__auth* a, const char* peer, const char* why)
{
    bool say = true;
    if (!peer || !*peer) peer = "(unidentified peer)";
    pthread_mutex_lock(&a->m);
    for (size_t i = 0; i < a->nlogged; i++)
        if (strcmp(a->logged[i], peer) == 0) say = false;
    if (say) {
        if (a->nlogged == a->caplogged && a->caplogged < FRT__AUTH_LOGGED_MAX) {
            size_t nc = a->caplogged ? 2 * a->caplogged : 8;
            char** nv = realloc(a->logged, nc * sizeof *nv);
            if (nv) {
                a->logged    = nv;
                a->caplogged = nc;
            }
        }
        if (a->nlogged < a->caplogged) {
            a->logged[a->nlogged] = strdup(peer);
            if (a->logged[a->nlogged]) a->nlogged++;
        } else {
            say = (a->unlogged++ % 1000) == 0; /* too many peers: sample */
        }
    }
    pthread_mutex_unlock(&a->m);
    if (say)
        frt__log(log, MARGO_LOG_WARNING,
                 "rejected connection from %s: %s (further rejections from this peer are not "
                 "logged)",
                 peer, why);
}

/* ------------------------------------------------------------------ */
/* Key setting (the frt_auth_* API in margo.c passes the instance's state) */
/* ------------------------------------------------------------------ */

hg_return_t frt__auth_set_key(frt__auth* a, const void* key, size_t key_len)
{
    if (!a) return HG_NOMEM;
    if (!key || key_len < 16 || key_len > FRT__AUTH_MAX_KEY) return HG_INVALID_ARG;
    uint8_t* k = malloc(key_len);
    if (!k) return HG_NOMEM;
    memcpy(k, key, key_len);
    pthread_mutex_lock(&a->m);
    uint8_t* old     = a->key; /* readers copy it into their HMAC state under m */
    size_t   old_len = a->key_len;
    a->key           = k;
    a->key_len       = key_len;
    atomic_store(&a->active, true);
    pthread_mutex_unlock(&a->m);
    if (old) memset(old, 0, old_len);
    free(old);
    return HG_SUCCESS;
}

hg_return_t frt__auth_set_key_file(frt__auth* a, const frt__log_ctx* log, const char* path)
{
    uint8_t     buf[FRT__AUTH_MAX_KEY + 2];
    hg_return_t ret = HG_SUCCESS;
    int         fd  = -1;
    size_t      len = 0;
    struct stat st;
    if (!path) return HG_INVALID_ARG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        frt__log(log, MARGO_LOG_ERROR, "cannot read group key file \"%s\": %s", path,
                 strerror(errno));
        ret = HG_INVALID_ARG;
        goto finish;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        frt__log(log, MARGO_LOG_WARNING,
                 "group key file \"%s\" is accessible by group/others (chmod 600 it)", path);
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        if (len == sizeof buf) break;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    if (len < 16 || len > FRT__AUTH_MAX_KEY) {
        frt__log(log, MARGO_LOG_ERROR,
                 "group key file \"%s\": the key must have 16 to %u bytes (it has %zu)", path,
                 FRT__AUTH_MAX_KEY, len);
        ret = HG_INVALID_ARG;
        goto finish;
    }
    ret = frt__auth_set_key(a, buf, len);
finish:
    memset(buf, 0, sizeof buf);
    if (fd >= 0) close(fd);
    return ret;
}
