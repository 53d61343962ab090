/* common/log.c - leveled messages to stderr. */
#include "common/log.h"

#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

static enum fm_log_level current = FM_LOG_WARN;

void fm_log_set_level(enum fm_log_level level)
{
    current = level;
}

enum fm_log_level fm_log_get_level(void)
{
    return current;
}

void fm_log_msg(enum fm_log_level level, const char *file, int line, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > current)
        return;
    /* Build the whole line first so that concurrent writers do not interleave. */
    char buf[1024];
    int n;
    if (level == FM_LOG_DEBUG)
        n = snprintf(buf, sizeof(buf), "flowmimic: debug: %s:%d: ", file, line);
    else
        n = snprintf(buf, sizeof(buf), "flowmimic: %s: ", names[level]);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    /* A message is one line that cannot drive the terminal, whatever names it quotes. */
    if (fm_has_controls(buf)) {
        char esc[sizeof(buf)];
        fprintf(stderr, "%s\n", fm_escape(buf, esc, sizeof(esc)));
        return;
    }
    fprintf(stderr, "%s\n", buf);
}
