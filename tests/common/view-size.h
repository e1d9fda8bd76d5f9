/*
 * view-size.h -- the member count of a provider's current view, through
 * its backend's get_view (for the SWIM test server and bench/swim's
 * workers, which poll it while a group forms). Needs
 * flock/provider-internal.h (flock__provider_get_backend) on the include
 * path; include it in one translation unit.
 */
#ifndef FLOCK_TEST_VIEW_SIZE_H
#define FLOCK_TEST_VIEW_SIZE_H

#include <flock/flock-group-view.h>
#include <flock/flock-server.h>
#include "flock/provider-internal.h"

static void view_size_read(void* uargs, const flock_group_view_t* v)
{
    flock_group_view_t* view = (flock_group_view_t*)v;
    FLOCK_GROUP_VIEW_LOCK(view);
    *(size_t*)uargs = flock_group_view_member_count(view);
    FLOCK_GROUP_VIEW_UNLOCK(view);
}

/* 0 if the provider has no backend */
static size_t provider_view_size(flock_provider_t p)
{
    flock_backend_impl* impl  = NULL;
    void*               state = NULL;
    size_t              n     = 0;
    if (flock__provider_get_backend(p, &impl, &state) == FLOCK_SUCCESS)
        impl->get_view(state, view_size_read, &n);
    return n;
}

#endif
