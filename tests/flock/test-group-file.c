/*
 * test-group-file.c -- the group file a provider keeps (group-file.c): the
 * writer writes it, a write after close does nothing, and a close while
 * membership changes are still being delivered (a provider destroyed while
 * its backend reports a peer that left at the same moment) neither crashes
 * nor writes. The last one is the defect that made flockd exit 1 under
 * UBSan when two members of a group were stopped at once. And a file that
 * another group wrote over this member's own (same name) is left as it is,
 * although this member wrote that name just before (it remembers what it
 * wrote, to skip reading its own file again).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "flock-test.h"
#include <flock/flock-group-view.h>
#include "flock/group-file.h"
#include "flock/view-file.h"

typedef struct {
    flock_group_view_t view;
} source_ctx;

static flock_return_t view_source(void* ctx, void (*fn)(void*, const flock_group_view_t*),
                                  void* uargs)
{
    source_ctx* s = ctx;
    fn(uargs, &s->view);
    return FLOCK_SUCCESS;
}

static char path_buf[512];
static const char* path(const char* name)
{
    int n = snprintf(path_buf, sizeof path_buf, "%s/%s", ft_tmpdir(), name);
    REQUIRE(n > 0 && (size_t)n < sizeof path_buf);
    return path_buf;
}

static bool exists(const char* p)
{
    return access(p, F_OK) == 0;
}

/* the member that is member 0 writes the file; after close, nothing does */
static void test_write_then_close(margo_instance_id mid, source_ctx* src, const char* self)
{
    flock__group_file_t f;
    char                file[512];
    snprintf(file, sizeof file, "%s", path("a.flock"));
    REQUIRE(flock__group_file_init(&f, mid, 7, file, self, view_source, src) == FLOCK_SUCCESS);
    CHECK(flock__group_file_write(&f, true) == FLOCK_SUCCESS);
    CHECK(exists(file));
    flock_group_view_t back = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK(flock_group_view_from_file(file, &back) == FLOCK_SUCCESS);
    CHECK_EQ_INT((int)back.members.size, 1);
    flock_group_view_clear(&back);

    unlink(file);
    flock__group_file_close(&f);
    CHECK(flock__group_file_write(&f, false) == FLOCK_SUCCESS);
    CHECK(flock__group_file_write(&f, true) == FLOCK_SUCCESS);
    CHECK(!exists(file)); /* closed: not written again */
    flock__group_file_close(&f); /* idempotent */
    flock__group_file_destroy(&f);
}

typedef struct {
    flock__group_file_t* f;
    atomic_bool          stop;
    atomic_int           writes;
} writer_arg;

static void* writer_main(void* arg)
{
    writer_arg* w = arg;
    while (!atomic_load(&w->stop)) {
        (void)flock__group_file_write(w->f, false);
        atomic_fetch_add(&w->writes, 1);
    }
    return NULL;
}

/* membership changes delivered while the provider closes its file */
static void test_close_during_writes(margo_instance_id mid, source_ctx* src, const char* self)
{
    for (int round = 0; round < 20; round++) {
        flock__group_file_t f;
        char                file[512];
        snprintf(file, sizeof file, "%s", path("b.flock"));
        REQUIRE(flock__group_file_init(&f, mid, 7, file, self, view_source, src)
                == FLOCK_SUCCESS);
        writer_arg w = {&f, false, 0};
        pthread_t  t[2];
        for (int i = 0; i < 2; i++) REQUIRE(pthread_create(&t[i], NULL, writer_main, &w) == 0);
        while (atomic_load(&w.writes) < 4 + round) ft_sleep_ms(1);
        flock__group_file_close(&f); /* the writers keep calling */
        unlink(file);
        int after = atomic_load(&w.writes);
        while (atomic_load(&w.writes) < after + 8) ft_sleep_ms(1);
        CHECK(!exists(file)); /* no write after close returned */
        atomic_store(&w.stop, true);
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
        flock__group_file_destroy(&f);
    }
}

static bool file_has(const char* file, const char* text)
{
    char*  buf = NULL;
    size_t len = 0;
    FILE*  fp  = fopen(file, "r");
    if (!fp) return false;
    char chunk[4096];
    size_t n;
    bool   found = false;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        char* nb = realloc(buf, len + n + 1);
        if (!nb) break;
        buf = nb;
        memcpy(buf + len, chunk, n);
        len += n;
        buf[len] = 0;
    }
    fclose(fp);
    found = buf && strstr(buf, text);
    free(buf);
    return found;
}

/* this member's group id aa; another group (id bb) takes the file over */
static void test_foreign_file(margo_instance_id mid, const char* self)
{
    source_ctx src = {FLOCK_GROUP_VIEW_INITIALIZER};
    REQUIRE(flock_group_view_add_member(&src.view, self, 7));
    REQUIRE(flock_group_view_add_metadata(&src.view, "__config__",
                                          "{\"group_id\":\"00000000000000aa\"}"));
    flock__group_file_t f;
    char                file[512];
    snprintf(file, sizeof file, "%s", path("c.flock"));
    REQUIRE(flock__group_file_init(&f, mid, 7, file, self, view_source, &src) == FLOCK_SUCCESS);
    CHECK(flock__group_file_write(&f, true) == FLOCK_SUCCESS);
    CHECK(file_has(file, "00000000000000aa"));
    CHECK(flock__group_file_write(&f, true) == FLOCK_SUCCESS); /* its own file: rewritten */
    CHECK(file_has(file, "00000000000000aa"));
    const char* foreign =
        "{\"members\":[{\"address\":\"na+sm://1-0\",\"provider_id\":7}],\"metadata\":"
        "{\"__config__\":\"{\\\"group_id\\\":\\\"00000000000000bb\\\"}\"}}";
    REQUIRE(flock__write_file_atomic_mode(file, foreign, 0644) == FLOCK_SUCCESS);
    CHECK(flock__group_file_write(&f, true) == FLOCK_SUCCESS);
    CHECK(file_has(file, "00000000000000bb")); /* left as it is */
    CHECK(!file_has(file, "00000000000000aa"));
    flock__group_file_destroy(&f);
    flock_group_view_clear(&src.view);
}

int main(void)
{
    margo_instance_id mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(mid != MARGO_INSTANCE_NULL);
    char      self[256];
    hg_addr_t sa   = HG_ADDR_NULL;
    hg_size_t size = sizeof self;
    REQUIRE(margo_addr_self(mid, &sa) == HG_SUCCESS);
    REQUIRE(margo_addr_to_string(mid, self, &size, sa) == HG_SUCCESS);
    margo_addr_free(mid, sa);

    source_ctx src = {FLOCK_GROUP_VIEW_INITIALIZER};
    REQUIRE(flock_group_view_add_member(&src.view, self, 7));

    test_write_then_close(mid, &src, self);
    test_close_during_writes(mid, &src, self);
    test_foreign_file(mid, self);

    flock_group_view_clear(&src.view);
    margo_finalize(mid);
    return FT_DONE();
}
