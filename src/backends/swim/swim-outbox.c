/*
 * swim-outbox.c -- what the SWIM machine hands to its driver: messages
 * (their lifetime), the outbox (calls to send, replies, events), the table
 * of pending calls (ids, and the gossip entries each call carried, for the
 * feedback of its response) and the log hook.
 *
 * Owns: s->out, s->calls/ncalls/capcalls, s->next_call_id; takes
 * s->last_refs (written by swim-gossip.c) into the call it records.
 * May call: the member table (read only: self's identity and the view
 * summary for message headers). See swim-core-internal.h.
 */
#include "swim-core-internal.h"

#include <stdarg.h>
#include <stdio.h>

void swim__logf(swim__t* s, int level, const char* fmt, ...)
{
    if (!s->log) return;
    char    buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->log(s->log_ctx, level, buf);
}

/* keep str, a copy of src (NULL: decoded), in m; frees str on failure */
static bool msg_own_src(swim__msg* m, char* str, const char* src)
{
    if (m->nstrs == m->capstrs) {
        uint32_t     nc = m->capstrs ? 2 * m->capstrs : 8;
        char**       nv = realloc(m->strs, nc * sizeof *nv);
        if (nv) m->strs = nv;
        const char** ns = nv ? realloc(m->srcs, nc * sizeof *ns) : NULL;
        if (ns) m->srcs = ns;
        if (!nv || !ns) {
            free(str);
            return false;
        }
        m->capstrs = nc;
    }
    m->strs[m->nstrs]   = str;
    m->srcs[m->nstrs++] = src;
    return true;
}

bool swim__msg_own(swim__msg* m, char* str) { return msg_own_src(m, str, NULL); }

/* entries name few distinct addresses (the providers of a process share
 * one; a state names one per process): the copies of the last
 * SWIM_KEEP_WINDOW sources are shared, found by pointer */
#define SWIM_KEEP_WINDOW 64u

const char* swim__msg_keep(swim__msg* m, const char* str)
{
    uint32_t lo = m->nstrs > SWIM_KEEP_WINDOW ? m->nstrs - SWIM_KEEP_WINDOW : 0;
    for (uint32_t i = m->nstrs; i > lo; i--)
        if (m->srcs[i - 1] == str) return m->strs[i - 1];
    char* c = strdup(str);
    return c && msg_own_src(m, c, str) ? c : NULL;
}

void swim__meta_entry_clear(swim__meta_entry* e)
{
    if (!e) return;
    free(e->key);
    free(e->value);
    free(e->origin);
    memset(e, 0, sizeof *e);
}

void swim__msg_clear(swim__msg* m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->nmeta; i++) swim__meta_entry_clear(&m->meta[i]);
    free(m->meta);
    free(m->sender_addr);
    free(m->target_addr);
    free(m->gossip);
    free(m->state);
    free(m->buckets);
    for (uint32_t i = 0; i < m->nstrs; i++) free(m->strs[i]);
    free(m->strs);
    free(m->srcs);
    memset(m, 0, sizeof *m);
}

void swim__outbox_clear(swim__outbox* o)
{
    for (size_t i = 0; i < o->nsends; i++) {
        free(o->sends[i].addr);
        swim__msg_clear(&o->sends[i].msg);
    }
    for (size_t i = 0; i < o->nreplies; i++) swim__msg_clear(&o->replies[i].msg);
    for (size_t i = 0; i < o->nevents; i++) {
        free(o->events[i].addr);
        free(o->events[i].value);
    }
    o->nsends = o->nreplies = o->nevents = 0;
}

void swim__outbox_free(swim__outbox* o)
{
    swim__outbox_clear(o);
    free(o->sends);
    free(o->replies);
    free(o->events);
    memset(o, 0, sizeof *o);
}

void swim__emit_event(swim__t* s, int type, const member* m)
{
    swim__outbox* o = &s->out;
    if (!swim__growz((void**)&o->events, &o->capevents, o->nevents + 1, sizeof *o->events)) return;
    char* a = strdup(m->addr);
    if (!a) return;
    o->events[o->nevents].type = type;
    o->events[o->nevents].addr = a;
    o->events[o->nevents].pid   = m->pid;
    o->events[o->nevents].value = NULL;
    o->nevents++;
}

/** Forget the entries of the last swim__attach_gossip (no call will carry them). */
void swim__drop_last_refs(swim__t* s)
{
    free(s->last_refs);
    s->last_refs       = NULL;
    s->nlast_refs      = 0;
    s->last_refs_valid = false;
}

/** Record a pending call; returns its id (0 on allocation failure). */
static uint64_t add_call(swim__t* s, uint8_t kind, uint64_t aux)
{
    if (!swim__grow((void**)&s->calls, &s->capcalls, s->ncalls + 1, sizeof *s->calls)) return 0;
    uint64_t id = ++s->next_call_id;
    pending* pc = &s->calls[s->ncalls];
    memset(pc, 0, sizeof *pc);
    pc->id   = id;
    pc->aux  = aux;
    pc->kind = kind;
    if (s->last_refs_valid && s->nlast_refs > 0) {
        pc->refs     = s->last_refs; /* moved */
        pc->nrefs    = s->nlast_refs;
        s->last_refs = NULL;
    }
    swim__drop_last_refs(s);
    s->ncalls++;
    return id;
}

bool swim__take_call(swim__t* s, uint64_t id, pending* out)
{
    for (uint32_t i = 0; i < s->ncalls; i++) {
        if (s->calls[i].id == id) {
            *out        = s->calls[i];
            s->calls[i] = s->calls[--s->ncalls];
            if (s->ncalls == 0 && s->capcalls > 8) {
                /* back to idle after a burst: keep room for a probe only */
                pending* np = realloc(s->calls, 8 * sizeof *np);
                if (np) {
                    s->calls    = np;
                    s->capcalls = 8;
                }
            }
            return true;
        }
    }
    return false;
}

/** Queue a call to (addr, pid). Takes ownership of *msg (cleared on failure
 *  too). Returns false if nothing was queued. */
bool swim__emit_send(swim__t* s, uint8_t kind, uint64_t aux, const char* addr,
                      uint16_t pid, double timeout_ms, swim__msg* msg)
{
    swim__outbox* o    = &s->out;
    char*         a    = NULL;
    uint64_t      id   = 0;
    bool          ok   = false;
    if (!swim__growz((void**)&o->sends, &o->capsends, o->nsends + 1, sizeof *o->sends)) goto finish;
    a = strdup(addr);
    if (!a) goto finish;
    id = add_call(s, kind, aux);
    if (!id) goto finish;
    swim__send* sd = &o->sends[o->nsends++];
    sd->call_id    = id;
    sd->addr       = a;
    sd->pid        = pid;
    sd->timeout_ms = timeout_ms;
    sd->first_join = kind == CALL_JOIN;
    sd->msg        = *msg;
    memset(msg, 0, sizeof *msg);
    a  = NULL;
    ok = true;
finish:
    free(a);
    if (!ok) swim__msg_clear(msg);
    return ok;
}

void swim__emit_reply(swim__t* s, uint64_t token, swim__msg* msg)
{
    swim__outbox* o    = &s->out;
    swim__drop_last_refs(s);
    if (!swim__growz((void**)&o->replies, &o->capreplies, o->nreplies + 1, sizeof *o->replies)) {
        /* the driver fails requests that get no reply when it drains */
        swim__msg_clear(msg);
        return;
    }
    o->replies[o->nreplies].token = token;
    o->replies[o->nreplies].msg   = *msg;
    memset(msg, 0, sizeof *msg);
    o->nreplies++;
}

bool swim__init_msg(swim__t* s, swim__msg* m, uint8_t kind)
{
    memset(m, 0, sizeof *m);
    m->kind        = kind;
    m->group_id    = s->group_id;
    m->sender_addr = strdup(s->members[s->self].addr);
    m->sender_pid  = s->members[s->self].pid;
    m->sender_inc  = s->members[s->self].inc;
    m->sender_view_size   = s->nview;
    m->sender_view_digest = swim__wire_digest(s);
    return m->sender_addr != NULL;
}

/** An announcement (JOIN / LEAVE / SYNC) about this member itself.
 *  false (and m cleared) on allocation failure. */
bool swim__init_self_announce(swim__t* s, swim__msg* m, uint8_t ann_type)
{
    if (!swim__init_msg(s, m, SWIM_MSG_ANNOUNCE)) return false;
    m->ann_type    = ann_type;
    m->target_addr = strdup(s->members[s->self].addr);
    m->target_pid  = s->members[s->self].pid;
    m->target_inc  = s->members[s->self].inc;
    if (!m->target_addr) {
        swim__msg_clear(m);
        return false;
    }
    return true;
}
