/*
 * tools-test.h -- helpers for tests that run flockd and the flock CLI as a
 * user does: processes started through /bin/sh with stdout/stderr sent to
 * files in the test's scratch directory, exit statuses, output polling.
 * Shared by tests/daemon, tests/cli and tests/mpi (include it by path).
 */
#ifndef FLOCK_TOOLS_TEST_H
#define FLOCK_TOOLS_TEST_H

#include "flock-test.h"

#include <fcntl.h>
#include <stdarg.h>

/* Generous: the machine is shared by several builds and test runs. */
#define TT_START_TIMEOUT_MS 30000.0
#define TT_EXIT_TIMEOUT_MS  30000.0

/* Strings handed out by tt_path, freed at exit. */
static char** tt_paths   = NULL;
static size_t tt_npaths  = 0;

static void tt_free_paths(void)
{
    for (size_t i = 0; i < tt_npaths; i++) free(tt_paths[i]);
    free(tt_paths);
    tt_paths  = NULL;
    tt_npaths = 0;
}

/** Path inside the scratch directory; valid until the test exits. */
static inline const char* tt_path(const char* name)
{
    if (tt_npaths == 0) atexit(tt_free_paths);
    char** grown = (char**)realloc(tt_paths, (tt_npaths + 1) * sizeof *grown);
    REQUIRE(grown != NULL);
    tt_paths = grown;
    char* out = (char*)malloc(1024);
    REQUIRE(out != NULL);
    snprintf(out, 1024, "%s/%s", ft_tmpdir(), name);
    tt_paths[tt_npaths++] = out;
    return out;
}

/** Write text to path; if dequote, every ' becomes " (JSON written with single quotes). */
static inline void tt_write_file(const char* path, const char* text, bool dequote)
{
    FILE* f = fopen(path, "w");
    REQUIRE(f != NULL);
    for (const char* p = text; *p; p++) fputc(dequote && *p == '\'' ? '"' : *p, f);
    fclose(f);
}

/** Whole file as a malloc'd string ("" if missing). */
static inline char* tt_read_file(const char* path)
{
    FILE*  f   = fopen(path, "r");
    char*  buf = NULL;
    size_t len = 0;
    if (!f) return strdup("");
    FILE* m = open_memstream(&buf, &len);
    int   c;
    while ((c = fgetc(f)) != EOF) fputc(c, m);
    fclose(m);
    fclose(f);
    return buf;
}

static inline bool tt_file_contains(const char* path, const char* needle)
{
    char* s = tt_read_file(path);
    bool  r = strstr(s, needle) != NULL;
    free(s);
    return r;
}

/** Number of occurrences of needle in the file. */
static inline int tt_file_count(const char* path, const char* needle)
{
    char* s = tt_read_file(path);
    int   n = 0;
    for (char* p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    free(s);
    return n;
}

typedef struct {
    const char* path;
    const char* needle;
    int         count;
} tt_contains_arg;

static inline bool tt_pred_contains(void* arg)
{
    tt_contains_arg* a = (tt_contains_arg*)arg;
    return tt_file_count(a->path, a->needle) >= a->count;
}

/** Wait until path contains needle at least count times. */
static inline bool tt_wait_contains(const char* path, const char* needle, int count, double timeout_ms)
{
    tt_contains_arg a = {path, needle, count};
    return ft_wait_until(tt_pred_contains, &a, timeout_ms);
}

/**
 * Start `cmdline` (a shell command, run with exec so the pid is the
 * program's own) with stdout to out and stderr to err (NULL: /dev/null).
 */
static inline pid_t tt_start(const char* out, const char* err, const char* fmt, ...)
{
    char    cmd[4096], full[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "exec %s >'%s' 2>'%s' </dev/null", cmd, out ? out : "/dev/null",
             err ? err : "/dev/null");
    /* never let a later wait see the output of an earlier run */
    if (out) unlink(out);
    if (err) unlink(err);
    char* argv[] = {(char*)"/bin/sh", (char*)"-c", full, NULL};
    pid_t pid    = ft_spawn(argv);
    REQUIRE(pid > 0);
    return pid;
}

/** Wait for pid to exit; returns its exit status, 128+signal if killed by a
 *  signal, or -1 on timeout (the process is then killed). */
static inline int tt_wait_exit(pid_t pid, double timeout_ms)
{
    double end = ft_now_ms() + timeout_ms;
    for (;;) {
        int   st = 0;
        pid_t r  = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            ft_forget(pid);
            if (WIFEXITED(st)) return WEXITSTATUS(st);
            if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
            return -1;
        }
        if (r < 0) return -1;
        if (ft_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            ft_forget(pid);
            return -1;
        }
        ft_sleep_ms(10);
    }
}

/** Run a command to completion (see tt_start); returns its exit status. */
#define tt_run(out, err, ...) tt_wait_exit(tt_start(out, err, __VA_ARGS__), TT_EXIT_TIMEOUT_MS)

/** Print a file to stderr (diagnostics for a failed check). */
static inline void tt_dump(const char* label, const char* path)
{
    char* s = tt_read_file(path);
    fprintf(stderr, "---- %s (%s) ----\n%s\n---- end ----\n", label, path, s);
    free(s);
}

/**
 * The address a flockd printed ("flockd: listening on <addr>") into out, or
 * NULL. Static buffer.
 */
static inline const char* tt_flockd_address(const char* out)
{
    static char addr[256];
    char*       s = tt_read_file(out);
    char*       p = strstr(s, "flockd: listening on ");
    const char* r = NULL;
    if (p) {
        p += strlen("flockd: listening on ");
        size_t n = strcspn(p, "\n");
        if (n < sizeof addr) {
            memcpy(addr, p, n);
            addr[n] = 0;
            r       = addr;
        }
    }
    free(s);
    return r;
}

/** Start flockd on `listen` with config file cfg; waits for "flockd: ready"
 *  (fails the test with the logs otherwise). out/err are scratch names. */
static inline pid_t tt_start_flockd(const char* listen, const char* cfg, const char* out,
                                    const char* err)
{
    pid_t pid = tt_start(out, err, "'%s' %s -c '%s' -v debug", ft_bin("src/daemon/flockd"),
                         listen, cfg);
    if (!tt_wait_contains(out, "flockd: ready", 1, TT_START_TIMEOUT_MS)) {
        tt_dump("flockd stdout", out);
        tt_dump("flockd stderr", err);
        REQUIRE(!"flockd did not become ready");
    }
    return pid;
}

#endif /* FLOCK_TOOLS_TEST_H */
