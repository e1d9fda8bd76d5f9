/*
 * view-file.h -- reading group files and config files from disk (view.c).
 * Owns nothing but the file descriptors it opens; may call libc only.
 */
#ifndef FLOCK_VIEW_FILE_H
#define FLOCK_VIEW_FILE_H

#include <stddef.h>
#include <sys/types.h>
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

/**
 * Write text atomically to filename: a temporary file next to it, fsync,
 * rename, fsync of the directory. The new file keeps the mode of the file
 * it replaces; a file that did not exist gets new_mode (0600 for the group
 * file of a keyed group). Errors are logged naming the file:
 * FLOCK_ERR_ALLOCATION (no temporary file), FLOCK_ERR_OTHER (write, fsync,
 * chmod or rename failed: the old file is left as it was).
 */
flock_return_t flock__write_file_atomic_mode(const char* filename, const char* text,
                                             mode_t new_mode);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_VIEW_FILE_H */
