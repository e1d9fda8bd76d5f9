/*
 * flock-bootstrap-mpi.h -- building the initial view collectively over an
 * MPI communicator (only available if the library was built with MPI).
 */
#ifndef FLOCK_BOOTSTRAP_MPI_H
#define FLOCK_BOOTSTRAP_MPI_H

#include <stdint.h>
#include <mpi.h>
#include <margo.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Collective over comm: every rank contributes (self address of
 * mid, provider_id); *view is cleared and receives every rank's member, so
 * all ranks get identical views. MPI must be initialized by the caller.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS, FLOCK_ERR_FROM_MPI,
 *         FLOCK_ERR_FROM_MERCURY, FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_view_init_from_mpi(margo_instance_id mid, uint16_t provider_id,
                                              MPI_Comm comm, flock_group_view_t* view);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BOOTSTRAP_MPI_H */
