/*
 * backend-util.c -- helpers shared by the provider and the built-in
 * backends (see backend-util.h).
 */
#include "flock/backend-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

char* flock__json_to_string(const struct json_object* obj)
{
    /* json_object_to_json_string_ext does not modify the object's value but
     * caches the text inside it, hence the non-const API. */
    const char* s = json_object_to_json_string_ext((struct json_object*)obj, FLOCK__JSON_FLAGS);
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char*  d = (char*)malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

flock_return_t flock__view_set_reserved_metadata(flock_group_view_t* v, const char* type,
                                                 const struct json_object* config)
{
    flock_return_t ret  = FLOCK_SUCCESS;
    char*          text = NULL;

    if (!v || !type) return FLOCK_ERR_INVALID_ARGS;
    if (config) {
        text = flock__json_to_string(config);
        if (!text) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    if (!flock_group_view_add_metadata(v, "__config__", text ? text : "{}")
        || !flock_group_view_add_metadata(v, "__type__", type))
        ret = FLOCK_ERR_ALLOCATION;
finish:
    free(text);
    return ret;
}

void flock__notify_member(const flock_backend_init_args_t* args, flock_update_t update,
                          const char* address, uint16_t provider_id)
{
    if (args && args->member_update_callback)
        args->member_update_callback(args->callback_context, update, address, provider_id);
}

void flock__notify_metadata(const flock_backend_init_args_t* args, const char* key,
                            const char* value)
{
    if (args && args->metadata_update_callback)
        args->metadata_update_callback(args->callback_context, key, value);
}

/* splitmix64 finalizer: spreads the bits of a hash. Not frt_hash_str's
 * (fmix64) on purpose: every member of a group derives the same group id
 * from the members with this one, across versions, so it never changes. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t flock__group_id_new(const flock_group_view_t* v, const char* type)
{
    uint64_t id = 0;
    if (v->members.size <= 1) {
        if (getrandom(&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            id = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16)
               ^ (uint64_t)(uintptr_t)v;
        }
    } else {
        id = flock_djb2_hash(type ? type : "");
        for (uint64_t i = 0; i < v->members.size; i++) /* sorted: the same order everywhere */
            id = mix64(id ^ flock_hash_member(v->members.data[i].provider_id,
                                              v->members.data[i].address));
    }
    id = mix64(id);
    return id ? id : 1;
}

bool flock__group_id_parse(const char* text, uint64_t* id)
{
    uint64_t v = 0;
    size_t   n = 0;
    if (!text) return false;
    for (; text[n]; n++) {
        char c = text[n];
        int  d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0 || n >= 16) return false;
        v = (v << 4) | (uint64_t)d;
    }
    if (n == 0 || v == 0) return false;
    *id = v;
    return true;
}

void flock__group_id_format(uint64_t id, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)id);
}

uint64_t flock__view_group_id(const flock_group_view_t* v)
{
    const char*         cfg = flock_group_view_find_metadata((flock_group_view_t*)v, "__config__");
    struct json_object* o   = cfg ? json_tokener_parse(cfg) : NULL;
    struct json_object* g   = NULL;
    uint64_t            id  = 0;
    if (o && json_object_object_get_ex(o, FLOCK__GROUP_ID_KEY, &g)
        && json_object_is_type(g, json_type_string))
        (void)flock__group_id_parse(json_object_get_string(g), &id);
    json_object_put(o);
    return id;
}

/* ------------------------------------------------------------------ */
/* Run-time metadata rules                                              */
/* ------------------------------------------------------------------ */

bool flock__utf8_valid(const char* str, size_t n)
{
    const unsigned char* s = (const unsigned char*)str;
    size_t               i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t   len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
            || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static flock_return_t meta_refuse(char* why, size_t why_size, const char* text)
{
    if (why && why_size) snprintf(why, why_size, "%s", text);
    return FLOCK_ERR_INVALID_ARGS;
}

flock_return_t flock__metadata_check(const char* key, const char* value, bool from_outside,
                                     char* why, size_t why_size)
{
    if (why && why_size) why[0] = '\0';
    if (!key || !*key) return meta_refuse(why, why_size, "the key is empty");
    size_t klen = strlen(key);
    if (klen > FLOCK_METADATA_KEY_MAX)
        return meta_refuse(why, why_size, "the key is longer than 256 bytes");
    if (!flock__utf8_valid(key, klen))
        return meta_refuse(why, why_size, "the key is not valid UTF-8");
    if (from_outside && klen >= 2 && key[0] == '_' && key[1] == '_')
        return meta_refuse(why, why_size, "keys starting with \"__\" are reserved");
    if (!value) return FLOCK_SUCCESS;
    size_t vlen = strlen(value);
    if (vlen > FLOCK_METADATA_VALUE_MAX)
        return meta_refuse(why, why_size, "the value is longer than 4096 bytes");
    if (!flock__utf8_valid(value, vlen))
        return meta_refuse(why, why_size, "the value is not valid UTF-8");
    return FLOCK_SUCCESS;
}

size_t flock__metadata_total_after(const flock_group_view_t* v, const char* key,
                                   const char* value)
{
    size_t total = 0;
    for (uint64_t i = 0; i < v->metadata.size; i++) {
        const flock_metadata_t* m = &v->metadata.data[i];
        if (key && strcmp(m->key, key) == 0) continue;
        total += strlen(m->key) + strlen(m->value);
    }
    if (key && value) total += strlen(key) + strlen(value);
    return total;
}

const char* flock__error_name(flock_return_t ret)
{
    switch (ret) {
#define X(code, msg) \
    case code:       \
        return #code;
        FLOCK_RETURN_VALUES
#undef X
    default:
        return "FLOCK_ERR_?";
    }
}
