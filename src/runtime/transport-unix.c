/*
 * transport-unix.c -- the na+sm transport: abstract Unix stream sockets
 * named "\0frt-na+sm-<pid>-<n>" (nothing on disk). Self address
 * "na+sm://<pid>-<n>". Ops contract: transport.h.
 * Calls: transport.c, util.c.
 */
#define _GNU_SOURCE
#include "transport.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t frt__sm_sockaddr(unsigned long pid, unsigned long n, struct sockaddr_un* sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int len = snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1, "frt-na+sm-%lu-%lu", pid, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
}

static int frt__unix_listen(const frt__addr_spec* spec, unsigned long n, bool server, char* self,
                            size_t self_size)
{
    struct sockaddr_un sa;
    unsigned long      pid = (unsigned long)getpid();
    socklen_t          sl  = frt__sm_sockaddr(pid, n, &sa);
    int                fd  = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr*)&sa, sl) != 0) {
        frt__log(NULL, MARGO_LOG_ERROR, "margo_init: cannot bind na+sm socket: %s", strerror(errno));
        frt__sock_close(fd);
        return -1;
    }
    snprintf(self, self_size, "na+sm://%lu-%lu", pid, n);
    return frt__sock_listen(fd, server);
}

static int frt__unix_dial(const frt__addr_spec* spec, double timeout_ms, const frt__log_ctx* log)
{
    struct sockaddr_storage ss;
    double                  end = frt_now_ms() + timeout_ms;
    socklen_t               sl  = frt__sm_sockaddr(spec->pid, spec->n, (struct sockaddr_un*)&ss);
    return frt__sock_dial(&ss, sl, end, true, frt__sock_connected);
}

const frt__transport frt__transport_unix = {
    .name     = "na+sm",
    .listen   = frt__unix_listen,
    .dial     = frt__unix_dial,
    .sockopts = frt__sock_connected,
    .close    = frt__sock_close,
};
