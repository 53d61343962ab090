/* cli/cmd_estimate.c - `flowmimic estimate`: fit a model per selected flow and side.
 * The capture is read twice: once to rank the flows (so that --flow INDEX and --top mean what
 * `flows` shows), once to keep the packet series of the selected flows only, which keeps
 * memory proportional to what is fitted rather than to the capture. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/num.h"
#include "estimator/estimate.h"
#include "estimator/flow.h"
#include "estimator/reader.h"
#include "models/json.h"

#include <ctype.h>
#include <errno.h>
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
    {"max-k", OPT_MAX_K, required_argument, "N", "largest K tried by -k auto, 1..10 (default 5)"},
    {"restarts", OPT_RESTARTS, required_argument, "N", "EM runs per K, best kept (default 3)"},
    {"iat-scale", OPT_IAT_SCALE, required_argument, "log|linear",
     "fit gaps on ln(seconds) (default) or on seconds"},
    {"trim", OPT_TRIM, required_argument, "LO,HI",
     "drop samples outside these percentiles before EM"},
    {"min-samples", OPT_MIN_SAMPLES, required_argument, "N",
     "fewer packets on a side: a note, no model (default 100)"},
    {"seed", OPT_SEED, required_argument, "N", "seed for EM restarts (default 1)"},
    {"output", 'o', required_argument, "PATH",
     "model file (one flow) or directory (default\nmodels/<capture>-<index>.json)"},
    {"plot", OPT_PLOT, required_argument, "DIR",
     "write PNG histograms with the fitted densities (gnuplot)"},
    {"json", OPT_JSON, no_argument, NULL, "print what was written as JSON"},
    {"help", 'h', no_argument, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd_doc doc = {
    "estimate",
    "[OPTIONS] CAPTURE",
    "Fit a model of payload length and inter-arrival time for each side of the selected flows.",
    "Default: the largest flow. Payload length is modelled as atoms (exact sizes holding a\n"
    "large share: codec frames, MTU-size fragments) plus a Gaussian mixture for the rest;\n"
    "inter-arrival time as a Gaussian mixture on ln(seconds), with zero gaps as an atom.\n"
    "Prints one line per model written: PATH<TAB>FLOW.\n"
    "\nExamples:\n"
    "  flowmimic estimate call.pcap\n"
    "  flowmimic estimate --flow 'udp 10.0.0.1:5004 10.0.0.2:5006' -o video.json call.pcap\n"
    "  flowmimic estimate --top 3 -k auto --max-k 6 --plot plots/ call.pcapng\n",
};

#define MAX_SEL 256

struct sel {
    int is_index;
    size_t index;
    struct pkt_flow_key key;
    char text[200];
};

struct estimate_opts {
    struct est_opts est;
    struct sel sel[MAX_SEL];
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
    struct sel *s = &o->sel[o->nsel];
    memset(s, 0, sizeof(*s));
    snprintf(s->text, sizeof(s->text), "%s", text);
    if (isdigit((unsigned char)text[0])) {
        long idx = 0;
        if (fm_parse_long(text, 0, 1000000000L, "--flow", &idx, err) < 0)
            return FM_EINVAL;
        s->is_index = 1;
        s->index = (size_t)idx;
    } else if (pkt_flow_spec_parse(text, &s->key, err) < 0) {
        return FM_EINVAL;
    }
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

/* The stem of a capture's file name: "dir/call.pcapng" -> "call". */
static void capture_stem(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    snprintf(buf, size, "%s", base ? base + 1 : path);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ensure_dir(const char *path)
{
    if (is_dir(path))
        return 0;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fm_log_error("cannot create directory '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Resolve the selections against the ranked flows of pass 1 into a list of indexes. */
static int resolve(const struct estimate_opts *o,
                   const char *path,
                   struct est_flow *const *flows,
                   size_t n,
                   size_t *idx,
                   size_t *nidx)
{
    *nidx = 0;
    if (n == 0) {
        fm_log_error("'%s' holds no UDP or TCP flows to estimate", path);
        return -1;
    }
    if (o->nsel == 0) {
        size_t top = o->top > 0 ? (size_t)o->top : 1;
        for (size_t i = 0; i < top && i < n; i++)
            idx[(*nidx)++] = i;
        return 0;
    }
    for (size_t s = 0; s < o->nsel; s++) {
        const struct sel *sel = &o->sel[s];
        size_t found = n;
        if (sel->is_index) {
            if (sel->index >= n) {
                fm_log_error("flow %zu is not in '%s', which has %zu flows (0 to %zu): "
                             "see 'flowmimic flows %s'",
                             sel->index, path, n, n - 1, path);
                return -1;
            }
            found = sel->index;
        } else {
            for (size_t i = 0; i < n; i++) {
                if (pkt_flow_key_equal(&flows[i]->key, &sel->key)) {
                    found = i;
                    break;
                }
            }
            if (found == n) {
                fm_log_error("flow '%s' is not in '%s': see 'flowmimic flows %s'", sel->text, path,
                             path);
                return -1;
            }
        }
        int dup = 0;
        for (size_t j = 0; j < *nidx; j++)
            dup |= idx[j] == found;
        if (!dup)
            idx[(*nidx)++] = found;
    }
    return 0;
}

static void warn_notes(const struct mdl_model *m, size_t index)
{
    static const char *const names[2] = {"local", "remote"};
    for (int s = 0; s < 2; s++) {
        if (m->sides[s].present && m->sides[s].note[0])
            fm_log_warn("flow %zu, %s side: %s", index, names[s], m->sides[s].note);
    }
    if (m->reordered)
        fm_log_info("flow %zu: %llu packets had timestamps out of order and were put in order",
                    index, (unsigned long long)m->reordered);
}

static int run(const struct estimate_opts *o, const char *path)
{
    struct est_flow_table *t1 = NULL;
    struct est_flow_table *t2 = NULL;
    struct est_read_stats st;
    struct fm_err err = {0};
    size_t *idx = NULL;
    size_t nidx = 0;
    int rc = CLI_EXIT_RUNTIME;
    struct jw w;

    /* Two passes need a file that can be read twice. */
    struct stat sb;
    if (strcmp(path, "-") == 0 ||
        (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))) {
        fm_log_error("'%s' is not a regular file: estimate reads the capture twice, so save it "
                     "to a file first",
                     path);
        goto out;
    }
    t1 = est_flow_table_new();
    t2 = est_flow_table_new();
    if (!t1 || !t2)
        goto nomem;
    rc = cli_read_capture(path, t1, &st, "no model written");
    if (rc != CLI_EXIT_OK)
        goto out;
    rc = CLI_EXIT_RUNTIME;
    size_t n = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t1, &n);
    if (!flows)
        goto nomem;
    idx = calloc(n > MAX_SEL ? n : MAX_SEL, sizeof(*idx));
    if (!idx)
        goto nomem;
    if (resolve(o, path, flows, n, idx, &nidx) < 0)
        goto out;

    int out_is_dir = o->output && (is_dir(o->output) || o->output[strlen(o->output) - 1] == '/');
    if (o->output && nidx > 1 && !out_is_dir) {
        rc = cli_usage_error(doc.name,
                             "-o names one file but %zu flows are selected: give a "
                             "directory",
                             nidx);
        goto out;
    }
    const char *dir = out_is_dir ? o->output : (o->output ? NULL : "models");
    if (dir && ensure_dir(dir) < 0)
        goto out;
    if (o->plot_dir && ensure_dir(o->plot_dir) < 0)
        goto out;

    for (size_t i = 0; i < nidx; i++) {
        if (est_flow_table_watch(t2, &flows[idx[i]]->key, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
    }
    rc = cli_read_capture(path, t2, &st, "no model written");
    if (rc != CLI_EXIT_OK)
        goto out;
    rc = CLI_EXIT_RUNTIME;
    size_t n2 = 0;
    struct est_flow *const *flows2 = est_flow_table_sorted(t2, &n2);
    if (!flows2)
        goto nomem;
    if (o->json) {
        jw_init(&w, stdout);
        jw_arr_begin(&w, NULL);
    }

    char stem[200];
    capture_stem(path, stem, sizeof(stem));
    size_t done = 0;
    for (size_t i = 0; i < nidx && !cli_stop; i++, done++) {
        size_t fi = idx[i];
        /* The same file read the same way ranks its flows the same way. */
        if (fi >= n2 || !pkt_flow_key_equal(&flows2[fi]->key, &flows[fi]->key)) {
            fm_log_error("'%s' changed while it was being read", path);
            goto out;
        }
        const struct est_flow *f = flows2[fi];
        struct mdl_model model;
        /* EM on a large flow takes seconds: say what is going on, on a terminal only. */
        int status = isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN;
        if (status)
            fprintf(stderr, "fitting flow %zu (%llu packets)...", fi,
                    (unsigned long long)f->side[0].packets +
                        (unsigned long long)f->side[1].packets);
        int fit_rc = est_model_from_flow(f, path, &o->est, &model, &err);
        if (status)
            fprintf(stderr, "\r\033[K");
        if (fit_rc < 0) {
            fm_log_error("flow %zu of '%s': %s", fi, path, err.msg);
            goto out;
        }
        char mpath[1024];
        if (dir)
            snprintf(mpath, sizeof(mpath), "%s%s%s-%zu.json", dir,
                     dir[strlen(dir) - 1] == '/' ? "" : "/", stem, fi);
        else
            snprintf(mpath, sizeof(mpath), "%s", o->output);
        if (mdl_json_save(&model, mpath, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        warn_notes(&model, fi);
        if (o->plot_dir) {
            char pstem[300];
            snprintf(pstem, sizeof(pstem), "%s-%zu", stem, fi);
            if (cli_plot_model(f, &model, o->plot_dir, pstem, &err) < 0) {
                fm_log_error("%s", err.msg);
                goto out;
            }
        }
        if (o->json) {
            jw_obj_begin(&w, NULL);
            jw_int(&w, "index", (long long)fi);
            jw_str(&w, "flow", model.flow_spec);
            jw_str(&w, "model", mpath);
            jw_obj_end(&w);
        } else {
            printf("%s\t%s\n", mpath, model.flow_spec);
            fflush(stdout);
        }
    }
    /* A signal after the last model was written interrupted nothing. */
    if (done < nidx) {
        fm_log_error("interrupted: the models listed above were written completely, no others");
        rc = CLI_EXIT_INTR;
        goto out;
    }
    if (o->json) {
        jw_arr_end(&w);
        jw_finish(&w);
    }
    rc = CLI_EXIT_OK;
    goto out;
nomem:
    fm_log_error("out of memory");
    rc = CLI_EXIT_RUNTIME;
out:
    free(idx);
    est_flow_table_free(t1);
    est_flow_table_free(t2);
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
    const char *path = cli_one_operand(&doc, argc, argv, "a capture file");
    if (!path) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    /* Outputs that could only fail after the fit are refused before it. */
    if ((o->output && cli_check_output(o->output, FM_OUTPUT_DIR_OK) != CLI_EXIT_OK) ||
        (o->plot_dir && cli_check_output(o->plot_dir, FM_OUTPUT_DIR_OK) != CLI_EXIT_OK)) {
        rc = CLI_EXIT_RUNTIME;
        goto out;
    }
    rc = run(o, path);
out:
    free(o);
    return rc;
}
