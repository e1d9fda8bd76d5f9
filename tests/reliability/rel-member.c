/*
 * rel-member.c -- one Flock group member in its own process, for the
 * reliability tests (chaos, partitions, authenticated groups).
 *
 *   rel-member --listen ADDR --status FILE --config PROVIDER_CONFIG_JSON
 *              [--join GROUPFILE] [--pid N] [--poll-ms MS]
 *
 * Without --join it starts a group of itself (the config's "file", if any,
 * is written by the provider); with --join it loads GROUPFILE and joins.
 * The member's own view (the backend's, not a client cache) is written to
 * FILE every poll (tmp + rename, so readers never see a partial file):
 *   self <address>
 *   digest <16 hex digits>
 *   members <n>        then n lines "m <address> <provider_id>"
 *   end
 * or, while the backend's get_view fails: self, "error <code>", "members 0", end.
 * stdout: "ready <address>" once registered. Exit 2 if registration fails.
 * SIGTERM/SIGINT: provider destroyed (graceful leave), finalize, exit 0.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flock/flock-bootstrap.h>
#include <flock/flock-server.h>

#include "flock/provider-internal.h"

static volatile sig_atomic_t g_stop = 0;
static void on_sig(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct {
    FILE*       f;
    const char* self;
} status_ctx;

static void write_view(void* uargs, const flock_group_view_t* cv)
{
    status_ctx*         c = uargs;
    flock_group_view_t* v = (flock_group_view_t*)cv;
    FLOCK_GROUP_VIEW_LOCK(v);
    fprintf(c->f, "self %s\ndigest %016" PRIx64 "\nmembers %zu\n", c->self, v->digest,
            (size_t)v->members.size);
    for (size_t i = 0; i < v->members.size; i++)
        fprintf(c->f, "m %s %u\n", v->members.data[i].address,
                (unsigned)v->members.data[i].provider_id);
    fprintf(c->f, "end\n");
    FLOCK_GROUP_VIEW_UNLOCK(v);
}

static void write_status(flock_provider_t p, const char* path, const char* self)
{
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    char                tmp[1100];
    if (flock__provider_get_backend(p, &impl, &state) != FLOCK_SUCCESS) return;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE* f = fopen(tmp, "w");
    if (!f) return;
    status_ctx     c  = {f, self};
    flock_return_t gv = impl->get_view(state, write_view, &c);
    /* a backend that serves no view (e.g. declared dead, not back yet) */
    if (gv != FLOCK_SUCCESS) fprintf(f, "self %s\nerror %d\nmembers 0\nend\n", self, (int)gv);
    if (fclose(f) == 0) rename(tmp, path);
}

int main(int argc, char** argv)
{
    const char *listen = NULL, *status = NULL, *config = NULL, *join = NULL;
    int         pid = 1, poll_ms = 50, rc = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--listen")) listen = argv[i + 1];
        else if (!strcmp(argv[i], "--status")) status = argv[i + 1];
        else if (!strcmp(argv[i], "--config")) config = argv[i + 1];
        else if (!strcmp(argv[i], "--join")) join = argv[i + 1];
        else if (!strcmp(argv[i], "--pid")) pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--poll-ms")) poll_ms = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "rel-member: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!listen || !status || !config) {
        fprintf(stderr, "usage: rel-member --listen ADDR --status FILE --config JSON "
                        "[--join GROUPFILE] [--pid N] [--poll-ms MS]\n");
        return 2;
    }
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    signal(SIGPIPE, SIG_IGN);
    if (!getenv("REL_MEMBER_VERBOSE")) margo_set_global_log_level(MARGO_LOG_CRITICAL);
    margo_instance_id mid = margo_init(listen, MARGO_SERVER_MODE, 0, 4);
    if (!mid) {
        fprintf(stderr, "rel-member: margo_init(%s) failed\n", listen);
        return 2;
    }
    flock_group_view_t        view = FLOCK_GROUP_VIEW_INITIALIZER;
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    flock_provider_t          p    = NULL;
    if (join) {
        if (flock_group_view_init_from_file(join, &view) != FLOCK_SUCCESS) {
            fprintf(stderr, "rel-member: cannot read group file %s\n", join);
            rc = 2;
            goto finish;
        }
        args.initial_view = &view;
    }
    flock_return_t ret = flock_provider_register(mid, (uint16_t)pid, config, &args, &p);
    if (ret != FLOCK_SUCCESS) {
        fprintf(stderr, "rel-member: flock_provider_register failed (%d)\n", (int)ret);
        rc = 2;
        goto finish;
    }
    const char* self = frt_self_addr_str(mid);
    write_status(p, status, self);
    printf("ready %s\n", self);
    fflush(stdout);
    while (!g_stop) {
        usleep((useconds_t)poll_ms * 1000u);
        write_status(p, status, self);
    }
    flock_provider_destroy(p);
finish:
    flock_group_view_clear(&view);
    margo_finalize(mid);
    return rc;
}
