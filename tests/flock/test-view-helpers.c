/*
 * test-view-helpers.c -- the static-inline view helpers and the digest
 * (FLOCK-SPEC 5.1-5.3), including the spec's test vectors. Needs no
 * runtime library.
 */
#include "flock-test.h"
#include <flock/flock-group-view.h>

static int extra_freed = 0;
static void count_free(void* p)
{
    extra_freed++;
    free(p);
}

static void test_hash_vectors(void)
{
    CHECK(flock_djb2_hash("") == 5381u);
    CHECK(flock_djb2_hash("a") == 177670u);
    CHECK(flock_hash_member(42, "na+sm://1234-0") == 0xbddc146861cdb3c8ull);
    CHECK(flock_hash_member(1, "x") == 0x000000000b88b17eull);
    CHECK(flock_hash_member(200, "x") == 0x000000000b88aa25ull);
    CHECK(flock_hash_member(256, "x") == 0x000000000b88b15eull);
    CHECK(flock_hash_metadata("matthieu", "dorier") == 0x001ad5dc9c4edeb6ull);
    CHECK(flock_hash_metadata("__type__", "static") == 0x001ad4273434aaabull);
    CHECK(flock_hash_metadata("__config__", "{}") == 0x726f9549b70e375full);
    /* signed chars: a byte >= 0x80 contributes a negative value */
    CHECK(flock_djb2_hash("\xc8") == (uint64_t)5381 * 33 - 56);

    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_add_member(&v, "na+sm://1234-0", 1));
    REQUIRE(flock_group_view_add_member(&v, "na+sm://1234-0", 2));
    REQUIRE(flock_group_view_add_metadata(&v, "k", "v"));
    CHECK(flock_group_view_digest(&v) == 0x0000000000170617ull);
    flock_group_view_clear(&v);
    CHECK(v.digest == 0);
}

static void test_members(void)
{
    flock_group_view_t v;
    memset(&v, 0, sizeof v); /* zero-filled view is valid (mutex: test-view-json) */
    CHECK(flock_group_view_member_count(&v) == 0);
    CHECK(flock_group_view_member_at(&v, 0) == NULL);
    CHECK(flock_group_view_find_member(&v, "a", 1) == NULL);
    CHECK(flock_group_view_members_binary_search(&v, "a", 1) == -1);
    CHECK(!flock_group_view_remove_member(&v, NULL));

    /* same address, pids inserted in reverse: order must be 1..5 */
    for (int p = 5; p >= 1; p--) REQUIRE(flock_group_view_add_member(&v, "addr", (uint16_t)p));
    CHECK(v.members.capacity == 8);
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_INT(flock_group_view_member_at(&v, i)->provider_id, i + 1);
    REQUIRE(flock_group_view_add_member(&v, "aaa", 9));
    REQUIRE(flock_group_view_add_member(&v, "zzz", 0));
    CHECK_EQ_STR(v.members.data[0].address, "aaa");
    CHECK_EQ_STR(v.members.data[6].address, "zzz");
    CHECK_EQ_INT(flock_group_view_members_binary_search(&v, "addr", 3), 3);
    CHECK_EQ_INT(flock_group_view_members_binary_search(&v, "addr", 7), -1);
    CHECK_EQ_INT(flock_group_view_members_binary_search(&v, NULL, 7), -1);
    uint64_t expect = 0;
    for (int p = 1; p <= 5; p++) expect ^= flock_hash_member((uint16_t)p, "addr");
    expect ^= flock_hash_member(9, "aaa") ^ flock_hash_member(0, "zzz");
    CHECK(v.digest == expect);

    flock_member_t* m = flock_group_view_find_member(&v, "addr", 2);
    REQUIRE(m);
    m->extra.data = malloc(4);
    m->extra.free = count_free;
    /* invalid pointers are refused, digest untouched */
    CHECK(!flock_group_view_remove_member(&v, (flock_member_t*)0x4));
    CHECK(!flock_group_view_remove_member(&v, (flock_member_t*)((char*)m + 1)));
    CHECK(!flock_group_view_remove_member(&v, v.members.data + v.members.size));
    CHECK(v.digest == expect);
    CHECK(flock_group_view_remove_member(&v, m));
    CHECK_EQ_INT(extra_freed, 1);
    CHECK(v.digest == (expect ^ flock_hash_member(2, "addr")));
    CHECK(flock_group_view_find_member(&v, "addr", 2) == NULL);
    CHECK_EQ_INT(flock_group_view_member_count(&v), 6);

    /* duplicates are kept and cancel out in the digest */
    uint64_t d = v.digest;
    REQUIRE(flock_group_view_add_member(&v, "dup", 1));
    REQUIRE(flock_group_view_add_member(&v, "dup", 1));
    CHECK(v.digest == d);
    CHECK_EQ_INT(flock_group_view_member_count(&v), 8);
    CHECK(flock_group_view_add_member(&v, NULL, 1) == NULL);

    /* clear_extra */
    m             = flock_group_view_member_at(&v, 0);
    m->extra.data = malloc(4);
    m->extra.free = count_free;
    flock_group_view_clear_extra(&v);
    CHECK_EQ_INT(extra_freed, 2);
    CHECK(m->extra.data == NULL && m->extra.free == NULL);

    /* clear runs extra.free too */
    m             = flock_group_view_member_at(&v, 1);
    m->extra.data = malloc(4);
    m->extra.free = count_free;
    flock_group_view_clear(&v);
    CHECK_EQ_INT(extra_freed, 3);
    CHECK(v.members.data == NULL && v.members.size == 0 && v.members.capacity == 0);
    CHECK(v.digest == 0);
}

static void test_member_cmp(void)
{
    flock_member_t a = {(char*)"b", 1, {NULL, NULL}};
    flock_member_t b = {(char*)"a", 2, {NULL, NULL}};
    CHECK(flock_member_cmp(&a, &b) > 0); /* address first */
    flock_member_t c = {(char*)"b", 2, {NULL, NULL}};
    CHECK(flock_member_cmp(&a, &c) == -1);
    CHECK(flock_member_cmp(&c, &a) == 1);
    CHECK(flock_member_cmp(&a, &a) == 0);
}

static void test_metadata(void)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK(flock_group_view_find_metadata(&v, "x") == NULL);
    CHECK(!flock_group_view_remove_metadata(&v, "x"));
    CHECK(flock_group_view_metadata_at(&v, 0) == NULL);
    REQUIRE(flock_group_view_add_metadata(&v, "m", "1"));
    REQUIRE(flock_group_view_add_metadata(&v, "a", "2"));
    REQUIRE(flock_group_view_add_metadata(&v, "z", "3"));
    CHECK_EQ_INT(flock_group_view_metadata_count(&v), 3);
    CHECK_EQ_STR(flock_group_view_metadata_at(&v, 0)->key, "a");
    CHECK_EQ_STR(flock_group_view_metadata_at(&v, 2)->key, "z");
    uint64_t d = v.digest;
    CHECK(d == (flock_hash_metadata("m", "1") ^ flock_hash_metadata("a", "2")
                ^ flock_hash_metadata("z", "3")));
    /* replace keeps keys unique and fixes the digest */
    flock_metadata_t* md = flock_group_view_add_metadata(&v, "m", "changed");
    REQUIRE(md);
    CHECK_EQ_STR(md->value, "changed");
    CHECK_EQ_INT(flock_group_view_metadata_count(&v), 3);
    CHECK(v.digest == (d ^ flock_hash_metadata("m", "1") ^ flock_hash_metadata("m", "changed")));
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "m"), "changed");
    CHECK_EQ_INT(flock_group_view_metadata_binary_search(&v, "z"), 2);
    CHECK_EQ_INT(flock_group_view_metadata_binary_search(&v, "q"), -1);
    CHECK(flock_group_view_add_metadata(&v, NULL, "x") == NULL);
    CHECK(flock_group_view_add_metadata(&v, "x", NULL) == NULL);
    d = v.digest;
    CHECK(!flock_group_view_remove_metadata(&v, "absent"));
    CHECK(v.digest == d);
    CHECK(flock_group_view_remove_metadata(&v, "a"));
    CHECK(v.digest == (d ^ flock_hash_metadata("a", "2")));
    CHECK(flock_group_view_find_metadata(&v, "a") == NULL);
    CHECK(flock_group_view_remove_metadata(&v, "m"));
    CHECK(flock_group_view_remove_metadata(&v, "z"));
    CHECK(v.digest == 0);
    flock_group_view_clear(&v);
}

static void test_copy_move(void)
{
    flock_group_view_t src = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_view_t dst = FLOCK_GROUP_VIEW_INITIALIZER;
    char               addr[32];
    for (int i = 0; i < 100; i++) {
        snprintf(addr, sizeof addr, "tcp://h%03d:1", (i * 37) % 100);
        REQUIRE(flock_group_view_add_member(&src, addr, (uint16_t)i));
    }
    REQUIRE(flock_group_view_add_metadata(&src, "k", "v"));
    for (size_t i = 1; i < src.members.size; i++)
        CHECK(flock_member_cmp(&src.members.data[i - 1], &src.members.data[i]) < 0);
    src.members.data[3].extra.data = malloc(1);
    src.members.data[3].extra.free = count_free;
    REQUIRE(flock_group_view_copy(&src, &dst));
    CHECK(dst.digest == src.digest);
    CHECK(dst.members.size == 100 && dst.metadata.size == 1);
    CHECK(dst.members.capacity >= dst.members.size);
    CHECK(dst.members.data[3].extra.data == NULL);
    CHECK(dst.members.data[3].address != src.members.data[3].address);
    CHECK_EQ_STR(dst.members.data[3].address, src.members.data[3].address);
    /* adding to the copy works (capacity is real) */
    REQUIRE(flock_group_view_add_member(&dst, "tcp://zz:1", 1));

    flock_group_view_t moved  = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_member_t*    data   = src.members.data;
    uint64_t           cap    = src.members.capacity;
    uint64_t           digest = src.digest;
    FLOCK_GROUP_VIEW_MOVE(&src, &moved);
    CHECK(moved.members.data == data && moved.members.capacity == cap);
    CHECK(moved.digest == digest);
    CHECK(src.members.data == NULL && src.members.size == 0 && src.digest == 0);
    CHECK(src.metadata.data == NULL && src.metadata.size == 0);
    flock_group_view_clear(&src);
    flock_group_view_clear(&moved);
    flock_group_view_clear(&dst);
    CHECK_EQ_INT(extra_freed, 4);
}

int main(void)
{
    test_hash_vectors();
    test_members();
    test_member_cmp();
    test_metadata();
    test_copy_move();
    return FT_DONE();
}
