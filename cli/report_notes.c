/* cli/report_notes.c - the receive report's notes on stderr: what the numbers cannot show by
 * themselves (nothing received, the kernel's drops, streams over the cap, clocks that
 * disagree, sequence restarts). A condition that a handful of streams share gets one line
 * naming how many and the first few, not a line per stream: a receiver of thousands of
 * streams would otherwise bury the table under identical lines. */
#include "cli/report.h"

#include "common/log.h"
#include "common/par.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Up to NOTE_EACH streams get a line each, as one stream always did; more share one line
 * that lists the first NOTE_LIST of them. */
#define NOTE_EACH 3
#define NOTE_LIST 5

/* The per-stream conditions, in the order their notes are printed. */
enum note_kind {
    NOTE_OWD,      /* one-way delay not plausible */
    NOTE_RESTART,  /* the sequence numbers started again */
    NOTE_MEASURED, /* no fixed clock: measured (info) */
    NOTE_ASSUMED,  /* no fixed clock, none measured: 90 kHz assumed */
    NOTE_STRAY,    /* packets in no sequence (info) */
    NOTE_KINDS,
};

/* The streams that share one condition: how many, the first of them, and what the shared
 * line sums or spans. */
struct note {
    size_t n;
    size_t first[NOTE_LIST];
    uint64_t sum;      /* restarts, stray packets */
    double lo, hi;     /* mean one-way delays (s), measured clock rates (Hz) */
    uint64_t pt[2];    /* payload types seen, a bit each (0..127) */
    uint32_t clock[4]; /* distinct clocks the jitter ran in (0: unused slot) */
};

static void note_add(struct note *g, size_t i, const struct trx_stream_stats *s, double v)
{
    if (g->n < NOTE_LIST)
        g->first[g->n] = i;
    if (g->n == 0 || v < g->lo)
        g->lo = v;
    if (g->n == 0 || v > g->hi)
        g->hi = v;
    g->n++;
    g->pt[s->rtp_pt / 64] |= (uint64_t)1 << (s->rtp_pt % 64);
    for (size_t k = 0; k < sizeof(g->clock) / sizeof(g->clock[0]); k++) {
        if (g->clock[k] == s->clock_rate_hz)
            break;
        if (g->clock[k] == 0) {
            g->clock[k] = s->clock_rate_hz;
            break;
        }
    }
}

/* "a, b, c, d, e and N more" of total numbers, the first shown (at most NOTE_LIST) of
 * which are in v; "a, b and c" when all are shown. */
static void list_fmt(char *buf, size_t size, const size_t *v, size_t shown, size_t total)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < shown && o < size; k++) {
        const char *sep = k == 0 ? "" : (k + 1 == shown && shown == total) ? " and " : ", ";
        o += (size_t)snprintf(buf + o, size - o, "%s%zu", sep, v[k]);
    }
    if (total > shown && o < size)
        snprintf(buf + o, size - o, " and %zu more", total - shown);
}

/* The payload types seen, as list_fmt() writes them, after "payload type" or "types";
 * returns how many there are. */
static size_t pt_fmt(char *buf, size_t size, const struct note *g)
{
    size_t v[NOTE_LIST];
    size_t shown = 0;
    size_t total = 0;
    for (size_t pt = 0; pt < 128; pt++) {
        if (!((g->pt[pt / 64] >> (pt % 64)) & 1u))
            continue;
        if (shown < NOTE_LIST)
            v[shown++] = pt;
        total++;
    }
    snprintf(buf, size, "payload type%s ", total == 1 ? "" : "s");
    size_t o = strlen(buf);
    list_fmt(buf + o, size - o, v, shown, total);
    return total;
}

/* The clocks the jitter ran in: "90000 Hz", or "8000 or 90000 Hz (each stream's nearest)". */
static void clock_fmt(char *buf, size_t size, const struct note *g)
{
    size_t v[4];
    size_t n = 0;
    for (size_t k = 0; k < 4 && g->clock[k]; k++)
        v[n++] = g->clock[k];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && o < size; k++)
        o += (size_t)snprintf(buf + o, size - o, "%s%zu", k ? " or " : "", v[k]);
    if (o < size)
        snprintf(buf + o, size - o, " Hz%s", n > 1 ? " (each stream's nearest)" : "");
}

/* A stream's own line, as it has always read. */
static void note_one(enum note_kind kind, size_t i, const struct trx_stream_stats *s)
{
    switch (kind) {
    case NOTE_OWD:
        fm_log_warn("stream %zu: one-way delay %.3f s is not plausible: the sender's clock "
                    "does not agree with this host's",
                    i, s->owd_mean_ns / 1e9);
        break;
    case NOTE_RESTART:
        fm_log_warn("stream %zu: the sequence numbers started again %llu time%s (a sender "
                    "restart, RFC 3550 A.1); loss is counted within each run",
                    i, (unsigned long long)s->restarts, s->restarts == 1 ? "" : "s");
        break;
    case NOTE_MEASURED:
        fm_log_info("stream %zu: payload type %u has no fixed clock; its timestamps advance "
                    "at %.0f Hz: jitter in %u Hz",
                    i, (unsigned)s->rtp_pt, s->clock_measured_hz, (unsigned)s->clock_rate_hz);
        break;
    case NOTE_ASSUMED:
        fm_log_warn("stream %zu: payload type %u has no fixed clock and its timestamps show "
                    "none of 8, 16, 48 or 90 kHz: jitter assumes 90 kHz (--rtp-clock sets "
                    "it)",
                    i, (unsigned)s->rtp_pt);
        break;
    case NOTE_STRAY:
        fm_log_info("stream %zu: %llu packets fit nowhere in the sequence (a jump the next "
                    "packet did not confirm)",
                    i, (unsigned long long)s->stray);
        break;
    case NOTE_KINDS:
        break;
    }
}

/* "v" or "lo to hi", each with prec decimals: one number when both read the same. */
static void span_fmt(char *buf, size_t size, int prec, double lo, double hi)
{
    char a[32];
    char b[32];
    snprintf(a, sizeof(a), "%.*f", prec, lo);
    snprintf(b, sizeof(b), "%.*f", prec, hi);
    if (strcmp(a, b) == 0)
        snprintf(buf, size, "%s", a);
    else
        snprintf(buf, size, "%s to %s", a, b);
}

/* One line for the g->n streams that share the condition. */
static void note_many(enum note_kind kind, const struct note *g)
{
    char who[96];
    char pts[96];
    char clk[64];
    char span[72];
    list_fmt(who, sizeof(who), g->first, g->n < NOTE_LIST ? g->n : NOTE_LIST, g->n);
    const char *has = pt_fmt(pts, sizeof(pts), g) == 1 ? "has" : "have";
    clock_fmt(clk, sizeof(clk), g);
    switch (kind) {
    case NOTE_OWD:
        span_fmt(span, sizeof(span), 3, g->lo, g->hi);
        fm_log_warn("%zu streams (%s): one-way delays of %s s are not plausible: the sender's "
                    "clock does not agree with this host's",
                    g->n, who, span);
        break;
    case NOTE_RESTART:
        fm_log_warn("%zu streams (%s): the sequence numbers started again, %llu times in all (a "
                    "sender restart, RFC 3550 A.1); loss is counted within each run",
                    g->n, who, (unsigned long long)g->sum);
        break;
    case NOTE_MEASURED:
        span_fmt(span, sizeof(span), 0, g->lo, g->hi);
        fm_log_info("%zu streams (%s): %s %s no fixed clock; their timestamps advance at %s Hz: "
                    "jitter in %s",
                    g->n, who, pts, has, span, clk);
        break;
    case NOTE_ASSUMED:
        fm_log_warn("%zu streams (%s): %s %s no fixed clock and their timestamps show none "
                    "of 8, 16, 48 or 90 kHz: jitter assumes 90 kHz (--rtp-clock sets it)",
                    g->n, who, pts, has);
        break;
    case NOTE_STRAY:
        fm_log_info("%zu streams (%s): %llu packets in all fit nowhere in the sequence (a jump "
                    "the next packet did not confirm)",
                    g->n, who, (unsigned long long)g->sum);
        break;
    case NOTE_KINDS:
        break;
    }
}

/* The per-stream notes: each condition's streams, a line each or one line for them all. */
static void stream_notes(struct trx_rstats *rs)
{
    struct note g[NOTE_KINDS];
    memset(g, 0, sizeof(g));
    for (size_t i = 0; i < trx_rstats_count(rs); i++) {
        struct trx_stream_stats s;
        trx_rstats_stream(rs, i, &s);
        /* A delay beyond a minute, or negative beyond a millisecond, is not the network:
         * the sender's clock is not ours. */
        if (s.probes && (fabs(s.owd_mean_ns) > 60e9 || s.owd_min_ns < -1000000))
            note_add(&g[NOTE_OWD], i, &s, s.owd_mean_ns / 1e9);
        if (s.restarts) {
            note_add(&g[NOTE_RESTART], i, &s, 0);
            g[NOTE_RESTART].sum += s.restarts;
        }
        if (s.rtp && s.clock_source == TRX_CLOCK_MEASURED)
            note_add(&g[NOTE_MEASURED], i, &s, s.clock_measured_hz);
        if (s.rtp && s.clock_source == TRX_CLOCK_ASSUMED && s.packets > 1)
            note_add(&g[NOTE_ASSUMED], i, &s, 0);
        if (s.stray) {
            note_add(&g[NOTE_STRAY], i, &s, 0);
            g[NOTE_STRAY].sum += s.stray;
        }
    }
    for (int k = 0; k < NOTE_KINDS; k++) {
        if (g[k].n > NOTE_EACH) {
            note_many((enum note_kind)k, &g[k]);
            continue;
        }
        for (size_t j = 0; j < g[k].n; j++) {
            struct trx_stream_stats s;
            trx_rstats_stream(rs, g[k].first[j], &s);
            note_one((enum note_kind)k, g[k].first[j], &s);
        }
    }
}

void cli_receive_notes(struct trx_rstats *rs,
                       const struct trx_recv_info *info,
                       const char *cap_option)
{
    struct trx_rstats_totals t;
    trx_rstats_totals(rs, &t);
    if (t.packets == 0)
        fm_log_warn("no packets received");
    if (info->kernel_drops)
        fm_log_warn("the kernel dropped %llu packets before they were read (receive buffer "
                    "full)",
                    (unsigned long long)info->kernel_drops);
    if (info->truncated)
        fm_log_warn("%llu datagrams were longer than the receive buffer and were truncated",
                    (unsigned long long)info->truncated);
    if (t.over_cap) {
        /* Under mpirun the cap is each rank's, and so is this count. */
        char rank[32] = "";
        if (fm_par_size() > 1)
            snprintf(rank, sizeof(rank), " on rank %d", fm_par_rank());
        fm_log_warn("%llu packets belonged to streams beyond the first %zu%s and were not "
                    "counted%s%s%s",
                    (unsigned long long)t.over_cap, t.max_streams, rank, cap_option ? " (" : "",
                    cap_option ? cap_option : "", cap_option ? " N keeps more)" : "");
    }
    if (info->no_kernel_ts)
        fm_log_info("%llu packets had no kernel timestamp; their arrival is the read time",
                    (unsigned long long)info->no_kernel_ts);
    if (info->skipped)
        fm_log_info("%llu captured frames were not whole UDP datagrams and were skipped",
                    (unsigned long long)info->skipped);
    stream_notes(rs);
}
