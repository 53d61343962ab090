/* common/err.h - status codes and the error record every module fills.
 * A struct fm_err is owned by the caller, usually on the stack, and may be NULL wherever
 * a function takes one. Its msg is 256 bytes, the size of PCAP_ERRBUF_SIZE,
 * LIBNET_ERRBUF_SIZE and CURL_ERROR_SIZE, so it can be handed straight to those libraries.
 * Thread-safe: nothing here keeps state. */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stddef.h>

#define FM_ERR_LEN 256

/* On a function whose int result says whether it worked (FM_OK or a negative FM_E* code): the
 * compiler warns when a caller drops it, as curl's WARN_UNUSED_RESULT does. A caller that
 * may ignore a failure says so by testing the result. */
#define FM_MUST_CHECK __attribute__((warn_unused_result))

enum fm_status {
    FM_OK = 0,
    FM_EINVAL = -1,  /* bad argument or value */
    FM_ENOMEM = -2,  /* out of memory */
    FM_EIO = -3,     /* read or write failed */
    FM_EFORMAT = -4, /* input is not in the expected format */
    FM_EPERM = -5,   /* permission denied */
    FM_ENET = -6,    /* network error */
    FM_ETIMEDOUT = -7,
    FM_EHTTP = -8,     /* HTTP-level error */
    FM_EINTR = -9,     /* stopped by a signal */
    FM_ENOTFOUND = -10 /* the named thing does not exist */
};

struct fm_err {
    int code;
    char msg[FM_ERR_LEN];
};

/* Format a message into err (if not NULL), record code, and return code. */
int fm_err_set(struct fm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like fm_err_set() but appends ": <strerror(errnum)>", using the thread-safe strerror_r. */
int fm_err_errno(struct fm_err *err, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copy s into buf (size bytes) with control characters escaped ("\n", "\x1b"), for quoting
 * names and values that came from input in a message or a table: one line, and nothing that
 * drives a terminal. Cut at a whole escape when it does not fit. Returns buf. */
const char *fm_escape(const char *s, char *buf, size_t size);
/* Whether s holds a control character that fm_escape() would change. */
int fm_has_controls(const char *s);

/* A short name for a status ("invalid argument", ...). Never NULL. */
const char *fm_status_str(int code);

#endif
