/* tests/fuzz/replay_main.c - a harness without libFuzzer: every file named on the command
 * line, and every file of every directory named (sorted, dot files skipped), goes once
 * through LLVMFuzzerTestOneInput() in a buffer of exactly its size, so that ASan sees any
 * read past the end. Exit 0 when every input ran, 1 when an input cannot be read or none was
 * found (an empty corpus is a mistake), 2 for no arguments. A broken invariant aborts. */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    int rc = -1;
    struct stat st;

    /* Not fm_file_read_all(): an empty file is a valid input, and the buffer must be exactly
     * the input's size so that ASan sees a read one byte past it. */
    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) < 0) {
        fprintf(stderr, "fuzz replay: cannot read '%s': %s\n", path, strerror(errno));
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size ? size : 1);
    if (!buf) {
        fprintf(stderr, "fuzz replay: out of memory for '%s'\n", path);
        goto out;
    }
    if (fread(buf, 1, size, f) != size) {
        fprintf(stderr, "fuzz replay: cannot read '%s': short read\n", path);
        goto out;
    }
    LLVMFuzzerTestOneInput(buf, size);
    rc = 0;
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

static int skip_dots(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Runs every file of dir; returns how many, or -1. */
static long run_dir(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, skip_dots, alphasort);
    if (n < 0) {
        fprintf(stderr, "fuzz replay: cannot list '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    long done = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (done >= 0 && run_file(path) == 0)
            done++;
        else
            done = -1;
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: %s CORPUS_DIR|FILE...\n"
                "runs every input once through the harness, e.g. %s corpus/model\n",
                argv[0], argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n = -1;
        if (stat(argv[i], &st) < 0)
            fprintf(stderr, "fuzz replay: cannot read '%s': %s\n", argv[i], strerror(errno));
        else if (S_ISDIR(st.st_mode))
            n = run_dir(argv[i]);
        else
            n = run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            return 1;
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "fuzz replay: no inputs found: add files to the corpus\n");
        return 1;
    }
    printf("fuzz replay: %ld inputs ran\n", total);
    return 0;
}
