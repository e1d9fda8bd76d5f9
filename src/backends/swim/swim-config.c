/* swim-config.c -- JSON config of the swim backend (see swim-config.h). */
#include "swim-config.h"

#include <string.h>

static void get_number(const struct json_object* o, const char* key, double* out)
{
    struct json_object* v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) return;
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
        *out = json_object_get_double(v);
}

static void get_int(const struct json_object* o, const char* key, int64_t* out)
{
    struct json_object* v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) return;
    if (json_object_is_type(v, json_type_int)) *out = json_object_get_int64(v);
}

static void get_bool(const struct json_object* o, const char* key, bool* out)
{
    struct json_object* v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) return;
    if (json_object_is_type(v, json_type_boolean)) *out = json_object_get_boolean(v);
}

/* a number, or "auto" (stored as `autov`) */
static void get_number_or_auto(const struct json_object* o, const char* key, double* out,
                               double autov)
{
    struct json_object* v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) return;
    if (json_object_is_type(v, json_type_string) &&
        strcmp(json_object_get_string(v), "auto") == 0)
        *out = autov;
    else
        get_number(o, key, out);
}

void swim__config_from_json(const struct json_object* json, swim__config* c)
{
    swim__config_default(c);
    if (json && json_object_is_type(json, json_type_object)) {
        /* reference keys */
        get_number(json, "protocol_period_ms", &c->protocol_period_ms);
        get_number(json, "ping_timeout_ms", &c->ping_timeout_ms);
        get_number(json, "ping_req_timeout_ms", &c->ping_req_timeout_ms);
        get_int(json, "ping_req_members", &c->ping_req_members);
        get_number(json, "suspicion_timeout_ms", &c->suspicion_timeout_ms);
        /* extensions */
        get_number(json, "suspicion_mult", &c->suspicion_mult);
        get_bool(json, "lifeguard_suspicion", &c->lifeguard_suspicion);
        get_number(json, "suspicion_max_timeout_mult", &c->suspicion_max_mult);
        get_int(json, "suspicion_confirmations", &c->suspicion_confirmations);
        get_bool(json, "lifeguard_local_health", &c->lifeguard_local_health);
        get_int(json, "local_health_max", &c->local_health_max);
        get_bool(json, "lifeguard_buddy", &c->lifeguard_buddy);
        get_number(json, "gossip_interval_ms", &c->gossip_interval_ms);
        get_int(json, "gossip_fanout", &c->gossip_fanout);
        get_int(json, "gossip_max_entries", &c->gossip_max_entries);
        get_int(json, "gossip_retransmit_mult", &c->gossip_retransmit_mult);
        get_number(json, "announce_timeout_ms", &c->announce_timeout_ms);
        get_number(json, "join_timeout_ms", &c->join_timeout_ms);
        get_number(json, "sync_interval_ms", &c->sync_interval_ms);
        get_number(json, "reconnect_interval_ms", &c->reconnect_interval_ms);
        get_number(json, "tombstone_timeout_ms", &c->tombstone_timeout_ms);
        get_bool(json, "anti_entropy", &c->anti_entropy);
        get_bool(json, "crash_hints", &c->crash_hints);
        get_bool(json, "urgent_join", &c->urgent_join);
        get_number_or_auto(json, "tick_grid_ms", &c->tick_grid_ms, SWIM_TICK_GRID_AUTO);
    }
    swim__config_sanitize(c);
}

struct json_object* swim__config_to_json(const swim__config* c)
{
    struct json_object* o = json_object_new_object();
    if (!o) return NULL;
    int rc = 0;
#define ADD(k, v) rc |= json_object_object_add(o, k, v)
    ADD("protocol_period_ms", json_object_new_double(c->protocol_period_ms));
    ADD("ping_timeout_ms", json_object_new_double(c->ping_timeout_ms));
    ADD("ping_req_timeout_ms", json_object_new_double(c->ping_req_timeout_ms));
    ADD("ping_req_members", json_object_new_int64(c->ping_req_members));
    ADD("suspicion_timeout_ms", json_object_new_double(c->suspicion_timeout_ms));
    ADD("suspicion_mult", json_object_new_double(c->suspicion_mult));
    ADD("lifeguard_suspicion", json_object_new_boolean(c->lifeguard_suspicion));
    ADD("suspicion_max_timeout_mult", json_object_new_double(c->suspicion_max_mult));
    ADD("suspicion_confirmations", json_object_new_int64(c->suspicion_confirmations));
    ADD("lifeguard_local_health", json_object_new_boolean(c->lifeguard_local_health));
    ADD("local_health_max", json_object_new_int64(c->local_health_max));
    ADD("lifeguard_buddy", json_object_new_boolean(c->lifeguard_buddy));
    ADD("gossip_interval_ms", json_object_new_double(c->gossip_interval_ms));
    ADD("gossip_fanout", json_object_new_int64(c->gossip_fanout));
    ADD("gossip_max_entries", json_object_new_int64(c->gossip_max_entries));
    ADD("gossip_retransmit_mult", json_object_new_int64(c->gossip_retransmit_mult));
    ADD("announce_timeout_ms", json_object_new_double(c->announce_timeout_ms));
    ADD("join_timeout_ms", json_object_new_double(c->join_timeout_ms));
    ADD("sync_interval_ms", json_object_new_double(c->sync_interval_ms));
    ADD("reconnect_interval_ms", json_object_new_double(c->reconnect_interval_ms));
    ADD("tombstone_timeout_ms", json_object_new_double(c->tombstone_timeout_ms));
    ADD("anti_entropy", json_object_new_boolean(c->anti_entropy));
    ADD("crash_hints", json_object_new_boolean(c->crash_hints));
    ADD("urgent_join", json_object_new_boolean(c->urgent_join));
    ADD("tick_grid_ms", c->tick_grid_ms < 0 ? json_object_new_string("auto")
                                            : json_object_new_double(c->tick_grid_ms));
#undef ADD
    if (rc != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}
