/*
 * client-internal.h -- what client.c and client-subscribe.c share: the
 * client and group-handle structures and the contact helpers (internal to
 * libflock-client).
 */
#ifndef FLOCK_CLIENT_INTERNAL_H
#define FLOCK_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <flock/flock-client.h>
#include <flock/flock-group.h>

struct flock__client_sub;

struct flock_client {
    margo_instance_id mid;
    ABT_pool          pool;
    double            timeout_ms; /* each get_view attempt (contact, then failover) */
    atomic_size_t     num_handles;
    atomic_size_t     refs; /* 1 for the owner + 1 per live handle */
};

struct flock_group_handle {
    flock_client_t            client;
    atomic_uint_fast64_t      refcount;
    pthread_mutex_t           contact_lock; /* guards addr, provider_id, sub */
    hg_addr_t                 addr;         /* contact member */
    uint16_t                  provider_id;
    struct flock__client_sub* sub;          /* the subscription, or NULL */
    flock_group_view_t        view;         /* guarded by view.mtx */
};

/** A duplicate of the handle's current contact (free it). */
hg_return_t flock__handle_contact(flock_group_handle_t h, hg_addr_t* addr, uint16_t* pid);

/** Make (addr, pid) the handle's contact (addr ownership taken). */
void flock__handle_set_contact(flock_group_handle_t h, hg_addr_t addr, uint16_t pid);

/** Errors after which another member may answer (the contact is gone,
 *  unreachable, or not serving the group any more). */
bool flock__worth_failover(hg_return_t hret);

/**
 * Call `rpc` with `in` on the members of the handle's cached view other
 * than the current contact, in view order after it, each with the client's
 * timeout (plus extra_timeout_ms); the first that answers becomes the
 * contact. @return its result (HG_NOENTRY if there was nobody to try); on
 * HG_SUCCESS *out / *out_len hold the answer (free it).
 */
hg_return_t flock__handle_failover(flock_group_handle_t h, const char* rpc, const void* in,
                                   size_t in_len, double extra_timeout_ms, void** out,
                                   size_t* out_len);

/** Called when the handle's last reference goes: stop its subscription
 *  (client-subscribe.c). */
void flock__client_sub_detach(flock_group_handle_t h);

#endif /* FLOCK_CLIENT_INTERNAL_H */
