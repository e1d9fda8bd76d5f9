/*
 * server-file.c -- the "file" bootstrap: load a group file and register.
 * If this process is in the file it simply takes its place ("view");
 * otherwise it joins the group (which the backend must allow: "centralized"
 * or "swim"; a static group refuses joiners).
 *
 *   server-file <protocol> <group-file> [backend] [provider-id]
 */
#include <stdio.h>
#include <stdlib.h>
#include <margo.h>
#include <flock/flock-server.h>
#include <flock/flock-bootstrap.h>

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "Usage: %s <protocol> <group-file> [backend] [provider-id]\n", argv[0]);
        return 1;
    }
    const char* backend     = argc > 3 ? argv[3] : "centralized";
    uint16_t    provider_id = argc > 4 ? (uint16_t)atoi(argv[4]) : 42;

    margo_instance_id mid = margo_init(argv[1], MARGO_SERVER_MODE, 0, 0);
    if (!mid) return 1;
    printf("Server running at address %s\n", frt_self_addr_str(mid));

    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_return_t     ret  = flock_group_view_init_from_file(argv[2], &view);
    if (ret != FLOCK_SUCCESS) {
        fprintf(stderr, "cannot load the group file %s (error %d)\n", argv[2], ret);
        margo_finalize(mid);
        return 1;
    }
    printf("Loaded %zu member(s) from %s\n", flock_group_view_member_count(&view), argv[2]);

    char config[512];
    snprintf(config, sizeof config, "{\"bootstrap\":\"file\",\"group\":{\"type\":\"%s\"}}",
             backend);
    struct flock_provider_args args     = FLOCK_PROVIDER_ARGS_INIT;
    flock_provider_t           provider = FLOCK_PROVIDER_NULL;
    args.initial_view                   = &view;
    ret = flock_provider_register(mid, provider_id, config, &args, &provider);
    flock_group_view_clear(&view); /* emptied by the provider already */
    if (ret != FLOCK_SUCCESS) {
        fprintf(stderr, "flock_provider_register: error %d\n", ret);
        margo_finalize(mid);
        return 2;
    }
    printf("Registered provider %u in the group\n", (unsigned)provider_id);
    fflush(stdout);
    margo_wait_for_finalize(mid);
    return 0;
}
