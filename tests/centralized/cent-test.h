/*
 * cent-test.h -- helpers of the centralized backend's process tests (and
 * benchmark): start cent-server processes, read their status files, wait
 * for convergence. Header-only, used next to tests/common/flock-test.h.
 */
#ifndef FLOCK_CENT_TEST_H
#define FLOCK_CENT_TEST_H

#include "flock-test.h"

#include <inttypes.h>
#include <stddef.h>

#define CT_MAX_MEMBERS 1100
#define CT_MAX_EVENTS  4096

typedef struct {
    char address[160];
    unsigned pid;
} ct_member_t;

typedef struct {
    char type[16];
    char address[160];
    unsigned pid;
} ct_event_t;

typedef struct {
    bool ok;
    char self[128];
    double start_ms;
    double ready_ms;
    double last_event_ms;
    uint64_t digest;
    size_t nmembers;
    ct_member_t members[CT_MAX_MEMBERS];
    size_t nevents;
    ct_event_t events[CT_MAX_EVENTS];
} ct_status_t;

/** A running cent-server. */
typedef struct {
    pid_t pid;
    char name[64];
    unsigned base_pid; /* first provider id */
    int nprov;
} ct_server_t;

/** Path of a status file: <dir>/<name>-<pid>.status */
static inline void ct_status_path(char* out, size_t len, const char* name, unsigned pid)
{
    snprintf(out, len, "%s/%s-%u.status", ft_tmpdir(), name, pid);
}

/** Parse a status file (false if absent or incomplete). */
static inline bool ct_read_status(const char* name, unsigned pid, ct_status_t* st)
{
    char path[1024], line[512];
    FILE* f;
    bool end = false;
    ct_status_path(path, sizeof path, name, pid);
    memset(st, 0, offsetof(ct_status_t, members));
    st->nmembers = st->nevents = 0;
    f = fopen(path, "r");
    if (!f) return false;
    while (fgets(line, sizeof line, f)) {
        char a[160], t[16];
        unsigned p;
        if (sscanf(line, "self %127s", st->self) == 1) continue;
        if (sscanf(line, "start_ms %lf", &st->start_ms) == 1) continue;
        if (sscanf(line, "ready_ms %lf", &st->ready_ms) == 1) continue;
        if (sscanf(line, "last_event_ms %lf", &st->last_event_ms) == 1) continue;
        if (sscanf(line, "digest %" SCNx64, &st->digest) == 1) continue;
        if (!strncmp(line, "m ", 2) && sscanf(line + 2, "%159s %u", a, &p) == 2) {
            if (st->nmembers < CT_MAX_MEMBERS) {
                snprintf(st->members[st->nmembers].address, 160, "%s", a);
                st->members[st->nmembers++].pid = p;
            }
            continue;
        }
        if (!strncmp(line, "e ", 2) && sscanf(line + 2, "%15s %159s %u", t, a, &p) == 3) {
            if (st->nevents < CT_MAX_EVENTS) {
                snprintf(st->events[st->nevents].type, 16, "%s", t);
                snprintf(st->events[st->nevents].address, 160, "%s", a);
                st->events[st->nevents++].pid = p;
            }
            continue;
        }
        if (!strncmp(line, "end", 3)) end = true;
    }
    fclose(f);
    st->ok = end;
    return end;
}

/** Number of events (type, address, pid) in st. */
static inline int ct_count_events(const ct_status_t* st, const char* type,
                                  const char* address, unsigned pid)
{
    int n = 0;
    for (size_t i = 0; i < st->nevents; i++)
        if (!strcmp(st->events[i].type, type) &&
            !strcmp(st->events[i].address, address) && st->events[i].pid == pid)
            n++;
    return n;
}

/** true if (address, pid) is listed in st. */
static inline bool ct_has_member(const ct_status_t* st, const char* address, unsigned pid)
{
    for (size_t i = 0; i < st->nmembers; i++)
        if (!strcmp(st->members[i].address, address) && st->members[i].pid == pid)
            return true;
    return false;
}

/** true if no member appears twice and the list is sorted (address, pid). */
static inline bool ct_members_sane(const ct_status_t* st)
{
    for (size_t i = 1; i < st->nmembers; i++) {
        int c = strcmp(st->members[i - 1].address, st->members[i].address);
        if (c > 0 || (c == 0 && st->members[i - 1].pid >= st->members[i].pid))
            return false;
    }
    return true;
}

/**
 * Start cent-server. extra: NULL-terminated extra arguments. The server's
 * status files go to ft_tmpdir(). Returns the child pid (<= 0 on failure).
 */
static inline pid_t ct_start(ct_server_t* s, const char* name, const char* bootstrap,
                             const char* addr, const char* file, const char* config,
                             unsigned base_pid, int nprov, const char* poll_ms)
{
    char pidbuf[16], nbuf[16];
    char* argv[32];
    int a = 0;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->base_pid = base_pid;
    s->nprov = nprov;
    snprintf(pidbuf, sizeof pidbuf, "%u", base_pid);
    snprintf(nbuf, sizeof nbuf, "%d", nprov);
    argv[a++] = (char*)ft_bin("tests/centralized/cent-server");
    argv[a++] = "--status";
    argv[a++] = (char*)ft_tmpdir();
    argv[a++] = "--name";
    argv[a++] = (char*)name;
    argv[a++] = "--bootstrap";
    argv[a++] = (char*)bootstrap;
    argv[a++] = "--addr";
    argv[a++] = (char*)addr;
    argv[a++] = "--file";
    argv[a++] = (char*)file;
    argv[a++] = "--config";
    argv[a++] = (char*)config;
    argv[a++] = "--pid";
    argv[a++] = pidbuf;
    argv[a++] = "--providers";
    argv[a++] = nbuf;
    if (poll_ms) {
        argv[a++] = "--poll-ms";
        argv[a++] = (char*)poll_ms;
    }
    argv[a] = NULL;
    s->pid = ft_spawn(argv);
    return s->pid;
}

/** Wait until the status file of (name, pid) exists; fills st. */
static inline bool ct_wait_status(const char* name, unsigned pid, ct_status_t* st,
                                  double timeout_ms)
{
    double end = ft_now_ms() + timeout_ms;
    while (ft_now_ms() < end) {
        if (ct_read_status(name, pid, st)) return true;
        ft_sleep_ms(20);
    }
    return false;
}

/** A (name, provider id) pair designating one provider's status file. */
typedef struct {
    const char* name;
    unsigned pid;
} ct_ref_t;

/**
 * Wait until every referenced provider reports the same digest and
 * `expect_members` members (0: any count). *out (if not NULL) receives
 * the first one's status. Returns false on timeout.
 */
static inline bool ct_wait_converged(const ct_ref_t* refs, size_t n,
                                     size_t expect_members, double timeout_ms,
                                     ct_status_t* scratch)
{
    double end = ft_now_ms() + timeout_ms;
    while (ft_now_ms() < end) {
        bool same = true;
        uint64_t digest = 0;
        for (size_t i = 0; i < n && same; i++) {
            if (!ct_read_status(refs[i].name, refs[i].pid, scratch)) {
                same = false;
                break;
            }
            if (expect_members && scratch->nmembers != expect_members) same = false;
            if (i == 0)
                digest = scratch->digest;
            else if (scratch->digest != digest)
                same = false;
        }
        if (same) return true;
        ft_sleep_ms(50);
    }
    return false;
}

/**
 * Callbacks fire just after the view changes, so a status file may show the
 * new view before the event: wait until (name, pid) has recorded exactly
 * `want` events (type, address, apid). false on timeout or if more arrived.
 */
static inline bool ct_wait_count(const char* name, unsigned pid, const char* type,
                                 const char* address, unsigned apid, int want,
                                 double timeout_ms)
{
    static ct_status_t s;
    double end = ft_now_ms() + timeout_ms;
    while (ft_now_ms() < end) {
        if (ct_read_status(name, pid, &s)) {
            int n = ct_count_events(&s, type, address, apid);
            if (n == want) return true;
            if (n > want) {
                FT_FAIL("%s/%u: %d %s events about %s/%u, expected %d", name, pid, n,
                        type, address, apid, want);
                return false;
            }
        }
        ft_sleep_ms(20);
    }
    FT_FAIL("%s/%u: timeout waiting for %d %s events about %s/%u", name, pid, want, type,
            address, apid);
    return false;
}

/** Wait until (name, pid) has recorded `want` events in total. */
static inline bool ct_wait_nevents(const char* name, unsigned pid, size_t want,
                                   double timeout_ms)
{
    static ct_status_t s;
    double end = ft_now_ms() + timeout_ms;
    while (ft_now_ms() < end) {
        if (ct_read_status(name, pid, &s) && s.nevents >= want) return s.nevents == want;
        ft_sleep_ms(20);
    }
    return false;
}

/** Send sig to the server and, for SIGTERM/SIGKILL, reap it (bounded wait). */
static inline int ct_stop(ct_server_t* s, int sig, double timeout_ms)
{
    int status = -1;
    double end = ft_now_ms() + timeout_ms;
    kill(s->pid, sig);
    while (ft_now_ms() < end) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid) {
            ft_forget(s->pid);
            return status;
        }
        ft_sleep_ms(10);
    }
    return -1;
}

#endif /* FLOCK_CENT_TEST_H */
