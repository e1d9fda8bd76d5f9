/*
 * centralized-config.h -- configuration of the centralized backend
 * (FLOCK-SPEC 3.2): defaults, validation/merge, canonical JSON form.
 *
 * Pure code (json-c only): no runtime, no locks. Table-tested in
 * tests/centralized/test-centralized-config.c.
 */
#ifndef FLOCK_CENTRALIZED_CONFIG_H
#define FLOCK_CENTRALIZED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default values (FLOCK-SPEC 3.2). */
#define FLOCK__CENT_DEFAULT_PING_TIMEOUT_MS  1000.0
#define FLOCK__CENT_DEFAULT_PING_INTERVAL_MS 1000.0
#define FLOCK__CENT_DEFAULT_MAX_NUM_TIMEOUTS 3
#define FLOCK__CENT_DEFAULT_PRIMARY_PID      0

/**
 * Effective configuration. Owns primary_address (NULL when the key was not
 * given; the backend then resolves the primary from the initial view and
 * stores it with flock__cent_config_set_primary()).
 */
typedef struct flock__cent_config {
    double ping_timeout_ms;      /**< >= 0; 0 means "no timeout" */
    double ping_interval_min_ms; /**< >= 0 */
    double ping_interval_max_ms; /**< >= min */
    int ping_max_num_timeouts;   /**< >= 1 */
    char* primary_address;       /**< owned, NULL if not configured */
    bool has_primary_provider_id;
    uint16_t primary_provider_id; /**< < 65535 */
    uint64_t group_id;            /**< "group_id" (16 hex digits); 0 = unknown */
    uint64_t term;                /**< "term" (>= 1); 0 = unknown */
    bool no_failover;             /**< "failover": false (the reference's behaviour) */
} flock__cent_config_t;

/** Fill *cfg with the defaults (primary_address NULL). */
void flock__cent_config_default(flock__cent_config_t* cfg);

/**
 * @brief Validate and merge the two config sources in the order of
 * FLOCK-SPEC 3.2: keys of view_config_json (the view's "__config__"
 * metadata, may be NULL) win over keys of group_config (may be NULL = {}).
 * Integers are accepted wherever doubles are. Unknown keys are ignored.
 *
 * @param errbuf receives a message naming the offending field (may be NULL).
 * @return FLOCK_SUCCESS; FLOCK_ERR_INVALID_ARGS if view_config_json is not a
 *         JSON object; FLOCK_ERR_INVALID_CONFIG for a non-object group_config
 *         or any bad key; FLOCK_ERR_ALLOCATION. On failure *out is left
 *         with defaults and no allocation.
 */
flock_return_t flock__cent_config_parse(const struct json_object* group_config,
                                        const char* view_config_json,
                                        flock__cent_config_t* out, char* errbuf,
                                        size_t errlen);

/** Replace the primary (address copied). FLOCK_ERR_ALLOCATION on failure. */
flock_return_t flock__cent_config_set_primary(flock__cent_config_t* cfg,
                                              const char* address, uint16_t pid);

/**
 * @brief The effective config as a new json-c object, keys in the order
 * ping_timeout_ms, ping_interval_ms, ping_max_num_timeouts, primary_address,
 * primary_provider_id (these two only when the primary is known), group_id
 * and term (each only when known, i.e. non-zero), failover (only when false).
 * Doubles print with ".0". Caller puts the reference. NULL on allocation failure.
 */
struct json_object* flock__cent_config_to_json(const flock__cent_config_t* cfg);

/** The same as compact JSON text (slashes unescaped); malloc'd, NULL on failure. */
char* flock__cent_config_to_string(const flock__cent_config_t* cfg);

/** Free what cfg owns (safe on a default/zeroed config; idempotent). */
void flock__cent_config_destroy(flock__cent_config_t* cfg);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_CENTRALIZED_CONFIG_H */
