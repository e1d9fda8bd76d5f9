/*
 * install-prog.c -- a small Flock program compiled by test-install.sh
 * against the INSTALLED project with
 *     cc install-prog.c $(pkg-config --cflags --libs flock-server)
 * (only public headers, only the installed libraries).
 *
 *   install-prog <group-file>
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <margo.h>
#include <flock/flock-server.h>
#include <flock/flock-client.h>
#include <flock/flock-group.h>
#include <flock/flock-bootstrap.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "Usage: %s <group_file>\n", argv[0]);
        return -1;
    }
    margo_instance_id mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    assert(mid);
    hg_addr_t my_address;
    margo_addr_self(mid, &my_address);
    char      addr_str[256];
    hg_size_t addr_str_size = 256;
    margo_addr_to_string(mid, addr_str, &addr_str_size, my_address);
    margo_addr_free(mid, my_address);

    struct flock_provider_args args         = FLOCK_PROVIDER_ARGS_INIT;
    flock_group_view_t         initial_view = FLOCK_GROUP_VIEW_INITIALIZER;
    args.initial_view                       = &initial_view;
    int ret = flock_group_view_init_from_self(mid, 42, &initial_view);
    if (ret != FLOCK_SUCCESS) return 1;

    char config[512];
    snprintf(config, sizeof config,
             "{\"bootstrap\":\"self\",\"file\":\"%s\",\"group\":{\"type\":\"static\"}}", argv[1]);
    flock_provider_t provider;
    ret = flock_provider_register(mid, 42, config, &args, &provider);
    if (ret != FLOCK_SUCCESS) return 2;

    flock_client_t       client;
    flock_group_handle_t group;
    if (flock_client_init(mid, ABT_POOL_NULL, &client) != FLOCK_SUCCESS) return 3;
    if (flock_group_handle_create_from_file(client, argv[1], FLOCK_MODE_INIT_UPDATE, &group)
        != FLOCK_SUCCESS)
        return 4;
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_get_view(group, &view);
    int ok = view.members.size == 1 && strcmp(view.members.data[0].address, addr_str) == 0
          && flock_group_view_find_metadata(&view, "__type__") != NULL;
    printf("installed program: %zu member(s), first %s, type %s\n",
           flock_group_view_member_count(&view), view.members.data[0].address,
           flock_group_view_find_metadata(&view, "__type__"));
    flock_group_view_clear(&view);
    flock_group_handle_release(group);
    flock_client_finalize(client);
    flock_provider_destroy(provider);
    margo_finalize(mid);
    return ok ? 0 : 5;
}
