/* tests/unit/test_common_file.c - atomic output files: a committed file holds exactly what
 * was written with mode 0644, an aborted or failed one leaves nothing behind, a stream lent
 * to another owner is synced and renamed but closed by that owner, and the Internet checksum
 * of RFC 1071 on its own worked examples. */
#include "common/file.h"
#include "common/inet.h"
#include "tests/support/test_util.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void expect_text(const char *path, const char *want)
{
    char *got = NULL;
    size_t len = 0;
    struct fm_err err = {0};
    assert_int_equal(fm_file_read_all(path, 1 << 20, "file", &got, &len, &err), FM_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
}

static void test_commit(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct fm_atomic_file af;
    int before = test_count_entries(test_dir());
    test_path(path, sizeof(path), "commit.txt");
    assert_int_equal(fm_atomic_open(&af, path, &err), FM_OK);
    assert_non_null(af.f);
    /* Until the commit only the temporary exists. */
    assert_int_equal(test_count_entries(test_dir()), before + 1);
    assert_int_equal(access(path, F_OK), -1);
    fputs("hello\n", af.f);
    assert_int_equal(fm_atomic_commit(&af, &err), FM_OK);
    assert_null(af.f);
    assert_int_equal(test_count_entries(test_dir()), before + 1);
    expect_text(path, "hello\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* Abort after commit, or twice, does nothing; a second commit is refused. */
    fm_atomic_abort(&af);
    fm_atomic_abort(&af);
    assert_int_equal(fm_atomic_commit(&af, &err), FM_EINVAL);
    expect_text(path, "hello\n");

    /* fm_file_write_atomic replaces the whole file and adds the final newline. */
    assert_int_equal(fm_file_write_atomic(path, "bye", 3, &err), FM_OK);
    expect_text(path, "bye\n");
    assert_int_equal(test_count_entries(test_dir()), before + 1);
}

static void test_abort_and_failure(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct fm_atomic_file af;
    int before = test_count_entries(test_dir());
    test_path(path, sizeof(path), "aborted.txt");
    assert_int_equal(fm_atomic_open(&af, path, &err), FM_OK);
    fputs("half", af.f);
    fm_atomic_abort(&af);
    assert_null(af.f);
    assert_int_equal(test_count_entries(test_dir()), before);

    /* The old file survives an aborted replacement. */
    assert_int_equal(fm_file_write_atomic(path, "old", 3, &err), FM_OK);
    assert_int_equal(fm_atomic_open(&af, path, &err), FM_OK);
    fputs("new", af.f);
    fm_atomic_abort(&af);
    expect_text(path, "old\n");
    assert_int_equal(test_count_entries(test_dir()), before + 1);

    /* A directory that does not exist: FM_EIO naming the file, nothing created. */
    test_path(path, sizeof(path), "no/such/dir/x.txt");
    assert_int_equal(fm_atomic_open(&af, path, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "no/such/dir/x.txt"));
    assert_null(af.f);
    fm_atomic_abort(&af);
    /* A rename over a directory fails at commit and removes the temporary. */
    test_path(path, sizeof(path), "adir");
    assert_int_equal(mkdir(path, 0755), 0);
    int with_dir = test_count_entries(test_dir());
    assert_int_equal(fm_atomic_open(&af, path, &err), FM_OK);
    fputs("x", af.f);
    assert_int_equal(fm_atomic_commit(&af, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "adir"));
    assert_int_equal(test_count_entries(test_dir()), with_dir);
}

static void test_lent(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct fm_atomic_file af;
    test_path(path, sizeof(path), "lent.txt");
    assert_int_equal(fm_atomic_open(&af, path, &err), FM_OK);
    FILE *owner = af.f; /* as pcap_dump_fopen() takes it */
    af.lent = 1;
    fputs("lent", owner);
    assert_int_equal(fm_atomic_commit(&af, &err), FM_OK);
    /* Renamed and whole, and the stream is still the owner's to close. */
    expect_text(path, "lent");
    assert_int_equal(fputs("!", owner) >= 0, 1);
    assert_int_equal(fclose(owner), 0);
    expect_text(path, "lent!");
}

static void test_checksum(void **state)
{
    (void)state;
    /* RFC 1071 section 3's example: the words 0001 f203 f4f5 f6f7 sum to ddf2 once folded. */
    const uint8_t words[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(fm_inet_csum_fold(fm_inet_csum_add(0, words, sizeof(words))),
                     (uint16_t)~0xddf2u);
    /* An odd last byte is padded with zero; the sum can be built in pieces. */
    const uint8_t odd[] = {0x12, 0x34, 0x56};
    uint32_t whole = fm_inet_csum_add(0, odd, 3);
    assert_int_equal(whole, 0x1234u + 0x5600u);
    assert_int_equal(fm_inet_csum_add(fm_inet_csum_add(0, odd, 2), odd + 2, 1), whole);
    /* A header carrying its own checksum sums to all ones, so folds to zero. */
    uint8_t h[20] = {0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2};
    fm_put_be16(h + 10, fm_inet_csum_fold(fm_inet_csum_add(0, h, sizeof(h))));
    assert_int_equal(fm_inet_csum_fold(fm_inet_csum_add(0, h, sizeof(h))), 0);
    uint8_t b[4];
    fm_put_be32(b, 0x01020304u);
    assert_memory_equal(b, "\x01\x02\x03\x04", 4);
    fm_put_be16(b, 0xabcdu);
    assert_memory_equal(b, "\xab\xcd\x03\x04", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_abort_and_failure),
        cmocka_unit_test(test_lent),
        cmocka_unit_test(test_checksum),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
