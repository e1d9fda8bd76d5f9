/*
 * test-group-id.c -- group identity helpers (backend-util.h): parsing and
 * formatting ids, reading one from a view's __config__, and the ids of new
 * groups (random for a group of one; the same at every member of a
 * multi-member founding view; different for other member sets or types).
 */
#include "flock-test.h"
#include <flock/flock-group-view.h>
#include "flock/backend-util.h"

static void test_parse_format(void)
{
    static const struct { const char* text; bool ok; uint64_t id; } cases[] = {
        {"0123456789abcdef", true, 0x0123456789abcdefULL},
        {"0123456789ABCDEF", true, 0x0123456789abcdefULL},
        {"1", true, 1},
        {"ffffffffffffffff", true, UINT64_MAX},
        {"", false, 0},
        {"0", false, 0},                   /* 0 means unknown */
        {"0000000000000000", false, 0},
        {"1ffffffffffffffff", false, 0},   /* 17 digits */
        {"12g4", false, 0},
        {"-1", false, 0},
        {" 12", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t id = 0;
        CHECK_EQ_INT(flock__group_id_parse(cases[i].text, &id), cases[i].ok);
        if (cases[i].ok) CHECK(id == cases[i].id);
    }
    CHECK(!flock__group_id_parse(NULL, NULL));
    char out[17];
    flock__group_id_format(0xabcULL, out);
    CHECK_EQ_STR(out, "0000000000000abc");
    uint64_t back = 0;
    CHECK(flock__group_id_parse(out, &back) && back == 0xabc);
}

static void test_view_group_id(void)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK(flock__view_group_id(&v) == 0);
    REQUIRE(flock_group_view_add_metadata(&v, "__config__", "{\"group_id\":\"00000000000000ff\"}"));
    CHECK(flock__view_group_id(&v) == 0xff);
    REQUIRE(flock_group_view_add_metadata(&v, "__config__", "{\"group_id\":42}"));
    CHECK(flock__view_group_id(&v) == 0);
    REQUIRE(flock_group_view_add_metadata(&v, "__config__", "not json"));
    CHECK(flock__view_group_id(&v) == 0);
    flock_group_view_clear(&v);
}

static void test_new_ids(void)
{
    flock_group_view_t one = FLOCK_GROUP_VIEW_INITIALIZER, a = FLOCK_GROUP_VIEW_INITIALIZER,
                       b = FLOCK_GROUP_VIEW_INITIALIZER, c = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_add_member(&one, "na+sm://1-0", 1));
    uint64_t r1 = flock__group_id_new(&one, "swim"), r2 = flock__group_id_new(&one, "swim");
    CHECK(r1 != 0 && r2 != 0 && r1 != r2); /* a group of one: random */
    /* the same member set, added in another order: the same id */
    REQUIRE(flock_group_view_add_member(&a, "na+sm://1-0", 1));
    REQUIRE(flock_group_view_add_member(&a, "na+sm://2-0", 1));
    REQUIRE(flock_group_view_add_member(&b, "na+sm://2-0", 1));
    REQUIRE(flock_group_view_add_member(&b, "na+sm://1-0", 1));
    CHECK(flock__group_id_new(&a, "centralized") == flock__group_id_new(&b, "centralized"));
    CHECK(flock__group_id_new(&a, "centralized") != flock__group_id_new(&a, "swim"));
    REQUIRE(flock_group_view_add_member(&c, "na+sm://1-0", 1));
    REQUIRE(flock_group_view_add_member(&c, "na+sm://2-0", 2));
    CHECK(flock__group_id_new(&a, "swim") != flock__group_id_new(&c, "swim"));
    CHECK(flock__group_id_new(&c, "swim") != 0);
    flock_group_view_clear(&one);
    flock_group_view_clear(&a);
    flock_group_view_clear(&b);
    flock_group_view_clear(&c);
}

int main(void)
{
    test_parse_format();
    test_view_group_id();
    test_new_ids();
    return FT_DONE();
}
