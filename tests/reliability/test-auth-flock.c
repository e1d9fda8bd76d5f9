/*
 * test-auth-flock.c -- authenticated groups at the Flock level: a provider
 * configured with "auth": {"key_file": ...}. A process without the key
 * cannot read the view (flock client), cannot join (centralized join RPC)
 * and cannot make the member remove anyone (leave / membership_update
 * RPCs); a process with the key can. get_config never shows the key.
 */
#include <flock/flock-client.h>
#include <flock/flock-group.h>
#include <flock/flock-server.h>

#include "flock-test.h"

static const char KEY[] = "flock group key for the auth test";

static flock_return_t handle(margo_instance_id mid, const char* addr, flock_group_view_t* v)
{
    flock_client_t       c = NULL;
    flock_group_handle_t h = NULL;
    hg_addr_t            a = HG_ADDR_NULL;
    REQUIRE(flock_client_init(mid, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
    REQUIRE(margo_addr_lookup(mid, addr, &a) == HG_SUCCESS);
    flock_return_t r = flock_group_handle_create(c, a, 1, FLOCK_MODE_INIT_UPDATE, &h);
    if (r == FLOCK_SUCCESS) {
        flock_group_get_view(h, v);
        flock_group_handle_release(h);
    }
    margo_addr_free(mid, a);
    flock_client_finalize(c);
    return r;
}

int main(void)
{
    char keyfile[600], config[1400];
    margo_set_global_log_level(getenv("REL_VERBOSE") ? MARGO_LOG_DEBUG : MARGO_LOG_CRITICAL);
    snprintf(keyfile, sizeof keyfile, "%s/group.key", ft_tmpdir());
    FILE* f = fopen(keyfile, "w");
    REQUIRE(f);
    fprintf(f, "%s\n", KEY);
    fclose(f);
    chmod(keyfile, 0600);
    snprintf(config, sizeof config,
             "{\"group\":{\"type\":\"centralized\",\"config\":{\"ping_timeout_ms\":500.0,"
             "\"ping_interval_ms\":200.0,\"ping_max_num_timeouts\":3}},"
             "\"auth\":{\"key_file\":\"%s\"}}",
             keyfile);

    margo_instance_id srv = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(srv);
    flock_provider_t p = NULL;
    REQUIRE(flock_provider_register(srv, 1, config, NULL, &p) == FLOCK_SUCCESS);
    CHECK(frt_auth_enabled(srv));
    const char* addr = frt_self_addr_str(srv);

    /* get_config: no key, no key file content */
    char* cfg = flock_provider_get_config(p);
    REQUIRE(cfg);
    CHECK(strstr(cfg, KEY) == NULL);
    free(cfg);

    /* a bad auth section is rejected */
    margo_instance_id other = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(other);
    flock_provider_t q = NULL;
    CHECK_EQ_INT(flock_provider_register(other, 1,
                                         "{\"group\":{\"type\":\"static\"},\"auth\":{\"key_file\":"
                                         "\"/nonexistent/key\"}}",
                                         NULL, &q),
                 FLOCK_ERR_INVALID_CONFIG);
    CHECK_EQ_INT(flock_provider_register(other, 1,
                                         "{\"group\":{\"type\":\"static\"},\"auth\":\"x\"}", NULL,
                                         &q),
                 FLOCK_ERR_INVALID_CONFIG);
    margo_finalize(other);

    /* keyless process: cannot read the view, join, or remove anyone */
    margo_instance_id intruder = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(intruder);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK(handle(intruder, addr, &v) != FLOCK_SUCCESS);
    hg_addr_t a = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(intruder, addr, &a) == HG_SUCCESS);
    uint8_t pid[2] = {1, 0};
    CHECK(frt_forward(intruder, a, "flock_centralized_join", 1, pid, 2, 3000, NULL, NULL)
          != HG_SUCCESS);
    CHECK(frt_forward(intruder, a, "flock_centralized_leave", 1, pid, 2, 3000, NULL, NULL)
          != HG_SUCCESS);
    CHECK(frt_forward(intruder, a, "flock_get_view", 1, "\0\0\0\0\0\0\0\0", 8, 3000, NULL, NULL)
          != HG_SUCCESS);
    CHECK(frt_forward(intruder, a, "flock_subscribe", 1, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
                      20, 3000, NULL, NULL) != HG_SUCCESS);
    /* neither subscribe nor set metadata through the API (issue #16) */
    {
        flock_client_t       c = NULL;
        flock_group_handle_t h = NULL;
        REQUIRE(flock_client_init(intruder, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
        hg_addr_t me = HG_ADDR_NULL;
        REQUIRE(margo_addr_lookup(intruder, addr, &me) == HG_SUCCESS);
        CHECK(flock_group_handle_create(c, me, 1, 0, &h) != FLOCK_SUCCESS); /* identity check */
        margo_addr_free(intruder, me);
        char view[512];
        snprintf(view, sizeof view, "{\"members\":[{\"address\":\"%s\",\"provider_id\":1}]}",
                 addr);
        REQUIRE(flock_group_handle_create_from_serialized(c, view, strlen(view), 0, &h)
                == FLOCK_SUCCESS);
        CHECK_EQ_INT(flock_group_subscribe(h, NULL, NULL, NULL), FLOCK_ERR_INVALID_PROVIDER);
        CHECK_EQ_INT(flock_group_metadata_set(h, "k", "v"), FLOCK_ERR_INVALID_PROVIDER);
        flock_group_handle_release(h);
        flock_client_finalize(c);
    }
    margo_addr_free(intruder, a);
    /* a keyless joiner fails to register */
    {
        flock_group_view_t jv = FLOCK_GROUP_VIEW_INITIALIZER;
        flock_group_view_add_member(&jv, addr, 1);
        struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
        args.initial_view               = &jv;
        flock_provider_t j              = NULL;
        char             jc[1400];
        snprintf(jc, sizeof jc,
                 "{\"group\":{\"type\":\"centralized\",\"config\":{\"primary_address\":\"%s\","
                 "\"primary_provider_id\":1}}}",
                 addr);
        CHECK(flock_provider_register(intruder, 2, jc, &args, &j) != FLOCK_SUCCESS);
        flock_group_view_clear(&jv);
    }
    margo_finalize(intruder);

    /* keyed process: reads the view (still only the provider itself) */
    margo_instance_id friend_ = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(friend_);
    REQUIRE(frt_auth_set_key(friend_, KEY, strlen(KEY)) == HG_SUCCESS);
    flock_group_view_clear(&v);
    CHECK_EQ_INT(handle(friend_, addr, &v), FLOCK_SUCCESS);
    CHECK_EQ_INT(v.members.size, 1);
    flock_group_view_clear(&v);
    /* ... and joins */
    {
        flock_group_view_t jv = FLOCK_GROUP_VIEW_INITIALIZER;
        flock_group_view_add_member(&jv, addr, 1);
        struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
        args.initial_view               = &jv;
        flock_provider_t j              = NULL;
        char             jc[1400];
        snprintf(jc, sizeof jc,
                 "{\"group\":{\"type\":\"centralized\",\"config\":{\"primary_address\":\"%s\","
                 "\"primary_provider_id\":1}},\"auth\":{\"key_file\":\"%s\"}}",
                 addr, keyfile);
        CHECK_EQ_INT(flock_provider_register(friend_, 2, jc, &args, &j), FLOCK_SUCCESS);
        flock_group_view_clear(&jv);
        CHECK_EQ_INT(handle(friend_, addr, &v), FLOCK_SUCCESS);
        CHECK_EQ_INT(v.members.size, 2);
        flock_group_view_clear(&v);
        /* ... and subscribes and sets metadata */
        flock_client_t       c = NULL;
        flock_group_handle_t h = NULL;
        hg_addr_t            me = HG_ADDR_NULL;
        REQUIRE(flock_client_init(friend_, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
        REQUIRE(margo_addr_lookup(friend_, addr, &me) == HG_SUCCESS);
        REQUIRE(flock_group_handle_create(c, me, 1, 0, &h) == FLOCK_SUCCESS);
        margo_addr_free(friend_, me);
        CHECK_EQ_INT(flock_group_subscribe(h, NULL, NULL, NULL), FLOCK_SUCCESS);
        CHECK_EQ_INT(flock_group_metadata_set(h, "k", "v"), FLOCK_SUCCESS);
        CHECK_EQ_INT(flock_group_unsubscribe(h), FLOCK_SUCCESS);
        flock_group_handle_release(h);
        flock_client_finalize(c);
        if (j) flock_provider_destroy(j);
    }
    margo_finalize(friend_);
    flock_provider_destroy(p);
    margo_finalize(srv);
    return FT_DONE();
}
