/* cli/cmd_compare.c - `flowmimic compare`: synthetic against real traffic, flow against flow.
 * Parses the options, runs est_compare_run() once and prints its result as a table, as JSON
 * (--json) or as PNG plots (--plot DIR). */
#include "cli/cli.h"
#include "cli/compare_report.h"

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/num.h"
#include "estimator/compare.h"
#include "estimator/flow.h"
#include "models/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_FLOW = 256,
    OPT_FLOW_B,
    OPT_SEED,
    OPT_BURST_GAP,
    OPT_MIN_PACKETS,
    OPT_BINS,
    OPT_PLOT,
    OPT_JSON,
    OPT_SEQUENCE,
    OPT_HOLDOUT,
    OPT_HOLDOUT_MODEL,
};

static const struct cli_opt opts[] = {
    {"flow", OPT_FLOW, required_argument, "INDEX|SPEC",
     "the flow of A: its index in `flows`, or 'udp A:PORT B:PORT'\n(default: flow 0)"},
    {"flow-b", OPT_FLOW_B, required_argument, "INDEX|SPEC",
     "the flow of B (default: flow 0; a model has one)"},
    {"seed", OPT_SEED, required_argument, "N", "seed for the draws from a model (default 1)"},
    {"burst-gap-ms", OPT_BURST_GAP, required_argument, "MS",
     "packets closer than this form a burst (default 1)"},
    {"min-packets", OPT_MIN_PACKETS, required_argument, "N",
     "fewer packets on a side of A or B: no distances (default 10)"},
    {"bins", OPT_BINS, required_argument, "N", "bins of the JSD histograms (default 100)"},
    {"sequence", OPT_SEQUENCE, required_argument, "on|off",
     "draw a model's sides as sequences, as generate and\nreplay do (on, default), or each packet "
     "on its own\nfrom the mixtures (off: the version-1 model)"},
    {"holdout", OPT_HOLDOUT, required_argument, "CAPTURE",
     "instead of A B: fit a model on the first half of\nCAPTURE's flow (--flow), judge it on the "
     "second half\nbeside the two halves' own distance"},
    {"holdout-model", OPT_HOLDOUT_MODEL, required_argument, "FILE",
     "with --holdout: also write the model of half 1 to FILE"},
    {"json", OPT_JSON, no_argument, NULL, "print the comparison as JSON"},
    {"plot", OPT_PLOT, required_argument, "DIR",
     "write PNG plots: CDFs of length and gap per side,\nthroughput over time (gnuplot)"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "compare",
    "[OPTIONS] A B | --holdout CAPTURE [OPTIONS]",
    "Compare a flow of A with a flow of B, side by side: two captures, or a capture and a\n"
    "model (which is drawn from: as many packets per side as the capture's flow has, as a\n"
    "sequence when the model has one).",
    "Sides: local is the endpoint that sent the flow's first packet. Per side, for payload\n"
    "length and inter-arrival time: KS, Wasserstein-1 (W1, in bytes and ms), Jensen-Shannon\n"
    "divergence (natural log, 0..0.693) on --bins equal-width bins over both inputs' range,\n"
    "KL(A||B) between Gaussian kernel density estimates (Silverman bandwidth, 512-point grid,\n"
    "probability floor 1e-10), mean, sd, percentiles. JSD and KL of gaps are taken on\n"
    "ln(seconds), gaps below 1 us counted as 1 us. Time structure: payload throughput in\n"
    "10 ms, 100 ms and 1 s bins (mean and coefficient of variation), autocorrelation of\n"
    "length and gap at lags 1-10, bursts (runs of gaps below --burst-gap-ms). Trace: every\n"
    "UDP/TCP flow of each input. Deltas are B - A. '-' marks a value that does not exist\n"
    "(fewer than two bins, no variance). Each capture is read once; a flow named by SPEC is\n"
    "the only one kept in memory, by INDEX (or by default) every flow's packets are kept.\n"
    "--holdout: per side, the packets in time order are split in half; a model fitted on\n"
    "half 1 (as estimate fits, sequence on) draws 10x as many packets as half 2 has, as a\n"
    "sequence and independently; rows KS length, KS gap, lag-1 autocorrelation of length and\n"
    "gap, throughput CV in 100 ms bins and mean burst give each series' figure and its\n"
    "distance to half 2. Half 1 vs half 2 is the floor: the data's own variation.\n"
    "Exit status: 0 compared, 1 runtime error (unreadable input, no such flow), 2 usage.\n"
    "\nExamples:\n"
    "  flowmimic compare real.pcap synth.pcap\n"
    "  flowmimic estimate -o call.json call.pcap && flowmimic compare call.pcap call.json\n"
    "  flowmimic compare --flow 2 --flow-b 'udp 10.0.0.1:5004 10.0.0.2:6000' a.pcapng b.pcap\n"
    "  flowmimic compare --json --plot plots/ call.pcap call.json\n"
    "  flowmimic compare --holdout call.pcap --flow 0 --seed 7\n",
};

struct compare_opts {
    struct est_cmp_opts est;
    const char *holdout;
    const char *holdout_model;
    const char *plot_dir;
    int json;
};

static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct compare_opts *o = self;
    double ms = 0;
    switch (c) {
    case OPT_FLOW: /* checked here too, so that a typo is a usage error */
        o->est.flow[0] = arg;
        return cli_parse_flow(arg, "flow index", NULL, err);
    case OPT_FLOW_B:
        o->est.flow[1] = arg;
        return cli_parse_flow(arg, "flow index", NULL, err);
    case OPT_SEED:
        return fm_parse_u64(arg, UINT64_MAX, "--seed", &o->est.seed, err);
    case OPT_BURST_GAP:
        if (fm_parse_double(arg, 0, 1e6, "--burst-gap-ms", &ms, err) < 0)
            return FM_EINVAL;
        o->est.burst_gap_s = ms / 1e3;
        return FM_OK;
    case OPT_MIN_PACKETS:
        return fm_parse_u64(arg, 1000000000ULL, "--min-packets", &o->est.min_packets, err);
    case OPT_BINS:
        return cli_parse_unsigned(arg, 2, 100000, "--bins", &o->est.jsd_bins, err);
    case OPT_PLOT:
        o->plot_dir = arg;
        return FM_OK;
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    case OPT_SEQUENCE:
        if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
            return fm_err_set(err, FM_EINVAL, "--sequence: expected on or off, got '%s'", arg);
        o->est.independent = strcmp(arg, "off") == 0;
        return FM_OK;
    case OPT_HOLDOUT:
        o->holdout = arg;
        return FM_OK;
    case OPT_HOLDOUT_MODEL:
        o->holdout_model = arg;
        return FM_OK;
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

/* ---- run ---- */

/* --holdout CAPTURE: the model of half 1 against half 2 (estimator/holdout.h). */
static int run_holdout(struct compare_opts *o)
{
    struct est_holdout *h = calloc(1, sizeof(*h));
    struct mdl_model *m = o->holdout_model ? calloc(1, sizeof(*m)) : NULL;
    struct est_ho_opts ho;
    struct fm_err err = {0};
    struct cli_progress prog;
    int rc = CLI_EXIT_OK;
    if (!h || (o->holdout_model && !m)) {
        fm_log_error("out of memory for the holdout of '%s'", o->holdout);
        rc = CLI_EXIT_RUNTIME;
        goto out;
    }
    est_ho_opts_init(&ho);
    ho.model = m;
    ho.flow = o->est.flow[0];
    ho.seed = o->est.seed;
    ho.burst_gap_s = o->est.burst_gap_s;
    cli_progress_init(&prog, "capture");
    cli_signals_install();
    ho.progress = cli_progress_cb;
    ho.progress_arg = &prog;
    ho.stop = &cli_stop;
    int r = est_holdout_run(o->holdout, &ho, h, &err);
    cli_progress_done(&prog);
    if (r == FM_OK && m)
        r = mdl_json_save(m, o->holdout_model, &err);
    if (r == FM_EINTR) {
        fm_log_error("%s: no holdout report", err.msg);
        rc = CLI_EXIT_INTR;
    } else if (r == FM_EINVAL) {
        rc = cli_usage_error(doc.name, "%s", err.msg);
    } else if (r < 0) {
        fm_log_error("%s", err.msg);
        rc = CLI_EXIT_RUNTIME;
    } else {
        cli_read_warn(h->path, &h->read);
        if (o->json)
            cli_holdout_json(h);
        else
            cli_holdout_table(h);
    }
out:
    free(m);
    free(h);
    return rc;
}

static int run(struct compare_opts *o, const char *a, const char *b)
{
    struct est_compare *c = NULL;
    struct fm_err err = {0};
    struct cli_progress prog;
    int rc = CLI_EXIT_RUNTIME;

    if (o->plot_dir && cli_plot_dir(o->plot_dir) != CLI_EXIT_OK)
        goto out;
    cli_progress_init(&prog, "inputs");
    cli_signals_install();
    o->est.progress = cli_progress_cb;
    o->est.progress_arg = &prog;
    o->est.stop = &cli_stop;
    int r = est_compare_run(a, b, &o->est, &c, &err);
    cli_progress_done(&prog);
    if (r < 0) {
        if (r == FM_EINTR) {
            fm_log_error("%s: nothing compared", err.msg);
            rc = CLI_EXIT_INTR;
        } else if (r == FM_EINVAL) {
            rc = cli_usage_error(doc.name, "%s", err.msg);
        } else {
            fm_log_error("%s", err.msg);
        }
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        if (c->in[i].is_model)
            continue;
        cli_read_warn(c->in[i].path, &c->in[i].read);
        if (c->in[i].flow_from_model < 0)
            fm_log_warn("the model's flow '%s' is not in '%s': comparing its largest, '%s'",
                        c->in[!i].flow_spec, c->in[i].path, c->in[i].flow_spec);
    }
    if (o->plot_dir && cli_plot_compare(c, o->plot_dir, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (o->json)
        cli_compare_json(c);
    else
        cli_compare_table(c);
    rc = CLI_EXIT_OK;
out:
    est_compare_free(c);
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    struct cli_parser p;
    struct compare_opts o;
    memset(&o, 0, sizeof(o));
    est_cmp_opts_init(&o.est);
    cli_parser_init(&p, &doc, opts);
    int rc = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (rc >= 0)
        return rc;
    if (o.holdout) {
        if (o.holdout_model && cli_check_output(o.holdout_model, 0) != CLI_EXIT_OK)
            return CLI_EXIT_RUNTIME;
        if (o.est.flow[1] || o.plot_dir || o.est.independent)
            return cli_usage_error(doc.name, "--holdout takes neither --flow-b, --plot nor "
                                             "--sequence: it reports both kinds of draws");
        if (!cli_operands(&doc, argc, argv, 0, "no A B beside --holdout"))
            return CLI_EXIT_USAGE;
        return run_holdout(&o);
    }
    if (o.holdout_model)
        return cli_usage_error(doc.name, "--holdout-model goes with --holdout CAPTURE");
    char **in = cli_operands(&doc, argc, argv, 2, "two inputs A and B (captures, or one model)");
    if (!in)
        return CLI_EXIT_USAGE;
    if (o.plot_dir && cli_check_output(o.plot_dir, FM_OUTPUT_DIR_OK) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    return run(&o, in[0], in[1]);
}
