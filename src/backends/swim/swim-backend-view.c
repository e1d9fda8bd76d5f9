/* swim-backend-view.c -- the swim backend's get_view and get_config: built
 * on demand from the machine (no flock view or JSON tree is kept). See
 * swim-backend-state.h. */
#include "swim-backend-state.h"
#include "swim-config.h"

#include "flock/backend-util.h"

#include <stdlib.h>
#include <string.h>

/* The effective config with the group's id (adopted by a joiner, so read
 * under the lock); NULL on allocation failure. */
static struct json_object* effective_config(swim_backend* b)
{
    struct json_object* j = swim__config_to_json(swim__get_config(b->sm));
    char                id[17];
    pthread_mutex_lock(&b->lock);
    uint64_t gid = swim__group_id(b->sm);
    pthread_mutex_unlock(&b->lock);
    if (j && gid) {
        flock__group_id_format(gid, id);
        if (json_object_object_add(j, FLOCK__GROUP_ID_KEY, json_object_new_string(id)) != 0) {
            json_object_put(j);
            j = NULL;
        }
    }
    return j;
}

flock_return_t swim__backend_get_config(void* state, void (*fn)(void*, const struct json_object*),
                                      void* uargs)
{
    swim_backend* b = state;
    if (!b || !fn) return FLOCK_ERR_INVALID_ARGS;
    /* generated on demand (no JSON tree is kept) */
    struct json_object* j = effective_config(b);
    if (!j) return FLOCK_ERR_ALLOCATION;
    fn(uargs, j);
    json_object_put(j);
    return FLOCK_SUCCESS;
}

/* Copy src's metadata into the empty dst (sorted already: appended in
 * order, digest summed); false on allocation failure. */
static bool copy_metadata_into(flock_group_view_t* dst,
                                                const flock_group_view_t* src)
{
    uint64_t n = src->metadata.size;
    if (n == 0) return true;
    dst->metadata.data = calloc(n, sizeof *dst->metadata.data);
    if (!dst->metadata.data) return false;
    dst->metadata.capacity = n;
    for (uint64_t i = 0; i < n; i++) {
        flock_metadata_t*       d = &dst->metadata.data[i];
        const flock_metadata_t* s = &src->metadata.data[i];
        d->key   = strdup(s->key);
        d->value = strdup(s->value);
        dst->metadata.size = i + 1;
        if (!d->key || !d->value) return false; /* the caller clears dst */
        dst->digest ^= flock_hash_metadata(d->key, d->value);
    }
    return true;
}

/* get_view: a private flock view built from the published members */
typedef struct build_ctx {
    flock_member_t* members;
    size_t          n, cap;
    char*           arena; /* the addresses, back to back */
    size_t          used, size;
} build_ctx;

static void count_addr(void* u, const char* addr, uint16_t pid)
{
    build_ctx* c = u;
    c->size += strlen(addr) + 1;
    c->cap++;
}

static void copy_member(void* u, const char* addr, uint16_t pid)
{
    build_ctx* c = u;
    size_t     l = strlen(addr) + 1;
    if (c->n == c->cap || c->used + l > c->size) return;
    memcpy(c->arena + c->used, addr, l);
    flock_member_t* m = &c->members[c->n++];
    memset(m, 0, sizeof *m);
    m->address     = c->arena + c->used;
    m->provider_id = pid;
    c->used += l;
}

static int member_order(const void* a, const void* b)
{
    return flock_member_cmp((flock_member_t*)a, (flock_member_t*)b);
}

flock_return_t swim__backend_get_view(void* state, void (*fn)(void*, const flock_group_view_t*),
                                    void* uargs)
{
    swim_backend*      b   = state;
    flock_return_t     ret = FLOCK_ERR_ALLOCATION;
    flock_group_view_t v   = FLOCK_GROUP_VIEW_INITIALIZER;
    build_ctx          c;
    memset(&c, 0, sizeof c);
    if (!b || !fn) return FLOCK_ERR_INVALID_ARGS;
    /* declared dead and not back yet: no view is current (FLOCK-SPEC's
     * "not a member"; flockctl check reports this member out of the group) */
    pthread_mutex_lock(&b->lock);
    bool removed = swim__removed(b->sm);
    pthread_mutex_unlock(&b->lock);
    if (removed) return FLOCK_ERR_NOT_A_MEMBER;
    /* metadata: the published entries (copied under the lock: the drainer
     * changes them) + __config__ and __type__ */
    pthread_mutex_lock(&b->lock);
    bool copied = copy_metadata_into(&v, &b->meta);
    pthread_mutex_unlock(&b->lock);
    if (!copied) goto finish;
    struct json_object* j = effective_config(b);
    flock_return_t      r = j ? flock__view_set_reserved_metadata(&v, "swim", j)
                              : FLOCK_ERR_ALLOCATION;
    if (j) json_object_put(j);
    if (r != FLOCK_SUCCESS) goto finish;
    /* members: copied out under the machine's lock, then sorted */
    pthread_mutex_lock(&b->lock);
    swim__foreach_published(b->sm, count_addr, &c);
    c.members = c.cap ? malloc(c.cap * sizeof *c.members) : NULL;
    c.arena   = c.size ? malloc(c.size) : NULL;
    if ((c.cap && !c.members) || (c.size && !c.arena)) {
        pthread_mutex_unlock(&b->lock);
        goto finish;
    }
    swim__foreach_published(b->sm, copy_member, &c);
    pthread_mutex_unlock(&b->lock);
    qsort(c.members, c.n, sizeof *c.members, member_order);
    for (size_t i = 0; i < c.n; i++)
        v.digest ^= flock_hash_member(c.members[i].provider_id, c.members[i].address);
    v.members.data     = c.members;
    v.members.size     = c.n;
    v.members.capacity = c.cap;
    fn(uargs, &v);
    v.members.data = NULL; /* freed below: the addresses live in the arena */
    v.members.size = v.members.capacity = 0;
    ret = FLOCK_SUCCESS;
finish:
    free(c.members);
    free(c.arena);
    flock_group_view_clear(&v);
    return ret;
}

