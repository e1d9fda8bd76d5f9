/*
 * fuzz-view-json.c -- flock_group_view_from_string, the JSON view parser
 * behind group files, flock_group_handle_create_from_serialized and the
 * flockd "view" bootstrap. An accepted view must serialize and re-parse to
 * the same digest; a rejected one must leave the output untouched.
 */
#include <flock/flock-group-view.h>

#include "fuzz-common.h"

typedef struct {
    char*  text;
    size_t len;
} fuzz_sink;

static void sink(void* ctx, const char* s, size_t n)
{
    fuzz_sink* k = (fuzz_sink*)ctx;
    k->text      = (char*)malloc(n + 1);
    if (!k->text) return;
    memcpy(k->text, s, n);
    k->text[n] = 0;
    k->len     = n;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz_quiet();
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    /* a sentinel member: a failed parse must not touch the output view */
    flock_group_view_add_member(&v, "na+sm://1-0", 1);
    uint64_t before = v.digest;
    flock_return_t ret = flock_group_view_from_string((const char*)data, size, &v);
    if (ret == FLOCK_SUCCESS) {
        fuzz_sink k = {NULL, 0};
        if (flock_group_view_serialize(&v, sink, &k) == FLOCK_SUCCESS && k.text) {
            flock_group_view_t w = FLOCK_GROUP_VIEW_INITIALIZER;
            if (flock_group_view_from_string(k.text, k.len, &w) != FLOCK_SUCCESS) abort();
            if (w.digest != v.digest || w.members.size != v.members.size) abort();
            flock_group_view_clear(&w);
        }
        free(k.text);
    } else if (v.digest != before || v.members.size != 1) {
        abort();
    }
    flock_group_view_clear(&v);
    return 0;
}
