/* tests/fuzz/fuzz.h - what every harness defines and shares.
 * A harness is one LLVMFuzzerTestOneInput(): libFuzzer calls it (FM_FUZZ ON), or
 * replay_main.c does, once per file of a corpus (the fuzz.<name> CTest tests). It returns 0
 * for every input; a broken invariant aborts, so that libFuzzer keeps the input and a replay
 * test fails. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print what (and detail, when not NULL) on stderr and abort. */
void fuzz_fail(const char *what, const char *detail) __attribute__((noreturn));

/* fuzz_fail() unless ok. */
static inline void fuzz_check(int ok, const char *what, const char *detail)
{
    if (!ok)
        fuzz_fail(what, detail);
}

/* Abort unless a failed call left a one-line message in err: a negative code, text that is
 * not empty and holds no newline. */
void fuzz_check_err(int rc, const struct fm_err *err, const char *what);

#endif
