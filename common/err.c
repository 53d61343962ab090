/* common/err.c - status codes and the error record. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fm_err_set(struct fm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
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
