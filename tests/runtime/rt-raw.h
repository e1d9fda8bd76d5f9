/*
 * rt-raw.h -- raw sockets to and from a runtime instance, for the tests
 * that speak the wire protocol themselves (test-hostile, test-readside,
 * test-idle): dial an instance, listen where an instance will dial, send
 * headers and hellos, read until the peer hangs up.
 */
#ifndef FLOCK_RT_RAW_H
#define FLOCK_RT_RAW_H

#include "rt-test.h"
#include "frt-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/** Connect a blocking socket (10 s receive timeout) to a peer address
 *  (na+sm://<pid>-<n>, <tcp scheme>://<ip>:<port> or <tcp scheme>://[<ipv6>]:<port>);
 *  REQUIREs success. */
static inline int rt_raw_connect(const char* addr)
{
    int fd = -1;
    if (strncmp(addr, "na+sm://", 8) == 0) {
        unsigned long pid, n;
        REQUIRE(sscanf(addr + 8, "%lu-%lu", &pid, &n) == 2);
        struct sockaddr_un sa = {0};
        sa.sun_family         = AF_UNIX;
        int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "frt-na+sm-%lu-%lu", pid, n);
        fd      = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        REQUIRE(connect(fd, (struct sockaddr*)&sa,
                        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len))
                == 0);
    } else if (strstr(addr, "://[")) { /* tcp://[IPv6]:port */
        char host[64];
        int  port;
        REQUIRE(sscanf(strstr(addr, "://[") + 4, "%63[^]]]:%d", host, &port) == 2);
        struct sockaddr_in6 sa = {0};
        sa.sin6_family         = AF_INET6;
        sa.sin6_port           = htons((uint16_t)port);
        REQUIRE(inet_pton(AF_INET6, host, &sa.sin6_addr) == 1);
        fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        REQUIRE(connect(fd, (struct sockaddr*)&sa, sizeof sa) == 0);
    } else {
        const char* hp = strstr(addr, "://");
        REQUIRE(hp != NULL);
        char host[64];
        int  port;
        REQUIRE(sscanf(hp + 3, "%63[^:]:%d", host, &port) == 2);
        struct sockaddr_in sa = {0};
        sa.sin_family         = AF_INET;
        sa.sin_port           = htons((uint16_t)port);
        inet_pton(AF_INET, host, &sa.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        REQUIRE(connect(fd, (struct sockaddr*)&sa, sizeof sa) == 0);
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/** Send all of p (stops quietly if the peer closed). */
static inline void rt_raw_send(int fd, const void* p, size_t n)
{
    const char* c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        c += w;
        n -= (size_t)w;
    }
}

/** Send one frame header. */
static inline void rt_raw_send_hdr(int fd, frt__hdr h)
{
    uint8_t b[FRT__HDR_LEN];
    frt__hdr_encode(&h, b);
    rt_raw_send(fd, b, sizeof b);
}

/** Send a hello naming `self` (unauthenticated: no group key). */
static inline void rt_raw_send_hello(int fd, const char* self)
{
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_HELLO, .name_len = (uint16_t)strlen(self)});
    rt_raw_send(fd, self, strlen(self));
}

/** A listening socket at a peer address of `transport` (rt_v6: on ::1),
 *  which an instance dials like any peer; its address in addr. */
static inline int rt_raw_listen(const char* transport, char* addr, size_t len)
{
    int fd;
    if (strcmp(transport, "na+sm") == 0) {
        struct sockaddr_un sa = {0};
        sa.sun_family         = AF_UNIX;
        int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "frt-na+sm-%d-%d",
                         (int)getpid(), 4242);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        REQUIRE(bind(fd, (struct sockaddr*)&sa,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 0);
        snprintf(addr, len, "na+sm://%d-%d", (int)getpid(), 4242);
    } else if (rt_v6) {
        struct sockaddr_in6 sa = {0};
        socklen_t           sl = sizeof sa;
        sa.sin6_family         = AF_INET6;
        sa.sin6_addr           = in6addr_loopback;
        fd                     = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        REQUIRE(bind(fd, (struct sockaddr*)&sa, sizeof sa) == 0);
        REQUIRE(getsockname(fd, (struct sockaddr*)&sa, &sl) == 0);
        snprintf(addr, len, "%s://[::1]:%d", transport, ntohs(sa.sin6_port));
    } else {
        struct sockaddr_in sa = {0};
        socklen_t          sl = sizeof sa;
        sa.sin_family         = AF_INET;
        sa.sin_addr.s_addr    = htonl(INADDR_LOOPBACK);
        fd                    = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        REQUIRE(bind(fd, (struct sockaddr*)&sa, sizeof sa) == 0);
        REQUIRE(getsockname(fd, (struct sockaddr*)&sa, &sl) == 0);
        snprintf(addr, len, "%s://127.0.0.1:%d", transport, ntohs(sa.sin_port));
    }
    REQUIRE(listen(fd, 8) == 0);
    return fd;
}

/** The next connection on lfd within ms (10 s receive timeout), or -1. */
static inline int rt_raw_accept(int lfd, int ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1) return -1;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/** Receive exactly n bytes; false on EOF, error or the 10 s timeout. */
static inline bool rt_raw_recv_all(int fd, void* p, size_t n)
{
    char* c = p;
    while (n > 0) {
        ssize_t r = recv(fd, c, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        c += r;
        n -= (size_t)r;
    }
    return true;
}

/** Read and drop until EOF; true if the peer closed the connection (EOF
 *  or a reset) within 20 s. */
static inline bool rt_raw_sees_end(int fd)
{
    char   buf[4096];
    double end = ft_now_ms() + 20000;
    while (ft_now_ms() < end) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0) return true;
        if (r < 0 && errno != EINTR && errno != EAGAIN) return errno == ECONNRESET;
    }
    return false;
}

#endif /* FLOCK_RT_RAW_H */
