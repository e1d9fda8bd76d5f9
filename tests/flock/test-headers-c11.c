/* test-headers-c11.c -- every public header compiles as strict ISO C11
 * (-std=c11 -Wpedantic -Werror): built as an object library. */
#include <flock/flock-common.h>
#include <flock/flock-client.h>
#include <flock/flock-server.h>
#include <flock/flock-backend.h>
#include <flock/flock-gateway.h>
#include <flock/flock-group.h>
#include <flock/flock-group-view.h>
#include <flock/flock-bootstrap.h>
#ifdef FLOCK_TEST_WITH_MPI
#include <flock/flock-bootstrap-mpi.h>
#endif

int flock_headers_c11_probe(void);
int flock_headers_c11_probe(void)
{
    flock_group_view_t         v = FLOCK_GROUP_VIEW_INITIALIZER;
    struct flock_provider_args a = FLOCK_PROVIDER_ARGS_INIT;
    (void)a;
    flock_group_view_add_member(&v, "x", 1);
    flock_group_view_clear(&v);
    return (int)v.digest;
}
