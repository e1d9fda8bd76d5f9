/*
 * builtin.c -- registration of the built-in backends and gateways that are
 * compiled into this flock-server (FLOCK_HAVE_BACKEND_<NAME> is defined by
 * src/flock/CMakeLists.txt for each backend directory present). The only
 * file that names every backend (see builtin.h). Calls: each built-in's
 * registration function; nothing calls back into this file but provider.c
 * (and provider-admin.c: flock__backend_ext_find, the backends' operators'
 * extensions, backend-ext.h).
 */
#include <string.h>

#include "flock/backend-ext.h"
#include "flock/builtin.h"

flock_return_t flock__register_builtins(void)
{
    flock_return_t ret = FLOCK_SUCCESS;
#define FLOCK__REGISTER(call)                        \
    do {                                             \
        flock_return_t r_ = (call);                  \
        if (r_ != FLOCK_SUCCESS && ret == FLOCK_SUCCESS) ret = r_; \
    } while (0)
#ifdef FLOCK_HAVE_BACKEND_STATIC
    FLOCK__REGISTER(flock_register_static_backend());
#endif
#ifdef FLOCK_HAVE_BACKEND_CENTRALIZED
    FLOCK__REGISTER(flock_register_centralized_backend());
#endif
#ifdef FLOCK_HAVE_BACKEND_SWIM
    FLOCK__REGISTER(flock_register_swim_backend());
#endif
    FLOCK__REGISTER(flock_register_default_gateway());
    FLOCK__REGISTER(flock_register_pinggy_gateway());
#undef FLOCK__REGISTER
    return ret;
}

/* The operators' extension of a built-in backend, by its registered name
 * (a backend registered by a user under another name has none). */
const flock__backend_ext* flock__backend_ext_find(const flock_backend_impl* impl)
{
    if (!impl || !impl->name) return NULL;
#ifdef FLOCK_HAVE_BACKEND_STATIC
    if (strcmp(impl->name, "static") == 0) return &flock__static_backend_ext;
#endif
#ifdef FLOCK_HAVE_BACKEND_CENTRALIZED
    if (strcmp(impl->name, "centralized") == 0) return &flock__centralized_backend_ext;
#endif
#ifdef FLOCK_HAVE_BACKEND_SWIM
    if (strcmp(impl->name, "swim") == 0) return &flock__swim_backend_ext;
#endif
    return NULL;
}
