/* cli/opts.c - option tables to getopt_long and usage text; progress lines; signals. */
#include "cli/cli.h"

#include "common/file.h"
#include "common/log.h"
#include "common/num.h"
#include "common/time.h"
#include "estimator/run.h"
#include "models/model.h"
#include "packet/endpoint.h"
#include "transceiver/source_capture.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t cli_stop = 0;

void cli_parser_init(struct cli_parser *p,
                     const struct cli_cmd_doc *doc,
                     const struct cli_opt *opts)
{
    memset(p, 0, sizeof(*p));
    p->doc = doc;
    size_t n = 0;
    size_t s = 0;
    /* A leading ':' makes getopt report a missing argument as ':' and stay quiet, so the
     * message below can name the command. */
    p->shortopts[s++] = ':';
    size_t count = 0;
    while (opts[count].name)
        count++;
    /* The arrays hold every option of the largest table with room to spare; a table that
     * outgrows them is a bug to fix here, never options silently dropped. */
    if (count + 1 > CLI_MAX_OPTS) {
        fprintf(stderr, "flowmimic: internal error: '%s' has %zu options, more than %d\n",
                doc->name, count, CLI_MAX_OPTS - 1);
        abort();
    }
    for (const struct cli_opt *o = opts; o->name; o++, n++) {
        p->longopts[n].name = o->name;
        p->longopts[n].has_arg = o->has_arg;
        p->longopts[n].flag = NULL;
        p->longopts[n].val = o->key;
        if (o->key < 256) {
            p->shortopts[s++] = (char)o->key;
            if (o->has_arg == required_argument)
                p->shortopts[s++] = ':';
        }
    }
    p->shortopts[s] = '\0';
    optind = 0; /* glibc: 0 re-initialises getopt for a fresh argv */
    opterr = 0;
}

int cli_next(struct cli_parser *p, int argc, char **argv)
{
    int c = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
    if (c == '?' || c == ':') {
        const char *bad = argv[optind - 1];
        if (c == ':')
            cli_usage_error(p->doc->name, "option '%s' needs a value", bad);
        else if (optopt && optopt < 256)
            cli_usage_error(p->doc->name, "unknown option '-%c'", optopt);
        else
            cli_usage_error(p->doc->name, "unknown option '%s'", bad);
        return '?';
    }
    return c;
}

int cli_parse(struct cli_parser *p,
              const struct cli_opt *opts,
              int argc,
              char **argv,
              int (*take)(void *o, int c, const char *arg, struct fm_err *err),
              void *o)
{
    int c;
    while ((c = cli_next(p, argc, argv)) != -1) {
        if (c == 'h') {
            cli_usage(stdout, p->doc, opts);
            return CLI_EXIT_OK;
        }
        if (c == '?')
            return CLI_EXIT_USAGE;
        struct fm_err err = {0};
        if (take(o, c, optarg, &err) < 0) {
            if (err.code != FM_EINVAL) { /* a file or library that failed, not a bad value */
                fm_log_error("%s", err.msg);
                return CLI_EXIT_RUNTIME;
            }
            return cli_usage_error(p->doc->name, "%s", err.msg);
        }
    }
    return -1;
}

char **cli_operands(const struct cli_cmd_doc *doc, int argc, char **argv, int n, const char *what)
{
    if (argc - optind < n) {
        cli_usage_error(doc->name, "name %s", what);
        return NULL;
    }
    if (argc - optind > n) {
        cli_usage_error(doc->name, "unexpected argument '%s'", argv[optind + n]);
        return NULL;
    }
    return argv + optind;
}

const char *cli_one_operand(const struct cli_cmd_doc *doc, int argc, char **argv, const char *what)
{
    char **v = cli_operands(doc, argc, argv, 1, what);
    return v ? v[0] : NULL;
}

void cli_usage(FILE *f, const struct cli_cmd_doc *doc, const struct cli_opt *opts)
{
    fprintf(f, "Usage: flowmimic %s %s\n%s\n\nOptions:\n", doc->name, doc->args, doc->summary);
    for (const struct cli_opt *o = opts; o->name; o++) {
        char left[64];
        if (o->key < 256)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        /* Continuation lines of the help text line up under its first line. */
        const char *h = o->help;
        const char *nl = strchr(h, '\n');
        if (strlen(left) > 24)
            fprintf(f, "  %s\n  %-24s  ", left, "");
        else
            fprintf(f, "  %-24s  ", left);
        while (nl) {
            fprintf(f, "%.*s\n  %-24s  ", (int)(nl - h), h, "");
            h = nl + 1;
            nl = strchr(h, '\n');
        }
        fprintf(f, "%s\n", h);
    }
    if (doc->more)
        fprintf(f, "\n%s", doc->more);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    /* The message quotes what was typed: one line, nothing that drives a terminal. */
    char esc[sizeof(buf)];
    fprintf(stderr, "flowmimic %s: %s; try 'flowmimic %s --help'\n", cmd,
            fm_escape(buf, esc, sizeof(esc)), cmd);
    return CLI_EXIT_USAGE;
}

static void on_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* mpirun forwards SIGUSR1 to every rank and keeps their output flowing, where its
     * Ctrl-C aborts the job (docs/SCALING.md): `kill -USR1 MPIRUN` stops a run cleanly. */
    sigaction(SIGUSR1, &sa, NULL);
}

void cli_progress_init(struct cli_progress *p, const char *label)
{
    p->label = label;
    p->start_ns = fm_time_mono_ns();
    p->shown = 0;
    p->tty = isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN;
}

void cli_progress_cb(double share, void *arg)
{
    struct cli_progress *p = arg;
    if (!p->tty || share >= 1.0)
        return;
    if (!p->shown && fm_time_mono_ns() - p->start_ns < FM_NS_PER_SEC / 2)
        return;
    p->shown = 1;
    fprintf(stderr, "\rreading %s: %3.0f%%", p->label, share * 100.0);
    fflush(stderr);
}

void cli_progress_done(struct cli_progress *p)
{
    if (p->shown)
        fprintf(stderr, "\r\033[K");
    p->shown = 0;
}

int cli_parse_seconds_ns(const char *arg, const char *what, int64_t *out_ns, struct fm_err *err)
{
    double s = 0;
    if (fm_parse_duration(arg, 0.001, 365.0 * 86400, what, &s, err) < 0)
        return FM_EINVAL;
    *out_ns = (int64_t)(s * 1e9);
    return FM_OK;
}

int cli_parse_count(const char *arg, const char *what, uint64_t *out, struct fm_err *err)
{
    uint64_t n = 0;
    if (fm_parse_u64(arg, UINT64_MAX, what, &n, err) < 0)
        return FM_EINVAL;
    if (n == 0)
        return fm_err_set(err, FM_EINVAL, "%s: expected a positive number, got '%s'", what, arg);
    *out = n;
    return FM_OK;
}

int cli_parse_int(const char *arg, int lo, int hi, const char *what, int *out, struct fm_err *err)
{
    long v = 0;
    if (fm_parse_long(arg, lo, hi, what, &v, err) < 0)
        return FM_EINVAL;
    *out = (int)v;
    return FM_OK;
}

int cli_parse_unsigned(
    const char *arg, unsigned lo, unsigned hi, const char *what, unsigned *out, struct fm_err *err)
{
    long v = 0;
    if (fm_parse_long(arg, (long)lo, (long)hi, what, &v, err) < 0)
        return FM_EINVAL;
    *out = (unsigned)v;
    return FM_OK;
}

int cli_parse_flow(const char *text,
                   const char *what,
                   struct est_selection *out,
                   struct fm_err *err)
{
    struct est_selection s;
    memset(&s, 0, sizeof(s));
    snprintf(s.text, sizeof(s.text), "%s", text);
    /* An index starts with a digit; a spec with its protocol. */
    if (isdigit((unsigned char)text[0])) {
        long idx = 0;
        if (fm_parse_long(text, 0, 1000000000L, what, &idx, err) < 0)
            return FM_EINVAL;
        s.is_index = 1;
        s.index = (size_t)idx;
    } else if (pkt_flow_spec_parse(text, &s.key, err) < 0) {
        return FM_EINVAL;
    }
    if (out)
        *out = s;
    return FM_OK;
}

int cli_parse_side(const char *arg, int *out, struct fm_err *err)
{
    if (strcmp(arg, "local") == 0)
        *out = MDL_SIDE_LOCAL;
    else if (strcmp(arg, "remote") == 0)
        *out = MDL_SIDE_REMOTE;
    else if (strcmp(arg, "both") == 0)
        *out = TRX_SIDE_BOTH;
    else
        return fm_err_set(err, FM_EINVAL, "--side: expected local, remote or both, got '%s'", arg);
    return FM_OK;
}

int cli_check_output(const char *path, unsigned flags)
{
    struct fm_err err = {0};
    if (fm_output_check(path, flags, &err) < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

int cli_parse_mac(const char *s, uint8_t mac[6], struct fm_err *err)
{
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        char *end = NULL;
        /* Exactly two hex digits per byte, colon-separated: no sign, no spaces. */
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
            goto bad;
        unsigned long v = strtoul(p, &end, 16);
        if (end != p + 2 || (i < 5 && *end != ':') || (i == 5 && *end != '\0'))
            goto bad;
        mac[i] = (uint8_t)v;
        p = end + 1;
    }
    return FM_OK;
bad:
    return fm_err_set(err, FM_EINVAL, "--peer-mac: expected aa:bb:cc:dd:ee:ff or auto, got '%s'",
                      s);
}
