/*
 * test-auth.c -- authenticated groups at the runtime level (auth.c,
 * frt_auth_* in frt.h).
 *
 *  1. SHA-256 (FIPS 180-2 examples) and HMAC-SHA256 (RFC 4231 test cases
 *     1, 2, 3, 4, 6, 7).
 *  2. Same key on both sides: calls work (argv[1] transport).
 *  3. A peer without the key, with another key, or a keyless server: no
 *     handler ever runs and the call fails; the rejection is logged once
 *     per peer, and the key never appears in the logs.
 *  4. Replay: a duplicated request frame (fault seam, below the auth
 *     layer) is rejected: the handler runs once, not twice.
 *  5. Key files: read, trimmed, too short rejected.
 */
#include <fcntl.h>
#include <stdatomic.h>

#include <margo.h>

#include "frt-auth.h"
#include "flock-test.h"

static void hex(const uint8_t* p, size_t n, char* out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

static void unhex(const char* s, uint8_t* out, size_t* n)
{
    size_t k = 0;
    for (; s[2 * k] && s[2 * k + 1]; k++) {
        unsigned v;
        sscanf(s + 2 * k, "%2x", &v);
        out[k] = (uint8_t)v;
    }
    *n = k;
}

static void test_vectors(void)
{
    uint8_t     d[32];
    char        h[65];
    frt__sha256 s;
    frt__sha256_init(&s);
    frt__sha256_update(&s, "abc", 3);
    frt__sha256_final(&s, d);
    hex(d, 32, h);
    CHECK_EQ_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    frt__sha256_init(&s);
    frt__sha256_final(&s, d);
    hex(d, 32, h);
    CHECK_EQ_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    frt__sha256_init(&s);
    const char* two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (size_t i = 0; i < strlen(two); i++) frt__sha256_update(&s, two + i, 1); /* bytewise */
    frt__sha256_final(&s, d);
    hex(d, 32, h);
    CHECK_EQ_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    static const struct {
        const char *key, *data, *mac; /* hex */
        size_t      trunc;
    } rfc4231[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32},
        {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
         "dddddddddddddddd",
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32},
        {"0102030405060708090a0b0c0d0e0f10111213141516171819",
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaa",
         "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
         "617368204b6579204669727374",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaa",
         "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d"
         "73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174"
         "612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e"
         "6720757365642062792074686520484d414320616c676f726974686d2e",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32},
    };
    for (size_t i = 0; i < sizeof rfc4231 / sizeof rfc4231[0]; i++) {
        uint8_t key[256], data[512];
        size_t  kl, dl;
        unhex(rfc4231[i].key, key, &kl);
        unhex(rfc4231[i].data, data, &dl);
        /* repeated-byte inputs, spelled out by their RFC 4231 lengths */
        if (i == 2) dl = 50;                     /* case 3: 50 x 0xdd */
        if (i == 3) memset(data, 0xcd, dl = 50); /* case 4: 50 x 0xcd */
        if (i >= 4) memset(key, 0xaa, kl = 131); /* cases 6, 7: 131 x 0xaa */
        frt__hmac_sha256(key, kl, data, dl, d);
        hex(d, 32, h);
        if (strcmp(h, rfc4231[i].mac) != 0) FT_FAIL("RFC 4231 case %zu: %s", i, h);
    }
}

/* ------------------------------------------------------------------ */

static atomic_int g_calls;
static void echo(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    atomic_fetch_add(&g_calls, 1);
    frt_respond(req, in, len);
}

static const char* tr_listen(const char* tr)
{
    return strcmp(tr, "na+sm") == 0 ? "na+sm" : "tcp://127.0.0.1:0";
}

static const char KEY[]   = "correct horse battery staple 42";
static const char OTHER[] = "another group key, not the same";

static margo_instance_id inst(const char* tr, int mode, const char* key)
{
    margo_instance_id m = margo_init(tr_listen(tr), mode, 0, 0);
    REQUIRE(m);
    if (key) REQUIRE(frt_auth_set_key(m, key, strlen(key)) == HG_SUCCESS);
    return m;
}

static hg_return_t call(margo_instance_id cli, margo_instance_id srv, uint32_t v)
{
    hg_addr_t a = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(cli, frt_self_addr_str(srv), &a) == HG_SUCCESS);
    void*       out = NULL;
    size_t      len = 0;
    hg_return_t r   = frt_forward(cli, a, "echo", 1, &v, sizeof v, 3000, &out, &len);
    if (r == HG_SUCCESS && (len != sizeof v || memcmp(out, &v, len) != 0)) r = HG_OTHER_ERROR;
    free(out);
    margo_addr_free(cli, a);
    return r;
}

static void test_groups(const char* tr)
{
    char logpath[600];
    snprintf(logpath, sizeof logpath, "%s/log.txt", ft_tmpdir());
    margo_instance_id srv = inst(tr, MARGO_SERVER_MODE, KEY);
    REQUIRE(frt_rpc_register(srv, "echo", 1, echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    CHECK(frt_auth_enabled(srv));

    /* same key: works, both directions on one connection (nested calls) */
    margo_instance_id good = inst(tr, MARGO_SERVER_MODE, KEY);
    REQUIRE(frt_rpc_register(good, "echo", 1, echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    for (uint32_t i = 0; i < 20; i++) CHECK_EQ_INT(call(good, srv, i), HG_SUCCESS);
    CHECK_EQ_INT(call(srv, good, 99), HG_SUCCESS);

    /* capture the logs of the rejecting server */
    fflush(stderr);
    int saved = dup(2);
    int lfd   = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(saved >= 0 && lfd >= 0);
    dup2(lfd, 2);
    margo_set_log_level(srv, MARGO_LOG_WARNING);

    int before = atomic_load(&g_calls);
    /* no key: 3 attempts from the same process, nothing runs */
    margo_instance_id nokey = inst(tr, MARGO_SERVER_MODE, NULL);
    margo_set_log_level(nokey, MARGO_LOG_CRITICAL);
    for (uint32_t i = 0; i < 3; i++) CHECK(call(nokey, srv, 7) != HG_SUCCESS);
    /* another key */
    margo_instance_id wrong = inst(tr, MARGO_SERVER_MODE, OTHER);
    margo_set_log_level(wrong, MARGO_LOG_CRITICAL);
    for (uint32_t i = 0; i < 3; i++) CHECK(call(wrong, srv, 8) != HG_SUCCESS);
    CHECK_EQ_INT(atomic_load(&g_calls), before);
    /* a keyed client does not talk to a keyless server either */
    REQUIRE(frt_rpc_register(nokey, "echo", 1, echo, NULL, ABT_POOL_NULL) == HG_SUCCESS);
    margo_set_log_level(good, MARGO_LOG_CRITICAL);
    CHECK(call(good, nokey, 9) != HG_SUCCESS);
    CHECK_EQ_INT(atomic_load(&g_calls), before);
    margo_set_log_level(good, MARGO_LOG_ERROR);

    /* replay: the request frame is duplicated below the auth layer */
    frt_fault_spec dup = {.duplicate = 1};
    REQUIRE(frt_fault_set(good, NULL, &dup) == HG_SUCCESS);
    before = atomic_load(&g_calls);
    (void)call(good, srv, 10); /* the connection is closed by the duplicate */
    ft_sleep_ms(300);
    CHECK_EQ_INT(atomic_load(&g_calls), before + 1);
    frt_fault_clear(good);
    CHECK_EQ_INT(call(good, srv, 11), HG_SUCCESS); /* a new connection works */

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(lfd);
    margo_set_log_level(srv, MARGO_LOG_ERROR);
    /* logs: one line per rejected peer; never the key */
    FILE* f = fopen(logpath, "r");
    REQUIRE(f);
    char line[2048];
    int  rejected_nokey = 0, rejected_wrong = 0, key_seen = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, KEY) || strstr(line, OTHER)) key_seen++;
        if (strstr(line, "rejected connection from") && strstr(line, frt_self_addr_str(nokey)))
            rejected_nokey++;
        if (strstr(line, "rejected connection from") && strstr(line, frt_self_addr_str(wrong)))
            rejected_wrong++;
    }
    fclose(f);
    if (rejected_nokey != 1 || rejected_wrong != 1) {
        f = fopen(logpath, "r");
        while (f && fgets(line, sizeof line, f)) fprintf(stderr, "log: %s", line);
        if (f) fclose(f);
    }
    CHECK_EQ_INT(rejected_nokey, 1);
    CHECK_EQ_INT(rejected_wrong, 1);
    CHECK_EQ_INT(key_seen, 0);

    margo_finalize(wrong);
    margo_finalize(nokey);
    margo_finalize(good);
    margo_finalize(srv);
}

static void test_key_files(void)
{
    char path[600];
    margo_instance_id m = margo_init("na+sm", MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(m);
    margo_set_log_level(m, MARGO_LOG_CRITICAL);
    snprintf(path, sizeof path, "%s/key", ft_tmpdir());
    FILE* f = fopen(path, "w");
    REQUIRE(f);
    fprintf(f, "short\n");
    fclose(f);
    CHECK_EQ_INT(frt_auth_set_key_file(m, path), HG_INVALID_ARG);
    CHECK(!frt_auth_enabled(m));
    CHECK_EQ_INT(frt_auth_set_key_file(m, "/nonexistent/key"), HG_INVALID_ARG);
    f = fopen(path, "w");
    REQUIRE(f);
    fprintf(f, "%s\n", KEY);
    fclose(f);
    chmod(path, 0600);
    CHECK_EQ_INT(frt_auth_set_key_file(m, path), HG_SUCCESS);
    CHECK(frt_auth_enabled(m));
    CHECK_EQ_INT(frt_auth_set_key(m, "x", 1), HG_INVALID_ARG);
    margo_finalize(m);
}

int main(int argc, char** argv)
{
    const char* tr = argc > 1 ? argv[1] : "na+sm";
    margo_set_global_log_level(MARGO_LOG_ERROR);
    test_vectors();
    test_key_files();
    test_groups(tr);
    return FT_DONE();
}
