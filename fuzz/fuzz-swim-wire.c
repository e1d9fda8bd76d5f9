/*
 * fuzz-swim-wire.c -- the SWIM backend's message decoder (swim__decode) for
 * every message kind (first byte; 0 = any). A decoded message must
 * re-encode and decode again with the same kind, group id, metadata
 * entries (keys, versions, removals) and bucket section.
 */
#include "backends/swim/swim-wire.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz_quiet();
    if (size == 0) return 0;
    uint8_t     expected = (uint8_t)(data[0] % 7); /* 0 = any, 1..6 = a kind */
    swim__msg   m;
    const char* why = NULL;
    memset(&m, 0, sizeof m);
    if (swim__decode(data + 1, size - 1, expected, &m, &why)) {
        frt_wbuf b = FRT_WBUF_INIT;
        if (swim__encode(&m, &b)) {
            swim__msg   m2;
            const char* why2 = NULL;
            memset(&m2, 0, sizeof m2);
            if (!swim__decode(b.data, b.len, m.kind, &m2, &why2)) abort();
            if (m2.kind != m.kind || m2.group_id != m.group_id) abort();
            if (m2.nmeta != m.nmeta || m2.nbuckets != m.nbuckets) abort();
            size_t words = m.kind == SWIM_MSG_ANNOUNCE ? m.nbuckets : (m.nbuckets + 1 + 31) / 32;
            if (m.nbuckets && memcmp(m.buckets, m2.buckets, words * sizeof *m.buckets) != 0)
                abort();
            for (uint32_t i = 0; i < m.nmeta; i++)
                if (strcmp(m2.meta[i].key, m.meta[i].key) != 0 ||
                    (m.meta[i].value == NULL) != (m2.meta[i].value == NULL) ||
                    m2.meta[i].version != m.meta[i].version)
                    abort();
            swim__msg_clear(&m2);
        }
        frt_wbuf_free(&b);
        swim__msg_clear(&m);
    } else if (!why) {
        abort(); /* a rejection must name the problem */
    }
    return 0;
}
