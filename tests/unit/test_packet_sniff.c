/* tests/unit/test_packet_sniff.c - what an input holds: JSON objects and arrays (a byte
 * order mark and blanks allowed), pcap in both byte orders and pcapng, nothing known; and the
 * one rule for inputs that cannot be looked at without consuming them ("-", a FIFO): a
 * capture, never read here. Empty files, directories and missing files are errors. */
#include "packet/sniff.h"
#include "tests/support/test_util.h"

#include <string.h>
#include <sys/stat.h>

static const char *file(const char *name, const void *data, size_t len, char *path, size_t size)
{
    test_write_file(test_path(path, size, name), data, len);
    return path;
}

static void test_sniff(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    enum pkt_input k = PKT_INPUT_UNKNOWN;
    assert_int_equal(pkt_sniff(file("a.json", "\n  [ ]", 6, path, sizeof(path)), &k, &err), FM_OK);
    assert_int_equal(k, PKT_INPUT_JSON_ARRAY);
    assert_int_equal(pkt_sniff(file("b.json", "\xef\xbb\xbf{}", 5, path, sizeof(path)), &k, &err),
                     FM_OK);
    assert_int_equal(k, PKT_INPUT_JSON_OBJECT);
    assert_int_equal(
        pkt_sniff(file("c.bin", "\xd4\xc3\xb2\xa1\x02\x00", 6, path, sizeof(path)), &k, &err),
        FM_OK);
    assert_int_equal(k, PKT_INPUT_CAPTURE);
    assert_int_equal(pkt_sniff(file("d.bin", "\x0a\x0d\x0d\x0a", 4, path, sizeof(path)), &k, &err),
                     FM_OK);
    assert_int_equal(k, PKT_INPUT_CAPTURE);
    assert_int_equal(pkt_sniff(file("e.txt", "hello", 5, path, sizeof(path)), &k, &err), FM_OK);
    assert_int_equal(k, PKT_INPUT_UNKNOWN);
    assert_int_equal(pkt_sniff(file("f.txt", "", 0, path, sizeof(path)), &k, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "is empty"));
    assert_int_equal(pkt_sniff(test_dir(), &k, &err), FM_EIO);
    test_path(path, sizeof(path), "missing");
    assert_int_equal(pkt_sniff(path, &k, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "missing"));
    /* A FIFO with no writer: taken for a capture without opening it (which would block). */
    test_path(path, sizeof(path), "fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(pkt_sniff(path, &k, &err), FM_OK);
    assert_int_equal(k, PKT_INPUT_CAPTURE);
    assert_int_equal(pkt_input_rereadable(path), 0);
    assert_int_equal(pkt_sniff("-", &k, &err), FM_OK);
    assert_int_equal(k, PKT_INPUT_CAPTURE);
    assert_int_equal(pkt_input_rereadable("-"), 0);
    assert_int_equal(pkt_input_rereadable(file("g.json", "{}", 2, path, sizeof(path))), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sniff)};
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
