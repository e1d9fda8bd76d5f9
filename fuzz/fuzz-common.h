/*
 * fuzz-common.h -- shared by the libFuzzer targets in fuzz/.
 *
 * Every target defines LLVMFuzzerTestOneInput (and optionally calls
 * fuzz_quiet() once). The same sources are linked either with libFuzzer
 * (-fsanitize=fuzzer, fuzz/CMakeLists.txt) or with replay-main.c, which
 * feeds every committed corpus / regression input to the target from the
 * normal ctest suite (tests/reliability/CMakeLists.txt).
 */
#ifndef FLOCK_FUZZ_COMMON_H
#define FLOCK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <margo.h>

#ifdef __cplusplus
extern "C" {
#endif

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* Decoders log every rejection; keep the fuzzer's output readable. */
static inline void fuzz_quiet(void)
{
    static int done = 0;
    if (done) return;
    done = 1;
    if (!getenv("FLOCK_FUZZ_VERBOSE")) margo_set_global_log_level(MARGO_LOG_CRITICAL);
}

/* A NUL-terminated copy of the input (for parsers that take C strings). */
static inline char* fuzz_cstr(const uint8_t* data, size_t size)
{
    char* s = (char*)malloc(size + 1);
    if (!s) return NULL;
    if (size) memcpy(s, data, size);
    s[size] = 0;
    return s;
}

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_FUZZ_COMMON_H */
