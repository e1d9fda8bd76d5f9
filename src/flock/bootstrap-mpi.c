/*
 * bootstrap-mpi.c -- flock_group_view_init_from_mpi (flock-bootstrap-mpi.h),
 * exported by libflock-server as upstream does.
 *
 * Owns: the collective exchange of (address, provider id) over a
 * communicator. Calls: MPI (weakly: see below), margo.h, the view helpers.
 *
 * Every MPI function is a weak reference: the library does not link MPI,
 * so servers that never use this bootstrap do not load it (nor its
 * transports' start-up code); a program that calls this function links
 * MPI itself, and its MPI resolves the references. Without MPI in the
 * process the function fails with FLOCK_ERR_FROM_MPI.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <flock/flock-bootstrap-mpi.h>

#pragma weak MPI_Initialized
#pragma weak MPI_Finalized
#pragma weak MPI_Error_string
#pragma weak MPI_Comm_get_errhandler
#pragma weak MPI_Comm_set_errhandler
#pragma weak MPI_Errhandler_free
#pragma weak MPI_Comm_rank
#pragma weak MPI_Comm_size
#pragma weak MPI_Allgather

/* Fixed size of each exchanged address buffer (FLOCK-SPEC 2.2). */
#define FLOCK__MPI_ADDR_BUF 256

/* Logs an MPI error with its text; returns FLOCK_ERR_FROM_MPI. */
static flock_return_t flock__mpi_error(margo_instance_id mid, const char* what, int code)
{
    char msg[MPI_MAX_ERROR_STRING];
    int  len = 0;
    memset(msg, 0, sizeof msg);
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "code %d", code);
    margo_error(mid, "[flock] flock_group_view_init_from_mpi: %s failed: %s", what, msg);
    return FLOCK_ERR_FROM_MPI;
}

flock_return_t flock_group_view_init_from_mpi(margo_instance_id mid, uint16_t provider_id,
                                              MPI_Comm comm, flock_group_view_t* view)
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
    if (!MPI_Initialized || !MPI_Allgather) {
        margo_error(mid, "[flock] flock_group_view_init_from_mpi: MPI is not linked into this program");
        ret = FLOCK_ERR_FROM_MPI;
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

