/* common/strbuf.h - a growing NUL-terminated text: prompts, transcripts, HTTP bodies, JSON
 * written by hand. An embedded struct: fm_buf_init() (cannot fail) and fm_buf_fini().
 * After an allocation failure oom is set and every later append does nothing, so a run of
 * appends needs one check at its end. s is NULL until something was added, then always
 * NUL-terminated; len excludes the NUL. Not thread-safe. */
#ifndef COMMON_STRBUF_H
#define COMMON_STRBUF_H

#include "common/err.h"
#include <stddef.h>

struct fm_buf {
    char *s;
    size_t len;
    size_t cap;
    int oom;
};

void fm_buf_init(struct fm_buf *b);
/* Frees the text; b is then empty, as after fm_buf_init(). */
void fm_buf_fini(struct fm_buf *b);
/* Empty the text, keeping its memory (and clearing oom). */
void fm_buf_clear(struct fm_buf *b);
/* Append len bytes (which may hold NULs) / a string / formatted text. Return 0, or -1 when
 * out of memory (oom is then set). */
int fm_buf_add(struct fm_buf *b, const char *text, size_t len);
int fm_buf_puts(struct fm_buf *b, const char *text);
int fm_buf_printf(struct fm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take the text out (the caller frees it with free()); b is left empty. NULL after oom. */
char *fm_buf_take(struct fm_buf *b);

#endif
