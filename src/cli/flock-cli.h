/*
 * flock-cli.h -- internals of the `flockctl` command-line tool: argument
 * parsing, help texts and output formatting. Everything here is pure (no
 * runtime, no network) so it can be unit-tested; src/cli/flockctl.c does the
 * talking.
 */
#ifndef FLOCK_CLI_H
#define FLOCK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses of the tool. */
#define FLOCK_CLI_EXIT_OK      0 /* success (check: every member answered) */
#define FLOCK_CLI_EXIT_FAIL    1 /* the operation failed (check: some member did not answer) */
#define FLOCK_CLI_EXIT_USAGE   2 /* bad command line */

/* Defaults (documented in the help texts). */
#define FLOCK_CLI_DEFAULT_INTERVAL_MS 500.0
#define FLOCK_CLI_DEFAULT_TIMEOUT_MS  2000.0

typedef enum flock_cli_cmd {
    FLOCK_CLI_NONE = 0,
    FLOCK_CLI_SHOW,
    FLOCK_CLI_WATCH,
    FLOCK_CLI_CHECK,
    FLOCK_CLI_INFO,
    FLOCK_CLI_LEAVE,
    FLOCK_CLI_FORCE_LEAVE,
    FLOCK_CLI_KEYGEN,
    FLOCK_CLI_META,
    FLOCK_CLI_HELP,    /* `flockctl help [cmd]`, `flockctl --help` */
    FLOCK_CLI_VERSION, /* `flockctl --version` */
} flock_cli_cmd;

#define FLOCK_CLI_FIRST_CMD FLOCK_CLI_SHOW
#define FLOCK_CLI_LAST_CMD  FLOCK_CLI_META

/* Exit status of show when the view was printed but a member it lists is
 * suspect or dead, or the first member tried did not answer. */
#define FLOCK_CLI_EXIT_DEGRADED 3

typedef enum flock_cli_meta_op { FLOCK_CLI_META_GET = 1, FLOCK_CLI_META_SET, FLOCK_CLI_META_UNSET } flock_cli_meta_op;

/** Parsed command line. Strings point into argv. */
typedef struct flock_cli_args {
    flock_cli_cmd cmd;
    flock_cli_cmd help_for;     /**< FLOCK_CLI_HELP: the subcommand, or NONE */
    const char*   group_file;   /**< positional <groupfile>, or NULL */
    const char*   key_file;     /**< --key-file (the group key), or NULL */
    const char*   keygen_file;  /**< keygen FILE */
    const char*   member;       /**< force-leave: the member to remove */
    int           member_pid;   /**< force-leave: its provider id, -1 if not given */
    flock_cli_meta_op meta_op;  /**< meta get|set|unset */
    const char*   meta_key;     /**< meta KEY */
    const char*   meta_value;   /**< meta set VALUE */
    const char*   pos[6];       /**< positional arguments, in order (internal) */
    int           npos;
    const char*   address;      /**< --address, or NULL */
    int           provider_id;  /**< --provider-id, -1 if not given */
    bool          json;         /**< --json */
    bool          all;          /**< --all: also metadata keys starting with "__" */
    double        interval_ms;  /**< watch --interval */
    long          count;        /**< watch --count: stop after N events (0: never) */
    double        duration_s;   /**< watch --duration: stop after S seconds (0: never) */
    double        timeout_ms;   /**< --timeout: per-member reachability probe */
    const char*   protocol;     /**< --protocol override for the client instance */
    int           log_level;    /**< -v LEVEL (margo_log_level), 0: default (quiet) */
} flock_cli_args;

/**
 * Parse argv (argv[0] is the program). On a usage error returns -1 and
 * writes a one-line message into err (the caller prints it plus the
 * relevant usage). Never exits, never prints.
 */
int flock_cli__parse_args(int argc, char* const argv[], flock_cli_args* out, char* err,
                          size_t errsize);

/** Print the help of a subcommand (FLOCK_CLI_NONE: the general help). */
void flock_cli__print_help(FILE* f, flock_cli_cmd cmd);

/** Name of a subcommand ("show", ...). */
const char* flock_cli__cmd_name(flock_cli_cmd cmd);

/**
 * The protocol of an address, for the client instance: the part before
 * "://" ("na+sm://123-0" -> "na+sm", "ofi+tcp://1.2.3.4:5" -> "ofi+tcp").
 * @return 0, or -1 if addr has no "://" or the protocol does not fit.
 */
int flock_cli__protocol_of(const char* addr, char* out, size_t outsize);

/** Message of a flock_return_t value ("unknown error" otherwise). */
const char* flock_cli__strerror(int code);

/** "2026-11-24T05:41:00.456Z" for a CLOCK_REALTIME time in ms. */
void flock_cli__format_time(double realtime_ms, char* out, size_t outsize);

/**
 * Print a view as a table (index, address, provider id), then the metadata
 * (keys starting with "__" hidden unless all), then the digest.
 */
void flock_cli__print_table(FILE* f, const flock_group_view_t* view, bool all);

/**
 * Print a view as one line of JSON:
 * {"digest":"0x...","members":[{"index":0,"address":...,"provider_id":...}],
 *  "metadata":{...}} (metadata filtered as in the table).
 * @return 0, or -1 on allocation failure.
 */
int flock_cli__print_json(FILE* f, const flock_group_view_t* view, bool all);

struct json_object;

/**
 * The table and JSON with what a member said about the group (`info`: the
 * flock_admin_info answer, NULL if none): STATUS, ROLE, INCARNATION columns
 * ("unknown" / "-" where it says nothing); the JSON always has "backend"
 * (from info, else the view's __type__).
 */
void flock_cli__print_table_info(FILE* f, const flock_group_view_t* view, bool all,
                                 const struct json_object* info);
int  flock_cli__print_json_info(FILE* f, const flock_group_view_t* view, bool all,
                                const struct json_object* info);

/** The info answer's entry for a member (borrowed), or NULL. */
struct json_object* flock_cli__member_info(const struct json_object* info, const char* address,
                                           uint16_t provider_id);

/** Members of view that info says are "suspect" or "dead". */
size_t flock_cli__count_unhealthy(const flock_group_view_t* view, const struct json_object* info);

/** Membership change found by flock_cli__view_diff. */
typedef void (*flock_cli_diff_fn)(void* uargs, bool joined, const char* address,
                                  uint16_t provider_id);

/**
 * Compare two views (both sorted as views always are) and call fn once per
 * member present only in cur (joined=true), then once per member present
 * only in old (joined=false), each in view order. Duplicates count as
 * distinct entries (multiset difference).
 */
void flock_cli__view_diff(const flock_group_view_t* old, const flock_group_view_t* cur,
                          flock_cli_diff_fn fn, void* uargs);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_CLI_H */
