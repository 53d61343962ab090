/* cli/cmd_estimate.c - `flowmimic estimate`: fit a model per selected flow and side.
 * The capture is read twice: once to rank the flows (so that --flow INDEX and --top mean what
 * `flows` shows), once to keep the packet series of the selected flows only, which keeps
 * memory proportional to what is fitted rather than to the capture. */
#include "cli/cli.h"
#include "cli/estimate_ranks.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/num.h"
#include "common/par.h"
#include "common/time.h"
#include "estimator/estimate.h"
#include "estimator/flow.h"
#include "estimator/reader.h"
#include "estimator/run.h"
#include "models/json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    OPT_FLOW = 256,
    OPT_FLOWS_FILE,
    OPT_MAX_K,
    OPT_RESTARTS,
    OPT_IAT_SCALE,
    OPT_TRIM,
    OPT_MIN_SAMPLES,
    OPT_SEED,
    OPT_SEQUENCE,
    OPT_PLOT,
    OPT_JSON,
};

static const struct cli_opt opts[] = {
    {"flow", OPT_FLOW, required_argument, "INDEX|SPEC",
     "a flow by its index in `flows`, or as 'udp A:PORT B:PORT'\n(either order; IPv6 as "
     "[addr]:port); repeatable"},
    {"top", 'n', required_argument, "N", "the N largest flows"},
    {"flows-file", OPT_FLOWS_FILE, required_argument, "FILE",
     "flows listed in FILE, one INDEX or SPEC a line (# comments)"},
    {"k", 'k', required_argument, "auto|N", "Gaussian components per feature (default auto: BIC)"},
    {"max-k", OPT_MAX_K, required_argument, "N", "largest K tried by -k auto, 1..10 (default 10)"},
    {"restarts", OPT_RESTARTS, required_argument, "N", "EM runs per K, best kept (default 3)"},
    {"iat-scale", OPT_IAT_SCALE, required_argument, "log|linear",
     "fit gaps on ln(seconds) (default) or on seconds"},
    {"trim", OPT_TRIM, required_argument, "LO,HI",
     "drop samples outside these percentiles before EM"},
    {"min-samples", OPT_MIN_SAMPLES, required_argument, "N",
     "fewer packets on a side: a note, no model (default 100)"},
    {"seed", OPT_SEED, required_argument, "N", "seed for EM restarts (default 1)"},
    {"sequence", OPT_SEQUENCE, required_argument, "on|off",
     "fit the sequence model (states, chain, persistence; file version 2),\nor only the "
     "independent mixtures (version 1) (default on)"},
    {"output", 'o', required_argument, "PATH",
     "model file (one flow) or directory (default\nmodels/<capture>-<index>.json)"},
    {"plot", OPT_PLOT, required_argument, "DIR",
     "write PNG histograms with the fitted densities (gnuplot)"},
    {"json", OPT_JSON, no_argument, NULL, "print what was written as JSON"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "estimate",
    "[OPTIONS] CAPTURE...",
    "Fit a model of payload length and inter-arrival time for each side of the selected flows.",
    "Default: flow 0, the most packets. Payload length is modelled as atoms (exact sizes holding "
    "a\n"
    "large share: codec frames, MTU-size fragments) plus a Gaussian mixture for the rest;\n"
    "inter-arrival time as a Gaussian mixture on ln(seconds), with zero gaps as an atom.\n"
    "Prints one line per model written: PATH<TAB>FLOW. Several captures: each one's flows in\n"
    "turn, selected alike. Under mpirun the ranks share the flows out (docs/SCALING.md).\n"
    "\nExamples:\n"
    "  flowmimic estimate call.pcap\n"
    "  flowmimic estimate --flow 'udp 10.0.0.1:5004 10.0.0.2:5006' -o video.json call.pcap\n"
    "  flowmimic estimate --top 3 -k auto --max-k 6 --plot plots/ call.pcapng\n",
};

#define MAX_SEL 256

struct estimate_opts {
    struct est_opts est;
    struct est_selection sel[MAX_SEL];
    size_t nsel;
    long top;
    const char *output;
    const char *plot_dir;
    int json;
};

static int add_sel(struct estimate_opts *o, const char *text, struct fm_err *err)
{
    if (o->nsel >= MAX_SEL)
        return fm_err_set(err, FM_EINVAL, "too many flows selected (at most %d)", MAX_SEL);
    if (cli_parse_flow(text, "--flow", &o->sel[o->nsel], err) < 0)
        return FM_EINVAL;
    o->nsel++;
    return FM_OK;
}

/* A flows file holds at most MAX_SEL selections of a line each (plus comments): 64 KiB is
 * far more than that needs, and bounds what a device or endless pipe can make us read. */
#define FLOWS_FILE_MAX 65536

static int read_flows_file(struct estimate_opts *o, const char *path, struct fm_err *err)
{
    char *text = NULL;
    size_t len = 0;
    /* A text file, or a pipe (<(...)); a device such as /dev/zero is neither. */
    struct stat st;
    if (stat(path, &st) == 0 &&
        (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)))
        return fm_err_set(err, FM_EIO,
                          "flows file '%s' is a device, not a file: give a text file with one "
                          "flow a line",
                          path);
    int rc = fm_file_read_all(path, FLOWS_FILE_MAX, "flows file", &text, &len, err);
    if (rc < 0) {
        if (err && rc != FM_ENOMEM)
            err->code = FM_EIO; /* a file that cannot be read: a runtime error, exit 1 */
        return rc;
    }
    if (memchr(text, '\0', len)) {
        rc = fm_err_set(err, FM_EINVAL, "flows file '%s' holds a NUL byte: it is not a text file",
                        path);
        goto out;
    }
    unsigned lineno = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *s = line;
        line = nl ? nl + 1 : NULL;
        while (isspace((unsigned char)*s))
            s++;
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (*s == '\0' || *s == '#')
            continue;
        struct fm_err e2 = {0};
        if (add_sel(o, s, &e2) < 0) {
            rc = fm_err_set(err, FM_EINVAL, "flows file '%s' line %u: %s", path, lineno, e2.msg);
            break;
        }
    }
out:
    free(text);
    return rc;
}

static int parse_trim(const char *s, struct mdl_fit_opts *fo, struct fm_err *err)
{
    char lo[64];
    const char *comma = strchr(s, ',');
    if (!comma || (size_t)(comma - s) >= sizeof(lo))
        return fm_err_set(err, FM_EINVAL, "--trim: expected LO,HI percentiles, got '%s'", s);
    memcpy(lo, s, (size_t)(comma - s));
    lo[comma - s] = '\0';
    if (fm_parse_double(lo, 0, 100, "--trim LO", &fo->trim_lo, err) < 0 ||
        fm_parse_double(comma + 1, 0, 100, "--trim HI", &fo->trim_hi, err) < 0)
        return FM_EINVAL;
    if (fo->trim_lo >= fo->trim_hi)
        return fm_err_set(err, FM_EINVAL, "--trim: LO (%g) must be below HI (%g)", fo->trim_lo,
                          fo->trim_hi);
    return FM_OK;
}

/* Parse one option into o; returns FM_OK or FM_EINVAL with the message in err. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct estimate_opts *o = self;
    uint64_t u = 0;
    struct mdl_fit_opts *fo = &o->est.fit;
    switch (c) {
    case OPT_FLOW:
        return add_sel(o, arg, err);
    case OPT_FLOWS_FILE:
        return read_flows_file(o, arg, err);
    case 'n':
        return fm_parse_long(arg, 1, 1000000, "--top", &o->top, err);
    case 'k':
        if (strcmp(arg, "auto") == 0) {
            fo->k = 0;
            return FM_OK;
        }
        return cli_parse_unsigned(arg, 1, MDL_MAX_K, "-k", &fo->k, err);
    case OPT_MAX_K:
        return cli_parse_unsigned(arg, 1, MDL_MAX_K, "--max-k", &fo->max_k, err);
    case OPT_RESTARTS:
        return cli_parse_unsigned(arg, 1, 100, "--restarts", &fo->restarts, err);
    case OPT_IAT_SCALE:
        if (strcmp(arg, "log") == 0)
            o->est.iat_scale = MDL_SCALE_LOG;
        else if (strcmp(arg, "linear") == 0)
            o->est.iat_scale = MDL_SCALE_LINEAR;
        else
            return fm_err_set(err, FM_EINVAL, "--iat-scale: expected log or linear, got '%s'", arg);
        return FM_OK;
    case OPT_TRIM:
        return parse_trim(arg, fo, err);
    case OPT_MIN_SAMPLES:
        if (fm_parse_u64(arg, 1000000000ULL, "--min-samples", &u, err) < 0)
            return FM_EINVAL;
        o->est.min_samples = u < 2 ? 2 : u;
        return FM_OK;
    case OPT_SEED:
        return fm_parse_u64(arg, UINT64_MAX, "--seed", &fo->seed, err);
    case OPT_SEQUENCE:
        if (strcmp(arg, "on") == 0)
            o->est.sequence = 1;
        else if (strcmp(arg, "off") == 0)
            o->est.sequence = 0;
        else
            return fm_err_set(err, FM_EINVAL, "--sequence: expected on or off, got '%s'", arg);
        return FM_OK;
    case 'o':
        o->output = arg;
        return FM_OK;
    case OPT_PLOT:
        o->plot_dir = arg;
        return FM_OK;
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

/* What the run's callbacks need. */
struct run_ctx {
    const struct estimate_opts *o;
    char stem[200];
    const char *dir; /* models go into it, named STEM-INDEX.json; NULL: to o->output */
    int status;      /* a status line while fitting (on a terminal) */
    int usage;       /* the selection does not fit the options: exit 2 */
    int ranks;       /* under mpirun: models are kept for rank 0 (cli/estimate_ranks.c) */
    struct cli_est_kept *kept;
    size_t nkept;
    size_t off; /* flows selected in the captures before this one */
    int json_open;
    struct jw w;
};

static int on_selected(void *arg, size_t n, struct fm_err *err)
{
    struct run_ctx *c = arg;
    const struct estimate_opts *o = c->o;
    int out_is_dir =
        o->output && (cli_est_is_dir(o->output) || o->output[strlen(o->output) - 1] == '/');
    if (o->output && n > 1 && !out_is_dir) {
        c->usage = 1;
        return fm_err_set(err, FM_EINVAL,
                          "-o names one file but %zu flows are selected: give a directory", n);
    }
    c->dir = out_is_dir ? o->output : (o->output ? NULL : "models");
    if ((c->dir && cli_est_ensure_dir(c->dir, err) < 0) ||
        (o->plot_dir && cli_est_ensure_dir(o->plot_dir, err) < 0))
        return FM_EIO;
    if (o->json && fm_par_rank() == 0 && !c->json_open) {
        jw_init(&c->w, stdout);
        jw_arr_begin(&c->w, NULL);
        c->json_open = 1;
    }
    /* Under mpirun, room for this rank's share: at most one in ranks, rounded up. */
    if (c->ranks && !(c->kept = calloc((n + (size_t)fm_par_size() - 1) / (size_t)fm_par_size() + 1,
                                       sizeof(*c->kept))))
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    return FM_OK;
}

/* EM on a large flow takes seconds: say what is going on, on a terminal only. */
static void on_fitting(void *arg, size_t index, uint64_t packets)
{
    const struct run_ctx *c = arg;
    if (c->status)
        fprintf(stderr, "fitting flow %zu (%llu packets)...", index, (unsigned long long)packets);
}

static void on_fitted(void *arg)
{
    const struct run_ctx *c = arg;
    if (c->status)
        fprintf(stderr, "\r\033[K");
}

/* Write a model, say what was written: where each model ends up, on rank 0 under mpirun. */
static int emit(void *arg, size_t fi, struct mdl_model *model, struct fm_err *err)
{
    struct run_ctx *c = arg;
    const struct estimate_opts *o = c->o;
    char mpath[1024];
    if (c->dir)
        snprintf(mpath, sizeof(mpath), "%s%s%s-%zu.json", c->dir,
                 c->dir[strlen(c->dir) - 1] == '/' ? "" : "/", c->stem, fi);
    else
        snprintf(mpath, sizeof(mpath), "%s", o->output);
    int rc = mdl_json_save(model, mpath, err);
    if (rc < 0)
        return rc;
    cli_est_notes(model, fi);
    if (o->json) {
        jw_obj_begin(&c->w, NULL);
        jw_int(&c->w, "index", (long long)fi);
        jw_str(&c->w, "flow", model->flow_spec);
        jw_str(&c->w, "model", mpath);
        jw_obj_end(&c->w);
    } else {
        printf("%s\t%s\n", mpath, model->flow_spec);
        fflush(stdout);
    }
    return FM_OK;
}

static int on_model(
    void *arg, size_t fi, const struct est_flow *f, struct mdl_model *model, struct fm_err *err)
{
    struct run_ctx *c = arg;
    const struct estimate_opts *o = c->o;
    /* The plot needs the flow's series, which only the rank that fitted it holds. */
    if (o->plot_dir) {
        char pstem[300];
        snprintf(pstem, sizeof(pstem), "%s-%zu", c->stem, fi);
        int rc = cli_plot_model(f, model, o->plot_dir, pstem, err);
        if (rc < 0)
            return rc;
    }
    if (!c->ranks)
        return emit(c, fi, model, err);
    c->kept[c->nkept].index = fi;
    c->kept[c->nkept++].m = *model;
    return FM_OK;
}

/* One capture. Under mpirun flow p of its selection goes to rank (off + p) mod N: the round
 * goes on from the captures before it. */
static int run(struct run_ctx *c, const char *path)
{
    const struct estimate_opts *o = c->o;
    struct fm_err err = {0};
    struct cli_progress prog;
    struct est_run_result res;
    int64_t t0 = fm_time_mono_ns();
    /* Under mpirun rank 0 alone speaks; the others fit their share of the flows. */
    size_t rank = (size_t)fm_par_rank(), n = (size_t)fm_par_size();
    c->usage = 0;
    c->nkept = 0;
    c->status = rank == 0 && isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN;
    cli_est_stem(path, c->stem, sizeof(c->stem));
    const char *base = strrchr(path, '/');
    cli_progress_init(&prog, base ? base + 1 : path);
    est_progress_fn pcb = rank == 0 ? cli_progress_cb : NULL;
    struct est_run_opts ro = {&o->est, o->sel, o->nsel, o->top, &cli_stop, pcb, &prog};
    struct est_run_cb cb = {on_selected, on_fitting, on_fitted, on_model, c};
    int rc = est_estimate_run_shard(path, &ro, (rank + n - c->off % n) % n, n, &cb, &res, &err);
    cli_progress_done(&prog);
    if (res.read.frames && rank == 0)
        cli_read_report(path, &res.read);
    if (c->ranks)
        rc = cli_estimate_ranks(doc.name, &res, rc, c->usage, err.msg, t0, c->off, c->kept,
                                c->nkept, emit, c);
    else if (rc < 0 && !c->usage)
        rc = (fm_log_error("%s", err.msg), rc == FM_EINTR ? CLI_EXIT_INTR : CLI_EXIT_RUNTIME);
    else
        rc = c->usage ? cli_usage_error(doc.name, "%s", err.msg) : CLI_EXIT_OK;
    c->off += res.selected;
    free(c->kept);
    c->kept = NULL;
    return rc;
}

/* Every capture in turn, until one fails (on any rank: the status is every rank's). */
static int run_all(const struct estimate_opts *o, char **caps, size_t ncaps)
{
    struct run_ctx c;
    struct fm_err err = {0};
    int rc = CLI_EXIT_OK;
    memset(&c, 0, sizeof(c));
    c.o = o;
    if (fm_par_init(&err) < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    c.ranks = fm_par_size() > 1;
    cli_signals_install();
    for (size_t i = 0; i < ncaps && rc == CLI_EXIT_OK; i++)
        rc = run(&c, caps[i]);
    if (rc == CLI_EXIT_OK && c.json_open) {
        jw_arr_end(&c.w);
        jw_finish(&c.w);
    }
    fm_par_fini();
    return rc;
}

int cmd_estimate(int argc, char **argv)
{
    struct cli_parser p;
    struct estimate_opts *o = calloc(1, sizeof(*o));
    int rc;
    if (!o) {
        fm_log_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    est_opts_init(&o->est);
    o->top = -1;
    cli_parser_init(&p, &doc, opts);
    /* A flows file that cannot be opened comes back as FM_EIO: a runtime error (exit 1). */
    rc = cli_parse(&p, opts, argc, argv, take_opt, o);
    if (rc >= 0)
        goto out;
    if (o->top > 0 && o->nsel > 0) {
        rc = cli_usage_error(doc.name, "--top and --flow/--flows-file exclude each other");
        goto out;
    }
    size_t ncaps = argc > optind ? (size_t)(argc - optind) : 0;
    char **caps = ncaps > 1 ? argv + optind : cli_operands(&doc, argc, argv, 1, "a capture file");
    if (!caps || cli_est_check_captures(doc.name, o->output, caps, ncaps) != CLI_EXIT_OK) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    /* Outputs that could only fail after the fit are refused before it. */
    if ((o->output && cli_check_output(o->output, FM_OUTPUT_DIR_OK) != CLI_EXIT_OK) ||
        (o->plot_dir && cli_check_output(o->plot_dir, FM_OUTPUT_DIR_OK) != CLI_EXIT_OK)) {
        rc = CLI_EXIT_RUNTIME;
        goto out;
    }
    rc = run_all(o, caps, ncaps);
out:
    free(o);
    return rc;
}
