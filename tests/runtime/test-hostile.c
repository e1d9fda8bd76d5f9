/*
 * test-hostile.c -- hostile input on raw sockets (argv[1] transport):
 * garbage, truncated header, huge length, bad version, frames before the
 * hello, bad hello, NUL in a name, a second hello, bad error frames,
 * random bytes, a peer stalled mid-frame. Each bad connection is closed by
 * the server; the server keeps answering on new and existing connections.
 */
#include "rt-test.h"
#include "frt-internal.h"
#include "rt-raw.h"

static const char* transport;
static char        srv_addr[128];

/* Raw sockets to the server under test (rt-raw.h). */
static int  raw_connect(void) { return rt_raw_connect(srv_addr); }
static void raw_send(int fd, const void* p, size_t n) { rt_raw_send(fd, p, n); }

static margo_instance_id cli;
static hg_addr_t         srv_a;

static void server_still_works(const char* after)
{
    void*       out  = NULL;
    size_t      olen = 0;
    hg_return_t r    = frt_forward(cli, srv_a, "echo", 0, "ok", 2, 60000, &out, &olen);
    if (r != HG_SUCCESS || olen != 2) FT_FAIL("server broken after %s: %s", after, HG_Error_to_string(r));
    free(out);
    margo_instance_id fresh = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(fresh);
    hg_addr_t a = rt_lookup(fresh, srv_addr);
    r           = frt_forward(fresh, a, "echo", 0, "ok", 2, 60000, NULL, NULL);
    if (r != HG_SUCCESS) FT_FAIL("new connection refused after %s: %s", after, HG_Error_to_string(r));
    margo_addr_free(fresh, a);
    margo_finalize(fresh);
}

static void expect_close(int fd, const char* what)
{
    if (!rt_raw_sees_end(fd)) FT_FAIL("server kept the connection open after %s", what);
    close(fd);
    server_still_works(what);
}

int main(int argc, char** argv)
{
    transport             = rt_transport(argc, argv);
    margo_instance_id srv = rt_server(transport);
    margo_set_log_level(srv, MARGO_LOG_CRITICAL); /* the warnings are expected */
    snprintf(srv_addr, sizeof srv_addr, "%s", frt_self_addr_str(srv));
    CHECK_EQ_INT(frt_rpc_register(srv, "echo", 0, rt_echo, NULL, ABT_POOL_NULL), HG_SUCCESS);
    cli = margo_init(transport, MARGO_CLIENT_MODE, 0, 0);
    REQUIRE(cli);
    srv_a = rt_lookup(cli, srv_addr);
    server_still_works("setup");
    const char* peer = "na+sm://1-1";

    int fd = raw_connect();
    raw_send(fd, "GET / HTTP/1.0\r\n\r\n0123456789012345678901234567890123456789", 58);
    expect_close(fd, "garbage");

    fd = raw_connect();
    raw_send(fd, "FRT1\x01\x01", 6);
    shutdown(fd, SHUT_WR);
    expect_close(fd, "truncated header");

    fd = raw_connect();
    rt_raw_send_hello(fd, peer);
    uint8_t b[FRT__HDR_LEN];
    frt__hdr h = {.type = FRT__T_REQUEST, .id = 1, .name_len = 4, .payload_len = 100};
    frt__hdr_encode(&h, b);
    b[24] = b[25] = b[26] = b[27] = 0xff; /* payload length 4 GiB - 1 */
    raw_send(fd, b, sizeof b);
    expect_close(fd, "huge length");

    fd = raw_connect();
    frt__hdr_encode(&(frt__hdr){.type = FRT__T_HELLO, .name_len = 11}, b);
    b[4] = 9; /* version 9 */
    raw_send(fd, b, sizeof b);
    raw_send(fd, peer, 11);
    expect_close(fd, "bad version");

    fd = raw_connect();
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_REQUEST, .id = 1, .name_len = 4});
    raw_send(fd, "echo", 4);
    expect_close(fd, "request before hello");

    fd = raw_connect();
    rt_raw_send_hello(fd, "na+sm://not-an-address");
    expect_close(fd, "malformed hello");

    fd = raw_connect();
    rt_raw_send_hello(fd, peer);
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_REQUEST, .id = 1, .name_len = 4});
    raw_send(fd, "ec\0o", 4);
    expect_close(fd, "NUL in RPC name");

    fd = raw_connect();
    rt_raw_send_hello(fd, peer);
    rt_raw_send_hello(fd, peer);
    expect_close(fd, "second hello");

    fd = raw_connect();
    rt_raw_send_hello(fd, peer);
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_ERROR, .id = 5, .status = 0});
    expect_close(fd, "error frame with status 0");

    fd = raw_connect();
    rt_raw_send_hello(fd, peer);
    rt_raw_send_hdr(fd, (frt__hdr){.type        = FRT__T_REQUEST,
                                   .id          = 1,
                                   .name_len    = 4,
                                   .payload_len = 1000});
    raw_send(fd, "echo", 4);
    raw_send(fd, "partial", 7);
    shutdown(fd, SHUT_WR);
    expect_close(fd, "peer closing mid-frame");

    /* random bytes after a valid hello */
    srand(1234);
    for (int i = 0; i < 50; i++) {
        fd = raw_connect();
        rt_raw_send_hello(fd, peer);
        uint8_t junk[256];
        for (size_t k = 0; k < sizeof junk; k++) junk[k] = (uint8_t)rand();
        if (i % 2) memcpy(junk, "FRT1\x01", 5); /* valid magic and version */
        raw_send(fd, junk, sizeof junk);
        shutdown(fd, SHUT_WR);
        if (!rt_raw_sees_end(fd)) FT_FAIL("random frame %d: connection not closed", i);
        close(fd);
    }
    server_still_works("random frames");

    /* a well-formed request over the raw socket gets a well-formed answer,
     * and a stalled peer (half a frame) does not block anybody */
    int stalled = raw_connect();
    rt_raw_send_hello(stalled, peer);
    raw_send(stalled, "FRT1\x01\x02", 6);
    fd = raw_connect();
    rt_raw_send_hello(fd, peer);
    rt_raw_send_hdr(fd, (frt__hdr){.type        = FRT__T_REQUEST,
                                   .id          = 77,
                                   .name_len    = 4,
                                   .payload_len = 3});
    raw_send(fd, "echoabc", 7);
    rt_raw_send_hdr(fd, (frt__hdr){.type        = FRT__T_REQUEST,
                                   .id          = 78,
                                   .provider_id = 5,
                                   .name_len    = 4});
    raw_send(fd, "echo", 4);
    /* expect: the server's hello, then RESPONSE 77 "abc", then ERROR 78 NOENTRY */
    uint8_t  in[512];
    size_t   got = 0;
    double   end = ft_now_ms() + 20000;
    frt__hdr d;
    int      seen = 0;
    while (seen < 3 && ft_now_ms() < end) {
        ssize_t r = recv(fd, in + got, sizeof in - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        for (;;) {
            if (got < FRT__HDR_LEN) break;
            REQUIRE(frt__hdr_decode(in, &d) == NULL);
            size_t flen = FRT__HDR_LEN + d.name_len + d.payload_len;
            if (got < flen) break;
            if (seen == 0) CHECK(d.type == FRT__T_HELLO && d.name_len == strlen(srv_addr)
                                 && memcmp(in + FRT__HDR_LEN, srv_addr, d.name_len) == 0);
            /* 77 and 78 may come in either order */
            if (seen > 0 && d.id == 77)
                CHECK(d.type == FRT__T_RESPONSE && d.payload_len == 3
                      && memcmp(in + FRT__HDR_LEN, "abc", 3) == 0);
            else if (seen > 0)
                CHECK(d.type == FRT__T_ERROR && d.id == 78 && d.status == HG_NOENTRY);
            seen++;
            memmove(in, in + flen, got - flen);
            got -= flen;
        }
    }
    CHECK_EQ_INT(seen, 3);
    /* responses to unknown ids are ignored, the connection stays usable */
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_RESPONSE, .id = 999999});
    rt_raw_send_hdr(fd, (frt__hdr){.type = FRT__T_REQUEST, .id = 79, .name_len = 4});
    raw_send(fd, "echo", 4);
    got = 0;
    while (got < FRT__HDR_LEN) {
        ssize_t r = recv(fd, in + got, FRT__HDR_LEN - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    CHECK(got == FRT__HDR_LEN && frt__hdr_decode(in, &d) == NULL && d.type == FRT__T_RESPONSE
          && d.id == 79);
    server_still_works("stalled peer");
    close(fd);
    close(stalled);

    margo_addr_free(cli, srv_a);
    margo_finalize(cli);
    margo_finalize(srv);
    return FT_DONE();
}
