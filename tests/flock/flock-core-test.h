/*
 * flock-core-test.h -- helpers shared by the Flock core tests.
 */
#ifndef FLOCK_CORE_TEST_H
#define FLOCK_CORE_TEST_H

#include "flock-test.h"
#include <flock/flock-server.h>
#include <flock/flock-bootstrap.h>
#include "flock/backend-util.h"
#include "flock/provider-internal.h"

/** Whole file as a malloc'd string, or NULL if it cannot be read. */
static inline char* fct_read_file(const char* path)
{
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char*  buf = (char*)malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len <= 1) {
            char* nb = (char*)realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[len] = 0;
    return buf;
}

static inline bool fct_file_exists(const char* path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/** A path in the test's scratch directory (8 rotating buffers). */
static inline const char* fct_path(const char* name)
{
    static char buf[8][700];
    static int  slot = 0;
    char*       out  = buf[slot++ % 8];
    snprintf(out, 700, "%s/%s", ft_tmpdir(), name);
    return out;
}

typedef struct {
    flock_group_view_t copy;
    int                calls;
} fct_view_copy;

static inline void fct_copy_cb(void* uargs, const flock_group_view_t* v)
{
    fct_view_copy*      c  = (fct_view_copy*)uargs;
    flock_group_view_t* mv = (flock_group_view_t*)v;
    c->calls++;
    FLOCK_GROUP_VIEW_LOCK(mv);
    flock_group_view_clear(&c->copy);
    if (!flock_group_view_copy(v, &c->copy)) FT_FAIL("view copy failed");
    FLOCK_GROUP_VIEW_UNLOCK(mv);
}

/** Copy of a provider's current backend view into *out (must be empty). */
static inline flock_return_t fct_provider_view(flock_provider_t p, flock_group_view_t* out)
{
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    flock_return_t      ret   = flock__provider_get_backend(p, &impl, &state);
    if (ret != FLOCK_SUCCESS) return ret;
    fct_view_copy c = {FLOCK_GROUP_VIEW_INITIALIZER, 0};
    ret             = impl->get_view(state, fct_copy_cb, &c);
    FLOCK_GROUP_VIEW_MOVE(&c.copy, out);
    return ret;
}

#endif /* FLOCK_CORE_TEST_H */
