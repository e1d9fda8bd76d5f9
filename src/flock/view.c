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
#include "flock/view-file.h"
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

/* Contract: the mode a rewrite gives the file: that of the file it
 * replaces (an operator's chmod survives membership changes), else
 * new_mode. */
static mode_t file_mode_for(const char* filename, mode_t new_mode)
{
    struct stat st;
    if (stat(filename, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
    return new_mode;
}

flock_return_t flock__write_file_atomic(const char* filename, const char* text)
{
    return flock__write_file_atomic_mode(filename, text, 0644);
}

flock_return_t flock__write_file_atomic_mode(const char* filename, const char* text,
                                             mode_t new_mode)
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
    if (fchmod(fd, file_mode_for(filename, new_mode)) != 0) {
        VIEW_ERROR("cannot set the mode of \"%s\": %s", tmp, strerror(errno));
        ret = FLOCK_ERR_OTHER;
        goto finish;
    }
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

/* A member read from the file, with its index in "members" for messages. */
typedef struct {
    flock_member_t m;
    size_t         index;
} parsed_member;

static int parsed_member_cmp(const void* a, const void* b)
{
    const parsed_member* x = (const parsed_member*)a;
    const parsed_member* y = (const parsed_member*)b;
    int c = flock_member_cmp((flock_member_t*)&x->m, (flock_member_t*)&y->m);
    if (c != 0) return c;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* Validate one member object into *out (address copied). */
static flock_return_t parse_member(struct json_object* m, size_t i, parsed_member* out)
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
    out->m.address     = strdup(a);
    out->m.provider_id = (uint16_t)val;
    out->index         = i;
    return out->m.address ? FLOCK_SUCCESS : FLOCK_ERR_ALLOCATION;
}

/* Contract: rewrites each member address that names a peer into its
 * canonical text (frt_addr_canonical), so one endpoint has one name in a
 * view: "sm://" is "na+sm://", IPv6 hosts take their canonical form, and
 * the tcp family takes the scheme the group already uses -- that of its
 * first tcp or ofi+tcp member in file order -- so "tcp://X" and
 * "ofi+tcp://X" are one member (and a file listing both, a duplicate).
 * Other strings are left as written. pm is in file order. */
static flock_return_t canonicalize_members(parsed_member* pm, size_t n)
{
    char        buf[FRT_MAX_ADDR_LEN + 1];
    const char* scheme = NULL;
    for (size_t i = 0; i < n && !scheme; i++)
        if (frt_addr_canonical(pm[i].m.address, NULL, buf, sizeof buf) == HG_SUCCESS)
            scheme = strncmp(buf, "tcp://", 6) == 0       ? "tcp"
                     : strncmp(buf, "ofi+tcp://", 10) == 0 ? "ofi+tcp"
                                                           : NULL;
    for (size_t i = 0; i < n; i++) {
        if (frt_addr_canonical(pm[i].m.address, scheme, buf, sizeof buf) != HG_SUCCESS
            || strcmp(buf, pm[i].m.address) == 0)
            continue;
        char* a = strdup(buf);
        if (!a) return FLOCK_ERR_ALLOCATION;
        free(pm[i].m.address);
        pm[i].m.address = a;
    }
    return FLOCK_SUCCESS;
}

/* Contract: v is empty. Reads every member, sorts them once and refuses
 * duplicates: O(n log n) whatever the order of the file (inserting one by
 * one into the sorted array was quadratic for a file in descending order). */
static flock_return_t parse_members(struct json_object* members, size_t n,
                                    flock_group_view_t* v)
{
    flock_return_t ret = FLOCK_SUCCESS;
    size_t         got = 0;
    parsed_member* pm  = (parsed_member*)calloc(n, sizeof(*pm));
    flock_member_t* data = (flock_member_t*)calloc(n, sizeof(*data));
    if (!pm || !data) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    for (; got < n; got++) {
        ret = parse_member(json_object_array_get_idx(members, got), got, &pm[got]);
        if (ret != FLOCK_SUCCESS) goto finish;
    }
    ret = canonicalize_members(pm, n);
    if (ret != FLOCK_SUCCESS) goto finish;
    qsort(pm, n, sizeof(*pm), parsed_member_cmp);
    for (size_t i = 1; i < n; i++) {
        if (flock_member_cmp(&pm[i - 1].m, &pm[i].m) == 0) {
            VIEW_ERROR("view: members[%zu] (%s, %u) is a duplicate of members[%zu]",
                       pm[i].index, pm[i].m.address, (unsigned)pm[i].m.provider_id,
                       pm[i - 1].index);
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
    }
    for (size_t i = 0; i < n; i++) {
        data[i] = pm[i].m;
        v->digest ^= flock_hash_member(data[i].provider_id, data[i].address);
    }
    v->members.data     = data;
    v->members.size     = n;
    v->members.capacity = n;
    data                = NULL;
    got                 = 0; /* the addresses now belong to v */
finish:
    for (size_t i = 0; i < got; i++) free(pm[i].m.address);
    free(pm);
    free(data);
    return ret;
}

static int metadata_cmp(const void* a, const void* b)
{
    return strcmp(((const flock_metadata_t*)a)->key, ((const flock_metadata_t*)b)->key);
}

/* Contract: reads one metadata value as text (a non-string JSON value is
 * kept as its JSON text, e.g. 42 -> "42") into a new string in *out. */
static flock_return_t parse_metadata_value(const char* key, struct json_object* val, char** out)
{
    const char* text = NULL;
    *out             = NULL;
    if (val == NULL) {
        VIEW_ERROR("view: metadata \"%s\" is null", key);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (json_object_is_type(val, json_type_string)) {
        text = json_object_get_string(val);
        if (strlen(text) != (size_t)json_object_get_string_len(val)) {
            VIEW_ERROR("view: metadata \"%s\" contains a NUL character", key);
            return FLOCK_ERR_INVALID_CONFIG;
        }
        *out = strdup(text);
    } else {
        *out = flock__json_to_string(val);
    }
    if (!*out) return FLOCK_ERR_ALLOCATION;
    if (strlen(*out) > FLOCK__VIEW_MAX_VALUE_LEN) {
        VIEW_ERROR("view: metadata \"%s\" is too long", key);
        free(*out);
        *out = NULL;
        return FLOCK_ERR_INVALID_CONFIG;
    }
    return FLOCK_SUCCESS;
}

/* Contract: v has no metadata. Reads every entry, then sorts once (JSON
 * object keys are already unique): O(n log n) in any order. */
static flock_return_t parse_metadata(struct json_object* metadata, flock_group_view_t* v)
{
    flock_return_t    ret = FLOCK_SUCCESS;
    size_t            n   = (size_t)json_object_object_length(metadata), got = 0;
    flock_metadata_t* md  = NULL;
    if (n > FLOCK__VIEW_MAX_METADATA) {
        VIEW_ERROR("view: too many metadata entries (%zu > %u)", n, FLOCK__VIEW_MAX_METADATA);
        return FLOCK_ERR_INVALID_CONFIG;
    }
    if (n == 0) return FLOCK_SUCCESS;
    md = (flock_metadata_t*)calloc(n, sizeof(*md));
    if (!md) return FLOCK_ERR_ALLOCATION;
    json_object_object_foreach(metadata, key, val)
    {
        if (got == n) break;
        if (!key[0] || strlen(key) > FLOCK__VIEW_MAX_KEY_LEN) {
            VIEW_ERROR("view: metadata key \"%.32s\" must have 1 to %u characters", key,
                       FLOCK__VIEW_MAX_KEY_LEN);
            ret = FLOCK_ERR_INVALID_CONFIG;
            goto finish;
        }
        ret = parse_metadata_value(key, val, &md[got].value);
        if (ret != FLOCK_SUCCESS) goto finish;
        md[got].key = strdup(key);
        got++;
        if (!md[got - 1].key) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    qsort(md, got, sizeof(*md), metadata_cmp);
    for (size_t i = 0; i < got; i++) v->digest ^= flock_hash_metadata(md[i].key, md[i].value);
    v->metadata.data     = md;
    v->metadata.size     = got;
    v->metadata.capacity = n;
    md                   = NULL;
finish:
    if (md) {
        for (size_t i = 0; i < got; i++) {
            free(md[i].key);
            free(md[i].value);
        }
        free(md);
    }
    return ret;
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
    flock_return_t r = parse_members(members, n, v);
    if (r != FLOCK_SUCCESS) return r;
    if (!json_object_object_get_ex(root, "metadata", &metadata)) return FLOCK_SUCCESS;
    if (!json_object_is_type(metadata, json_type_object)) {
        VIEW_ERROR("view: \"metadata\" is not an object");
        return FLOCK_ERR_INVALID_CONFIG;
    }
    return parse_metadata(metadata, v);
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

/* Contract: reads the whole regular file at filename into a new buffer
 * (*buf, *len). The file is opened with O_NONBLOCK and refused unless it is
 * a regular file, so a FIFO, a socket or a device never blocks the reader.
 * Errors are logged with the file name: INVALID_ARGS for a file that cannot
 * be opened or read or is not a regular file, INVALID_CONFIG for one that is
 * too large. */
flock_return_t flock__read_regular_file(const char* filename, size_t max, char** buf,
                                        size_t* len)
{
    flock_return_t ret = FLOCK_SUCCESS;
    struct stat    st;
    char*          data = NULL;
    size_t         got  = 0;
    int            fd   = open(filename, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    *buf = NULL;
    *len = 0;
    if (fd < 0) {
        VIEW_ERROR("cannot open \"%s\": %s", filename, strerror(errno));
        return FLOCK_ERR_INVALID_ARGS;
    }
    if (fstat(fd, &st) != 0) {
        VIEW_ERROR("cannot stat \"%s\": %s", filename, strerror(errno));
        ret = FLOCK_ERR_INVALID_ARGS;
        goto finish;
    }
    if (!S_ISREG(st.st_mode)) {
        VIEW_ERROR("\"%s\" is not a regular file (%s)", filename,
                   S_ISFIFO(st.st_mode)   ? "a FIFO"
                   : S_ISDIR(st.st_mode)  ? "a directory"
                   : S_ISSOCK(st.st_mode) ? "a socket"
                   : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                  : "not a file");
        ret = FLOCK_ERR_INVALID_ARGS;
        goto finish;
    }
    if ((uint64_t)st.st_size > max) {
        VIEW_ERROR("\"%s\" is too large (%lld bytes, at most %zu)", filename,
                   (long long)st.st_size, max);
        ret = FLOCK_ERR_INVALID_CONFIG;
        goto finish;
    }
    data = (char*)malloc((size_t)st.st_size + 1);
    if (!data) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    while (got < (size_t)st.st_size) { /* a file that shrinks meanwhile ends early */
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            VIEW_ERROR("cannot read \"%s\": %s", filename, strerror(errno));
            ret = FLOCK_ERR_INVALID_ARGS;
            goto finish;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    data[got] = '\0';
    *buf      = data;
    *len      = got;
    data      = NULL;
finish:
    free(data);
    close(fd);
    return ret;
}

flock_return_t flock_group_view_from_file(const char* filename, flock_group_view_t* view)
{
    flock_return_t ret = FLOCK_SUCCESS;
    char*          buf = NULL;
    size_t         len = 0;

    if (!filename || !view) return FLOCK_ERR_INVALID_ARGS;
    ret = flock__read_regular_file(filename, FLOCK__MAX_VIEW_FILE_SIZE, &buf, &len);
    if (ret != FLOCK_SUCCESS) goto finish;
    ret = flock_group_view_from_string(buf, len, view);
    if (ret == FLOCK_ERR_INVALID_CONFIG)
        VIEW_ERROR("view file \"%s\" is not a valid group view", filename);
finish:
    free(buf);
    return ret;
}
