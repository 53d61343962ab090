/* tests/support/test_util.h - helpers for cmocka tests: double comparisons, test data paths,
 * a temporary directory per test program, writing files. */
#ifndef TESTS_SUPPORT_TEST_UTIL_H
#define TESTS_SUPPORT_TEST_UTIL_H

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The test program's temporary directory: made by test_dir_setup() and removed, with all
 * it holds, by test_dir_teardown(), given as the group setup and teardown:
 *     return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
 * Under $TMPDIR, else /tmp. */
static inline char *test_dir(void)
{
    static char dir[256] = "";
    return dir;
}

static inline int test_dir_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(test_dir(), 256, "%s/fm_test_XXXXXX", base && base[0] ? base : "/tmp");
    return mkdtemp(test_dir()) ? 0 : -1;
}

static inline int test_dir_teardown(void **state)
{
    (void)state;
    char cmd[300];
    /* The directory holds only files this test wrote. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir());
    return system(cmd) == 0 ? 0 : -1;
}

/* Path of name inside test_dir(), into buf. */
static inline const char *test_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", test_dir(), name);
    return buf;
}

/* Entries of the directory path whose names do not start with '.' (a test's files, and any
 * temporary "name.tmp.XXXXXX" it left); fails the test when path cannot be listed. */
static inline int test_count_entries(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    const struct dirent *e = NULL;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Write len bytes to path (created or truncated), failing the test on any error. */
static inline void test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* An Ethernet/IPv4/UDP frame from 10.0.0.<src>:<sport> to 10.0.0.<dst>:<dport> with len zero
 * payload bytes into b (at least 42 + len bytes); returns its length. No checksums. */
static inline size_t
test_udp4_frame(uint8_t *b, uint8_t src, uint8_t dst, unsigned sport, unsigned dport, unsigned len)
{
    memset(b, 0, 42 + len);
    b[12] = 0x08;
    unsigned total = 28 + len;
    b[14] = 0x45;
    b[16] = (uint8_t)(total >> 8);
    b[17] = (uint8_t)total;
    b[22] = 64;
    b[23] = 17;
    b[26] = 10, b[29] = src;
    b[30] = 10, b[33] = dst;
    b[34] = (uint8_t)(sport >> 8);
    b[35] = (uint8_t)sport;
    b[36] = (uint8_t)(dport >> 8);
    b[37] = (uint8_t)dport;
    b[38] = (uint8_t)((8 + len) >> 8);
    b[39] = (uint8_t)(8 + len);
    return 42 + len;
}

/* Write a NUL-terminated text to path. */
static inline void test_write_text(const char *path, const char *text)
{
    test_write_file(path, text, strlen(text));
}

#endif
