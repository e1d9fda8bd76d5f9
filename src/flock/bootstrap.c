/*
 * bootstrap.c -- flock_group_view_init_from_self / _from_file.
 */
#include <flock/flock-bootstrap.h>

#include "flock/backend-util.h"

flock_return_t flock_group_view_init_from_self(margo_instance_id mid, uint16_t provider_id,
                                               flock_group_view_t* view)
{
    flock_return_t ret     = FLOCK_SUCCESS;
    hg_addr_t      self    = HG_ADDR_NULL;
    char           buf[256];
    hg_size_t      bufsize = sizeof buf;

    if (mid == MARGO_INSTANCE_NULL || !view) return FLOCK_ERR_INVALID_ARGS;
    if (margo_addr_self(mid, &self) != HG_SUCCESS) {
        margo_error(mid, "[flock] init_from_self: cannot get the self address");
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    if (margo_addr_to_string(mid, buf, &bufsize, self) != HG_SUCCESS) {
        margo_error(mid, "[flock] init_from_self: cannot convert the self address to a string");
        ret = FLOCK_ERR_FROM_MERCURY;
        goto finish;
    }
    flock_group_view_clear(view);
    if (!flock_group_view_add_member(view, buf, provider_id)) ret = FLOCK_ERR_ALLOCATION;
finish:
    if (self != HG_ADDR_NULL) margo_addr_free(mid, self);
    return ret;
}

flock_return_t flock_group_view_init_from_file(const char* filename, flock_group_view_t* view)
{
    return flock_group_view_from_file(filename, view);
}
