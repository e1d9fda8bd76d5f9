/*
 * flockctl-admin.c -- the flockctl commands that manage one member or the
 * group: info, leave, force-leave (the provider's operators' RPCs, whose
 * wire format is in src/flock/provider-admin.h: the names are repeated
 * here because a program sees only the public API), meta (the group
 * handle's view and flock_group_metadata_set) and keygen (no network).
 * Calls: flockctl.c's connection helpers (flockctl-internal.h), frt.h,
 * the Flock client API.
 */
#include "flockctl-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLOCK_CLI_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* src/flock/provider-admin.h */
#define FLOCK_CLI_ADMIN_INFO        "flock_admin_info"
#define FLOCK_CLI_ADMIN_LEAVE       "flock_admin_leave"
#define FLOCK_CLI_ADMIN_FORCE_LEAVE "flock_admin_force_leave"
#define FLOCK_CLI_ADMIN_MAX_TEXT    (1u << 20)

/* The name of a flock_return_t ("FLOCK_ERR_OP_FORBIDDEN"). */
static const char* flock_cli__err_name(int code)
{
#define X(err, msg) #err,
    static const char* const names[] = {FLOCK_RETURN_VALUES};
#undef X
    if (code < 0 || (size_t)code >= sizeof names / sizeof names[0]) return "FLOCK_ERR_?";
    return names[code];
}

int flock_cli__admin_call(flock_cli_ctx* ctx, const char* address, uint16_t provider_id,
                          const char* rpc, const void* in, size_t in_len, int* ret, char** text,
                          double* rtt_ms, char* why, size_t whysize)
{
    /* leave and force-leave wait for the group (announcements, a probe of
     * the member to remove, the commit): give them their own margin */
    double timeout = ctx->args->timeout_ms;
    if (strcmp(rpc, FLOCK_CLI_ADMIN_INFO) != 0) timeout = 2 * timeout + 10000.0;
    hg_addr_t addr = HG_ADDR_NULL;
    void*     out  = NULL;
    size_t    olen = 0;
    int       rc   = -1;
    *text          = NULL;
    if (margo_addr_lookup(ctx->mid, address, &addr) != HG_SUCCESS) {
        snprintf(why, whysize, "bad address \"%s\"", address);
        return -1;
    }
    double      t0 = flock_cli__mono_ms();
    hg_return_t hr = frt_forward(ctx->mid, addr, rpc, provider_id, in, in_len, timeout, &out,
                                 &olen);
    if (rtt_ms) *rtt_ms = flock_cli__mono_ms() - t0;
    margo_addr_free(ctx->mid, addr);
    if (hr == HG_NOENTRY) {
        snprintf(why, whysize, "no Flock provider %u there, or a member too old for this command",
                 (unsigned)provider_id);
        goto finish;
    }
    if (hr != HG_SUCCESS) {
        if (flock_cli__probe_alive(hr, why, whysize))
            snprintf(why, whysize, "RPC failed: %s", HG_Error_to_string(hr));
        goto finish;
    }
    frt_rbuf r;
    frt_rbuf_init(&r, out, olen);
    uint32_t code = frt_get_u32(&r);
    *text         = frt_get_str(&r, FLOCK_CLI_ADMIN_MAX_TEXT);
    if (!*text || !frt_rbuf_done(&r)) {
        free(*text);
        *text = NULL;
        snprintf(why, whysize, "malformed answer (%zu bytes)", olen);
        goto finish;
    }
    *ret = (int)(int32_t)code;
    rc   = 0;
finish:
    free(out);
    return rc;
}

struct json_object* flock_cli__admin_info(flock_cli_ctx* ctx, const char* address,
                                          uint16_t provider_id)
{
    char  why[256];
    char* text = NULL;
    int   ret  = 0;
    if (flock_cli__admin_call(ctx, address, provider_id, FLOCK_CLI_ADMIN_INFO, NULL, 0, &ret,
                              &text, NULL, why, sizeof why)
        != 0)
        return NULL;
    struct json_object* o = ret == FLOCK_SUCCESS ? json_tokener_parse(text) : NULL;
    free(text);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

/* Contract: the member a one-member command talks to: --address, or the
 * first member of the group file that answers a probe. -1 (message
 * printed) if none. */
static int flock_cli__pick_member(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n,
                                  const char* cmd, size_t* which)
{
    for (size_t i = 0; i < n && !flock_cli__stop; i++) {
        char why[256] = "";
        if (flock_cli__probe(ctx, c[i].address, c[i].provider_id, why, sizeof why)) {
            *which = i;
            return 0;
        }
        if (n == 1 || ctx->args->address)
            fprintf(stderr, "flockctl %s: %s (provider %u): %s\n", cmd, c[i].address,
                    (unsigned)c[i].provider_id, why);
    }
    if (n > 1) fprintf(stderr, "flockctl %s: no member of the group answered\n", cmd);
    return -1;
}

/* ---------------- info ---------------- */

static void flock_cli__print_info_table(struct json_object* o, double rtt_ms)
{
    static const char* const keys[] = {"address", "provider_id", "version", "pid", "uptime_s",
                                       "backend", "role", "incarnation", "term", "primary",
                                       "left", "view_size", "view_digest", NULL};
    struct json_object*      v      = NULL;
    for (size_t i = 0; keys[i]; i++)
        if (json_object_object_get_ex(o, keys[i], &v))
            printf("%-12s %s\n", keys[i],
                   json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                            : json_object_to_json_string(v));
    printf("%-12s %.3f ms\n", "round_trip", rtt_ms);
    if (json_object_object_get_ex(o, "config", &v))
        printf("%-12s %s\n", "config", json_object_to_json_string_ext(v, FLOCK_CLI_JSON_FLAGS));
    if (json_object_object_get_ex(o, "counters", &v) && json_object_is_type(v, json_type_object)) {
        printf("counters:\n");
        json_object_object_foreach(v, k, cv) printf("  %-26s %s\n", k, json_object_to_json_string(cv));
    }
}

int flock_cli__info(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n)
{
    size_t              which = 0;
    char                why[256];
    char*               text = NULL;
    int                 ret  = 0;
    double              rtt  = 0;
    struct json_object* o    = NULL;
    int                 rc   = FLOCK_CLI_EXIT_FAIL;
    if (flock_cli__pick_member(ctx, c, n, "info", &which) != 0) return rc;
    if (flock_cli__admin_call(ctx, c[which].address, c[which].provider_id, FLOCK_CLI_ADMIN_INFO,
                              NULL, 0, &ret, &text, &rtt, why, sizeof why)
        != 0) {
        fprintf(stderr, "flockctl info: %s (provider %u): %s\n", c[which].address,
                (unsigned)c[which].provider_id, why);
        goto finish;
    }
    if (ret != FLOCK_SUCCESS || !(o = json_tokener_parse(text))) {
        fprintf(stderr, "flockctl info: %s (provider %u): %s\n", c[which].address,
                (unsigned)c[which].provider_id,
                ret != FLOCK_SUCCESS ? flock_cli__err_name(ret) : "malformed answer");
        goto finish;
    }
    json_object_object_add(o, "round_trip_ms", json_object_new_double(rtt));
    if (ctx->args->json)
        printf("%s\n", json_object_to_json_string_ext(o, FLOCK_CLI_JSON_FLAGS));
    else
        flock_cli__print_info_table(o, rtt);
    rc = FLOCK_CLI_EXIT_OK;
finish:
    fflush(stdout);
    json_object_put(o);
    free(text);
    return rc;
}

/* ---------------- leave ---------------- */

int flock_cli__leave(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n)
{
    size_t which = 0;
    char   why[256];
    char*  text = NULL;
    int    ret  = 0;
    int    rc   = FLOCK_CLI_EXIT_FAIL;
    if (flock_cli__pick_member(ctx, c, n, "leave", &which) != 0) return rc;
    if (flock_cli__admin_call(ctx, c[which].address, c[which].provider_id, FLOCK_CLI_ADMIN_LEAVE,
                              NULL, 0, &ret, &text, NULL, why, sizeof why)
        != 0) {
        fprintf(stderr, "flockctl leave: %s (provider %u): %s\n", c[which].address,
                (unsigned)c[which].provider_id, why);
        return rc;
    }
    if (ret == FLOCK_SUCCESS) {
        printf("%s (provider %u): %s\n", c[which].address, (unsigned)c[which].provider_id, text);
        rc = FLOCK_CLI_EXIT_OK;
    } else {
        fprintf(stderr, "flockctl leave: %s (provider %u): %s (%s)\n", c[which].address,
                (unsigned)c[which].provider_id, text, flock_cli__err_name(ret));
    }
    fflush(stdout);
    free(text);
    return rc;
}

/* ---------------- force-leave ---------------- */

/* Contract: one force_leave request to (address, pid); 0 sent (ret, text
 * set), -1 (why) if it did not answer. */
static int flock_cli__force_leave_at(flock_cli_ctx* ctx, const char* address, uint16_t pid,
                                     uint16_t member_pid, int* ret, char** text, char* why,
                                     size_t whysize)
{
    frt_wbuf in = FRT_WBUF_INIT;
    frt_put_str(&in, ctx->args->member);
    frt_put_u16(&in, member_pid);
    frt_put_f64(&in, ctx->args->timeout_ms);
    int r = in.failed ? -1
                      : flock_cli__admin_call(ctx, address, pid, FLOCK_CLI_ADMIN_FORCE_LEAVE,
                                              in.data, in.len, ret, text, NULL, why, whysize);
    if (in.failed) snprintf(why, whysize, "out of memory");
    frt_wbuf_free(&in);
    return r;
}

int flock_cli__force_leave(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n)
{
    flock_group_handle_t h    = FLOCK_GROUP_HANDLE_NULL;
    flock_group_view_t   view = FLOCK_GROUP_VIEW_INITIALIZER;
    size_t               which = 0;
    char                 why[512];
    char*                text = NULL;
    int                  ret  = 0, rc = FLOCK_CLI_EXIT_FAIL;
    const char*          addr;
    uint16_t             pid;
    if (flock_cli__connect(ctx, c, n, -1, n == 1, &h, &which) != FLOCK_SUCCESS
        || flock_group_get_view(h, &view) != FLOCK_SUCCESS) {
        if (n > 1) /* one member: its own line said why */
            fprintf(stderr, "flockctl force-leave: no member of the group answered\n");
        goto finish;
    }
    /* the member's provider id: given, or the one the view lists for it */
    int mpid = ctx->args->member_pid;
    for (size_t i = 0; mpid < 0 && i < view.members.size; i++)
        if (strcmp(view.members.data[i].address, ctx->args->member) == 0)
            mpid = view.members.data[i].provider_id;
    if (mpid < 0) {
        fprintf(stderr, "flockctl force-leave: %s is not a member of the group\n", ctx->args->member);
        goto finish;
    }
    addr = c[which].address;
    pid  = c[which].provider_id;
    for (int hop = 0; hop < 2; hop++) {
        free(text);
        text = NULL;
        if (flock_cli__force_leave_at(ctx, addr, pid, (uint16_t)mpid, &ret, &text, why, sizeof why) != 0) {
            fprintf(stderr, "flockctl force-leave: %s (provider %u): %s\n", addr, (unsigned)pid, why);
            goto finish;
        }
        if (ret != FLOCK_ERR_OP_UNSUPPORTED || hop > 0) break;
        /* a centralized secondary names its primary: ask it */
        struct json_object *info = flock_cli__admin_info(ctx, addr, pid), *p = NULL, *pp = NULL;
        static char         paddr[1024];
        bool                redirect = info && json_object_object_get_ex(info, "primary", &p)
                        && json_object_object_get_ex(info, "primary_provider_id", &pp)
                        && json_object_get_string_len(p) > 0
                        && strcmp(json_object_get_string(p), addr) != 0;
        if (redirect) {
            snprintf(paddr, sizeof paddr, "%s", json_object_get_string(p));
            addr = paddr;
            pid  = (uint16_t)json_object_get_int(pp);
        }
        json_object_put(info);
        if (!redirect) break;
    }
    if (ret == FLOCK_SUCCESS) {
        printf("%s\n", text);
        rc = FLOCK_CLI_EXIT_OK;
    } else {
        fprintf(stderr, "flockctl force-leave: %s (%s)\n", text, flock_cli__err_name(ret));
    }
finish:
    fflush(stdout);
    free(text);
    flock_group_view_clear(&view);
    if (h) flock_group_handle_release(h);
    return rc;
}

/* ---------------- meta ---------------- */

int flock_cli__meta(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n)
{
    const flock_cli_args* a    = ctx->args;
    flock_group_handle_t  h    = FLOCK_GROUP_HANDLE_NULL;
    flock_group_view_t    view = FLOCK_GROUP_VIEW_INITIALIZER;
    int                   rc   = FLOCK_CLI_EXIT_FAIL;
    if (flock_cli__connect(ctx, c, n, -1, n == 1, &h, NULL) != FLOCK_SUCCESS) {
        if (n > 1) /* one member: its own line said why */
            fprintf(stderr, "flockctl meta: no member of the group answered\n");
        goto finish;
    }
    if (a->meta_op == FLOCK_CLI_META_GET) {
        if (flock_group_get_view(h, &view) != FLOCK_SUCCESS) {
            fprintf(stderr, "flockctl meta: cannot copy the view\n");
            goto finish;
        }
        const char* v = flock_group_view_find_metadata(&view, a->meta_key);
        if (!v) {
            fprintf(stderr, "flockctl meta get: no key \"%s\" in the group's metadata\n", a->meta_key);
            goto finish;
        }
        printf("%s\n", v);
        rc = FLOCK_CLI_EXIT_OK;
        goto finish;
    }
    flock_return_t fr = flock_group_metadata_set(h, a->meta_key,
                                                 a->meta_op == FLOCK_CLI_META_SET ? a->meta_value : NULL);
    if (fr != FLOCK_SUCCESS) {
        fprintf(stderr, "flockctl meta %s: %s: %s%s\n", a->meta_op == FLOCK_CLI_META_SET ? "set" : "unset",
                flock_cli__err_name(fr), flock_cli__strerror(fr),
                fr == FLOCK_ERR_OP_UNSUPPORTED ? " (this group's backend does not change metadata at run time)" : "");
        goto finish;
    }
    rc = FLOCK_CLI_EXIT_OK;
finish:
    fflush(stdout);
    flock_group_view_clear(&view);
    if (h) flock_group_handle_release(h);
    return rc;
}

/* ---------------- keygen ---------------- */

int flock_cli__keygen(const flock_cli_args* args)
{
    unsigned char key[32];
    char          hex[sizeof key * 2 + 2];
    size_t        got = 0;
    while (got < sizeof key) {
        ssize_t r = getrandom(key + got, sizeof key - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            fprintf(stderr, "flockctl keygen: no random bytes from the kernel: %s\n", strerror(errno));
            return FLOCK_CLI_EXIT_FAIL;
        }
        got += (size_t)r;
    }
    for (size_t i = 0; i < sizeof key; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
    hex[sizeof key * 2]     = '\n';
    hex[sizeof key * 2 + 1] = 0;
    memset(key, 0, sizeof key);
    int fd = open(args->keygen_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "flockctl keygen: cannot create \"%s\": %s%s\n", args->keygen_file,
                strerror(errno), errno == EEXIST ? " (an existing key is never overwritten)" : "");
        memset(hex, 0, sizeof hex);
        return FLOCK_CLI_EXIT_FAIL;
    }
    size_t  len = strlen(hex);
    ssize_t w   = write(fd, hex, len);
    int     rc  = FLOCK_CLI_EXIT_OK;
    if (w != (ssize_t)len || fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
        fprintf(stderr, "flockctl keygen: cannot write \"%s\": %s\n", args->keygen_file, strerror(errno));
        unlink(args->keygen_file);
        rc = FLOCK_CLI_EXIT_FAIL;
    }
    close(fd);
    memset(hex, 0, sizeof hex);
    if (rc == FLOCK_CLI_EXIT_OK)
        printf("flockctl keygen: wrote a new 32-byte group key to %s (mode 0600)\n", args->keygen_file);
    return rc;
}
