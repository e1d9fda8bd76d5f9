/*
 * test-swim-wire.c -- SWIM message codec: round trips of every message kind,
 * and hostile input (truncation at every byte, huge counts, oversized
 * strings, unknown kinds/types/flags, bad varints and back-references,
 * trailing bytes, bad bucket sections) is rejected with a reason; the
 * compact form is small.
 */
#include "flock-test.h"
#include "backends/swim/swim-wire.h"

/* an entry of m (its strings kept by m) */
static swim__entry mk_in(swim__msg* m, uint8_t type, const char* addr, uint16_t pid,
                         uint64_t inc)
{
    swim__entry e = {0};
    e.type        = type;
    e.addr        = swim__msg_keep(m, addr);
    e.pid         = pid;
    e.inc         = inc;
    if (type == SWIM_E_SUSPECT) {
        e.from_addr = swim__msg_keep(m, "tcp://10.0.0.9:7");
        e.from_pid  = 77;
    }
    return e;
}
#define mk(...) mk_in(m, __VA_ARGS__)

static void fill(swim__msg* m, uint8_t kind)
{
    memset(m, 0, sizeof *m);
    m->kind        = kind;
    m->sender_addr = strdup("tcp://127.0.0.1:4000");
    m->sender_pid  = 3;
    m->sender_inc  = 42;
    m->group_id    = 0xfedcba9876543210ULL;
    m->ngossip     = 3;
    m->gossip      = calloc(3, sizeof *m->gossip);
    m->gossip[0]   = mk(SWIM_E_ALIVE, "tcp://a:1", 1, 5);
    m->gossip[1]   = mk(SWIM_E_SUSPECT, "tcp://b:2", 2, 6);
    m->gossip[2]   = mk(SWIM_E_LEAVE, "tcp://c:3", 65535, UINT64_MAX);
    m->nmeta       = 2;
    m->meta        = calloc(2, sizeof *m->meta);
    m->meta[0]     = (swim__meta_entry){.key = strdup("rack"), .value = strdup("r\xc3\xa9"),
                                        .origin = strdup("tcp://a:1"), .version = 7,
                                        .origin_pid = 1};
    m->meta[1]     = (swim__meta_entry){.key = strdup("gone"), .origin = strdup(""),
                                        .version = UINT64_MAX, .origin_pid = 65535};
    if (kind == SWIM_MSG_PING_REQ) {
        m->target_addr = strdup("tcp://t:9");
        m->target_pid  = 9;
        m->timeout_ms  = 400.0;
    }
    if (kind >= SWIM_MSG_ACK) m->known_mask = 0x8000000000000005ULL;
    if (kind == SWIM_MSG_PING_REQ_ACK) {
        m->responded  = 1;
        m->target_inc = 11;
    }
    if (kind == SWIM_MSG_ANNOUNCE || kind == SWIM_MSG_ANNOUNCE_ACK) {
        if (kind == SWIM_MSG_ANNOUNCE) {
            m->ann_type    = SWIM_ANN_JOIN;
            m->target_addr = strdup("tcp://j:5");
            m->target_pid  = 5;
            m->target_inc  = 2;
        }
        m->nstate   = 2;
        m->state    = calloc(2, sizeof *m->state);
        m->state[0] = mk(SWIM_E_CONFIRM, "tcp://d:4", 4, 8);
        m->state[1] = mk(SWIM_E_ALIVE, "tcp://e:5", 5, 1);
    }
}

static bool same_entry(const swim__entry* a, const swim__entry* b)
{
    if (a->type != b->type || a->pid != b->pid || a->inc != b->inc) return false;
    if (strcmp(a->addr, b->addr) != 0) return false;
    if (a->type == SWIM_E_SUSPECT)
        return a->from_pid == b->from_pid && b->from_addr && strcmp(a->from_addr, b->from_addr) == 0;
    return true;
}

/* a decoded list (b, nb) equals the encoded one (a, na) */
static void check_same_list(const swim__entry* a, uint32_t na, const swim__entry* b, uint32_t nb)
{
    CHECK_EQ_INT(nb, na);
    for (uint32_t i = 0; i < na && i < nb; i++) CHECK(same_entry(&a[i], &b[i]));
}

static void test_roundtrip(void)
{
    for (uint8_t k = SWIM_MSG_PING; k <= SWIM_MSG_ANNOUNCE_ACK; k++) {
        swim__msg m, d;
        fill(&m, k);
        frt_wbuf w = FRT_WBUF_INIT;
        REQUIRE(swim__encode(&m, &w));
        const char* why = NULL;
        CHECK(swim__decode(w.data, w.len, k, &d, &why));
        CHECK_EQ_INT(d.kind, k);
        CHECK_EQ_STR(d.sender_addr, m.sender_addr);
        CHECK_EQ_INT(d.sender_inc, 42);
        CHECK(d.group_id == 0xfedcba9876543210ULL); /* 8 bytes once per message */
        CHECK_EQ_INT(m.ngossip, 3);
        check_same_list(m.gossip, m.ngossip, d.gossip, d.ngossip);
        check_same_list(m.state, m.nstate, d.state, d.nstate);
        if (m.target_addr) CHECK_EQ_STR(d.target_addr, m.target_addr);
        CHECK(d.timeout_ms == m.timeout_ms);
        CHECK_EQ_INT(d.responded, m.responded);
        CHECK_EQ_INT(d.ann_type, m.ann_type);
        CHECK(d.known_mask == m.known_mask);
        CHECK_EQ_INT(d.nmeta, 2);
        if (d.nmeta == 2) {
            CHECK_EQ_STR(d.meta[0].key, "rack");
            CHECK_EQ_STR(d.meta[0].value, "r\xc3\xa9");
            CHECK_EQ_STR(d.meta[0].origin, "tcp://a:1");
            CHECK(d.meta[0].version == 7 && d.meta[0].origin_pid == 1);
            CHECK_EQ_STR(d.meta[1].key, "gone");
            CHECK(d.meta[1].value == NULL);
            CHECK_EQ_STR(d.meta[1].origin, "");
            CHECK(d.meta[1].version == UINT64_MAX && d.meta[1].origin_pid == 65535);
        }
        /* wrong expected kind */
        swim__msg x;
        CHECK(!swim__decode(w.data, w.len, k == SWIM_MSG_PING ? SWIM_MSG_ACK : SWIM_MSG_PING, &x, &why));
        /* every truncation fails cleanly */
        for (size_t cut = 0; cut < w.len; cut++) {
            why = NULL;
            if (swim__decode(w.data, cut, 0, &x, &why)) FT_FAIL("kind %u cut %zu decoded", k, cut);
            CHECK(why != NULL);
        }
        /* trailing bytes */
        frt_put_u8(&w, 0);
        CHECK(!swim__decode(w.data, w.len, k, &x, &why));
        CHECK_EQ_STR(why, "trailing bytes");
        frt_wbuf_free(&w);
        swim__msg_clear(&m);
        swim__msg_clear(&d);
    }
}

static void put_uv(frt_wbuf* w, uint64_t v)
{
    while (v >= 0x80) {
        frt_put_u8(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    frt_put_u8(w, (uint8_t)v);
}

static void put_vstr(frt_wbuf* w, const char* s)
{
    put_uv(w, strlen(s));
    frt_put_bytes(w, s, strlen(s));
}

/* a new address in the message's table, written out (tag 2L + 1) */
static void put_addr(frt_wbuf* w, const char* s)
{
    put_uv(w, 2 * strlen(s) + 1);
    frt_put_bytes(w, s, strlen(s));
}

/* a new address: the first p bytes of the last one, then s (tag 2S + 2) */
static void put_addr_shared(frt_wbuf* w, uint64_t p, const char* s)
{
    put_uv(w, 2 * strlen(s) + 2);
    put_uv(w, p);
    frt_put_bytes(w, s, strlen(s));
}

static void put_header_flags(frt_wbuf* w, uint8_t kind, const char* addr, uint8_t flags)
{
    frt_put_u8(w, kind);
    frt_put_u8(w, flags | 0x04); /* bit 0 clear: the sender's address follows;
                                    bit 2: this form */
    frt_put_u64(w, 0x1234); /* group id */
    if (addr) put_addr(w, addr); /* NULL: flags set bit 0 (left to the transport) */
    put_uv(w, 1);          /* pid */
    put_uv(w, 1);          /* incarnation */
    put_uv(w, 3);          /* view size */
    frt_put_u32(w, 0xabc); /* view digest */
    if (kind >= SWIM_MSG_ACK) put_uv(w, 0); /* feedback mask */
}

static void put_header(frt_wbuf* w, uint8_t kind, const char* addr)
{
    put_header_flags(w, kind, addr, 0);
}

/* w (then freed) is refused, for the reason `want` */
static void expect_refused(frt_wbuf* w, const char* want)
{
    swim__msg   x;
    const char* why = NULL;
    CHECK(!swim__decode(w->data, w->len, 0, &x, &why));
    CHECK_EQ_STR(why, want);
    frt_wbuf_free(w);
}

/* w (then freed) decodes, and its one gossip entry names `addr` */
static void check_entry_addr(frt_wbuf* w, const char* addr)
{
    swim__msg   x;
    const char* why = NULL;
    CHECK(swim__decode(w->data, w->len, 0, &x, &why));
    CHECK_EQ_INT(x.ngossip, 1);
    if (x.ngossip == 1) CHECK_EQ_STR(x.gossip[0].addr, addr);
    swim__msg_clear(&x);
    frt_wbuf_free(w);
}

static void test_hostile(void)
{
    const char* why = NULL;
    swim__msg   x;
    /* gossip count above the bound */
    frt_wbuf w = FRT_WBUF_INIT;
    put_header(&w, SWIM_MSG_PING, "tcp://x:1");
    put_uv(&w, SWIM_MAX_GOSSIP_WIRE + 1);
    expect_refused(&w, "too many entries");
    /* a count within the bound but larger than the bytes present */
    put_header(&w, SWIM_MSG_ANNOUNCE_ACK, "tcp://x:1");
    put_uv(&w, SWIM_MAX_STATE_WIRE);
    expect_refused(&w, "entry count exceeds the message size");
    /* a huge varint count; an 11-byte varint */
    put_header(&w, SWIM_MSG_ACK, "tcp://x:1");
    put_uv(&w, UINT64_MAX);
    CHECK(!swim__decode(w.data, w.len, 0, &x, &why));
    frt_wbuf_free(&w);
    put_header(&w, SWIM_MSG_ACK, "tcp://x:1");
    for (int i = 0; i < 10; i++) frt_put_u8(&w, 0x80);
    frt_put_u8(&w, 0);
    CHECK(!swim__decode(w.data, w.len, 0, &x, &why));
    frt_wbuf_free(&w);
    /* oversized address */
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    put_header(&w, SWIM_MSG_PING, big);
    put_uv(&w, 0);
    put_uv(&w, 0);
    CHECK(!swim__decode(w.data, w.len, 0, &x, &why));
    frt_wbuf_free(&w);
    /* unknown kind, flags, entry type, announce type; empty address; a
     * back-reference past the table; a provider id above 65535 */
    uint8_t bad_kind = 99;
    CHECK(!swim__decode(&bad_kind, 1, 0, &x, &why));
    CHECK_EQ_STR(why, "unknown message kind");
    CHECK(!swim__decode(NULL, 0, 0, &x, &why));
    uint8_t bad_flags[] = {SWIM_MSG_PING, 0x80};
    CHECK(!swim__decode(bad_flags, sizeof bad_flags, 0, &x, &why));
    CHECK_EQ_STR(why, "unknown flags");
    /* a message of the older form (no bit 2) is named as such */
    uint8_t old_form[] = {SWIM_MSG_PING, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(!swim__decode(old_form, sizeof old_form, 0, &x, &why));
    CHECK(strstr(why, "older wire form") != NULL);
    /* a shared prefix: with no earlier address; longer than the earlier
     * address; making an address longer than SWIM_MAX_ADDR_LEN */
    char tail[SWIM_MAX_ADDR_LEN];
    memset(tail, 'a', sizeof tail - 1);
    tail[sizeof tail - 1] = 0; /* with 9 shared bytes: one too many */
    struct {
        bool        sender; /* "tcp://x:1" (9 bytes) is in the table first */
        uint64_t    p;
        const char* tail;
    } bad_shared[] = {{false, 3, "1"}, {true, 10, "1"}, {true, 9, tail + 8}, {true, 9, tail}};
    for (size_t i = 0; i < sizeof bad_shared / sizeof bad_shared[0]; i++) {
        if (bad_shared[i].sender) {
            put_header(&w, SWIM_MSG_ACK, "tcp://x:1");
        } else { /* the sender's address left to the transport: an empty table */
            put_header_flags(&w, SWIM_MSG_ACK, NULL, 0x01);
        }
        put_uv(&w, 1);
        frt_put_u8(&w, SWIM_E_ALIVE);
        put_addr_shared(&w, bad_shared[i].p, bad_shared[i].tail);
        put_uv(&w, 1);
        put_uv(&w, 0);
        put_uv(&w, 0);
        frt_put_u8(&w, 0);
        why = NULL;
        bool ok = swim__decode(w.data, w.len, 0, &x, &why);
        if (i == 2) { /* 9 + SWIM_MAX_ADDR_LEN - 9 bytes: the longest address */
            CHECK(!ok);
            CHECK_EQ_STR(why, "trailing bytes"); /* the byte after the list */
        } else {
            CHECK(!ok);
            CHECK_EQ_STR(why, "truncated or oversized entry");
        }
        if (ok) swim__msg_clear(&x);
        frt_wbuf_free(&w);
    }
    /* a valid one */
    put_header(&w, SWIM_MSG_ACK, "tcp://x:1");
    put_uv(&w, 1);
    frt_put_u8(&w, SWIM_E_ALIVE);
    put_addr_shared(&w, 8, "23");
    put_uv(&w, 1);
    put_uv(&w, 0);
    put_uv(&w, 0);
    check_entry_addr(&w, "tcp://x:23");
    put_header(&w, SWIM_MSG_PING, "tcp://x:1");
    put_uv(&w, 1);
    frt_put_u8(&w, 17);
    put_addr(&w, "tcp://y:1");
    put_uv(&w, 1);
    put_uv(&w, 1);
    put_uv(&w, 0);
    expect_refused(&w, "unknown entry type");
    put_header(&w, SWIM_MSG_ANNOUNCE, "tcp://x:1");
    frt_put_u8(&w, 9);
    put_addr(&w, "tcp://x:1");
    put_uv(&w, 1);
    put_uv(&w, 1);
    put_uv(&w, 0);
    put_uv(&w, 0);
    put_uv(&w, 0);
    expect_refused(&w, "unknown announce type");
    struct {
        int         ref;  /* -1: a new address */
        const char* addr;
        uint64_t    pid;
        const char* want;
    } bad_entry[] = {
        {-1, "", 1, "empty address in entry"},
        {1, NULL, 1, "truncated or oversized entry"},   /* only index 0 exists */
        {0, NULL, 65536, "truncated or oversized entry"}, /* provider id */
    };
    for (size_t i = 0; i < sizeof bad_entry / sizeof bad_entry[0]; i++) {
        put_header(&w, SWIM_MSG_ACK, "tcp://x:1");
        put_uv(&w, 1);
        frt_put_u8(&w, SWIM_E_ALIVE);
        if (bad_entry[i].ref < 0) {
            put_addr(&w, bad_entry[i].addr);
        } else {
            put_uv(&w, 0);
            put_uv(&w, (uint64_t)bad_entry[i].ref);
        }
        put_uv(&w, bad_entry[i].pid);
        put_uv(&w, 1);
        put_uv(&w, 0);
        frt_put_u8(&w, 0); /* padding so the size checks pass */
        frt_put_u8(&w, 0);
        why = NULL;
        CHECK(!swim__decode(w.data, w.len, 0, &x, &why));
        CHECK_EQ_STR(why, bad_entry[i].want);
        frt_wbuf_free(&w);
    }
    /* a valid back-reference to the sender's address */
    put_header(&w, SWIM_MSG_ACK, "tcp://x:1");
    put_uv(&w, 1);
    frt_put_u8(&w, SWIM_E_ALIVE);
    put_uv(&w, 0);
    put_uv(&w, 0);
    put_uv(&w, 2);
    put_uv(&w, 5);
    put_uv(&w, 0);
    check_entry_addr(&w, "tcp://x:1");
    /* metadata: count above the bound, bad flag, bad UTF-8, key too long, empty key */
    put_header(&w, SWIM_MSG_PING, "tcp://x:1");
    put_uv(&w, 0);
    put_uv(&w, SWIM_META_MAX_ENTRIES + 1);
    expect_refused(&w, "too many metadata entries");
    struct {
        const char* key;
        uint8_t     flag;
        const char* value;
        const char* want;
    } bad[] = {
        {"k", 2, "v", "bad metadata value flag"},
        {"k", 1, "\xff", "invalid metadata key or value (empty key, or not UTF-8)"},
        {"\xed\xa0\x80", 1, "v", "invalid metadata key or value (empty key, or not UTF-8)"},
        {"", 1, "v", "invalid metadata key or value (empty key, or not UTF-8)"},
        {NULL, 1, "v", "truncated or oversized metadata entry"}, /* key of 257 bytes */
    };
    char longkey[SWIM_META_MAX_KEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_header(&w, SWIM_MSG_PING, "tcp://x:1");
        put_uv(&w, 0);
        put_uv(&w, 1);
        put_vstr(&w, bad[i].key ? bad[i].key : longkey);
        frt_put_u8(&w, bad[i].flag);
        if (bad[i].flag) put_vstr(&w, bad[i].value);
        put_uv(&w, 1);
        put_addr(&w, "tcp://o:1");
        put_uv(&w, 1);
        why = NULL;
        CHECK(!swim__decode(w.data, w.len, 0, &x, &why));
        CHECK_EQ_STR(why, bad[i].want);
        frt_wbuf_free(&w);
    }
    /* a value of exactly SWIM_META_MAX_VALUE bytes is fine, one more is not */
    char* val = malloc(SWIM_META_MAX_VALUE + 2);
    REQUIRE(val);
    for (int extra = 0; extra <= 1; extra++) {
        memset(val, 'v', SWIM_META_MAX_VALUE + (size_t)extra);
        val[SWIM_META_MAX_VALUE + (size_t)extra] = 0;
        put_header(&w, SWIM_MSG_PING, "tcp://x:1");
        put_uv(&w, 0);
        put_uv(&w, 1);
        put_vstr(&w, "k");
        frt_put_u8(&w, 1);
        put_vstr(&w, val);
        put_uv(&w, 1);
        put_addr(&w, "tcp://o:1");
        put_uv(&w, 1);
        bool ok = swim__decode(w.data, w.len, 0, &x, &why);
        CHECK(ok == (extra == 0));
        if (ok) swim__msg_clear(&x);
        frt_wbuf_free(&w);
    }
    free(val);
    /* pseudo-random garbage never crashes */
    uint64_t s = 12345;
    uint8_t  buf[256];
    for (int it = 0; it < 20000; it++) {
        size_t n = (size_t)(it % 256);
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (uint8_t)s;
        }
        if (n > 0) buf[0] = (uint8_t)(1 + it % 6);
        if (n > 1 && it % 2) buf[1] = (uint8_t)((buf[1] & 0x07) | 0x04); /* this form */
        if (swim__decode(buf, n, 0, &x, &why)) swim__msg_clear(&x);
    }
}

/* the compact form: a settled ping is small; the sender's address can be
 * left to the transport; repeated addresses are written once */
static void test_compact(void)
{
    swim__msg m, d;
    memset(&m, 0, sizeof m);
    m.kind               = SWIM_MSG_PING;
    m.group_id           = 0x1122334455667788ULL;
    m.sender_addr        = strdup("tcp://127.0.0.1:45391");
    m.sender_pid         = 7;
    m.sender_inc         = 1764979200123ULL; /* a clock incarnation */
    m.sender_view_size   = 128;
    m.sender_view_digest = 0xcafef00du;
    m.sender_is_source   = true;
    frt_wbuf w = FRT_WBUF_INIT;
    REQUIRE(swim__encode(&m, &w));
    printf("settled ping: %zu bytes\n", w.len);
    CHECK(w.len <= 28);
    const char* why = NULL;
    REQUIRE(swim__decode(w.data, w.len, 0, &d, &why));
    CHECK(d.sender_addr == NULL && d.sender_is_source);
    CHECK(d.sender_inc == m.sender_inc && d.sender_pid == 7 && d.sender_view_size == 128);
    swim__msg_clear(&d);
    frt_wbuf_free(&w);
    /* a state of 64 members living in 4 processes: each address once */
    m.kind           = SWIM_MSG_ANNOUNCE_ACK;
    m.nstate         = 64;
    m.state          = calloc(64, sizeof *m.state);
    char a[4][32];
    for (int i = 0; i < 4; i++) snprintf(a[i], sizeof a[i], "tcp://10.0.0.%d:4000", i + 1);
    for (int i = 0; i < 64; i++) m.state[i] = mk_in(&m, SWIM_E_ALIVE, a[i % 4], (uint16_t)(1 + i / 4), 1);
    REQUIRE(swim__encode(&m, &w));
    printf("state of 64 members in 4 processes: %zu bytes\n", w.len);
    CHECK(w.len < 64 * 6 + 4 * 20 + 40);
    REQUIRE(swim__decode(w.data, w.len, 0, &d, &why));
    check_same_list(m.state, m.nstate, d.state, d.nstate);
    swim__msg_clear(&d);
    frt_wbuf_free(&w);
    swim__msg_clear(&m);
    /* 64 members in 64 processes of one host, started within a second: a
     * new address shares its prefix with the one before, an incarnation is
     * a small difference from the one before */
    memset(&m, 0, sizeof m);
    m.kind       = SWIM_MSG_ACK;
    m.sender_inc = 1764979200123ULL;
    m.ngossip    = 64;
    m.gossip     = calloc(64, sizeof *m.gossip);
    REQUIRE(m.gossip);
    size_t plain = 0;
    for (int i = 0; i < 64; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "tcp://127.0.0.1:%d", 40000 + 17 * i);
        m.gossip[i] = mk_in(&m, SWIM_E_ALIVE, addr, 1, m.sender_inc + (uint64_t)(i * 37 % 900));
        plain += 1 + 1 + strlen(addr) + 1 + 6; /* type, tag, address, pid, incarnation */
    }
    m.gossip[5].inc  = 0; /* any value round-trips */
    m.gossip[6].inc  = UINT64_MAX;
    m.gossip[7].inc  = 1;
    REQUIRE(swim__encode(&m, &w));
    printf("gossip of 64 joins on one host: %zu bytes (%zu with whole addresses and "
           "incarnations)\n", w.len, plain);
    CHECK(w.len < plain / 2);
    REQUIRE(swim__decode(w.data, w.len, 0, &d, &why));
    check_same_list(m.gossip, m.ngossip, d.gossip, d.ngossip);
    swim__msg_clear(&d);
    frt_wbuf_free(&w);
    swim__msg_clear(&m);
}

/* the bucketed push-pull's sections: a DIFF's digests and its ACK's bitmap
 * round-trip; every truncation fails */
static void roundtrip_buckets(uint8_t kind, uint32_t nb, const uint32_t* v, size_t words)
{
    swim__msg m, d;
    fill(&m, kind);
    if (kind == SWIM_MSG_ANNOUNCE) m.ann_type = SWIM_ANN_DIFF;
    m.nbuckets = nb;
    m.buckets  = calloc(words, sizeof *m.buckets);
    REQUIRE(m.buckets);
    memcpy(m.buckets, v, words * sizeof *v);
    frt_wbuf    w   = FRT_WBUF_INIT;
    const char* why = NULL;
    REQUIRE(swim__encode(&m, &w));
    REQUIRE(swim__decode(w.data, w.len, kind, &d, &why));
    CHECK_EQ_INT(d.nbuckets, nb);
    for (size_t i = 0; i < words && d.buckets; i++) CHECK(d.buckets[i] == v[i]);
    CHECK_EQ_INT(d.nstate, 2);
    CHECK_EQ_INT(d.ngossip, 3);
    swim__msg x;
    for (size_t cut = 0; cut < w.len; cut++)
        if (swim__decode(w.data, cut, 0, &x, &why)) FT_FAIL("buckets: cut %zu decoded", cut);
    frt_wbuf_free(&w);
    swim__msg_clear(&m);
    swim__msg_clear(&d);
}

/* a hand-built ANNOUNCE of type `type` (flags as given), or an
 * ANNOUNCE_ACK, followed by a bucket section of nb and `nbytes` bytes */
static void put_bucketed(frt_wbuf* w, uint8_t kind, uint8_t type, uint8_t flags, uint64_t nb,
                         size_t nbytes, uint8_t byte)
{
    put_header_flags(w, kind, "tcp://x:1", flags);
    if (kind == SWIM_MSG_ANNOUNCE) {
        frt_put_u8(w, type);
        put_addr(w, "tcp://x:1");
        put_uv(w, 1);
        put_uv(w, 1);
    }
    put_uv(w, 0); /* state */
    if (flags & 0x02) {
        put_uv(w, nb);
        for (size_t i = 0; i < nbytes; i++) frt_put_u8(w, byte);
    }
    put_uv(w, 0); /* gossip */
    put_uv(w, 0); /* metadata */
}

static void test_buckets(void)
{
    uint32_t digests[128];
    for (uint32_t i = 0; i < 128; i++) digests[i] = 0x9e3779b9u * (i + 1);
    roundtrip_buckets(SWIM_MSG_ANNOUNCE, 128, digests, 128);
    roundtrip_buckets(SWIM_MSG_ANNOUNCE, 1, digests, 1);
    uint32_t map[5] = {0x21u, 0, 0, 0x80000000u, 0x1u}; /* buckets 0, 5, 127; the metadata */
    roundtrip_buckets(SWIM_MSG_ANNOUNCE_ACK, 128, map, 5);
    uint32_t small[1] = {0x1ffu}; /* 8 buckets, all differ, and the metadata */
    roundtrip_buckets(SWIM_MSG_ANNOUNCE_ACK, 8, small, 1);

    struct {
        uint8_t     kind, type, flags;
        uint64_t    nb;
        size_t      nbytes;
        uint8_t     byte;
        const char* want;
    } bad[] = {
        {SWIM_MSG_ANNOUNCE, SWIM_ANN_DIFF, 0, 0, 0, 0,
         "bucketed push-pull without bucket digests"},
        {SWIM_MSG_ANNOUNCE, SWIM_ANN_SYNC, 2, 4, 16, 0, "bucket section on a message that has none"},
        {SWIM_MSG_ANNOUNCE, SWIM_ANN_DIFF, 2, 3, 12, 0,
         "bucket count not a power of two within 1..256"},
        {SWIM_MSG_ANNOUNCE, SWIM_ANN_DIFF, 2, 512, 2048, 0,
         "bucket count not a power of two within 1..256"},
        {SWIM_MSG_ANNOUNCE, SWIM_ANN_DIFF, 2, 0, 0, 0,
         "bucket count not a power of two within 1..256"},
        {SWIM_MSG_ANNOUNCE, SWIM_ANN_DIFF, 2, 64, 250, 0, "truncated bucket section"},
        {SWIM_MSG_ANNOUNCE_ACK, 0, 2, 8, 2, 0xff, "bucket bitmap names a bucket beyond its count"},
        {SWIM_MSG_ANNOUNCE_ACK, 0, 2, 256, 30, 0, "truncated bucket section"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frt_wbuf    w   = FRT_WBUF_INIT;
        const char* why = NULL;
        swim__msg   x;
        put_bucketed(&w, bad[i].kind, bad[i].type, bad[i].flags, bad[i].nb, bad[i].nbytes,
                     bad[i].byte);
        CHECK(!swim__decode(w.data, w.len, 0, &x, &why));
        if (!why || strcmp(why, bad[i].want) != 0)
            FT_FAIL("bucket case %zu: got \"%s\", want \"%s\"", i, why ? why : "(none)",
                    bad[i].want);
        frt_wbuf_free(&w);
    }
    /* a bucket section on a PING */
    frt_wbuf    w   = FRT_WBUF_INIT;
    const char* why = NULL;
    swim__msg   x;
    put_header_flags(&w, SWIM_MSG_PING, "tcp://x:1", 0x02);
    put_uv(&w, 1);
    frt_put_u8(&w, 0);
    put_uv(&w, 0);
    put_uv(&w, 0);
    expect_refused(&w, "bucket section on a message that has none");
    /* the same hand-built section, valid: decodes */
    put_bucketed(&w, SWIM_MSG_ANNOUNCE_ACK, 0, 0x02, 8, 2, 0x01);
    CHECK(swim__decode(w.data, w.len, 0, &x, &why));
    CHECK_EQ_INT(x.nbuckets, 8);
    swim__msg_clear(&x);
    frt_wbuf_free(&w);
}

int main(void)
{
    test_roundtrip();
    test_buckets();
    test_compact();
    test_hostile();
    return FT_DONE();
}
