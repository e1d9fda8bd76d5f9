/*
 * centralized-metadata.c -- the backend's add_metadata / remove_metadata
 * ops (issue #16): every change goes to the primary (the primary itself
 * included, through its own RPC, so that one path orders them all), which
 * applies it in the ordered stream of changes, broadcasts it and answers
 * once every reachable member has applied it.
 *
 * Owns: nothing but code. May call: centralized-failover.c (the primary,
 * redirects), centralized-common.c, centralized-wire.c.
 * Called by: centralized-backend.c (the ops table).
 */
#include <stdlib.h>

#include "centralized-internal.h"
#include "centralized-wire.h"

flock_return_t cent__metadata_request(cent_state_t* s, const char* key, const char* value)
{
    frt_wbuf b = FRT_WBUF_INIT;
    void* out = NULL;
    size_t olen = 0;
    frt_rbuf r;
    uint32_t status = FLOCK_ERR_OTHER;
    flock_return_t ret = FLOCK_SUCCESS;

    cent__put_envelope(s, &b);
    flock__cent_encode_meta(&b, key, value);
    if (b.failed) {
        ret = FLOCK_ERR_ALLOCATION;
        goto finish;
    }
    for (int hop = 0;; hop++) {
        free(out);
        out = NULL;
        hg_return_t hret =
            cent__call_primary(s, FLOCK__CENT_RPC_META, &b, CENT_META_TIMEOUT_MS, &out, &olen);
        if (hret != HG_SUCCESS) {
            char paddr[FRT_MAX_ADDR_LEN + 1];
            uint16_t ppid;
            cent__primary_name(s, paddr, sizeof paddr, &ppid);
            margo_warning(s->mid, CENT_LOG_PREFIX "metadata change of \"%s\": the primary "
                          "%s (%u) does not answer: %s", key, paddr, ppid,
                          HG_Error_to_string(hret));
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        frt_rbuf_init(&r, out, olen);
        if (!flock__cent_decode_status(&r, &status)) {
            margo_error(s->mid, CENT_LOG_PREFIX "malformed metadata reply from the primary");
            ret = FLOCK_ERR_FROM_MERCURY;
            goto finish;
        }
        if (status != FLOCK_ERR_OP_FORBIDDEN || hop >= CENT_MAX_REDIRECTS ||
            !cent__follow_redirect(s, &r))
            break;
    }
    ret = flock__cent_status_to_return(status);
finish:
    free(out);
    frt_wbuf_free(&b);
    return ret;
}
