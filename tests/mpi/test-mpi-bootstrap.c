/*
 * test-mpi-bootstrap.c -- flock_group_view_init_from_mpi under
 * `mpiexec -n 4`: every rank gets the same view of all ranks (checked by
 * exchanging digests), sub-communicators give sub-groups, a provider can be
 * registered from the view (static backend, group file written by index 0),
 * and bad arguments are rejected without aborting the job.
 *
 * Every rank reports its failures; rank 0's exit status is the job's.
 */
#include "flock-test.h"

#include <mpi.h>
#include <margo.h>
#include <flock/flock-bootstrap-mpi.h>
#include <flock/flock-group-view.h>
#include <flock/flock-server.h>

static int rank = 0, size = 0;

/* Contract: every rank passes its failure count; all ranks get the total. */
static int total_failures(void)
{
    int mine = ft_failures, total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return total;
}

static void check_world(margo_instance_id mid)
{
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    /* the view is cleared first: pre-existing content must disappear */
    REQUIRE(flock_group_view_add_member(&view, "junk://0", 9));
    REQUIRE(flock_group_view_add_metadata(&view, "k", "v"));
    CHECK_EQ_INT(flock_group_view_init_from_mpi(mid, 42, MPI_COMM_WORLD, &view), FLOCK_SUCCESS);
    CHECK_EQ_INT(view.members.size, size);
    CHECK_EQ_INT(view.metadata.size, 0);
    CHECK(flock_group_view_find_member(&view, "junk://0", 9) == NULL);
    CHECK(flock_group_view_find_member(&view, frt_self_addr_str(mid), 42) != NULL);
    for (size_t i = 0; i < view.members.size; i++) CHECK_EQ_INT(view.members.data[i].provider_id, 42);
    /* identical on every rank */
    uint64_t  d   = view.digest;
    uint64_t* all = calloc((size_t)size, sizeof *all);
    MPI_Allgather(&d, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    for (int i = 0; i < size; i++)
        if (all[i] != d) FT_FAIL("rank %d: digest differs from rank %d", rank, i);
    free(all);
    flock_group_view_clear(&view);
}

static void check_provider_ids_differ(margo_instance_id mid)
{
    /* each rank contributes its own provider id */
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_view_init_from_mpi(mid, (uint16_t)(100 + rank), MPI_COMM_WORLD, &view),
                 FLOCK_SUCCESS);
    CHECK_EQ_INT(view.members.size, size);
    for (int r = 0; r < size; r++) {
        bool found = false;
        for (size_t i = 0; i < view.members.size; i++)
            if (view.members.data[i].provider_id == 100 + r) found = true;
        if (!found) FT_FAIL("rank %d: provider id %d missing", rank, 100 + r);
    }
    flock_group_view_clear(&view);
}

static void check_split(margo_instance_id mid)
{
    MPI_Comm half = MPI_COMM_NULL;
    REQUIRE(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half) == MPI_SUCCESS);
    int hsize = 0;
    MPI_Comm_size(half, &hsize);
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_view_init_from_mpi(mid, 7, half, &view), FLOCK_SUCCESS);
    CHECK_EQ_INT(view.members.size, hsize);
    CHECK(flock_group_view_find_member(&view, frt_self_addr_str(mid), 7) != NULL);
    flock_group_view_clear(&view);
    MPI_Comm_free(&half);
}

static void check_bad_args(margo_instance_id mid)
{
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_view_init_from_mpi(MARGO_INSTANCE_NULL, 1, MPI_COMM_WORLD, &view),
                 FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_init_from_mpi(mid, 1, MPI_COMM_WORLD, NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_group_view_init_from_mpi(mid, 1, MPI_COMM_NULL, &view), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(view.members.size, 0);
    /* the error handler of the communicator is restored */
    MPI_Errhandler eh;
    MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh);
    CHECK(eh == MPI_ERRORS_ARE_FATAL);
    MPI_Errhandler_free(&eh);
}

/* register a static provider from the MPI view; index 0 writes the file */
static void check_register(margo_instance_id mid, const char* file)
{
    flock_group_view_t         view = FLOCK_GROUP_VIEW_INITIALIZER;
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    flock_provider_t           p    = FLOCK_PROVIDER_NULL;
    char                       cfg[1024];
    REQUIRE(flock_group_view_init_from_mpi(mid, 5, MPI_COMM_WORLD, &view) == FLOCK_SUCCESS);
    bool first = strcmp(view.members.data[0].address, frt_self_addr_str(mid)) == 0;
    snprintf(cfg, sizeof cfg, "{\"group\":{\"type\":\"static\"},\"file\":\"%s\"}", file);
    args.initial_view = &view;
    CHECK_EQ_INT(flock_provider_register(mid, 5, cfg, &args, &p), FLOCK_SUCCESS);
    MPI_Barrier(MPI_COMM_WORLD);
    if (first) {
        flock_group_view_t fv = FLOCK_GROUP_VIEW_INITIALIZER;
        CHECK_EQ_INT(flock_group_view_from_file(file, &fv), FLOCK_SUCCESS);
        CHECK_EQ_INT(fv.members.size, size);
        flock_group_view_clear(&fv);
    }
    if (p) flock_provider_destroy(p);
    flock_group_view_clear(&view);
}

int main(int argc, char** argv)
{
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    /* one scratch directory for the job: rank 0 creates it */
    char dir[512] = "";
    if (rank == 0) snprintf(dir, sizeof dir, "%s", ft_tmpdir());
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    char file[600];
    snprintf(file, sizeof file, "%s/mpi.flock", dir);

    margo_instance_id mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(mid != MARGO_INSTANCE_NULL);

    check_world(mid);
    check_provider_ids_differ(mid);
    check_split(mid);
    check_bad_args(mid);
    check_register(mid, file);

    MPI_Barrier(MPI_COMM_WORLD);
    margo_finalize(mid);
    int failures = total_failures();
    if (rank == 0) printf("mpi bootstrap test on %d ranks: %d failure(s)\n", size, failures);
    MPI_Finalize();
    return failures == 0 ? 0 : 1;
}
