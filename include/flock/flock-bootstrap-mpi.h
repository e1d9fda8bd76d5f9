/*
 * flock-bootstrap-mpi.h -- building the initial view collectively over an
 * MPI communicator (FLOCK-SPEC 2.2).
 *
 * Header-only, as upstream: the function is compiled into the program that
 * includes this header (and links MPI itself, e.g. with mpicc), so the
 * Flock libraries do not depend on MPI and servers that never use it do not
 * load it.
 *
 * MPI errors are returned as FLOCK_ERR_FROM_MPI instead of aborting the
 * job: the communicator's error handler is switched to MPI_ERRORS_RETURN
 * for the duration of the call and restored afterwards (both are local
 * operations, so no extra collective is needed).
 */
#ifndef FLOCK_BOOTSTRAP_MPI_H
#define FLOCK_BOOTSTRAP_MPI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mpi.h>
#include <margo.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fixed size of each exchanged address buffer (FLOCK-SPEC 2.2). */
#define FLOCK__MPI_ADDR_BUF 256

/* Logs an MPI error with its text; returns FLOCK_ERR_FROM_MPI. */
static inline flock_return_t flock__mpi_error(margo_instance_id mid, const char* what, int code)
{
    char msg[MPI_MAX_ERROR_STRING];
    int  len = 0;
    memset(msg, 0, sizeof msg);
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "code %d", code);
    margo_error(mid, "[flock] flock_group_view_init_from_mpi: %s failed: %s", what, msg);
    return FLOCK_ERR_FROM_MPI;
}

/**
 * @brief Collective over comm: every rank contributes (self address of
 * mid, provider_id); *view is cleared and receives every rank's member, so
 * all ranks get identical views. MPI must be initialized by the caller.
 * A rank that cannot get its own address still takes part in the
 * exchange (with an empty address), so no rank is left waiting: every
 * rank then fails.
 * @return FLOCK_SUCCESS, FLOCK_ERR_INVALID_ARGS, FLOCK_ERR_FROM_MPI,
 *         FLOCK_ERR_FROM_MERCURY (this rank has no address),
 *         FLOCK_ERR_ALLOCATION.
 */
static inline flock_return_t flock_group_view_init_from_mpi(margo_instance_id mid,
                                                            uint16_t provider_id, MPI_Comm comm,
                                                            flock_group_view_t* view)
{
    flock_return_t     ret        = FLOCK_SUCCESS;
    hg_addr_t          self       = HG_ADDR_NULL;
    uint16_t*          pids       = NULL;
    char*              addrs      = NULL;
    MPI_Errhandler     saved      = MPI_ERRHANDLER_NULL;
    bool               handler_in = false;
    flock_group_view_t tmp        = FLOCK_GROUP_VIEW_INITIALIZER;
    char               self_str[FLOCK__MPI_ADDR_BUF];
    int                initialized = 0, finalized = 0, rank = 0, size = 0, rc;
    hg_size_t          sz          = sizeof self_str;

    memset(self_str, 0, sizeof self_str);
    if (mid == MARGO_INSTANCE_NULL || view == NULL || comm == MPI_COMM_NULL) {
        ret = FLOCK_ERR_INVALID_ARGS;
        goto finish;
    }
    if (MPI_Initialized(&initialized) != MPI_SUCCESS || !initialized
        || MPI_Finalized(&finalized) != MPI_SUCCESS || finalized) {
        margo_error(mid, "[flock] flock_group_view_init_from_mpi: MPI is not initialized");
        ret = FLOCK_ERR_FROM_MPI;
        goto finish;
    }

    /* self address (an error here must not leave the other ranks waiting:
     * it is reported through the exchange) */
    if (margo_addr_self(mid, &self) != HG_SUCCESS
        || margo_addr_to_string(mid, self_str, &sz, self) != HG_SUCCESS) {
        margo_error(mid, "[flock] flock_group_view_init_from_mpi: cannot get the self address");
        self_str[0] = 0; /* an empty address tells every rank that this one failed */
    }

    if ((rc = MPI_Comm_get_errhandler(comm, &saved)) != MPI_SUCCESS) {
        ret = flock__mpi_error(mid, "MPI_Comm_get_errhandler", rc);
        goto finish;
    }
    if ((rc = MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN)) != MPI_SUCCESS) {
        ret = flock__mpi_error(mid, "MPI_Comm_set_errhandler", rc);
        goto finish;
    }
    handler_in = true;
    if ((rc = MPI_Comm_rank(comm, &rank)) != MPI_SUCCESS) {
        ret = flock__mpi_error(mid, "MPI_Comm_rank", rc);
        goto finish;
    }
    if ((rc = MPI_Comm_size(comm, &size)) != MPI_SUCCESS) {
        ret = flock__mpi_error(mid, "MPI_Comm_size", rc);
        goto finish;
    }
    pids  = (uint16_t*)calloc((size_t)size, sizeof *pids);
    addrs = (char*)calloc((size_t)size, FLOCK__MPI_ADDR_BUF);
    if (!pids || !addrs) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    if ((rc = MPI_Allgather(&provider_id, 1, MPI_UINT16_T, pids, 1, MPI_UINT16_T, comm))
        != MPI_SUCCESS) {
        ret = flock__mpi_error(mid, "MPI_Allgather (provider ids)", rc);
        goto finish;
    }
    if ((rc = MPI_Allgather(self_str, FLOCK__MPI_ADDR_BUF, MPI_CHAR, addrs, FLOCK__MPI_ADDR_BUF,
                            MPI_CHAR, comm))
        != MPI_SUCCESS) {
        ret = flock__mpi_error(mid, "MPI_Allgather (addresses)", rc);
        goto finish;
    }

    for (int i = 0; i < size; i++) {
        char* a = addrs + (size_t)i * FLOCK__MPI_ADDR_BUF;
        if (a[0] == 0 || memchr(a, 0, FLOCK__MPI_ADDR_BUF) == NULL) {
            margo_error(mid,
                        "[flock] flock_group_view_init_from_mpi: rank %d has no valid address",
                        i);
            ret = i == rank ? FLOCK_ERR_FROM_MERCURY : FLOCK_ERR_FROM_MPI;
            goto finish;
        }
        if (!flock_group_view_add_member(&tmp, a, pids[i])) {
            ret = FLOCK_ERR_ALLOCATION;
            goto finish;
        }
    }
    flock_group_view_clear(view);
    FLOCK_GROUP_VIEW_MOVE(&tmp, view);

finish:
    if (handler_in) MPI_Comm_set_errhandler(comm, saved);
    if (saved != MPI_ERRHANDLER_NULL) MPI_Errhandler_free(&saved);
    flock_group_view_clear(&tmp);
    free(pids);
    free(addrs);
    if (self != HG_ADDR_NULL) margo_addr_free(mid, self);
    return ret;
}

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_BOOTSTRAP_MPI_H */
