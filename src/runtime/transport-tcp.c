/*
 * transport-tcp.c -- the tcp / ofi+tcp transport over IPv4 (host names
 * resolved to IPv4) or IPv6 literals; a wildcard bind reports a routable
 * address of this host (FRT_TCP_HOST / FRT_TCP_HOST6, or the first up
 * non-loopback interface). Ops contract: transport.h.
 * Calls: transport.c, util.c.
 */
#define _GNU_SOURCE
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Resolve a tcp host to an IPv4 address (blocking). */
static bool frt__resolve_ipv4(const char* host, struct in_addr* out)
{
    if (inet_pton(AF_INET, host, out) == 1) return true;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family       = AF_INET;
    hints.ai_socktype     = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return false;
    *out = ((struct sockaddr_in*)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return true;
}

/* The socket address of a tcp spec: an IPv6 literal, or an IPv4 address
 * or host name (resolved to IPv4). An empty host is the wildcard. */
static bool frt__tcp_sockaddr(const frt__addr_spec* spec, int port, struct sockaddr_storage* ss,
                              socklen_t* sl)
{
    memset(ss, 0, sizeof *ss);
    if (spec->v6) {
        struct sockaddr_in6* s6 = (struct sockaddr_in6*)ss;
        s6->sin6_family         = AF_INET6;
        s6->sin6_port           = htons((uint16_t)port);
        *sl                     = sizeof *s6;
        return inet_pton(AF_INET6, spec->host, &s6->sin6_addr) == 1;
    }
    struct sockaddr_in* sin = (struct sockaddr_in*)ss;
    sin->sin_family         = AF_INET;
    sin->sin_port           = htons((uint16_t)port);
    sin->sin_addr.s_addr    = htonl(INADDR_ANY);
    *sl                     = sizeof *sin;
    return !spec->host[0] || frt__resolve_ipv4(spec->host, &sin->sin_addr);
}

/* The IPv4 address to report for a wildcard bind. */
static void frt__routable_ipv4(char* out, size_t size)
{
    const char* env = getenv("FRT_TCP_HOST");
    if (env && *env && strlen(env) < size) {
        snprintf(out, size, "%s", env);
        return;
    }
    snprintf(out, size, "127.0.0.1");
    struct ifaddrs* ifs = NULL;
    if (getifaddrs(&ifs) != 0) return;
    for (struct ifaddrs* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
        inet_ntop(AF_INET, &((struct sockaddr_in*)i->ifa_addr)->sin_addr, out, (socklen_t)size);
        break;
    }
    freeifaddrs(ifs);
}

/* The IPv6 address to report for a [::] bind: FRT_TCP_HOST6 if set, else
 * the first up, non-loopback interface's global address (link-local ones
 * need a zone id, which addresses do not carry), else ::1. */
static void frt__routable_ipv6(char* out, size_t size)
{
    const char*     env = getenv("FRT_TCP_HOST6");
    struct in6_addr a;
    if (env && inet_pton(AF_INET6, env, &a) == 1 && inet_ntop(AF_INET6, &a, out, (socklen_t)size))
        return;
    snprintf(out, size, "::1");
    struct ifaddrs* ifs = NULL;
    if (getifaddrs(&ifs) != 0) return;
    for (struct ifaddrs* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6) continue;
        if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
        const struct in6_addr* x = &((struct sockaddr_in6*)i->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(x) || IN6_IS_ADDR_LOOPBACK(x)) continue;
        inet_ntop(AF_INET6, x, out, (socklen_t)size);
        break;
    }
    freeifaddrs(ifs);
}

/* The self address of a bound tcp socket (a wildcard reports a routable
 * address of this host). */
static void frt__tcp_self(const frt__addr_spec* spec, const struct sockaddr_storage* ss,
                          char* self, size_t self_size)
{
    char     ip[INET6_ADDRSTRLEN];
    unsigned port;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6* s6 = (const struct sockaddr_in6*)ss;
        if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
            frt__routable_ipv6(ip, sizeof ip);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
        snprintf(self, self_size, "%s://[%s]:%u", spec->scheme, ip, port);
    } else {
        const struct sockaddr_in* sa = (const struct sockaddr_in*)ss;
        if (sa->sin_addr.s_addr == htonl(INADDR_ANY))
            frt__routable_ipv4(ip, sizeof ip);
        else
            inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
        port = ntohs(sa->sin_port);
        snprintf(self, self_size, "%s://%s:%u", spec->scheme, ip, port);
    }
}

static int frt__tcp_listen(const frt__addr_spec* spec, unsigned long n, bool server, char* self,
                           size_t self_size)
{
    struct sockaddr_storage ss;
    socklen_t               sl;
    if (!frt__tcp_sockaddr(spec, spec->port > 0 ? spec->port : 0, &ss, &sl)) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot resolve host %s", spec->host);
        return -1;
    }
    int fd  = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* [::] means IPv6 only: IPv4 peers use an IPv4 address */
    if (fd >= 0 && spec->v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr*)&ss, sl) != 0
        || getsockname(fd, (struct sockaddr*)&ss, &sl) != 0) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot bind tcp socket: %s", strerror(errno));
        frt__sock_close(fd);
        return -1;
    }
    frt__tcp_self(spec, &ss, self, self_size);
    return frt__sock_listen(fd, server);
}

/* Data unacknowledged this long (a cut wire: the peer's kernel would have
 * acked, even for a stopped process) aborts the connection, so calls fail
 * and the next one redials instead of queueing behind the kernel's
 * retransmission backoff (minutes) after a partition heals. */
#define FRT_TCP_USER_TIMEOUT_MS 3000

/* No Nagle, a bound on unacknowledged data, then what every connected
 * socket gets. */
static bool frt__tcp_sockopts(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef TCP_USER_TIMEOUT
    unsigned int uto = FRT_TCP_USER_TIMEOUT_MS;
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof uto);
#endif
    return frt__sock_connected(fd);
}

static int frt__tcp_dial(const frt__addr_spec* spec, double timeout_ms, const frt__log_ctx* log)
{
    struct sockaddr_storage ss;
    socklen_t               sl;
    double                  end = frt_now_ms() + timeout_ms;
    if (!frt__tcp_sockaddr(spec, spec->port, &ss, &sl)) {
        frt__log(log, MARGO_LOG_DEBUG, "cannot resolve host %s", spec->host);
        return -1;
    }
    return frt__sock_dial(&ss, sl, end, false, frt__tcp_sockopts);
}

const frt__transport frt__transport_tcp = {
    .name     = "tcp",
    .listen   = frt__tcp_listen,
    .dial     = frt__tcp_dial,
    .sockopts = frt__tcp_sockopts,
    .close    = frt__sock_close,
};
