/* common/file.h - whole small files: read one into memory, write one atomically; and
 * streamed output (traces, captures) written the same way, through a temporary file.
 * Used for model and variant files, which are read in one piece and must never be seen
 * half-written. Reentrant; the read buffer is the caller's to free(). */
#ifndef COMMON_FILE_H
#define COMMON_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

/* Read the file path (at most max bytes, not empty) into a new NUL-terminated buffer: a
 * regular file, or a pipe (/dev/stdin, a fifo, a <(...) substitution) read to its end but
 * never past max + 1 bytes. what names it in messages ("model", "variant file"). Returns
 * FM_OK with *out and *len set, FM_EIO (cannot open or read, a directory), FM_EFORMAT (empty,
 * larger than max), FM_ENOMEM. */
FM_MUST_CHECK int fm_file_read_all(
    const char *path, size_t max, const char *what, char **out, size_t *len, struct fm_err *err);

/* Write len bytes of text and a final newline to path through a temporary file beside it,
 * flushed to disk and renamed over path, with mode 0644: a reader sees the old file or the
 * whole new one, never part of it, and a failure leaves no temporary behind. Returns FM_OK,
 * FM_EIO or FM_ENOMEM. */
FM_MUST_CHECK int
fm_file_write_atomic(const char *path, const char *text, size_t len, struct fm_err *err);

/* Check an output name before any work is done, so that a run does not fail at its end:
 * refuses an empty name, a directory (unless FM_OUTPUT_DIR_OK: the command writes files into
 * it), and a new file whose directory does not exist. Returns FM_OK, FM_EINVAL or FM_EIO
 * with a one-line message naming path. */
#define FM_OUTPUT_DIR_OK 1u
FM_MUST_CHECK int fm_output_check(const char *path, unsigned flags, struct fm_err *err);

/* An output file written as a stream and seen whole or not at all: fm_atomic_open() creates
 * a temporary beside path (so the rename stays on one file system) with mode 0644;
 * fm_atomic_commit() flushes it to disk and renames it over path; fm_atomic_abort() removes
 * it. A zeroed struct is a closed one, and abort after commit (or twice) does nothing.
 * Only a regular file (or a new name) is replaced that way; a symbolic link to a regular
 * file has its target replaced and stays a link. Anything else the user names, a device
 * (/dev/null, /dev/full), a FIFO, /dev/stdout, is written through as it is: never renamed
 * over, never removed, and errors of its writes and close are reported by commit. A
 * directory is refused at open.
 * When f is handed to an owner that closes it (pcap_dump_fopen), set lent: commit then
 * flushes and syncs f but leaves closing it to that owner, and abort does not close it. */
struct fm_atomic_file {
    FILE *f;     /* the temporary's stream ("wb"); NULL once committed or aborted */
    char *tmp;   /* the temporary's name; NULL when there is nothing to remove */
    char *path;  /* as the user named it, for messages */
    char *dest;  /* what the rename replaces when path is a link: its target; else NULL */
    int lent;    /* f belongs to another owner, which closes it */
    int through; /* written through to a device, FIFO or standard stream: no temporary */
};

/* Returns FM_OK with af->f open for writing, or FM_EIO or FM_ENOMEM with af closed and
 * nothing left behind. */
FM_MUST_CHECK int fm_atomic_open(struct fm_atomic_file *af, const char *path, struct fm_err *err);
/* Returns FM_OK, or FM_EIO (a write, flush, sync or rename failed) with the temporary
 * removed. Either way af is closed. */
FM_MUST_CHECK int fm_atomic_commit(struct fm_atomic_file *af, struct fm_err *err);
void fm_atomic_abort(struct fm_atomic_file *af);

#endif
