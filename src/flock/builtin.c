/*
 * builtin.c -- registration of the built-in backends and gateways that are
 * compiled into this flock-server (FLOCK_HAVE_BACKEND_<NAME> is defined by
 * src/flock/CMakeLists.txt for each backend directory present). The only
 * file that names every backend (see builtin.h). Calls: each built-in's
 * registration function; nothing calls back into this file but provider.c.
 */
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
