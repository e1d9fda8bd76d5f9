/*
 * backend-util.c -- helpers shared by the provider and the built-in
 * backends (see backend-util.h).
 */
#include "flock/backend-util.h"

#include <stdlib.h>
#include <string.h>

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
