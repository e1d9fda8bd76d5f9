/*
 * flock-test.h -- the tiny test harness shared by every C test.
 *
 *   CHECK(cond)            records a failure and continues
 *   REQUIRE(cond)          records a failure and ends the test (exit 1)
 *   CHECK_EQ_INT(a, b)     integer equality with both values printed
 *   CHECK_EQ_STR(a, b)     string equality (NULL-safe)
 *   ft_tmpdir()            a private scratch directory, removed at exit
 *   ft_free_tcp_port()     a currently free loopback TCP port
 *   ft_spawn(argv)         fork/exec a child (own process group), killed at exit
 *   ft_wait_until(fn, arg, timeout_ms)  poll a predicate every 10 ms
 *   FT_DONE()              return value for main: 0 iff no failure
 *
 * Children spawned with ft_spawn and the scratch directory are cleaned up
 * by an atexit handler and on SIGINT/SIGTERM/SIGALRM, so a failing or
 * timed-out test leaves nothing behind.
 */
#ifndef FLOCK_TEST_H
#define FLOCK_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int ft_failures = 0;

#define FT_FAIL(...)                                                          \
    do {                                                                      \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                  \
        fprintf(stderr, __VA_ARGS__);                                         \
        fprintf(stderr, "\n");                                                \
        ft_failures++;                                                        \
    } while (0)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) FT_FAIL("CHECK(%s)", #cond);                             \
    } while (0)

#define REQUIRE(cond)                                                         \
    do {                                                                      \
        if (!(cond)) {                                                        \
            FT_FAIL("REQUIRE(%s)", #cond);                                    \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                    \
    do {                                                                      \
        long long ft_a_ = (long long)(a), ft_b_ = (long long)(b);             \
        if (ft_a_ != ft_b_)                                                   \
            FT_FAIL("%s == %s (%lld != %lld)", #a, #b, ft_a_, ft_b_);         \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                    \
    do {                                                                      \
        const char *ft_a_ = (a), *ft_b_ = (b);                                \
        if (!ft_a_ || !ft_b_ || strcmp(ft_a_, ft_b_) != 0)                    \
            FT_FAIL("%s == %s (\"%s\" != \"%s\")", #a, #b,                    \
                    ft_a_ ? ft_a_ : "(null)", ft_b_ ? ft_b_ : "(null)");      \
    } while (0)

#define FT_DONE() (ft_failures == 0 ? 0 : 1)

/* ---- scratch directory and children, cleaned up at exit ---- */

#define FT_MAX_CHILDREN 1024
static pid_t ft_children[FT_MAX_CHILDREN];
static int   ft_nchildren = 0;
static char  ft_tmp[512];

static void ft_cleanup(void)
{
    for (int i = 0; i < ft_nchildren; i++) {
        if (ft_children[i] > 0) {
            kill(-ft_children[i], SIGKILL);
            kill(ft_children[i], SIGKILL);
            waitpid(ft_children[i], NULL, 0);
            ft_children[i] = 0;
        }
    }
    if (ft_tmp[0] && !getenv("FLOCK_TEST_KEEP")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", ft_tmp);
        if (system(cmd) != 0) { /* best effort */
        }
        ft_tmp[0] = 0;
    }
}

static void ft_on_signal(int sig)
{
    ft_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void ft_install_cleanup(void)
{
    static bool done = false;
    if (done) return;
    done = true;
    atexit(ft_cleanup);
    signal(SIGINT, ft_on_signal);
    signal(SIGTERM, ft_on_signal);
    signal(SIGALRM, ft_on_signal);
}

/** A private scratch directory (created once per test process). */
static inline const char* ft_tmpdir(void)
{
    if (!ft_tmp[0]) {
        const char* base = getenv("TMPDIR");
        snprintf(ft_tmp, sizeof ft_tmp, "%s/flock-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(ft_tmp)) {
            perror("mkdtemp");
            exit(1);
        }
        ft_install_cleanup();
    }
    return ft_tmp;
}

/** A loopback TCP port that was free when asked (bind to port 0). */
static inline int ft_free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family      = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port        = 0;
    socklen_t len      = sizeof sa;
    int port           = -1;
    if (bind(fd, (struct sockaddr*)&sa, sizeof sa) == 0
        && getsockname(fd, (struct sockaddr*)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/** fork/exec argv[0] (PATH not searched) in its own process group.
 *  If out_fd is not NULL, the child's stdout is a pipe returned there. */
static inline pid_t ft_spawn_io(char* const argv[], int* out_fd)
{
    int p[2] = {-1, -1};
    ft_install_cleanup();
    if (out_fd && pipe(p) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        if (out_fd) {
            dup2(p[1], 1);
            close(p[0]);
            close(p[1]);
        }
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    if (out_fd) {
        close(p[1]);
        *out_fd = p[0];
    }
    if (ft_nchildren < FT_MAX_CHILDREN) ft_children[ft_nchildren++] = pid;
    return pid;
}

static inline pid_t ft_spawn(char* const argv[]) { return ft_spawn_io(argv, NULL); }

/** Forget a child (after the test reaped it itself). */
static inline void ft_forget(pid_t pid)
{
    for (int i = 0; i < ft_nchildren; i++)
        if (ft_children[i] == pid) ft_children[i] = 0;
}

static inline double ft_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void ft_sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/** Poll pred(arg) every 10 ms until it is true or timeout_ms passes. */
static inline bool ft_wait_until(bool (*pred)(void*), void* arg, double timeout_ms)
{
    double end = ft_now_ms() + timeout_ms;
    for (;;) {
        if (pred(arg)) return true;
        if (ft_now_ms() > end) return false;
        ft_sleep_ms(10);
    }
}

/** Path of a built binary: $FLOCK_TEST_BINDIR/<rel>. */
static inline const char* ft_bin(const char* rel)
{
    static char buf[8][1024];
    static int  slot = 0;
    const char* dir  = getenv("FLOCK_TEST_BINDIR");
    char*       out  = buf[slot++ % 8];
    snprintf(out, 1024, "%s/%s", dir ? dir : ".", rel);
    return out;
}

#endif /* FLOCK_TEST_H */
