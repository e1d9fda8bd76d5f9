/*
 * server-view.c -- the "view" bootstrap: N providers in one process form a
 * static group from a view every one of them is given.
 *
 *   server-view <protocol> <n> [group-file]
 *
 * Builds the view (this process's address with provider ids 1..n, plus a
 * user metadata entry), registers n providers with a copy each, prints
 * what every provider sees, then shuts down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <margo.h>
#include <flock/flock-server.h>
#include <flock/flock-group.h>

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "Usage: %s <protocol> <n> [group-file]\n", argv[0]);
        return 1;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > 1000) {
        fprintf(stderr, "n must be in 1..1000\n");
        return 1;
    }
    margo_instance_id mid = margo_init(argv[1], MARGO_SERVER_MODE, 0, 0);
    if (!mid) return 1;
    const char* self = frt_self_addr_str(mid);

    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    for (int i = 1; i <= n; i++) flock_group_view_add_member(&view, self, (uint16_t)i);
    flock_group_view_add_metadata(&view, "app", "server-view example");

    char config[1024];
    if (argc > 3)
        snprintf(config, sizeof config,
                 "{\"bootstrap\":\"view\",\"file\":\"%s\",\"group\":{\"type\":\"static\"}}",
                 argv[3]);
    else
        snprintf(config, sizeof config, "{\"bootstrap\":\"view\",\"group\":{\"type\":\"static\"}}");

    flock_provider_t* providers = calloc((size_t)n, sizeof(*providers));
    int               status    = 0;
    for (int i = 0; i < n && !status; i++) {
        flock_group_view_t copy = FLOCK_GROUP_VIEW_INITIALIZER;
        flock_group_view_copy(&view, &copy);
        struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
        args.initial_view               = &copy;
        flock_return_t ret = flock_provider_register(mid, (uint16_t)(i + 1), config, &args,
                                                     &providers[i]);
        if (ret != FLOCK_SUCCESS) {
            fprintf(stderr, "provider %d: flock_provider_register error %d\n", i + 1, ret);
            status = 1;
        }
        flock_group_view_clear(&copy);
    }

    /* Ask every provider for its view through the client API. */
    flock_client_t client = FLOCK_CLIENT_NULL;
    hg_addr_t      addr   = HG_ADDR_NULL;
    if (!status && flock_client_init(mid, ABT_POOL_NULL, &client) == FLOCK_SUCCESS
        && margo_addr_self(mid, &addr) == HG_SUCCESS) {
        for (int i = 0; i < n; i++) {
            flock_group_handle_t h = FLOCK_GROUP_HANDLE_NULL;
            if (flock_group_handle_create(client, addr, (uint16_t)(i + 1),
                                          FLOCK_MODE_INIT_UPDATE, &h) != FLOCK_SUCCESS) {
                status = 1;
                continue;
            }
            flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
            flock_group_get_view(h, &v);
            printf("provider %d sees %zu members, digest %016llx, app=%s\n", i + 1,
                   flock_group_view_member_count(&v), (unsigned long long)v.digest,
                   flock_group_view_find_metadata(&v, "app"));
            flock_group_view_clear(&v);
            flock_group_handle_release(h);
        }
        margo_addr_free(mid, addr);
        flock_client_finalize(client);
    }
    for (int i = 0; i < n; i++)
        if (providers[i]) flock_provider_destroy(providers[i]);
    free(providers);
    flock_group_view_clear(&view);
    margo_finalize(mid);
    return status;
}
