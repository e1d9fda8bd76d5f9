/*
 * make-seeds.c -- writes the binary seed inputs of fuzz/corpus/ (the JSON
 * seeds are plain files). usage: fuzz-make-seeds <fuzz/corpus dir>
 * Frames are laid out by hand from the documented header format
 * (src/runtime/codec.c) so that this tool only needs the public libraries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frt.h>
#include <flock/flock-group-view.h>

#include "flock/view-codec.h"

static void put_hdr(frt_wbuf* b, uint8_t type, uint64_t id, uint16_t pid, uint16_t name_len,
                    uint32_t status, uint32_t payload_len)
{
    frt_put_u32(b, 0x31545246u); /* "FRT1" */
    frt_put_u8(b, 1);
    frt_put_u8(b, type);
    frt_put_u16(b, 0);
    frt_put_u64(b, id);
    frt_put_u16(b, pid);
    frt_put_u16(b, name_len);
    frt_put_u32(b, status);
    frt_put_u32(b, payload_len);
    frt_put_u32(b, 0);
}

static void put_frame(frt_wbuf* b, uint8_t type, uint64_t id, uint16_t pid, const char* name,
                      uint32_t status, const void* payload, uint32_t plen)
{
    uint16_t nl = name ? (uint16_t)strlen(name) : 0;
    put_hdr(b, type, id, pid, nl, status, plen);
    if (nl) frt_put_bytes(b, name, nl);
    if (plen) frt_put_bytes(b, payload, plen);
}

static int save(const char* dir, const char* sub, const char* name, const frt_wbuf* b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE* f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    fwrite(b->data, 1, b->len, f);
    fclose(f);
    return 0;
}

static void sample_view(flock_group_view_t* v, int n)
{
    char addr[64];
    for (int i = 0; i < n; i++) {
        snprintf(addr, sizeof addr, i % 2 ? "tcp://10.0.0.%d:%d" : "na+sm://%d-%d", i + 1, i);
        flock_group_view_add_member(v, addr, (uint16_t)(i % 3));
    }
    flock_group_view_add_metadata(v, "__type__", "centralized");
    flock_group_view_add_metadata(v, "__config__", "{\"ping_timeout_ms\":400.0}");
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const char* d = argv[1];
    int         rc = 0;
    frt_wbuf    b  = FRT_WBUF_INIT;

    /* ---- frame ---- */
    put_frame(&b, 1, 0, 0, "na+sm://1234-0", 0, NULL, 0);
    rc |= save(d, "frame", "hello-sm", &b);
    frt_wbuf_free(&b);
    put_frame(&b, 1, 0, 0, "ofi+tcp://127.0.0.1:4000", 0, NULL, 0);
    rc |= save(d, "frame", "hello-tcp", &b);
    frt_wbuf_free(&b);
    {
        uint8_t digest[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        put_frame(&b, 1, 0, 0, "na+sm://99-1", 0, NULL, 0);
        put_frame(&b, 2, 7, 42, "flock_get_view", 0, digest, 8);
        put_frame(&b, 3, 7, 0, NULL, 0, "abc", 3);
        put_frame(&b, 4, 8, 0, NULL, (uint32_t)HG_NOENTRY, NULL, 0);
        rc |= save(d, "frame", "stream", &b);
        frt_wbuf_free(&b);
    }

    /* ---- view codec / get_view reply ---- */
    for (int n = 0; n <= 5; n += 5) {
        flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
        char               name[32];
        sample_view(&v, n);
        flock__view_encode(&b, &v);
        snprintf(name, sizeof name, "view-%d", n);
        rc |= save(d, "view-codec", name, &b);
        frt_wbuf_free(&b);
        frt_put_u8(&b, 0);
        flock__view_encode(&b, &v);
        frt_put_u32(&b, 0);
        snprintf(name, sizeof name, "reply-%d", n);
        rc |= save(d, "get-view-reply", name, &b);
        frt_wbuf_free(&b);
        flock_group_view_clear(&v);
    }
    {
        flock_group_view_t e = FLOCK_GROUP_VIEW_INITIALIZER;
        frt_put_u8(&b, 1);
        flock__view_encode(&b, &e);
        frt_put_u32(&b, 0);
        rc |= save(d, "get-view-reply", "no-change", &b);
        frt_wbuf_free(&b);
        frt_put_u8(&b, 0);
        flock__view_encode(&b, &e);
        frt_put_u32(&b, (uint32_t)FLOCK_ERR_INVALID_GROUP);
        rc |= save(d, "get-view-reply", "error", &b);
        frt_wbuf_free(&b);
    }

    /* ---- RPC payloads: byte 0 picks the RPC ---- */
    for (int sel = 0; sel < 12; sel++) {
        char name[32];
        frt_put_u8(&b, (uint8_t)sel);
        frt_put_u64(&b, 0x1234567890abcdefull);
        snprintf(name, sizeof name, "u64-%d", sel);
        rc |= save(d, "rpc-payload", name, &b);
        frt_wbuf_free(&b);
        frt_put_u8(&b, (uint8_t)sel);
        frt_put_u8(&b, 3);
        frt_put_str(&b, "na+sm://1-0");
        frt_put_u16(&b, 1);
        frt_put_u64(&b, 1);
        frt_put_u32(&b, 0);
        snprintf(name, sizeof name, "entry-%d", sel);
        rc |= save(d, "rpc-payload", name, &b);
        frt_wbuf_free(&b);
    }
    return rc ? 1 : 0;
}
