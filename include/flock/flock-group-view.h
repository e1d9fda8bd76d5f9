/*
 * flock-group-view.h -- the group view: a sorted list of members
 * (address, provider id), a sorted string->string metadata map, a digest,
 * and a mutex.
 *
 * Ordering: members by strcmp(address) then provider id; metadata by
 * strcmp(key), keys unique.
 * Digest: XOR of flock_hash_member() over all members and
 * flock_hash_metadata() over all metadata (0 for an empty view); every
 * helper below keeps it up to date incrementally.
 *
 * Locking: the helpers below never lock. Code that shares a view between
 * threads brackets accesses with FLOCK_GROUP_VIEW_LOCK/UNLOCK (the mutex is
 * non-recursive; zero-filled memory is a valid unlocked mutex).
 *
 * Ownership: a view owns its address, key and value strings and its two
 * arrays; flock_group_view_clear() frees them. Pointers returned into the
 * arrays are invalidated by any add or remove.
 *
 * (Mochi's header also declares Mercury hg_proc serializers; this runtime
 * has no Mercury, so the wire codec is internal to the Flock libraries.)
 */
#ifndef FLOCK_GROUP_VIEW_H
#define FLOCK_GROUP_VIEW_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <margo.h>
#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A group member. `extra` is backend-private data, never serialized or
 *  copied; extra.free(extra.data) runs when the member is removed/cleared. */
typedef struct {
    char*    address;
    uint16_t provider_id;
    struct {
        void* data;
        void (*free)(void*);
    } extra;
} flock_member_t;

/** A metadata entry (both strings owned by the view). */
typedef struct {
    char* key;
    char* value;
} flock_metadata_t;

/** The group view. Read the fields directly; modify through the helpers. */
typedef struct {
    struct {
        uint64_t        size;
        uint64_t        capacity;
        flock_member_t* data;
    } members;
    struct {
        uint64_t          size;
        uint64_t          capacity;
        flock_metadata_t* data;
    } metadata;
    uint64_t         digest;
    ABT_mutex_memory mtx;
} flock_group_view_t;

/** Static initializer of an empty view (all-zero memory is equivalent). */
#define FLOCK_GROUP_VIEW_INITIALIZER \
    {{0, 0, NULL}, {0, 0, NULL}, 0, ABT_MUTEX_INITIALIZER}

/** Move the content (arrays and digest) of view *src into the empty view
 *  *dst and leave *src empty (digest 0). Mutexes are not touched. */
#define FLOCK_GROUP_VIEW_MOVE(src, dst)        \
    do {                                       \
        (dst)->members           = (src)->members;  \
        (dst)->metadata          = (src)->metadata; \
        (dst)->digest            = (src)->digest;   \
        (src)->members.size      = 0;               \
        (src)->members.capacity  = 0;               \
        (src)->members.data      = NULL;            \
        (src)->metadata.size     = 0;               \
        (src)->metadata.capacity = 0;               \
        (src)->metadata.data     = NULL;            \
        (src)->digest            = 0;               \
    } while (0)

/** Lock / unlock the view's (non-recursive) mutex. */
#define FLOCK_GROUP_VIEW_LOCK(view) \
    ABT_mutex_lock(ABT_MUTEX_MEMORY_GET_HANDLE(&(view)->mtx))
#define FLOCK_GROUP_VIEW_UNLOCK(view) \
    ABT_mutex_unlock(ABT_MUTEX_MEMORY_GET_HANDLE(&(view)->mtx))

/* strdup equivalent usable in strict ISO C (-std=c11) and C++. */
static inline char* flock__strdup(const char* s)
{
    size_t n = strlen(s) + 1;
    char*  d = (char*)malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/** @brief The digest of the view. */
static inline uint64_t flock_group_view_digest(const flock_group_view_t* view)
{
    return view->digest;
}

/** @brief Run every member's extra.free and reset the extra fields. */
static inline void flock_group_view_clear_extra(flock_group_view_t* view)
{
    for (uint64_t i = 0; i < view->members.size; i++) {
        flock_member_t* m = &view->members.data[i];
        if (m->extra.free) m->extra.free(m->extra.data);
        m->extra.data = NULL;
        m->extra.free = NULL;
    }
}

/** @brief Free every string and both arrays; the view becomes empty
 *  (sizes, capacities, pointers and digest 0). The mutex is kept. */
static inline void flock_group_view_clear(flock_group_view_t* view)
{
    for (uint64_t i = 0; i < view->members.size; i++) {
        flock_member_t* m = &view->members.data[i];
        free(m->address);
        if (m->extra.free) m->extra.free(m->extra.data);
    }
    free(view->members.data);
    view->members.data     = NULL;
    view->members.size     = 0;
    view->members.capacity = 0;
    for (uint64_t i = 0; i < view->metadata.size; i++) {
        free(view->metadata.data[i].key);
        free(view->metadata.data[i].value);
    }
    free(view->metadata.data);
    view->metadata.data     = NULL;
    view->metadata.size     = 0;
    view->metadata.capacity = 0;
    view->digest            = 0;
}

/** @brief Order of members: strcmp of the addresses (returned as is) if
 *  they differ, then provider id (-1, 0, 1). */
static inline int flock_member_cmp(flock_member_t* lhs, flock_member_t* rhs)
{
    int c = strcmp(lhs->address, rhs->address);
    if (c != 0) return c;
    if (lhs->provider_id < rhs->provider_id) return -1;
    if (lhs->provider_id > rhs->provider_id) return 1;
    return 0;
}

/* Index of the first member not ordered before (address, provider_id). */
static inline uint64_t flock__view_members_lower_bound(const flock_group_view_t* view,
                                                       const char* address,
                                                       uint16_t provider_id)
{
    uint64_t lo = 0, hi = view->members.size;
    while (lo < hi) {
        uint64_t              mid = lo + (hi - lo) / 2;
        const flock_member_t* m   = &view->members.data[mid];
        int                   c   = strcmp(m->address, address);
        if (c == 0) c = (m->provider_id < provider_id) ? -1 : (m->provider_id > provider_id);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/** @brief Index of member (address, provider_id), or -1 if absent. */
static inline ssize_t flock_group_view_members_binary_search(const flock_group_view_t* view,
                                                             const char* address,
                                                             uint16_t provider_id)
{
    if (!address) return -1;
    uint64_t i = flock__view_members_lower_bound(view, address, provider_id);
    if (i < view->members.size && view->members.data[i].provider_id == provider_id
        && strcmp(view->members.data[i].address, address) == 0)
        return (ssize_t)i;
    return -1;
}

/** @brief djb2 hash: h = 5381; h = h * 33 + c for each byte read as a
 *  signed char (arithmetic mod 2^64). */
static inline uint64_t flock_djb2_hash(const char* str)
{
    uint64_t h = 5381;
    for (const char* p = str; *p; p++)
        h = h * 33u + (uint64_t)(int64_t)(signed char)*p;
    return h;
}

/** @brief Hash of a member: djb2(address) continued with the two bytes of
 *  provider_id, low byte first, each read as a signed char. */
static inline uint64_t flock_hash_member(uint16_t provider_id, const char* address)
{
    uint64_t h = flock_djb2_hash(address);
    h          = h * 33u + (uint64_t)(int64_t)(signed char)(uint8_t)(provider_id & 0xffu);
    h          = h * 33u + (uint64_t)(int64_t)(signed char)(uint8_t)(provider_id >> 8);
    return h;
}

/** @brief Hash of a metadata pair: djb2(key) XOR rotl64(djb2(value), 3). */
static inline uint64_t flock_hash_metadata(const char* key, const char* value)
{
    uint64_t kh = flock_djb2_hash(key);
    uint64_t vh = flock_djb2_hash(value);
    vh          = (vh << 3) | (vh >> 61);
    return kh ^ vh;
}

/**
 * @brief Insert a member (address is copied) at its sorted position, before
 * any equal member (no duplicate check), and XOR its hash into the digest.
 * @return the new element (valid until the next add/remove), NULL on
 *         allocation failure or NULL address (view unchanged).
 */
static inline flock_member_t* flock_group_view_add_member(flock_group_view_t* view,
                                                          const char* address,
                                                          uint16_t provider_id)
{
    if (!address) return NULL;
    if (view->members.size == view->members.capacity) {
        uint64_t new_cap = view->members.capacity ? view->members.capacity * 2 : 1;
        if (new_cap > SIZE_MAX / sizeof(flock_member_t)) return NULL;
        flock_member_t* d = (flock_member_t*)realloc(view->members.data,
                                                     (size_t)new_cap * sizeof(flock_member_t));
        if (!d) return NULL;
        view->members.data     = d;
        view->members.capacity = new_cap;
    }
    char* a = flock__strdup(address);
    if (!a) return NULL;
    uint64_t i = flock__view_members_lower_bound(view, address, provider_id);
    memmove(&view->members.data[i + 1], &view->members.data[i],
            (size_t)(view->members.size - i) * sizeof(flock_member_t));
    flock_member_t* m = &view->members.data[i];
    m->address        = a;
    m->provider_id    = provider_id;
    m->extra.data     = NULL;
    m->extra.free     = NULL;
    view->members.size += 1;
    view->digest ^= flock_hash_member(provider_id, address);
    return m;
}

/**
 * @brief Remove the member `member` points to (it must point to an element
 * of view->members.data): free its address, run extra.free, XOR its hash
 * out of the digest.
 * @return true if removed; false (view unchanged) if member is not a
 *         pointer to an element of the array.
 */
static inline bool flock_group_view_remove_member(flock_group_view_t* view,
                                                  flock_member_t* member)
{
    if (!member || !view->members.data || view->members.size == 0) return false;
    uintptr_t base = (uintptr_t)view->members.data;
    uintptr_t p    = (uintptr_t)member;
    if (p < base) return false;
    uintptr_t off = p - base;
    if (off % sizeof(flock_member_t) != 0) return false;
    uint64_t i = (uint64_t)(off / sizeof(flock_member_t));
    if (i >= view->members.size) return false;
    flock_member_t* m = &view->members.data[i];
    view->digest ^= flock_hash_member(m->provider_id, m->address);
    free(m->address);
    if (m->extra.free) m->extra.free(m->extra.data);
    memmove(&view->members.data[i], &view->members.data[i + 1],
            (size_t)(view->members.size - i - 1) * sizeof(flock_member_t));
    view->members.size -= 1;
    return true;
}

/** @brief The member (address, provider_id), or NULL (binary search). */
static inline flock_member_t* flock_group_view_find_member(flock_group_view_t* view,
                                                           const char* address,
                                                           uint16_t provider_id)
{
    ssize_t i = flock_group_view_members_binary_search(view, address, provider_id);
    return i < 0 ? NULL : &view->members.data[i];
}

/** @brief The member at index i, or NULL if i >= member count. */
static inline flock_member_t* flock_group_view_member_at(flock_group_view_t* view, size_t i)
{
    return i < view->members.size ? &view->members.data[i] : NULL;
}

/** @brief Number of members. */
static inline size_t flock_group_view_member_count(flock_group_view_t* view)
{
    return (size_t)view->members.size;
}

/* Index of the first metadata entry whose key is not before `key`. */
static inline uint64_t flock__view_metadata_lower_bound(const flock_group_view_t* view,
                                                        const char* key)
{
    uint64_t lo = 0, hi = view->metadata.size;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (strcmp(view->metadata.data[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/** @brief Index of the metadata entry with this key, or -1. */
static inline ssize_t flock_group_view_metadata_binary_search(const flock_group_view_t* view,
                                                              const char* key)
{
    if (!key) return -1;
    uint64_t i = flock__view_metadata_lower_bound(view, key);
    if (i < view->metadata.size && strcmp(view->metadata.data[i].key, key) == 0)
        return (ssize_t)i;
    return -1;
}

/**
 * @brief Set key to value (both copied): replace the value if the key
 * exists, otherwise insert at the sorted position; the digest is updated.
 * @return the entry, or NULL on allocation failure / NULL key or value
 *         (view unchanged).
 */
static inline flock_metadata_t* flock_group_view_add_metadata(flock_group_view_t* view,
                                                              const char* key,
                                                              const char* value)
{
    if (!key || !value) return NULL;
    uint64_t i = flock__view_metadata_lower_bound(view, key);
    if (i < view->metadata.size && strcmp(view->metadata.data[i].key, key) == 0) {
        flock_metadata_t* md = &view->metadata.data[i];
        char*             v  = flock__strdup(value);
        if (!v) return NULL;
        view->digest ^= flock_hash_metadata(md->key, md->value);
        view->digest ^= flock_hash_metadata(key, v);
        free(md->value);
        md->value = v;
        return md;
    }
    if (view->metadata.size == view->metadata.capacity) {
        uint64_t new_cap = view->metadata.capacity ? view->metadata.capacity * 2 : 1;
        if (new_cap > SIZE_MAX / sizeof(flock_metadata_t)) return NULL;
        flock_metadata_t* d = (flock_metadata_t*)realloc(
            view->metadata.data, (size_t)new_cap * sizeof(flock_metadata_t));
        if (!d) return NULL;
        view->metadata.data     = d;
        view->metadata.capacity = new_cap;
    }
    char* k = flock__strdup(key);
    char* v = flock__strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return NULL;
    }
    memmove(&view->metadata.data[i + 1], &view->metadata.data[i],
            (size_t)(view->metadata.size - i) * sizeof(flock_metadata_t));
    view->metadata.data[i].key   = k;
    view->metadata.data[i].value = v;
    view->metadata.size += 1;
    view->digest ^= flock_hash_metadata(k, v);
    return &view->metadata.data[i];
}

/** @brief Remove the entry with this key. @return false if absent. */
static inline bool flock_group_view_remove_metadata(flock_group_view_t* view,
                                                    const char* key)
{
    ssize_t idx = flock_group_view_metadata_binary_search(view, key);
    if (idx < 0) return false;
    uint64_t          i  = (uint64_t)idx;
    flock_metadata_t* md = &view->metadata.data[i];
    view->digest ^= flock_hash_metadata(md->key, md->value);
    free(md->key);
    free(md->value);
    memmove(&view->metadata.data[i], &view->metadata.data[i + 1],
            (size_t)(view->metadata.size - i - 1) * sizeof(flock_metadata_t));
    view->metadata.size -= 1;
    return true;
}

/** @brief The value for key, or NULL. */
static inline const char* flock_group_view_find_metadata(const flock_group_view_t* view,
                                                         const char* key)
{
    ssize_t i = flock_group_view_metadata_binary_search(view, key);
    return i < 0 ? NULL : view->metadata.data[i].value;
}

/** @brief The metadata entry at index i, or NULL if out of range. */
static inline flock_metadata_t* flock_group_view_metadata_at(flock_group_view_t* view,
                                                             size_t i)
{
    return i < view->metadata.size ? &view->metadata.data[i] : NULL;
}

/** @brief Number of metadata entries. */
static inline size_t flock_group_view_metadata_count(flock_group_view_t* view)
{
    return (size_t)view->metadata.size;
}

/**
 * @brief Deep-copy src into dst (which must be empty): every member
 * (address, provider id; `extra` is not copied) and metadata entry is
 * re-added, so dst's digest equals src's for a consistent src.
 * @return true on success; false on allocation failure (dst cleared).
 */
static inline bool flock_group_view_copy(const flock_group_view_t* src,
                                         flock_group_view_t* dst)
{
    for (uint64_t i = 0; i < src->members.size; i++) {
        if (!flock_group_view_add_member(dst, src->members.data[i].address,
                                         src->members.data[i].provider_id)) {
            flock_group_view_clear(dst);
            return false;
        }
    }
    for (uint64_t i = 0; i < src->metadata.size; i++) {
        if (!flock_group_view_add_metadata(dst, src->metadata.data[i].key,
                                           src->metadata.data[i].value)) {
            flock_group_view_clear(dst);
            return false;
        }
    }
    return true;
}

/**
 * @brief Serialize a view to its JSON text (compact, slashes unescaped):
 * {"members":[{"address":..,"provider_id":..},..],"metadata":{..}}.
 * The caller holds the view lock if the view is shared.
 * @param serializer called once with the text (not NUL-terminated
 *        necessarily; use len) and ctx.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL view or serializer),
 *         FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_view_serialize(const flock_group_view_t* view,
                                          void (*serializer)(void*, const char*, size_t),
                                          void* context);

/**
 * @brief Write the JSON text of a view to `filename` atomically: a
 * temporary file next to it is written, fsync'ed and renamed over it.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL args),
 *         FLOCK_ERR_ALLOCATION (temporary file cannot be created),
 *         FLOCK_ERR_OTHER (write, fsync or rename failure).
 */
flock_return_t flock_group_view_serialize_to_file(const flock_group_view_t* view,
                                                  const char* filename);

/**
 * @brief Parse a JSON view. The text is fully validated before `view` is
 * touched; on success `view` is cleared and filled (digest recomputed).
 * "members" must be a non-empty array of {"address": non-empty string
 * (< 128 chars), "provider_id": integer 0..65535}; duplicate members are
 * rejected. "metadata" may be absent (empty map); null values are
 * rejected; other non-string values are stored as their JSON text (42 ->
 * "42"). Unknown keys are ignored. Trailing whitespace/NULs are accepted.
 * @param str text (need not be NUL-terminated), len its length.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS (NULL args),
 *         FLOCK_ERR_INVALID_CONFIG (malformed; the problem is logged),
 *         FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_view_from_string(const char* str, size_t len,
                                            flock_group_view_t* view);

/**
 * @brief Read and parse a JSON view file (see flock_group_view_from_string).
 * @return FLOCK_ERR_INVALID_ARGS if the file cannot be read, otherwise as
 *         flock_group_view_from_string.
 */
flock_return_t flock_group_view_from_file(const char* filename, flock_group_view_t* view);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_GROUP_VIEW_H */
