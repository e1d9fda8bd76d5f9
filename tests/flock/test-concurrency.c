/*
 * test-concurrency.c -- membership changes racing with flock_get_view
 * clients, group-file readers and callback add/remove: the file is always
 * a complete, valid view (atomic replace), clients always get
 * self-consistent views (digest matches content), and at the end the file
 * and the clients agree with the provider.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "flock-core-test.h"
#include "dyn-backend.h"
#include <flock/flock-client.h>
#include <flock/flock-group.h>

static margo_instance_id srv;
static dyn_state*        dyn;
static const char*       file;
static atomic_bool       stop;
static atomic_int        callbacks_seen;
static flock_provider_t  provider;

static void count_cb(void* ctx, flock_update_t u, const char* a, uint16_t pid)
{
    (void)ctx, (void)u, (void)a, (void)pid;
    atomic_fetch_add(&callbacks_seen, 1);
}

static void* changer(void* arg)
{
    int  base = (int)(intptr_t)arg;
    char a[64];
    for (int i = 0; i < 300; i++) {
        snprintf(a, sizeof a, "tcp://10.%d.0.%d:1", base, i % 50);
        if (i % 3 == 2)
            dyn_leave(dyn, a, (uint16_t)(i % 50)); /* may be absent: harmless */
        else
            dyn_join(dyn, a, (uint16_t)(i % 50));
    }
    return NULL;
}

static void* file_reader(void* arg)
{
    (void)arg;
    int bad = 0;
    while (!atomic_load(&stop)) {
        flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
        if (flock_group_view_from_file(file, &v) != FLOCK_SUCCESS) bad++;
        flock_group_view_clear(&v);
    }
    return (void*)(intptr_t)bad;
}

static void* client_loop(void* arg)
{
    flock_client_t       c = (flock_client_t)arg;
    flock_group_handle_t h = NULL;
    intptr_t             bad = 0;
    hg_addr_t            addr;
    if (margo_addr_self(srv, &addr) != HG_SUCCESS) return (void*)1;
    if (flock_group_handle_create(c, addr, 1, FLOCK_MODE_INIT_UPDATE, &h) != FLOCK_SUCCESS)
        bad++;
    while (h && !atomic_load(&stop)) {
        if (flock_group_update_view(h, NULL) != FLOCK_SUCCESS) bad++;
        flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER, re = FLOCK_GROUP_VIEW_INITIALIZER;
        flock_group_get_view(h, &v);
        flock_group_view_copy(&v, &re);
        if (re.digest != v.digest) bad++;
        flock_group_view_clear(&v);
        flock_group_view_clear(&re);
    }
    if (h) flock_group_handle_release(h);
    margo_addr_free(srv, addr);
    return (void*)bad;
}

static void* callback_churn(void* arg)
{
    (void)arg;
    int ctx[4];
    while (!atomic_load(&stop)) {
        for (int i = 0; i < 4; i++)
            flock_provider_add_update_callbacks(provider, count_cb, NULL, &ctx[i]);
        for (int i = 0; i < 4; i++) flock_provider_remove_update_callbacks(provider, &ctx[i]);
    }
    return NULL;
}

int main(void)
{
    margo_set_global_log_level(MARGO_LOG_CRITICAL);
    srv = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(srv);
    file = fct_path("race.flock");
    char cfg[800];
    snprintf(cfg, sizeof cfg, "{\"file\":\"%s\",\"group\":{\"type\":\"dyn\"}}", file);
    REQUIRE(flock_register_backend(&dyn_backend) == FLOCK_SUCCESS);
    /* our address must sort first so this provider keeps writing the file:
     * members added below are tcp:// and na+sm:// < tcp:// */
    REQUIRE(flock_provider_register(srv, 1, cfg, NULL, &provider) == FLOCK_SUCCESS);
    dyn = last_dyn;
    REQUIRE(dyn);
    int keep;
    REQUIRE(flock_provider_add_update_callbacks(provider, count_cb, NULL, &keep) == FLOCK_SUCCESS);

    flock_client_t c = NULL;
    REQUIRE(flock_client_init(srv, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
    pthread_t ch[2], rd, cl[2], cb;
    pthread_create(&rd, NULL, file_reader, NULL);
    pthread_create(&cl[0], NULL, client_loop, c);
    pthread_create(&cl[1], NULL, client_loop, c);
    pthread_create(&cb, NULL, callback_churn, NULL);
    pthread_create(&ch[0], NULL, changer, (void*)(intptr_t)1);
    pthread_create(&ch[1], NULL, changer, (void*)(intptr_t)2);
    pthread_join(ch[0], NULL);
    pthread_join(ch[1], NULL);
    atomic_store(&stop, true);
    void* r;
    pthread_join(rd, &r);
    CHECK_EQ_INT((intptr_t)r, 0);
    pthread_join(cl[0], &r);
    CHECK_EQ_INT((intptr_t)r, 0);
    pthread_join(cl[1], &r);
    CHECK_EQ_INT((intptr_t)r, 0);
    pthread_join(cb, NULL);
    CHECK(atomic_load(&callbacks_seen) >= 2 * 50); /* "keep" saw the changes */

    /* final agreement: provider view == group file == fresh client view
     * (100 changes in a burst: the file catches up with one coalesced
     * write, FLOCK__GROUP_FILE_COALESCE_MS after the last one) */
    flock_group_view_t pv = FLOCK_GROUP_VIEW_INITIALIZER, fv = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(fct_provider_view(provider, &pv) == FLOCK_SUCCESS);
    flock_return_t fr = FLOCK_ERR_OTHER;
    for (int i = 0; i < 500; i++) { /* up to 10 s */
        flock_group_view_clear(&fv);
        fr = flock_group_view_from_file(file, &fv);
        if (fr == FLOCK_SUCCESS && pv.digest == fv.digest) break;
        margo_thread_sleep(srv, 20);
    }
    CHECK_EQ_INT(fr, FLOCK_SUCCESS);
    CHECK(pv.digest == fv.digest);
    hg_addr_t            addr;
    flock_group_handle_t h = NULL;
    REQUIRE(margo_addr_self(srv, &addr) == HG_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_create(c, addr, 1, FLOCK_MODE_INIT_UPDATE, &h), FLOCK_SUCCESS);
    flock_group_view_t hv = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_group_get_view(h, &hv);
    CHECK(hv.digest == pv.digest);
    flock_group_view_clear(&hv);
    flock_group_handle_release(h);
    margo_addr_free(srv, addr);
    flock_group_view_clear(&pv);
    flock_group_view_clear(&fv);
    flock_client_finalize(c);
    CHECK_EQ_INT(flock_provider_destroy(provider), FLOCK_SUCCESS);
    margo_finalize(srv);
    return FT_DONE();
}
