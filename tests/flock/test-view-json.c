/*
 * test-view-json.c -- JSON view text and files (FLOCK-SPEC 5.4/5.5):
 * exact output, full validation before the output is touched, error codes,
 * atomic writes. Also: a zero-filled view's mutex works.
 */
#include "flock-test.h"
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <flock/flock-group-view.h>
#include <flock/flock-bootstrap.h>
#include "flock/view-file.h"

typedef struct {
    char*  text;
    size_t len;
    int    calls;
} sink;

static void collect(void* ctx, const char* data, size_t len)
{
    sink* s = (sink*)ctx;
    s->calls++;
    s->text = (char*)malloc(len + 1);
    memcpy(s->text, data, len);
    s->text[len] = 0;
    s->len       = len;
}

static char* serialize(const flock_group_view_t* v)
{
    sink s = {NULL, 0, 0};
    CHECK_EQ_INT(flock_group_view_serialize(v, collect, &s), FLOCK_SUCCESS);
    CHECK_EQ_INT(s.calls, 1);
    return s.text;
}

static void test_serialize_exact(void)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_add_member(&v, "na+sm://27843-0", 42));
    REQUIRE(flock_group_view_add_member(&v, "na+sm://27842-0", 42));
    REQUIRE(flock_group_view_add_metadata(&v, "__type__", "static"));
    REQUIRE(flock_group_view_add_metadata(&v, "__config__", "{}"));
    char* t = serialize(&v);
    CHECK_EQ_STR(t, "{\"members\":[{\"address\":\"na+sm://27842-0\",\"provider_id\":42},"
                    "{\"address\":\"na+sm://27843-0\",\"provider_id\":42}],\"metadata\":"
                    "{\"__config__\":\"{}\",\"__type__\":\"static\"}}");
    /* round trip keeps the digest */
    flock_group_view_t back = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_view_from_string(t, strlen(t), &back), FLOCK_SUCCESS);
    CHECK(back.digest == v.digest);
    CHECK_EQ_INT(back.members.size, 2);
    flock_group_view_clear(&back);
    free(t);

    /* empty metadata is still emitted; quotes/backslashes escaped */
    flock_group_view_clear(&v);
    REQUIRE(flock_group_view_add_member(&v, "tcp://1.2.3.4:5", 0));
    t = serialize(&v);
    CHECK_EQ_STR(t, "{\"members\":[{\"address\":\"tcp://1.2.3.4:5\",\"provider_id\":0}],"
                    "\"metadata\":{}}");
    free(t);
    REQUIRE(flock_group_view_add_metadata(&v, "q\"k", "a\\b/c"));
    t = serialize(&v);
    CHECK(strstr(t, "\"q\\\"k\":\"a\\\\b/c\"") != NULL);
    CHECK_EQ_INT(flock_group_view_from_string(t, strlen(t), &back), FLOCK_SUCCESS);
    CHECK_EQ_STR(flock_group_view_find_metadata(&back, "q\"k"), "a\\b/c");
    CHECK(back.digest == v.digest);
    flock_group_view_clear(&back);
    free(t);

    CHECK_EQ_INT(flock_group_view_serialize(NULL, collect, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_serialize(&v, NULL, NULL), FLOCK_ERR_INVALID_ARGS);
    flock_group_view_clear(&v);
}

static void test_parse_ok(void)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    /* absent metadata = empty map (upstream crashed) */
    const char* t = "{\"members\":[{\"address\":\"b\",\"provider_id\":2},"
                    "{\"address\":\"a\",\"provider_id\":65535}]}";
    CHECK_EQ_INT(flock_group_view_from_string(t, strlen(t), &v), FLOCK_SUCCESS);
    CHECK_EQ_INT(v.members.size, 2);
    CHECK_EQ_STR(v.members.data[0].address, "a");
    CHECK_EQ_INT(v.members.data[0].provider_id, 65535);
    CHECK_EQ_INT(v.metadata.size, 0);
    CHECK(v.digest == (flock_hash_member(2, "b") ^ flock_hash_member(65535, "a")));

    /* non-string metadata values become their JSON text; extra keys ignored;
     * a length counting the NUL and trailing whitespace are accepted */
    t = "{\"extra\":1,\"members\":[{\"address\":\"x\",\"provider_id\":1,\"more\":true}],"
        "\"metadata\":{\"n\":42,\"o\":{\"a\":[1,2]},\"b\":true,\"s\":\"str\"}}\n";
    CHECK_EQ_INT(flock_group_view_from_string(t, strlen(t) + 1, &v), FLOCK_SUCCESS);
    CHECK_EQ_INT(v.members.size, 1); /* previous content replaced */
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "n"), "42");
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "o"), "{\"a\":[1,2]}");
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "b"), "true");
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "s"), "str");
    /* not NUL-terminated input: only len bytes are read */
    char buf[64];
    const char* small = "{\"members\":[{\"address\":\"y\",\"provider_id\":3}]}";
    memcpy(buf, small, strlen(small));
    memset(buf + strlen(small), 'Z', sizeof buf - strlen(small));
    CHECK_EQ_INT(flock_group_view_from_string(buf, strlen(small), &v), FLOCK_SUCCESS);
    CHECK_EQ_STR(v.members.data[0].address, "y");
    flock_group_view_clear(&v);
}

static void test_parse_bad(void)
{
    static const struct {
        const char* text;
        int         expect;
    } cases[] = {
        {"", FLOCK_ERR_INVALID_CONFIG},
        {"   ", FLOCK_ERR_INVALID_CONFIG},
        {"{", FLOCK_ERR_INVALID_CONFIG},
        {"not json", FLOCK_ERR_INVALID_CONFIG},
        {"[]", FLOCK_ERR_INVALID_CONFIG},
        {"42", FLOCK_ERR_INVALID_CONFIG},
        {"null", FLOCK_ERR_INVALID_CONFIG},
        {"{}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":{}}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":null}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[1]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[null]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"provider_id\":1}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":1,\"provider_id\":1}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"\",\"provider_id\":1}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\"}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":\"1\"}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1.0}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":-1}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":65536}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":99999999999999999999}]}",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":null}]}", FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1},{\"address\":\"a\",\"provider_id\":1}]}",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1}],\"metadata\":[]}",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1}],\"metadata\":null}",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1}],\"metadata\":\"x\"}",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1}],\"metadata\":{\"k\":null}}",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1}],\"metadata\":{\"\":\"v\"}}",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1}]} trailing",
         FLOCK_ERR_INVALID_CONFIG},
        {"{\"members\":[{\"address\":\"a\",\"provider_id\":1}]}{}", FLOCK_ERR_INVALID_CONFIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
        REQUIRE(flock_group_view_add_member(&v, "keep", 7));
        REQUIRE(flock_group_view_add_metadata(&v, "keep", "me"));
        uint64_t d = v.digest;
        int      r = flock_group_view_from_string(cases[i].text, strlen(cases[i].text), &v);
        if (r != cases[i].expect) FT_FAIL("case %zu (%s): got %d", i, cases[i].text, r);
        /* the output is untouched on error */
        CHECK(v.digest == d && v.members.size == 1 && v.metadata.size == 1);
        CHECK_EQ_STR(v.members.data[0].address, "keep");
        flock_group_view_clear(&v);
    }
    /* long address (> 127) */
    char big[300];
    char addr[200];
    memset(addr, 'a', 150);
    addr[150] = 0;
    snprintf(big, sizeof big, "{\"members\":[{\"address\":\"%s\",\"provider_id\":1}]}", addr);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_view_from_string(big, strlen(big), &v), FLOCK_ERR_INVALID_CONFIG);
    /* embedded NUL inside the given length */
    const char nul[] = "{\"members\":[{\"address\":\"a\",\"provider_id\":1}]}\0{}";
    CHECK_EQ_INT(flock_group_view_from_string(nul, sizeof nul - 1, &v),
                 FLOCK_ERR_INVALID_CONFIG);
    CHECK_EQ_INT(flock_group_view_from_string(NULL, 3, &v), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_from_string("{}", 2, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK(v.members.size == 0);
}

static int count_entries(const char* dir)
{
    int            n = 0;
    DIR*           d = opendir(dir);
    struct dirent* e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void test_files(void)
{
    char dir[600], path[700], bad[700];
    snprintf(dir, sizeof dir, "%s/files", ft_tmpdir());
    REQUIRE(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/group.flock", dir);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER, back = FLOCK_GROUP_VIEW_INITIALIZER;
    for (int i = 0; i < 50; i++) {
        char a[32];
        snprintf(a, sizeof a, "na+sm://%d-0", 1000 + i);
        REQUIRE(flock_group_view_add_member(&v, a, (uint16_t)i));
    }
    REQUIRE(flock_group_view_add_metadata(&v, "k", "v"));
    CHECK_EQ_INT(flock_group_view_serialize_to_file(&v, path), FLOCK_SUCCESS);
    CHECK_EQ_INT(count_entries(dir), 1); /* no temporary left behind */
    CHECK_EQ_INT(flock_group_view_from_file(path, &back), FLOCK_SUCCESS);
    CHECK(back.digest == v.digest && back.members.size == 50);
    /* init_from_file is from_file */
    flock_group_view_clear(&back);
    CHECK_EQ_INT(flock_group_view_init_from_file(path, &back), FLOCK_SUCCESS);
    CHECK(back.digest == v.digest);
    /* overwrite: replaced atomically, content is the new view */
    REQUIRE(flock_group_view_add_member(&v, "na+sm://9-0", 9));
    CHECK_EQ_INT(flock_group_view_serialize_to_file(&v, path), FLOCK_SUCCESS);
    flock_group_view_clear(&back);
    CHECK_EQ_INT(flock_group_view_from_file(path, &back), FLOCK_SUCCESS);
    CHECK(back.digest == v.digest);
    CHECK_EQ_INT(count_entries(dir), 1);
    /* temporaries of writers that died before their rename are removed by
     * the next write on the same host; a live writer's, another host's and
     * foreign names are kept */
    {
        char host[128] = "";
        if (gethostname(host, sizeof host) != 0 || !host[0]) snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = 0;
        pid_t dead = fork();
        REQUIRE(dead >= 0);
        if (dead == 0) _exit(0);
        REQUIRE(waitpid(dead, NULL, 0) == dead);
        char stale[900], live[900], other[900], foreign[900];
        snprintf(stale, sizeof stale, "%s.swp.%s.%ld.abcdef", path, host, (long)dead);
        snprintf(live, sizeof live, "%s.swp.%s.%ld.abcdef", path, host, (long)getppid());
        snprintf(other, sizeof other, "%s.swp.elsewhere-%s.%ld.abcdef", path, host, (long)dead);
        snprintf(foreign, sizeof foreign, "%s.swp.%s.%ld.notours!", path, host, (long)dead);
        const char* all[] = {stale, live, other, foreign};
        for (int i = 0; i < 4; i++) {
            FILE* tf = fopen(all[i], "w");
            REQUIRE(tf);
            fputs("partial", tf);
            fclose(tf);
        }
        CHECK_EQ_INT(count_entries(dir), 5);
        CHECK_EQ_INT(flock_group_view_serialize_to_file(&v, path), FLOCK_SUCCESS);
        CHECK(access(stale, F_OK) != 0);
        CHECK(access(live, F_OK) == 0);
        CHECK(access(other, F_OK) == 0);
        CHECK(access(foreign, F_OK) == 0);
        CHECK_EQ_INT(count_entries(dir), 4);
        for (int i = 1; i < 4; i++) unlink(all[i]);
    }
    /* file content is exactly the serialized text */
    char* t = serialize(&v);
    FILE* f = fopen(path, "r");
    REQUIRE(f);
    char* content = (char*)calloc(1, strlen(t) + 16);
    size_t n      = fread(content, 1, strlen(t) + 15, f);
    fclose(f);
    CHECK_EQ_INT(n, strlen(t));
    CHECK_EQ_STR(content, t);
    free(content);
    free(t);

    /* errors */
    snprintf(bad, sizeof bad, "%s/missing/dir/file", dir);
    CHECK_EQ_INT(flock_group_view_serialize_to_file(&v, bad), FLOCK_ERR_ALLOCATION);
    CHECK_EQ_INT(flock_group_view_serialize_to_file(NULL, path), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_serialize_to_file(&v, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_from_file(bad, &back), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_init_from_file(bad, &back), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_from_file(dir, &back), FLOCK_ERR_INVALID_ARGS); /* a dir */
    CHECK_EQ_INT(flock_group_view_from_file(NULL, &back), FLOCK_ERR_INVALID_ARGS);
    snprintf(bad, sizeof bad, "%s/garbage", dir);
    f = fopen(bad, "w");
    REQUIRE(f);
    fputs("{\"members\":[{\"address\":\"a\",\"provider_id\":1}],\"metadata\":{\"x\":null}}", f);
    fclose(f);
    uint64_t d = back.digest;
    CHECK_EQ_INT(flock_group_view_from_file(bad, &back), FLOCK_ERR_INVALID_CONFIG);
    CHECK(back.digest == d);
    f = fopen(bad, "w");
    REQUIRE(f);
    fclose(f); /* empty file */
    CHECK_EQ_INT(flock_group_view_from_file(bad, &back), FLOCK_ERR_INVALID_CONFIG);
    flock_group_view_clear(&back);
    flock_group_view_clear(&v);
}

static void test_zero_mutex(void)
{
    flock_group_view_t* v = (flock_group_view_t*)calloc(1, sizeof(*v));
    FLOCK_GROUP_VIEW_LOCK(v);
    CHECK(ABT_mutex_trylock(ABT_MUTEX_MEMORY_GET_HANDLE(&v->mtx)) != 0);
    FLOCK_GROUP_VIEW_UNLOCK(v);
    CHECK(ABT_mutex_trylock(ABT_MUTEX_MEMORY_GET_HANDLE(&v->mtx)) == 0);
    FLOCK_GROUP_VIEW_UNLOCK(v);
    free(v);
}

/* Something that is not a regular file at the path is refused at once with
 * INVALID_ARGS (a FIFO with no writer used to block the reader forever). */
static void test_not_regular(void)
{
    char path[512];
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_add_member(&v, "na+sm://1-0", 1));
    snprintf(path, sizeof path, "%s/fifo.flock", ft_tmpdir());
    REQUIRE(mkfifo(path, 0600) == 0);
    CHECK_EQ_INT(flock_group_view_from_file(path, &v), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_init_from_file(path, &v), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(v.members.size, 1); /* untouched */
    snprintf(path, sizeof path, "%s/dir.flock", ft_tmpdir());
    REQUIRE(mkdir(path, 0700) == 0);
    CHECK_EQ_INT(flock_group_view_from_file(path, &v), FLOCK_ERR_INVALID_ARGS);
    snprintf(path, sizeof path, "%s/sock.flock", ft_tmpdir());
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    REQUIRE(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr*)&sa, sizeof sa) == 0);
    CHECK_EQ_INT(flock_group_view_from_file(path, &v), FLOCK_ERR_INVALID_ARGS);
    close(fd);
    CHECK_EQ_INT(flock_group_view_from_file("/dev/null", &v), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(v.members.size, 1);
    flock_group_view_clear(&v);
}

/* Members and metadata in any order load into the same sorted view (the
 * loader sorts once); duplicates are refused whatever their position. */
static void test_any_order(void)
{
    enum { N = 2000 };
    size_t cap = (size_t)N * 64 + 4096, len = 0;
    char* asc  = (char*)malloc(cap);
    char* desc = (char*)malloc(cap);
    REQUIRE(asc && desc);
    for (int pass = 0; pass < 2; pass++) {
        char* t = pass ? desc : asc;
        len     = (size_t)snprintf(t, cap, "{\"members\":[");
        for (int k = 0; k < N; k++) {
            int i = pass ? N - 1 - k : k;
            len += (size_t)snprintf(t + len, cap - len, "%s{\"address\":\"tcp://10.0.%d.%d:%d\","
                                    "\"provider_id\":%d}", k ? "," : "", i / 250, i % 250,
                                    1000 + i, i % 7);
        }
        len += (size_t)snprintf(t + len, cap - len, "],\"metadata\":{");
        for (int k = 0; k < 300; k++) {
            int i = pass ? 299 - k : k;
            len += (size_t)snprintf(t + len, cap - len, "%s\"key%04d\":\"v%d\"", k ? "," : "", i, i);
        }
        snprintf(t + len, cap - len, "}}");
    }
    flock_group_view_t a = FLOCK_GROUP_VIEW_INITIALIZER, d = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_view_from_string(asc, strlen(asc), &a), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_view_from_string(desc, strlen(desc), &d), FLOCK_SUCCESS);
    CHECK_EQ_INT(a.members.size, N);
    CHECK_EQ_INT(d.members.size, N);
    CHECK_EQ_INT(d.metadata.size, 300);
    CHECK(a.digest == d.digest);
    for (size_t i = 1; i < d.members.size; i++)
        CHECK(flock_member_cmp(&d.members.data[i - 1], &d.members.data[i]) < 0);
    for (size_t i = 1; i < d.metadata.size; i++)
        CHECK(strcmp(d.metadata.data[i - 1].key, d.metadata.data[i].key) < 0);
    CHECK(flock_group_view_find_member(&d, "tcp://10.0.3.17:1767", 767 % 7) != NULL);
    CHECK_EQ_STR(flock_group_view_find_metadata(&d, "key0123"), "v123");
    flock_group_view_clear(&a);
    /* a duplicate far from its twin (first and last) is found */
    const char* dup = "{\"members\":[{\"address\":\"na+sm://9-0\",\"provider_id\":3},"
                      "{\"address\":\"na+sm://1-0\",\"provider_id\":3},"
                      "{\"address\":\"na+sm://9-0\",\"provider_id\":3}]}";
    CHECK_EQ_INT(flock_group_view_from_string(dup, strlen(dup), &d), FLOCK_ERR_INVALID_CONFIG);
    CHECK_EQ_INT(d.members.size, N); /* untouched on error */
    flock_group_view_clear(&d);
    free(asc);
    free(desc);
}

/* A rewrite keeps the mode of the file it replaces; a new file gets the
 * mode asked for (0600: a keyed group's file). */
static void test_file_mode(void)
{
    char path[512];
    struct stat st;
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_add_member(&v, "na+sm://1-0", 1));
    snprintf(path, sizeof path, "%s/mode.flock", ft_tmpdir());
    CHECK_EQ_INT(flock_group_view_serialize_to_file(&v, path), FLOCK_SUCCESS);
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0644);
    REQUIRE(chmod(path, 0640) == 0);
    REQUIRE(flock_group_view_add_member(&v, "na+sm://2-0", 1));
    CHECK_EQ_INT(flock_group_view_serialize_to_file(&v, path), FLOCK_SUCCESS);
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0640);
    snprintf(path, sizeof path, "%s/keyed.flock", ft_tmpdir());
    CHECK_EQ_INT(flock__write_file_atomic_mode(path, "{}", 0600), FLOCK_SUCCESS);
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);
    flock_group_view_clear(&v);
}

int main(void)
{
    margo_set_global_log_level(MARGO_LOG_CRITICAL); /* expected errors are logged */
    test_serialize_exact();
    test_parse_ok();
    test_parse_bad();
    test_files();
    test_zero_mutex();
    test_not_regular();
    test_any_order();
    test_file_mode();
    return FT_DONE();
}
