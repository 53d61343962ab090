/* common/file.c - whole small files: read one into memory, write one atomically. */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* True when path is, or leads through symbolic links to, a file of the kernel's: a link
 * whose target lies under /proc or /dev (/dev/stdout is /proc/self/fd/1). Renaming over
 * such a name would replace the link, and the file it stands for may be a terminal or the
 * shell's redirection, so it is written through. At most 40 links are followed, as the
 * kernel does. */
static int through_kernel_link(const char *path)
{
    char cur[PATH_MAX], target[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof(cur))
        return 0;
    memcpy(cur, path, len + 1);
    for (int hop = 0; hop < 40; hop++) {
        if (strncmp(cur, "/proc/", 6) == 0 || strncmp(cur, "/dev/", 5) == 0)
            return 1;
        ssize_t n = readlink(cur, target, sizeof(target) - 1);
        if (n < 0)
            return 0; /* not a link (or gone): the chain ends in an ordinary name */
        target[n] = '\0';
        if (target[0] == '/') {
            memcpy(cur, target, (size_t)n + 1);
            continue;
        }
        /* A relative target is relative to the directory of the link. */
        char *slash = strrchr(cur, '/');
        size_t dir = slash ? (size_t)(slash - cur) + 1 : 0;
        if (dir + (size_t)n >= sizeof(cur))
            return 0;
        memcpy(cur + dir, target, (size_t)n + 1);
    }
    return 0;
}

/* Open path to be written through, as it is: a device, a FIFO, a socket, /dev/stdout. Our
 * own standard output or error is duplicated rather than opened again, so that `-o
 * /dev/stdout >>log` appends as the shell set it up instead of writing from offset 0. */
static int open_through(struct fm_atomic_file *af, const char *path, struct fm_err *err)
{
    struct stat st, std;
    int fd = -1;
    if (stat(path, &st) == 0) {
        for (int i = STDOUT_FILENO; i <= STDERR_FILENO && fd < 0; i++)
            if (fstat(i, &std) == 0 && std.st_dev == st.st_dev && std.st_ino == st.st_ino &&
                std.st_rdev == st.st_rdev)
                fd = dup(i);
    }
    if (fd < 0)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int e = errno;
        close(fd);
        return fm_err_errno(err, FM_EIO, e, "cannot write '%s'", path);
    }
    af->through = 1;
    return FM_OK;
}

/* Create the temporary beside path that fm_atomic_commit() renames over it. */
static int open_temporary(struct fm_atomic_file *af, const char *path, struct fm_err *err)
{
    const char *dest = af->dest ? af->dest : af->path;
    size_t n = strlen(dest) + 16;
    int fd = -1;
    int rc;
    af->tmp = malloc(n);
    if (!af->tmp)
        return fm_err_set(err, FM_ENOMEM, "writing '%s'", path);
    snprintf(af->tmp, n, "%s.tmp.XXXXXX", dest);
    fd = mkstemp(af->tmp);
    if (fd < 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        free(af->tmp); /* nothing was created */
        af->tmp = NULL;
        return rc;
    }
    /* mkstemp makes the file private; an output is as readable as any other file. */
    if (fchmod(fd, 0644) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        close(fd);
        return rc;
    }
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        close(fd);
        return rc;
    }
    return FM_OK;
}

int fm_atomic_open(struct fm_atomic_file *af, const char *path, struct fm_err *err)
{
    struct stat st;
    int rc;
    memset(af, 0, sizeof(*af));
    rc = fm_output_check(path, 0, err);
    if (rc < 0)
        return rc;
    af->path = strdup(path);
    if (!af->path)
        return fm_err_set(err, FM_ENOMEM, "writing '%s'", path);
    int exists = lstat(path, &st) == 0;
    int link = exists && S_ISLNK(st.st_mode);
    struct stat target;
    if (exists && !S_ISREG(st.st_mode) &&
        (!link || through_kernel_link(path) || stat(path, &target) != 0 ||
         !S_ISREG(target.st_mode))) {
        /* Not a regular file, nor a link to one: write to it as it is. */
        rc = open_through(af, path, err);
        if (rc < 0)
            fm_atomic_abort(af);
        return rc;
    }
    if (link) {
        /* A link to a regular file: replace the file it names and keep the link. */
        af->dest = realpath(path, NULL);
        if (!af->dest) {
            rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
            fm_atomic_abort(af);
            return rc;
        }
    }
    rc = open_temporary(af, path, err);
    if (rc < 0)
        fm_atomic_abort(af);
    return rc;
}

int fm_output_check(const char *path, unsigned flags, struct fm_err *err)
{
    struct stat st;
    if (!path || !*path)
        return fm_err_set(err, FM_EINVAL, "an output file needs a name, not an empty string");
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode) && !(flags & FM_OUTPUT_DIR_OK))
            return fm_err_set(err, FM_EINVAL,
                              "output '%s' is a directory: give the name of a file to write", path);
        if (access(path, W_OK) != 0)
            return fm_err_errno(err, FM_EPERM, errno, "cannot write '%s'", path);
        return FM_OK;
    }
    if (errno != ENOENT)
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
    /* A new file: its directory must exist, or nothing could be written at the end. A
     * trailing slash names a directory to be made ("out/"): its parent must exist. */
    size_t plen = strlen(path);
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    const char *slash = NULL;
    for (size_t i = plen; i-- > 0;)
        if (path[i] == '/') {
            slash = path + i;
            break;
        }
    if (!slash)
        return access(".", W_OK) == 0
                   ? FM_OK
                   : fm_err_errno(err, FM_EPERM, errno,
                                  "cannot write '%s' into the current directory", path);
    size_t dlen = slash == path ? 1 : (size_t)(slash - path);
    char *dir = strndup(path, dlen);
    if (!dir)
        return fm_err_set(err, FM_ENOMEM, "writing '%s'", path);
    int rc = FM_OK;
    if (stat(dir, &st) != 0)
        rc = fm_err_set(err, FM_EIO, "cannot write '%s': no directory '%s'", path, dir);
    else if (!S_ISDIR(st.st_mode))
        rc = fm_err_set(err, FM_EIO, "cannot write '%s': '%s' is not a directory", path, dir);
    else if (access(dir, W_OK) != 0)
        rc = fm_err_errno(err, FM_EPERM, errno, "cannot write '%s' into directory '%s'", path, dir);
    free(dir);
    return rc;
}

int fm_atomic_commit(struct fm_atomic_file *af, struct fm_err *err)
{
    int rc = FM_OK;
    FILE *f = af->f;
    const char *name = af->path;
    if (!f || (!af->tmp && !af->through)) {
        rc = fm_err_set(err, FM_EINVAL, "no output file is open");
        goto out;
    }
    /* Flush and sync before the rename, so that the name never points at a file whose data
     * a crash could still lose. A file written through (a device, a pipe) is not synced:
     * most refuse fsync, and there is no rename to protect. */
    if (fflush(f) != 0 || ferror(f) || (!af->through && fsync(fileno(f)) != 0)) {
        rc = fm_err_errno(err, FM_EIO, errno ? errno : EIO, "cannot write '%s'", name);
        goto out;
    }
    if (!af->lent) {
        af->f = NULL;
        if (fclose(f) != 0) {
            rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", name);
            goto out;
        }
    }
    if (af->through)
        goto out;
    if (rename(af->tmp, af->dest ? af->dest : af->path) != 0) {
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
    af->through = 0;
    if (af->tmp)
        unlink(af->tmp);
    free(af->tmp);
    af->tmp = NULL;
    free(af->path);
    af->path = NULL;
    free(af->dest);
    af->dest = NULL;
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
