/* common/num.h - strict number parsing for command lines and files.
 * Each function parses the whole string (no trailing characters, no empty string), checks
 * the range [lo, hi] inclusive, writes *out only on success, and returns FM_OK or
 * FM_EINVAL with a message naming what (e.g. "--max-k") and the rejected text. */
#ifndef COMMON_NUM_H
#define COMMON_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

FM_MUST_CHECK int
fm_parse_long(const char *s, long lo, long hi, const char *what, long *out, struct fm_err *err);
FM_MUST_CHECK int
fm_parse_u64(const char *s, uint64_t hi, const char *what, uint64_t *out, struct fm_err *err);
/* Rejects nan and inf as well as out-of-range values. */
FM_MUST_CHECK int fm_parse_double(
    const char *s, double lo, double hi, const char *what, double *out, struct fm_err *err);

/* A duration: a decimal number with an optional unit, ns, us, ms, s, m or h ("250ms", "5s",
 * "2m", "1.5h"); a bare number is seconds, as before units were read. The range [lo_s, hi_s]
 * is in seconds and the error names it so; *out_s is seconds. */
FM_MUST_CHECK int fm_parse_duration(
    const char *s, double lo_s, double hi_s, const char *what, double *out_s, struct fm_err *err);

/* The shortest decimal text that reads back as exactly v ("0.1", "1450", "-3.2188758248682006"),
 * without an exponent for magnitudes from 1e-4 to 1e15, into buf (at least 32 bytes). v must
 * be finite. Returns buf. */
char *fm_fmt_double(char *buf, size_t size, double v);

#endif
