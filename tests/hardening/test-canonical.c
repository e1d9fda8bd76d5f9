/*
 * test-canonical.c -- one name per endpoint (issue #19 item 8): the
 * canonical text of addresses (frt_addr_canonical) and its use when a view
 * is loaded from a string (view.c): aliases of one endpoint become one
 * member written with the scheme the group already uses; two spellings of
 * one member are a duplicate; strings that are not addresses stay as
 * written.
 */
#include "flock-test.h"

#include <frt.h>
#include <flock/flock-group-view.h>

typedef struct {
    const char* in;
    const char* scheme; /* tcp_scheme argument */
    hg_return_t ret;
    const char* out;
} canon_case;

static const canon_case canon[] = {
    {"tcp://127.0.0.1:5000", NULL, HG_SUCCESS, "tcp://127.0.0.1:5000"},
    {"na+tcp://127.0.0.1:5000", NULL, HG_SUCCESS, "tcp://127.0.0.1:5000"},
    {"ofi+tcp://127.0.0.1:5000", NULL, HG_SUCCESS, "ofi+tcp://127.0.0.1:5000"},
    {"ofi+tcp;ofi_rxm://127.0.0.1:5000", NULL, HG_SUCCESS, "ofi+tcp://127.0.0.1:5000"},
    {"ofi+tcp://127.0.0.1:5000", "tcp", HG_SUCCESS, "tcp://127.0.0.1:5000"},
    {"tcp://127.0.0.1:5000", "ofi+tcp", HG_SUCCESS, "ofi+tcp://127.0.0.1:5000"},
    {"tcp://[0:0:0:0:0:0:0:1]:7", NULL, HG_SUCCESS, "tcp://[::1]:7"},
    {"sm://12-3", NULL, HG_SUCCESS, "na+sm://12-3"},
    {"na+sm://12-3", "tcp", HG_SUCCESS, "na+sm://12-3"},
    {"tcp://127.0.0.1:5000", "bmi", HG_SUCCESS, "tcp://127.0.0.1:5000"},
    {"tcp://127.0.0.1", NULL, HG_INVALID_ARG, NULL}, /* no port: not a peer */
    {"na+sm", NULL, HG_INVALID_ARG, NULL},
    {"bogus", NULL, HG_PROTONOSUPPORT, NULL}, /* no scheme: taken as one */
    {"verbs://x:1", NULL, HG_PROTONOSUPPORT, NULL},
};

static void check_canonical(void)
{
    for (size_t i = 0; i < sizeof canon / sizeof *canon; i++) {
        char out[128] = "untouched";
        CHECK_EQ_INT(frt_addr_canonical(canon[i].in, canon[i].scheme, out, sizeof out),
                     canon[i].ret);
        CHECK_EQ_STR(out, canon[i].out ? canon[i].out : "untouched");
    }
    char small[8];
    CHECK_EQ_INT(frt_addr_canonical("tcp://127.0.0.1:5000", NULL, small, sizeof small),
                 HG_OVERFLOW);
}

/* Load text; return FLOCK_SUCCESS and the member addresses joined by ' '. */
static flock_return_t load(const char* text, char* joined, size_t size)
{
    flock_group_view_t v   = FLOCK_GROUP_VIEW_INITIALIZER;
    flock_return_t     ret = flock_group_view_from_string(text, strlen(text), &v);
    joined[0]              = 0;
    for (size_t i = 0; ret == FLOCK_SUCCESS && i < v.members.size; i++) {
        strncat(joined, v.members.data[i].address, size - strlen(joined) - 2);
        strcat(joined, " ");
    }
    flock_group_view_clear(&v);
    return ret;
}

static void check_views(void)
{
    char got[512];
    /* the group's scheme is its first tcp-family member's */
    CHECK_EQ_INT(load("{\"members\":[{\"address\":\"ofi+tcp://10.0.0.1:1\",\"provider_id\":1},"
                      "{\"address\":\"tcp://10.0.0.2:1\",\"provider_id\":1}]}",
                      got, sizeof got),
                 FLOCK_SUCCESS);
    CHECK_EQ_STR(got, "ofi+tcp://10.0.0.1:1 ofi+tcp://10.0.0.2:1 ");
    CHECK_EQ_INT(load("{\"members\":[{\"address\":\"tcp://10.0.0.2:1\",\"provider_id\":1},"
                      "{\"address\":\"ofi+tcp;ofi_rxm://10.0.0.1:1\",\"provider_id\":1}]}",
                      got, sizeof got),
                 FLOCK_SUCCESS);
    CHECK_EQ_STR(got, "tcp://10.0.0.1:1 tcp://10.0.0.2:1 ");
    /* one endpoint under two spellings: one member twice */
    CHECK_EQ_INT(load("{\"members\":[{\"address\":\"tcp://10.0.0.1:1\",\"provider_id\":1},"
                      "{\"address\":\"ofi+tcp://10.0.0.1:1\",\"provider_id\":1}]}",
                      got, sizeof got),
                 FLOCK_ERR_INVALID_CONFIG);
    CHECK_EQ_INT(load("{\"members\":[{\"address\":\"na+sm://5-0\",\"provider_id\":1},"
                      "{\"address\":\"sm://5-0\",\"provider_id\":1}]}",
                      got, sizeof got),
                 FLOCK_ERR_INVALID_CONFIG);
    /* same endpoint, other provider: two members */
    CHECK_EQ_INT(load("{\"members\":[{\"address\":\"tcp://10.0.0.1:1\",\"provider_id\":1},"
                      "{\"address\":\"ofi+tcp://10.0.0.1:1\",\"provider_id\":2}]}",
                      got, sizeof got),
                 FLOCK_SUCCESS);
    CHECK_EQ_STR(got, "tcp://10.0.0.1:1 tcp://10.0.0.1:1 ");
    /* not addresses: as written */
    CHECK_EQ_INT(load("{\"members\":[{\"address\":\"member-a\",\"provider_id\":1}]}", got,
                      sizeof got),
                 FLOCK_SUCCESS);
    CHECK_EQ_STR(got, "member-a ");
}

int main(void)
{
    check_canonical();
    check_views();
    return FT_DONE();
}
