/*
 * client-print.c -- print a group: read a group file, refresh the view
 * from its first member, print members and metadata.
 *
 *   client-print <protocol> <group-file> [--no-update]
 */
#include <stdio.h>
#include <string.h>
#include <margo.h>
#include <flock/flock-client.h>
#include <flock/flock-group.h>

static void print_view(void* uargs, const flock_group_view_t* view)
{
    (void)uargs;
    printf("digest %016llx\n", (unsigned long long)view->digest);
    printf("%llu member(s):\n", (unsigned long long)view->members.size);
    for (uint64_t i = 0; i < view->members.size; i++)
        printf("  %s provider %u\n", view->members.data[i].address,
               (unsigned)view->members.data[i].provider_id);
    printf("%llu metadata entr%s:\n", (unsigned long long)view->metadata.size,
           view->metadata.size == 1 ? "y" : "ies");
    for (uint64_t i = 0; i < view->metadata.size; i++)
        printf("  %s = %s\n", view->metadata.data[i].key, view->metadata.data[i].value);
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "Usage: %s <protocol> <group-file> [--no-update]\n", argv[0]);
        return 1;
    }
    uint32_t mode = (argc > 3 && strcmp(argv[3], "--no-update") == 0) ? 0 : FLOCK_MODE_INIT_UPDATE;
    margo_instance_id mid = margo_init(argv[1], MARGO_CLIENT_MODE, 0, 0);
    if (!mid) return 1;

    int                  status = 0;
    flock_client_t       client = FLOCK_CLIENT_NULL;
    flock_group_handle_t group  = FLOCK_GROUP_HANDLE_NULL;
    flock_return_t       ret    = flock_client_init(mid, ABT_POOL_NULL, &client);
    if (ret == FLOCK_SUCCESS)
        ret = flock_group_handle_create_from_file(client, argv[2], mode, &group);
    if (ret != FLOCK_SUCCESS) {
        fprintf(stderr, "cannot open the group in %s (error %d)\n", argv[2], ret);
        status = 1;
    } else {
        flock_group_access_view(group, print_view, NULL);
        flock_group_handle_release(group);
    }
    if (client) flock_client_finalize(client);
    margo_finalize(mid);
    return status;
}
