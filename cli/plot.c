/* cli/plot.c - PNG plots of a model against its data, rendered by gnuplot.
 * Each plot shows the share of packets per bin (bars) and the model's share of the same bins
 * (its Gaussian components integrated over the bin plus the atoms in it: the model's total,
 * so that a peak of the capture and of the model compare bin by bin). IAT is binned on
 * ln(seconds) and drawn on a log axis; zero gaps cannot sit on a log axis and are given, the
 * capture's and the model's, in the title instead. The legend sits below the plot, where it
 * covers no bar. Names are quoted for gnuplot, so any file name can be drawn. */
#include "cli/cli.h"
#include "cli/plot_int.h"

#include "common/err.h"
#include "common/log.h"
#include "estimator/estimate.h"
#include "models/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NBINS 80

struct plot {
    const char *title;
    const char *xlabel;
    int logx;
};

/* s as a gnuplot single-quoted string into buf: a quote is doubled, which is how gnuplot
 * writes one inside such a string; a newline (no place in a file name worth drawing) becomes
 * '?'. Cut short at size. */
const char *cli_gp_quote(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    if (size < 3)
        return "''";
    buf[n++] = '\'';
    for (; *s && n + 3 < size; s++) {
        if (*s == '\'')
            buf[n++] = '\'';
        buf[n++] = *s;
        if (*s == '\n')
            buf[n - 1] = '?';
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

/* s as a gnuplot double-quoted string into buf: backslash and quote escaped, a newline as
 * \n (a line break in a title). Cut short at size. */
const char *cli_gp_dquote(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    if (size < 3)
        return "\"\"";
    buf[n++] = '"';
    for (; *s && n + 4 < size; s++) {
        if (*s == '\\' || *s == '"') {
            buf[n++] = '\\';
            buf[n++] = *s;
        } else if (*s == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else {
            buf[n++] = *s;
        }
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

/* Mass of the mixture's Gaussian components between x0 and x1 (feature units). */
static double comps_mass(const struct mdl_mixture *m, double x0, double x1)
{
    double mass = 0;
    for (unsigned i = 0; i < m->k; i++) {
        const struct mdl_comp *c = &m->comps[i];
        double a = x0, b = x1;
        if (m->scale == MDL_SCALE_LOG) {
            a = x0 > 0 ? log(x0) : -HUGE_VAL;
            b = x1 > 0 ? log(x1) : -HUGE_VAL;
        }
        double za = (a - c->mean) / (c->sd * M_SQRT2);
        double zb = (b - c->mean) / (c->sd * M_SQRT2);
        mass += c->weight * 0.5 * (erfc(-zb) - erfc(-za));
    }
    return mass;
}

/* Bars, model bars and atoms into a gnuplot data file with three blocks. */
static int write_data(
    FILE *f, const double *x, size_t n, const struct mdl_mixture *m, int logx, double *zero_share)
{
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (logx && x[i] <= 0) {
            zeros++;
            continue;
        }
        double v = logx ? log(x[i]) : x[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    *zero_share = n ? (double)zeros / (double)n : 0;
    if (!(hi >= lo))
        return -1; /* nothing to draw on this axis */
    if (hi - lo < 1e-9) {
        lo -= 0.5;
        hi += 0.5;
    }
    double w = (hi - lo) / NBINS;
    double counts[NBINS] = {0};
    for (size_t i = 0; i < n; i++) {
        if (logx && x[i] <= 0)
            continue;
        double v = logx ? log(x[i]) : x[i];
        size_t b = (size_t)((v - lo) / w);
        counts[b < NBINS ? b : NBINS - 1] += 1;
    }
    for (int b = 0; b < NBINS; b++) {
        double c = lo + (b + 0.5) * w;
        fprintf(f, "%.9g %.9g\n", logx ? exp(c) : c, counts[b] / (double)n);
    }
    fprintf(f, "\n\n");
    /* The model's share of each bin: the continuous part integrated over the bin (CDF
     * differences, so that a component narrower than a bin is neither missed nor drawn taller
     * than its mass) plus the atoms that fall in it. */
    for (int b = 0; b < NBINS; b++) {
        double u0 = lo + b * w, u1 = u0 + w;
        double share = comps_mass(m, logx ? exp(u0) : u0, logx ? exp(u1) : u1);
        for (size_t i = 0; i < m->n_atoms; i++) {
            double v = m->atoms[i].value;
            if (logx && v <= 0)
                continue;
            double u = logx ? log(v) : v;
            size_t ab = u <= lo ? 0 : (size_t)((u - lo) / w);
            if ((ab < NBINS ? (int)ab : NBINS - 1) == b)
                share += m->atoms[i].weight;
        }
        double c = lo + (b + 0.5) * w;
        fprintf(f, "%.9g %.9g\n", logx ? exp(c) : c, share);
    }
    return 0;
}

/* The model's share of zero values (its atom at 0). */
static double model_zero_share(const struct mdl_mixture *m)
{
    double z = 0;
    for (size_t i = 0; i < m->n_atoms; i++)
        if (m->atoms[i].value <= 0)
            z += m->atoms[i].weight;
    return z;
}

static int render(const char *dat, const char *png, const struct plot *p, struct fm_err *err)
{
    char qpng[2600], qtitle[1300], qdat[2600];
    FILE *g = popen("gnuplot 2>&1", "w");
    if (!g)
        return fm_err_errno(err, FM_EIO, errno, "cannot run gnuplot");
    fprintf(g,
            "set terminal pngcairo size 900,580 noenhanced\n"
            "set output %s\n"
            "set title %s\n"
            "set xlabel '%s'\nset ylabel 'share of packets per bin'\n"
            "set key below\nset grid\nset format x '%%g'\n%s"
            "set style fill solid 0.35 noborder\n"
            "plot %s index 0 using 1:2 with %s lc rgb '#4477aa' title 'capture', "
            "'' index 1 using 1:2 with histeps lw 2 lc rgb '#cc3311' title "
            "'model (Gaussians + atoms, per bin)'\n",
            cli_gp_quote(png, qpng, sizeof(qpng)), cli_gp_dquote(p->title, qtitle, sizeof(qtitle)),
            p->xlabel, p->logx ? "set logscale x\n" : "", cli_gp_quote(dat, qdat, sizeof(qdat)),
            p->logx ? "histeps" : "boxes");
    int st = pclose(g);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
            return fm_err_set(err, FM_EIO,
                              "--plot needs gnuplot: install it (apt-get install gnuplot-nox)");
        return fm_err_set(err, FM_EIO, "gnuplot failed to draw '%s'", png);
    }
    return FM_OK;
}

static int plot_feature(const double *x,
                        size_t n,
                        const struct mdl_mixture *m,
                        const char *dir,
                        const char *stem,
                        const char *side,
                        const char *feature,
                        int logx,
                        struct fm_err *err)
{
    char dat[1200], png[1200], tmp[1300], title[700];
    snprintf(dat, sizeof(dat), "%s/.%s-%s-%s.dat", dir, stem, side, feature);
    snprintf(png, sizeof(png), "%s/%s-%s-%s.png", dir, stem, side, feature);
    snprintf(tmp, sizeof(tmp), "%s.tmp.png", png);
    FILE *f = fopen(dat, "w");
    if (!f)
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", dat);
    double zero_share = 0;
    int drawn = write_data(f, x, n, m, logx, &zero_share);
    int bad = fclose(f) != 0;
    int rc = FM_OK;
    if (bad) {
        rc = fm_err_set(err, FM_EIO, "cannot write '%s'", dat);
        goto out;
    }
    if (drawn < 0)
        goto out; /* every gap was zero: nothing on a log axis */
    if (logx)
        snprintf(title, sizeof(title),
                 "%s: %s side, inter-arrival time (%zu gaps)\nzero gaps, not on the log axis: "
                 "capture %.1f%%, model %.1f%%",
                 stem, side, n, zero_share * 100.0, model_zero_share(m) * 100.0);
    else
        snprintf(title, sizeof(title), "%s: %s side, payload length (%zu packets)", stem, side, n);
    struct plot p = {title, logx ? "gap (s)" : "payload length (bytes)", logx};
    rc = render(dat, tmp, &p, err);
    if (rc == FM_OK && rename(tmp, png) != 0)
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", png);
out:
    unlink(tmp);
    unlink(dat);
    return rc;
}

int cli_plot_model(const struct est_flow *f,
                   const struct mdl_model *m,
                   const char *dir,
                   const char *stem,
                   struct fm_err *err)
{
    static const char *const names[2] = {"local", "remote"};
    int rc = FM_OK;
    for (int s = 0; s < 2 && rc == FM_OK; s++) {
        const struct mdl_side *side = &m->sides[s];
        if (!side->present || !f->series[s] || (!side->has_payload && !side->has_iat))
            continue;
        double *pl = NULL;
        double *iat = NULL;
        uint64_t moved = 0;
        double tick = 0;
        rc = est_side_features(f->series[s], &pl, &iat, &moved, &tick, err);
        if (rc == FM_OK && side->has_payload)
            rc = plot_feature(pl, f->series[s]->n, &side->payload, dir, stem, names[s], "payload",
                              0, err);
        if (rc == FM_OK && side->has_iat)
            rc = plot_feature(iat, f->series[s]->n - 1, &side->iat, dir, stem, names[s], "iat", 1,
                              err);
        free(pl);
        free(iat);
    }
    return rc;
}

/* ---- gnuplot and the output folder, for these plots and compare's (cli/plot_compare.c) ---- */

int cli_plot_available(struct fm_err *err)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && len + sizeof("/gnuplot") < sizeof(buf)) {
            memcpy(buf, path, len);
            memcpy(buf + len, "/gnuplot", sizeof("/gnuplot"));
            if (access(buf, X_OK) == 0)
                return FM_OK;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return fm_err_set(err, FM_EIO,
                      "--plot needs gnuplot, which is not on PATH: install it "
                      "(apt-get install gnuplot-nox) or drop --plot");
}

int cli_plot_dir(const char *dir)
{
    struct fm_err err = {0};
    struct stat st;
    if (cli_plot_available(&err) < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fm_log_error("cannot create directory '%s': %s", dir, strerror(errno));
        return CLI_EXIT_RUNTIME;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fm_log_error("--plot: '%s' is not a directory: name a directory for the PNG files", dir);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}
