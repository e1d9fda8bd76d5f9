/*
 * flockd-config.c -- validation of flockd's Bedrock-format configuration:
 * the public API of flockd-config.h. Reads the file, tokenizes the JSON,
 * validates the top level ("libraries", "margo", the other Bedrock
 * sections, "providers") and frees what it built.
 * See flockd-config.h for the accepted document and the error convention.
 *
 * Owns: the flockd_parse of a parse, the JSON tree, the providers array.
 * May call: flockd-config-provider.c (one provider entry), the helpers of
 * flockd-config-json.c, json-c, libc.
 */
#include "flockd-config-internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static const char* const flockd__bootstrap_names[FLOCKD_BOOTSTRAP_COUNT] = {
    "self", "join", "mpi", "file", "view"};

const char* flockd__bootstrap_name(flockd_bootstrap b)
{
    if ((int)b < 0 || b >= FLOCKD_BOOTSTRAP_COUNT) return "?";
    return flockd__bootstrap_names[b];
}

/* ------------------------------------------------------------------ */
/* libraries, margo                                                    */
/* ------------------------------------------------------------------ */

static int flockd__check_library(flockd_parse* ps, const char* path, struct json_object* o)
{
    const char* lib = NULL;
    if (flockd__get_string(ps, path, o, true, &lib) != 0) return -1;
    if (!strstr(lib, "flock-bedrock-module"))
        return flockd__fail(ps, path,
                            "unknown library \"%s\" (flockd only provides the Flock module, "
                            "\"libflock-bedrock-module.so\")",
                            lib);
    return 0;
}

static int flockd__check_libraries(flockd_parse* ps, struct json_object* libs)
{
    char path[FLOCKD_PATH_LEN];
    if (json_object_is_type(libs, json_type_array)) {
        size_t n = json_object_array_length(libs);
        for (size_t i = 0; i < n; i++) {
            flockd__path_idx(path, "libraries", i);
            if (flockd__check_library(ps, path, json_object_array_get_idx(libs, i)) != 0)
                return -1;
        }
        return 0;
    }
    if (json_object_is_type(libs, json_type_object)) {
        json_object_object_foreach(libs, key, val)
        {
            flockd__path_key(path, "libraries", key);
            if (flockd__check_library(ps, path, val) != 0) return -1;
        }
        return 0;
    }
    return flockd__fail(ps, "libraries", "expected an array of library names, got %s",
                        flockd__type_name(libs));
}

/* Contract: validates the shape of "margo" that flockd reads (pool names)
 * and records the pool names (borrowed from the tree) in ps->pools. */
static int flockd__check_margo(flockd_parse* ps, struct json_object* margo)
{
    struct json_object *abt = NULL, *pools = NULL;
    char                path[FLOCKD_PATH_LEN];
    if (!json_object_is_type(margo, json_type_object))
        return flockd__fail(ps, "margo", "expected an object, got %s", flockd__type_name(margo));
    if (json_object_object_length(margo) > 0)
        flockd__warn(ps, "margo",
                     "Margo/Argobots settings are not used by flockd (the runtime sizes its own "
                     "threads); only pool names are read");
    if (!json_object_object_get_ex(margo, "argobots", &abt)) return 0;
    if (!json_object_is_type(abt, json_type_object))
        return flockd__fail(ps, "margo.argobots", "expected an object, got %s",
                            flockd__type_name(abt));
    if (!json_object_object_get_ex(abt, "pools", &pools)) return 0;
    if (!json_object_is_type(pools, json_type_array))
        return flockd__fail(ps, "margo.argobots.pools", "expected an array, got %s",
                            flockd__type_name(pools));
    size_t n = json_object_array_length(pools);
    if (n > 0) {
        ps->pools = calloc(n, sizeof *ps->pools);
        if (!ps->pools) return flockd__fail(ps, "margo.argobots.pools", "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *pool = json_object_array_get_idx(pools, i), *name = NULL;
        char                ppath[FLOCKD_PATH_LEN];
        flockd__path_idx(ppath, "margo.argobots.pools", i);
        if (!json_object_is_type(pool, json_type_object))
            return flockd__fail(ps, ppath, "expected an object, got %s", flockd__type_name(pool));
        flockd__path_key(path, ppath, "name");
        if (!json_object_object_get_ex(pool, "name", &name))
            return flockd__fail(ps, path, "missing (every pool needs a name)");
        if (flockd__get_string(ps, path, name, true, &ps->pools[ps->num_pools]) != 0) return -1;
        ps->num_pools++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* top level                                                           */
/* ------------------------------------------------------------------ */

static int flockd__parse_root(flockd_parse* ps, struct json_object* root)
{
    struct json_object *libs = NULL, *margo = NULL, *providers = NULL;
    if (!json_object_is_type(root, json_type_object))
        return flockd__fail(ps, "(top level)", "expected an object, got %s", flockd__type_name(root));
    json_object_object_foreach(root, key, val)
    {
        static const char* const known[] = {"libraries", "margo", "bedrock", "providers", NULL};
        /* other Bedrock sections: fine when empty (generated configs list them) */
        static const char* const bedrock[] = {"clients", "ssg", "abt_io", "mona", NULL};
        if (flockd__in_list(key, known)) continue;
        bool empty = (json_object_is_type(val, json_type_array) && json_object_array_length(val) == 0)
                  || (json_object_is_type(val, json_type_object) && json_object_object_length(val) == 0);
        if (flockd__in_list(key, bedrock) && empty) {
            flockd__warn(ps, key, "empty Bedrock section, ignored");
            continue;
        }
        return flockd__fail(ps, key,
                            "not supported by flockd (expected \"libraries\", \"margo\", "
                            "\"bedrock\" or \"providers\"; other Bedrock sections only if empty)");
    }
    if (json_object_object_get_ex(root, "libraries", &libs) && flockd__check_libraries(ps, libs) != 0)
        return -1;
    if (json_object_object_get_ex(root, "margo", &margo) && flockd__check_margo(ps, margo) != 0)
        return -1;
    if (!json_object_object_get_ex(root, "providers", &providers))
        return flockd__fail(ps, "providers", "missing (expected an array of flock providers)");
    if (!json_object_is_type(providers, json_type_array))
        return flockd__fail(ps, "providers", "expected an array of providers, got %s",
                            flockd__type_name(providers));
    size_t n = json_object_array_length(providers);
    if (n == 0) return flockd__fail(ps, "providers", "expected at least one provider");
    if (n > FLOCKD_MAX_PROVIDERS)
        return flockd__fail(ps, "providers", "more than %d providers", FLOCKD_MAX_PROVIDERS);
    ps->cfg->providers = calloc(n, sizeof *ps->cfg->providers);
    if (!ps->cfg->providers) return flockd__fail(ps, "providers", "out of memory");
    ps->cfg->num_providers = n;
    for (size_t i = 0; i < n; i++)
        if (flockd__parse_provider(ps, i, json_object_array_get_idx(providers, i)) != 0) return -1;
    return 0;
}

/* Contract: 1-based line and column of byte offset off in text. */
static void flockd__line_col(const char* text, size_t len, size_t off, size_t* line, size_t* col)
{
    *line = 1;
    *col  = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Contract: checks the text (size, no NUL byte) and parses it as one strict
 * JSON document followed by nothing but white space. @return the document
 * (the caller puts it), or NULL with the error set, naming the line and
 * column. */
static struct json_object* flockd__parse_json(flockd_parse* ps, const char* text, size_t len)
{
    struct json_tokener* tok  = NULL;
    struct json_object*  root = NULL;
    char*                copy = NULL;
    bool                 ok   = false;

    if (!text) {
        flockd__fail(ps, "(config)", "no text");
        goto finish;
    }
    if (len > FLOCKD_MAX_CONFIG_SIZE || len > INT_MAX) {
        flockd__fail(ps, "(config)", "larger than %u bytes", FLOCKD_MAX_CONFIG_SIZE);
        goto finish;
    }
    if (memchr(text, 0, len)) {
        flockd__fail(ps, "(config)", "invalid JSON: contains a NUL byte");
        goto finish;
    }
    tok = json_tokener_new();
    if (!tok) {
        flockd__fail(ps, "(config)", "out of memory");
        goto finish;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* parse a NUL-terminated copy, NUL included, so that a document ending
     * in a number ("42") is complete rather than "to be continued" */
    copy = malloc(len + 1);
    if (!copy) {
        flockd__fail(ps, "(config)", "out of memory");
        goto finish;
    }
    memcpy(copy, text, len);
    copy[len] = 0;
    root                      = json_tokener_parse_ex(tok, copy, (int)len + 1);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t                  end = json_tokener_get_parse_end(tok);
    if (e == json_tokener_continue) {
        /* the text ended inside a value (e.g. an unclosed object) */
        size_t line, col;
        flockd__line_col(text, len, len, &line, &col);
        flockd__fail(ps, "(config)", "invalid JSON at line %zu, column %zu: unexpected end of input",
                     line, col);
        goto finish;
    }
    if (e != json_tokener_success || !root) {
        size_t line, col;
        flockd__line_col(text, len, end, &line, &col);
        flockd__fail(ps, "(config)", "invalid JSON at line %zu, column %zu: %s", line, col,
                     e != json_tokener_success ? json_tokener_error_desc(e) : "empty document");
        goto finish;
    }
    for (size_t i = end; i < len; i++) {
        if (!isspace((unsigned char)text[i])) {
            size_t line, col;
            flockd__line_col(text, len, i, &line, &col);
            flockd__fail(ps, "(config)",
                         "invalid JSON at line %zu, column %zu: unexpected text after the document",
                         line, col);
            goto finish;
        }
    }
    ok = true;

finish:
    if (!ok && root) {
        json_object_put(root);
        root = NULL;
    }
    free(copy);
    if (tok) json_tokener_free(tok);
    return root;
}

int flockd__config_parse(const char* text, size_t len, const flockd_config_options* opts,
                         flockd_config* out, char* err, size_t errsize)
{
    static const flockd_config_options defaults = {false, NULL, NULL};
    struct json_object*  root = NULL;
    flockd_parse         ps   = {opts ? opts : &defaults, out, err, errsize, NULL, 0};
    int                  ret  = -1;

    memset(out, 0, sizeof *out);
    if (err && errsize) err[0] = 0;
    root = flockd__parse_json(&ps, text, len);
    if (root && flockd__parse_root(&ps, root) == 0) ret = 0;
    if (ret != 0) flockd__config_free(out);
    free(ps.pools);
    if (root) json_object_put(root);
    return ret;
}

/* Open path for reading without ever blocking (O_NONBLOCK: a FIFO or a
 * device at the path must not hang flockd) and refuse anything but a
 * regular file. @return the fd (blocking again), or -1 with err set. */
static int flockd__open_regular(const char* path, size_t* size, char* err, size_t errsize)
{
    struct stat st;
    int         fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (err && errsize) snprintf(err, errsize, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const char* what = S_ISFIFO(st.st_mode)   ? "a FIFO"
                           : S_ISDIR(st.st_mode)  ? "a directory"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "a device or special file";
        if (err && errsize) snprintf(err, errsize, "%s: not a regular file (%s)", path, what);
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > (uint64_t)FLOCKD_MAX_CONFIG_SIZE) {
        if (err && errsize)
            snprintf(err, errsize, "%s: larger than %u bytes", path, FLOCKD_MAX_CONFIG_SIZE);
        close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    return fd;
}

/* Read at most FLOCKD_MAX_CONFIG_SIZE bytes of fd (about size bytes: the
 * file may change meanwhile) into *buf (NUL added). @return 0, or -1 with
 * err set. */
static int flockd__read_all(int fd, const char* path, size_t size, char** buf, size_t* len,
                            char* err, size_t errsize)
{
    size_t cap = size + 1;
    char*  b   = malloc(cap + 1);
    *len       = 0;
    if (!b) {
        if (err && errsize) snprintf(err, errsize, "%s: out of memory", path);
        return -1;
    }
    for (;;) {
        if (*len == cap && cap <= (size_t)FLOCKD_MAX_CONFIG_SIZE) { /* it grew */
            size_t ncap = cap * 2 > (size_t)FLOCKD_MAX_CONFIG_SIZE + 1
                              ? (size_t)FLOCKD_MAX_CONFIG_SIZE + 1 : cap * 2;
            char*  nb   = realloc(b, ncap + 1);
            if (!nb) break; /* read what fits */
            b   = nb;
            cap = ncap;
        }
        if (*len == cap) break;
        ssize_t r = read(fd, b + *len, cap - *len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            if (err && errsize) snprintf(err, errsize, "%s: read error: %s", path, strerror(errno));
            free(b);
            return -1;
        }
        if (r == 0) break;
        *len += (size_t)r;
        if (*len > (size_t)FLOCKD_MAX_CONFIG_SIZE) {
            if (err && errsize)
                snprintf(err, errsize, "%s: larger than %u bytes", path, FLOCKD_MAX_CONFIG_SIZE);
            free(b);
            return -1;
        }
    }
    b[*len] = 0;
    *buf    = b;
    return 0;
}

int flockd__config_load(const char* path, const flockd_config_options* opts, flockd_config* out,
                        char* err, size_t errsize)
{
    int    fd  = -1;
    char*  buf = NULL;
    size_t len = 0, size = 0;
    int    ret = -1;

    memset(out, 0, sizeof *out);
    if (!path) {
        if (err && errsize) snprintf(err, errsize, "(config): no file given");
        goto finish;
    }
    fd = flockd__open_regular(path, &size, err, errsize);
    if (fd < 0 || flockd__read_all(fd, path, size, &buf, &len, err, errsize) != 0) goto finish;
    ret = flockd__config_parse(buf, len, opts, out, err, errsize);

finish:
    if (fd >= 0) close(fd);
    free(buf);
    return ret;
}

void flockd__config_free(flockd_config* cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->num_providers; i++) {
        flockd_provider_config* p = &cfg->providers[i];
        free(p->name);
        free(p->pool);
        free(p->file);
        free(p->mpi_ranks);
        free(p->view_json);
        free(p->backend);
        free(p->config_json);
    }
    free(cfg->providers);
    memset(cfg, 0, sizeof *cfg);
}

bool flockd__config_has_bootstrap(const flockd_provider_config* p, flockd_bootstrap method)
{
    for (size_t i = 0; i < p->num_bootstrap; i++)
        if (p->bootstrap[i] == method) return true;
    return false;
}

int flockd__parse_log_level(const char* name)
{
    static const struct {
        const char* name;
        int         level;
    } levels[] = {{"trace", 1},   {"debug", 2}, {"info", 3},     {"warning", 4},
                  {"warn", 4},    {"error", 5}, {"critical", 6}, {NULL, 0}};
    if (!name) return -1;
    for (size_t i = 0; levels[i].name; i++)
        if (strcasecmp(name, levels[i].name) == 0) return levels[i].level;
    return -1;
}
