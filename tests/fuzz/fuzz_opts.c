/* tests/fuzz/fuzz_opts.c - option values through the option parser (cli/opts.c) and each
 * command's option table and checks (cli/cmd_*.c): durations, counts, rates, addresses,
 * ports, lists, flow specs. The input is an argv: the first byte picks the command (and,
 * when its top bit is set, a second command that parses the same argv), the rest is split at
 * NUL bytes into at most 32 arguments. Four operands that no command accepts are appended,
 * so that every command stops with a usage error after its options are parsed and checked,
 * and nothing is read, written, sent or received. '/' in the input becomes '_': the only
 * option read while parsing (estimate --flows-file) then names at most a file of the working
 * directory, never a device.
 *
 * What must hold: the command returns 0 (only after --help, with the usage on stdout), 1
 * (a flows file that cannot be read) or 2 (a usage error), and an error is one line on
 * stderr: "flowmimic CMD: ...; try 'flowmimic CMD --help'" or "flowmimic: error: ...",
 * printable, with nothing on stdout. stdout and stderr are swapped for memory streams around
 * the call; sanitizer reports still reach the real stderr. */
#include "cli/cli.h"
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32

static const struct {
    const char *name;
    int (*run)(int, char **);
} cmds[] = {
    {"capture", cmd_capture}, {"flows", cmd_flows},       {"estimate", cmd_estimate},
    {"show", cmd_show},       {"generate", cmd_generate}, {"replay", cmd_replay},
    {"receive", cmd_receive}, {"agents", cmd_agents},     {"compare", cmd_compare},
    {"convert", cmd_convert}, {"validate", cmd_validate},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* Writable, as argv is (getopt may permute the pointers, never the text). */
static char operands[][16] = {"fuzz-operand-a", "fuzz-operand-b", "fuzz-operand-c",
                              "fuzz-operand-d"};
#define NOPERANDS (sizeof(operands) / sizeof(operands[0]))

/* 1 when the text holds a byte below 0x20 or 0x7f. */
static int has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* One command on a copy of argv (getopt permutes it), with its output checked. */
static void run_one(size_t ci, int argc, char *const *args)
{
    char *argv[MAX_ARGS + NOPERANDS + 2];
    char *out_text = NULL, *err_text = NULL;
    size_t out_len = 0, err_len = 0;
    char what[64];

    for (int i = 0; i < argc; i++)
        argv[i] = args[i];
    argv[argc] = NULL;
    FILE *out = open_memstream(&out_text, &out_len);
    FILE *errf = open_memstream(&err_text, &err_len);
    fuzz_check(out && errf, "opts", "open_memstream");
    FILE *saved_out = stdout;
    FILE *saved_err = stderr;
    stdout = out;
    stderr = errf;
    int rc = cmds[ci].run(argc, argv);
    stdout = saved_out;
    stderr = saved_err;
    fclose(out);
    fclose(errf);

    snprintf(what, sizeof(what), "opts: %s", cmds[ci].name);
    fuzz_check(rc == CLI_EXIT_OK || rc == CLI_EXIT_RUNTIME || rc == CLI_EXIT_USAGE, what,
               "an exit status other than 0, 1 or 2");
    if (rc == CLI_EXIT_OK) {
        char usage[64];
        snprintf(usage, sizeof(usage), "Usage: flowmimic %s ", cmds[ci].name);
        fuzz_check(starts_with(out_text, usage), what, "exit 0 without the usage");
        fuzz_check(err_len == 0, what, "exit 0 with text on stderr");
        goto out;
    }
    fuzz_check(out_len == 0, what, "an error with text on stdout");
    fuzz_check(err_len > 0 && err_text[err_len - 1] == '\n', what, "an error without a line");
    fuzz_check(memchr(err_text, '\n', err_len) == err_text + err_len - 1, what,
               "an error of more than one line");
    fuzz_check(!has_control(err_text, err_len - 1), what, "control bytes in an error");
    if (rc == CLI_EXIT_USAGE) {
        char head[64], tail[64];
        snprintf(head, sizeof(head), "flowmimic %s: ", cmds[ci].name);
        snprintf(tail, sizeof(tail), "; try 'flowmimic %s --help'\n", cmds[ci].name);
        size_t tl = strlen(tail);
        fuzz_check(starts_with(err_text, head), what, err_text);
        fuzz_check(err_len >= tl && strcmp(err_text + err_len - tl, tail) == 0, what, err_text);
    } else {
        fuzz_check(starts_with(err_text, "flowmimic: error: "), what, err_text);
    }
out:
    free(out_text);
    free(err_text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args[MAX_ARGS + NOPERANDS + 2];
    char *buf = NULL;

    if (size < 1)
        return 0;
    size_t first = data[0] % NCMDS;
    size_t second = data[0] & 0x80 ? (size_t)(data[0] & 0x7f) / NCMDS % NCMDS : NCMDS;
    /* The arguments: one string per NUL-separated piece, in one buffer. */
    buf = malloc(size);
    fuzz_check(buf != NULL, "opts", "out of memory");
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    int argc = 1;
    for (size_t i = 0, start = 0; i < size && argc <= MAX_ARGS; i++) {
        if (buf[i] == '/')
            buf[i] = '_';
        if (buf[i] != '\0')
            continue;
        args[argc++] = buf + start;
        start = i + 1;
    }
    for (size_t i = 0; i < NOPERANDS; i++)
        args[argc++] = operands[i];

    char name[16];
    args[0] = name;
    snprintf(name, sizeof(name), "%s", cmds[first].name);
    run_one(first, argc, args);
    if (second < NCMDS) {
        snprintf(name, sizeof(name), "%s", cmds[second].name);
        run_one(second, argc, args);
    }
    free(buf);
    return 0;
}
