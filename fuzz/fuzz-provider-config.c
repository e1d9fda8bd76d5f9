/*
 * fuzz-provider-config.c -- the provider configuration parser
 * (flock_provider_register: JSON syntax, "file", "gateway", "group",
 * backend configs). Each accepted configuration gives a provider whose
 * get_config output must itself be accepted, then it is destroyed.
 *
 * Sandbox: a "file" key is redirected to a private scratch directory (the
 * fuzzer must not write files anywhere else); the rest of the document is
 * passed through as json-c re-serialized it.
 */
#include <stdio.h>
#include <unistd.h>

#include <json-c/json.h>

#include <flock/flock-server.h>

#include "fuzz-common.h"

static margo_instance_id g_mid;
static char              g_file[256];
static char              g_key[256];

static int setup(void)
{
    char dir[] = "/tmp/flock-fuzz-XXXXXX";
    fuzz_quiet();
    if (!mkdtemp(dir)) return -1;
    snprintf(g_file, sizeof g_file, "%s/group.json", dir);
    snprintf(g_key, sizeof g_key, "%s/key", dir);
    FILE* k = fopen(g_key, "w");
    if (!k) return -1;
    fputs("fuzzing group key 0123456789\n", k);
    fclose(k);
    g_mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 1);
    return g_mid ? 0 : -1;
}

static char* sandboxed(const uint8_t* data, size_t size)
{
    char* text = fuzz_cstr(data, size);
    if (!text) return NULL;
    struct json_object* root = json_tokener_parse(text);
    struct json_object* f    = NULL;
    struct json_object* a    = NULL;
    struct json_object* kf   = NULL;
    bool                redo = false;
    if (root && json_object_is_type(root, json_type_object)
        && json_object_object_get_ex(root, "file", &f) && json_object_is_type(f, json_type_string)
        && json_object_get_string_len(f) > 0) {
        json_object_object_add(root, "file", json_object_new_string(g_file));
        redo = true;
    }
    /* a key file anywhere else could be a FIFO or a device: use ours */
    if (root && json_object_is_type(root, json_type_object)
        && json_object_object_get_ex(root, "auth", &a) && json_object_is_type(a, json_type_object)
        && json_object_object_get_ex(a, "key_file", &kf)) {
        json_object_object_add(a, "key_file", json_object_new_string(g_key));
        redo = true;
    }
    if (redo) {
        const char* s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        free(text);
        text = s ? strdup(s) : NULL;
    }
    json_object_put(root);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static int ready = 0;
    if (!ready) {
        if (setup() != 0) abort();
        ready = 1;
    }
    char* config = sandboxed(data, size);
    if (!config) return 0;
    flock_provider_t p = NULL;
    if (flock_provider_register(g_mid, 5, config, NULL, &p) == FLOCK_SUCCESS) {
        char* canon = flock_provider_get_config(p);
        if (!canon) abort();
        flock_provider_destroy(p);
        p = NULL;
        /* the canonical form is a valid configuration too */
        if (flock_provider_register(g_mid, 5, canon, NULL, &p) != FLOCK_SUCCESS) abort();
        flock_provider_destroy(p);
        free(canon);
    }
    free(config);
    return 0;
}
