/* cli/cmd_compare.c - `flowmimic compare`: synthetic against real traffic, flow against flow.
 * Parses the options, runs est_compare_run() once and prints its result as a table, as JSON
 * (--json) or as PNG plots (--plot DIR). */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/num.h"
#include "estimator/compare.h"
#include "estimator/flow.h"

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
    {"json", OPT_JSON, no_argument, NULL, "print the comparison as JSON"},
    {"plot", OPT_PLOT, required_argument, "DIR",
     "write PNG plots: CDFs of length and gap per side,\nthroughput over time (gnuplot)"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "compare",
    "[OPTIONS] A B",
    "Compare a flow of A with a flow of B, side by side: two captures, or a capture and a\n"
    "model (which is drawn from: as many packets per side as the capture's flow has).",
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
    "Exit status: 0 compared, 1 runtime error (unreadable input, no such flow), 2 usage.\n"
    "\nExamples:\n"
    "  flowmimic compare real.pcap synth.pcap\n"
    "  flowmimic estimate -o call.json call.pcap && flowmimic compare call.pcap call.json\n"
    "  flowmimic compare --flow 2 --flow-b 'udp 10.0.0.1:5004 10.0.0.2:6000' a.pcapng b.pcap\n"
    "  flowmimic compare --json --plot plots/ call.pcap call.json\n",
};

struct compare_opts {
    struct est_cmp_opts est;
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
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

/* ---- table ---- */

static const char *const side_names[2] = {"local", "remote"};

/* v with prec decimals, or "-" when it does not exist. */
static const char *num(char *buf, size_t size, double v, int prec)
{
    if (isfinite(v))
        snprintf(buf, size, "%.*f", prec, v);
    else
        snprintf(buf, size, "-");
    return buf;
}

/* One row "label A B B-A" scaled by mult. */
static void row3(const char *label, double a, double b, double mult, int prec)
{
    char x[40], y[40], d[40];
    printf("  %-24s %14s %14s %14s\n", label, num(x, sizeof(x), a * mult, prec),
           num(y, sizeof(y), b * mult, prec), num(d, sizeof(d), (b - a) * mult, prec));
}

static void print_summary(const char *title,
                          const struct mdl_stats_summary *a,
                          const struct mdl_stats_summary *b,
                          double mult,
                          int prec)
{
    printf("%-26s %14s %14s %14s\n", title, "A", "B", "B-A");
    row3("mean", a->mean, b->mean, mult, prec);
    row3("sd", a->sd, b->sd, mult, prec);
    for (int i = 0; i < MDL_STATS_NPCT; i++) {
        char label[32];
        snprintf(label, sizeof(label), "p%g", mdl_stats_pct[i]);
        row3(label, a->pct[i], b->pct[i], mult, prec);
    }
}

static void print_acf(const char *label, const double *acf)
{
    char x[40];
    printf("  %-12s", label);
    for (int k = 0; k < EST_CMP_NLAGS; k++)
        printf(" %6s", num(x, sizeof(x), acf[k], 3));
    printf("\n");
}

static void print_side(const struct est_compare *c, int s)
{
    const struct est_cmp_side *sd = &c->side[s];
    const struct est_cmp_data *a = &sd->in[0], *b = &sd->in[1];
    char x[40], y[40], z[40], w[40];
    printf("\n== %s side: A %zu packets, B %zu packets\n", side_names[s], a->n, b->n);
    if (sd->note[0])
        printf("note: %s\n", sd->note);
    if (a->n == 0 && b->n == 0)
        return;
    print_summary("payload length (bytes)", &a->len, &b->len, 1.0, 1);
    print_summary("inter-arrival time (ms)", &a->iat, &b->iat, 1e3, 6);
    if (sd->ok) {
        printf("%-26s %14s %14s\n", "distance", "length", "gap");
        printf("  %-24s %14s %14s\n", "KS", num(x, sizeof(x), sd->len.ks, 4),
               num(y, sizeof(y), sd->iat.ks, 4));
        printf("  %-24s %12s B %11s ms\n", "W1", num(x, sizeof(x), sd->len.w1, 2),
               num(y, sizeof(y), sd->iat.w1 * 1e3, 6));
        char label[40];
        snprintf(label, sizeof(label), "JSD (%u bins)", c->jsd_bins);
        printf("  %-24s %14s %14s\n", label, num(x, sizeof(x), sd->len.jsd, 4),
               num(y, sizeof(y), sd->iat.jsd, 4));
        printf("  %-24s %14s %14s\n", "KL(A||B), KDE", num(x, sizeof(x), sd->len.kl, 4),
               num(y, sizeof(y), sd->iat.kl, 4));
    } else {
        printf("distances: none (%s)\n", sd->note);
    }
    printf("%-26s %14s %14s %14s %14s\n", "throughput", "A kbit/s", "A CV", "B kbit/s", "B CV");
    for (int k = 0; k < EST_CMP_NSCALES; k++) {
        char label[32];
        snprintf(label, sizeof(label), "%g ms bins", (double)est_cmp_scale_ns[k] / 1e6);
        printf("  %-24s %14s %14s %14s %14s\n", label,
               num(x, sizeof(x), a->time.rate_bps[k] / 1e3, 1),
               num(y, sizeof(y), a->time.rate_cv[k], 3),
               num(z, sizeof(z), b->time.rate_bps[k] / 1e3, 1),
               num(w, sizeof(w), b->time.rate_cv[k], 3));
    }
    printf("%-14s", "autocorrelation");
    for (int k = 1; k <= EST_CMP_NLAGS; k++)
        printf(" %6d", k);
    printf("  (lag)\n");
    print_acf("length A", a->time.acf_len);
    print_acf("length B", b->time.acf_len);
    print_acf("gap A", a->time.acf_iat);
    print_acf("gap B", b->time.acf_iat);
    char title[64];
    snprintf(title, sizeof(title), "bursts (gaps < %g ms)", c->burst_gap_s * 1e3);
    printf("%-26s %14s %14s %14s\n", title, "A", "B", "B-A");
    row3("count", a->n ? (double)a->time.bursts : (double)NAN,
         b->n ? (double)b->time.bursts : (double)NAN, 1.0, 0);
    row3("mean packets", a->time.burst_mean, b->time.burst_mean, 1.0, 2);
    row3("p95 packets", a->time.burst_p95, b->time.burst_p95, 1.0, 1);
    row3("max packets", a->time.burst_max, b->time.burst_max, 1.0, 0);
}

static void print_table(const struct est_compare *c)
{
    for (int i = 0; i < 2; i++) {
        const struct est_cmp_input *in = &c->in[i];
        if (in->is_model)
            printf("%s: %s (model of '%s'; draws with seed %llu)\n", i ? "B" : "A", in->path,
                   in->flow_spec, (unsigned long long)c->seed);
        else
            printf("%s: %s (capture, flow %ld '%s')\n", i ? "B" : "A", in->path, in->flow_index,
                   in->flow_spec);
    }
    print_side(c, 0);
    print_side(c, 1);
    const struct est_cmp_trace *a = &c->in[0].trace, *b = &c->in[1].trace;
    printf("\n== trace (every UDP/TCP flow)\n");
    printf("%-26s %14s %14s %14s\n", "", "A", "B", "B-A");
    row3("packets", (double)a->packets, (double)b->packets, 1.0, 0);
    row3("flows", (double)a->flows, (double)b->flows, 1.0, 0);
    row3("packets per flow", a->mean_conv, b->mean_conv, 1.0, 1);
    row3("time span (s)", a->span_s, b->span_s, 1.0, 3);
    row3("addresses", (double)a->addrs, (double)b->addrs, 1.0, 0);
    row3("ports", (double)a->ports, (double)b->ports, 1.0, 0);
    row3("mean payload (bytes)", a->mean_payload, b->mean_payload, 1.0, 1);
    row3("mean gap (ms)", a->mean_iat_s, b->mean_iat_s, 1e3, 6);
}

/* ---- JSON ---- */

static void json_summary(struct jw *w, const char *key, const struct mdl_stats_summary *s)
{
    jw_obj_begin(w, key);
    jw_int(w, "n", (long long)s->n);
    jw_num(w, "mean", s->mean);
    jw_num(w, "sd", s->sd);
    jw_num(w, "min", s->min);
    jw_num(w, "max", s->max);
    for (int i = 0; i < MDL_STATS_NPCT; i++) {
        char k[32];
        snprintf(k, sizeof(k), "p%g", mdl_stats_pct[i]);
        jw_num(w, k, s->pct[i]);
    }
    jw_obj_end(w);
}

static void json_feature(struct jw *w,
                         const char *key,
                         const struct mdl_stats_summary *a,
                         const struct mdl_stats_summary *b,
                         const struct est_cmp_dist *d)
{
    jw_obj_begin(w, key);
    jw_num(w, "ks", d->ks);
    jw_num(w, "w1", d->w1);
    jw_num(w, "jsd", d->jsd);
    jw_num(w, "kl", d->kl);
    json_summary(w, "a", a);
    json_summary(w, "b", b);
    jw_obj_begin(w, "delta");
    jw_num(w, "mean", b->mean - a->mean);
    jw_num(w, "sd", b->sd - a->sd);
    for (int i = 0; i < MDL_STATS_NPCT; i++) {
        char k[32];
        snprintf(k, sizeof(k), "p%g", mdl_stats_pct[i]);
        jw_num(w, k, b->pct[i] - a->pct[i]);
    }
    jw_obj_end(w);
    jw_obj_end(w);
}

static void json_nums(struct jw *w, const char *key, const double *v, int n)
{
    jw_arr_begin(w, key);
    for (int i = 0; i < n; i++)
        jw_num(w, NULL, v[i]);
    jw_arr_end(w);
}

static void json_time(struct jw *w, const char *key, const struct est_cmp_data *d)
{
    jw_obj_begin(w, key);
    jw_arr_begin(w, "throughput");
    for (int k = 0; k < EST_CMP_NSCALES; k++) {
        jw_obj_begin(w, NULL);
        jw_num(w, "bin_s", (double)est_cmp_scale_ns[k] / 1e9);
        jw_num(w, "mean_bps", d->time.rate_bps[k]);
        jw_num(w, "cv", d->time.rate_cv[k]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    json_nums(w, "acf_length", d->time.acf_len, EST_CMP_NLAGS);
    json_nums(w, "acf_iat", d->time.acf_iat, EST_CMP_NLAGS);
    jw_obj_begin(w, "bursts");
    jw_int(w, "count", (long long)d->time.bursts);
    jw_num(w, "mean", d->time.burst_mean);
    jw_num(w, "p95", d->time.burst_p95);
    jw_num(w, "max", d->time.burst_max);
    jw_obj_end(w);
    jw_obj_end(w);
}

static void json_trace(struct jw *w, const char *key, const struct est_cmp_trace *t)
{
    jw_obj_begin(w, key);
    jw_int(w, "packets", (long long)t->packets);
    jw_int(w, "flows", (long long)t->flows);
    jw_num(w, "packets_per_flow", t->mean_conv);
    jw_num(w, "span_s", t->span_s);
    jw_int(w, "addresses", (long long)t->addrs);
    jw_int(w, "ports", (long long)t->ports);
    jw_num(w, "mean_payload", t->mean_payload);
    jw_num(w, "mean_iat_s", t->mean_iat_s);
    jw_obj_end(w);
}

static void print_json(const struct est_compare *c)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    for (int i = 0; i < 2; i++) {
        const struct est_cmp_input *in = &c->in[i];
        jw_obj_begin(&w, i ? "b" : "a");
        jw_str(&w, "path", in->path);
        jw_str(&w, "kind", in->is_model ? "model" : "capture");
        jw_str(&w, "flow", in->flow_spec);
        if (in->is_model)
            jw_null(&w, "flow_index");
        else
            jw_int(&w, "flow_index", in->flow_index);
        jw_obj_end(&w);
    }
    jw_int(&w, "seed", (long long)c->seed);
    jw_num(&w, "burst_gap_s", c->burst_gap_s);
    jw_int(&w, "jsd_bins", c->jsd_bins);
    jw_int(&w, "kde_grid", c->kde_grid);
    jw_num(&w, "iat_floor_s", c->iat_floor_s);
    jw_obj_begin(&w, "sides");
    for (int s = 0; s < 2; s++) {
        const struct est_cmp_side *sd = &c->side[s];
        jw_obj_begin(&w, side_names[s]);
        jw_int(&w, "packets_a", (long long)sd->in[0].n);
        jw_int(&w, "packets_b", (long long)sd->in[1].n);
        if (sd->note[0])
            jw_str(&w, "note", sd->note);
        else
            jw_null(&w, "note");
        json_feature(&w, "payload_length", &sd->in[0].len, &sd->in[1].len, &sd->len);
        json_feature(&w, "iat_s", &sd->in[0].iat, &sd->in[1].iat, &sd->iat);
        json_time(&w, "time_a", &sd->in[0]);
        json_time(&w, "time_b", &sd->in[1]);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_begin(&w, "trace");
    json_trace(&w, "a", &c->in[0].trace);
    json_trace(&w, "b", &c->in[1].trace);
    const struct est_cmp_trace *a = &c->in[0].trace, *b = &c->in[1].trace;
    jw_obj_begin(&w, "delta");
    jw_num(&w, "packets", (double)b->packets - (double)a->packets);
    jw_num(&w, "flows", (double)b->flows - (double)a->flows);
    jw_num(&w, "packets_per_flow", b->mean_conv - a->mean_conv);
    jw_num(&w, "span_s", b->span_s - a->span_s);
    jw_num(&w, "addresses", (double)b->addrs - (double)a->addrs);
    jw_num(&w, "ports", (double)b->ports - (double)a->ports);
    jw_num(&w, "mean_payload", b->mean_payload - a->mean_payload);
    jw_num(&w, "mean_iat_s", b->mean_iat_s - a->mean_iat_s);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_finish(&w);
}

/* ---- run ---- */

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
        print_json(c);
    else
        print_table(c);
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
    char **in = cli_operands(&doc, argc, argv, 2, "two inputs A and B (captures, or one model)");
    if (!in)
        return CLI_EXIT_USAGE;
    if (o.plot_dir && cli_check_output(o.plot_dir, FM_OUTPUT_DIR_OK) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    return run(&o, in[0], in[1]);
}
