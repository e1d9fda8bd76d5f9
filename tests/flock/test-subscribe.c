/*
 * test-subscribe.c -- subscriptions and run-time metadata in one process
 * (issue #16): a centralized group served by one instance, a client
 * instance that subscribes; metadata set/remove seen once by the provider's
 * callbacks and by the subscriber, in order; a member joining and leaving;
 * limits and reserved keys (client side and, with raw requests, member
 * side); unsubscribe from outside and from inside a callback; the member's
 * subscriber count. Cross-process behaviour (SIGKILL of the contact or of
 * the client, tcp) is in tests/subscribe/.
 */
#include <pthread.h>
#include "flock-core-test.h"
#include "flock/subscribe-wire.h"
#include <flock/flock-client.h>
#include <flock/flock-group.h>

static margo_instance_id srv, cli;
static char              srv_addr[128];

/* ---------------- an event recorder ---------------- */

typedef struct {
    pthread_mutex_t m;
    char            lines[256][160];
    int             n;
    flock_group_handle_t stop_on; /* unsubscribe from the callback on "stop" */
    flock_return_t  stop_ret;
} recorder;

static void rec_add(recorder* r, const char* line)
{
    pthread_mutex_lock(&r->m);
    if (r->n < 256) snprintf(r->lines[r->n++], 160, "%s", line);
    pthread_mutex_unlock(&r->m);
}

static void rec_member(void* ctx, flock_update_t u, const char* addr, uint16_t pid)
{
    char line[160];
    snprintf(line, sizeof line, "%s %s %u",
             u == FLOCK_MEMBER_JOINED ? "J" : u == FLOCK_MEMBER_LEFT ? "L" : "D", addr,
             (unsigned)pid);
    rec_add((recorder*)ctx, line);
}

static void rec_meta(void* ctx, const char* key, const char* value)
{
    recorder* r = (recorder*)ctx;
    char      line[160];
    if (key[0] == '_' && key[1] == '_') return; /* reserved: not interesting here */
    snprintf(line, sizeof line, "M %s %.100s", key, value ? value : "-");
    rec_add(r, line);
    if (r->stop_on && strcmp(key, "stop") == 0) {
        flock_return_t ret = flock_group_unsubscribe(r->stop_on);
        pthread_mutex_lock(&r->m);
        r->stop_ret = ret;
        pthread_mutex_unlock(&r->m);
    }
}

static int rec_count(recorder* r, const char* line)
{
    int k = 0;
    pthread_mutex_lock(&r->m);
    for (int i = 0; i < r->n; i++) k += strcmp(r->lines[i], line) == 0;
    pthread_mutex_unlock(&r->m);
    return k;
}

static int rec_total(recorder* r)
{
    pthread_mutex_lock(&r->m);
    int n = r->n;
    pthread_mutex_unlock(&r->m);
    return n;
}

typedef struct {
    recorder*   r;
    const char* line;
} rec_wait;

static bool rec_has(void* arg)
{
    rec_wait* w = (rec_wait*)arg;
    return rec_count(w->r, w->line) > 0;
}

static bool wait_line(recorder* r, const char* line)
{
    rec_wait w = {r, line};
    if (ft_wait_until(rec_has, &w, 30000)) return true;
    pthread_mutex_lock(&r->m); /* say what came instead */
    fprintf(stderr, "waited 30 s for \"%s\"; %d lines recorded:\n", line, r->n);
    for (int i = 0; i < r->n; i++) fprintf(stderr, "  %s\n", r->lines[i]);
    pthread_mutex_unlock(&r->m);
    return false;
}

static int rec_index(recorder* r, const char* line)
{
    pthread_mutex_lock(&r->m);
    int at = -1;
    for (int i = 0; i < r->n && at < 0; i++)
        if (strcmp(r->lines[i], line) == 0) at = i;
    pthread_mutex_unlock(&r->m);
    return at;
}

/* ---------------- helpers ---------------- */

static flock_provider_t start_primary(void)
{
    flock_provider_t p = NULL;
    const char* cfg = "{\"group\":{\"type\":\"centralized\",\"config\":{}}}";
    REQUIRE(flock_provider_register(srv, 1, cfg, NULL, &p) == FLOCK_SUCCESS);
    return p;
}

static flock_provider_t start_joiner(uint16_t id)
{
    flock_provider_t            p  = NULL;
    flock_group_view_t          v  = FLOCK_GROUP_VIEW_INITIALIZER;
    struct flock_provider_args  a  = FLOCK_PROVIDER_ARGS_INIT;
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"group\":{\"type\":\"centralized\",\"config\":{\"primary_address\":\"%s\","
             "\"primary_provider_id\":1}}}", srv_addr);
    REQUIRE(flock_group_view_add_member(&v, srv_addr, 1));
    a.initial_view = &v;
    REQUIRE(flock_provider_register(srv, id, cfg, &a, &p) == FLOCK_SUCCESS);
    flock_group_view_clear(&v);
    return p;
}

/* A raw flock_metadata_set request to provider 1; the member's status. */
static flock_return_t raw_meta_set(const char* key, const char* value, hg_return_t* hret)
{
    hg_addr_t      a   = HG_ADDR_NULL;
    frt_wbuf       in  = FRT_WBUF_INIT;
    void*          out = NULL;
    size_t         len = 0;
    flock_return_t st  = FLOCK_ERR_OTHER;
    REQUIRE(margo_addr_lookup(cli, srv_addr, &a) == HG_SUCCESS);
    flock__sub_encode_meta_set(&in, key, value);
    *hret = frt_forward(cli, a, FLOCK__METADATA_SET_RPC, 1, in.data, in.len, 10000, &out, &len);
    if (*hret == HG_SUCCESS) CHECK(flock__sub_decode_status(out, len, &st));
    free(out);
    frt_wbuf_free(&in);
    margo_addr_free(cli, a);
    return st;
}

/* ---------------- the test ---------------- */

static void test_subscribe_and_metadata(void)
{
    recorder prov_rec, sub_rec;
    memset(&prov_rec, 0, sizeof prov_rec);
    memset(&sub_rec, 0, sizeof sub_rec);
    pthread_mutex_init(&prov_rec.m, NULL);
    pthread_mutex_init(&sub_rec.m, NULL);

    flock_provider_t p1 = start_primary();
    CHECK_EQ_INT(flock_provider_add_update_callbacks(p1, rec_member, rec_meta, &prov_rec),
                 FLOCK_SUCCESS);
    flock_client_t       c = NULL;
    flock_group_handle_t h = NULL;
    hg_addr_t            a = HG_ADDR_NULL;
    REQUIRE(flock_client_init(cli, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
    REQUIRE(margo_addr_lookup(cli, srv_addr, &a) == HG_SUCCESS);
    REQUIRE(flock_group_handle_create(c, a, 1, 0, &h) == FLOCK_SUCCESS);
    margo_addr_free(cli, a);

    /* subscribe: the snapshot fills the cache (reserved metadata arrives) */
    CHECK_EQ_INT(flock_group_subscribe(h, rec_member, rec_meta, &sub_rec), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock__provider_subscriber_count(p1), 1);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    CHECK_EQ_INT(flock_group_get_view(h, &v), FLOCK_SUCCESS);
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "__type__"), "centralized");
    flock_group_view_clear(&v);

    /* set, set again (no change: no event), remove, remove again */
    CHECK_EQ_INT(flock_group_metadata_set(h, "color", "blue"), FLOCK_SUCCESS);
    CHECK(wait_line(&sub_rec, "M color blue"));
    CHECK_EQ_INT(rec_count(&prov_rec, "M color blue"), 1); /* before set returned */
    CHECK_EQ_INT(flock_group_metadata_set(h, "color", "blue"), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_metadata_set(h, "color", "red"), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_metadata_set(h, "empty", ""), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_metadata_set(h, "color", NULL), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_metadata_set(h, "color", NULL), FLOCK_SUCCESS);
    CHECK(wait_line(&sub_rec, "M color -"));
    CHECK_EQ_INT(rec_count(&sub_rec, "M color blue"), 1);
    CHECK_EQ_INT(rec_count(&sub_rec, "M color red"), 1);
    CHECK_EQ_INT(rec_count(&sub_rec, "M empty "), 1);
    CHECK_EQ_INT(rec_count(&sub_rec, "M color -"), 1);
    CHECK_EQ_INT(rec_count(&prov_rec, "M color -"), 1);
    CHECK(rec_index(&sub_rec, "M color blue") < rec_index(&sub_rec, "M color red"));
    CHECK(rec_index(&sub_rec, "M color red") < rec_index(&sub_rec, "M color -"));
    CHECK_EQ_INT(flock_group_get_view(h, &v), FLOCK_SUCCESS); /* the cache follows */
    CHECK(flock_group_view_find_metadata(&v, "color") == NULL);
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "empty"), "");
    flock_group_view_clear(&v);

    /* a member joins (it gets the metadata with the view) and leaves */
    CHECK_EQ_INT(flock_group_metadata_set(h, "shape", "round"), FLOCK_SUCCESS);
    flock_provider_t p2 = start_joiner(2);
    char joined[160], left[160];
    snprintf(joined, sizeof joined, "J %s 2", srv_addr);
    snprintf(left, sizeof left, "L %s 2", srv_addr);
    CHECK(wait_line(&sub_rec, joined));
    CHECK_EQ_INT(fct_provider_view(p2, &v), FLOCK_SUCCESS);
    CHECK_EQ_STR(flock_group_view_find_metadata(&v, "shape"), "round");
    flock_group_view_clear(&v);
    CHECK_EQ_INT(flock_provider_destroy(p2), FLOCK_SUCCESS);
    CHECK(wait_line(&sub_rec, left));
    CHECK_EQ_INT(rec_count(&sub_rec, joined), 1);
    CHECK(rec_index(&sub_rec, joined) < rec_index(&sub_rec, left));

    /* limits: on the client, and at the member (raw requests) */
    char big[FLOCK_METADATA_VALUE_MAX + 2];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_EQ_INT(flock_group_metadata_set(h, "k", big), FLOCK_ERR_INVALID_ARGS);
    big[FLOCK_METADATA_KEY_MAX + 1] = '\0';
    CHECK_EQ_INT(flock_group_metadata_set(h, big, "v"), FLOCK_ERR_INVALID_ARGS);
    hg_return_t hret;
    CHECK_EQ_INT(raw_meta_set("__type__", "x", &hret), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(hret, HG_SUCCESS);
    CHECK_EQ_INT(raw_meta_set("bad\xc3", "x", &hret), FLOCK_ERR_INVALID_ARGS);
    CHECK_EQ_INT(raw_meta_set("k", "\xed\xa0\x80", &hret), FLOCK_ERR_INVALID_ARGS);
    /* the group's total: 4000-byte values until the primary refuses */
    memset(big, 'v', 4000);
    big[4000] = '\0';
    flock_return_t last = FLOCK_SUCCESS;
    int            set  = 0;
    for (; set < 40 && last == FLOCK_SUCCESS; set++) {
        char key[16];
        snprintf(key, sizeof key, "fill%02d", set);
        last = flock_group_metadata_set(h, key, big);
    }
    CHECK_EQ_INT(last, FLOCK_ERR_INVALID_ARGS);
    CHECK(set >= 15 && set <= 17);
    for (int i = 0; i < set; i++) {
        char key[16];
        snprintf(key, sizeof key, "fill%02d", i);
        CHECK_EQ_INT(flock_group_metadata_set(h, key, NULL), FLOCK_SUCCESS);
    }

    /* unsubscribe from inside a callback: later changes are not delivered */
    pthread_mutex_lock(&sub_rec.m);
    sub_rec.stop_on  = h;
    sub_rec.stop_ret = FLOCK_ERR_OTHER;
    pthread_mutex_unlock(&sub_rec.m);
    CHECK_EQ_INT(flock_group_metadata_set(h, "stop", "1"), FLOCK_SUCCESS);
    CHECK(wait_line(&sub_rec, "M stop 1"));
    flock_return_t stop_ret = FLOCK_ERR_OTHER;
    for (int i = 0; i < 3000 && stop_ret == FLOCK_ERR_OTHER; i++) { /* the callback returns */
        pthread_mutex_lock(&sub_rec.m);
        stop_ret = sub_rec.stop_ret;
        pthread_mutex_unlock(&sub_rec.m);
        if (stop_ret == FLOCK_ERR_OTHER) ft_sleep_ms(10);
    }
    CHECK_EQ_INT(stop_ret, FLOCK_SUCCESS);
    int before = rec_total(&sub_rec);
    CHECK_EQ_INT(flock_group_metadata_set(h, "after", "1"), FLOCK_SUCCESS);
    ft_sleep_ms(300);
    CHECK_EQ_INT(rec_total(&sub_rec), before);
    CHECK_EQ_INT(rec_count(&prov_rec, "M after 1"), 1);

    /* subscribe again, unsubscribe from outside; the member forgets it */
    sub_rec.stop_on = NULL;
    CHECK_EQ_INT(flock_group_subscribe(h, rec_member, rec_meta, &sub_rec), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_unsubscribe(h), FLOCK_SUCCESS);
    for (int i = 0; i < 300 && flock__provider_subscriber_count(p1) != 0; i++) ft_sleep_ms(10);
    CHECK_EQ_INT(flock__provider_subscriber_count(p1), 0);

    /* releasing a subscribed handle unsubscribes */
    CHECK_EQ_INT(flock_group_subscribe(h, rec_member, rec_meta, &sub_rec), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    for (int i = 0; i < 300 && flock__provider_subscriber_count(p1) != 0; i++) ft_sleep_ms(10);
    CHECK_EQ_INT(flock__provider_subscriber_count(p1), 0);

    CHECK_EQ_INT(flock_client_finalize(c), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p1), FLOCK_SUCCESS);
    pthread_mutex_destroy(&prov_rec.m);
    pthread_mutex_destroy(&sub_rec.m);
}

/* A subscribed client whose contact provider goes away: it is told at
 * once (the parked poll fails) and moves to the other member. */
static void test_contact_goes_away(void)
{
    recorder r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.m, NULL);
    flock_provider_t p1 = start_primary();
    flock_provider_t p2 = start_joiner(2);
    flock_client_t   c  = NULL;
    flock_group_handle_t h = NULL;
    hg_addr_t        a  = HG_ADDR_NULL;
    REQUIRE(flock_client_init(cli, ABT_POOL_NULL, &c) == FLOCK_SUCCESS);
    REQUIRE(margo_addr_lookup(cli, srv_addr, &a) == HG_SUCCESS);
    REQUIRE(flock_group_handle_create(c, a, 2, FLOCK_MODE_INIT_UPDATE, &h) == FLOCK_SUCCESS);
    margo_addr_free(cli, a);
    CHECK_EQ_INT(flock_group_subscribe(h, rec_member, rec_meta, &r), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p2), FLOCK_SUCCESS); /* the contact leaves */
    char left[160];
    snprintf(left, sizeof left, "L %s 2", srv_addr);
    CHECK(wait_line(&r, left));
    CHECK_EQ_INT(flock_group_metadata_set(h, "still", "here"), FLOCK_SUCCESS);
    CHECK(wait_line(&r, "M still here"));
    CHECK_EQ_INT(rec_count(&r, left), 1);
    CHECK_EQ_INT(flock__provider_subscriber_count(p1), 1);
    CHECK_EQ_INT(flock_group_handle_release(h), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_client_finalize(c), FLOCK_SUCCESS);
    CHECK_EQ_INT(flock_provider_destroy(p1), FLOCK_SUCCESS);
    pthread_mutex_destroy(&r.m);
}

int main(void)
{
    ft_install_cleanup();
    setenv("FLOCK_SUBSCRIBE_WAIT_MS", "500", 1);
    srv = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    cli = margo_init("na+sm", MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(srv && cli);
    margo_set_log_level(srv, MARGO_LOG_ERROR);
    margo_set_log_level(cli, MARGO_LOG_ERROR);
    snprintf(srv_addr, sizeof srv_addr, "%s", frt_self_addr_str(srv));
    test_subscribe_and_metadata();
    test_contact_goes_away();
    margo_finalize(cli);
    margo_finalize(srv);
    return FT_DONE();
}
