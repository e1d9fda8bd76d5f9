/*
 * make-seeds-backends.c -- writes the seed inputs of the backend wire
 * fuzzers (fuzz/corpus/cent-wire, fuzz/corpus/swim-wire) with the real
 * encoders. usage: fuzz-make-seeds-backends <fuzz/corpus dir>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/centralized/centralized-wire.h"
#include "backends/swim/swim-wire.h"

static int save(const char* dir, const char* sub, const char* name, uint8_t sel,
                const frt_wbuf* b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE* f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    fwrite(&sel, 1, 1, f);
    if (b->len) fwrite(b->data, 1, b->len, f);
    fclose(f);
    return 0;
}

int main(int argc, char** argv)
{
    if (argc != 2) return 2;
    const char* d  = argv[1];
    int         rc = 0;
    frt_wbuf    b  = FRT_WBUF_INIT;

    /* centralized: selector = decoder (see fuzz-cent-wire.c) */
    flock__cent_encode_ping(&b, 5, 0xabcdefull);
    rc |= save(d, "cent-wire", "ping", 0, &b);
    frt_wbuf_free(&b);
    flock__cent_encode_u16(&b, 42);
    rc |= save(d, "cent-wire", "u16", 1, &b);
    frt_wbuf_free(&b);
    flock__cent_encode_view_req(&b, 3, true);
    rc |= save(d, "cent-wire", "view-req", 2, &b);
    frt_wbuf_free(&b);
    {
        flock__cent_event_t evs[2] = {{1, FLOCK_MEMBER_JOINED, (char*)"na+sm://1-0", 1, NULL},
                                      {2, FLOCK_MEMBER_DIED, (char*)"tcp://10.0.0.2:3000", 7, NULL}};
        flock__cent_encode_events(&b, evs, 2);
        rc |= save(d, "cent-wire", "events", 3, &b);
        frt_wbuf_free(&b);
        flock__cent_encode_status(&b, 0);
        frt_put_u8(&b, FLOCK__CENT_KIND_EVENTS);
        frt_put_u64(&b, 2);
        flock__cent_encode_events(&b, evs, 2);
        rc |= save(d, "cent-wire", "get-view-events", 4, &b);
        frt_wbuf_free(&b);
    }
    flock__cent_encode_status(&b, 11);
    rc |= save(d, "cent-wire", "status", 6, &b);
    frt_wbuf_free(&b);

    /* swim: selector 0 = any kind */
    {
        swim__entry g[2];
        memset(g, 0, sizeof g);
        g[0].type = SWIM_E_ALIVE;
        g[0].addr = (char*)"na+sm://2-0";
        g[0].pid  = 3;
        g[0].inc  = 4;
        g[1].type      = SWIM_E_SUSPECT;
        g[1].addr      = (char*)"tcp://10.0.0.9:4000";
        g[1].pid       = 3;
        g[1].inc       = 9;
        g[1].from_addr = (char*)"na+sm://2-0";
        g[1].from_pid  = 3;
        swim__meta_entry md[2];
        memset(md, 0, sizeof md);
        md[0].key        = (char*)"rack";
        md[0].value      = (char*)"r1";
        md[0].origin     = (char*)"na+sm://1-0";
        md[0].version    = 5;
        md[0].origin_pid = 3;
        md[1].key        = (char*)"gone";
        md[1].origin     = (char*)"";
        md[1].version    = 6;
        for (uint8_t kind = SWIM_MSG_PING; kind <= SWIM_MSG_ANNOUNCE_ACK; kind++) {
            swim__msg m;
            char      name[32];
            memset(&m, 0, sizeof m);
            m.kind        = kind;
            m.ann_type    = SWIM_ANN_JOIN;
            m.sender_addr = (char*)"na+sm://1-0";
            m.sender_pid  = 3;
            m.sender_inc  = 2;
            m.target_addr = (char*)"na+sm://2-0";
            m.target_pid  = 3;
            m.target_inc  = 1;
            m.timeout_ms  = 200.0;
            m.ngossip     = 2;
            m.gossip      = g;
            m.nmeta       = 2;
            m.meta        = md;
            if (kind == SWIM_MSG_ANNOUNCE || kind == SWIM_MSG_ANNOUNCE_ACK) {
                m.nstate = 1;
                m.state  = g;
            }
            if (!swim__encode(&m, &b)) rc = 1;
            snprintf(name, sizeof name, "kind-%u", (unsigned)kind);
            rc |= save(d, "swim-wire", name, 0, &b);
            frt_wbuf_free(&b);
        }
        /* the bucketed push-pull: a DIFF (16 digests) and its ACK (a bitmap) */
        uint32_t digests[16], map[1] = {0x10005u};
        for (uint32_t i = 0; i < 16; i++) digests[i] = 0x9e3779b9u * (i + 1);
        for (int ack = 0; ack <= 1; ack++) {
            swim__msg m;
            memset(&m, 0, sizeof m);
            m.kind        = ack ? SWIM_MSG_ANNOUNCE_ACK : SWIM_MSG_ANNOUNCE;
            m.ann_type    = SWIM_ANN_DIFF;
            m.sender_addr = (char*)"na+sm://1-0";
            m.sender_pid  = 3;
            m.target_addr = (char*)"na+sm://1-0";
            m.target_pid  = 3;
            m.nstate      = ack ? 2 : 0;
            m.state       = g;
            m.nbuckets    = 16;
            m.buckets     = ack ? map : digests;
            if (!swim__encode(&m, &b)) rc = 1;
            rc |= save(d, "swim-wire", ack ? "diff-ack" : "diff", 0, &b);
            frt_wbuf_free(&b);
        }
    }
    return rc ? 1 : 0;
}
