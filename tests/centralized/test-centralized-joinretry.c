/*
 * test-centralized-joinretry.c -- a joiner whose primary is not reachable
 * yet (nothing listens at its address: connection refused) keeps retrying
 * for a while, and gets in once the primary is up: both end with the same
 * 2-member view. (tcp, so the primary's address is known in advance.)
 */
#include "cent-test.h"

#define PID 42

static ct_status_t st, scratch;

int main(void)
{
    char file[1024], paddr[128], baddr[128], text[1024];
    ct_server_t a, b;
    FILE* f;

    snprintf(paddr, sizeof paddr, "ofi+tcp://127.0.0.1:%d", ft_free_tcp_port());
    snprintf(baddr, sizeof baddr, "ofi+tcp://127.0.0.1:%d", ft_free_tcp_port());
    /* the group file the primary would write, written before it exists */
    snprintf(file, sizeof file, "%s/future.flock", ft_tmpdir());
    snprintf(text, sizeof text,
             "{\"members\":[{\"address\":\"%s\",\"provider_id\":%d}],\"metadata\":{"
             "\"__config__\":\"{\\\"primary_address\\\":\\\"%s\\\",\\\"primary_provider_"
             "id\\\":%d}"
             "\",\"__type__\":\"centralized\"}}",
             paddr, PID, paddr, PID);
    f = fopen(file, "w");
    REQUIRE(f && fputs(text, f) >= 0 && fclose(f) == 0);

    /* B joins first: the primary is not there yet */
    REQUIRE(ct_start(&b, "B", "join", baddr, file, "{}", PID, 1, "50") > 0);
    ft_sleep_ms(1000);
    /* the primary comes up at the address the file names (its own file
     * elsewhere, so B's input is untouched) */
    char afile[1024];
    snprintf(afile, sizeof afile, "%s/primary.flock", ft_tmpdir());
    REQUIRE(ct_start(&a, "A", "self", paddr, afile, "{}", PID, 1, "50") > 0);
    REQUIRE(ct_wait_status("A", PID, &st, 30000));
    REQUIRE(ct_wait_status("B", PID, &st, 30000));
    ct_ref_t both[2] = {{"A", PID}, {"B", PID}};
    CHECK(ct_wait_converged(both, 2, 2, 30000, &scratch));
    /* (no JOINED check at A: B may get in before the test server has
     * registered its callback on the brand-new provider) */
    REQUIRE(ct_read_status("A", PID, &st));
    CHECK(ct_has_member(&st, baddr, PID));

    int ws = ct_stop(&b, SIGTERM, 30000);
    CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    ws = ct_stop(&a, SIGTERM, 30000);
    CHECK(ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    return FT_DONE();
}
