/*
 * rt-test.h -- small helpers shared by the runtime tests (on top of
 * tests/common/flock-test.h).
 */
#ifndef FLOCK_RT_TEST_H
#define FLOCK_RT_TEST_H

#include "flock-test.h"

#include <margo.h>
#include <pthread.h>
#include <stdatomic.h>

/** Transport under test: argv[1] if given ("na+sm", "tcp", "ofi+tcp"), else na+sm. */
static inline const char* rt_transport(int argc, char** argv)
{
    return argc > 1 ? argv[1] : "na+sm";
}

/** Address string of a TCP transport bound to loopback (tests never use a
 *  routable interface). */
static inline const char* rt_listen_addr(const char* transport)
{
    static char buf[128];
    if (strcmp(transport, "na+sm") == 0) return "na+sm";
    snprintf(buf, sizeof buf, "%s://127.0.0.1:0", transport);
    return buf;
}

static inline margo_instance_id rt_server(const char* transport)
{
    margo_instance_id mid = margo_init(rt_listen_addr(transport), MARGO_SERVER_MODE, 0, 0);
    REQUIRE(mid != MARGO_INSTANCE_NULL);
    return mid;
}

static inline hg_addr_t rt_lookup(margo_instance_id mid, const char* s)
{
    hg_addr_t a = HG_ADDR_NULL;
    REQUIRE(margo_addr_lookup(mid, s, &a) == HG_SUCCESS);
    return a;
}

/* An echo handler: responds with its input. */
static inline void rt_echo(frt_request_t req, const void* in, size_t len, void* u)
{
    (void)u;
    frt_respond(req, in, len);
}

#endif /* FLOCK_RT_TEST_H */
