/* tests/unit/test_common_file.c - atomic output files: a committed file holds exactly what
 * was written with mode 0644, an aborted or failed one leaves nothing behind, a stream lent
 * to another owner is synced and renamed but closed by that owner, and the Internet checksum
 * of RFC 1071 on its own worked examples. fm_file_read_all reads pipes as well as regular
 * files, to the byte, and stops one byte past its limit. */
#include "common/file.h"
#include "common/inet.h"
#include "tests/support/test_util.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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
    /* A directory is refused at open, before anything is written, and is left alone. */
    test_path(path, sizeof(path), "adir");
    assert_int_equal(mkdir(path, 0755), 0);
    int with_dir = test_count_entries(test_dir());
    assert_int_equal(fm_atomic_open(&af, path, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "adir"));
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_null(af.f);
    assert_int_equal(test_count_entries(test_dir()), with_dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

/* Write text through fm_atomic_open/commit; returns commit's status. */
static int write_out(const char *path, const char *text, struct fm_err *err)
{
    struct fm_atomic_file af;
    int rc = fm_atomic_open(&af, path, err);
    if (rc < 0)
        return rc;
    fputs(text, af.f);
    return fm_atomic_commit(&af, err);
}

/* Outputs that are not regular files are written through, never replaced or removed: a
 * private copy of /dev/null and of /dev/full made with mknod (never /dev itself), a FIFO, and
 * a link to a regular file, whose target is replaced while the link stays a link. */
static void test_special_outputs(void **state)
{
    (void)state;
    char null_dev[300], full_dev[300], fifo[300], target[300], link[300];
    struct fm_err err = {0};
    struct stat st;
    test_path(null_dev, sizeof(null_dev), "null");
    test_path(full_dev, sizeof(full_dev), "full");
    if (mknod(null_dev, S_IFCHR | 0666, makedev(1, 3)) != 0 ||
        mknod(full_dev, S_IFCHR | 0666, makedev(1, 7)) != 0) {
        /* Only root makes device nodes; CI runs as root, so this is never skipped there. */
        assert_true(getuid() != 0);
        skip();
    }
    int before = test_count_entries(test_dir());
    assert_int_equal(write_out(null_dev, "discarded", &err), FM_OK);
    assert_int_equal(stat(null_dev, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal((int)major(st.st_rdev), 1);
    assert_int_equal((int)minor(st.st_rdev), 3);
    /* /dev/full: the write fails with "no space left", reported, and the node survives. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(write_out(full_dev, "lost", &err), FM_EIO);
    assert_non_null(strstr(err.msg, full_dev));
    assert_non_null(strstr(err.msg, "No space left"));
    assert_int_equal(stat(full_dev, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(test_count_entries(test_dir()), before); /* no temporary anywhere */

    /* A FIFO: what is written arrives at its reader, and it stays a FIFO. */
    test_path(fifo, sizeof(fifo), "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct fm_err e = {0};
        _exit(write_out(fifo, "through a fifo", &e) == FM_OK ? 0 : 1);
    }
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(fm_file_read_all(fifo, 1 << 10, "fifo", &got, &len, &err), FM_OK);
    assert_int_equal(len, strlen("through a fifo"));
    assert_memory_equal(got, "through a fifo", len);
    free(got);
    int status = -1;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));

    /* A link to a regular file: the target is replaced whole, the link stays. */
    test_path(target, sizeof(target), "target.txt");
    test_path(link, sizeof(link), "link.txt");
    assert_int_equal(fm_file_write_atomic(target, "old", 3, &err), FM_OK);
    assert_int_equal(symlink("target.txt", link), 0);
    assert_int_equal(write_out(link, "new", &err), FM_OK);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    expect_text(target, "new");
    /* A link to a device is written through too. */
    char dlink[300];
    test_path(dlink, sizeof(dlink), "null-link");
    assert_int_equal(symlink(null_dev, dlink), 0);
    assert_int_equal(write_out(dlink, "x", &err), FM_OK);
    assert_int_equal(lstat(dlink, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(null_dev, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

/* fm_output_check refuses what could only fail at the end of a run, and nothing else. */
static void test_output_check(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    assert_int_equal(fm_output_check("", 0, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(fm_output_check(test_dir(), 0, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_int_equal(fm_output_check(test_dir(), FM_OUTPUT_DIR_OK, &err), FM_OK);
    test_path(path, sizeof(path), "missing/x.json");
    assert_int_equal(fm_output_check(path, 0, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "no directory"));
    test_path(path, sizeof(path), "new.json");
    assert_int_equal(fm_output_check(path, 0, &err), FM_OK);
    assert_int_equal(fm_output_check("relative-name.json", 0, &err), FM_OK);
    assert_int_equal(fm_output_check("/dev/null", 0, &err), FM_OK);
    assert_int_equal(access(path, F_OK), -1); /* a check creates nothing */
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
    /* The word-at-a-time bulk agrees with the plain sum of big-endian words: every length up
     * to 300 at every alignment, in one piece and in two. */
    uint8_t buf[304];
    uint32_t x = 12345u;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 4; off++) {
        for (size_t len = 0; len + off <= 300; len++) {
            uint32_t plain = 0;
            for (size_t i = 0; i < len; i++)
                plain += (i & 1) ? buf[off + i] : (uint32_t)buf[off + i] << 8;
            uint16_t want = fm_inet_csum_fold(plain);
            assert_int_equal(fm_inet_csum_fold(fm_inet_csum_add(0, buf + off, len)), want);
            size_t half = (len / 2) & ~(size_t)1;
            uint32_t two = fm_inet_csum_add(fm_inet_csum_add(0, buf + off, half), buf + off + half,
                                            len - half);
            assert_int_equal(fm_inet_csum_fold(two), want);
        }
    }
    uint8_t b[4];
    fm_put_be32(b, 0x01020304u);
    assert_memory_equal(b, "\x01\x02\x03\x04", 4);
    fm_put_be16(b, 0xabcdu);
    assert_memory_equal(b, "\xab\xcd\x03\x04", 4);
}

/* Read n bytes of a known pattern from a pipe that a child process writes, with limit max. */
static int read_pipe(size_t n, size_t max, char **got, size_t *len, struct fm_err *err)
{
    char *data = malloc(n + 1);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(fds[1], data + done, n - done);
            if (w <= 0)
                _exit(1);
            done += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
    int rc = fm_file_read_all(path, max, "trace", got, len, err);
    close(fds[0]); /* the child may still be blocked writing what was not read */
    int status = 0;
    waitpid(pid, &status, 0);
    free(data);
    return rc;
}

static void test_read_pipe(void **state)
{
    (void)state;
    struct fm_err err = {0};
    char *got = NULL;
    size_t len = 0;
    /* Longer than one pipe buffer and than the first 64 KiB chunk. */
    assert_int_equal(read_pipe(200000, 1 << 20, &got, &len, &err), FM_OK);
    assert_int_equal(len, 200000);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(got[i], 'a' + (int)(i % 26));
    assert_int_equal(got[len], '\0');
    free(got);
    got = NULL;
    /* Exactly the limit is fine; one byte more is too large. */
    assert_int_equal(read_pipe(99, 99, &got, &len, &err), FM_OK);
    assert_int_equal(len, 99);
    free(got);
    got = NULL;
    assert_int_equal(read_pipe(300000, 99999, &got, &len, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "too large"));
    assert_null(got);
    assert_int_equal(read_pipe(0, 99, &got, &len, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "is empty"));
    assert_null(got);
    assert_int_equal(fm_file_read_all(test_dir(), 99, "trace", &got, &len, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "is a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit),       cmocka_unit_test(test_abort_and_failure),
        cmocka_unit_test(test_lent),         cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_read_pipe),    cmocka_unit_test(test_special_outputs),
        cmocka_unit_test(test_output_check),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
