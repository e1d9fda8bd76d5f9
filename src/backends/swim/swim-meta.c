/*
 * swim-meta.c -- the group's run-time metadata in the SWIM machine: a table
 * of keys, each holding its last write (value, or a tombstone for a
 * removal) with a Lamport version and the writer's address. Writes made
 * here (swim__meta_set) or learned from peers (swim__meta_apply_list) are
 * ordered by swim__meta_newer, so every member keeps the same write for a
 * key whatever order it heard them in (last writer wins):
 *
 *     (version, origin address, origin provider id, value) compared in
 *     that order; a tombstone (no value) sorts below any value.
 *
 * A write made here takes version 1 + the highest version this member has
 * seen (meta_clock), so it follows every write it could have known of. News
 * is piggybacked (fewest transmissions first, at most META_PIGGY_ENTRIES
 * entries and META_PIGGY_BYTES of keys and values per message, each entry
 * retransmit_limit(n) times); state exchanges (JOIN, SYNC) carry the whole
 * table, tombstones included; and the live entries' digest is part of the
 * digest every message carries, so a peer whose metadata differs triggers
 * anti-entropy like one whose view differs. Tombstones are dropped
 * tombstone_timeout_ms after they were written or learned (the members'
 * tombstone timeout): a member cut off for longer than that may bring a
 * removed key back with its old write.
 *
 * Owns: s->meta/nmeta/capmeta/nmeta_queued/nmeta_tomb, s->meta_clock,
 * s->meta_digest, s->meta_bytes; it also marks s->last_view_change when
 * the metadata digest changes (anti-entropy waits for gossip to settle).
 * May call: the outbox (its event array, log), pure math, the
 * interned-address table.
 * See swim-core-internal.h.
 */
#include "swim-core-internal.h"

#define META_PIGGY_ENTRIES 8u
#define META_PIGGY_BYTES   8192u

/* ------------------------------------------------------------------ */
/* pure rules                                                          */
/* ------------------------------------------------------------------ */

/* RFC 3629 UTF-8 (no overlongs, no surrogates, at most U+10FFFF) */
static bool utf8_ok(const unsigned char* p)
{
    while (*p) {
        unsigned c = *p, n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n  = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n  = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n  = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

bool swim__meta_valid(const char* key, const char* value)
{
    if (!key || !key[0] || strnlen(key, SWIM_META_MAX_KEY + 1) > SWIM_META_MAX_KEY) return false;
    if (!utf8_ok((const unsigned char*)key)) return false;
    if (value && (strnlen(value, SWIM_META_MAX_VALUE + 1) > SWIM_META_MAX_VALUE ||
                  !utf8_ok((const unsigned char*)value)))
        return false;
    return true;
}

/* keys the backend generates in every view (never stored here) */
static bool generated_key(const char* key)
{
    return strcmp(key, "__config__") == 0 || strcmp(key, "__type__") == 0;
}

static int cmp_write(uint64_t va, const char* oa, uint16_t pa, const char* xa, uint64_t vb,
                     const char* ob, uint16_t pb, const char* xb)
{
    if (va != vb) return va > vb ? 1 : -1;
    int c = strcmp(oa ? oa : "", ob ? ob : "");
    if (c) return c > 0 ? 1 : -1;
    if (pa != pb) return pa > pb ? 1 : -1;
    if (!xa || !xb) return (xa != NULL) - (xb != NULL);
    c = strcmp(xa, xb);
    return c > 0 ? 1 : c < 0 ? -1 : 0;
}

bool swim__meta_newer(const swim__meta_entry* a, const swim__meta_entry* b)
{
    return cmp_write(a->version, a->origin, a->origin_pid, a->value, b->version, b->origin,
                     b->origin_pid, b->value) > 0;
}

static uint64_t fnv(uint64_t h, const char* p)
{
    for (; p && *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    return h;
}

/* the digest of a live entry: equal on every member holding the same write */
static uint64_t rec_hash(const meta_rec* r)
{
    uint64_t h = fnv(1469598103934665603ULL, r->key);
    h          = fnv(h ^ 0xff, r->origin);
    h          = fnv(h ^ 0xfe, r->value);
    h ^= r->version * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)r->origin_pid << 48;
    h ^= h >> 31;
    return h ? h : 1;
}

static size_t rec_bytes(const meta_rec* r)
{
    return r->value ? strlen(r->key) + strlen(r->value) : 0;
}

/* ------------------------------------------------------------------ */
/* the table                                                           */
/* ------------------------------------------------------------------ */

/* index of the first record whose key is not before key */
static uint32_t lower_bound(const swim__t* s, const char* key)
{
    uint32_t lo = 0, hi = s->nmeta;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->meta[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static meta_rec* find(const swim__t* s, const char* key)
{
    uint32_t i = lower_bound(s, key);
    return i < s->nmeta && strcmp(s->meta[i].key, key) == 0 ? &s->meta[i] : NULL;
}

/* a live record enters or leaves the digest and the byte count */
static void account(swim__t* s, const meta_rec* r, bool in)
{
    if (!r->value) {
        if (in)
            s->nmeta_tomb++;
        else
            s->nmeta_tomb--;
        return;
    }
    s->meta_digest ^= rec_hash(r);
    if (in)
        s->meta_bytes += rec_bytes(r);
    else
        s->meta_bytes -= rec_bytes(r);
}

static void set_queued(swim__t* s, meta_rec* r, bool q)
{
    if (r->queued == q) return;
    r->queued = q;
    if (q)
        s->nmeta_queued++;
    else
        s->nmeta_queued--;
    r->transmits = 0;
}

static void rec_free(swim__t* s, meta_rec* r)
{
    account(s, r, false);
    set_queued(s, r, false);
    free(r->key);
    free(r->value);
    swim__unintern(r->origin);
}

static void remove_at(swim__t* s, uint32_t i)
{
    rec_free(s, &s->meta[i]);
    memmove(&s->meta[i], &s->meta[i + 1], (size_t)(s->nmeta - i - 1) * sizeof *s->meta);
    s->nmeta--;
}

/* room for one more record: at SWIM_META_MAX_ENTRIES the oldest tombstone
 * goes; false if every record is live */
static bool make_room(swim__t* s)
{
    if (s->nmeta < SWIM_META_MAX_ENTRIES) return true;
    uint32_t oldest = NONE;
    for (uint32_t i = 0; i < s->nmeta; i++)
        if (!s->meta[i].value && (oldest == NONE || s->meta[i].since < s->meta[oldest].since))
            oldest = i;
    if (oldest == NONE) return false;
    remove_at(s, oldest);
    return true;
}

/* one SWIM_EV_META event (key, value or NULL) */
static void meta_event(swim__t* s, const char* key, const char* value)
{
    swim__outbox* o = &s->out;
    if (!swim__growz((void**)&o->events, &o->capevents, o->nevents + 1, sizeof *o->events)) return;
    char* k = strdup(key);
    char* v = value ? strdup(value) : NULL;
    if (!k || (value && !v)) {
        free(k);
        free(v);
        return;
    }
    swim__event* e = &o->events[o->nevents++];
    memset(e, 0, sizeof *e);
    e->type  = SWIM_EV_META;
    e->addr  = k;
    e->value = v;
}

static bool same_value(const char* a, const char* b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/**
 * Store write w for its key if it is newer than what the key holds (a new
 * key is inserted, a tombstone included: it stops an older write heard
 * later). The event fires if the visible value changed; `queue` gossips
 * the write. Returns 1 if stored, 0 if not newer, -1 on failure.
 */
static int store(swim__t* s, double now, const swim__meta_entry* w, bool queue)
{
    if (w->version > s->meta_clock) s->meta_clock = w->version;
    uint32_t  i = lower_bound(s, w->key);
    meta_rec* r = i < s->nmeta && strcmp(s->meta[i].key, w->key) == 0 ? &s->meta[i] : NULL;
    if (r && cmp_write(w->version, w->origin, w->origin_pid, w->value, r->version, r->origin,
                       r->origin_pid, r->value) <= 0)
        return 0;
    char*       v = w->value ? strdup(w->value) : NULL;
    const char* o = w->origin && w->origin[0] ? swim__intern(w->origin) : NULL;
    if ((w->value && !v) || (w->origin && w->origin[0] && !o)) goto fail;
    bool changed;
    if (r) {
        changed = !same_value(r->value, w->value);
        account(s, r, false);
        free(r->value);
        swim__unintern(r->origin);
    } else {
        changed = w->value != NULL;
        if (!make_room(s)) goto fail;
        i = lower_bound(s, w->key); /* make_room may have moved records */
        if (!swim__grow((void**)&s->meta, &s->capmeta, s->nmeta + 1, sizeof *s->meta)) goto fail;
        char* k = strdup(w->key);
        if (!k) goto fail;
        memmove(&s->meta[i + 1], &s->meta[i], (size_t)(s->nmeta - i) * sizeof *s->meta);
        s->nmeta++;
        r = &s->meta[i];
        memset(r, 0, sizeof *r);
        r->key = k;
    }
    r->value      = v;
    r->origin     = o;
    r->version    = w->version;
    r->origin_pid = w->origin_pid;
    r->since      = swim__rel_time(s, now);
    account(s, r, true);
    if (queue) {
        set_queued(s, r, false);
        set_queued(s, r, true);
    }
    if (changed) {
        s->last_view_change = now; /* the digest changed: anti-entropy waits */
        meta_event(s, r->key, r->value);
    }
    return 1;
fail:
    free(v);
    swim__unintern(o);
    return -1;
}

swim__meta_result swim__meta_set(swim__t* s, double now, const char* key, const char* value)
{
    if (!swim__meta_valid(key, value) || generated_key(key)) return SWIM_META_INVALID;
    const meta_rec* r   = find(s, key);
    const char*     cur = r ? r->value : NULL;
    if (!value && !cur) return SWIM_META_ABSENT;
    if (value && cur && strcmp(value, cur) == 0) return SWIM_META_UNCHANGED;
    size_t after = s->meta_bytes - (cur ? strlen(key) + strlen(cur) : 0) +
                   (value ? strlen(key) + strlen(value) : 0);
    if (after > SWIM_META_MAX_TOTAL || s->meta_clock == UINT64_MAX) return SWIM_META_INVALID;
    if (!r && s->nmeta >= SWIM_META_MAX_ENTRIES && !make_room(s)) return SWIM_META_INVALID;
    const member*    me = &s->members[s->self];
    swim__meta_entry w  = {.key        = (char*)key,
                           .value      = (char*)value,
                           .origin     = (char*)me->addr,
                           .version    = s->meta_clock + 1,
                           .origin_pid = me->pid};
    return store(s, now, &w, true) == 1 ? SWIM_META_APPLIED : SWIM_META_NOMEM;
}

int swim__meta_add_initial(swim__t* s, const char* key, const char* value)
{
    if (!value || !swim__meta_valid(key, value) || generated_key(key)) return -1;
    swim__meta_entry w = {.key = (char*)key, .value = (char*)value, .version = 0};
    /* no event for the initial view: drop the one store queues */
    size_t nev = s->out.nevents;
    if (store(s, s->t0, &w, false) < 0) return -1;
    for (size_t i = nev; i < s->out.nevents; i++) {
        free(s->out.events[i].addr);
        free(s->out.events[i].value);
    }
    s->out.nevents = nev;
    return 0;
}

void swim__foreach_meta(const swim__t* s, void (*fn)(void*, const char*, const char*),
                        void* uargs)
{
    for (uint32_t i = 0; i < s->nmeta; i++)
        if (s->meta[i].value) fn(uargs, s->meta[i].key, s->meta[i].value);
}

const char* swim__meta_get(const swim__t* s, const char* key)
{
    const meta_rec* r = key ? find(s, key) : NULL;
    return r ? r->value : NULL;
}

/* ------------------------------------------------------------------ */
/* the wire side: merge, piggyback, state                              */
/* ------------------------------------------------------------------ */

void swim__meta_apply_list(swim__t* s, double now, const swim__meta_entry* list, uint32_t n,
                           bool requeue)
{
    for (uint32_t i = 0; i < n; i++) {
        const swim__meta_entry* e = &list[i];
        if (!swim__meta_valid(e->key, e->value) || generated_key(e->key)) continue;
        if (e->origin && e->origin[0] && !swim__valid_addr(e->origin)) continue;
        if (store(s, now, e, requeue) < 0)
            swim__logf(s, SWIM_LOG_WARN, "metadata key \"%.64s\" not stored (table full or "
                       "out of memory)", e->key);
    }
}

static bool fill(swim__meta_entry* e, const meta_rec* r)
{
    memset(e, 0, sizeof *e);
    e->key        = strdup(r->key);
    e->value      = r->value ? strdup(r->value) : NULL;
    e->origin     = strdup(r->origin ? r->origin : "");
    e->version    = r->version;
    e->origin_pid = r->origin_pid;
    if (e->key && e->origin && (!r->value || e->value)) return true;
    swim__meta_entry_clear(e);
    return false;
}

/* queued records, fewest transmissions first (selection by repeated
 * minimum: the queue holds a handful of keys) */
static uint32_t pick_news(swim__t* s, uint32_t* sel)
{
    uint32_t n = 0;
    size_t   bytes = 0;
    bool     taken[SWIM_META_MAX_ENTRIES] = {false};
    while (n < META_PIGGY_ENTRIES) {
        uint32_t best = NONE;
        for (uint32_t i = 0; i < s->nmeta; i++)
            if (s->meta[i].queued && !taken[i] &&
                (best == NONE || s->meta[i].transmits < s->meta[best].transmits))
                best = i;
        if (best == NONE) break;
        size_t b = strlen(s->meta[best].key) + (s->meta[best].value ? strlen(s->meta[best].value) : 0);
        if (n > 0 && bytes + b > META_PIGGY_BYTES) break;
        taken[best] = true;
        sel[n++]    = best;
        bytes += b;
    }
    return n;
}

void swim__meta_attach(swim__t* s, swim__msg* msg, bool all)
{
    uint32_t sel[META_PIGGY_ENTRIES];
    uint32_t n = all ? s->nmeta : (s->nmeta_queued ? pick_news(s, sel) : 0);
    if (n == 0 || !(msg->meta = calloc(n, sizeof *msg->meta))) return;
    unsigned limit = swim__retransmit_limit((int)s->cfg.gossip_retransmit_mult, s->nview);
    uint32_t k     = 0;
    for (uint32_t j = 0; j < n; j++) {
        meta_rec* r = &s->meta[all ? j : sel[j]];
        if (fill(&msg->meta[k], r)) k++;
        if (all || !r->queued) continue;
        if (++r->transmits >= limit) set_queued(s, r, false);
    }
    msg->nmeta = k;
}

void swim__meta_expire(swim__t* s, double now)
{
    for (uint32_t i = 0; i < s->nmeta;) {
        const meta_rec* r = &s->meta[i];
        if (!r->value && !r->queued &&
            now - (s->t0 + (double)r->since) > s->cfg.tombstone_timeout_ms)
            remove_at(s, i);
        else
            i++;
    }
    if (s->nmeta == 0 && s->capmeta) {
        free(s->meta);
        s->meta    = NULL;
        s->capmeta = 0;
    }
}

void swim__meta_free(swim__t* s)
{
    for (uint32_t i = 0; i < s->nmeta; i++) rec_free(s, &s->meta[i]);
    free(s->meta);
    s->meta  = NULL;
    s->nmeta = s->capmeta = 0;
}

static size_t chunk(size_t n)
{
    if (n == 0) return 0;
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

size_t swim__meta_memory(const swim__t* s)
{
    size_t b = chunk((size_t)s->capmeta * sizeof(meta_rec));
    for (uint32_t i = 0; i < s->nmeta; i++)
        b += chunk(strlen(s->meta[i].key) + 1) +
             (s->meta[i].value ? chunk(strlen(s->meta[i].value) + 1) : 0);
    return b;
}
