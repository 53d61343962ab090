/* common/err.c - status codes and the error record. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages quote what they read (a field name, a value, a file name), and input can hold any
 * byte: control characters become C escapes ("\n", "\x1b"), so that a message stays on one
 * line and cannot drive a terminal. The text is cut at a whole escape when it no longer fits. */
const char *fm_escape(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return buf;
    for (const char *p = s; *p && o + 1 < size; p++) {
        unsigned char c = (unsigned char)*p;
        char esc[8];
        size_t n = 0;
        if (c >= 0x20 && c != 0x7f) {
            buf[o++] = (char)c;
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
        if (o + n + 1 > size)
            break;
        memcpy(buf + o, esc, n);
        o += n;
    }
    buf[o] = '\0';
    return buf;
}

int fm_has_controls(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static void escape_controls(char *msg, size_t size)
{
    if (!fm_has_controls(msg))
        return;
    char out[FM_ERR_LEN];
    fm_escape(msg, out, sizeof(out));
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
