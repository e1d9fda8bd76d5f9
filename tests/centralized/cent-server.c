/*
 * cent-server.c -- the test server started by the centralized backend's
 * process tests and benchmark. It hosts one or more Flock providers using
 * the "centralized" backend and reports what they see in status files.
 *
 *   cent-server --status DIR --name NAME [--addr PROTO] [--bootstrap self|join]
 *               [--file GROUPFILE] [--config GROUPCONFIGJSON]
 *               [--providers K] [--pid BASE] [--poll-ms MS]
 *
 * self: one provider (pid BASE) bootstraps with itself and writes GROUPFILE.
 * join: K providers (pids BASE..BASE+K-1) load GROUPFILE and join, all at
 *       once (one thread each).
 * For every provider, DIR/NAME-<pid>.status is rewritten (tmp + rename)
 * whenever its view or its callback log changes:
 *   self <address>
 *   start_ms <monotonic ms when registration started>
 *   ready_ms <monotonic ms when registration returned>
 *   last_event_ms <monotonic ms of the last callback, 0 if none>
 *   digest <hex>
 *   members <n>            then n lines "m <address> <pid>"
 *   events <k>             then k lines "e JOINED|LEFT|DIED <address> <pid>"
 *   end
 * SIGTERM / SIGINT: destroy the providers (graceful leave), finalize, exit 0.
 * Exit 2 if a registration fails (the error is printed).
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <margo.h>
#include <flock/flock-bootstrap.h>
#include <flock/flock-client.h>
#include <flock/flock-group.h>
#include <flock/flock-server.h>

#define MAX_EVENTS 8192

typedef struct {
    flock_update_t type;
    char address[128];
    uint16_t pid;
} event_t;

typedef struct prov {
    margo_instance_id mid;
    uint16_t pid;
    flock_provider_t provider;
    flock_group_handle_t handle;
    flock_return_t reg_ret;
    double start_ms;
    double ready_ms;
    pthread_mutex_t mtx;
    event_t* events;
    size_t nevents;
    double last_event_ms;
    bool dirty;
    uint64_t last_digest;
    bool written;
} prov_t;

static volatile sig_atomic_t g_stop = 0;
static const char* g_bootstrap = "self";
static const char* g_file = NULL;
static const char* g_config = "{}";
static const char* g_status = ".";
static const char* g_name = "server";
static char g_self[256];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void on_signal(int sig)
{
    g_stop = 1;
}

static const char* update_name(flock_update_t t)
{
    return t == FLOCK_MEMBER_JOINED ? "JOINED"
           : t == FLOCK_MEMBER_LEFT ? "LEFT"
           : t == FLOCK_MEMBER_DIED ? "DIED"
                                    : "OTHER";
}

static void member_cb(void* ctx, flock_update_t t, const char* address, uint16_t pid)
{
    prov_t* p = ctx;
    pthread_mutex_lock(&p->mtx);
    if (p->nevents < MAX_EVENTS) {
        event_t* e = &p->events[p->nevents++];
        e->type = t;
        snprintf(e->address, sizeof e->address, "%s", address ? address : "(null)");
        e->pid = pid;
    }
    p->last_event_ms = now_ms();
    p->dirty = true;
    pthread_mutex_unlock(&p->mtx);
}

static void metadata_cb(void* ctx, const char* key, const char* value) {}

static void* register_one(void* arg)
{
    prov_t* p = arg;
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    char* cfg = NULL;
    size_t cap = strlen(g_config) + (g_file ? strlen(g_file) : 0) + 256;
    bool self = strcmp(g_bootstrap, "self") == 0;

    p->start_ms = now_ms();
    cfg = malloc(cap);
    if (!cfg) {
        p->reg_ret = FLOCK_ERR_ALLOCATION;
        return NULL;
    }
    if (self) {
        p->reg_ret = flock_group_view_init_from_self(p->mid, p->pid, &view);
        if (g_file)
            snprintf(cfg, cap,
                     "{\"bootstrap\":\"self\",\"file\":\"%s\",\"group\":{\"type\":"
                     "\"centralized\","
                     "\"config\":%s}}",
                     g_file, g_config);
        else
            snprintf(cfg, cap,
                     "{\"bootstrap\":\"self\",\"group\":{\"type\":\"centralized\","
                     "\"config\":%s}}",
                     g_config);
    } else {
        p->reg_ret = flock_group_view_init_from_file(g_file, &view);
        snprintf(
            cfg, cap,
            "{\"bootstrap\":\"join\",\"group\":{\"type\":\"centralized\",\"config\":%s}}",
            g_config);
    }
    if (p->reg_ret == FLOCK_SUCCESS) {
        args.initial_view = &view;
        p->reg_ret = flock_provider_register(p->mid, p->pid, cfg, &args, &p->provider);
    }
    p->ready_ms = now_ms();
    if (p->reg_ret == FLOCK_SUCCESS)
        p->reg_ret =
            flock_provider_add_update_callbacks(p->provider, member_cb, metadata_cb, p);
    flock_group_view_clear(&view);
    free(cfg);
    return NULL;
}

static void write_status(prov_t* p, const flock_group_view_t* v)
{
    char path[1024], tmp[1100];
    FILE* f;
    snprintf(path, sizeof path, "%s/%s-%u.status", g_status, g_name, p->pid);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "self %s\nstart_ms %.3f\nready_ms %.3f\n", g_self, p->start_ms,
            p->ready_ms);
    pthread_mutex_lock(&p->mtx);
    fprintf(f, "last_event_ms %.3f\n", p->last_event_ms);
    fprintf(f, "digest %016" PRIx64 "\nmembers %zu\n", v->digest,
            (size_t)v->members.size);
    for (size_t i = 0; i < v->members.size; i++)
        fprintf(f, "m %s %u\n", v->members.data[i].address,
                v->members.data[i].provider_id);
    fprintf(f, "events %zu\n", p->nevents);
    for (size_t i = 0; i < p->nevents; i++)
        fprintf(f, "e %s %s %u\n", update_name(p->events[i].type), p->events[i].address,
                p->events[i].pid);
    p->dirty = false;
    pthread_mutex_unlock(&p->mtx);
    fprintf(f, "end\n");
    fclose(f);
    rename(tmp, path);
}

static void poll_one(prov_t* p)
{
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    bool dirty;
    if (!p->handle) return;
    if (flock_group_update_view(p->handle, NULL) != FLOCK_SUCCESS) return;
    if (flock_group_get_view(p->handle, &v) != FLOCK_SUCCESS) return;
    pthread_mutex_lock(&p->mtx);
    dirty = p->dirty;
    pthread_mutex_unlock(&p->mtx);
    if (!p->written || dirty || v.digest != p->last_digest) {
        write_status(p, &v);
        p->written = true;
        p->last_digest = v.digest;
    }
    flock_group_view_clear(&v);
}

int main(int argc, char** argv)
{
    const char* addr = "na+sm";
    int nprov = 1;
    int base = 42;
    double poll = 50;
    margo_instance_id mid = MARGO_INSTANCE_NULL;
    flock_client_t client = FLOCK_CLIENT_NULL;
    prov_t* provs = NULL;
    pthread_t* threads = NULL;
    int rc = 0;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--addr"))
            addr = argv[i + 1];
        else if (!strcmp(argv[i], "--bootstrap"))
            g_bootstrap = argv[i + 1];
        else if (!strcmp(argv[i], "--file"))
            g_file = argv[i + 1];
        else if (!strcmp(argv[i], "--config"))
            g_config = argv[i + 1];
        else if (!strcmp(argv[i], "--status"))
            g_status = argv[i + 1];
        else if (!strcmp(argv[i], "--name"))
            g_name = argv[i + 1];
        else if (!strcmp(argv[i], "--providers"))
            nprov = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid"))
            base = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--poll-ms"))
            poll = atof(argv[i + 1]);
        else {
            fprintf(stderr, "cent-server: unknown option %s\n", argv[i]);
            return 1;
        }
    }
    if (nprov < 1 || nprov > 1024 || (strcmp(g_bootstrap, "self") && !g_file) ||
        (!strcmp(g_bootstrap, "self") && nprov != 1)) {
        fprintf(stderr, "cent-server: bad arguments\n");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    mid = margo_init(addr, MARGO_SERVER_MODE, 0, 0);
    if (!mid) {
        fprintf(stderr, "cent-server: margo_init(%s) failed\n", addr);
        return 1;
    }
    {
        hg_addr_t self = HG_ADDR_NULL;
        hg_size_t sz = sizeof g_self;
        margo_addr_self(mid, &self);
        margo_addr_to_string(mid, g_self, &sz, self);
        margo_addr_free(mid, self);
    }
    provs = calloc((size_t)nprov, sizeof(*provs));
    threads = calloc((size_t)nprov, sizeof(*threads));
    if (!provs || !threads) {
        rc = 1;
        goto finish;
    }
    for (int i = 0; i < nprov; i++) {
        provs[i].mid = mid;
        provs[i].pid = (uint16_t)(base + i);
        provs[i].events = calloc(MAX_EVENTS, sizeof(event_t));
        pthread_mutex_init(&provs[i].mtx, NULL);
        if (!provs[i].events) {
            rc = 1;
            goto finish;
        }
    }
    for (int i = 0; i < nprov; i++)
        pthread_create(&threads[i], NULL, register_one, &provs[i]);
    for (int i = 0; i < nprov; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < nprov; i++) {
        if (provs[i].reg_ret != FLOCK_SUCCESS) {
            fprintf(stderr, "cent-server %s: provider %u: registration failed (%d)\n",
                    g_name, provs[i].pid, provs[i].reg_ret);
            rc = 2;
        }
    }
    if (rc != 0) goto finish;
    printf("READY %s\n", g_self);
    fflush(stdout);

    flock_client_init(mid, ABT_POOL_NULL, &client);
    for (int i = 0; i < nprov; i++) {
        hg_addr_t self = HG_ADDR_NULL;
        margo_addr_self(mid, &self);
        flock_group_handle_create(client, self, provs[i].pid, FLOCK_MODE_INIT_UPDATE,
                                  &provs[i].handle);
        margo_addr_free(mid, self);
    }
    while (!g_stop) {
        for (int i = 0; i < nprov && !g_stop; i++)
            poll_one(&provs[i]);
        margo_thread_sleep(mid, poll);
    }

finish:
    if (provs) {
        for (int i = 0; i < nprov; i++) {
            if (provs[i].handle) flock_group_handle_release(provs[i].handle);
            if (provs[i].provider) flock_provider_destroy(provs[i].provider);
        }
    }
    if (client) flock_client_finalize(client);
    margo_finalize(mid);
    if (provs) {
        for (int i = 0; i < nprov; i++) {
            free(provs[i].events);
            pthread_mutex_destroy(&provs[i].mtx);
        }
    }
    free(provs);
    free(threads);
    return rc;
}
