/*
 * swim-members.c -- the member table: every known member (self included,
 * tombstones too) in one array of 32-byte entries, found through an
 * open-addressing hash on (address, provider id); the shuffled probe
 * order; the view summary (size, digest, bucket digests) anti-entropy
 * compares; the published flags of the driver; compaction of expired
 * tombstones.
 *
 * Entries never move except in swim__compact, which drops expired
 * tombstones and remaps every index held elsewhere (probe order, gossip
 * queue). Addresses are interned process-wide (swim-intern.h): a member
 * holds a reference, not a copy.
 *
 * Owns: s->members/nmembers/capmembers, s->slots/capslots, s->order/
 * norder/caporder/probe_pos (reset on compaction), s->nview, s->view_digest,
 * s->vbuckets (the view's bucket digests, once first asked for),
 * s->last_view_change, s->ntomb, s->npublished.
 * May call: swim__free_susp (a member leaving the view or the table drops
 * its suspicion), swim__gossip_remap (compaction), the interned-address
 * table, pure math. See swim-core-internal.h.
 */
#include "swim-core-internal.h"

static void slot_insert(swim__t* s, uint32_t idx)
{
    uint64_t h = swim__member_key(&s->members[idx]);
    uint32_t i = swim__slot_home(s, h);
    while (s->slots[i]) i = swim__slot_next(s, i);
    s->slots[i] = swim__slot_val(h, idx);
}

/** true if n members exceed the hash's load limit (4/5) */
static bool slots_full(const swim__t* s, uint32_t n)
{
    return (uint64_t)n * 5 > (uint64_t)s->capslots * 4;
}

/** Rebuild the hash for `need` members at load 2/3 (grows by 1.2x steps).
 *  Compaction (need = the members left, fewer than before) rebuilds in
 *  place when memory is short: the old slots hold indices that no longer
 *  exist, and the table stays below its load limit. Growth fails instead
 *  (the member is not added), so the table never fills up. */
static bool rehash(swim__t* s, uint32_t need)
{
    uint32_t  cap = need + need / 2 + 8;
    uint32_t* ns  = calloc(cap, sizeof *ns);
    if (!ns && s->slots && need <= s->nmembers && !slots_full(s, need)) {
        memset(s->slots, 0, (size_t)s->capslots * sizeof *s->slots);
        for (uint32_t i = 0; i < s->nmembers; i++) slot_insert(s, i);
        return true;
    }
    if (!ns) return false;
    free(s->slots);
    s->slots    = ns;
    s->capslots = cap;
    for (uint32_t i = 0; i < s->nmembers; i++) slot_insert(s, i);
    return true;
}

void swim__order_add(swim__t* s, uint32_t idx)
{
    if (!swim__grow((void**)&s->order, &s->caporder, s->norder + 1, sizeof *s->order)) return;
    s->order[s->norder++] = idx;
    /* insert at a random position (memberlist's trick), keeping the round fair */
    uint32_t j = swim__rng_below(s, s->norder);
    uint32_t t = s->order[j];
    s->order[j]              = idx;
    s->order[s->norder - 1]  = t;
}

void swim__order_shuffle(swim__t* s)
{
    for (uint32_t i = s->norder; i > 1; i--) {
        uint32_t j   = swim__rng_below(s, i);
        uint32_t t   = s->order[i - 1];
        s->order[i - 1] = s->order[j];
        s->order[j]  = t;
    }
}

/* a member enters or leaves the view's digest and its bucket's */
static void view_flip(swim__t* s, uint32_t idx)
{
    uint64_t k = swim__member_key(&s->members[idx]);
    s->view_digest ^= k;
    if (s->vbuckets) s->vbuckets[swim__fine_bucket(k)] ^= (uint32_t)k;
}

void swim__view_enter(swim__t* s, uint32_t idx, double now)
{
    s->nview++;
    view_flip(s, idx);
    s->last_view_change = now;
}

static void view_exit(swim__t* s, uint32_t idx, double now)
{
    s->nview--;
    view_flip(s, idx);
    s->last_view_change = now;
}

const uint32_t* swim__view_buckets(swim__t* s)
{
    if (s->vbuckets) return s->vbuckets;
    s->vbuckets = calloc(SWIM_FINE_BUCKETS, sizeof *s->vbuckets);
    if (!s->vbuckets) return NULL;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        if (!swim__in_view(&s->members[i])) continue;
        uint64_t k = swim__member_key(&s->members[i]);
        s->vbuckets[swim__fine_bucket(k)] ^= (uint32_t)k;
    }
    return s->vbuckets;
}

/** Add a member (no event, no gossip). Returns its index or NONE. */
uint32_t swim__add_member(swim__t* s, double now, const char* addr, uint16_t pid,
                           uint64_t inc, uint8_t status)
{
    const char* copy = NULL;
    if (!swim__valid_addr(addr) || s->nmembers >= SWIM_MAX_MEMBERS) return NONE;
    if (!swim__grow((void**)&s->members, &s->capmembers, s->nmembers + 1, sizeof *s->members))
        return NONE;
    if (slots_full(s, s->nmembers + 1) && !rehash(s, s->nmembers + 1)) return NONE;
    copy = swim__intern(addr);
    if (!copy) return NONE;
    uint32_t idx = s->nmembers++;
    member*  m   = &s->members[idx];
    memset(m, 0, sizeof *m);
    m->addr   = copy;
    m->pid    = pid;
    m->inc    = inc;
    m->status = status;
    m->since  = swim__rel_time(s, now);
    m->bq     = NONE;
    m->susp   = NONE;
    slot_insert(s, idx);
    if (status == ST_ALIVE || status == ST_SUSPECT) {
        swim__view_enter(s, idx, now);
        swim__order_add(s, idx);
    } else {
        s->ntomb++;
    }
    return idx;
}

void swim__leave_view(swim__t* s, member* m, uint8_t status, double now)
{
    swim__free_susp(s, m);
    m->status = status;
    m->since  = swim__rel_time(s, now);
    view_exit(s, (uint32_t)(m - s->members), now);
    s->ntomb++;
}

/** A uniformly random view member other than self and `exclude`, or NONE. */
uint32_t swim__random_view_member(swim__t* s, uint32_t exclude)
{
    uint32_t cand = s->nview - 1 - (exclude != NONE && swim__in_view(&s->members[exclude]) ? 1 : 0);
    if (s->nview <= 1 || cand == 0 || s->norder == 0) return NONE;
    for (int tries = 0; tries < 64; tries++) {
        uint32_t idx = s->order[swim__rng_below(s, s->norder)];
        if (idx != s->self && idx != exclude && swim__in_view(&s->members[idx])) return idx;
    }
    uint32_t start = swim__rng_below(s, s->norder);
    for (uint32_t j = 0; j < s->norder; j++) {
        uint32_t idx = s->order[(start + j) % s->norder];
        if (idx != s->self && idx != exclude && swim__in_view(&s->members[idx])) return idx;
    }
    return NONE;
}

/** Pick up to k distinct random view members (not self, not exclude). */
uint32_t swim__pick_members(swim__t* s, uint32_t k, uint32_t exclude, uint32_t* out)
{
    uint32_t n = 0;
    for (uint32_t tries = 0; n < k && tries < 8 * k + 16; tries++) {
        uint32_t idx = swim__random_view_member(s, exclude);
        if (idx == NONE) break;
        bool dup = false;
        for (uint32_t j = 0; j < n; j++) dup |= out[j] == idx;
        if (!dup) out[n++] = idx;
    }
    return n;
}

/** true if member i is a tombstone older than tombstone_timeout_ms (never self) */
static bool expired(const swim__t* s, uint32_t i, double now)
{
    const member* m = &s->members[i];
    return i != s->self && !swim__in_view(m) &&
           swim__rel_time(s, now) - m->since >= s->cfg.tombstone_timeout_ms;
}

/** Squeeze expired tombstones out of the table; map[old] = new index or
 *  NONE (dropped). */
static void drop_expired(swim__t* s, double now, uint32_t* map)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nmembers; i++) {
        member* m = &s->members[i];
        if (expired(s, i, now)) {
            if (m->published) s->npublished--;
            swim__unintern(m->addr);
            swim__free_susp(s, m);
            s->ntomb--;
            map[i] = NONE;
            continue;
        }
        map[i]          = n;
        s->members[n++] = *m;
    }
    s->nmembers = n;
    s->self     = map[s->self];
}

/** Drop tombstones older than tombstone_timeout_ms and remap indices:
 *  the table, then the gossip queue, then the probe order and the hash. */
void swim__compact(swim__t* s, double now)
{
    uint32_t* map = NULL;
    if (s->ntomb == 0) return;
    s->probe_first = NONE; /* indices may move */
    bool any = false;
    for (uint32_t i = 0; i < s->nmembers && !any; i++) any = expired(s, i, now);
    if (!any) return;
    map = malloc((size_t)s->nmembers * sizeof *map);
    if (!map) return;
    drop_expired(s, now, map);
    swim__gossip_remap(s, map);
    /* probe order and hash */
    s->norder = 0;
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (swim__in_view(&s->members[i])) s->order[s->norder++] = i;
    swim__order_shuffle(s);
    s->probe_pos = 0;
    rehash(s, s->nmembers);
    free(map);
}

/** Give back the slack of doubling growth once it exceeds 1/4 of the
 *  members and order arrays (they grow again by doubling if needed). */
void swim__trim(swim__t* s)
{
    uint32_t want = s->nmembers + s->nmembers / 16 + 4;
    if (s->capmembers > want && s->capmembers - s->nmembers > s->nmembers / 4 + 8) {
        member* nm = realloc(s->members, (size_t)want * sizeof *nm);
        if (nm) {
            s->members    = nm;
            s->capmembers = want;
        }
    }
    want = s->norder + s->norder / 16 + 4;
    if (s->caporder > want && s->caporder - s->norder > s->norder / 4 + 8) {
        uint32_t* no = realloc(s->order, (size_t)want * sizeof *no);
        if (no) {
            s->order    = no;
            s->caporder = want;
        }
    }
}

int swim__member_status(const swim__t* s, const char* addr, uint16_t pid, uint64_t* inc)
{
    uint32_t idx = swim__find_member(s, addr, pid);
    if (idx == NONE) return 0;
    if (inc) *inc = s->members[idx].inc;
    return s->members[idx].status;
}

void swim__foreach_member(const swim__t* s, void (*fn)(void*, const char*, uint16_t),
                          void* uargs)
{
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (swim__in_view(&s->members[i])) fn(uargs, s->members[i].addr, s->members[i].pid);
}

bool swim__publish(swim__t* s, const char* addr, uint16_t pid, bool in)
{
    uint32_t idx = swim__find_member(s, addr, pid);
    if (idx == NONE || s->members[idx].published == in) return false;
    s->members[idx].published = in;
    if (in) s->npublished++;
    else s->npublished--;
    return true;
}

size_t swim__published_count(const swim__t* s) { return s->npublished; }

void swim__foreach_published(const swim__t* s, void (*fn)(void*, const char*, uint16_t),
                             void* uargs)
{
    for (uint32_t i = 0; i < s->nmembers; i++)
        if (s->members[i].published) fn(uargs, s->members[i].addr, s->members[i].pid);
}
