/*
 * flockd-config.h -- parsing and validation of flockd's Bedrock-format JSON
 * configuration (internal to flockd; pure: no I/O besides reading the file
 * in flockd__config_load, no logging, no runtime).
 *
 * Accepted document (FLOCK-SPEC section 7, plus the "file" and "view"
 * bootstrap methods that upstream's Bedrock module rejects):
 *
 *   {
 *     "libraries": ["libflock-bedrock-module.so"]      optional; array of
 *                  | {"flock": "libflock-bedrock-module.so"},  strings or
 *                                                       object of strings;
 *                                                       every entry must name
 *                                                       the Flock module
 *     "margo": {...},                                   optional; only
 *                                                       margo.argobots.pools[*].name
 *                                                       is read (pool names)
 *     "bedrock": {...},                                 optional; ignored
 *     "clients"/"ssg"/"abt_io"/"mona": [] or {},        accepted only if empty
 *     "providers": [                                    required, non-empty
 *       { "type": "flock",                              required
 *         "name": "my_flock_provider",                  required, unique
 *         "provider_id": 42,                            optional (0), unique,
 *                                                       integer 0..65534
 *         "dependencies": {"pool": "__primary__"},      optional
 *         "tags": ["..."],                              optional; ignored
 *         "config": {                                   required
 *           "bootstrap": "self" | ["join", "self"],     required; methods
 *                                                       self, join, mpi,
 *                                                       file, view
 *           "file": "group.flock",                      required by join/file
 *           "mpi_ranks": [0, 1],                        optional; for "mpi"
 *           "view": {"members": [...], "metadata": {}}, required by "view"
 *           "group": {"type": "centralized", "config": {...}},  required
 *           "gateway": {"type": "default", "config": {}}        optional
 *         } } ] }
 *
 * Bootstrap methods (tried in order at start-up; the first that registers
 * the provider wins):
 *   self  a new group whose only member is this provider;
 *   join  join the group described by "file" (the file must exist);
 *   file  load "file": if this provider is listed it takes its place in
 *         that view (like "view"), otherwise it joins (like "join");
 *   view  same as "file" with the view given inline in "view";
 *   mpi   every process of the MPI job (or of the ranks in "mpi_ranks")
 *         forms the group (needs flockd built with MPI).
 *
 * Every error message starts with the JSON path of the offending field,
 * e.g. "providers[0].config.bootstrap: expected a string or an array of
 * strings". Unknown keys inside a provider's "config" are passed through to
 * flock_provider_register (which ignores them) and produce a warning;
 * unknown keys elsewhere are errors.
 */
#ifndef FLOCKD_CONFIG_H
#define FLOCKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bootstrap methods, in the order of flockd__bootstrap_name. */
typedef enum flockd_bootstrap {
    FLOCKD_BOOTSTRAP_SELF = 0,
    FLOCKD_BOOTSTRAP_JOIN,
    FLOCKD_BOOTSTRAP_MPI,
    FLOCKD_BOOTSTRAP_FILE,
    FLOCKD_BOOTSTRAP_VIEW,
    FLOCKD_BOOTSTRAP_COUNT
} flockd_bootstrap;

/** Longest bootstrap list accepted (each method may appear once). */
#define FLOCKD_MAX_BOOTSTRAP FLOCKD_BOOTSTRAP_COUNT
/** Longest error / warning message. */
#define FLOCKD_MSG_LEN 512
/** Largest number of providers and of warnings kept. */
#define FLOCKD_MAX_PROVIDERS 1024
#define FLOCKD_MAX_WARNINGS  64

/** One validated provider entry. Strings are owned (freed by
 *  flockd__config_free). */
typedef struct flockd_provider_config {
    char*            name;
    uint16_t         provider_id;
    char*            pool;                 /**< NULL: the handler pool */
    flockd_bootstrap bootstrap[FLOCKD_MAX_BOOTSTRAP];
    size_t           num_bootstrap;
    char*            file;                 /**< NULL if absent */
    bool             has_mpi_ranks;
    int*             mpi_ranks;            /**< sorted ascending, unique */
    size_t           num_mpi_ranks;
    char*            view_json;            /**< "view" as compact JSON, or NULL */
    char*            backend;              /**< group.type */
    char*            config_json;          /**< the whole provider "config",
                                                compact, for flock_provider_register */
} flockd_provider_config;

/** A validated flockd configuration. Zero-initialised memory is empty. */
typedef struct flockd_config {
    flockd_provider_config* providers;
    size_t                  num_providers;
    char                    warnings[FLOCKD_MAX_WARNINGS][FLOCKD_MSG_LEN];
    size_t                  num_warnings;
} flockd_config;

/** What the running flockd supports (affects validation). */
typedef struct flockd_config_options {
    bool               have_mpi;      /**< "mpi" bootstrap available */
    const char* const* backends;      /**< NULL-terminated list of group
                                           types; NULL: static, centralized, swim */
    const char* const* gateways;      /**< NULL-terminated; NULL: default, pinggy */
} flockd_config_options;

/** Name of a bootstrap method ("self", ...), "?" if out of range. */
const char* flockd__bootstrap_name(flockd_bootstrap b);

/**
 * Parse and validate a configuration held in memory.
 * Contract: text need not be NUL-terminated (len bytes are read); out must
 * be zeroed or freshly freed; on failure out is left empty and err holds a
 * message naming the offending field (err may be NULL). Never crashes on
 * any input (fuzzed).
 * @return 0 on success, -1 on an invalid configuration.
 */
int flockd__config_parse(const char* text, size_t len, const flockd_config_options* opts,
                         flockd_config* out, char* err, size_t errsize);

/**
 * Read the file then flockd__config_parse. An unreadable file is an error
 * naming the path and the reason.
 */
int flockd__config_load(const char* path, const flockd_config_options* opts,
                        flockd_config* out, char* err, size_t errsize);

/** Free everything in cfg and zero it. NULL and empty configs are fine. */
void flockd__config_free(flockd_config* cfg);

/** true if method is listed in p's bootstrap list. */
bool flockd__config_has_bootstrap(const flockd_provider_config* p, flockd_bootstrap method);

/**
 * Parse a log level name: trace, debug, info, warning (or warn), error,
 * critical (case-insensitive). Returns the margo_log_level value (1..6) or
 * -1 if unknown. Kept here so it can be unit-tested without the runtime.
 */
int flockd__parse_log_level(const char* name);

#ifdef __cplusplus
}
#endif

#endif /* FLOCKD_CONFIG_H */
