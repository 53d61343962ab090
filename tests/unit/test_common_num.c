/* tests/unit/test_common_num.c - strict number parsing and bounds-checked readers. */
#include "common/buf.h"
#include "common/num.h"
#include "tests/support/test_util.h"

#include <string.h>

static void test_parse_long(void **state)
{
    (void)state;
    struct fm_err err = {0};
    long v = 7;
    assert_int_equal(fm_parse_long("42", 0, 100, "--x", &v, &err), FM_OK);
    assert_int_equal(v, 42);
    assert_int_equal(fm_parse_long("-3", -5, 5, "--x", &v, &err), FM_OK);
    assert_int_equal(v, -3);
    v = 7;
    assert_int_equal(fm_parse_long("42x", 0, 100, "--x", &v, &err), FM_EINVAL);
    assert_int_equal(v, 7);
    assert_non_null(strstr(err.msg, "--x"));
    assert_int_equal(fm_parse_long("", 0, 100, "--x", &v, &err), FM_EINVAL);
    assert_int_equal(fm_parse_long(" 4", 0, 100, "--x", &v, &err), FM_EINVAL);
    assert_int_equal(fm_parse_long("101", 0, 100, "--x", &v, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_int_equal(fm_parse_long("99999999999999999999999", 0, 100, "--x", &v, &err), FM_EINVAL);
    assert_int_equal(v, 7);
}

/* Durations with units, as tcpreplay and iperf3 users type them (issue 11). */
static void test_parse_duration(void **state)
{
    (void)state;
    struct fm_err err = {0};
    static const struct {
        const char *text;
        double seconds;
    } good[] = {{"5", 5},       {"5s", 5},     {"250ms", 0.25}, {"2m", 120},      {"1.5h", 5400},
                {"40us", 4e-5}, {"7ns", 7e-9}, {"0.5", 0.5},    {"1e-3s", 0.001}, {"1e2ms", 0.1}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        double d = -1;
        assert_int_equal(fm_parse_duration(good[i].text, 0, 1e6, "--duration", &d, &err), FM_OK);
        assert_double_near(d, good[i].seconds, good[i].seconds * 1e-12);
    }
    static const char *const bad[] = {"",  "s",   "5 s",  "5sec", "5S",  "ms5", "0x10s",
                                      "-", "nan", "infs", "5mm",  " 5s", "5e",  "1h2m"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double d = 42;
        assert_int_equal(fm_parse_duration(bad[i], 0, 1e6, "--duration", &d, &err), FM_EINVAL);
        assert_double_near(d, 42, 0);
        assert_non_null(strstr(err.msg, "--duration"));
    }
    double d = 0;
    assert_int_equal(fm_parse_duration("2h", 0, 3600, "--idle", &d, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "out of range (0s to 3600s)"));
    assert_int_equal(fm_parse_duration(NULL, 0, 1, "--idle", &d, &err), FM_EINVAL);
}

static void test_parse_double(void **state)
{
    (void)state;
    struct fm_err err = {0};
    double d = 0;
    assert_int_equal(fm_parse_double("2.5", 0, 10, "--y", &d, &err), FM_OK);
    assert_double_near(d, 2.5, 0);
    assert_int_equal(fm_parse_double("nan", -1e9, 1e9, "--y", &d, &err), FM_EINVAL);
    assert_int_equal(fm_parse_double("inf", -1e9, 1e9, "--y", &d, &err), FM_EINVAL);
    assert_int_equal(fm_parse_double("1e3", 0, 10, "--y", &d, &err), FM_EINVAL);
    assert_int_equal(fm_parse_double("1.5.", 0, 10, "--y", &d, &err), FM_EINVAL);
    uint64_t u = 0;
    assert_int_equal(fm_parse_u64("18446744073709551615", UINT64_MAX, "n", &u, &err), FM_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(fm_parse_u64("-1", UINT64_MAX, "n", &u, &err), FM_EINVAL);
}

static void test_reader_bounds(void **state)
{
    (void)state;
    const uint8_t b[5] = {0x12, 0x34, 0x56, 0x78, 0x9a};
    struct fm_rd r;
    fm_rd_init(&r, b, sizeof(b));
    uint32_t v32 = 0;
    uint16_t v16 = 0;
    uint8_t v8 = 0;
    assert_int_equal(fm_rd_be32(&r, &v32), 0);
    assert_int_equal(v32, 0x12345678u);
    assert_int_equal(fm_rd_be16(&r, &v16), -1); /* one byte left: fails, moves nothing */
    assert_int_equal(fm_rd_left(&r), 1);
    assert_int_equal(fm_rd_u8(&r, &v8), 0);
    assert_int_equal(v8, 0x9a);
    assert_int_equal(fm_rd_u8(&r, &v8), -1);
    assert_int_equal(fm_rd_skip(&r, 1), -1);
    fm_rd_init(&r, b, 2);
    assert_int_equal(fm_rd_le16(&r, &v16), 0);
    assert_int_equal(v16, 0x3412);
}

static void test_fmt_double(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(fm_fmt_double(buf, sizeof(buf), 1450), "1450");
    assert_string_equal(fm_fmt_double(buf, sizeof(buf), 0.1), "0.1");
    assert_string_equal(fm_fmt_double(buf, sizeof(buf), -3.2188758248682006),
                        "-3.2188758248682006");
    assert_string_equal(fm_fmt_double(buf, sizeof(buf), 1e-6), "1e-06");
    assert_string_equal(fm_fmt_double(buf, sizeof(buf), 1246000), "1246000");
    /* Every value reads back exactly. */
    double v = 1.0 / 3.0;
    for (int i = 0; i < 200; i++, v *= -1.37)
        assert_true(strtod(fm_fmt_double(buf, sizeof(buf), v), NULL) == v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_long),     cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_reader_bounds),
        cmocka_unit_test(test_fmt_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
