/* test-swim-config.c -- the swim backend's JSON config (swim-config.c) and
 * its clamps (swim__config_sanitize): tick_grid_ms, a number or "auto". */
#include "flock-test.h"
#include "backends/swim/swim-config.h"

#include <math.h>

/* the effective tick_grid_ms of a config text */
static double grid_of(const char* text)
{
    struct json_object* j = json_tokener_parse(text);
    swim__config c;
    swim__config_from_json(j, &c);
    json_object_put(j);
    return c.tick_grid_ms;
}

/* the default is auto, written back as "auto"; a number is kept (clamped
 * to a quarter of the period); negative is auto; a wrong type is ignored */
static void test_tick_grid_json(void)
{
    CHECK(grid_of("{}") == SWIM_TICK_GRID_AUTO);
    CHECK(grid_of("{\"tick_grid_ms\":\"auto\"}") == SWIM_TICK_GRID_AUTO);
    CHECK(grid_of("{\"tick_grid_ms\":0}") == 0.0);
    CHECK(grid_of("{\"tick_grid_ms\":50}") == 50.0);
    CHECK(grid_of("{\"tick_grid_ms\":12.5}") == 12.5);
    CHECK(grid_of("{\"tick_grid_ms\":400}") == 250.0);
    CHECK(grid_of("{\"protocol_period_ms\":100,\"tick_grid_ms\":50}") == 25.0);
    CHECK(grid_of("{\"tick_grid_ms\":-3}") == SWIM_TICK_GRID_AUTO);
    CHECK(grid_of("{\"tick_grid_ms\":\"fast\"}") == SWIM_TICK_GRID_AUTO);
    CHECK(grid_of("{\"tick_grid_ms\":true}") == SWIM_TICK_GRID_AUTO);

    swim__config c;
    swim__config_default(&c);
    struct json_object* out = swim__config_to_json(&c);
    struct json_object* v = NULL;
    CHECK(out && json_object_object_get_ex(out, "tick_grid_ms", &v));
    CHECK_EQ_STR(json_object_get_string(v), "auto");
    json_object_put(out);
    c.tick_grid_ms = 50.0;
    out = swim__config_to_json(&c);
    CHECK(out && json_object_object_get_ex(out, "tick_grid_ms", &v));
    CHECK(json_object_get_double(v) == 50.0);
    json_object_put(out);
}

/* the clamps themselves, as a caller that skips the JSON meets them */
static void test_tick_grid_sanitize(void)
{
    struct {
        double period, grid, want;
    } g[] = {
        {1000.0, -1.0, SWIM_TICK_GRID_AUTO},
        {100.0, 5.0, 5.0},
        {1000.0, 0.0, 0.0},
        {1000.0, 50.0, 50.0},
        {1000.0, 400.0, 250.0},
        {1000.0, NAN, SWIM_TICK_GRID_AUTO},
        {1000.0, -INFINITY, SWIM_TICK_GRID_AUTO},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        swim__config c;
        swim__config_default(&c);
        c.protocol_period_ms = g[i].period;
        c.tick_grid_ms = g[i].grid;
        swim__config_sanitize(&c);
        CHECK(c.tick_grid_ms == g[i].want);
    }
}

int main(void)
{
    test_tick_grid_json();
    test_tick_grid_sanitize();
    return FT_DONE();
}
