/*
 * flockd.c -- the Flock daemon: starts Flock providers from a Bedrock-format
 * JSON configuration (see flockd-config.h for the format and the bootstrap
 * methods), prints its address, and leaves its groups gracefully on SIGINT
 * or SIGTERM.
 *
 *   flockd <address or protocol> -c config.json [-v level]
 *   flockd --check -c config.json        (validate only)
 *
 * Order of operations: the whole configuration is validated first (a bad
 * config exits with status 1 and a message naming the field, before any
 * network activity); then the runtime instance is created and
 * "flockd: listening on <address>" is printed; then each provider is
 * started in order, trying its bootstrap methods in order; then
 * "flockd: ready" is printed. SIGINT/SIGTERM after that destroys the
 * providers in reverse order (graceful leave), finalizes the runtime and
 * exits 0. A signal during start-up, or a second signal during the stop,
 * exits at once with status 1 (a provider may be blocked joining or leaving
 * a group that does not answer) -- except SIGTERMs within a second of the
 * first, which are the same stop (timeout(1) signals the child and its
 * process group). SIGQUIT exits at once; SIGHUP reopens --log-file. Logs go
 * to stderr (or --log-file), as text or JSON lines (--log-format).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <margo.h>
#include <flock/flock-bootstrap.h>
#include <flock/flock-group-view.h>
#include <flock/flock-server.h>
#ifdef FLOCK_HAVE_MPI
#include <mpi.h>
#endif

#include "flockd-config.h"
#include "flockd-bootstrap.h"

#ifndef FLOCKD_VERSION
#define FLOCKD_VERSION "unknown"
#endif

#define FLOCKD_EXIT_OK    0
#define FLOCKD_EXIT_FAIL  1
#define FLOCKD_EXIT_USAGE 2

typedef struct flockd_args {
    const char* address;
    const char* config;
    int         log_level; /* margo_log_level */
    bool        check;
    bool        log_json;  /* --log-format json */
    const char* log_file;  /* --log-file, reopened on SIGHUP */
} flockd_args;

/* SIGTERMs closer than this count as one stop (timeout(1) signals the child
 * and its process group at once). */
#define FLOCKD_SIGTERM_COALESCE_MS 1000.0

typedef struct flockd_state {
    margo_instance_id mid;
    flock_provider_t* providers;
    size_t            num_started;
    bool              mpi_initialized_here;
    /* start-up / shutdown handshake with the signal thread */
    pthread_mutex_t   mtx;
    pthread_cond_t    cv;
    bool              started;
    int               stop_signal;
    bool              stopped; /* providers destroyed, runtime finalized */
    double            stop_ms; /* monotonic time of the stop signal */
    const char*       log_file;
    bool              quit;    /* the signal thread must return */
} flockd_state;

static void flockd__usage(FILE* f)
{
    fprintf(f,
            "Usage: flockd <address or protocol> -c <config.json> [-v <level>]\n"
            "       flockd --check -c <config.json>\n"
            "\n"
            "Start the Flock providers described by a Bedrock-format JSON configuration and\n"
            "keep them running until SIGINT or SIGTERM, which makes them leave their groups\n"
            "gracefully.\n"
            "\n"
            "  <address or protocol>   where to listen: na+sm, ofi+tcp, tcp, tcp://0.0.0.0:5000,\n"
            "                          ofi+tcp://127.0.0.1:0, ofi+tcp://[::1]:0 (IPv6), ...\n"
            "  -c, --config FILE       the configuration (required)\n"
            "  -v, --verbose LEVEL     log level: trace, debug, info, warning, error, critical\n"
            "                          (default: info)\n"
            "      --log-format FMT    text (default; \"[<ISO 8601 UTC time>Z] [level] [instance] msg\")\n"
            "                          or json (one {\"time\",\"level\",\"instance\",\"msg\"} per line)\n"
            "      --log-file PATH     append the log to PATH instead of stderr; SIGHUP reopens it\n"
            "      --check             validate the configuration and exit (0 if valid)\n"
            "  -h, --help              this help\n"
            "      --version           print the version\n"
            "\n"
            "Configuration (JSON):\n"
            "  {\"libraries\": [\"libflock-bedrock-module.so\"],\n"
            "   \"providers\": [{\"type\": \"flock\", \"name\": \"my_group\", \"provider_id\": 42,\n"
            "                   \"dependencies\": {\"pool\": \"__primary__\"},\n"
            "                   \"config\": {\"bootstrap\": [\"join\", \"self\"], \"file\": \"my.flock\",\n"
            "                              \"group\": {\"type\": \"centralized\", \"config\": {}}}}]}\n"
            "\n"
            "Bootstrap methods (a string or a list tried in order):\n"
            "  self   start a new group of just this provider (if \"file\" exists, only when\n"
            "         none of its members answers: a live group is never replaced)\n"
            "  join   join the group described by \"file\"; a provider the file lists takes\n"
            "         its place again (a restart)\n"
            "  file   the same as join\n"
            "  view   like \"file\" with an inline view: \"view\": {\"members\": [{\"address\":\n"
            "         ..., \"provider_id\": ...}], \"metadata\": {...}}\n"
            "  mpi    all ranks of the MPI job (or those in \"mpi_ranks\") form the group\n"
            "A list moves on from join/file only when the group file does not exist; a file\n"
            "that cannot be read, is not a group view, is of another backend type, or whose\n"
            "group cannot be joined is an error, and nothing is written.\n"
            "\n"
            "Signals: SIGINT/SIGTERM leave the groups gracefully (SIGTERMs within a second\n"
            "of each other count as one; another one after that exits at once), SIGQUIT\n"
            "exits at once, SIGHUP reopens --log-file. Every key of the configuration is\n"
            "in docs/config.md; relative paths resolve against the working directory.\n"
            "\n"
            "Output: \"flockd: listening on <address>\" once the runtime is up, then\n"
            "\"flockd: ready\" once every provider started (stdout, flushed); logs on stderr.\n"
            "Exit status: 0 after a graceful stop, 1 on a bad configuration or a start-up\n"
            "failure, 2 on a bad command line.\n");
}

/* Contract: fills a from argv; returns 0, or -1 after printing a usage error. */
static int flockd__parse_args(int argc, char** argv, flockd_args* a, bool* help, bool* version)
{
    memset(a, 0, sizeof *a);
    a->log_level = MARGO_LOG_INFO;
    *help = *version = false;
    for (int i = 1; i < argc; i++) {
        const char* s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            *help = true;
            return 0;
        } else if (strcmp(s, "--version") == 0) {
            *version = true;
            return 0;
        } else if (strcmp(s, "--check") == 0) {
            a->check = true;
        } else if (strcmp(s, "-c") == 0 || strcmp(s, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "flockd: option %s needs a file\n", s);
                return -1;
            }
            a->config = argv[++i];
        } else if (strcmp(s, "--log-format") == 0 || strncmp(s, "--log-format=", 13) == 0
                   || strcmp(s, "--log-file") == 0 || strncmp(s, "--log-file=", 11) == 0) {
            bool        fmt = strncmp(s, "--log-format", 12) == 0;
            const char* eq  = strchr(s, '=');
            const char* v   = eq ? eq + 1 : NULL;
            if (!v) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "flockd: option %s needs a value\n", s);
                    return -1;
                }
                v = argv[++i];
            }
            if (fmt && strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                fprintf(stderr, "flockd: --log-format: expected text or json, got \"%s\"\n", v);
                return -1;
            }
            if (!fmt && !v[0]) {
                fprintf(stderr, "flockd: --log-file: empty path\n");
                return -1;
            }
            if (fmt) a->log_json = strcmp(v, "json") == 0;
            else a->log_file = v;
        } else if (strncmp(s, "--config=", 9) == 0) {
            a->config = s + 9;
        } else if (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0
                   || strncmp(s, "--verbose=", 10) == 0) {
            const char* v = NULL;
            if (s[1] == '-' && s[9] == '=') {
                v = s + 10;
            } else {
                if (i + 1 >= argc) {
                    fprintf(stderr, "flockd: option %s needs a level\n", s);
                    return -1;
                }
                v = argv[++i];
            }
            a->log_level = flockd__parse_log_level(v);
            if (a->log_level < 0) {
                fprintf(stderr,
                        "flockd: unknown log level \"%s\" (trace, debug, info, warning, error, "
                        "critical)\n",
                        v);
                return -1;
            }
        } else if (s[0] == '-' && s[1] != 0) {
            fprintf(stderr, "flockd: unknown option \"%s\"\n", s);
            return -1;
        } else if (a->address) {
            fprintf(stderr, "flockd: unexpected argument \"%s\" (one address only)\n", s);
            return -1;
        } else {
            a->address = s;
        }
    }
    if (!a->config) {
        fprintf(stderr, "flockd: missing -c <config.json>\n");
        return -1;
    }
    if (!a->address && !a->check) {
        fprintf(stderr, "flockd: missing the address or protocol to listen on (e.g. na+sm)\n");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* signals                                                             */
/* ------------------------------------------------------------------ */

static double flockd__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Contract: points stderr (the log) at path, appending (created 0640).
 * -1 with errno set if it cannot be opened (stderr unchanged). */
static int flockd__open_log(const char* path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0) return -1;
    int r = dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static void flockd__signal_set(sigset_t* set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGQUIT);
    sigaddset(set, SIGHUP);
}

/* Contract: waits for SIGINT/SIGTERM/SIGQUIT/SIGHUP (blocked in every
 * thread). SIGHUP reopens --log-file; SIGQUIT exits at once. During
 * start-up SIGINT/SIGTERM exit the process; afterwards the first one wakes
 * the main thread (graceful stop), SIGTERMs within FLOCKD_SIGTERM_COALESCE_MS
 * of it count as the same stop, any later one exits at once, and signals
 * after the stop (while waiting in MPI_Finalize) are ignored. Returns when
 * main sets quit and sends it a signal. */
static void* flockd__signal_thread(void* arg)
{
    flockd_state* st = arg;
    sigset_t      set;
    int           sig = 0;
    flockd__signal_set(&set);
    for (;;) {
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            if (st->log_file && flockd__open_log(st->log_file) != 0)
                margo_error(MARGO_INSTANCE_NULL, "[flockd] SIGHUP: cannot reopen the log file %s: %s",
                            st->log_file, strerror(errno));
            else if (st->log_file)
                margo_info(MARGO_INSTANCE_NULL, "[flockd] SIGHUP: log file %s reopened", st->log_file);
            continue;
        }
        if (sig == SIGQUIT) {
            fprintf(stderr, "flockd: %s, exiting at once without leaving the groups\n", strsignal(sig));
            _exit(FLOCKD_EXIT_FAIL);
        }
        pthread_mutex_lock(&st->mtx);
        if (st->quit) { /* main is exiting and woke us up */
            pthread_mutex_unlock(&st->mtx);
            return NULL;
        }
        if (!st->started) {
            pthread_mutex_unlock(&st->mtx);
            fprintf(stderr, "flockd: %s during start-up, exiting\n", strsignal(sig));
            _exit(FLOCKD_EXIT_FAIL);
        }
        if (st->stopped) { /* the groups are left already (e.g. waiting in MPI_Finalize) */
            pthread_mutex_unlock(&st->mtx);
            continue;
        }
        if (st->stop_signal == SIGTERM && sig == SIGTERM
            && flockd__mono_ms() - st->stop_ms < FLOCKD_SIGTERM_COALESCE_MS) {
            pthread_mutex_unlock(&st->mtx); /* the same stop, sent twice (timeout(1)) */
            continue;
        }
        if (st->stop_signal != 0) { /* a second signal: do not wait for the graceful stop */
            pthread_mutex_unlock(&st->mtx);
            fprintf(stderr, "flockd: %s again, exiting without leaving the groups\n", strsignal(sig));
            _exit(FLOCKD_EXIT_FAIL);
        }
        st->stop_signal = sig;
        st->stop_ms     = flockd__mono_ms();
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mtx);
    }
}

/* Phase 1: validate everything before starting anything. Contract: cfg
 * zeroed; prints the warnings; -1 (message printed) on an invalid config. */
static int flockd__load_config(const flockd_args* args, const flockd_config_options* opts,
                               flockd_config* cfg)
{
    char err[FLOCKD_MSG_LEN];
    if (flockd__config_load(args->config, opts, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "flockd: invalid configuration %s: %s\n", args->config, err);
        return -1;
    }
    for (size_t i = 0; i < cfg->num_warnings; i++)
        margo_warning(MARGO_INSTANCE_NULL, "[flockd] %s: %s", args->config, cfg->warnings[i]);
    return 0;
}

/* Phase 2: signals are blocked in every thread (the runtime's included) and
 * handled by one thread with sigwait. Contract: -1 (message printed) if the
 * thread cannot start. */
static int flockd__start_signal_thread(flockd_state* st, pthread_t* sigthread)
{
    sigset_t set;
    flockd__signal_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (pthread_create(sigthread, NULL, flockd__signal_thread, st) != 0) {
        fprintf(stderr, "flockd: cannot create the signal thread\n");
        return -1;
    }
    return 0;
}

/* Phase 3: the runtime, listening on the command line's address. */
static int flockd__start_runtime(flockd_state* st, const flockd_args* args)
{
    st->mid = margo_init(args->address, MARGO_SERVER_MODE, 0, 0);
    if (st->mid == MARGO_INSTANCE_NULL) {
        fprintf(stderr, "flockd: cannot listen on \"%s\"\n", args->address);
        return -1;
    }
    margo_set_log_level(st->mid, (margo_log_level)args->log_level);
    printf("flockd: listening on %s\n", frt_self_addr_str(st->mid));
    fflush(stdout);
    return 0;
}

/* Phase 4: the providers, in order; st->num_started counts those to
 * destroy. Then "ready". */
static int flockd__start_providers(flockd_state* st, const flockd_config* cfg)
{
    for (size_t i = 0; i < cfg->num_providers; i++) {
        if (flockd__start_provider(st->mid, &st->mpi_initialized_here, &cfg->providers[i],
                                   &st->providers[i]) != 0) {
            fprintf(stderr, "flockd: provider \"%s\" could not start\n", cfg->providers[i].name);
            return -1;
        }
        st->num_started++;
    }
    pthread_mutex_lock(&st->mtx);
    st->started = true;
    pthread_mutex_unlock(&st->mtx);
    printf("flockd: ready\n");
    fflush(stdout);
    return 0;
}

/* Phase 5: run until SIGINT/SIGTERM. */
static void flockd__wait_for_signal(flockd_state* st)
{
    pthread_mutex_lock(&st->mtx);
    while (st->stop_signal == 0) pthread_cond_wait(&st->cv, &st->mtx);
    pthread_mutex_unlock(&st->mtx);
    margo_info(st->mid, "[flockd] %s: leaving the groups", strsignal(st->stop_signal));
}

/* Graceful stop of whatever started: providers in reverse order (each leaves
 * its group), the runtime, MPI, then the signal thread. */
static void flockd__stop(flockd_state* st, const flockd_args* args, int rc,
                         bool have_sigthread, pthread_t sigthread)
{
    while (st->num_started > 0) {
        st->num_started--;
        flock_provider_destroy(st->providers[st->num_started]);
    }
    if (st->mid) margo_finalize(st->mid);
    pthread_mutex_lock(&st->mtx);
    st->stopped = true;
    pthread_mutex_unlock(&st->mtx);
    if (rc == FLOCKD_EXIT_OK && !args->check && st->mid) {
        printf("flockd: stopped\n");
        fflush(stdout);
    }
#ifdef FLOCK_HAVE_MPI
    /* MPI_Finalize waits for every rank of the job: a daemon stopped alone
     * has already left its groups, but its process ends with the job (exiting
     * without MPI_Finalize would make mpiexec kill the whole job). */
    if (st->mpi_initialized_here) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) {
            fprintf(stderr, "flockd: waiting in MPI_Finalize for the other ranks of the job\n");
            MPI_Finalize();
        }
    }
#endif
    if (have_sigthread) {
        pthread_mutex_lock(&st->mtx);
        st->quit = true;
        pthread_mutex_unlock(&st->mtx);
        pthread_kill(sigthread, SIGTERM); /* blocked: sigwait receives it */
        pthread_join(sigthread, NULL);
    }
}

int main(int argc, char** argv)
{
    flockd_args           args;
    flockd_config         cfg;
    flockd_state          st;
    flockd_config_options opts = {false, NULL, NULL};
    bool                  help = false, version = false, have_sigthread = false;
    pthread_t             sigthread;
    int                   rc = FLOCKD_EXIT_FAIL;

    memset(&cfg, 0, sizeof cfg);
    memset(&st, 0, sizeof st);
    memset(&sigthread, 0, sizeof sigthread); /* handed to flockd__stop even if never started */
    pthread_mutex_init(&st.mtx, NULL);
    pthread_cond_init(&st.cv, NULL);
#ifdef FLOCK_HAVE_MPI
    opts.have_mpi = true;
#endif

    if (flockd__parse_args(argc, argv, &args, &help, &version) != 0) {
        fprintf(stderr, "Try 'flockd --help'.\n");
        return FLOCKD_EXIT_USAGE;
    }
    if (help) {
        flockd__usage(stdout);
        return FLOCKD_EXIT_OK;
    }
    if (version) {
        printf("flockd %s\n", FLOCKD_VERSION);
        return FLOCKD_EXIT_OK;
    }
    if (args.log_json) setenv("FRT_LOG_FORMAT", "json", 1); /* before the first log line */
    if (args.log_file && flockd__open_log(args.log_file) != 0) {
        fprintf(stderr, "flockd: cannot open the log file %s: %s\n", args.log_file, strerror(errno));
        return FLOCKD_EXIT_FAIL;
    }
    st.log_file = args.log_file;
    margo_set_global_log_level((margo_log_level)args.log_level);

    if (flockd__load_config(&args, &opts, &cfg) != 0) goto finish;
    if (args.check) {
        printf("flockd: configuration %s is valid (%zu provider%s)\n", args.config,
               cfg.num_providers, cfg.num_providers == 1 ? "" : "s");
        rc = FLOCKD_EXIT_OK;
        goto finish;
    }
    st.providers = calloc(cfg.num_providers, sizeof *st.providers);
    if (!st.providers) {
        fprintf(stderr, "flockd: out of memory\n");
        goto finish;
    }
    if (flockd__start_signal_thread(&st, &sigthread) != 0) goto finish;
    have_sigthread = true;
    if (flockd__start_runtime(&st, &args) != 0 || flockd__start_providers(&st, &cfg) != 0)
        goto finish;
    flockd__wait_for_signal(&st);
    rc = FLOCKD_EXIT_OK;

finish:
    flockd__stop(&st, &args, rc, have_sigthread, sigthread);
    free(st.providers);
    flockd__config_free(&cfg);
    return rc;
}
