/*
 * flockctl-internal.h -- what the two talking files of flockctl share:
 * flockctl.c (main, show, check; the connection helpers), flockctl-watch.c
 * (watch) and flockctl-admin.c (info, leave, force-leave, keygen, meta). Not pure: these
 * use the runtime and the Flock client (flock-cli.h holds the pure parts).
 */
#ifndef FLOCKCTL_INTERNAL_H
#define FLOCKCTL_INTERNAL_H

#include <signal.h>

#include <json-c/json.h>
#include <margo.h>
#include <flock/flock-client.h>
#include <flock/flock-group.h>

#include "flock-cli.h"

typedef struct flock_cli_ctx {
    const flock_cli_args* args;
    margo_instance_id     mid;
    flock_client_t        client;
} flock_cli_ctx;

/* A member to try as contact. */
typedef struct flock_cli_member {
    char*    address;
    uint16_t provider_id;
} flock_cli_member;

/** Set by SIGINT/SIGTERM: stop waiting and finish. */
extern volatile sig_atomic_t flock_cli__stop;

double flock_cli__mono_ms(void);
double flock_cli__realtime_ms(void);
/** Sleep ms, returning early when a signal asked to stop. */
void   flock_cli__sleep_ms(double ms);
/** Probe every member of view at once; alive[i] (and rets[i] if not NULL). */
void   flock_cli__probe_view(flock_cli_ctx* ctx, const flock_group_view_t* view, bool* alive,
                             hg_return_t* rets);
/** watch (flockctl-watch.c). */
int    flock_cli__watch(flock_cli_ctx* ctx, flock_cli_member* c, size_t n);
void   flock_cli__free_members(flock_cli_member* m, size_t n);
/** true if an answer to a probe shows the process alive; else the reason in why. */
bool flock_cli__probe_alive(hg_return_t hr, char* why, size_t whysize);
/** true if the process at address answers within --timeout; else the reason. */
bool flock_cli__probe(flock_cli_ctx* ctx, const char* address, uint16_t provider_id, char* why,
                      size_t whysize);
/** A group handle on one member (probed first if probe); the reason in why. */
flock_return_t flock_cli__open(flock_cli_ctx* ctx, const char* address, uint16_t provider_id,
                               bool probe, flock_group_handle_t* h, char* why, size_t whysize);
/** A handle on the first candidate that answers (skipping index skip); *which: its index. */
flock_return_t flock_cli__connect(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n,
                                  long skip, bool verbose_fail, flock_group_handle_t* h,
                                  size_t* which);

/* ---- flockctl-admin.c ---- */

/**
 * Call one of the provider's operators' RPCs (provider-admin.h: out is
 * "u32 ret, str text") on a member. *text is malloc'd (free it). Returns
 * 0 with *ret the member's flock_return_t; -1 with the reason in why when
 * it did not answer or the RPC is unknown there (an older member).
 */
int flock_cli__admin_call(flock_cli_ctx* ctx, const char* address, uint16_t provider_id,
                          const char* rpc, const void* in, size_t in_len, int* ret, char** text,
                          double* rtt_ms, char* why, size_t whysize);

/** The member's info answer (parsed JSON, put it), or NULL (quietly). */
struct json_object* flock_cli__admin_info(flock_cli_ctx* ctx, const char* address,
                                          uint16_t provider_id);

int flock_cli__info(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n);
int flock_cli__leave(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n);
int flock_cli__force_leave(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n);
int flock_cli__meta(flock_cli_ctx* ctx, const flock_cli_member* c, size_t n);
/** keygen: no network. */
int flock_cli__keygen(const flock_cli_args* args);

#endif /* FLOCKCTL_INTERNAL_H */
