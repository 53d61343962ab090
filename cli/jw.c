/* cli/jw.c - a small streaming JSON writer (RFC 8259 string escaping). */
#include "cli/jw.h"

#include "common/num.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

void jw_init(struct jw *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->count[0] = 0;
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Separator, newline and indent before a value, then its key. */
static void lead(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        if (w->count[w->depth]++ > 0)
            fputc(',', w->f);
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->f);
    }
    if (key) {
        put_string(w->f, key);
        fputs(": ", w->f);
    }
}

static void open(struct jw *w, const char *key, char c)
{
    lead(w, key);
    fputc(c, w->f);
    assert(w->depth + 1 < JW_MAX_DEPTH);
    w->count[++w->depth] = 0;
}

static void close_(struct jw *w, char c)
{
    int had = w->count[w->depth] > 0;
    w->depth--;
    if (had) {
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->f);
    }
    fputc(c, w->f);
}

void jw_obj_begin(struct jw *w, const char *key)
{
    open(w, key, '{');
}

void jw_obj_end(struct jw *w)
{
    close_(w, '}');
}

void jw_arr_begin(struct jw *w, const char *key)
{
    open(w, key, '[');
}

void jw_arr_end(struct jw *w)
{
    close_(w, ']');
}

void jw_str(struct jw *w, const char *key, const char *v)
{
    lead(w, key);
    put_string(w->f, v ? v : "");
}

void jw_num(struct jw *w, const char *key, double v)
{
    lead(w, key);
    if (!isfinite(v)) {
        fputs("null", w->f);
        return;
    }
    char buf[40];
    fputs(fm_fmt_double(buf, sizeof(buf), v), w->f);
}

void jw_int(struct jw *w, const char *key, long long v)
{
    lead(w, key);
    fprintf(w->f, "%lld", v);
}

void jw_bool(struct jw *w, const char *key, int v)
{
    lead(w, key);
    fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
    lead(w, key);
    fputs("null", w->f);
}

void jw_finish(struct jw *w)
{
    fputc('\n', w->f);
    fflush(w->f);
}
