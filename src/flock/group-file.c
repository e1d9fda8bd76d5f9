/*
 * group-file.c -- the group file a provider keeps current: which member
 * writes it (the primary when the view names one, else member 0 or the
 * member that created it), the guard that keeps one group from overwriting
 * another's file, the mode of a new file (0600 for a keyed group), the
 * retries after a failed write (read-only directory, full disk), so that a
 * file is never left stale until the next membership change, and the
 * coalescing of bursts of changes into one write.
 *
 * Owns: flock__group_file_t. May call: view.c (JSON text, atomic write,
 * reading a file), backend-util (group ids), the runtime (timers, auth
 * state, logging). Called by: provider.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <frt.h>

#include "flock/backend-util.h"
#include "flock/group-file.h"
#include "flock/provider-internal.h"
#include "flock/view-file.h"

typedef struct {
    flock__group_file_t* f;
    char*                text;     /* the view to write, when this provider writes it */
    bool                 oom;
    bool                 writer;   /* this provider writes the file */
    uint64_t             group_id; /* of that view */
} write_ctx;

/* Contract: view lock held. Whether the view's __config__ names a primary
 * (primary_address and primary_provider_id: a backend with a primary), and
 * whether that primary is this provider. */
static bool named_primary_locked(flock_group_view_t* v, const flock__group_file_t* f,
                                 bool* is_self)
{
    const char*         cfg = flock_group_view_find_metadata(v, "__config__");
    struct json_object* o   = cfg ? json_tokener_parse(cfg) : NULL;
    struct json_object *a = NULL, *id = NULL;
    bool named = o && json_object_object_get_ex(o, "primary_address", &a)
              && json_object_is_type(a, json_type_string)
              && json_object_object_get_ex(o, "primary_provider_id", &id)
              && json_object_is_type(id, json_type_int);
    *is_self = named && f->self_addr && strcmp(json_object_get_string(a), f->self_addr) == 0
            && json_object_get_int64(id) == (int64_t)f->provider_id;
    json_object_put(o);
    return named;
}

static void view_cb(void* uargs, const flock_group_view_t* cv)
{
    write_ctx*          c = (write_ctx*)uargs;
    flock_group_view_t* v = (flock_group_view_t*)cv; /* the lock is ours to take */
    bool                writer, is_primary = false;
    FLOCK_GROUP_VIEW_LOCK(v);
    if (named_primary_locked(v, c->f, &is_primary)) {
        writer = is_primary;
    } else {
        flock_member_t* first = flock_group_view_member_at(v, 0);
        writer = (first && first->provider_id == c->f->provider_id && c->f->self_addr
                  && strcmp(first->address, c->f->self_addr) == 0)
              || c->f->owner;
    }
    c->writer = writer;
    if (writer) {
        c->text     = flock__view_to_json(v);
        c->oom      = (c->text == NULL);
        c->group_id = flock__view_group_id(v);
    }
    FLOCK_GROUP_VIEW_UNLOCK(v);
}

/* the same file, unchanged (an atomic write makes a new inode) */
static bool same_file(const struct stat* a, const struct stat* b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size
        && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Contract: f->mtx held. false (logged) if the file now describes another
 * group than group_id. A missing, unreadable or id-less file (Mochi Flock,
 * older versions) does not stop the write. The file this provider last
 * wrote, unchanged since, is not read again. */
static bool file_is_ours(flock__group_file_t* f, uint64_t group_id)
{
    flock_group_view_t old    = FLOCK_GROUP_VIEW_INITIALIZER;
    uint64_t           theirs = 0;
    struct stat        now;
    if (!group_id || stat(f->filename, &now) != 0) return true;
    if (f->wrote && same_file(&now, &f->written)) return true;
    if (flock_group_view_from_file(f->filename, &old) == FLOCK_SUCCESS)
        theirs = flock__view_group_id(&old);
    flock_group_view_clear(&old);
    if (!theirs || theirs == group_id) return true;
    margo_error(f->mid,
                "[flock] provider %u: group file \"%s\" now describes group %016llx, not this "
                "member's group %016llx: it is left as it is",
                (unsigned)f->provider_id, f->filename, (unsigned long long)theirs,
                (unsigned long long)group_id);
    return false;
}

/* One of f's timers fired (its armed flag is *armed, under f->mtx): write
 * the file (nothing once f is closing). */
static void timer_fired(flock__group_file_t* f, bool* armed)
{
    pthread_mutex_lock(&f->mtx);
    *armed = false;
    pthread_mutex_unlock(&f->mtx);
    (void)flock__group_file_write(f, false);
}

/* the coalesced write is due (FLOCK__GROUP_FILE_COALESCE_MS) */
static void later_cb(void* uargs)
{
    flock__group_file_t* f = (flock__group_file_t*)uargs;
    timer_fired(f, &f->later_armed);
}

/* Contract: f->mtx held; not a registration. true if this change is left to
 * the coalesced write (armed now, or already). A token bucket: bursts of
 * up to FLOCK__GROUP_FILE_BURST changes are written at once, then one
 * write per FLOCK__GROUP_FILE_COALESCE_MS (FLOCK__GROUP_FILE_RECHECK_MS for
 * a provider that found it does not write the file). */
static bool coalesce_locked(flock__group_file_t* f, double now)
{
    if (f->later == MARGO_TIMER_NULL) return false;
    if (f->later_armed) return true;
    double period = f->writer ? FLOCK__GROUP_FILE_COALESCE_MS : FLOCK__GROUP_FILE_RECHECK_MS;
    double tokens = f->tokens_at > 0 ? f->tokens + (now - f->tokens_at) / period
                                     : FLOCK__GROUP_FILE_BURST;
    f->tokens     = tokens < FLOCK__GROUP_FILE_BURST ? tokens : FLOCK__GROUP_FILE_BURST;
    f->tokens_at  = now;
    if (f->tokens >= 1.0) {
        f->tokens -= 1.0;
        return false; /* write now */
    }
    double wait = (1.0 - f->tokens) * period;
    if (margo_timer_start(f->later, wait < 1.0 ? 1.0 : wait) != HG_SUCCESS) return false;
    f->later_armed = true;
    return true;
}

/* the next retry of a failed write is due */
static void retry_cb(void* uargs)
{
    flock__group_file_t* f = (flock__group_file_t*)uargs;
    timer_fired(f, &f->retry_armed);
}

/* Contract: f->mtx held; the write just failed (ret) or succeeded. Log the
 * first failure and each recovery; arm the next retry (backoff). */
static void note_outcome_locked(flock__group_file_t* f, flock_return_t ret)
{
    if (ret == FLOCK_SUCCESS) {
        if (f->failing)
            margo_warning(f->mid, "[flock] provider %u: group file \"%s\" written again",
                          (unsigned)f->provider_id, f->filename);
        f->failing  = false;
        f->retry_ms = FLOCK__GROUP_FILE_RETRY_FIRST_MS;
        return;
    }
    if (!f->failing)
        margo_error(f->mid,
                    "[flock] provider %u: cannot write group file \"%s\" (see above); "
                    "retrying until it can",
                    (unsigned)f->provider_id, f->filename);
    f->failing = true;
    if (f->retry_armed || f->retry == MARGO_TIMER_NULL) return;
    if (margo_timer_start(f->retry, f->retry_ms) == HG_SUCCESS) f->retry_armed = true;
    f->retry_ms *= 2;
    if (f->retry_ms > FLOCK__GROUP_FILE_RETRY_MAX_MS) f->retry_ms = FLOCK__GROUP_FILE_RETRY_MAX_MS;
}

flock_return_t flock__group_file_init(flock__group_file_t* f, margo_instance_id mid,
                                      uint16_t provider_id, const char* filename,
                                      const char* self_addr, flock__view_source_fn source,
                                      void* source_ctx)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mtx, NULL);
    f->mid         = mid;
    f->provider_id = provider_id;
    f->self_addr   = self_addr;
    f->source      = source;
    f->source_ctx  = source_ctx;
    f->retry       = MARGO_TIMER_NULL;
    f->later       = MARGO_TIMER_NULL;
    f->retry_ms    = FLOCK__GROUP_FILE_RETRY_FIRST_MS;
    if (!filename) return FLOCK_SUCCESS;
    f->filename = strdup(filename);
    if (!f->filename) return FLOCK_ERR_ALLOCATION;
    if (margo_timer_create(mid, retry_cb, f, &f->retry) != HG_SUCCESS)
        f->retry = MARGO_TIMER_NULL; /* no retries; writes still happen on changes */
    if (margo_timer_create(mid, later_cb, f, &f->later) != HG_SUCCESS)
        f->later = MARGO_TIMER_NULL; /* every change written at once */
    return FLOCK_SUCCESS;
}

flock_return_t flock__group_file_write(flock__group_file_t* f, bool registering)
{
    flock_return_t ret = FLOCK_SUCCESS;
    write_ctx      c   = {f, NULL, false, false, 0};

    if (!f->filename) return FLOCK_SUCCESS;
    pthread_mutex_lock(&f->mtx);
    double now = frt_now_ms();
    if (f->closing || (!registering && coalesce_locked(f, now))) {
        pthread_mutex_unlock(&f->mtx);
        return FLOCK_SUCCESS;
    }
    ret        = f->source(f->source_ctx, view_cb, &c);
    f->writer  = c.writer;
    if (ret != FLOCK_SUCCESS) {
        /* no view to write now (e.g. a member that knows it was removed) */
        margo_debug(f->mid, "[flock] provider %u: no view to write to \"%s\" (%d)",
                    (unsigned)f->provider_id, f->filename, (int)ret);
        ret = FLOCK_SUCCESS;
        goto finish;
    }
    if (c.oom) {
        ret = FLOCK_ERR_ALLOCATION;
        margo_error(f->mid, "[flock] provider %u: out of memory writing \"%s\"",
                    (unsigned)f->provider_id, f->filename);
    } else if (c.text && file_is_ours(f, c.group_id)) {
        ret = flock__write_file_atomic_mode(f->filename, c.text,
                                            frt_auth_enabled(f->mid) ? 0600 : 0644);
        if (ret == FLOCK_SUCCESS && registering) f->owner = true;
        f->wrote = ret == FLOCK_SUCCESS && stat(f->filename, &f->written) == 0;
    }
    note_outcome_locked(f, ret);
finish:
    pthread_mutex_unlock(&f->mtx);
    free(c.text);
    return ret;
}

/* Cancel and destroy *t (the cancel waits for a run in progress). */
static void drop_timer(margo_timer_t* t)
{
    if (*t == MARGO_TIMER_NULL) return;
    margo_timer_cancel(*t);
    margo_timer_destroy(*t);
    *t = MARGO_TIMER_NULL;
}

void flock__group_file_close(flock__group_file_t* f)
{
    pthread_mutex_lock(&f->mtx);
    f->closing = true;
    pthread_mutex_unlock(&f->mtx);
    drop_timer(&f->retry);
    drop_timer(&f->later);
}

void flock__group_file_destroy(flock__group_file_t* f)
{
    flock__group_file_close(f);
    free(f->filename);
    f->filename = NULL;
    pthread_mutex_destroy(&f->mtx);
}
