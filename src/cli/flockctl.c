/*
 * flockctl.c -- the `flockctl` command-line tool: main, show and check, and
 * the connection helpers the other commands share (flockctl-internal.h):
 * probes, candidates, group handles. watch is in flockctl-watch.c; info,
 * leave, force-leave, meta, keygen in flockctl-admin.c. Argument parsing
 * and output formatting are in cli-args.c / cli-format.c;
 * this file talks to the group through a client-mode runtime instance whose
 * protocol matches the members' addresses.
 */
#include "flock-cli.h"
#include "flockctl-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <frt.h>
#include <margo.h>
#include <flock/flock-client.h>
#include <flock/flock-group.h>
#include <flock/flock-group-view.h>

#define FLOCK_CLI_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* RPC name no provider registers: a live process answers HG_NOENTRY at once,
 * which makes a cheap reachability probe with a timeout. */
#define FLOCK_CLI_PROBE_RPC "flock_cli_probe"

volatile sig_atomic_t flock_cli__stop = 0;
static bool           flock_cli__have_key = false; /* the client has a group key */

static void flock_cli__on_signal(int sig)
{
    (void)sig;
    flock_cli__stop = 1;
}

double flock_cli__realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double flock_cli__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Contract: sleeps ms milliseconds, returning early when a signal asked to stop. */
void flock_cli__sleep_ms(double ms)
{
    double end = flock_cli__mono_ms() + ms;
    while (!flock_cli__stop) {
        double left = end - flock_cli__mono_ms();
        if (left <= 0) break;
        if (left > 50) left = 50;
        struct timespec ts = {0, (long)(left * 1e6)};
        nanosleep(&ts, NULL);
    }
}

/* Contract: creates the client-mode instance and the Flock client for the
 * protocol of `address` (or --protocol). Prints the reason on failure. */
static int flock_cli__init(flock_cli_ctx* ctx, const char* address)
{
    char proto[64];
    if (ctx->args->protocol) {
        snprintf(proto, sizeof proto, "%s", ctx->args->protocol);
    } else if (flock_cli__protocol_of(address, proto, sizeof proto) != 0) {
        fprintf(stderr, "flockctl: cannot tell the protocol of address \"%s\" (use --protocol)\n",
                address);
        return -1;
    }
    margo_set_global_log_level(ctx->args->log_level > 0 ? (margo_log_level)ctx->args->log_level
                                                        : MARGO_LOG_CRITICAL);
    ctx->mid = margo_init(proto, MARGO_CLIENT_MODE, 0, 0);
    if (ctx->mid == MARGO_INSTANCE_NULL) {
        fprintf(stderr, "flockctl: cannot initialize a client for protocol \"%s\"\n", proto);
        return -1;
    }
    if (ctx->args->log_level > 0) margo_set_log_level(ctx->mid, (margo_log_level)ctx->args->log_level);
    if (ctx->args->key_file && frt_auth_set_key_file(ctx->mid, ctx->args->key_file) != HG_SUCCESS) {
        fprintf(stderr, "flockctl: cannot use the key file \"%s\" (it must exist, be readable and "
                        "hold 16 to 1024 bytes)\n",
                ctx->args->key_file);
        return -1;
    }
    flock_cli__have_key = frt_auth_enabled(ctx->mid);
    flock_return_t fr = flock_client_init(ctx->mid, ABT_POOL_NULL, &ctx->client);
    if (fr != FLOCK_SUCCESS) {
        fprintf(stderr, "flockctl: cannot create a Flock client: %s\n", flock_cli__strerror(fr));
        return -1;
    }
    return 0;
}

static void flock_cli__fini(flock_cli_ctx* ctx)
{
    if (ctx->client) flock_client_finalize(ctx->client);
    ctx->client = FLOCK_CLIENT_NULL;
    if (ctx->mid) margo_finalize(ctx->mid);
    ctx->mid = MARGO_INSTANCE_NULL;
}

/* Contract: true if an answer to the probe RPC shows the process is alive
 * (any answer counts, including "no such RPC"); otherwise writes the reason. */
bool flock_cli__probe_alive(hg_return_t hr, char* why, size_t whysize)
{
    switch (hr) {
    case HG_CHECKSUM_ERROR: /* it answered, but we cannot talk to it */
        if (why)
            snprintf(why, whysize, "%s",
                     flock_cli__have_key
                         ? "authentication failed: wrong key (the group's key is not the "
                           "one given with --key-file / FRT_AUTH_KEY_FILE)"
                         : "authentication failed: the group requires a key (give it with "
                           "--key-file FILE, or FRT_AUTH_KEY_FILE)");
        return false;
    case HG_AGAIN:
        if (why) snprintf(why, whysize, "no file descriptor left for a socket here");
        return false;
    default:
        if (!frt_no_answer(hr)) return true;
        if (why) snprintf(why, whysize, "unreachable: %s", HG_Error_to_string(hr));
        return false;
    }
}

/* Contract: true if the process at address answers an RPC within
 * --timeout; otherwise false with the reason in why. */
bool flock_cli__probe(flock_cli_ctx* ctx, const char* address, uint16_t provider_id,
                             char* why, size_t whysize)
{
    hg_addr_t   addr = HG_ADDR_NULL;
    hg_return_t hr   = margo_addr_lookup(ctx->mid, address, &addr);
    if (hr != HG_SUCCESS) {
        snprintf(why, whysize, "bad address: %s", HG_Error_to_string(hr));
        return false;
    }
    hr = frt_forward(ctx->mid, addr, FLOCK_CLI_PROBE_RPC, provider_id, NULL, 0,
                     ctx->args->timeout_ms, NULL, NULL);
    margo_addr_free(ctx->mid, addr);
    return flock_cli__probe_alive(hr, why, whysize);
}

/* Probes in flight, completed by flock_cli__probe_done. */
typedef struct flock_cli_probes {
    pthread_mutex_t mtx;
    pthread_cond_t  cv;
    size_t          pending;
} flock_cli_probes;

typedef struct flock_cli_probe_slot {
    flock_cli_probes* batch;
    hg_addr_t         addr;
    hg_return_t       ret;
} flock_cli_probe_slot;

static void flock_cli__probe_done(void* uargs, hg_return_t ret, const void* out, size_t out_len)
{
    flock_cli_probe_slot* slot = uargs;
    (void)out;
    (void)out_len;
    pthread_mutex_lock(&slot->batch->mtx);
    slot->ret = ret;
    slot->batch->pending--;
    pthread_cond_broadcast(&slot->batch->cv);
    pthread_mutex_unlock(&slot->batch->mtx);
}

/* Contract: probes every member of view at once (so a round costs one
 * --timeout, not one per member); alive[i] tells whether member i answered. */
void flock_cli__probe_view(flock_cli_ctx* ctx, const flock_group_view_t* view, bool* alive,
                                  hg_return_t* rets)
{
    size_t                n     = view->members.size;
    flock_cli_probes      batch = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    flock_cli_probe_slot* slots = calloc(n ? n : 1, sizeof *slots);
    if (!slots) { /* fall back to one at a time */
        for (size_t i = 0; i < n; i++) {
            char why[128];
            alive[i] = flock_cli__probe(ctx, view->members.data[i].address,
                                        view->members.data[i].provider_id, why, sizeof why);
            if (rets) rets[i] = alive[i] ? HG_SUCCESS : HG_HOSTUNREACH;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        slots[i].batch = &batch;
        slots[i].ret   = HG_INVALID_ARG;
        alive[i]       = false;
        if (margo_addr_lookup(ctx->mid, view->members.data[i].address, &slots[i].addr) != HG_SUCCESS) {
            slots[i].addr = HG_ADDR_NULL;
            continue;
        }
        pthread_mutex_lock(&batch.mtx);
        batch.pending++;
        pthread_mutex_unlock(&batch.mtx);
        hg_return_t hr = frt_forward_async(ctx->mid, slots[i].addr, FLOCK_CLI_PROBE_RPC,
                                           view->members.data[i].provider_id, NULL, 0,
                                           ctx->args->timeout_ms, flock_cli__probe_done, &slots[i]);
        if (hr != HG_SUCCESS) { /* the completion never runs */
            pthread_mutex_lock(&batch.mtx);
            batch.pending--;
            slots[i].ret = hr;
            pthread_mutex_unlock(&batch.mtx);
        }
    }
    pthread_mutex_lock(&batch.mtx);
    while (batch.pending > 0) pthread_cond_wait(&batch.cv, &batch.mtx);
    pthread_mutex_unlock(&batch.mtx);
    for (size_t i = 0; i < n; i++) {
        alive[i] = slots[i].addr != HG_ADDR_NULL && flock_cli__probe_alive(slots[i].ret, NULL, 0);
        if (rets) rets[i] = slots[i].addr != HG_ADDR_NULL ? slots[i].ret : HG_INVALID_ARG;
        if (slots[i].addr != HG_ADDR_NULL) margo_addr_free(ctx->mid, slots[i].addr);
    }
    free(slots);
}

/* Contract: a group handle on (address, provider_id) with a fresh view
 * (identity check + flock_get_view), after a reachability probe so that a
 * stopped process costs at most --timeout. */
flock_return_t flock_cli__open(flock_cli_ctx* ctx, const char* address,
                                      uint16_t provider_id, bool probe, flock_group_handle_t* h,
                                      char* why, size_t whysize)
{
    hg_addr_t      addr = HG_ADDR_NULL;
    flock_return_t fr   = FLOCK_ERR_FROM_MERCURY;
    *h                  = FLOCK_GROUP_HANDLE_NULL;
    if (probe && !flock_cli__probe(ctx, address, provider_id, why, whysize)) goto finish;
    if (margo_addr_lookup(ctx->mid, address, &addr) != HG_SUCCESS) {
        snprintf(why, whysize, "bad address");
        goto finish;
    }
    fr = flock_group_handle_create(ctx->client, addr, provider_id, FLOCK_MODE_INIT_UPDATE, h);
    if (fr == FLOCK_ERR_INVALID_PROVIDER && !flock_cli__probe(ctx, address, provider_id, why, whysize))
        ; /* the transport's reason (an authentication failure, ...) is in why */
    else if (fr == FLOCK_ERR_INVALID_PROVIDER)
        snprintf(why, whysize, "no Flock provider with id %u there", (unsigned)provider_id);
    else if (fr != FLOCK_SUCCESS)
        snprintf(why, whysize, "%s", flock_cli__strerror(fr));
finish:
    if (addr != HG_ADDR_NULL) margo_addr_free(ctx->mid, addr);
    return fr;
}

void flock_cli__free_members(flock_cli_member* m, size_t n)
{
    for (size_t i = 0; i < n; i++) free(m[i].address);
    free(m);
}

/* Contract: true if path opens (O_NONBLOCK: a FIFO never blocks us) as a
 * regular file; otherwise why says what it is or why it cannot be opened.
 * The same rule as flock__read_regular_file, checked here so that the CLI
 * prints one clear line of its own. */
static bool flock_cli__regular_file(const char* path, char* why, size_t size)
{
    struct stat st;
    int         fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, size, "%s", strerror(errno));
        return false;
    }
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (!ok)
        snprintf(why, size, "not a regular file (%s)",
                 S_ISFIFO(st.st_mode)  ? "a FIFO"
                 : S_ISDIR(st.st_mode) ? "a directory"
                 : S_ISSOCK(st.st_mode) ? "a socket"
                                        : "a device or special file");
    close(fd);
    return ok;
}

/* Contract: the candidate contacts of the target (group file members in
 * order, or the --address member) and the protocol address for init. */
static int flock_cli__candidates(const flock_cli_args* args, flock_cli_member** out, size_t* n)
{
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    int                ret  = -1;
    *out                    = NULL;
    *n                      = 0;
    if (args->address) {
        *out = calloc(1, sizeof **out);
        if (!*out || !((*out)[0].address = strdup(args->address))) goto finish;
        (*out)[0].provider_id = (uint16_t)args->provider_id;
        *n                    = 1;
        ret                   = 0;
        goto finish;
    }
    char why[64];
    if (!flock_cli__regular_file(args->group_file, why, sizeof why)) {
        fprintf(stderr, "flockctl: cannot read group file \"%s\": %s\n", args->group_file, why);
        goto finish;
    }
    flock_return_t fr = flock_group_view_from_file(args->group_file, &view);
    if (fr != FLOCK_SUCCESS) {
        fprintf(stderr, "flockctl: cannot read group file \"%s\": %s\n", args->group_file,
                fr == FLOCK_ERR_INVALID_CONFIG ? "not a valid group file (JSON view)"
                                               : flock_cli__strerror(fr));
        goto finish;
    }
    *out = calloc(view.members.size, sizeof **out);
    if (!*out) goto finish;
    for (size_t i = 0; i < view.members.size; i++) {
        if (!((*out)[i].address = strdup(view.members.data[i].address))) goto finish;
        (*out)[i].provider_id = view.members.data[i].provider_id;
        (*n)++;
    }
    ret = 0;
finish:
    if (ret != 0) {
        flock_cli__free_members(*out, *n);
        *out = NULL;
        *n   = 0;
    }
    flock_group_view_clear(&view);
    return ret;
}

/* Contract: opens a handle on the first candidate that answers (skipping
 * index `skip`, -1 for none); prints why each failed when verbose_fail. */
flock_return_t flock_cli__connect(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n,
                                         long skip, bool verbose_fail, flock_group_handle_t* h,
                                         size_t* which)
{
    flock_return_t fr = FLOCK_ERR_NO_MEMBER;
    for (size_t i = 0; i < n && !flock_cli__stop; i++) {
        char why[256] = "";
        if ((long)i == skip) continue;
        fr = flock_cli__open(ctx, c[i].address, c[i].provider_id, true, h, why, sizeof why);
        if (fr == FLOCK_SUCCESS) {
            if (which) *which = i;
            return fr;
        }
        if (verbose_fail)
            fprintf(stderr, "flockctl: %s (provider %u): %s\n", c[i].address,
                    (unsigned)c[i].provider_id, why);
    }
    return fr;
}

/* ------------------------------------------------------------------ */
/* show                                                                */
/* ------------------------------------------------------------------ */

static int flock_cli__show(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n)
{
    flock_group_handle_t h     = FLOCK_GROUP_HANDLE_NULL;
    flock_group_view_t   view  = FLOCK_GROUP_VIEW_INITIALIZER;
    struct json_object*  info  = NULL;
    size_t               which = 0;
    int                  rc    = FLOCK_CLI_EXIT_FAIL;
    if (flock_cli__connect(ctx, c, n, -1, true, &h, &which) != FLOCK_SUCCESS) {
        if (n > 1) /* one member: its own line said why */
            fprintf(stderr, "flockctl show: no member of the group answered\n");
        goto finish;
    }
    if (flock_group_get_view(h, &view) != FLOCK_SUCCESS) {
        fprintf(stderr, "flockctl show: cannot copy the view\n");
        goto finish;
    }
    /* the members' status, role and incarnation as the member that answered sees them */
    info = flock_cli__admin_info(ctx, c[which].address, c[which].provider_id);
    if (ctx->args->json) {
        if (flock_cli__print_json_info(stdout, &view, ctx->args->all, info) != 0) goto finish;
    } else {
        flock_cli__print_table_info(stdout, &view, ctx->args->all, info);
    }
    size_t bad = flock_cli__count_unhealthy(&view, info);
    rc         = FLOCK_CLI_EXIT_OK;
    if (which > 0 || bad > 0) {
        rc = FLOCK_CLI_EXIT_DEGRADED;
        if (which > 0)
            fprintf(stderr, "flockctl show: %s (provider %u) did not answer; the view is %s's\n",
                    c[0].address, (unsigned)c[0].provider_id, c[which].address);
        if (bad > 0)
            fprintf(stderr, "flockctl show: %zu member%s suspect or dead\n", bad,
                    bad == 1 ? " is" : "s are");
    }
finish:
    fflush(stdout);
    json_object_put(info);
    flock_group_view_clear(&view);
    if (h) flock_group_handle_release(h);
    return rc;
}

/* ------------------------------------------------------------------ */
/* check                                                               */
/* ------------------------------------------------------------------ */

/* Distinct view digests among the members that answered. */
typedef struct flock_cli_digests {
    uint64_t* items;
    size_t    size;
} flock_cli_digests;

/* One member of check: ask it for its view (if the probe found it alive),
 * count it and print (or add to jarr) its line. Contract: returns true if
 * it answered; its digest is recorded in d. */
static bool flock_cli__check_member(flock_cli_ctx* ctx, const flock_member_t* m, bool alive,
                                    hg_return_t probe_ret, struct json_object* jarr,
                                    flock_cli_digests* d)
{
    flock_group_handle_t mh = FLOCK_GROUP_HANDLE_NULL;
    flock_group_view_t   mv = FLOCK_GROUP_VIEW_INITIALIZER;
    char                 why[256] = "";
    flock_return_t       fr       = FLOCK_ERR_FROM_MERCURY;
    if (alive)
        fr = flock_cli__open(ctx, m->address, m->provider_id, false, &mh, why, sizeof why);
    else
        flock_cli__probe_alive(probe_ret, why, sizeof why);
    if (fr == FLOCK_SUCCESS && flock_group_get_view(mh, &mv) != FLOCK_SUCCESS) {
        fr = FLOCK_ERR_ALLOCATION;
        snprintf(why, sizeof why, "cannot copy its view");
    }
    bool answered = fr == FLOCK_SUCCESS;
    if (answered) {
        bool seen = false;
        for (size_t k = 0; k < d->size; k++) seen |= d->items[k] == mv.digest;
        if (!seen) d->items[d->size++] = mv.digest;
    }
    if (jarr) {
        struct json_object* e = json_object_new_object();
        char                dg[32];
        snprintf(dg, sizeof dg, "0x%016" PRIx64, mv.digest);
        json_object_object_add(e, "address", json_object_new_string(m->address));
        json_object_object_add(e, "provider_id", json_object_new_int(m->provider_id));
        json_object_object_add(e, "ok", json_object_new_boolean(answered));
        if (answered) {
            json_object_object_add(e, "digest", json_object_new_string(dg));
            json_object_object_add(e, "size", json_object_new_int64((int64_t)mv.members.size));
        } else {
            json_object_object_add(e, "error", json_object_new_string(why));
        }
        json_object_array_add(jarr, e);
    } else if (answered) {
        printf("OK    %s  %u  (view of %zu member%s, digest 0x%016" PRIx64 ")\n", m->address,
               (unsigned)m->provider_id, (size_t)mv.members.size,
               mv.members.size == 1 ? "" : "s", mv.digest);
    } else {
        printf("FAIL  %s  %u  %s\n", m->address, (unsigned)m->provider_id, why);
    }
    fflush(stdout);
    flock_group_view_clear(&mv);
    if (mh) flock_group_handle_release(mh);
    return answered;
}

/* The last lines of check: the JSON document (jarr moved into jout), or
 * the count and a note when the members hold different views. */
static void flock_cli__check_summary(struct json_object* jout, struct json_object** jarr,
                                     size_t ok, size_t size, size_t ndigests)
{
    if (jout) {
        json_object_object_add(jout, "members", *jarr);
        *jarr = NULL;
        json_object_object_add(jout, "answered", json_object_new_int64((int64_t)ok));
        json_object_object_add(jout, "size", json_object_new_int64((int64_t)size));
        json_object_object_add(jout, "ok", json_object_new_boolean(ok == size));
        json_object_object_add(jout, "distinct_views", json_object_new_int64((int64_t)ndigests));
        printf("%s\n", json_object_to_json_string_ext(jout, FLOCK_CLI_JSON_FLAGS));
    } else {
        printf("%zu of %zu member%s answered\n", ok, size, size == 1 ? "" : "s");
        if (ndigests > 1)
            printf("note: the members that answered hold %zu different views (views converge "
                   "after membership changes)\n",
                   ndigests);
    }
}

/* With a group file: when the members that answered agree on one view
 * (digest) and the file holds another, the file is stale (a rewrite failed
 * or is behind): say so (a WARN line, or "file" in the JSON document). The
 * exit status is not changed: the file follows each change a moment later. */
static void flock_cli__check_file(flock_cli_ctx* ctx, const flock_cli_digests* d,
                                  struct json_object* jout)
{
    const char*        path = ctx->args->group_file;
    flock_group_view_t fv   = FLOCK_GROUP_VIEW_INITIALIZER;
    if (!path || d->size != 1 || flock_group_view_from_file(path, &fv) != FLOCK_SUCCESS) return;
    bool stale = fv.digest != d->items[0];
    if (jout) {
        struct json_object* f = json_object_new_object();
        char                dg[32];
        snprintf(dg, sizeof dg, "0x%016" PRIx64, fv.digest);
        json_object_object_add(f, "path", json_object_new_string(path));
        json_object_object_add(f, "digest", json_object_new_string(dg));
        json_object_object_add(f, "stale", json_object_new_boolean(stale));
        json_object_object_add(jout, "file", f);
    } else if (stale) {
        printf("WARN  group file \"%s\" is stale: it lists %zu member%s (digest 0x%016" PRIx64
               "), the group holds digest 0x%016" PRIx64 "\n",
               path, (size_t)fv.members.size, fv.members.size == 1 ? "" : "s", fv.digest,
               d->items[0]);
    }
    flock_group_view_clear(&fv);
}

static int flock_cli__check(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n)
{
    flock_group_handle_t h    = FLOCK_GROUP_HANDLE_NULL;
    flock_group_view_t   view = FLOCK_GROUP_VIEW_INITIALIZER;
    struct json_object*  jout = NULL;
    struct json_object*  jarr = NULL;
    flock_cli_digests    d    = {NULL, 0};
    bool*                alive   = NULL;
    hg_return_t*         rets    = NULL;
    size_t               ok = 0;
    int                  rc = FLOCK_CLI_EXIT_FAIL;

    if (flock_cli__connect(ctx, c, n, -1, true, &h, NULL) != FLOCK_SUCCESS) {
        fprintf(stderr, "flockctl check: no member of the group answered\n");
        goto finish;
    }
    if (flock_group_get_view(h, &view) != FLOCK_SUCCESS) {
        fprintf(stderr, "flockctl check: cannot copy the view\n");
        goto finish;
    }
    flock_group_handle_release(h);
    h       = FLOCK_GROUP_HANDLE_NULL;
    d.items = calloc(view.members.size + 1, sizeof *d.items);
    if (ctx->args->json) {
        jout = json_object_new_object();
        jarr = json_object_new_array();
        if (!jout || !jarr) goto finish;
    }
    alive = calloc(view.members.size + 1, sizeof *alive);
    rets  = calloc(view.members.size + 1, sizeof *rets);
    if (!d.items || !alive || !rets) goto finish;
    /* every member is probed at once: a stopped process costs one --timeout */
    flock_cli__probe_view(ctx, &view, alive, rets);
    for (size_t i = 0; i < view.members.size && !flock_cli__stop; i++)
        if (flock_cli__check_member(ctx, &view.members.data[i], alive[i], rets[i], jarr, &d))
            ok++;
    if (jout) flock_cli__check_file(ctx, &d, jout); /* joins the JSON document */
    flock_cli__check_summary(jout, &jarr, ok, (size_t)view.members.size, d.size);
    if (!jout) flock_cli__check_file(ctx, &d, NULL);
    rc = (ok == view.members.size && !flock_cli__stop) ? FLOCK_CLI_EXIT_OK : FLOCK_CLI_EXIT_FAIL;
finish:
    fflush(stdout);
    json_object_put(jarr);
    json_object_put(jout);
    free(d.items);
    free(alive);
    free(rets);
    flock_group_view_clear(&view);
    if (h) flock_group_handle_release(h);
    return rc;
}

int main(int argc, char** argv)
{
    flock_cli_args    args;
    flock_cli_ctx     ctx   = {&args, MARGO_INSTANCE_NULL, FLOCK_CLIENT_NULL};
    flock_cli_member* cands = NULL;
    size_t            ncand = 0;
    char              err[256];
    int               rc = FLOCK_CLI_EXIT_FAIL;

    if (flock_cli__parse_args(argc, argv, &args, err, sizeof err) != 0) {
        fprintf(stderr, "flockctl: %s\n", err);
        if (args.cmd >= FLOCK_CLI_FIRST_CMD && args.cmd <= FLOCK_CLI_LAST_CMD)
            fprintf(stderr, "Try 'flockctl %s --help'.\n", flock_cli__cmd_name(args.cmd));
        else
            fprintf(stderr, "Try 'flockctl --help'.\n");
        return FLOCK_CLI_EXIT_USAGE;
    }
    if (args.cmd == FLOCK_CLI_HELP) {
        flock_cli__print_help(stdout, args.help_for);
        return FLOCK_CLI_EXIT_OK;
    }
    if (args.cmd == FLOCK_CLI_VERSION) {
        printf("flockctl %s\n", FLOCK_CLI_VERSION_STRING);
        return FLOCK_CLI_EXIT_OK;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = flock_cli__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* one error line of our own: the library logs only with -v (also while reading the file) */
    margo_set_global_log_level(args.log_level > 0 ? (margo_log_level)args.log_level
                                                  : MARGO_LOG_CRITICAL);
    if (args.cmd == FLOCK_CLI_KEYGEN) return flock_cli__keygen(&args);
    if (flock_cli__candidates(&args, &cands, &ncand) != 0) goto finish;
    if (flock_cli__init(&ctx, cands[0].address) != 0) goto finish;
    switch (args.cmd) {
    case FLOCK_CLI_SHOW: rc = flock_cli__show(&ctx, cands, ncand); break;
    case FLOCK_CLI_CHECK: rc = flock_cli__check(&ctx, cands, ncand); break;
    case FLOCK_CLI_WATCH: rc = flock_cli__watch(&ctx, cands, ncand); break;
    case FLOCK_CLI_INFO: rc = flock_cli__info(&ctx, cands, ncand); break;
    case FLOCK_CLI_LEAVE: rc = flock_cli__leave(&ctx, cands, ncand); break;
    case FLOCK_CLI_FORCE_LEAVE: rc = flock_cli__force_leave(&ctx, cands, ncand); break;
    case FLOCK_CLI_META: rc = flock_cli__meta(&ctx, cands, ncand); break;
    default: break;
    }
finish:
    flock_cli__fini(&ctx);
    flock_cli__free_members(cands, ncand);
    return rc;
}
