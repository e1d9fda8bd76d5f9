/*
 * test-view-codec.c -- the internal binary view codec: round trip, and
 * every truncation / corruption is rejected before the output is touched,
 * without crash or leak.
 */
#include "flock-test.h"
#include <flock/flock-group-view.h>
#include "flock/view-codec.h"

static void make_view(flock_group_view_t* v, int n)
{
    char a[32];
    for (int i = 0; i < n; i++) {
        snprintf(a, sizeof a, "tcp://10.0.0.%d:%d", i % 250, 4000 + i);
        REQUIRE(flock_group_view_add_member(v, a, (uint16_t)(i % 7)));
    }
    REQUIRE(flock_group_view_add_metadata(v, "__type__", "static"));
    REQUIRE(flock_group_view_add_metadata(v, "__config__", "{\"a\":1}"));
}

static void test_round_trip(void)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER, out = FLOCK_GROUP_VIEW_INITIALIZER;
    make_view(&v, 100);
    frt_wbuf b = FRT_WBUF_INIT;
    flock__view_encode(&b, &v);
    frt_put_u8(&b, 0xAB); /* something after the view */
    REQUIRE(!b.failed);
    frt_rbuf r;
    frt_rbuf_init(&r, b.data, b.len);
    CHECK_EQ_INT(flock__view_decode(&r, &out), FLOCK_SUCCESS);
    CHECK_EQ_INT(frt_get_u8(&r), 0xAB);
    CHECK(frt_rbuf_done(&r));
    CHECK(out.digest == v.digest);
    CHECK_EQ_INT(out.members.size, 100);
    CHECK_EQ_INT(out.metadata.size, 2);
    for (size_t i = 0; i < 100; i++) {
        CHECK_EQ_STR(out.members.data[i].address, v.members.data[i].address);
        CHECK_EQ_INT(out.members.data[i].provider_id, v.members.data[i].provider_id);
    }
    /* adding to a decoded view works (capacity is real) */
    REQUIRE(flock_group_view_add_member(&out, "tcp://z:1", 1));
    REQUIRE(flock_group_view_add_metadata(&out, "zz", "1"));
    /* decoding into a non-empty view is refused */
    frt_rbuf_init(&r, b.data, b.len);
    CHECK_EQ_INT(flock__view_decode(&r, &out), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock__view_decode(NULL, &out), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock__view_decode(&r, NULL), FLOCK_ERR_INVALID_ARGS);
    flock_group_view_clear(&out);

    /* every truncation fails cleanly and leaves out empty */
    size_t view_len = b.len - 1;
    for (size_t len = 0; len < view_len; len++) {
        frt_rbuf_init(&r, b.data, len);
        flock_return_t ret = flock__view_decode(&r, &out);
        if (ret != FLOCK_ERR_FROM_MERCURY) FT_FAIL("truncated at %zu: %d", len, (int)ret);
        CHECK(out.members.size == 0 && out.members.data == NULL && out.digest == 0);
    }
    frt_wbuf_free(&b);

    /* empty view */
    flock_group_view_t empty = FLOCK_GROUP_VIEW_INITIALIZER;
    flock__view_encode(&b, &empty);
    frt_rbuf_init(&r, b.data, b.len);
    CHECK_EQ_INT(flock__view_decode(&r, &out), FLOCK_SUCCESS);
    CHECK(frt_rbuf_done(&r) && out.members.size == 0 && out.digest == 0);
    frt_wbuf_free(&b);
    flock_group_view_clear(&v);
}

/* Hand-built frames. */
static flock_return_t decode_frame(frt_wbuf* b, flock_group_view_t* out)
{
    frt_rbuf r;
    frt_rbuf_init(&r, b->data, b->len);
    flock_return_t ret = flock__view_decode(&r, out);
    frt_wbuf_free(b);
    return ret;
}

static void test_hostile(void)
{
    flock_group_view_t out = FLOCK_GROUP_VIEW_INITIALIZER;
    frt_wbuf           b   = FRT_WBUF_INIT;

    /* huge counts with no data: rejected before any allocation */
    frt_put_u64(&b, 0);
    frt_put_u32(&b, 0xFFFFFFFFu);
    frt_put_u32(&b, 0xFFFFFFFFu);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);
    frt_put_u64(&b, 0);
    frt_put_u32(&b, 1000);
    frt_put_u32(&b, 0);
    frt_put_str(&b, "a");
    frt_put_u16(&b, 1);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);

    /* wrong digest */
    frt_put_u64(&b, 12345);
    frt_put_u32(&b, 1);
    frt_put_u32(&b, 0);
    frt_put_str(&b, "a");
    frt_put_u16(&b, 1);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);

    /* right digest */
    frt_put_u64(&b, flock_hash_member(1, "a"));
    frt_put_u32(&b, 1);
    frt_put_u32(&b, 0);
    frt_put_str(&b, "a");
    frt_put_u16(&b, 1);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_SUCCESS);
    flock_group_view_clear(&out);

    /* empty address */
    frt_put_u64(&b, flock_hash_member(1, ""));
    frt_put_u32(&b, 1);
    frt_put_u32(&b, 0);
    frt_put_str(&b, "");
    frt_put_u16(&b, 1);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);

    /* address too long */
    char longaddr[200];
    memset(longaddr, 'x', 150);
    longaddr[150] = 0;
    frt_put_u64(&b, flock_hash_member(1, longaddr));
    frt_put_u32(&b, 1);
    frt_put_u32(&b, 0);
    frt_put_str(&b, longaddr);
    frt_put_u16(&b, 1);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);

    /* embedded NUL in an address */
    frt_put_u64(&b, 0);
    frt_put_u32(&b, 1);
    frt_put_u32(&b, 0);
    frt_put_u32(&b, 3);
    frt_put_bytes(&b, "a\0b", 3);
    frt_put_u16(&b, 1);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);

    /* duplicate members (digest would cancel) */
    frt_put_u64(&b, 0);
    frt_put_u32(&b, 2);
    frt_put_u32(&b, 0);
    frt_put_str(&b, "a");
    frt_put_u16(&b, 1);
    frt_put_str(&b, "a");
    frt_put_u16(&b, 1);
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);

    /* duplicate keys */
    frt_put_u64(&b, flock_hash_member(1, "a"));
    frt_put_u32(&b, 1);
    frt_put_u32(&b, 2);
    frt_put_str(&b, "a");
    frt_put_u16(&b, 1);
    frt_put_str(&b, "k");
    frt_put_str(&b, "v");
    frt_put_str(&b, "k");
    frt_put_str(&b, "v");
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_ERR_FROM_MERCURY);

    /* unsorted input is accepted and sorted */
    uint64_t d = flock_hash_member(1, "b") ^ flock_hash_member(1, "a")
               ^ flock_hash_metadata("z", "1") ^ flock_hash_metadata("y", "2");
    frt_put_u64(&b, d);
    frt_put_u32(&b, 2);
    frt_put_u32(&b, 2);
    frt_put_str(&b, "b");
    frt_put_u16(&b, 1);
    frt_put_str(&b, "a");
    frt_put_u16(&b, 1);
    frt_put_str(&b, "z");
    frt_put_str(&b, "1");
    frt_put_str(&b, "y");
    frt_put_str(&b, "2");
    CHECK_EQ_INT(decode_frame(&b, &out), FLOCK_SUCCESS);
    CHECK_EQ_STR(out.members.data[0].address, "a");
    CHECK_EQ_STR(out.metadata.data[0].key, "y");
    CHECK(flock_group_view_find_member(&out, "b", 1) != NULL);
    flock_group_view_clear(&out);

    /* random garbage never crashes */
    srand(1234);
    for (int i = 0; i < 2000; i++) {
        uint8_t buf[64];
        size_t  n = (size_t)(rand() % (int)sizeof buf);
        for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)rand();
        if (n >= 16 && (i & 1)) { /* plausible small counts */
            buf[8] = (uint8_t)(rand() % 3);
            buf[9] = buf[10] = buf[11] = 0;
            buf[12] = (uint8_t)(rand() % 3);
            buf[13] = buf[14] = buf[15] = 0;
        }
        frt_rbuf r;
        frt_rbuf_init(&r, buf, n);
        if (flock__view_decode(&r, &out) == FLOCK_SUCCESS) flock_group_view_clear(&out);
        CHECK(out.members.data == NULL);
    }
}

int main(void)
{
    margo_set_global_log_level(MARGO_LOG_CRITICAL);
    test_round_trip();
    test_hostile();
    return FT_DONE();
}
