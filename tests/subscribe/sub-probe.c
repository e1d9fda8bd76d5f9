/*
 * sub-probe.c -- a tiny client for the subscription tests (not installed):
 *   sub-probe watch GROUPFILE          subscribe through the group file and
 *                                      print one line per change until
 *                                      SIGTERM/SIGINT, then unsubscribe
 *   sub-probe set GROUPFILE KEY [VALUE]  set (or, without VALUE, remove) a
 *                                      metadata entry; exit 0 on success
 * Lines: "READY <members>", "JOINED|LEFT|DIED <address> <provider id>",
 * "META <key> <value>" or "META <key> (removed)", "UNSUBSCRIBED"; errors on
 * stderr as "ERROR <FLOCK_ERR_...>".
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flock/flock-client.h>
#include <flock/flock-group.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_member(void* ctx, flock_update_t u, const char* address, uint16_t pid)
{
    (void)ctx;
    pthread_mutex_lock(&out_lock);
    printf("%s %s %u\n",
           u == FLOCK_MEMBER_JOINED ? "JOINED" : u == FLOCK_MEMBER_LEFT ? "LEFT" : "DIED",
           address, (unsigned)pid);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void on_meta(void* ctx, const char* key, const char* value)
{
    (void)ctx;
    if (key[0] == '_' && key[1] == '_') return; /* reserved keys: not the test's business */
    pthread_mutex_lock(&out_lock);
    printf("META %s %s\n", key, value ? value : "(removed)");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static const char* err_name(flock_return_t r)
{
    switch (r) {
#define X(code, msg) \
    case code:       \
        return #code;
        FLOCK_RETURN_VALUES
#undef X
    default:
        return "FLOCK_ERR_?";
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: sub-probe watch GROUPFILE | set GROUPFILE KEY [VALUE]\n");
    exit(2);
}

int main(int argc, char** argv)
{
    if (argc < 3) usage();
    const char* mode = argv[1];
    bool        watch = strcmp(mode, "watch") == 0;
    if (!watch && (strcmp(mode, "set") != 0 || argc < 4)) usage();

    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_return_t     r = flock_group_view_from_file(argv[2], &v);
    if (r != FLOCK_SUCCESS || v.members.size == 0) {
        fprintf(stderr, "ERROR %s (group file %s)\n", err_name(r), argv[2]);
        return 1;
    }
    char proto[32];
    snprintf(proto, sizeof proto, "%s", v.members.data[0].address);
    char* colon = strstr(proto, "://");
    if (colon) *colon = '\0';
    flock_group_view_clear(&v);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* runtime threads inherit it */

    margo_instance_id mid = margo_init(proto, MARGO_CLIENT_MODE, 0, 0);
    if (!mid) {
        fprintf(stderr, "ERROR cannot start a %s client\n", proto);
        return 1;
    }
    margo_set_log_level(mid, getenv("SUB_PROBE_VERBOSE") ? MARGO_LOG_INFO : MARGO_LOG_ERROR);
    flock_client_t       c = NULL;
    flock_group_handle_t h = NULL;
    int                  rc = 1;
    r = flock_client_init(mid, ABT_POOL_NULL, &c);
    if (r == FLOCK_SUCCESS) r = flock_group_handle_create_from_file(c, argv[2], 0, &h);
    if (r != FLOCK_SUCCESS) {
        fprintf(stderr, "ERROR %s (handle)\n", err_name(r));
        goto finish;
    }
    if (!watch) {
        r = flock_group_metadata_set(h, argv[3], argc > 4 ? argv[4] : NULL);
        if (r != FLOCK_SUCCESS) fprintf(stderr, "ERROR %s\n", err_name(r));
        rc = r == FLOCK_SUCCESS ? 0 : 1;
        goto finish;
    }
    r = flock_group_subscribe(h, on_member, on_meta, NULL);
    if (r != FLOCK_SUCCESS) {
        fprintf(stderr, "ERROR %s (subscribe)\n", err_name(r));
        goto finish;
    }
    flock_group_get_view(h, &v);
    pthread_mutex_lock(&out_lock);
    printf("READY %zu\n", (size_t)v.members.size);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    flock_group_view_clear(&v);
    int sig = 0;
    sigwait(&set, &sig);
    r = flock_group_unsubscribe(h);
    pthread_mutex_lock(&out_lock);
    printf(r == FLOCK_SUCCESS ? "UNSUBSCRIBED\n" : "UNSUBSCRIBE FAILED\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    rc = r == FLOCK_SUCCESS ? 0 : 1;
finish:
    if (h) flock_group_handle_release(h);
    if (c) flock_client_finalize(c);
    margo_finalize(mid);
    return rc;
}
