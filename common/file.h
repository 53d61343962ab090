/* common/file.h - whole small files: read one into memory, write one atomically.
 * Used for model and variant files, which are read in one piece and must never be seen
 * half-written. Reentrant; the read buffer is the caller's to free(). */
#ifndef COMMON_FILE_H
#define COMMON_FILE_H

#include <stddef.h>

#include "common/err.h"

/* Read the regular file path (at most max bytes, not empty) into a new NUL-terminated
 * buffer. what names it in messages ("model", "variant file"). Returns FM_OK with *out and
 * *len set, FM_EIO (cannot open or read, not a regular file), FM_EFORMAT (empty, larger than
 * max), FM_ENOMEM. */
int fm_file_read_all(
    const char *path, size_t max, const char *what, char **out, size_t *len, struct fm_err *err);

/* Write len bytes of text and a final newline to path through a temporary file beside it,
 * flushed to disk and renamed over path, with mode 0644: a reader sees the old file or the
 * whole new one, never part of it, and a failure leaves no temporary behind. Returns FM_OK,
 * FM_EIO or FM_ENOMEM. */
int fm_file_write_atomic(const char *path, const char *text, size_t len, struct fm_err *err);

#endif
