/*
 * test-registry.c -- backend and gateway registries (FLOCK-SPEC 1.4/1.5):
 * bad arguments, duplicate names keep the first entry, 64 slots shared
 * with the built-ins, a full table, aliases. Its own process: the tables
 * are global.
 */
#include "flock-core-test.h"

static flock_return_t b_init(flock_backend_init_args_t* a, void** s)
{
    (void)a, (void)s;
    return FLOCK_ERR_OTHER;
}
static flock_return_t b_fin(void* s)
{
    (void)s;
    return FLOCK_SUCCESS;
}
static flock_return_t b_cfg(void* s, void (*fn)(void*, const struct json_object*), void* u)
{
    (void)s, (void)fn, (void)u;
    return FLOCK_SUCCESS;
}
static flock_return_t b_view(void* s, void (*fn)(void*, const flock_group_view_t*), void* u)
{
    (void)s, (void)fn, (void)u;
    return FLOCK_SUCCESS;
}
static flock_return_t b_add(void* s, const char* k, const char* v)
{
    (void)s, (void)k, (void)v;
    return FLOCK_ERR_OP_UNSUPPORTED;
}
static flock_return_t b_rm(void* s, const char* k)
{
    (void)s, (void)k;
    return FLOCK_ERR_OP_UNSUPPORTED;
}
static flock_return_t g_init(flock_gateway_init_args_t* a, void** s)
{
    (void)a, (void)s;
    return FLOCK_ERR_OTHER;
}
static const char* g_addr(void* s)
{
    (void)s;
    return "x";
}

flock_return_t flock_provider_register_backend(flock_backend_impl*);
flock_return_t flock_provider_register_gateway(flock_gateway_impl*);

int main(void)
{
    margo_set_global_log_level(MARGO_LOG_CRITICAL);
    margo_instance_id mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(mid);
    /* register built-ins by registering a provider once */
    flock_provider_t p = NULL;
    REQUIRE(flock_provider_register(mid, 1, "{\"group\":{\"type\":\"static\"}}", NULL, &p)
            == FLOCK_SUCCESS);
    flock_provider_destroy(p);

    /* bad arguments */
    flock_backend_impl bad = {NULL, b_init, b_fin, b_cfg, b_view, b_add, b_rm};
    CHECK_EQ_INT(flock_register_backend(NULL), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(flock_register_backend(&bad), FLOCK_ERR_INVALID_ARGS);
    flock_backend_impl bad2 = {"bad2", b_init, NULL, b_cfg, b_view, b_add, b_rm};
    CHECK_EQ_INT(flock_register_backend(&bad2), FLOCK_ERR_INVALID_ARGS);
    CHECK(flock__find_backend("bad2") == NULL);
    CHECK_EQ_INT(flock_register_gateway(NULL), FLOCK_ERR_INVALID_ARGS);
    flock_gateway_impl badg = {"badg", g_init, NULL, NULL, g_addr, g_addr};
    CHECK_EQ_INT(flock_register_gateway(&badg), FLOCK_ERR_INVALID_ARGS);

    /* duplicates keep the first registration (a program cannot hijack "static") */
    flock_backend_impl fake_static = {"static", b_init, b_fin, b_cfg, b_view, b_add, b_rm};
    CHECK_EQ_INT(flock_register_backend(&fake_static), FLOCK_SUCCESS);
    CHECK(flock__find_backend("static") != &fake_static);
    CHECK(flock__find_backend("static") != NULL);
    CHECK(flock__find_backend("default") == NULL); /* separate tables */
    CHECK(flock__find_gateway("default") != NULL);
    CHECK(flock__find_backend(NULL) == NULL);

    /* fill the table: 64 slots in total */
    static flock_backend_impl many[80];
    static char               names[80][16];
    int                       ok = 0, full = 0;
    for (int i = 0; i < 80; i++) {
        snprintf(names[i], sizeof names[i], "b%d", i);
        flock_backend_impl b = {names[i], b_init, b_fin, b_cfg, b_view, b_add, b_rm};
        many[i]              = b;
        flock_return_t r     = i % 2 ? flock_register_backend(&many[i])
                                     : flock_provider_register_backend(&many[i]);
        if (r == FLOCK_SUCCESS)
            ok++;
        else if (r == FLOCK_ERR_ALLOCATION)
            full++;
    }
    int builtins = 0;
    static const char* known[] = {"static", "centralized", "swim"};
    for (int i = 0; i < 3; i++) builtins += flock__find_backend(known[i]) != NULL;
    CHECK_EQ_INT(ok + builtins, 64);
    CHECK_EQ_INT(ok + full, 80);
    CHECK(flock__find_backend("b0") == &many[0]);
    CHECK(flock__find_backend(names[ok - 1]) == &many[ok - 1]);
    CHECK(flock__find_backend(names[ok]) == NULL);
    /* registering an existing name still succeeds when full */
    CHECK_EQ_INT(flock_register_backend(&many[0]), FLOCK_SUCCESS);
    /* built-ins still usable; a registered custom backend is found by name */
    CHECK_EQ_INT(flock_provider_register(mid, 2, "{\"group\":{\"type\":\"static\"}}", NULL, &p),
                 FLOCK_SUCCESS);
    flock_provider_destroy(p);
    CHECK_EQ_INT(flock_provider_register(mid, 2, "{\"group\":{\"type\":\"b3\"}}", NULL, &p),
                 FLOCK_ERR_OTHER); /* its init fails with OTHER: it was found and called */

    /* gateways: same rules */
    static flock_gateway_impl gws[80];
    ok = full = 0;
    for (int i = 0; i < 80; i++) {
        flock_gateway_impl g = {names[i], g_init, b_fin, b_cfg, g_addr, g_addr};
        gws[i]               = g;
        flock_return_t r     = i % 2 ? flock_register_gateway(&gws[i])
                                     : flock_provider_register_gateway(&gws[i]);
        if (r == FLOCK_SUCCESS)
            ok++;
        else if (r == FLOCK_ERR_ALLOCATION)
            full++;
    }
    CHECK_EQ_INT(ok + 2, 64); /* default + pinggy */
    CHECK_EQ_INT(ok + full, 80);
    CHECK(flock__find_gateway("b1") == &gws[1]);

    margo_finalize(mid);
    return FT_DONE();
}
