/*
 * view.c -- JSON form of a group view (FLOCK-SPEC 5.4/5.5): serialize,
 * atomic write to a file, parse from a string or a file.
 *
 * Parsing validates the whole document into a private view first; the
 * caller's view is only replaced once everything succeeded.
 */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "flock/backend-util.h"
#include "flock/view-codec.h"
#include "flock/provider-internal.h"
#include <flock/flock-group-view.h>

#define FLOCK__MAX_VIEW_FILE_SIZE ((size_t)256 << 20)

#define VIEW_ERROR(...) margo_error(MARGO_INSTANCE_NULL, "[flock] " __VA_ARGS__)

char* flock__view_to_json(const flock_group_view_t* v)
{
    char*               text     = NULL;
    struct json_object* root     = json_object_new_object();
    struct json_object* members  = json_object_new_array();
    struct json_object* metadata = json_object_new_object();
    if (!root || !members || !metadata) goto finish;
    for (uint64_t i = 0; i < v->members.size; i++) {
        struct json_object* m    = json_object_new_object();
        struct json_object* addr = json_object_new_string(v->members.data[i].address);
        struct json_object* pid  = json_object_new_int(v->members.data[i].provider_id);
        if (!m || !addr || !pid || json_object_object_add(m, "address", addr) != 0) {
            json_object_put(m);
            json_object_put(addr);
            json_object_put(pid);
            goto finish;
        }
        if (json_object_object_add(m, "provider_id", pid) != 0) {
            json_object_put(m);
            json_object_put(pid);
            goto finish;
        }
        if (json_object_array_add(members, m) != 0) {
            json_object_put(m);
            goto finish;
        }
    }
    for (uint64_t i = 0; i < v->metadata.size; i++) {
        struct json_object* val = json_object_new_string(v->metadata.data[i].value);
        if (!val || json_object_object_add(metadata, v->metadata.data[i].key, val) != 0) {
            json_object_put(val);
            goto finish;
        }
    }
    if (json_object_object_add(root, "members", members) != 0) goto finish;
    members = NULL;
    if (json_object_object_add(root, "metadata", metadata) != 0) goto finish;
    metadata = NULL;
    text     = flock__json_to_string(root);
finish:
    json_object_put(members);
    json_object_put(metadata);
    json_object_put(root);
    return text;
}

flock_return_t flock_group_view_serialize(const flock_group_view_t* view,
                                          void (*serializer)(void*, const char*, size_t),
                                          void* context)
{
    if (!view || !serializer) return FLOCK_ERR_INVALID_ARGS;
    char* text = flock__view_to_json(view);
    if (!text) return FLOCK_ERR_ALLOCATION;
    serializer(context, text, strlen(text));
    free(text);
    return FLOCK_SUCCESS;
}

static bool write_all(int fd, const char* p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Best effort: make the rename itself durable. */
static void sync_parent_dir(const char* filename)
{
    const char* slash = strrchr(filename, '/');
    char*       dir   = NULL;
    if (!slash)
        dir = strdup(".");
    else if (slash == filename)
        dir = strdup("/");
    else
        dir = strndup(filename, (size_t)(slash - filename));
    if (!dir) return;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
}

/* This host's name for temporary file names ("localhost" if unknown). */
static void host_name(char* buf, size_t n)
{
    if (gethostname(buf, n) != 0 || !buf[0]) snprintf(buf, n, "localhost");
    buf[n - 1] = '\0';
    for (char* c = buf; *c; c++)
        if (*c == '/') *c = '_';
}

/*
 * Remove the temporary files that writers on this host left behind when
 * they died between creating and renaming them: "<file>.swp.<host>.<pid>.XXXXXX"
 * whose <host> is ours and whose <pid> no longer exists. Files of other
 * hosts (a shared filesystem) and of live processes are never touched.
 * Best effort: errors are ignored.
 */
static void sweep_stale_temps(const char* filename, const char* host)
{
    const char* slash = strrchr(filename, '/');
    const char* base  = slash ? slash + 1 : filename;
    char*       dir   = slash ? (slash == filename ? strdup("/")
                                                   : strndup(filename, (size_t)(slash - filename)))
                              : strdup(".");
    char*       prefix = NULL;
    DIR*        d      = NULL;
    if (!dir) return;
    size_t plen = strlen(base) + strlen(host) + sizeof(".swp..");
    prefix      = (char*)malloc(plen);
    if (!prefix) goto finish;
    snprintf(prefix, plen, "%s.swp.%s.", base, host);
    plen = strlen(prefix);
    d    = opendir(dir);
    if (!d) goto finish;
    for (struct dirent* e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, prefix, plen) != 0) continue;
        const char* p   = e->d_name + plen;
        char*       end = NULL;
        long        pid = strtol(p, &end, 10);
        /* "<pid>.XXXXXX" exactly */
        if (end == p || pid <= 0 || pid == (long)getpid() || *end != '.' || strlen(end) != 7)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        (void)unlinkat(dirfd(d), e->d_name, 0);
    }
finish:
    if (d) closedir(d);
    free(prefix);
    free(dir);
}

flock_return_t flock__write_file_atomic(const char* filename, const char* text)
{
    char host[128];
    flock_return_t ret = FLOCK_SUCCESS;
    char*          tmp = NULL;
    int            fd  = -1;

    if (!filename || !filename[0] || !text) return FLOCK_ERR_INVALID_ARGS;
    /* A unique temporary name next to the file (same filesystem, so the
     * rename is atomic; unique, so concurrent writers cannot mix), naming
     * its writer so that a later write can remove it if the writer died. */
    host_name(host, sizeof host);
    size_t n = strlen(filename) + strlen(host) + sizeof(".swp...XXXXXX") + 24;
    tmp      = (char*)malloc(n);
    if (!tmp) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    snprintf(tmp, n, "%s.swp.%s.%ld.XXXXXX", filename, host, (long)getpid());
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        VIEW_ERROR("cannot create a temporary file for \"%s\": %s", filename, strerror(errno));
        free(tmp);
        tmp = NULL;
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    (void)fchmod(fd, 0644);
    if (!write_all(fd, text, strlen(text))) {
        VIEW_ERROR("cannot write \"%s\": %s", tmp, strerror(errno));
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
    if (fsync(fd) != 0) {
        VIEW_ERROR("cannot fsync \"%s\": %s", tmp, strerror(errno));
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
    int cfd = fd;
    fd      = -1;
    if (close(cfd) != 0) {
        VIEW_ERROR("cannot close \"%s\": %s", tmp, strerror(errno));
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
    if (rename(tmp, filename) != 0) {
        VIEW_ERROR("cannot rename \"%s\" to \"%s\": %s", tmp, filename, strerror(errno));
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
    free(tmp);
    tmp = NULL;
    sync_parent_dir(filename);
    sweep_stale_temps(filename, host);
finish:
    if (fd >= 0) close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    return ret;
}

flock_return_t flock_group_view_serialize_to_file(const flock_group_view_t* view,
                                                  const char* filename)
{
    if (!view || !filename || !filename[0]) return FLOCK_ERR_INVALID_ARGS;
    char* text = flock__view_to_json(view);
    if (!text) return FLOCK_ERR_ALLOCATION;
    flock_return_t ret = flock__write_file_atomic(filename, text);
    free(text);
    return ret;
}

/* Validate one member object and add it to v. */
static flock_return_t parse_member(struct json_object* m, size_t i, flock_group_view_t* v)
{
    struct json_object *addr = NULL, *pid = NULL;
    if (!json_object_is_type(m, json_type_object)) {
        VIEW_ERROR("view: members[%zu] is not an object", i);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (!json_object_object_get_ex(m, "address", &addr)
        || !json_object_is_type(addr, json_type_string)) {
        VIEW_ERROR("view: members[%zu].address is missing or not a string", i);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    size_t alen = (size_t)json_object_get_string_len(addr);
    const char* a = json_object_get_string(addr);
    if (alen == 0 || alen > FRT_MAX_ADDR_LEN || strlen(a) != alen) {
        VIEW_ERROR("view: members[%zu].address must have 1 to %u characters (no NUL)", i,
                   FRT_MAX_ADDR_LEN);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (!json_object_object_get_ex(m, "provider_id", &pid)
        || !json_object_is_type(pid, json_type_int)) {
        VIEW_ERROR("view: members[%zu].provider_id is missing or not an integer", i);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    errno       = 0;
    int64_t val = json_object_get_int64(pid);
    if (errno != 0 || val < 0 || val > UINT16_MAX) {
        VIEW_ERROR("view: members[%zu].provider_id must be in 0..65535", i);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (flock_group_view_find_member(v, a, (uint16_t)val)) {
        VIEW_ERROR("view: members[%zu] (%s, %d) is a duplicate", i, a, (int)val);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (!flock_group_view_add_member(v, a, (uint16_t)val)) return FLOCK_ERR_ALLOCATION;
    return FLOCK_SUCCESS;
}

static flock_return_t parse_view(struct json_object* root, flock_group_view_t* v)
{
    struct json_object *members = NULL, *metadata = NULL;
    if (!json_object_is_type(root, json_type_object)) {
        VIEW_ERROR("view: the top-level JSON value is not an object");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (!json_object_object_get_ex(root, "members", &members)
        || !json_object_is_type(members, json_type_array)) {
        VIEW_ERROR("view: \"members\" is missing or not an array");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    size_t n = json_object_array_length(members);
    if (n == 0) {
        VIEW_ERROR("view: \"members\" is empty");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (n > FLOCK__VIEW_MAX_MEMBERS) {
        VIEW_ERROR("view: too many members (%zu > %u)", n, FLOCK__VIEW_MAX_MEMBERS);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    for (size_t i = 0; i < n; i++) {
        flock_return_t r = parse_member(json_object_array_get_idx(members, i), i, v);
        if (r != FLOCK_SUCCESS) return r;
    }
    if (!json_object_object_get_ex(root, "metadata", &metadata)) return FLOCK_SUCCESS;
    if (!json_object_is_type(metadata, json_type_object)) {
        VIEW_ERROR("view: \"metadata\" is not an object");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if ((size_t)json_object_object_length(metadata) > FLOCK__VIEW_MAX_METADATA) {
        VIEW_ERROR("view: too many metadata entries");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    json_object_object_foreach(metadata, key, val)
    {
        if (!key[0] || strlen(key) > FLOCK__VIEW_MAX_KEY_LEN) {
            VIEW_ERROR("view: metadata key \"%.32s\" must have 1 to %u characters", key,
                       FLOCK__VIEW_MAX_KEY_LEN);
            return FLOCK_ERR_INVALID_CONFIG;
        }
        if (val == NULL) {
            VIEW_ERROR("view: metadata \"%s\" is null", key);
            return FLOCK_ERR_INVALID_CONFIG;
        }
        char*       owned = NULL;
        const char* text  = NULL;
        if (json_object_is_type(val, json_type_string)) {
            text = json_object_get_string(val);
            if (strlen(text) != (size_t)json_object_get_string_len(val)) {
                VIEW_ERROR("view: metadata \"%s\" contains a NUL character", key);
                return FLOCK_ERR_INVALID_CONFIG;
            }
        } else {
            text = owned = flock__json_to_string(val); /* e.g. 42 -> "42" */
            if (!owned) return FLOCK_ERR_ALLOCATION;
        }
        if (strlen(text) > FLOCK__VIEW_MAX_VALUE_LEN) {
            VIEW_ERROR("view: metadata \"%s\" is too long", key);
            free(owned);
            return FLOCK_ERR_INVALID_CONFIG;
        }
        bool ok = flock_group_view_add_metadata(v, key, text) != NULL;
        free(owned);
        if (!ok) return FLOCK_ERR_ALLOCATION;
    }
    return FLOCK_SUCCESS;
}

flock_return_t flock_group_view_from_string(const char* str, size_t len,
                                            flock_group_view_t* view)
{
    flock_return_t      ret  = FLOCK_SUCCESS;
    struct json_tokener* tok = NULL;
    struct json_object* root = NULL;
    flock_group_view_t  tmp  = FLOCK_GROUP_VIEW_INITIALIZER;

    if (!str || !view) return FLOCK_ERR_INVALID_ARGS;
    /* Trailing NULs / whitespace (e.g. a length that counts the NUL) are fine. */
    while (len > 0 && (str[len - 1] == '\0' || str[len - 1] == ' ' || str[len - 1] == '\n'
                       || str[len - 1] == '\t' || str[len - 1] == '\r'))
        len--;
    if (len == 0) {
        VIEW_ERROR("view: empty text");
        ret = FLOCK_ERR_INVALID_CONFIG;
        goto finish;
    }
    if (len > (size_t)INT32_MAX || memchr(str, '\0', len)) {
        VIEW_ERROR("view: text too long or containing a NUL byte");
        ret = FLOCK_ERR_INVALID_CONFIG;
        goto finish;
    }
    tok = json_tokener_new();
    if (!tok) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    root                    = json_tokener_parse_ex(tok, str, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr != json_tokener_success || !root) {
        VIEW_ERROR("view: JSON syntax error at offset %zu: %s",
                   (size_t)json_tokener_get_parse_end(tok),
                   jerr == json_tokener_continue ? "unexpected end of text"
                                                 : json_tokener_error_desc(jerr));
        ret = FLOCK_ERR_INVALID_CONFIG;
        goto finish;
    }
    if (json_tokener_get_parse_end(tok) < len) {
        VIEW_ERROR("view: unexpected text after the JSON value (offset %zu)",
                   (size_t)json_tokener_get_parse_end(tok));
        ret = FLOCK_ERR_INVALID_CONFIG;
        goto finish;
    }
    ret = parse_view(root, &tmp);
    if (ret != FLOCK_SUCCESS) goto finish;
    /* Fully valid: replace the caller's content. */
    flock_group_view_clear(view);
    FLOCK_GROUP_VIEW_MOVE(&tmp, view);
finish:
    flock_group_view_clear(&tmp);
    json_object_put(root);
    if (tok) json_tokener_free(tok);
    return ret;
}

flock_return_t flock_group_view_from_file(const char* filename, flock_group_view_t* view)
{
    flock_return_t ret  = FLOCK_SUCCESS;
    FILE*          f    = NULL;
    char*          buf  = NULL;
    size_t         len  = 0, cap = 0;

    if (!filename || !view) return FLOCK_ERR_INVALID_ARGS;
    f = fopen(filename, "rb");
    if (!f) {
        VIEW_ERROR("cannot open view file \"%s\": %s", filename, strerror(errno));
        ret = FLOCK_ERR_INVALID_ARGS;
        goto finish;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= FLOCK__MAX_VIEW_FILE_SIZE) {
                VIEW_ERROR("view file \"%s\" is too large", filename);
                ret = FLOCK_ERR_INVALID_CONFIG;
                goto finish;
            }
            size_t ncap = cap ? cap * 2 : 4096;
            char*  nbuf = (char*)realloc(buf, ncap);
            if (!nbuf) {
                ret = FLOCK_ERR_ALLOCATION;
                goto finish;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                VIEW_ERROR("cannot read view file \"%s\": %s", filename, strerror(errno));
                ret = FLOCK_ERR_INVALID_ARGS;
                goto finish;
            }
            break;
        }
    }
    ret = flock_group_view_from_string(buf ? buf : "", len, view);
    if (ret == FLOCK_ERR_INVALID_CONFIG)
        VIEW_ERROR("view file \"%s\" is not a valid group view", filename);
finish:
    if (f) fclose(f);
    free(buf);
    return ret;
}
