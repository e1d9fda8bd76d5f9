/*
 * hard-peer.c -- a hostile or careless peer for the hardening scenarios
 * (the test-*.sh scripts here). It speaks the runtime's wire format itself
 * (frt__hdr_encode) and never asserts on what the member sends back.
 *
 *   hard-peer hold ADDR N SECS
 *       open N connections (as many as the member accepts) and hold them
 *       SECS seconds without sending anything, then close them all.
 *   hard-peer bigframe ADDR N SIZE SECS [nohello]
 *       N connections; each sends a hello (unless nohello) and a request
 *       header announcing SIZE payload bytes, then SIZE - 4096 of them, and
 *       holds the connection SECS seconds (a frame that never completes).
 *   hard-peer noread ADDR N COUNT SECS
 *       N connections; each sends a hello and COUNT flock_get_view requests
 *       (provider 1) and never reads a reply; holds SECS seconds.
 * Prints one line "<mode>: <connections> connected, <n> cut" and exits 0.
 */
#define _GNU_SOURCE
#include "runtime/frt-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A connected socket to addr (na+sm://<pid>-<n> or tcp-ish://ip:port), -1. */
static int hp_connect(const char* addr)
{
    int fd = -1;
    if (strncmp(addr, "na+sm://", 8) == 0) {
        unsigned long pid, n;
        if (sscanf(addr + 8, "%lu-%lu", &pid, &n) != 2) return -1;
        struct sockaddr_un sa = {0};
        sa.sun_family         = AF_UNIX;
        int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "frt-na+sm-%lu-%lu", pid, n);
        fd      = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0
            && connect(fd, (struct sockaddr*)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len))
                   != 0) {
            close(fd);
            fd = -1;
        }
        return fd;
    }
    const char* hp = strstr(addr, "://");
    char        host[64];
    int         port;
    if (!hp || sscanf(hp + 3, "%63[^:]:%d", host, &port) != 2) return -1;
    struct sockaddr_in sa = {0};
    sa.sin_family         = AF_INET;
    sa.sin_port           = htons((uint16_t)port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send all of p; false once the member cut the connection (or 2 s stall). */
static bool hp_send(int fd, const void* p, size_t n)
{
    const char* c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static bool hp_frame(int fd, uint8_t type, const char* name, size_t payload_len,
                     const void* payload, size_t payload_sent)
{
    static uint64_t id = 1;
    frt__hdr        h  = {0};
    uint8_t         hb[FRT__HDR_LEN];
    h.type             = type;
    h.id               = type == FRT__T_HELLO ? 0 : id++;
    h.provider_id      = type == FRT__T_REQUEST ? 1 : 0;
    h.name_len         = (uint16_t)strlen(name);
    h.payload_len      = (uint32_t)payload_len;
    frt__hdr_encode(&h, hb);
    return hp_send(fd, hb, sizeof hb) && hp_send(fd, name, strlen(name))
           && (!payload_sent || hp_send(fd, payload, payload_sent));
}

/* Is fd closed by the member (EOF or reset) without blocking? */
static bool hp_cut(int fd)
{
    char    b[4096];
    ssize_t r;
    do {
        r = recv(fd, b, sizeof b, MSG_DONTWAIT);
    } while (r > 0);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

int main(int argc, char** argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: see hard-peer.c\n");
        return 2;
    }
    const char* mode = argv[1];
    const char* addr = argv[2];
    int         n    = atoi(argv[3]);
    int*        fds  = calloc((size_t)n, sizeof *fds);
    int         got  = 0, cut = 0;
    double      secs = atof(argv[argc >= 6 ? 5 : 4]);
    size_t      size = argc >= 6 ? strtoul(argv[4], NULL, 0) : 0;
    bool        hello = !(argc >= 7 && strcmp(argv[6], "nohello") == 0);
    char*       junk  = strcmp(mode, "bigframe") == 0 ? calloc(1, size) : NULL;
    uint8_t     digest[8] = {0};
    for (int i = 0; i < n; i++) {
        int fd = hp_connect(addr);
        if (fd < 0) continue;
        fds[got++] = fd;
        if (strcmp(mode, "hold") == 0) continue;
        if (hello) hp_frame(fd, FRT__T_HELLO, "tcp://127.0.0.1:9", 0, NULL, 0);
        if (junk) hp_frame(fd, FRT__T_REQUEST, "flock_get_view", size, junk, size - 4096);
        for (size_t k = 0; strcmp(mode, "noread") == 0 && k < size; k++)
            if (!hp_frame(fd, FRT__T_REQUEST, "flock_get_view", 8, digest, 8)) break;
    }
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    for (int i = 0; i < got; i++) {
        if (hp_cut(fds[i])) cut++;
        close(fds[i]);
    }
    printf("%s: %d connected, %d cut\n", mode, got, cut);
    free(junk);
    free(fds);
    return 0;
}
