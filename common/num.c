/* common/num.c - strict number parsing. */
#include "common/num.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int fm_parse_long(const char *s, long lo, long hi, const char *what, long *out, struct fm_err *err)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return fm_err_set(err, FM_EINVAL, "%s: expected an integer, got '%s'", what, s ? s : "");
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0')
        return fm_err_set(err, FM_EINVAL, "%s: expected an integer, got '%s'", what, s);
    if (errno == ERANGE || v < lo || v > hi)
        return fm_err_set(err, FM_EINVAL, "%s: %s is out of range (%ld to %ld)", what, s, lo, hi);
    *out = v;
    return FM_OK;
}

int fm_parse_u64(const char *s, uint64_t hi, const char *what, uint64_t *out, struct fm_err *err)
{
    if (!s || !*s || !isdigit((unsigned char)*s))
        return fm_err_set(err, FM_EINVAL, "%s: expected a non-negative integer, got '%s'", what,
                          s ? s : "");
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return fm_err_set(err, FM_EINVAL, "%s: expected a non-negative integer, got '%s'", what, s);
    if (errno == ERANGE || v > hi)
        return fm_err_set(err, FM_EINVAL, "%s: %s is out of range (0 to %llu)", what, s,
                          (unsigned long long)hi);
    *out = (uint64_t)v;
    return FM_OK;
}

int fm_parse_double(
    const char *s, double lo, double hi, const char *what, double *out, struct fm_err *err)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return fm_err_set(err, FM_EINVAL, "%s: expected a number, got '%s'", what, s ? s : "");
    /* strtod also reads hexadecimal ("0x10" is 16), "inf" and "nan": a value that looks
     * like an integer option's but means another thing. Only decimal digits, a sign, a
     * point and an exponent are numbers here. */
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c) && *c != '.' && *c != '-' && *c != '+' && *c != 'e' &&
            *c != 'E')
            return fm_err_set(err, FM_EINVAL, "%s: expected a decimal number, got '%s'", what, s);
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return fm_err_set(err, FM_EINVAL, "%s: expected a number, got '%s'", what, s);
    if (errno == ERANGE || v < lo || v > hi)
        return fm_err_set(err, FM_EINVAL, "%s: %s is out of range (%g to %g)", what, s, lo, hi);
    *out = v;
    return FM_OK;
}

char *fm_fmt_double(char *buf, size_t size, double v)
{
    /* %g switches to an exponent once the exponent reaches the precision, so the precision
     * covers at least the integer digits: 1450 prints as "1450", not "1.45e+03". */
    int min_prec = 1;
    double a = fabs(v);
    if (a >= 1 && a < 1e15)
        min_prec = (int)floor(log10(a)) + 1;
    for (int prec = min_prec; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}
