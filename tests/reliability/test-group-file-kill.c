/*
 * test-group-file-kill.c -- a group-file writer killed mid-write never
 * leaves a truncated or mixed file behind (docs/reliability.md, "Group
 * files").
 *
 * A child alternates writing two large views (A: 6000 members, B: 4000
 * members + different metadata) to the same path with
 * flock_group_view_serialize_to_file, in a loop. The parent SIGKILLs it at
 * a random moment, then checks that the file parses and is exactly A or B
 * (digest and sizes). Repeated ROUNDS times; a shared flag tells how many
 * kills landed while a write was in progress (most of them: the child does
 * nothing else), and the test requires that some did, so it cannot pass
 * without exercising the case it is about.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include <flock/flock-group-view.h>

#include "flock-test.h"

#define ROUNDS 40

static void build_view(flock_group_view_t* v, int n, const char* tag)
{
    char addr[64];
    for (int i = 0; i < n; i++) {
        snprintf(addr, sizeof addr, "tcp://10.%d.%d.%d:%d", i / 65536, (i / 256) % 256, i % 256,
                 1000 + i % 7);
        REQUIRE(flock_group_view_add_member(v, addr, (uint16_t)(i % 5)) != NULL);
    }
    REQUIRE(flock_group_view_add_metadata(v, "tag", tag) != NULL);
    REQUIRE(flock_group_view_add_metadata(v, "__type__", "static") != NULL);
}

int main(void)
{
    flock_group_view_t a = FLOCK_GROUP_VIEW_INITIALIZER, b = FLOCK_GROUP_VIEW_INITIALIZER;
    char               path[600];
    int                mid_write = 0, valid = 0;
    volatile int*      shared    = NULL;

    margo_set_global_log_level(MARGO_LOG_CRITICAL);
    build_view(&a, 6000, "A");
    build_view(&b, 4000, "B");
    snprintf(path, sizeof path, "%s/group.json", ft_tmpdir());
    shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(shared != MAP_FAILED);

    /* sanity: a truncated copy of a valid file is rejected (the check below
     * would notice a torn file) */
    {
        REQUIRE(flock_group_view_serialize_to_file(&a, path) == FLOCK_SUCCESS);
        struct stat st;
        REQUIRE(stat(path, &st) == 0 && st.st_size > 100);
        REQUIRE(truncate(path, st.st_size / 2) == 0);
        flock_group_view_t t = FLOCK_GROUP_VIEW_INITIALIZER;
        CHECK(flock_group_view_from_file(path, &t) != FLOCK_SUCCESS);
        flock_group_view_clear(&t);
        REQUIRE(flock_group_view_serialize_to_file(&a, path) == FLOCK_SUCCESS);
    }

    srand((unsigned)getpid());
    for (int round = 0; round < ROUNDS; round++) {
        shared[0] = 0; /* 1 while a write is in progress */
        shared[1] = 0; /* completed writes */
        fflush(NULL);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            for (unsigned k = 0;; k++) {
                shared[0] = 1;
                flock_return_t r = flock_group_view_serialize_to_file(k % 2 ? &b : &a, path);
                shared[0] = 0;
                if (r != FLOCK_SUCCESS) _exit(3);
                shared[1]++;
            }
        }
        /* let it complete a few writes, then kill at a random point */
        double end = ft_now_ms() + 10000;
        while (shared[1] < 1 + round % 3 && ft_now_ms() < end) ft_sleep_ms(1);
        ft_sleep_ms((double)(rand() % 40));
        int in_write = shared[0];
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL); /* no other death */
        if (in_write) mid_write++;

        flock_group_view_t got = FLOCK_GROUP_VIEW_INITIALIZER;
        flock_return_t     ret = flock_group_view_from_file(path, &got);
        CHECK_EQ_INT(ret, FLOCK_SUCCESS);
        if (ret == FLOCK_SUCCESS) {
            bool is_a = got.digest == a.digest && got.members.size == a.members.size;
            bool is_b = got.digest == b.digest && got.members.size == b.members.size;
            CHECK(is_a || is_b);
            if (is_a || is_b) valid++;
        }
        flock_group_view_clear(&got);
    }
    printf("%d rounds, %d kills during a write, %d valid files\n", ROUNDS, mid_write, valid);
    CHECK_EQ_INT(valid, ROUNDS);
    CHECK(mid_write > 0);
    flock_group_view_clear(&a);
    flock_group_view_clear(&b);
    return FT_DONE();
}
