/* tests/support/test_util.h - helpers for cmocka tests: double comparisons, test data paths. */
#ifndef TESTS_SUPPORT_TEST_UTIL_H
#define TESTS_SUPPORT_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* cmocka.h needs the headers above first: keep it in a block of its own. */
#include <cmocka.h>

/* Fail unless |a - b| <= tol, printing both values. */
#define assert_double_near(a, b, tol)                                                  \
    do {                                                                               \
        double a_ = (a), b_ = (b), t_ = (tol);                                         \
        if (!(fabs(a_ - b_) <= t_))                                                    \
            fail_msg("%s = %.9g, expected %s = %.9g within %.3g", #a, a_, #b, b_, t_); \
    } while (0)

/* Path of a file under ../shared/traffic_dumps (FM_DUMPS_DIR), into buf. */
static inline const char *test_dump_path(char *buf, size_t size, const char *name)
{
    const char *root = getenv("FM_DUMPS_DIR");
    snprintf(buf, size, "%s/%s", root ? root : "../shared/traffic_dumps", name);
    return buf;
}

#endif
