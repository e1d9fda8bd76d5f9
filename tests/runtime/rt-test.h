/*
 * rt-test.h -- small helpers shared by the runtime tests (on top of
 * tests/common/flock-test.h).
 */
#ifndef FLOCK_RT_TEST_H
#define FLOCK_RT_TEST_H

#include "flock-test.h"

#include <dirent.h>
#include <margo.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdatomic.h>

/* "tcp6" runs: servers listen on [::1]; everything else as "tcp" */
static bool rt_v6;

/** Can this machine bind the IPv6 loopback? */
/** Transport under test: argv[1] if given ("na+sm", "tcp", "ofi+tcp", or
 *  "tcp6": tcp with servers on IPv6 loopback), else na+sm. A tcp6 run
 *  exits 77 (ctest: skipped) when this machine has no IPv6 loopback. */
static inline bool rt_have_ipv6(void)
{
    int                 fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a  = {0};
    a.sin6_family          = AF_INET6;
    a.sin6_addr            = in6addr_loopback;
    bool ok                = fd >= 0 && bind(fd, (struct sockaddr*)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static inline const char* rt_transport(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "tcp6") == 0) {
        if (!rt_have_ipv6()) {
            printf("no IPv6 loopback here: skipped\n");
            exit(77);
        }
        rt_v6 = true;
        return "tcp";
    }
    return argc > 1 ? argv[1] : "na+sm";
}

/** Address string of a TCP transport bound to loopback (tests never use a
 *  routable interface). */
static inline const char* rt_listen_addr(const char* transport)
{
    static char buf[128];
    if (strcmp(transport, "na+sm") == 0) return "na+sm";
    snprintf(buf, sizeof buf, rt_v6 ? "%s://[::1]:0" : "%s://127.0.0.1:0", transport);
    return buf;
}

static inline margo_instance_id rt_server(const char* transport)
{
    margo_instance_id mid = margo_init(rt_listen_addr(transport), MARGO_SERVER_MODE, 0, 0);
    REQUIRE(mid != MARGO_INSTANCE_NULL);
    if (rt_v6 && strcmp(transport, "na+sm") != 0)
        REQUIRE(strstr(frt_self_addr_str(mid), "://[::1]:") != NULL);
    return mid;
}

static inline hg_addr_t rt_lookup(margo_instance_id mid, const char* s)
{
    hg_addr_t a = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(mid, s, &a) == HG_SUCCESS);
    return a;
}

/** Threads of this process (/proc/self/task entries; -1 if unreadable). */
static inline int rt_nthreads(void)
{
    DIR* d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    for (struct dirent* e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* An echo handler: responds with its input. */
static inline void rt_echo(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    frt_respond(req, in, len);
}

#include <poll.h>

/** Spawn tests/runtime/rt-server listening on `listen`; returns its pid and
 *  writes its self address into addr (REQUIREs success). */
static inline pid_t rt_spawn_server(const char* listen, char* addr, size_t addr_size)
{
    char  bin[1024];
    int   fd = -1;
    snprintf(bin, sizeof bin, "%s", ft_bin("tests/runtime/rt-server"));
    char* argv[] = {bin, (char*)listen, NULL};
    pid_t pid    = ft_spawn_io(argv, &fd);
    REQUIRE(pid > 0);
    size_t n    = 0;
    double end  = ft_now_ms() + 20000;
    addr[0]     = 0;
    while (n + 1 < addr_size && ft_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t r = read(fd, addr + n, 1);
        if (r <= 0) break;
        if (addr[n] == '\n') break;
        n++;
    }
    addr[n] = 0;
    close(fd);
    if (n == 0) {
        FT_FAIL("rt-server %s printed no address", listen);
        exit(1);
    }
    return pid;
}

/** Wait for a child to exit (up to timeout_ms); returns its status or -1. */
static inline int rt_wait_child(pid_t pid, double timeout_ms)
{
    double end = ft_now_ms() + timeout_ms;
    int    st  = 0;
    while (ft_now_ms() < end) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            ft_forget(pid);
            return st;
        }
        ft_sleep_ms(10);
    }
    return -1;
}

#endif /* FLOCK_RT_TEST_H */
