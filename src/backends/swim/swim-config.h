/*
 * swim-config.h -- the "swim" backend's JSON configuration: parse (user
 * keys over swim__config_default, wrong types silently ignored as in the
 * reference) and dump the effective config (reference keys first, in the
 * reference order, then the extensions). See docs/design.md "SWIM backend".
 */
#ifndef FLOCK_SWIM_CONFIG_H
#define FLOCK_SWIM_CONFIG_H

#include <json-c/json.h>
#include "swim-core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fill c from json (NULL or non-object -> defaults), then sanitize. */
void swim__config_from_json(const struct json_object* json, swim__config* c);

/** New json object with the effective config (NULL on allocation failure). */
struct json_object* swim__config_to_json(const swim__config* c);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_CONFIG_H */
