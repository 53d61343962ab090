/* tests/fuzz/fuzz_util.c - the checks every harness shares. */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

void fuzz_check_err(int rc, const struct fm_err *err, const char *what)
{
    fuzz_check(rc < 0, what, "a failure without a negative status");
    size_t len = strnlen(err->msg, sizeof(err->msg));
    fuzz_check(len > 0 && len < sizeof(err->msg), what, "a failure without a message");
    fuzz_check(memchr(err->msg, '\n', len) == NULL, what, err->msg);
}
