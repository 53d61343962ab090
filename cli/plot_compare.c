/* cli/plot_compare.c - PNG plots of a comparison (`compare --plot`), rendered by gnuplot:
 * per side, the CDFs of payload length and gap of both inputs and their throughput over
 * time. A model input is labelled with how its sides were drawn (as a sequence, or each
 * packet on its own), since the two look alike in a CDF and apart in the throughput. */
#include "cli/cli.h"
#include "cli/plot_int.h"

#include "common/err.h"
#include "estimator/compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CDF_POINTS      2000
#define RATE_MAX_POINTS 2000

/* Run a gnuplot script that writes png; the script names the output itself. */
static int run_gnuplot(const char *script, const char *png, struct fm_err *err)
{
    FILE *g = popen("gnuplot 2>&1", "w");
    if (!g)
        return fm_err_errno(err, FM_EIO, errno, "cannot run gnuplot");
    fputs(script, g);
    int st = pclose(g);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return fm_err_set(err, FM_EIO, "gnuplot failed to draw '%s'", png);
    return FM_OK;
}

/* An ECDF of n sorted values as at most CDF_POINTS (x, F) steps; values below floor are
 * drawn at floor (a log axis has no 0). */
static void write_cdf(FILE *f, const double *sorted, size_t n, double floor)
{
    if (n == 0) {
        fprintf(f, "nan nan\n\n\n"); /* an empty block would end the file early for gnuplot */
        return;
    }
    /* k points: the i/k quantiles, each the last value at or below which that share of the
     * samples lie. */
    unsigned k = n < CDF_POINTS ? (unsigned)n : CDF_POINTS;
    for (unsigned i = 1; i <= k; i++) {
        size_t j = (size_t)ceil((double)i * (double)n / (double)k) - 1;
        double x = sorted[j] > floor ? sorted[j] : floor;
        fprintf(f, "%.9g %.9g\n", x, (double)(j + 1) / (double)n);
    }
    fprintf(f, "\n\n");
}

/* Throughput of one input's side over time, in bins of bin_ns from its first packet (the
 * last bin is partial). */
static void write_rate(FILE *f, const struct est_cmp_data *d, int64_t bin_ns)
{
    int64_t bin = 0;
    double bytes = 0.0;
    double per_s = 8.0 / ((double)bin_ns / 1e9) / 1e3; /* bytes per bin to kbit/s */
    for (size_t i = 0; i < d->n; i++) {
        int64_t b = (d->ts_ns[i] - d->ts_ns[0]) / bin_ns;
        for (; bin < b; bin++) {
            fprintf(f, "%.9g %.9g\n", (double)bin * (double)bin_ns / 1e9, bytes * per_s);
            bytes = 0.0;
        }
        bytes += d->len_time[i];
    }
    if (d->n)
        fprintf(f, "%.9g %.9g\n", (double)bin * (double)bin_ns / 1e9, bytes * per_s);
    else
        fprintf(f, "nan nan\n");
    fprintf(f, "\n\n");
}

/* One compare plot: the data file is written by fill(), then drawn, renamed into place. */
struct cmp_plot {
    const char *dir;
    const char *pair; /* file name part: "A-vs-B", the inputs' names */
    const char *side;
    const char *what; /* file name part: "length-cdf" */
    const char *title, *xlabel, *ylabel;
    int logx;
    const char *style; /* gnuplot "with" style */
    int has[2];        /* A, B have data */
    const char *label[2];
};

static int draw_cmp(const struct cmp_plot *p,
                    void (*fill)(FILE *f, const struct est_compare *c, int s, int which),
                    const struct est_compare *c,
                    int s,
                    struct fm_err *err)
{
    char dat[1600], png[1600], tmp[1700];
    char qtmp[3500], qtitle[500], qdat[3300], qlabel[2][900];
    char *script = NULL;
    /* Named for both inputs, so that a second comparison into the same directory does not
     * overwrite the first (issue 11). */
    snprintf(dat, sizeof(dat), "%s/.compare-%s-%s-%s.dat", p->dir, p->pair, p->side, p->what);
    snprintf(png, sizeof(png), "%s/compare-%s-%s-%s.png", p->dir, p->pair, p->side, p->what);
    snprintf(tmp, sizeof(tmp), "%s.tmp.png", png);
    int rc = FM_OK;
    FILE *f = fopen(dat, "w");
    if (!f)
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", dat);
    fill(f, c, s, 0);
    fill(f, c, s, 1);
    if (fclose(f) != 0) {
        rc = fm_err_set(err, FM_EIO, "cannot write '%s'", dat);
        goto out;
    }
    size_t size = 4096 + sizeof(qtmp) + 2 * sizeof(qdat) + 2 * sizeof(qlabel[0]);
    script = malloc(size);
    if (!script) {
        rc = fm_err_set(err, FM_ENOMEM, "gnuplot script");
        goto out;
    }
    int used = snprintf(script, size,
                        "set terminal pngcairo size 900,540 noenhanced\n"
                        "set output %s\nset title %s\n"
                        "set xlabel '%s'\nset ylabel '%s'\n"
                        "set key below\nset grid\nset format x '%%g'\n%s"
                        "plot ",
                        cli_gp_quote(tmp, qtmp, sizeof(qtmp)),
                        cli_gp_dquote(p->title, qtitle, sizeof(qtitle)), p->xlabel, p->ylabel,
                        p->logx ? "set logscale x\n" : "");
    static const char *const colour[2] = {"#4477aa", "#cc3311"};
    int first = 1;
    for (int i = 0; i < 2 && used > 0 && (size_t)used < size; i++) {
        if (!p->has[i])
            continue;
        used += snprintf(script + used, size - (size_t)used,
                         "%s%s index %d using 1:2 with %s lw 2 lc rgb '%s' title %s",
                         first ? "" : ", ", cli_gp_quote(dat, qdat, sizeof(qdat)), i, p->style,
                         colour[i], cli_gp_quote(p->label[i], qlabel[i], sizeof(qlabel[i])));
        first = 0;
    }
    if (used > 0 && (size_t)used + 2 < size)
        memcpy(script + used, "\n", 2);
    rc = run_gnuplot(script, png, err);
    if (rc == FM_OK && rename(tmp, png) != 0)
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", png);
out:
    free(script);
    unlink(tmp);
    unlink(dat);
    return rc;
}

static void fill_len_cdf(FILE *f, const struct est_compare *c, int s, int which)
{
    const struct est_cmp_data *d = &c->side[s].in[which];
    write_cdf(f, d->len_sorted, d->n, -HUGE_VAL);
}

static void fill_iat_cdf(FILE *f, const struct est_compare *c, int s, int which)
{
    const struct est_cmp_data *d = &c->side[s].in[which];
    write_cdf(f, d->iat_sorted, d->n ? d->n - 1 : 0, c->iat_floor_s);
}

/* Bins of 100 ms, or wider so that the longer input has at most RATE_MAX_POINTS of them. */
static int64_t rate_bin_ns(const struct est_compare *c, int s)
{
    int64_t span = 0;
    for (int i = 0; i < 2; i++) {
        const struct est_cmp_data *d = &c->side[s].in[i];
        if (d->n && d->ts_ns[d->n - 1] - d->ts_ns[0] > span)
            span = d->ts_ns[d->n - 1] - d->ts_ns[0];
    }
    int64_t bin = 100000000;
    while (span / bin > RATE_MAX_POINTS)
        bin *= 2;
    return bin;
}

static void fill_rate(FILE *f, const struct est_compare *c, int s, int which)
{
    write_rate(f, &c->side[s].in[which], rate_bin_ns(c, s));
}

/* A file's name without its folder. */
static const char *base_name(const char *path)
{
    const char *base = strrchr(path, '/');
    return base ? base + 1 : path;
}

/* An input as a plot label: "A: call.pcap (capture)", "B: call.json (model, sequence)". */
static void
label_of(const struct est_compare *c, int which, const char *tag, char *buf, size_t size)
{
    const struct est_cmp_input *in = &c->in[which];
    snprintf(buf, size, "%s: %.200s (%s)", tag, base_name(in->path),
             !in->is_model                      ? "capture"
             : c->side[0].seq || c->side[1].seq ? "model, drawn as a sequence"
                                                : "model, independent draws");
}

/* The inputs' names without folder and extension, "A-vs-B", for the file names. */
static void pair_of(const struct est_compare *c, char *buf, size_t size)
{
    char stem[2][210];
    for (int i = 0; i < 2; i++) {
        snprintf(stem[i], sizeof(stem[i]), "%.200s", base_name(c->in[i].path));
        char *dot = strrchr(stem[i], '.');
        if (dot && dot != stem[i])
            *dot = '\0';
    }
    snprintf(buf, size, "%s-vs-%s", stem[0], stem[1]);
}

int cli_plot_compare(const struct est_compare *c, const char *dir, struct fm_err *err)
{
    static const char *const names[2] = {"local", "remote"};
    char la[400], lb[400], pair[430];
    pair_of(c, pair, sizeof(pair));
    label_of(c, 0, "A", la, sizeof(la));
    label_of(c, 1, "B", lb, sizeof(lb));
    int rc = FM_OK;
    for (int s = 0; s < 2 && rc == FM_OK; s++) {
        const struct est_cmp_data *a = &c->side[s].in[0], *b = &c->side[s].in[1];
        if (a->n == 0 && b->n == 0)
            continue;
        char title[200];
        snprintf(title, sizeof(title), "%s side: payload length CDF (A %zu, B %zu packets)",
                 names[s], a->n, b->n);
        struct cmp_plot p = {dir,
                             pair,
                             names[s],
                             "length-cdf",
                             title,
                             "payload length (bytes)",
                             "share of packets <= x",
                             0,
                             "steps",
                             {a->n > 0, b->n > 0},
                             {la, lb}};
        rc = draw_cmp(&p, fill_len_cdf, c, s, err);
        if (rc == FM_OK && (a->n > 1 || b->n > 1)) {
            snprintf(title, sizeof(title),
                     "%s side: inter-arrival time CDF (gaps below %g us drawn at %g us)", names[s],
                     c->iat_floor_s * 1e6, c->iat_floor_s * 1e6);
            p.what = "iat-cdf";
            p.xlabel = "gap (s)";
            p.ylabel = "share of gaps <= x";
            p.logx = 1;
            p.has[0] = a->n > 1;
            p.has[1] = b->n > 1;
            rc = draw_cmp(&p, fill_iat_cdf, c, s, err);
        }
        if (rc == FM_OK) {
            snprintf(title, sizeof(title), "%s side: payload throughput in %g ms bins", names[s],
                     (double)rate_bin_ns(c, s) / 1e6);
            p.what = "throughput";
            p.xlabel = "time since the first packet of the side (s)";
            p.ylabel = "kbit/s";
            p.logx = 0;
            p.style = "steps";
            p.has[0] = a->n > 0;
            p.has[1] = b->n > 0;
            rc = draw_cmp(&p, fill_rate, c, s, err);
        }
    }
    return rc;
}
