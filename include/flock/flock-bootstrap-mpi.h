/*
 * flock-bootstrap-mpi.h -- building the initial view collectively over an
 * MPI communicator (FLOCK-SPEC 2.2).
 *
 * As upstream, libflock-server exports the function when it is built with
 * MPI (src/flock/bootstrap-mpi.c); a program that calls it links MPI itself
 * (e.g. with mpicc). The library refers to MPI's functions weakly, so it
 * does not load MPI into programs that never use it.
 *
 * MPI errors are returned as FLOCK_ERR_FROM_MPI instead of aborting the
 * job: the communicator's error handler is switched to MPI_ERRORS_RETURN
 * for the duration of the call and restored afterwards (both are local
 * operations, so no extra collective is needed).
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
 * A rank that cannot get its own address still takes part in the
 * exchange (with an empty address), so no rank is left waiting: every
 * rank then fails.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS, FLOCK_ERR_FROM_MPI (also
 *         when the program is not linked with MPI), FLOCK_ERR_FROM_MERCURY
 *         (this rank has no address), FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock_group_view_init_from_mpi(margo_instance_id mid, uint16_t provider_id,
                                              MPI_Comm comm, flock_group_view_t* view);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BOOTSTRAP_MPI_H */
