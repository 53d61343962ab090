/* common/file.c - whole small files: read one into memory, write one atomically. */
#include "common/file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fm_file_read_all(
    const char *path, size_t max, const char *what, char **out, size_t *len, struct fm_err *err)
{
    FILE *f = NULL;
    char *buf = NULL;
    int rc = FM_OK;
    struct stat st;

    f = fopen(path, "rb");
    if (!f) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot open %s '%s'", what, path);
        goto out;
    }
    if (fstat(fileno(f), &st) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot read %s '%s'", what, path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fm_err_set(err, FM_EIO, "cannot read %s '%s': not a regular file", what, path);
        goto out;
    }
    if (st.st_size == 0) {
        rc = fm_err_set(err, FM_EFORMAT, "%s '%s' is empty", what, path);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = fm_err_set(err, FM_EFORMAT, "%s '%s' is too large to be one (%lld bytes)", what, path,
                        (long long)st.st_size);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        rc = fm_err_set(err, FM_ENOMEM, "%s '%s'", what, path);
        goto out;
    }
    if (fread(buf, 1, size, f) != size) {
        rc = fm_err_set(err, FM_EIO, "cannot read %s '%s'", what, path);
        goto out;
    }
    buf[size] = '\0';
    *out = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

int fm_file_write_atomic(const char *path, const char *text, size_t len, struct fm_err *err)
{
    int fd = -1;
    int rc = FM_OK;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return fm_err_set(err, FM_ENOMEM, "writing '%s'", path);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        tmp[0] = '\0'; /* nothing was created */
        goto out;
    }
    if (write_all(fd, text, len) < 0 || write_all(fd, "\n", 1) < 0 || fchmod(fd, 0644) != 0 ||
        fsync(fd) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        goto out;
    }
    int crc = close(fd);
    fd = -1;
    if (crc != 0 || rename(tmp, path) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        goto out;
    }
    tmp[0] = '\0'; /* renamed: nothing to remove */
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    free(tmp);
    return rc;
}
