/*
 * flockctl-watch.c -- `flockctl watch`: follow a group and print one line
 * per change: MEMBER at start, JOINED / LEFT / DIED (pushed by the group
 * through flock_group_subscribe when it offers it, else found by polling
 * views), SUSPECT / ALIVE when a listed member stops or starts answering
 * the probes again (a centralized primary is named as such). Calls:
 * flockctl.c's helpers (flockctl-internal.h), the Flock client API.
 */
#include "flockctl-internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOCK_CLI_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ------------------------------------------------------------------ */
/* watch                                                               */
/* ------------------------------------------------------------------ */

/* Members seen unreachable while still listed (the evidence for DIED). */
typedef struct flock_cli_down {
    flock_cli_member* items;
    size_t            size, cap;
} flock_cli_down;

static bool flock_cli__down_has(const flock_cli_down* d, const char* a, uint16_t pid)
{
    for (size_t i = 0; i < d->size; i++)
        if (d->items[i].provider_id == pid && strcmp(d->items[i].address, a) == 0) return true;
    return false;
}

static void flock_cli__down_add(flock_cli_down* d, const char* a, uint16_t pid)
{
    if (flock_cli__down_has(d, a, pid)) return;
    if (d->size == d->cap) {
        size_t            ncap = d->cap ? d->cap * 2 : 8;
        flock_cli_member* n    = realloc(d->items, ncap * sizeof *n);
        if (!n) return; /* only weakens LEFT/DIED classification */
        d->items = n;
        d->cap   = ncap;
    }
    char* copy = strdup(a);
    if (!copy) return;
    d->items[d->size].address       = copy;
    d->items[d->size++].provider_id = pid;
}

static void flock_cli__down_remove(flock_cli_down* d, const char* a, uint16_t pid)
{
    for (size_t i = 0; i < d->size; i++) {
        if (d->items[i].provider_id == pid && strcmp(d->items[i].address, a) == 0) {
            free(d->items[i].address);
            d->items[i] = d->items[--d->size];
            return;
        }
    }
}

typedef struct flock_cli_watch {
    flock_cli_ctx* ctx;
    flock_cli_down down;    /* seen unreachable in an earlier round */
    flock_cli_down suspect; /* reported SUSPECT (not answering), still listed */
    _Atomic long   events;  /* JOINED / LEFT / DIED printed (--count) */
    bool           pushed;  /* membership events come from flock_group_subscribe */
    pthread_mutex_t gone_mtx; /* protects gone, in, late_* (the push comes on another thread) */
    flock_cli_down gone;      /* pushed LEFT/DIED not yet out of the polled view */
    flock_cli_down in;        /* reported present (MEMBER, JOINED): each change printed once */
    flock_cli_down late_left, late_died; /* removals the polls saw first: the push has one
                                            round to say why, else the inference is printed */
    char           primary[1024]; /* the centralized primary, as the contact last said */
    uint16_t       primary_pid;
} flock_cli_watch;

/* One line per event; from the main thread and the subscription's thread. */
static pthread_mutex_t flock_cli__out_mtx = PTHREAD_MUTEX_INITIALIZER;

static void flock_cli__event_note(const flock_cli_args* args, const char* what,
                                  const char* address, uint16_t provider_id, const char* note);

static void flock_cli__event(const flock_cli_args* args, const char* what, const char* address,
                             uint16_t provider_id)
{
    flock_cli__event_note(args, what, address, provider_id, NULL);
}

static void flock_cli__event_note(const flock_cli_args* args, const char* what,
                                  const char* address, uint16_t provider_id, const char* note)
{
    char ts[40];
    pthread_mutex_lock(&flock_cli__out_mtx);
    flock_cli__format_time(flock_cli__realtime_ms(), ts, sizeof ts);
    if (args->json) {
        struct json_object* o = json_object_new_object();
        if (!o) return;
        json_object_object_add(o, "time", json_object_new_string(ts));
        json_object_object_add(o, "event", json_object_new_string(what));
        json_object_object_add(o, "address", json_object_new_string(address));
        json_object_object_add(o, "provider_id", json_object_new_int(provider_id));
        if (note) json_object_object_add(o, "role", json_object_new_string(note));
        printf("%s\n", json_object_to_json_string_ext(o, FLOCK_CLI_JSON_FLAGS));
        json_object_put(o);
    } else {
        printf("%s %-6s %s %u%s%s\n", ts, what, address, (unsigned)provider_id, note ? " " : "",
               note ? note : "");
    }
    fflush(stdout);
    pthread_mutex_unlock(&flock_cli__out_mtx);
}

/* The subscription's callback (flock_group_subscribe, issue #16): the
 * group says why a member went (LEFT or DIED). */
static void flock_cli__on_push(void* uargs, flock_update_t update, const char* address,
                               uint16_t pid)
{
    flock_cli_watch* w = uargs;
    bool             joined = update == FLOCK_MEMBER_JOINED;
    pthread_mutex_lock(&w->gone_mtx);
    bool present = flock_cli__down_has(&w->in, address, pid);
    if (joined != present) { /* news (the polls may have reported it already) */
        flock_cli__event(w->ctx->args,
                         joined ? "JOINED" : update == FLOCK_MEMBER_LEFT ? "LEFT" : "DIED",
                         address, pid);
        w->events++;
        if (joined) flock_cli__down_add(&w->in, address, pid);
        else flock_cli__down_remove(&w->in, address, pid);
    }
    if (!joined) flock_cli__down_add(&w->gone, address, pid);
    pthread_mutex_unlock(&w->gone_mtx);
}

/* Pushed mode, once per round: the removals the polls saw a round ago and
 * the push has not explained yet are printed as inferred (LEFT, or DIED
 * when the member had stopped answering). A stalled subscription thus
 * never hides a change. */
static void flock_cli__watch_late(flock_cli_watch* w)
{
    pthread_mutex_lock(&w->gone_mtx);
    for (int died = 0; died <= 1; died++) {
        flock_cli_down* l = died ? &w->late_died : &w->late_left;
        for (size_t i = 0; i < l->size; i++) {
            if (flock_cli__down_has(&w->in, l->items[i].address, l->items[i].provider_id)) {
                flock_cli__event(w->ctx->args, died ? "DIED" : "LEFT", l->items[i].address,
                                 l->items[i].provider_id);
                w->events++;
                flock_cli__down_remove(&w->in, l->items[i].address, l->items[i].provider_id);
            }
            free(l->items[i].address);
        }
        l->size = 0;
    }
    pthread_mutex_unlock(&w->gone_mtx);
}

/* Contract: remembers the centralized primary the contact names (nothing
 * for other backends or members without the info RPC). */
static void flock_cli__watch_primary(flock_cli_watch* w, const char* address, uint16_t pid)
{
    struct json_object *info = flock_cli__admin_info(w->ctx, address, pid), *p = NULL, *pp = NULL;
    if (info && json_object_object_get_ex(info, "primary", &p)
        && json_object_object_get_ex(info, "primary_provider_id", &pp)) {
        snprintf(w->primary, sizeof w->primary, "%s", json_object_get_string(p));
        w->primary_pid = (uint16_t)json_object_get_int(pp);
    }
    json_object_put(info);
}

/* Contract: SUSPECT when a listed member stops answering the probes (noting
 * a centralized primary), ALIVE when it answers again while still listed. */
static void flock_cli__watch_liveness(flock_cli_watch* w, const flock_group_view_t* view,
                                      const bool* alive)
{
    for (size_t i = 0; i < view->members.size; i++) {
        const flock_member_t* m       = &view->members.data[i];
        bool                  was     = flock_cli__down_has(&w->suspect, m->address, m->provider_id);
        pthread_mutex_lock(&w->gone_mtx);
        bool gone = flock_cli__down_has(&w->gone, m->address, m->provider_id);
        pthread_mutex_unlock(&w->gone_mtx);
        if (gone) continue; /* the group said it left or died */
        bool                  primary = w->primary[0] && w->primary_pid == m->provider_id
                                        && strcmp(w->primary, m->address) == 0;
        if (!alive[i] && !was) {
            flock_cli__event_note(w->ctx->args, "SUSPECT", m->address, m->provider_id,
                                  primary ? "primary" : NULL);
            flock_cli__down_add(&w->suspect, m->address, m->provider_id);
        } else if (alive[i] && was) {
            flock_cli__event_note(w->ctx->args, "ALIVE", m->address, m->provider_id,
                                  primary ? "primary" : NULL);
            flock_cli__down_remove(&w->suspect, m->address, m->provider_id);
        }
    }
}

static void flock_cli__on_diff(void* uargs, bool joined, const char* address, uint16_t pid)
{
    flock_cli_watch* w = uargs;
    bool             died = !joined && flock_cli__down_has(&w->down, address, pid);
    flock_cli__down_remove(&w->suspect, address, pid);
    flock_cli__down_remove(&w->down, address, pid);
    pthread_mutex_lock(&w->gone_mtx);
    bool present = flock_cli__down_has(&w->in, address, pid);
    if (!joined) flock_cli__down_remove(&w->gone, address, pid);
    if (joined && !present) { /* before (or without) the push */
        flock_cli__event(w->ctx->args, "JOINED", address, pid);
        flock_cli__down_add(&w->in, address, pid);
        w->events++;
    } else if (!joined && present && w->pushed) { /* let the push say why, for one round */
        flock_cli__down_add(died ? &w->late_died : &w->late_left, address, pid);
    } else if (!joined && present) {
        flock_cli__event(w->ctx->args, died ? "DIED" : "LEFT", address, pid);
        flock_cli__down_remove(&w->in, address, pid);
        w->events++;
    }
    pthread_mutex_unlock(&w->gone_mtx);
}

/* Watch phase 1: probe the members listed in prev; the unreachable ones go
 * to pending (they count as evidence from the next round on). -1 when out
 * of memory. */
static int flock_cli__watch_probe(flock_cli_watch* w, const flock_group_view_t* prev,
                                  flock_cli_down* pending)
{
    flock_cli_ctx* ctx   = w->ctx;
    bool*          alive = calloc(prev->members.size ? prev->members.size : 1, sizeof *alive);
    if (!alive) return -1;
    flock_cli__probe_view(ctx, prev, alive, NULL);
    flock_cli__watch_liveness(w, prev, alive);
    for (size_t i = 0; i < prev->members.size; i++)
        if (!alive[i])
            flock_cli__down_add(pending, prev->members.data[i].address,
                                prev->members.data[i].provider_id);
    free(alive);
    return 0;
}

/* Watch phase 2: refresh the view through *h; if its member does not
 * answer, follow another member of prev (the contacts are kept in
 * *known). Contract: 0 refreshed, 2 refreshed through a new handle, 1
 * interrupted (stop), -1 failed (no member answers, message printed; or
 * out of memory). */
static int flock_cli__watch_refresh(flock_cli_ctx* ctx, flock_group_handle_t* h,
                                    const flock_group_view_t* prev, flock_cli_member** known,
                                    size_t* nknown, size_t* contact)
{
    if (flock_group_update_view(*h, NULL) == FLOCK_SUCCESS) return 0;
    flock_cli__free_members(*known, *nknown);
    *known  = calloc(prev->members.size ? prev->members.size : 1, sizeof **known);
    *nknown = 0;
    if (!*known) return -1;
    for (size_t i = 0; i < prev->members.size; i++) {
        if (!((*known)[*nknown].address = strdup(prev->members.data[i].address))) return -1;
        (*known)[(*nknown)++].provider_id = prev->members.data[i].provider_id;
    }
    flock_group_handle_release(*h);
    *h = FLOCK_GROUP_HANDLE_NULL;
    if (flock_cli__connect(ctx, *known, *nknown, -1, false, h, contact) != FLOCK_SUCCESS) {
        if (flock_cli__stop) return 1;
        fprintf(stderr, "flockctl watch: no member of the group answers any more\n");
        return -1;
    }
    if (ctx->args->log_level > 0)
        fprintf(stderr, "flockctl watch: now following %s (provider %u)\n",
                (*known)[*contact].address, (unsigned)(*known)[*contact].provider_id);
    return 2;
}

/* Watch phase 4: this round's probe results become evidence for later
 * rounds (down), for the members cur still lists; pending is emptied. */
static void flock_cli__watch_keep_evidence(flock_cli_down* pending, const flock_group_view_t* cur,
                                           flock_cli_down* down)
{
    for (size_t i = 0; i < pending->size; i++) {
        if (flock_group_view_members_binary_search(cur, pending->items[i].address,
                                                   pending->items[i].provider_id)
            >= 0)
            flock_cli__down_add(down, pending->items[i].address, pending->items[i].provider_id);
        free(pending->items[i].address);
    }
    pending->size = 0;
}

int flock_cli__watch(flock_cli_ctx* ctx, flock_cli_member* c, size_t n)
{
    const flock_cli_args* args    = ctx->args;
    flock_group_handle_t  h       = FLOCK_GROUP_HANDLE_NULL;
    flock_group_view_t    prev    = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_view_t    cur     = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_cli_member*     known   = NULL; /* contacts: the last view's members */
    size_t                nknown  = 0, contact = 0;
    flock_cli_down        pending = {NULL, 0, 0};
    flock_cli_watch       w;
    int                   rc      = FLOCK_CLI_EXIT_FAIL;
    double                start   = flock_cli__mono_ms();
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    pthread_mutex_init(&w.gone_mtx, NULL);

    if (flock_cli__connect(ctx, c, n, -1, true, &h, &contact) != FLOCK_SUCCESS) {
        if (n > 1) /* one member: its own line said why */
            fprintf(stderr, "flockctl watch: no member of the group answered\n");
        goto finish;
    }
    if (flock_group_get_view(h, &prev) != FLOCK_SUCCESS) goto finish;
    for (size_t i = 0; i < prev.members.size; i++) {
        flock_cli__event(args, "MEMBER", prev.members.data[i].address,
                         prev.members.data[i].provider_id);
        flock_cli__down_add(&w.in, prev.members.data[i].address, prev.members.data[i].provider_id);
    }
    flock_cli__watch_primary(&w, c[contact].address, c[contact].provider_id);
    /* by push when the group offers it (issue #16), else by polling */
    w.pushed = flock_group_subscribe(h, flock_cli__on_push, NULL, &w) == FLOCK_SUCCESS;
    if (args->log_level > 0)
        fprintf(stderr, "flockctl watch: membership events %s\n",
                w.pushed ? "pushed by the group (subscription)" : "found by polling");

    while (!flock_cli__stop) {
        if (args->count > 0 && w.events >= args->count) break;
        if (args->duration_s > 0 && flock_cli__mono_ms() - start >= args->duration_s * 1e3) break;
        flock_cli__sleep_ms(args->interval_ms);
        if (flock_cli__stop) break;

        if (flock_cli__watch_probe(&w, &prev, &pending) != 0) goto finish;
        int r = flock_cli__watch_refresh(ctx, &h, &prev, &known, &nknown, &contact);
        if (r == 1) break;
        if (r < 0) goto finish;
        /* a new handle (every member of the old one's view was silent): subscribe it
         * too, or find changes by polling from now on */
        if (r == 2 && w.pushed)
            w.pushed = flock_group_subscribe(h, flock_cli__on_push, NULL, &w) == FLOCK_SUCCESS;
        /* 3. diff */
        flock_group_view_clear(&cur);
        if (flock_group_get_view(h, &cur) != FLOCK_SUCCESS) goto finish;
        if (w.pushed) flock_cli__watch_late(&w); /* last round's unexplained removals */
        flock_cli__view_diff(&prev, &cur, flock_cli__on_diff, &w);
        if (cur.digest != prev.digest && known && contact < nknown)
            flock_cli__watch_primary(&w, known[contact].address, known[contact].provider_id);
        else if (cur.digest != prev.digest)
            flock_cli__watch_primary(&w, c[contact].address, c[contact].provider_id);
        flock_cli__watch_keep_evidence(&pending, &cur, &w.down);
        flock_group_view_clear(&prev);
        FLOCK_GROUP_VIEW_MOVE(&cur, &prev);
    }
    rc = FLOCK_CLI_EXIT_OK;
finish:
    fflush(stdout);
    for (size_t i = 0; i < pending.size; i++) free(pending.items[i].address);
    free(pending.items);
    if (h && w.pushed) flock_group_unsubscribe(h);
    for (size_t i = 0; i < w.down.size; i++) free(w.down.items[i].address);
    free(w.down.items);
    for (size_t i = 0; i < w.suspect.size; i++) free(w.suspect.items[i].address);
    free(w.suspect.items);
    flock_cli_down* lists[] = {&w.gone, &w.in, &w.late_left, &w.late_died};
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        for (size_t i = 0; i < lists[k]->size; i++) free(lists[k]->items[i].address);
        free(lists[k]->items);
    }
    pthread_mutex_destroy(&w.gone_mtx);
    flock_cli__free_members(known, nknown);
    flock_group_view_clear(&prev);
    flock_group_view_clear(&cur);
    if (h) flock_group_handle_release(h);
    return rc;
}

