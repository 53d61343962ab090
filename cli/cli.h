/* cli/cli.h - what the subcommands share: option tables, usage, progress, signals.
 * Each cmd_<name>.c has one table of struct cli_opt that builds both the getopt_long array
 * and the --help text, so the two never disagree. Only cli/ prints to stdout or exits. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

#define CLI_EXIT_OK      0
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE   2
#define CLI_EXIT_BEHIND  3 /* replay ran to its end but could not keep the schedule */
#define CLI_EXIT_INTR    130

struct cli_opt {
    const char *name; /* long name without "--" */
    int key;          /* short letter, or a value >= 256 for long-only options */
    int has_arg;      /* no_argument or required_argument */
    const char *metavar;
    const char *help; /* may hold "\n" for continuation lines */
};

/* The end of every table: --help (which cli_parse() answers), then the terminator. The
 * formatter would spread the second initializer over four lines. */
/* clang-format off */
#define CLI_OPT_HELP_END \
    {"help", 'h', no_argument, NULL, "show this help"}, {NULL, 0, 0, NULL, NULL}
/* clang-format on */

struct cli_cmd_doc {
    const char *name;    /* "estimate" */
    const char *args;    /* "[OPTIONS] CAPTURE" */
    const char *summary; /* one line */
    const char *more;    /* text after the options, or NULL */
};

/* Parse argv with the table; returns the key of each option like getopt_long (-1 at the end,
 * '?' on an unknown option or a missing argument, after printing one line to stderr). */
#define CLI_MAX_OPTS 64 /* options of one command's table, its terminator included */
struct cli_parser {
    struct option longopts[CLI_MAX_OPTS];
    char shortopts[3 * CLI_MAX_OPTS + 2]; /* ':' first, then up to "x:" per option */
    const struct cli_cmd_doc *doc;
};
void cli_parser_init(struct cli_parser *p,
                     const struct cli_cmd_doc *doc,
                     const struct cli_opt *opts);
FM_MUST_CHECK int cli_next(struct cli_parser *p, int argc, char **argv);

/* Parse the options of argv into o, one at a time with take() (which returns FM_OK or an
 * FM_E* code with the message in err). Returns -1 when all went through (optind is then at the
 * first operand), else the exit status to return at once: 0 after --help (usage printed), 2
 * after a usage error (take() said FM_EINVAL; one line printed), 1 when take() failed with any
 * other code (an option named a file that cannot be read, a library that cannot be loaded:
 * a runtime error, not a usage one). */
FM_MUST_CHECK int cli_parse(struct cli_parser *p,
                            const struct cli_opt *opts,
                            int argc,
                            char **argv,
                            int (*take)(void *o, int c, const char *arg, struct fm_err *err),
                            void *o);

/* The n operands after the options (argv + optind), or NULL after printing the usage error
 * ("name WHAT" for fewer, "unexpected argument '...'" for more). */
char **cli_operands(const struct cli_cmd_doc *doc, int argc, char **argv, int n, const char *what);
/* The one operand after the options, or NULL after printing the usage error. */
const char *cli_one_operand(const struct cli_cmd_doc *doc, int argc, char **argv, const char *what);

/* Print usage for a command to f. */
void cli_usage(FILE *f, const struct cli_cmd_doc *doc, const struct cli_opt *opts);

/* One-line usage error + hint, returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Option values several subcommands take; what names the option ("--duration") in messages.
 * Each returns FM_OK and writes *out, or FM_EINVAL with the message in err. Seconds, 0.001 up
 * to a year (which keeps the nanoseconds far from overflow), into nanoseconds: */
FM_MUST_CHECK int
cli_parse_seconds_ns(const char *arg, const char *what, int64_t *out_ns, struct fm_err *err);
/* A packet count, at least 1: */
FM_MUST_CHECK int
cli_parse_count(const char *arg, const char *what, uint64_t *out, struct fm_err *err);
/* An integer in [lo, hi], for int and unsigned fields: */
FM_MUST_CHECK int
cli_parse_int(const char *arg, int lo, int hi, const char *what, int *out, struct fm_err *err);
FM_MUST_CHECK int cli_parse_unsigned(
    const char *arg, unsigned lo, unsigned hi, const char *what, unsigned *out, struct fm_err *err);

struct est_selection;
/* A flow named on the command line: an INDEX as `flows` numbers them, or a SPEC
 * "udp A:PORT B:PORT"; what names the index in messages ("--flow"). out may be NULL (the
 * text is only checked). */
FM_MUST_CHECK int
cli_parse_flow(const char *text, const char *what, struct est_selection *out, struct fm_err *err);

/* --side local|remote|both: MDL_SIDE_LOCAL, MDL_SIDE_REMOTE or TRX_SIDE_BOTH. */
FM_MUST_CHECK int cli_parse_side(const char *arg, int *out, struct fm_err *err);
/* --peer-mac: exactly aa:bb:cc:dd:ee:ff (two hex digits a byte). FM_OK or FM_EINVAL. */
FM_MUST_CHECK int cli_parse_mac(const char *s, uint8_t mac[6], struct fm_err *err);

/* Check an output named on the command line before any work (fm_output_check: not empty,
 * not a directory unless FM_OUTPUT_DIR_OK, its directory there and writable). Returns
 * CLI_EXIT_OK, or CLI_EXIT_RUNTIME after printing the one-line error. */
FM_MUST_CHECK int cli_check_output(const char *path, unsigned flags);

/* Set by SIGINT, SIGTERM or SIGUSR1 once cli_signals_install() ran. */
extern volatile sig_atomic_t cli_stop;
void cli_signals_install(void);

/* A progress line on stderr, shown only when stderr is a terminal and the work has taken
 * longer than half a second; cleared by cli_progress_done(). */
struct cli_progress {
    const char *label;
    long long start_ns;
    int shown;
    int tty;
};
void cli_progress_init(struct cli_progress *p, const char *label);
void cli_progress_cb(double share, void *arg);
void cli_progress_done(struct cli_progress *p);

struct est_flow_table;
struct est_read_stats;
/* Read a capture into t with a progress line, stopping on Ctrl-C; reports skipped frames.
 * Returns CLI_EXIT_OK, or prints one error line and returns CLI_EXIT_RUNTIME, or
 * CLI_EXIT_INTR after a line that ends with on_intr ("no model written"). */
FM_MUST_CHECK int cli_read_capture(const char *path,
                                   struct est_flow_table *t,
                                   struct est_read_stats *st,
                                   const char *on_intr);
/* The frames a read skipped, as a warning (truncated or malformed ones) and at -v the whole
 * count per decode outcome; cli_read_warn() gives the warning only. */
void cli_read_report(const char *path, const struct est_read_stats *st);
void cli_read_warn(const char *path, const struct est_read_stats *st);

struct est_flow;
struct mdl_model;
struct fm_err;
/* Plot each side and feature of a model against the flow's own packets: PNGs named
 * DIR/STEM-<side>-<feature>.png, rendered by gnuplot. Returns 0 or a negative FM_E* code. */
FM_MUST_CHECK int cli_plot_model(const struct est_flow *f,
                                 const struct mdl_model *m,
                                 const char *dir,
                                 const char *stem,
                                 struct fm_err *err);
struct est_compare;
/* FM_OK when gnuplot is on PATH, else FM_EIO with a message that says how to install it. */
FM_MUST_CHECK int cli_plot_available(struct fm_err *err);
/* Before any work for --plot DIR: gnuplot on PATH, and DIR a directory (made when missing).
 * Returns CLI_EXIT_OK, or CLI_EXIT_RUNTIME after printing the one-line error. */
FM_MUST_CHECK int cli_plot_dir(const char *dir);
/* Plots of a comparison: per side with packets, DIR/compare-<side>-length-cdf.png and
 * -iat-cdf.png (CDFs of A and B) and -throughput.png (kbit/s over time). Returns 0 or a
 * negative FM_E* code. */
FM_MUST_CHECK int
cli_plot_compare(const struct est_compare *c, const char *dir, struct fm_err *err);

/* Subcommands. */
FM_MUST_CHECK int cmd_capture(int argc, char **argv);
FM_MUST_CHECK int cmd_flows(int argc, char **argv);
FM_MUST_CHECK int cmd_estimate(int argc, char **argv);
FM_MUST_CHECK int cmd_show(int argc, char **argv);
FM_MUST_CHECK int cmd_generate(int argc, char **argv);
FM_MUST_CHECK int cmd_replay(int argc, char **argv);
FM_MUST_CHECK int cmd_receive(int argc, char **argv);
FM_MUST_CHECK int cmd_agents(int argc, char **argv);
FM_MUST_CHECK int cmd_compare(int argc, char **argv);
FM_MUST_CHECK int cmd_convert(int argc, char **argv);
struct trc_input;
struct trc_input_result;
/* After a trace/input.h call for the command cmd that read in (rc, res and err as it left
 * them): when the read failed, prints its one line and returns CLI_EXIT_USAGE (a bad --flow),
 * CLI_EXIT_INTR or CLI_EXIT_RUNTIME; when it succeeded, reports what of a capture was skipped
 * and returns CLI_EXIT_OK (a later failure of the call is the caller's to print). */
FM_MUST_CHECK int cli_trace_input(const char *cmd,
                                  const struct trc_input *in,
                                  const struct trc_input_result *res,
                                  int rc,
                                  const struct fm_err *err);
FM_MUST_CHECK int cmd_validate(int argc, char **argv);

#endif
