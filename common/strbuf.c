/* common/strbuf.c - a growing NUL-terminated text. */
#include "common/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fm_buf_init(struct fm_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void fm_buf_fini(struct fm_buf *b)
{
    free(b->s);
    fm_buf_init(b);
}

void fm_buf_clear(struct fm_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->s)
        b->s[0] = '\0';
}

static int reserve(struct fm_buf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (more > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    if (b->s && b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

int fm_buf_add(struct fm_buf *b, const char *text, size_t len)
{
    if (reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->s + b->len, text, len);
    b->len += len;
    b->s[b->len] = '\0';
    return 0;
}

int fm_buf_puts(struct fm_buf *b, const char *text)
{
    return fm_buf_add(b, text, strlen(text));
}

int fm_buf_printf(struct fm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return -1;
    }
    if (reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *fm_buf_take(struct fm_buf *b)
{
    char *s = b->oom ? NULL : b->s;
    if (b->oom)
        free(b->s);
    fm_buf_init(b);
    return s;
}
