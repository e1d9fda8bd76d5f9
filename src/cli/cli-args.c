/*
 * cli-args.c -- command line of the `flock` tool: parsing and help texts.
 */
#include "flock-cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char* const flock_cli__names[] = {"",      "show",        "watch",  "check",
                                               "info",  "leave",       "force-leave",
                                               "keygen", "meta",       "help",   "version"};

const char* flock_cli__cmd_name(flock_cli_cmd cmd)
{
    if ((int)cmd < 0 || (size_t)cmd >= sizeof flock_cli__names / sizeof flock_cli__names[0])
        return "";
    return flock_cli__names[cmd];
}

static const char flock_cli__target_help[] =
    "Target (one of):\n"
    "  <groupfile>              a group file written by a provider (\"file\" in its config);\n"
    "                           its members are tried in order until one answers\n"
    "  -a, --address ADDR       address of one member (e.g. na+sm://1234-0, ofi+tcp://10.0.0.1:5000)\n"
    "  -p, --provider-id N      provider id of that member (required with --address)\n";

static const char flock_cli__common_help[] =
    "  -k, --key-file FILE      the group key, for a group that requires one\n"
    "                           (also: FRT_AUTH_KEY_FILE; make one with flockctl keygen)\n"
    "  -t, --timeout MS         reachability probe timeout per member (default 2000)\n"
    "      --protocol PROTO     protocol of the client instance (default: the members' own,\n"
    "                           e.g. na+sm, ofi+tcp, tcp)\n"
    "  -v, --verbose LEVEL      also print the library's log lines at LEVEL and above: trace,\n"
    "                           debug, info, warning, error, critical (default: none, only\n"
    "                           the tool's own one-line error)\n"
    "  -h, --help               this help\n";

void flock_cli__print_help(FILE* f, flock_cli_cmd cmd)
{
    switch (cmd) {
    case FLOCK_CLI_SHOW:
        fprintf(f,
                "Usage: flockctl show <groupfile> [options]\n"
                "       flockctl show --address ADDR --provider-id N [options]\n"
                "\n"
                "Fetch the current view of a group from one of its members and print it: a table\n"
                "of members (index, address, provider id, and as that member sees them: status\n"
                "alive/suspect/dead, role primary/secondary, incarnation), the metadata (keys starting\n"
                "with \"__\" are internal and hidden unless --all) and the view's digest.\n"
                "\n%s\nOptions:\n"
                "      --json               print the view as one line of JSON instead:\n"
                "                           {\"digest\":\"0x...\",\"members\":[{\"index\":0,\"address\":...,\n"
                "                           \"provider_id\":...}],\"metadata\":{...}}\n"
                "      --all                also show internal metadata (__config__, __type__)\n"
                "%s\nExit status: 0 if the view was printed and every member it lists is alive (as far\n"
                "as the member that answered knows), 1 if no member answered, 2 on usage errors,\n"
                "3 if the view was printed but a member is suspect or dead, or the first member\n"
                "tried did not answer.\n",
                flock_cli__target_help, flock_cli__common_help);
        break;
    case FLOCK_CLI_WATCH:
        fprintf(f,
                "Usage: flockctl watch <groupfile> [options]\n"
                "       flockctl watch --address ADDR --provider-id N [options]\n"
                "\n"
                "Follow a group and print one line per membership change as it is seen:\n"
                "  <time> MEMBER <address> <provider_id>    members present when watching starts\n"
                "  <time> JOINED <address> <provider_id>\n"
                "  <time> LEFT   <address> <provider_id>    removed while it still answered (graceful leave)\n"
                "  <time> DIED   <address> <provider_id>    removed after it had stopped answering\n"
                "Times are UTC, ISO 8601 with milliseconds. Output is flushed after every line.\n"
                "\n"
                "How: every --interval the watcher probes each member (an RPC with --timeout) and\n"
                "then refreshes its view with flock_group_update_view (only transferred when the\n"
                "digest changed); membership changes are the difference between two views. A member\n"
                "removed from the view after the watcher saw it unreachable is reported DIED,\n"
                "otherwise LEFT. So the interval should be shorter than the backend's failure\n"
                "detection time (centralized default: a few seconds). If the contacted member stops\n"
                "answering, the watcher switches to another member of the last view.\n"
                "\n%s\nOptions:\n"
                "  -i, --interval MS        polling interval in milliseconds (default 500)\n"
                "  -n, --count N            exit after N JOINED/LEFT/DIED events (default: never)\n"
                "      --duration S         exit after S seconds (default: never)\n"
                "      --json               one JSON object per line instead:\n"
                "                           {\"time\":...,\"event\":\"JOINED\",\"address\":...,\"provider_id\":...}\n"
                "%s\nExit status: 0 when --count or --duration is reached, 1 if no member of the group\n"
                "answers any more, 2 on usage errors.\n",
                flock_cli__target_help, flock_cli__common_help);
        break;
    case FLOCK_CLI_CHECK:
        fprintf(f,
                "Usage: flockctl check <groupfile> [options]\n"
                "       flockctl check --address ADDR --provider-id N [options]\n"
                "\n"
                "Fetch the group's view, then contact every member's flock_get_view and print one\n"
                "line per member: \"OK\" with the member's own digest and size, or \"FAIL\" with the\n"
                "reason. Members that answer with a different view are reported (not a failure:\n"
                "views converge after changes).\n"
                "\n%s\nOptions:\n"
                "      --json               print the result as one line of JSON instead\n"
                "%s\nExit status: 0 if every member answered, 1 otherwise (or if no view could be\n"
                "fetched), 2 on usage errors.\n",
                flock_cli__target_help, flock_cli__common_help);
        break;
    case FLOCK_CLI_INFO:
        fprintf(f,
                "Usage: flockctl info --address ADDR --provider-id N [options]\n"
                "       flockctl info <groupfile> [options]    (the first member that answers)\n"
                "\n"
                "Ask one member about itself: version, pid, uptime, backend, role, the effective\n"
                "backend config, view size and digest, counters (joins, leaves and deaths seen,\n"
                "backend counters) and the round trip of the query (flock_admin_info RPC).\n"
                "\n%s\nOptions:\n"
                "      --json               print the answer as one line of JSON\n"
                "%s\nExit status: 0 if the member answered, 1 otherwise, 2 on usage errors.\n",
                flock_cli__target_help, flock_cli__common_help);
        break;
    case FLOCK_CLI_LEAVE:
        fprintf(f,
                "Usage: flockctl leave --address ADDR --provider-id N [options]\n"
                "\n"
                "Ask a member to leave its group gracefully (as on SIGTERM), while its process\n"
                "stays up and says so in its log. Refused on a static group; a centralized\n"
                "primary hands over when its process stops instead.\n"
                "\n%s\nOptions:\n%s\nExit status: 0 if it left, 1 otherwise, 2 on usage errors.\n",
                flock_cli__target_help, flock_cli__common_help);
        break;
    case FLOCK_CLI_FORCE_LEAVE:
        fprintf(f,
                "Usage: flockctl force-leave <groupfile> MEMBER_ADDRESS [MEMBER_PROVIDER_ID]\n"
                "       flockctl force-leave --address ADDR --provider-id N MEMBER_ADDRESS [ID]\n"
                "\n"
                "Remove from the group a member that no longer answers (its provider id defaults\n"
                "to the one the view lists for that address). Refused while it answers, and on a\n"
                "static group. On a centralized group the request goes to the primary.\n"
                "\n%s\nOptions:\n%s\nExit status: 0 if it was removed, 1 otherwise, 2 on usage errors.\n",
                flock_cli__target_help, flock_cli__common_help);
        break;
    case FLOCK_CLI_KEYGEN:
        fprintf(f,
                "Usage: flockctl keygen FILE\n"
                "\n"
                "Write a new random group key (32 bytes from the kernel's random source, as 64\n"
                "hex digits) to FILE, created with mode 0600; an existing FILE is never\n"
                "overwritten. Give it to every member (\"auth\": {\"key_file\": FILE} in the\n"
                "provider config) and to flockctl (--key-file FILE).\n"
                "\nExit status: 0 if written, 1 otherwise, 2 on usage errors.\n");
        break;
    case FLOCK_CLI_META:
        fprintf(f,
                "Usage: flockctl meta get <groupfile> KEY\n"
                "       flockctl meta set <groupfile> KEY VALUE\n"
                "       flockctl meta unset <groupfile> KEY\n"
                "       (or --address ADDR --provider-id N instead of <groupfile>)\n"
                "\n"
                "get prints the value of KEY in the group's view (exit 1 if absent); set and unset\n"
                "change it with flock_group_metadata_set (unset: value NULL) and print the error\n"
                "by name if the group refuses.\n"
                "\n%s\nOptions:\n%s\nExit status: 0 on success, 1 otherwise, 2 on usage errors.\n",
                flock_cli__target_help, flock_cli__common_help);
        break;
    default:
        fprintf(f,
                "Usage: flockctl <command> [options]\n"
                "\n"
                "Inspect and manage running Flock groups.\n"
                "\n"
                "Commands:\n"
                "  show     print a group's members and metadata (table or --json)\n"
                "  watch    print JOINED / LEFT / DIED events as they happen, with timestamps\n"
                "  check    check that every member of a group answers (exit status 0 iff all do)\n"
                "  info     ask one member about itself (version, uptime, role, counters)\n"
                "  leave    ask a member to leave its group gracefully (it stays up)\n"
                "  force-leave  remove a member that no longer answers\n"
                "  keygen   write a new random group key file (mode 0600)\n"
                "  meta     get, set or unset a metadata key of a group\n"
                "  help [command]   help of a command (also: flockctl <command> --help)\n"
                "\n"
                "Every command takes a group file, or --address ADDR --provider-id N.\n"
                "Start groups with flockd (flockd --help).\n"
                "\n"
                "Options: -h, --help; --version\n");
        break;
    }
}

/* Contract: formats a usage message into err; returns -1. */
__attribute__((format(printf, 3, 4))) static int flock_cli__usage(char* err, size_t errsize,
                                                                  const char* fmt, ...)
{
    if (!err || !errsize) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    return -1;
}

static bool flock_cli__parse_double(const char* s, double lo, double hi, double* out)
{
    char* end = NULL;
    errno     = 0;
    double v  = strtod(s, &end);
    if (!s[0] || *end || errno || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool flock_cli__parse_long(const char* s, long lo, long hi, long* out)
{
    char* end = NULL;
    errno     = 0;
    long v    = strtol(s, &end, 10);
    if (!s[0] || *end || errno || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static int flock_cli__log_level(const char* s)
{
    static const char* const names[] = {"trace", "debug", "info", "warning", "error", "critical"};
    for (int i = 0; i < 6; i++)
        if (strcasecmp(s, names[i]) == 0) return i + 1;
    if (strcasecmp(s, "warn") == 0) return 4;
    return -1;
}

/* Phase 1: the command word (argv[1]). Contract: sets out->cmd; *done is
 * set for help and --version (their few arguments checked here too).
 * -1 with the message in err on a bad command line. */
static int flock_cli__parse_command(int argc, char* const argv[], flock_cli_args* out,
                                    bool* done, char* err, size_t errsize)
{
    *done = false;
    if (argc < 2) return flock_cli__usage(err, errsize, "missing command");
    const char* c = argv[1];
    if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "help") == 0) {
        out->cmd = FLOCK_CLI_HELP;
        *done    = true;
        if (strcmp(c, "help") == 0 && argc >= 3) {
            for (int k = FLOCK_CLI_FIRST_CMD; k <= FLOCK_CLI_LAST_CMD; k++)
                if (strcmp(argv[2], flock_cli__cmd_name((flock_cli_cmd)k)) == 0)
                    out->help_for = (flock_cli_cmd)k;
            if (out->help_for == FLOCK_CLI_NONE)
                return flock_cli__usage(err, errsize, "unknown command \"%s\"", argv[2]);
            if (argc > 3) return flock_cli__usage(err, errsize, "unexpected argument \"%s\"", argv[3]);
        } else if (argc > 2) {
            return flock_cli__usage(err, errsize, "unexpected argument \"%s\"", argv[2]);
        }
        return 0;
    }
    if (strcmp(c, "--version") == 0) {
        out->cmd = FLOCK_CLI_VERSION;
        *done    = true;
        if (argc > 2) return flock_cli__usage(err, errsize, "unexpected argument \"%s\"", argv[2]);
        return 0;
    }
    for (int k = FLOCK_CLI_FIRST_CMD; k <= FLOCK_CLI_LAST_CMD; k++)
        if (strcmp(c, flock_cli__cmd_name((flock_cli_cmd)k)) == 0) out->cmd = (flock_cli_cmd)k;
    if (out->cmd == FLOCK_CLI_NONE)
        return flock_cli__usage(err, errsize, "unknown command \"%s\" (expected show, watch, check, info, leave, force-leave, keygen or meta)", c);
    return 0;
}

/* Phase 2a: split argv[*i] into an option name (name, 64 bytes) and its
 * value (--name=value, or the next argument for options that take one;
 * *i then advances). Contract: -1 with the message in err. */
static int flock_cli__split_option(int argc, char* const argv[], int* i, char* name,
                                   const char** value, char* err, size_t errsize)
{
    const char* a = argv[*i];
    *value        = NULL;
    /* --name=value */
    if (strncmp(a, "--", 2) == 0 && strchr(a, '=')) {
        size_t n = (size_t)(strchr(a, '=') - a);
        if (n >= 64) return flock_cli__usage(err, errsize, "unknown option \"%s\"", a);
        memcpy(name, a, n);
        name[n] = 0;
        *value  = a + n + 1;
    } else {
        snprintf(name, 64, "%s", a);
    }
    bool takes_value = false;
    static const char* const valued[] = {"-a", "--address", "-p", "--provider-id", "-i", "-k", "--key-file",
                                         "--interval", "-n", "--count", "--duration", "-t",
                                         "--timeout", "--protocol", "-v", "--verbose", NULL};
    for (size_t k = 0; valued[k]; k++)
        if (strcmp(name, valued[k]) == 0) takes_value = true;
    if (takes_value && !*value) {
        if (*i + 1 >= argc) return flock_cli__usage(err, errsize, "option %s needs a value", name);
        *value = argv[++*i];
    } else if (!takes_value && *value) {
        return flock_cli__usage(err, errsize, "option %s does not take a value", name);
    }
    return 0;
}

/* Phase 2b: apply one option (name, value) or the positional argument a
 * (the group file) to out. Contract: *done is set by -h/--help; -1 with
 * the message in err. */
static int flock_cli__apply_option(flock_cli_args* out, const char* cmd, const char* a,
                                   const char* name, const char* value, bool* done,
                                   char* err, size_t errsize)
{
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        out->help_for = out->cmd;
        out->cmd      = FLOCK_CLI_HELP;
        *done         = true;
    } else if (strcmp(name, "-a") == 0 || strcmp(name, "--address") == 0) {
        if (!value[0]) return flock_cli__usage(err, errsize, "--address: empty address");
        out->address = value;
    } else if (strcmp(name, "-p") == 0 || strcmp(name, "--provider-id") == 0) {
        long v = 0;
        if (!flock_cli__parse_long(value, 0, UINT16_MAX, &v))
            return flock_cli__usage(err, errsize,
                                    "--provider-id: expected an integer between 0 and 65535, got \"%s\"",
                                    value);
        out->provider_id = (int)v;
    } else if (strcmp(name, "-k") == 0 || strcmp(name, "--key-file") == 0) {
        if (!value[0]) return flock_cli__usage(err, errsize, "--key-file: empty path");
        out->key_file = value;
    } else if (strcmp(name, "--json") == 0) {
        out->json = true;
    } else if (strcmp(name, "--all") == 0 && out->cmd == FLOCK_CLI_SHOW) {
        out->all = true;
    } else if ((strcmp(name, "-i") == 0 || strcmp(name, "--interval") == 0)
               && out->cmd == FLOCK_CLI_WATCH) {
        if (!flock_cli__parse_double(value, 1, 3600e3, &out->interval_ms))
            return flock_cli__usage(err, errsize,
                                    "--interval: expected milliseconds between 1 and 3600000, got \"%s\"",
                                    value);
    } else if ((strcmp(name, "-n") == 0 || strcmp(name, "--count") == 0)
               && out->cmd == FLOCK_CLI_WATCH) {
        if (!flock_cli__parse_long(value, 1, 1000000000L, &out->count))
            return flock_cli__usage(err, errsize, "--count: expected a positive integer, got \"%s\"", value);
    } else if (strcmp(name, "--duration") == 0 && out->cmd == FLOCK_CLI_WATCH) {
        if (!flock_cli__parse_double(value, 0.001, 1e9, &out->duration_s))
            return flock_cli__usage(err, errsize, "--duration: expected a positive number of seconds, got \"%s\"",
                                    value);
    } else if (strcmp(name, "-t") == 0 || strcmp(name, "--timeout") == 0) {
        if (!flock_cli__parse_double(value, 1, 3600e3, &out->timeout_ms))
            return flock_cli__usage(err, errsize,
                                    "--timeout: expected milliseconds between 1 and 3600000, got \"%s\"",
                                    value);
    } else if (strcmp(name, "--protocol") == 0) {
        if (!value[0]) return flock_cli__usage(err, errsize, "--protocol: empty protocol");
        out->protocol = value;
    } else if (strcmp(name, "-v") == 0 || strcmp(name, "--verbose") == 0) {
        out->log_level = flock_cli__log_level(value);
        if (out->log_level < 0)
            return flock_cli__usage(err, errsize,
                                    "--verbose: unknown level \"%s\" (trace, debug, info, warning, error, critical)",
                                    value);
    } else if (a[0] == '-' && a[1] != 0) {
        return flock_cli__usage(err, errsize, "unknown option \"%s\" for \"flockctl %s\"", name, cmd);
    } else {
        if (out->npos >= (int)(sizeof out->pos / sizeof out->pos[0]))
            return flock_cli__usage(err, errsize, "unexpected argument \"%s\"", a);
        out->pos[out->npos++] = a;
    }
    return 0;
}

/* Phase 3a: the positional arguments of each command: [groupfile] first
 * (unless --address), then the command's own (keygen FILE; meta
 * get|set|unset ... KEY [VALUE]; force-leave ... MEMBER [PROVIDER_ID]).
 * Contract: -1 with the message in err. */
static int flock_cli__positionals(flock_cli_args* out, char* err, size_t errsize)
{
    int i = 0;
    if (out->cmd == FLOCK_CLI_KEYGEN) {
        if (out->npos != 1) return flock_cli__usage(err, errsize, "keygen needs exactly one FILE");
        out->keygen_file = out->pos[0];
        return 0;
    }
    if (out->cmd == FLOCK_CLI_META) {
        if (out->npos < 1)
            return flock_cli__usage(err, errsize, "meta needs get, set or unset");
        const char* op = out->pos[i++];
        if (strcmp(op, "get") == 0) out->meta_op = FLOCK_CLI_META_GET;
        else if (strcmp(op, "set") == 0) out->meta_op = FLOCK_CLI_META_SET;
        else if (strcmp(op, "unset") == 0) out->meta_op = FLOCK_CLI_META_UNSET;
        else return flock_cli__usage(err, errsize, "meta: expected get, set or unset, got \"%s\"", op);
    }
    if (!out->address && i < out->npos) out->group_file = out->pos[i++];
    if (out->address && out->npos > i && out->cmd != FLOCK_CLI_META && out->cmd != FLOCK_CLI_FORCE_LEAVE)
        return flock_cli__usage(err, errsize, "give either a group file or --address, not both");
    if (out->cmd == FLOCK_CLI_META) {
        int need = out->meta_op == FLOCK_CLI_META_SET ? 2 : 1;
        if (out->npos - i != need)
            return flock_cli__usage(err, errsize, "meta %s: expected [groupfile] KEY%s",
                                    out->pos[0], need == 2 ? " VALUE" : "");
        out->meta_key   = out->pos[i++];
        out->meta_value = need == 2 ? out->pos[i++] : NULL;
        if (!out->meta_key[0]) return flock_cli__usage(err, errsize, "meta: empty KEY");
    } else if (out->cmd == FLOCK_CLI_FORCE_LEAVE) {
        if (i >= out->npos)
            return flock_cli__usage(err, errsize,
                                    "force-leave: missing the MEMBER address to remove");
        out->member = out->pos[i++];
        if (i < out->npos) {
            long v = 0;
            if (!flock_cli__parse_long(out->pos[i], 0, UINT16_MAX, &v))
                return flock_cli__usage(err, errsize,
                                        "force-leave: expected the member's provider id (0..65535), got \"%s\"",
                                        out->pos[i]);
            out->member_pid = (int)v;
            i++;
        }
    }
    if (i < out->npos)
        return flock_cli__usage(err, errsize, "unexpected argument \"%s\"%s", out->pos[i],
                                out->group_file ? " (one group file only)" : "");
    return 0;
}

/* Phase 3b: exactly one target, a group file or --address with
 * --provider-id. Contract: -1 with the message in err. */
static int flock_cli__check_target(const flock_cli_args* out, char* err, size_t errsize)
{
    if (out->cmd == FLOCK_CLI_KEYGEN) {
        if (out->address || out->provider_id >= 0)
            return flock_cli__usage(err, errsize, "keygen takes no --address / --provider-id");
        return 0;
    }
    if (out->group_file && out->address)
        return flock_cli__usage(err, errsize, "give either a group file or --address, not both");
    if (out->cmd == FLOCK_CLI_LEAVE && !out->address)
        return flock_cli__usage(err, errsize,
                                "leave needs the member itself: --address ADDR --provider-id N");
    if (!out->group_file && !out->address) {
        if (out->provider_id >= 0)
            return flock_cli__usage(err, errsize, "--provider-id needs --address");
        return flock_cli__usage(err, errsize, "missing target: a group file, or --address ADDR --provider-id N");
    }
    if (out->address && out->provider_id < 0)
        return flock_cli__usage(err, errsize, "--address needs --provider-id");
    if (out->group_file && out->provider_id >= 0)
        return flock_cli__usage(err, errsize, "--provider-id needs --address (not a group file)");
    return 0;
}

int flock_cli__parse_args(int argc, char* const argv[], flock_cli_args* out, char* err,
                          size_t errsize)
{
    bool done = false;
    memset(out, 0, sizeof *out);
    out->provider_id = -1;
    out->member_pid  = -1;
    out->interval_ms = FLOCK_CLI_DEFAULT_INTERVAL_MS;
    out->timeout_ms  = FLOCK_CLI_DEFAULT_TIMEOUT_MS;
    if (err && errsize) err[0] = 0;

    if (flock_cli__parse_command(argc, argv, out, &done, err, errsize) != 0) return -1;
    if (done) return 0;
    for (int i = 2; i < argc; i++) {
        const char* a     = argv[i];
        const char* value = NULL;
        char        name[64];
        if (flock_cli__split_option(argc, argv, &i, name, &value, err, errsize) != 0
            || flock_cli__apply_option(out, argv[1], a, name, value, &done, err, errsize) != 0)
            return -1;
        if (done) return 0;
    }
    if (flock_cli__positionals(out, err, errsize) != 0) return -1;
    return flock_cli__check_target(out, err, errsize);
}
