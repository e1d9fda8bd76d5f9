/*
 * test-examples.c -- build products in examples/ run as documented:
 * self bootstrap server + client printing the group from the group file,
 * the "view" bootstrap with several providers in one process, the "file"
 * bootstrap (a static group refuses a joiner; centralized and swim groups,
 * when built, accept one and the client then sees two members).
 */
#include <poll.h>
#include "flock-core-test.h"

/* Read everything a child writes to fd until EOF or timeout; returns the
 * number of bytes stored (NUL-terminated). */
static size_t read_all(int fd, char* out, size_t cap, double timeout_ms)
{
    size_t len = 0;
    double end = ft_now_ms() + timeout_ms;
    while (len + 1 < cap && ft_now_ms() < end) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int           r   = poll(&pfd, 1, 100);
        if (r <= 0) continue;
        ssize_t n = read(fd, out + len, cap - len - 1);
        if (n <= 0) break;
        len += (size_t)n;
    }
    out[len] = 0;
    return len;
}

/* Run argv to completion; stdout into out; returns the exit status (-1 on
 * signal/timeout). */
static int run(char* const argv[], char* out, size_t cap)
{
    int   fd  = -1;
    pid_t pid = ft_spawn_io(argv, &fd);
    REQUIRE(pid > 0);
    read_all(fd, out, cap, 60000);
    close(fd);
    int st = 0;
    for (int i = 0; i < 600; i++) { /* up to 60 s */
        if (waitpid(pid, &st, WNOHANG) == pid) {
            ft_forget(pid);
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        ft_sleep_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    ft_forget(pid);
    return -1;
}

static bool file_ready(void* arg) { return fct_file_exists((const char*)arg); }

/* Wait until a line containing `needle` appears on fd. */
static bool wait_output(int fd, const char* needle, char* buf, size_t cap, double timeout_ms)
{
    size_t len = strlen(buf);
    double end = ft_now_ms() + timeout_ms;
    while (!strstr(buf, needle) && ft_now_ms() < end && len + 1 < cap) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) continue;
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = 0;
    }
    return strstr(buf, needle) != NULL;
}

typedef struct {
    const char* file;
    int         members;
} group_probe;

static bool group_has(void* arg)
{
    group_probe* g = (group_probe*)arg;
    char         out[8192];
    char* argv[] = {(char*)ft_bin("examples/client-print"), (char*)"na+sm", (char*)g->file, NULL};
    if (run(argv, out, sizeof out) != 0) return false;
    char want[64];
    snprintf(want, sizeof want, "%d member(s):", g->members);
    return strstr(out, want) != NULL;
}

static void test_self_and_client(void)
{
    const char* file = fct_path("self.flock");
    char*       argv[] = {(char*)ft_bin("examples/server-self"), (char*)"na+sm", (char*)file,
                    (char*)"static", NULL};
    int         fd   = -1;
    pid_t       srv  = ft_spawn_io(argv, &fd);
    REQUIRE(srv > 0);
    char buf[4096] = "";
    CHECK(wait_output(fd, "Group file written", buf, sizeof buf, 60000));
    CHECK(ft_wait_until(file_ready, (void*)file, 60000));
    CHECK(strstr(buf, "{\"gateway\":{\"type\":\"default\",\"config\":{}},\"group\":{\"type\":"
                      "\"static\",\"config\":{}},\"file\":") != NULL);
    char out[8192];
    char* cargv[] = {(char*)ft_bin("examples/client-print"), (char*)"na+sm", (char*)file, NULL};
    CHECK_EQ_INT(run(cargv, out, sizeof out), 0);
    CHECK(strstr(out, "1 member(s):") != NULL);
    CHECK(strstr(out, "provider 42") != NULL);
    CHECK(strstr(out, "__type__ = static") != NULL);
    /* the printed address is the server's */
    const char* at = strstr(buf, "address ");
    REQUIRE(at);
    char addr[128];
    sscanf(at + 8, "%127[^,]", addr);
    CHECK(strstr(out, addr) != NULL);

    /* a joiner on a static group is refused (FLOCK_ERR_OP_FORBIDDEN) */
    char* jargv[] = {(char*)ft_bin("examples/server-file"), (char*)"na+sm", (char*)file,
                     (char*)"static", (char*)"7", NULL};
    CHECK_EQ_INT(run(jargv, out, sizeof out), 2);
    /* but the same process with its own id in the file takes its place */
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    ft_forget(srv);
    close(fd);
    /* a client on a group whose member is gone fails cleanly */
    CHECK(run(cargv, out, sizeof out) != 0);
    char* nargv[] = {(char*)ft_bin("examples/client-print"), (char*)"na+sm", (char*)file,
                     (char*)"--no-update", NULL};
    CHECK_EQ_INT(run(nargv, out, sizeof out), 0);
    CHECK(strstr(out, "1 member(s):") != NULL);
}

static void test_view(void)
{
    const char* file   = fct_path("view.flock");
    char        out[16384];
    char*       argv[] = {(char*)ft_bin("examples/server-view"), (char*)"na+sm", (char*)"5",
                    (char*)file, NULL};
    CHECK_EQ_INT(run(argv, out, sizeof out), 0);
    for (int i = 1; i <= 5; i++) {
        char want[64];
        snprintf(want, sizeof want, "provider %d sees 5 members", i);
        CHECK(strstr(out, want) != NULL);
    }
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_view_from_file(file, &v), FLOCK_SUCCESS);
    CHECK_EQ_INT(v.members.size, 5);
    for (size_t i = 0; i < v.members.size; i++) CHECK_EQ_INT(v.members.data[i].provider_id, i + 1);
    flock_group_view_clear(&v);
}

static void test_join(const char* backend)
{
    char name[64];
    snprintf(name, sizeof name, "join-%s.flock", backend);
    const char* file   = fct_path(name);
    char*       argv[] = {(char*)ft_bin("examples/server-self"), (char*)"na+sm", (char*)file,
                    (char*)backend, NULL};
    int         fd     = -1;
    pid_t       srv    = ft_spawn_io(argv, &fd);
    REQUIRE(srv > 0);
    char buf[4096] = "";
    CHECK(wait_output(fd, "Group file written", buf, sizeof buf, 60000));
    CHECK(ft_wait_until(file_ready, (void*)file, 60000));
    char* jargv[] = {(char*)ft_bin("examples/server-file"), (char*)"na+sm", (char*)file,
                     (char*)backend, (char*)"7", NULL};
    int   jfd     = -1;
    pid_t joiner  = ft_spawn_io(jargv, &jfd);
    REQUIRE(joiner > 0);
    char jbuf[4096] = "";
    if (!wait_output(jfd, "Registered provider 7", jbuf, sizeof jbuf, 60000))
        FT_FAIL("%s: joiner did not register: %s", backend, jbuf);
    /* the first member rewrites the group file; the client sees both */
    group_probe g = {file, 2};
    if (!ft_wait_until(group_has, &g, 60000)) FT_FAIL("%s: client never saw 2 members", backend);
    CHECK(wait_output(fd, ":7 joined", buf, sizeof buf, 60000));
    kill(joiner, SIGKILL);
    waitpid(joiner, NULL, 0);
    ft_forget(joiner);
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    ft_forget(srv);
    close(fd);
    close(jfd);
}

int main(void)
{
    test_self_and_client();
    test_view();
#ifdef FLOCK_HAVE_BACKEND_CENTRALIZED
    test_join("centralized");
#else
    printf("centralized backend not built: join example skipped\n");
#endif
#ifdef FLOCK_HAVE_BACKEND_SWIM
    test_join("swim");
#else
    printf("swim backend not built: join example skipped\n");
#endif
    return FT_DONE();
}
