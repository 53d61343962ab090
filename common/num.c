/* common/num.c - strict number parsing. */
#include "common/num.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int fm_parse_duration(
    const char *s, double lo_s, double hi_s, const char *what, double *out_s, struct fm_err *err)
{
    static const struct {
        const char *name;
        double seconds;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
    if (!s)
        s = "";
    size_t len = strlen(s);
    size_t num = len;
    while (num > 0 && isalpha((unsigned char)s[num - 1]))
        num--;
    double scale = 1;
    if (num < len) {
        size_t u = 0;
        while (u < sizeof(units) / sizeof(units[0]) && strcmp(s + num, units[u].name) != 0)
            u++;
        if (u == sizeof(units) / sizeof(units[0]) || num == 0)
            return fm_err_set(err, FM_EINVAL,
                              "%s: expected a duration such as 250ms, 5s, 2m or 1h, got '%s'", what,
                              s);
        scale = units[u].seconds;
    }
    char digits[64];
    if (num >= sizeof(digits))
        return fm_err_set(err, FM_EINVAL, "%s: expected a duration, got '%s'", what, s);
    memcpy(digits, s, num);
    digits[num] = '\0';
    double v = 0;
    struct fm_err ignored = {0};
    if (fm_parse_double(digits, -HUGE_VAL, HUGE_VAL, what, &v, &ignored) < 0)
        return fm_err_set(err, FM_EINVAL,
                          "%s: expected a duration such as 250ms, 5s, 2m or 1h, got '%s'", what, s);
    v *= scale;
    if (!isfinite(v) || v < lo_s || v > hi_s)
        return fm_err_set(err, FM_EINVAL, "%s: %s is out of range (%gs to %gs)", what, s, lo_s,
                          hi_s);
    *out_s = v;
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
