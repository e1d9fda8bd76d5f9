/*
 * view-file.h -- reading group files and config files from disk (view.c).
 * Owns nothing but the file descriptors it opens; may call libc only.
 */
#ifndef FLOCK_VIEW_FILE_H
#define FLOCK_VIEW_FILE_H

#include <stddef.h>
#include <flock/flock-common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Read the whole of filename into a new NUL-terminated buffer (*buf, free
 * it; *len bytes without the NUL). Opened with O_NONBLOCK and refused unless
 * it is a regular file, so a FIFO, socket or device never blocks the
 * caller. Every error is logged naming the file and the reason:
 * FLOCK_ERR_INVALID_ARGS (cannot open / read, not a regular file),
 * FLOCK_ERR_INVALID_CONFIG (larger than max bytes), FLOCK_ERR_ALLOCATION.
 */
flock_return_t flock__read_regular_file(const char* filename, size_t max, char** buf,
                                        size_t* len);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_VIEW_FILE_H */
