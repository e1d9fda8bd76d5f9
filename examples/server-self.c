/*
 * server-self.c -- start a one-member Flock group ("self" bootstrap).
 *
 *   server-self <protocol> <group-file> [backend] [seconds]
 *
 * Registers provider 42 whose initial view is just itself, with the given
 * backend ("static" by default; "centralized" or "swim" let others join
 * through the group file), writes the group file, prints its address and
 * serves until killed (or for `seconds` if given, then shuts down).
 */
#include <stdio.h>
#include <stdlib.h>
#include <margo.h>
#include <flock/flock-server.h>
#include <flock/flock-bootstrap.h>

static void on_change(void* ctx, flock_update_t update, const char* address,
                      uint16_t provider_id)
{
    static const char* what[] = {"joined", "left", "died", "moved"};
    (void)ctx;
    printf("member %s:%u %s\n", address, (unsigned)provider_id,
           (unsigned)update < 4 ? what[update] : "?");
    fflush(stdout);
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "Usage: %s <protocol> <group-file> [backend] [seconds]\n", argv[0]);
        return 1;
    }
    const char* backend = argc > 3 ? argv[3] : "static";
    double      seconds = argc > 4 ? atof(argv[4]) : 0;

    margo_instance_id mid = margo_init(argv[1], MARGO_SERVER_MODE, 0, 0);
    if (!mid) return 1;

    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_return_t     ret  = flock_group_view_init_from_self(mid, 42, &view);
    if (ret != FLOCK_SUCCESS) {
        fprintf(stderr, "flock_group_view_init_from_self: error %d\n", ret);
        margo_finalize(mid);
        return 1;
    }

    char config[1024];
    snprintf(config, sizeof config,
             "{\"bootstrap\":\"self\",\"file\":\"%s\",\"group\":{\"type\":\"%s\",\"config\":{}}}",
             argv[2], backend);
    struct flock_provider_args args     = FLOCK_PROVIDER_ARGS_INIT;
    flock_provider_t           provider = FLOCK_PROVIDER_NULL;
    args.initial_view                   = &view;
    ret = flock_provider_register(mid, 42, config, &args, &provider);
    if (ret != FLOCK_SUCCESS) {
        fprintf(stderr, "flock_provider_register: error %d\n", ret);
        flock_group_view_clear(&view);
        margo_finalize(mid);
        return 1;
    }
    flock_provider_add_update_callbacks(provider, on_change, NULL, NULL);

    char* cfg = flock_provider_get_config(provider);
    printf("Server running at address %s, provider 42\n", frt_self_addr_str(mid));
    printf("Config: %s\n", cfg ? cfg : "?");
    printf("Group file written to: %s\n", argv[2]);
    fflush(stdout);
    free(cfg);

    if (seconds > 0) {
        margo_thread_sleep(mid, seconds * 1000.0);
        flock_provider_destroy(provider);
        margo_finalize(mid);
    } else {
        margo_wait_for_finalize(mid);
    }
    return 0;
}
