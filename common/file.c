/* common/file.c - whole small files: read one into memory, write one atomically. */
#include "common/file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read a stream of unknown length (a pipe) into a growing buffer, at most max + 1 bytes, so
 * that a stream longer than max is told apart from one of exactly max bytes. */
static int read_stream(FILE *f,
                       size_t max,
                       const char *what,
                       const char *path,
                       char **buf,
                       size_t *len,
                       struct fm_err *err)
{
    size_t cap = 0, n = 0;
    *buf = NULL;
    for (;;) {
        if (n == cap) {
            if (cap == max + 1)
                return fm_err_set(err, FM_EFORMAT,
                                  "%s '%s' is too large to be one (over %zu bytes)", what, path,
                                  max);
            size_t want = cap ? cap * 2 : 65536;
            if (want > max + 1)
                want = max + 1;
            char *p = realloc(*buf, want + 1);
            if (!p)
                return fm_err_set(err, FM_ENOMEM, "%s '%s'", what, path);
            *buf = p;
            cap = want;
        }
        size_t got = fread(*buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                return fm_err_errno(err, FM_EIO, errno, "cannot read %s '%s'", what, path);
            break;
        }
    }
    *len = n;
    return FM_OK;
}

int fm_file_read_all(
    const char *path, size_t max, const char *what, char **out, size_t *len, struct fm_err *err)
{
    FILE *f = NULL;
    char *buf = NULL;
    int rc = FM_OK;
    struct stat st;
    size_t size = 0;

    f = fopen(path, "rb");
    if (!f) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot open %s '%s'", what, path);
        goto out;
    }
    if (fstat(fileno(f), &st) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot read %s '%s'", what, path);
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = fm_err_set(err, FM_EIO, "cannot read %s '%s': it is a directory, not a file", what,
                        path);
        goto out;
    }
    if (S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > max) {
            rc = fm_err_set(err, FM_EFORMAT, "%s '%s' is too large to be one (%lld bytes)", what,
                            path, (long long)st.st_size);
            goto out;
        }
        size = (size_t)st.st_size;
        buf = malloc(size + 1);
        if (!buf) {
            rc = fm_err_set(err, FM_ENOMEM, "%s '%s'", what, path);
            goto out;
        }
        if (fread(buf, 1, size, f) != size) {
            rc = fm_err_set(err, FM_EIO, "cannot read %s '%s'", what, path);
            goto out;
        }
    } else {
        rc = read_stream(f, max, what, path, &buf, &size, err);
        if (rc < 0)
            goto out;
    }
    if (size == 0) {
        rc = fm_err_set(err, FM_EFORMAT, "%s '%s' is empty", what, path);
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

int fm_atomic_open(struct fm_atomic_file *af, const char *path, struct fm_err *err)
{
    int fd = -1;
    int rc = FM_OK;
    size_t n = strlen(path) + 16;
    memset(af, 0, sizeof(*af));
    af->path = strdup(path);
    af->tmp = malloc(n);
    if (!af->path || !af->tmp) {
        rc = fm_err_set(err, FM_ENOMEM, "writing '%s'", path);
        goto out;
    }
    snprintf(af->tmp, n, "%s.tmp.XXXXXX", path);
    fd = mkstemp(af->tmp);
    if (fd < 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        free(af->tmp); /* nothing was created */
        af->tmp = NULL;
        goto out;
    }
    /* mkstemp makes the file private; an output is as readable as any other file. */
    if (fchmod(fd, 0644) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        goto out;
    }
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        goto out;
    }
    fd = -1; /* the stream owns it */
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        fm_atomic_abort(af);
    return rc;
}

int fm_atomic_commit(struct fm_atomic_file *af, struct fm_err *err)
{
    int rc = FM_OK;
    FILE *f = af->f;
    if (!f || !af->tmp) {
        rc = fm_err_set(err, FM_EINVAL, "no output file is open");
        goto out;
    }
    /* Flush and sync before the rename, so that the name never points at a file whose data
     * a crash could still lose. */
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", af->path);
        goto out;
    }
    if (!af->lent) {
        af->f = NULL;
        if (fclose(f) != 0) {
            rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", af->path);
            goto out;
        }
    }
    if (rename(af->tmp, af->path) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", af->path);
        goto out;
    }
    free(af->tmp); /* renamed: nothing to remove */
    af->tmp = NULL;
out:
    fm_atomic_abort(af);
    return rc;
}

void fm_atomic_abort(struct fm_atomic_file *af)
{
    if (af->f && !af->lent)
        fclose(af->f);
    af->f = NULL;
    af->lent = 0;
    if (af->tmp)
        unlink(af->tmp);
    free(af->tmp);
    af->tmp = NULL;
    free(af->path);
    af->path = NULL;
}

int fm_file_write_atomic(const char *path, const char *text, size_t len, struct fm_err *err)
{
    struct fm_atomic_file af;
    int rc = fm_atomic_open(&af, path, err);
    if (rc < 0)
        return rc;
    if (fwrite(text, 1, len, af.f) != len || fputc('\n', af.f) == EOF) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        fm_atomic_abort(&af);
        return rc;
    }
    return fm_atomic_commit(&af, err);
}
