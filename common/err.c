/* common/err.c - status codes and the error record. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages quote what they read (a field name, a value), and input can hold any byte: control
 * characters become C escapes ("\n", "\x1b"), so that a message stays on one line and cannot
 * drive a terminal. The text is cut at a whole escape when it no longer fits. */
static void escape_controls(char *msg, size_t size)
{
    const char *first = msg;
    while (*first && (unsigned char)*first >= 0x20 && *first != 0x7f)
        first++;
    if (!*first)
        return;
    char out[FM_ERR_LEN];
    size_t o = 0;
    for (const char *p = msg; *p && o + 1 < sizeof(out); p++) {
        unsigned char c = (unsigned char)*p;
        char esc[8];
        size_t n = 0;
        if (c >= 0x20 && c != 0x7f) {
            out[o++] = (char)c;
            continue;
        }
        if (c == '\n')
            n = (size_t)snprintf(esc, sizeof(esc), "\\n");
        else if (c == '\t')
            n = (size_t)snprintf(esc, sizeof(esc), "\\t");
        else if (c == '\r')
            n = (size_t)snprintf(esc, sizeof(esc), "\\r");
        else
            n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
        if (o + n + 1 > sizeof(out))
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o] = '\0';
    snprintf(msg, size, "%s", out);
}

int fm_err_set(struct fm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        escape_controls(err->msg, sizeof(err->msg));
        err->code = code;
    }
    return code;
}

int fm_err_errno(struct fm_err *err, int code, int errnum, const char *fmt, ...)
{
    if (err) {
        char buf[128];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        /* The XSI strerror_r is what _DEFAULT_SOURCE selects under -std=c11. */
        if (strerror_r(errnum, buf, sizeof(buf)) != 0)
            snprintf(buf, sizeof(buf), "error %d", errnum);
        if (n >= 0 && (size_t)n < sizeof(err->msg))
            snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", buf);
        escape_controls(err->msg, sizeof(err->msg));
        err->code = code;
    }
    return code;
}

const char *fm_status_str(int code)
{
    switch (code) {
    case FM_OK:
        return "ok";
    case FM_EINVAL:
        return "invalid argument";
    case FM_ENOMEM:
        return "out of memory";
    case FM_EIO:
        return "input/output error";
    case FM_EFORMAT:
        return "bad format";
    case FM_EPERM:
        return "permission denied";
    case FM_ENET:
        return "network error";
    case FM_ETIMEDOUT:
        return "timed out";
    case FM_EHTTP:
        return "HTTP error";
    case FM_EINTR:
        return "interrupted";
    case FM_ENOTFOUND:
        return "not found";
    default:
        return "unknown error";
    }
}
