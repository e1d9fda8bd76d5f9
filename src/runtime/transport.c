/*
 * transport.c -- what the two transports share: the kind -> ops lookup,
 * connecting a stream socket within a deadline, listening, the set-up of a
 * connected socket. See transport.h for the ops contract.
 * Calls: util.c (logging, clocks) only.
 */
#define _GNU_SOURCE
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

const frt__transport* frt__transport_of(frt__addr_kind kind)
{
    return kind == FRT__AK_SM ? &frt__transport_unix : &frt__transport_tcp;
}

bool frt__sock_connected(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) return false;
    struct timeval tv = {0, FRT__CALLER_SLICE_MS * 1000};
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

/* Wait (poll) for the non-blocking connect of fd to finish before end.
 * @return true if it connected; false (fd closed) otherwise. */
static bool frt__sock_connect_wait(int fd, double end)
{
    for (;;) {
        double left = end - frt_now_ms();
        if (left <= 0) {
            close(fd);
            return false;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int           r   = poll(&pfd, 1, (int)left + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            close(fd);
            return false;
        }
        int       err = 0;
        socklen_t el  = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
            close(fd);
            return false;
        }
        return true;
    }
}

static int frt__sock_connect(const struct sockaddr_storage* ss, socklen_t sl, double end,
                             bool retry_full)
{
    for (;;) {
        int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (connect(fd, (const struct sockaddr*)ss, sl) == 0) return fd;
        if (errno == EAGAIN && retry_full && frt_now_ms() < end) {
            /* unix backlog full: retry shortly */
            close(fd);
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (errno != EINPROGRESS && errno != EINTR) {
            close(fd);
            return -1;
        }
        return frt__sock_connect_wait(fd, end) ? fd : -1;
    }
}

int frt__sock_listen(int fd, bool server)
{
    if (server && listen(fd, SOMAXCONN) != 0) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int frt__sock_dial(const struct sockaddr_storage* ss, socklen_t sl, double end, bool retry_full,
                  bool (*setup)(int fd))
{
    int fd = frt__sock_connect(ss, sl, end, retry_full);
    if (fd >= 0 && !setup(fd)) {
        close(fd);
        return -1;
    }
    return fd;
}

void frt__sock_close(int fd)
{
    if (fd >= 0) close(fd);
}
