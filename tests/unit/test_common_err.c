/* tests/unit/test_common_err.c - the error record: codes, and messages that stay on one line
 * whatever bytes the input they quote holds (found by tests/fuzz). */
#include "common/err.h"
#include "tests/support/test_util.h"

#include <errno.h>
#include <string.h>

static void assert_one_line(const char *msg)
{
    for (const char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            fail_msg("control byte 0x%02x at %td in '%s'", (unsigned char)*p, p - msg, msg);
}

static void test_set(void **state)
{
    (void)state;
    struct fm_err err = {0};
    assert_int_equal(fm_err_set(&err, FM_EFORMAT, "%s: field '%s' is bad", "f.json", "ttl"),
                     FM_EFORMAT);
    assert_int_equal(err.code, FM_EFORMAT);
    assert_string_equal(err.msg, "f.json: field 'ttl' is bad");
    assert_int_equal(fm_err_set(NULL, FM_EIO, "nothing"), FM_EIO);
}

static void test_controls_escaped(void **state)
{
    (void)state;
    struct fm_err err = {0};
    fm_err_set(&err, FM_EFORMAT, "field '%s' is not a known field", "a\nb\tc\r\x1b[2J\x7f");
    assert_string_equal(err.msg, "field 'a\\nb\\tc\\r\\x1b[2J\\x7f' is not a known field");
    /* UTF-8 text is kept as it is. */
    fm_err_set(&err, FM_EFORMAT, "name '%s'", "caf\xc3\xa9");
    assert_string_equal(err.msg, "name 'caf\xc3\xa9'");
    fm_err_errno(&err, FM_EIO, ENOENT, "cannot open '%s'", "x\ny");
    assert_non_null(strstr(err.msg, "cannot open 'x\\ny': "));
    assert_one_line(err.msg);
}

static void test_escapes_cut_whole(void **state)
{
    (void)state;
    struct fm_err err = {0};
    char many[400];
    memset(many, '\x01', sizeof(many) - 1);
    many[sizeof(many) - 1] = '\0';
    fm_err_set(&err, FM_EFORMAT, "x%s", many);
    size_t len = strlen(err.msg);
    assert_true(len < sizeof(err.msg));
    assert_true(len > sizeof(err.msg) - 5);
    assert_int_equal((len - 1) % 4, 0); /* "x" then whole "\x01" escapes only */
    assert_string_equal(err.msg + len - 4, "\\x01");
    assert_one_line(err.msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_controls_escaped),
        cmocka_unit_test(test_escapes_cut_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
