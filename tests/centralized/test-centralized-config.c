/*
 * test-centralized-config.c -- table test of the centralized backend's
 * config parsing: defaults, accepted types (ints as doubles), check order,
 * precedence of the view's __config__, canonical output (doubles with .0).
 */
#include "flock-test.h"

#include <json-c/json.h>
#include "backends/centralized/centralized-config.h"

typedef struct {
    const char* group_config; /* JSON text or NULL */
    const char* view_config;  /* __config__ text or NULL */
    flock_return_t expect;
    const char* output;  /* canonical JSON when expect == SUCCESS */
    const char* err_has; /* substring of the error message */
} config_case;

static const config_case cases[] = {
    /* defaults */
    {NULL, NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":1000.0,\"ping_interval_ms\":1000.0,\"ping_max_num_timeouts\":"
     "3}",
     NULL},
    {"{}", NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":1000.0,\"ping_interval_ms\":1000.0,\"ping_max_num_timeouts\":"
     "3}",
     NULL},
    /* the spec's example */
    {"{\"ping_timeout_ms\":400.0,\"ping_interval_ms\":[800.0,1000.0],\"ping_max_num_"
     "timeouts\":2,"
     "\"primary_address\":\"na+sm://123-0\",\"primary_provider_id\":1}",
     NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":400.0,\"ping_interval_ms\":[800.0,1000.0],\"ping_max_num_"
     "timeouts\":2,"
     "\"primary_address\":\"na+sm://123-0\",\"primary_provider_id\":1}",
     NULL},
    /* integers accepted where doubles are, printed with .0 */
    {"{\"ping_timeout_ms\":2000,\"ping_interval_ms\":500}", NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":2000.0,\"ping_interval_ms\":500.0,\"ping_max_num_timeouts\":"
     "3}",
     NULL},
    {"{\"ping_interval_ms\":[100,300]}", NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":1000.0,\"ping_interval_ms\":[100.0,300.0],\"ping_max_num_"
     "timeouts\":3}",
     NULL},
    /* [x, x] prints as a single double */
    {"{\"ping_interval_ms\":[250.0,250]}", NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":1000.0,\"ping_interval_ms\":250.0,\"ping_max_num_timeouts\":"
     "3}",
     NULL},
    {"{\"ping_timeout_ms\":0.1}", NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":0.10000000000000001,\"ping_interval_ms\":1000.0,"
     "\"ping_max_num_timeouts\":3}",
     NULL},
    /* unknown keys dropped */
    {"{\"foo\":1,\"ping_max_num_timeouts\":5}", NULL, FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":1000.0,\"ping_interval_ms\":1000.0,\"ping_max_num_timeouts\":"
     "5}",
     NULL},
    /* slashes unescaped */
    {"{\"primary_address\":\"ofi+tcp://127.0.0.1:1234\",\"primary_provider_id\":7}", NULL,
     FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":1000.0,\"ping_interval_ms\":1000.0,\"ping_max_num_timeouts\":"
     "3,"
     "\"primary_address\":\"ofi+tcp://127.0.0.1:1234\",\"primary_provider_id\":7}",
     NULL},
    /* __config__ wins over group.config, key by key */
    {"{\"ping_timeout_ms\":10,\"ping_max_num_timeouts\":9}",
     "{\"ping_timeout_ms\":20.0,\"primary_address\":\"na+sm://"
     "1-0\",\"primary_provider_id\":3}",
     FLOCK_SUCCESS,
     "{\"ping_timeout_ms\":20.0,\"ping_interval_ms\":1000.0,\"ping_max_num_timeouts\":9,"
     "\"primary_address\":\"na+sm://1-0\",\"primary_provider_id\":3}",
     NULL},
    /* errors */
    {NULL, "{not json", FLOCK_ERR_INVALID_ARGS, NULL, "__config__"},
    {NULL, "[1,2]", FLOCK_ERR_INVALID_ARGS, NULL, "__config__"},
    {"[]", NULL, FLOCK_ERR_INVALID_CONFIG, NULL, "config"},
    {"{\"primary_address\":12}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL, "primary_address"},
    {"{\"primary_provider_id\":65535}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "primary_provider_id"},
    {"{\"primary_provider_id\":-1}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "primary_provider_id"},
    {"{\"primary_provider_id\":1.5}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "primary_provider_id"},
    {"{\"ping_timeout_ms\":-1}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL, "ping_timeout_ms"},
    {"{\"ping_timeout_ms\":\"5\"}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_timeout_ms"},
    {"{\"ping_interval_ms\":[1,\"x\"]}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_interval_ms"},
    {"{\"ping_interval_ms\":[1,2,3]}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_interval_ms"},
    {"{\"ping_interval_ms\":[5,2]}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_interval_ms"},
    {"{\"ping_interval_ms\":-3}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_interval_ms"},
    {"{\"ping_interval_ms\":true}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_interval_ms"},
    {"{\"ping_max_num_timeouts\":0}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_max_num_timeouts"},
    {"{\"ping_max_num_timeouts\":2.0}", NULL, FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_max_num_timeouts"},
    /* check order: primary_address is checked before ping_timeout_ms */
    {"{\"ping_timeout_ms\":-1,\"primary_address\":5}", NULL, FLOCK_ERR_INVALID_CONFIG,
     NULL, "primary_address"},
    /* ... and __config__ before the group config type */
    {"[]", "oops", FLOCK_ERR_INVALID_ARGS, NULL, "__config__"},
    /* a bad __config__ key is still an invalid config */
    {NULL, "{\"ping_max_num_timeouts\":-4}", FLOCK_ERR_INVALID_CONFIG, NULL,
     "ping_max_num_timeouts"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const config_case* c = &cases[i];
        struct json_object* gc =
            c->group_config ? json_tokener_parse(c->group_config) : NULL;
        flock__cent_config_t cfg;
        char err[256];
        flock_return_t ret;

        if (c->group_config) REQUIRE(gc != NULL);
        ret = flock__cent_config_parse(gc, c->view_config, &cfg, err, sizeof err);
        if (ret != c->expect)
            FT_FAIL("case %zu: got %d, expected %d (%s)", i, ret, c->expect, err);
        if (ret == FLOCK_SUCCESS && c->output) {
            char* s = flock__cent_config_to_string(&cfg);
            if (!s || strcmp(s, c->output) != 0)
                FT_FAIL("case %zu:\n  got      %s\n  expected %s", i, s ? s : "(null)",
                        c->output);
            free(s);
        }
        if (ret != FLOCK_SUCCESS && c->err_has && !strstr(err, c->err_has))
            FT_FAIL("case %zu: error \"%s\" does not name \"%s\"", i, err, c->err_has);
        flock__cent_config_destroy(&cfg);
        flock__cent_config_destroy(&cfg); /* idempotent */
        if (gc) json_object_put(gc);
    }

    /* set_primary completes the effective config */
    {
        flock__cent_config_t cfg;
        REQUIRE(flock__cent_config_parse(NULL, NULL, &cfg, NULL, 0) == FLOCK_SUCCESS);
        CHECK(cfg.primary_address == NULL);
        CHECK(cfg.ping_interval_min_ms == 1000.0 && cfg.ping_interval_max_ms == 1000.0);
        REQUIRE(flock__cent_config_set_primary(&cfg, "na+sm://42-0", 42) ==
                FLOCK_SUCCESS);
        char* s = flock__cent_config_to_string(&cfg);
        CHECK_EQ_STR(s,
                     "{\"ping_timeout_ms\":1000.0,\"ping_interval_ms\":1000.0,"
                     "\"ping_max_num_timeouts\":3,\"primary_address\":\"na+sm://42-0\","
                     "\"primary_provider_id\":42}");
        free(s);
        flock__cent_config_destroy(&cfg);
    }
    return FT_DONE();
}
