/*
 * centralized-backend.c -- the "centralized" backend's entry points: init
 * and destroy of a group (cent_state_t from allocation to free) and the
 * flock_backend_impl ops table. The protocol itself lives in the files
 * listed in centralized-internal.h (primary, ping, secondary, rpc).
 *
 * Owns: the cent_state_t allocation, its config, role and primary address
 * (fixed at init), s->closing and s->joined (set at init and destroy).
 * May call: centralized-rpc.c (register, deregister),
 * centralized-secondary.c (join, leave), centralized-ping.c (start and stop
 * pinging), centralized-primary.c (answer what is still queued),
 * centralized-config.c, centralized-logic.c, view-codec, frt/margo.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flock/backend-util.h"

#include "centralized-backend.h"
#include "centralized-internal.h"

/* ------------------------------------------------------------------ */
/* State                                                                */
/* ------------------------------------------------------------------ */

/* Contract: a new state for args (locks, identity, callbacks, default
 * config, random seed), or NULL when out of memory. Nothing registered. */
static cent_state_t* cent__state_new(const flock_backend_init_args_t* args)
{
    struct timespec ts;
    cent_state_t* s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    pthread_mutex_init(&s->mtx, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->sync_mtx, NULL);
    s->mid = args->mid;
    s->provider_id = args->provider_id;
    s->pool = args->pool;
    s->cb_args.mid = args->mid;
    s->cb_args.provider_id = args->provider_id;
    s->cb_args.member_update_callback = args->member_update_callback;
    s->cb_args.metadata_update_callback = args->metadata_update_callback;
    s->cb_args.callback_context = args->callback_context;
    s->primary_addr = HG_ADDR_NULL;
    flock__cent_config_default(&s->config);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s->rng = flock__cent_rng_seed((uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec,
                                  (uint64_t)getpid(), args->provider_id,
                                  (uint64_t)(uintptr_t)s);
    return s;
}

/* Free everything; RPCs deregistered and no timer running. NULL-safe.
 * Requests still queued are answered with an error. */
static void cent__state_free(cent_state_t* s)
{
    if (!s) return;
    cent__peer_free_list(s->peers);
    s->peers = NULL;
    while (s->queue_head) {
        cent_change_t* c = s->queue_head;
        s->queue_head = c->next;
        if (c->req) cent__respond_status(c->req, FLOCK_ERR_OTHER);
        cent__change_free(c);
    }
    if (s->primary_addr != HG_ADDR_NULL) margo_addr_free(s->mid, s->primary_addr);
    flock_group_view_clear(&s->view);
    flock__cent_log_destroy(&s->log);
    flock__cent_config_destroy(&s->config);
    if (s->config_json) json_object_put(s->config_json);
    for (unsigned i = 0; i < s->nretired; i++)
        json_object_put(s->retired_json[i]);
    free(s->self_addr);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mtx);
    pthread_mutex_destroy(&s->sync_mtx);
    free(s);
}

/* Contract: no lock held. Set closing and deregister the RPCs (waits for
 * running handlers): no new work starts. */
static void cent__stop_accepting(cent_state_t* s)
{
    pthread_mutex_lock(&s->mtx);
    s->closing = true;
    pthread_mutex_unlock(&s->mtx);
    cent__deregister_all(s);
}

/* Contract: no lock held; closing set. Wait until no ping is in flight and
 * no committer runs. */
static void cent__wait_idle(cent_state_t* s)
{
    frt_wait_begin();
    pthread_mutex_lock(&s->mtx);
    while (s->inflight > 0 || s->committing)
        pthread_cond_wait(&s->cv, &s->mtx);
    pthread_mutex_unlock(&s->mtx);
    frt_wait_end();
}

/* ------------------------------------------------------------------ */
/* Init                                                                 */
/* ------------------------------------------------------------------ */

/* Contract: the arguments the backend cannot start without: an address and
 * at least one member in the initial view. */
static flock_return_t cent__check_args(flock_backend_init_args_t* args, void** state)
{
    if (!args || !state || !args->self_addr_str) return FLOCK_ERR_INVALID_ARGS;
    if (args->initial_view.members.size == 0) {
        margo_error(args->mid,
                    CENT_LOG_PREFIX "the centralized backend requires at least one "
                                    "member in the initial view");
        return FLOCK_ERR_INVALID_ARGS;
    }
    return FLOCK_SUCCESS;
}

/* Contract: config parsed, role known. The group id and term: a primary
 * that starts from a view (a new group, or a restart from its group file)
 * opens a new term, one above the file's (the first is 1), and names a new
 * group if the view has no id (flock__group_id_new: random for a group of
 * one, the same at every founder of a view/mpi group); a secondary keeps
 * what its view says (0 when unknown) until it hears from the primary. */
static void cent__resolve_identity(cent_state_t* s, const flock_backend_init_args_t* args)
{
    if (s->is_primary && !args->join) {
        if (!s->config.group_id)
            s->config.group_id = flock__group_id_new(&args->initial_view, "centralized");
        s->config.term += 1;
    }
    s->group_id = s->config.group_id;
    s->term = s->config.term;
}

/* Contract: s fresh. Parse the config (the view's __config__ wins over
 * group.config), pick the primary (else the first member of the initial
 * view; a joiner must be told), check it is in the view, set the role,
 * build the effective config JSON and resolve the primary's address. */
static flock_return_t cent__resolve_primary(cent_state_t* s,
                                            flock_backend_init_args_t* args)
{
    char err[256] = "";
    const char* view_cfg_str =
        flock_group_view_find_metadata(&args->initial_view, "__config__");
    flock_return_t ret =
        flock__cent_config_parse(args->config, view_cfg_str, &s->config, err, sizeof err);
    if (ret != FLOCK_SUCCESS) {
        margo_error(s->mid, CENT_LOG_PREFIX "invalid configuration: %s", err);
        return ret;
    }
    if (!s->config.primary_address) {
        const flock_member_t* first = &args->initial_view.members.data[0];
        if (args->join) {
            const char* type = flock_group_view_find_metadata(&args->initial_view, "__type__");
            if (type && strcmp(type, "centralized") != 0)
                margo_error(s->mid, CENT_LOG_PREFIX "cannot join: the group is a \"%s\" group, "
                                    "not a centralized one (its view's __type__)", type);
            else
                margo_error(s->mid,
                            CENT_LOG_PREFIX "cannot join: the view does not come from a running "
                                            "centralized group (no \"__config__\" naming its "
                                            "primary); join through the group file its members "
                                            "write, or set \"primary_address\" in the group config");
            return FLOCK_ERR_INVALID_CONFIG;
        }
        ret = flock__cent_config_set_primary(&s->config, first->address,
                                             s->config.has_primary_provider_id
                                                 ? s->config.primary_provider_id
                                                 : first->provider_id);
        if (ret != FLOCK_SUCCESS) return ret;
    }
    if (!flock_group_view_find_member(&args->initial_view, s->config.primary_address,
                                      s->config.primary_provider_id)) {
        margo_error(s->mid,
                    CENT_LOG_PREFIX "the primary %s (%u) is not in the initial view",
                    s->config.primary_address, s->config.primary_provider_id);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    s->is_primary =
        flock__cent_same_member(s->config.primary_address, s->config.primary_provider_id,
                                s->self_addr, s->provider_id);
    cent__resolve_identity(s, args);
    s->config_json = flock__cent_config_to_json(&s->config);
    if (!s->config_json) return FLOCK_ERR_ALLOCATION;
    s->failover = !s->config.no_failover;
    if (cent__set_primary(s, s->config.primary_address, s->config.primary_provider_id) !=
        FLOCK_SUCCESS) {
        margo_error(s->mid, CENT_LOG_PREFIX "cannot resolve the primary address %s",
                    s->config.primary_address);
        return FLOCK_ERR_FROM_MERCURY;
    }
    return FLOCK_SUCCESS;
}

/* Contract: role resolved. Take the initial view (moved out of args), add
 * the reserved metadata, give the primary its event log. */
static flock_return_t cent__install_initial_view(cent_state_t* s,
                                                 flock_backend_init_args_t* args)
{
    FLOCK_GROUP_VIEW_MOVE(&args->initial_view, &s->view);
    flock_return_t ret =
        flock__view_set_reserved_metadata(&s->view, "centralized", s->config_json);
    if (ret != FLOCK_SUCCESS) return ret;
    if (s->is_primary) {
        ret = flock__cent_log_init(&s->log, CENT_EVENT_LOG_CAPACITY);
        if (ret != FLOCK_SUCCESS) return ret;
    }
    s->committed_seq = 0;
    s->committed_digest = s->view.digest;
    return FLOCK_SUCCESS;
}

/* Contract: a secondary listed in its initial view, RPCs registered, no
 * lock held. It may be a restart (the group file lists it): take the
 * primary's current view at once, or rejoin if the primary no longer lists
 * it. A primary that does not answer yet (a group whose members all start
 * together, a restarting primary) is no error: the watch tries again. */
static void cent__sync_listed(cent_state_t* s)
{
    bool listed = false;
    pthread_mutex_lock(&s->sync_mtx);
    flock_return_t ret = cent__secondary_check_locked(s, CENT_SYNC_TIMEOUT_MS, &listed);
    if (ret == FLOCK_SUCCESS && !listed) {
        margo_info(s->mid, CENT_LOG_PREFIX "the primary no longer lists this member: rejoining");
        if (cent__secondary_rejoin_locked(s) != FLOCK_SUCCESS)
            cent__watch_removed(s, "the primary does not list it");
    }
    pthread_mutex_unlock(&s->sync_mtx);
}

/* Contract: view installed, nothing registered. Register the RPCs and take
 * up the role: a joiner joins through the primary (holding sync_mtx from
 * before registering until the view is in, so early updates wait); the
 * primary starts pinging every other member; a listed secondary is a
 * member at once. */
static flock_return_t cent__start_role(cent_state_t* s, bool join)
{
    flock_return_t ret;
    if (!join) {
        s->joined = !s->is_primary;
        ret = cent__register_all(s);
        if (ret == FLOCK_SUCCESS && s->is_primary) ret = cent__ping_start_all(s);
        if (ret == FLOCK_SUCCESS && !s->is_primary) cent__sync_listed(s);
    } else {
        pthread_mutex_lock(&s->sync_mtx); /* updates wait until we are in */
        ret = cent__register_all(s);
        if (ret == FLOCK_SUCCESS) ret = cent__secondary_join(s);
        if (ret == FLOCK_SUCCESS) s->joined = true;
        pthread_mutex_unlock(&s->sync_mtx);
    }
    if (ret == FLOCK_SUCCESS) ret = cent__watch_start(s); /* every role: see watch.c */
    return ret;
}

static flock_return_t cent_init(flock_backend_init_args_t* args, void** state)
{
    cent_state_t* s = NULL;
    flock_return_t ret = cent__check_args(args, state);
    if (ret != FLOCK_SUCCESS) return ret;
    s = cent__state_new(args);
    if (!s) return FLOCK_ERR_ALLOCATION;
    s->self_addr = strdup(args->self_addr_str);
    ret = s->self_addr ? FLOCK_SUCCESS : FLOCK_ERR_ALLOCATION;
    if (ret == FLOCK_SUCCESS) ret = cent__resolve_primary(s, args);
    if (ret == FLOCK_SUCCESS) ret = cent__install_initial_view(s, args);
    if (ret == FLOCK_SUCCESS) ret = cent__start_role(s, args->join);
    if (ret != FLOCK_SUCCESS) {
        cent__stop_accepting(s);
        cent__watch_stop(s);
        cent__wait_idle(s);
        cent__state_free(s);
        return ret;
    }
    margo_debug(s->mid, CENT_LOG_PREFIX "provider %u ready as %s (%zu members)",
                s->provider_id, s->is_primary ? "primary" : "secondary",
                (size_t)s->view.members.size);
    *state = s;
    return FLOCK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Destroy                                                              */
/* ------------------------------------------------------------------ */

static flock_return_t cent_destroy(void* state)
{
    cent_state_t* s = state;
    cent_peer_t* peers = NULL;
    if (!s) return FLOCK_ERR_INVALID_ARGS;

    if (!s->is_primary && s->joined) cent__secondary_leave(s); /* leave gracefully */
    cent__stop_accepting(s);       /* waits for running handlers */
    if (s->is_primary) cent__failover_hand_over(s); /* a successor takes over at once */
    cent__watch_stop(s);           /* waits for a running check */
    peers = cent__ping_stop_all(s); /* waits for running timer callbacks */
    cent__wait_idle(s);            /* in-flight pings, an active committer */
    cent__peer_free_list(peers);
    cent__state_free(s);
    return FLOCK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* The ops table                                                        */
/* ------------------------------------------------------------------ */

static flock_return_t
cent_get_config(void* state, void (*fn)(void*, const struct json_object*), void* uargs)
{
    cent_state_t* s = state;
    struct json_object* json;
    if (!s || !fn) return FLOCK_ERR_INVALID_ARGS;
    pthread_mutex_lock(&s->mtx); /* a takeover replaces it */
    json = json_object_get(s->config_json);
    pthread_mutex_unlock(&s->mtx);
    fn(uargs, json);
    json_object_put(json);
    return FLOCK_SUCCESS;
}

static flock_return_t
cent_get_view(void* state, void (*fn)(void*, const flock_group_view_t*), void* uargs)
{
    cent_state_t* s = state;
    bool removed;
    if (!s || !fn) return FLOCK_ERR_INVALID_ARGS;
    pthread_mutex_lock(&s->mtx);
    removed = s->removed;
    pthread_mutex_unlock(&s->mtx);
    if (removed) return FLOCK_ERR_NOT_A_MEMBER; /* never a stale view as current */
    fn(uargs, &s->view); /* the caller locks the view */
    return FLOCK_SUCCESS;
}

/* Run-time metadata: ordered by the primary (centralized-metadata.c). */
static flock_return_t cent_add_metadata(void* state, const char* key, const char* value)
{
    if (!state || !key || !value) return FLOCK_ERR_INVALID_ARGS;
    return cent__metadata_request((cent_state_t*)state, key, value);
}

static flock_return_t cent_remove_metadata(void* state, const char* key)
{
    if (!state || !key) return FLOCK_ERR_INVALID_ARGS;
    return cent__metadata_request((cent_state_t*)state, key, NULL);
}

static flock_backend_impl cent_backend = {
    .name = "centralized",
    .init_group = cent_init,
    .destroy_group = cent_destroy,
    .get_config = cent_get_config,
    .get_view = cent_get_view,
    .add_metadata = cent_add_metadata,
    .remove_metadata = cent_remove_metadata,
};

flock_return_t flock_register_centralized_backend(void)
{
    return flock_register_backend(&cent_backend);
}
