/*
 * test-centralized-wire.c -- the centralized backend's message codecs:
 * round trips, and every truncation / hostile variant rejected cleanly.
 */
#include "flock-test.h"

#include "backends/centralized/centralized-wire.h"
#include <flock/flock-group.h>
#include <string.h>

static void test_ping(void)
{
    frt_wbuf b = FRT_WBUF_INIT;
    uint64_t seq, dig;
    flock__cent_encode_ping(&b, 42, 0xdeadbeefcafef00dULL);
    REQUIRE(!b.failed);
    CHECK(flock__cent_decode_ping(b.data, b.len, &seq, &dig));
    CHECK_EQ_INT(seq, 42);
    CHECK(dig == 0xdeadbeefcafef00dULL);
    for (size_t l = 0; l < b.len; l++)
        CHECK(!flock__cent_decode_ping(b.data, l, &seq, &dig));
    frt_put_u8(&b, 1); /* trailing garbage */
    CHECK(!flock__cent_decode_ping(b.data, b.len, &seq, &dig));
    frt_wbuf_free(&b);
}

static void test_events(void)
{
    char longkey[FLOCK_METADATA_KEY_MAX + 1];
    memset(longkey, 'k', FLOCK_METADATA_KEY_MAX);
    longkey[FLOCK_METADATA_KEY_MAX] = '\0';
    flock__cent_event_t in[6] = {
        {7, FLOCK_MEMBER_JOINED, "na+sm://100-0", 1, NULL},
        {8, FLOCK_MEMBER_LEFT, "ofi+tcp://127.0.0.1:4000", 65535, NULL},
        {9, FLOCK_MEMBER_DIED, "na+sm://101-0", 0, NULL},
        {10, FLOCK__CENT_META_SET, "color", 0, "blue"},
        {11, FLOCK__CENT_META_DEL, "color", 0, NULL},
        {12, FLOCK__CENT_META_SET, longkey, 0, ""},
    };
    frt_wbuf b = FRT_WBUF_INIT;
    flock__cent_event_t* out = NULL;
    size_t n = 0;
    frt_rbuf r;

    flock__cent_encode_events(&b, in, 6);
    REQUIRE(!b.failed);
    frt_rbuf_init(&r, b.data, b.len);
    REQUIRE(flock__cent_decode_events(&r, &out, &n));
    CHECK(frt_rbuf_done(&r));
    REQUIRE(n == 6);
    for (size_t i = 0; i < 6; i++) {
        CHECK(out[i].seq == in[i].seq);
        CHECK(out[i].type == in[i].type);
        CHECK_EQ_STR(out[i].address, in[i].address);
        CHECK(out[i].provider_id == in[i].provider_id);
        if (in[i].value)
            CHECK_EQ_STR(out[i].value, in[i].value);
        else
            CHECK(out[i].value == NULL);
    }
    flock__cent_events_free(out, n);

    /* every truncation fails without leaking */
    for (size_t l = 0; l < b.len; l++) {
        frt_rbuf_init(&r, b.data, l);
        out = (flock__cent_event_t*)1;
        CHECK(!flock__cent_decode_events(&r, &out, &n));
        CHECK(out == NULL && n == 0);
    }
    /* an unknown update kind (MOVED = 3 and beyond) */
    {
        frt_wbuf bad = FRT_WBUF_INIT;
        flock__cent_event_t e = {1, FLOCK_MEMBER_MOVED, "a", 1, NULL};
        flock__cent_encode_events(&bad, &e, 1);
        frt_rbuf_init(&r, bad.data, bad.len);
        CHECK(!flock__cent_decode_events(&r, &out, &n));
        frt_wbuf_free(&bad);
    }
    /* a huge count with no data behind it must not allocate */
    {
        frt_wbuf bad = FRT_WBUF_INIT;
        frt_put_u32(&bad, 0xFFFFFFFFu);
        frt_rbuf_init(&r, bad.data, bad.len);
        CHECK(!flock__cent_decode_events(&r, &out, &n));
        frt_wbuf_free(&bad);
        frt_put_u32(&bad, 1000);
        frt_rbuf_init(&r, bad.data, bad.len);
        CHECK(!flock__cent_decode_events(&r, &out, &n));
        frt_wbuf_free(&bad);
    }
    /* an over-long address */
    {
        char addr[300];
        memset(addr, 'x', sizeof addr - 1);
        addr[sizeof addr - 1] = 0;
        frt_wbuf bad = FRT_WBUF_INIT;
        flock__cent_event_t e = {1, FLOCK_MEMBER_JOINED, addr, 1, NULL};
        flock__cent_encode_events(&bad, &e, 1);
        frt_rbuf_init(&r, bad.data, bad.len);
        CHECK(!flock__cent_decode_events(&r, &out, &n));
        frt_wbuf_free(&bad);
    }
    /* zero events */
    {
        frt_wbuf z = FRT_WBUF_INIT;
        flock__cent_encode_events(&z, NULL, 0);
        frt_rbuf_init(&r, z.data, z.len);
        CHECK(flock__cent_decode_events(&r, &out, &n) && n == 0 && out == NULL);
        frt_wbuf_free(&z);
    }
    frt_wbuf_free(&b);
}

static void test_small(void)
{
    frt_wbuf b = FRT_WBUF_INIT;
    uint16_t v;
    uint64_t since;
    bool full;
    uint32_t st;
    frt_rbuf r;

    flock__cent_encode_u16(&b, 4242);
    CHECK(flock__cent_decode_u16(b.data, b.len, &v) && v == 4242);
    CHECK(!flock__cent_decode_u16(b.data, 1, &v));
    frt_wbuf_free(&b);

    flock__cent_encode_view_req(&b, 99, true);
    CHECK(flock__cent_decode_view_req(b.data, b.len, &since, &full) && since == 99 &&
          full);
    CHECK(!flock__cent_decode_view_req(b.data, b.len - 1, &since, &full));
    b.data[b.len - 1] = 7; /* not a bool */
    CHECK(!flock__cent_decode_view_req(b.data, b.len, &since, &full));
    frt_wbuf_free(&b);

    flock__cent_encode_status(&b, FLOCK_ERR_INVALID_ARGS);
    frt_rbuf_init(&r, b.data, b.len);
    CHECK(flock__cent_decode_status(&r, &st) && st == FLOCK_ERR_INVALID_ARGS);
    frt_rbuf_init(&r, b.data, 2);
    CHECK(!flock__cent_decode_status(&r, &st));
    frt_wbuf_free(&b);

    CHECK(flock__cent_status_to_return(0) == FLOCK_SUCCESS);
    CHECK(flock__cent_status_to_return(FLOCK_ERR_NOT_A_MEMBER) == FLOCK_ERR_NOT_A_MEMBER);
    CHECK(flock__cent_status_to_return(1000) == FLOCK_ERR_OTHER);
}

/* One entry of an events list: the list is its u32 count then the entries. */
static void test_event_entry(void)
{
    static const flock__cent_event_t in[] = {
        {1, FLOCK_MEMBER_JOINED, "na+sm://1-0", 0, NULL},
        {1ULL << 40, FLOCK_MEMBER_LEFT, "ofi+tcp://[::1]:5000", 65535, NULL},
        {3, FLOCK_MEMBER_DIED, "", 7, NULL},
    };
    const size_t n = sizeof in / sizeof in[0];
    for (size_t k = 0; k <= n; k++) {
        frt_wbuf list = FRT_WBUF_INIT, one = FRT_WBUF_INIT;
        flock__cent_encode_events(&list, in, k);
        frt_put_u32(&one, (uint32_t)k);
        for (size_t i = 0; i < k; i++)
            flock__cent_encode_event(&one, &in[i]);
        REQUIRE(!list.failed && !one.failed);
        CHECK(list.len == one.len && memcmp(list.data, one.data, list.len) == 0);
        frt_wbuf_free(&list);
        frt_wbuf_free(&one);
    }
}

/* The request envelope and the redirect: round trips, every truncation refused. */
static void test_envelope_and_redirect(void)
{
    frt_wbuf b = FRT_WBUF_INIT;
    frt_rbuf r;
    uint64_t g, t;
    uint16_t pid;
    flock__cent_encode_envelope(&b, 0x1122334455667788ULL, 9, 42);
    frt_put_u8(&b, 0xAB); /* a body byte */
    REQUIRE(!b.failed && b.len == 19);
    CHECK(flock__cent_decode_envelope(&r, b.data, b.len, &g, &t, &pid));
    CHECK(g == 0x1122334455667788ULL && t == 9 && pid == 42);
    CHECK(r.left == 1 && frt_get_u8(&r) == 0xAB);
    for (size_t n = 0; n < 18; n++)
        CHECK(!flock__cent_decode_envelope(&r, b.data, n, &g, &t, &pid));
    frt_wbuf_free(&b);

    uint8_t kind;
    char* addr = NULL;
    flock__cent_encode_redirect(&b, FLOCK__CENT_REDIRECT_PRIMARY, "tcp://10.0.0.1:7", 3, 5);
    frt_rbuf_init(&r, b.data, b.len);
    CHECK(flock__cent_decode_redirect(&r, &kind, &addr, &pid, &t));
    CHECK(kind == FLOCK__CENT_REDIRECT_PRIMARY && pid == 3 && t == 5);
    CHECK_EQ_STR(addr, "tcp://10.0.0.1:7");
    free(addr);
    for (size_t n = 0; n < b.len; n++) { /* truncated: refused, nothing allocated */
        frt_rbuf_init(&r, b.data, n);
        addr = (char*)1;
        CHECK(!flock__cent_decode_redirect(&r, &kind, &addr, &pid, &t));
        CHECK(addr == NULL);
    }
    frt_wbuf_free(&b);
    flock__cent_encode_redirect(&b, FLOCK__CENT_REDIRECT_NONE, NULL, 0, 0);
    frt_rbuf_init(&r, b.data, b.len);
    CHECK(flock__cent_decode_redirect(&r, &kind, &addr, &pid, &t));
    CHECK(kind == FLOCK__CENT_REDIRECT_NONE && addr == NULL);
    frt_wbuf_free(&b);
    frt_put_u8(&b, 7); /* an unknown kind */
    frt_rbuf_init(&r, b.data, b.len);
    CHECK(!flock__cent_decode_redirect(&r, &kind, &addr, &pid, &t));
    frt_wbuf_free(&b);
    flock__cent_encode_redirect(&b, FLOCK__CENT_REDIRECT_PRIMARY, "", 3, 5); /* empty address */
    frt_rbuf_init(&r, b.data, b.len);
    CHECK(!flock__cent_decode_redirect(&r, &kind, &addr, &pid, &t));
    CHECK(addr == NULL);
    frt_wbuf_free(&b);
}

int main(void)
{
    test_envelope_and_redirect();
    test_ping();
    test_events();
    test_small();
    test_event_entry();
    return FT_DONE();
}
