/* estimator/compare.h - synthetic against real traffic: two captures, or a capture and a
 * model, flow against flow and side against side.
 * est_compare_run() reads each capture once (estimator/reader.h), selects one flow per input,
 * and for each side (local = the endpoint that sent the flow's first packet) computes the
 * distances between the payload lengths and between the inter-arrival times of the two
 * inputs, their summaries, the time structure (throughput, autocorrelation, bursts) and the
 * trace-level counts of each whole input. A model input is drawn from: as many packets per
 * side as the capture's selected flow has on that side, with a seeded RNG: as a sequence when
 * the side has a sequence model (mdl_side_draw_series(), the way generate and replay draw),
 * else independently from its mixtures; timestamps from the cumulated gaps starting at the
 * capture side's first packet.
 * The result is a struct est_compare released with est_compare_free(); it keeps the sorted
 * samples and timestamps for plots. Paths are copied. Not thread-safe per result; no globals.
 *
 * Definitions (so that the numbers can be checked by hand):
 * - KS, W1: on payload bytes and on gaps in seconds (W1 in those units).
 * - JSD and KL: payload on bytes; gaps on ln(seconds) with gaps below iat_floor_s counted at
 *   iat_floor_s (zero gaps exist wherever timestamps are rounded). JSD on jsd_bins equal-width
 *   bins spanning the pooled range of both inputs; KL(A || B) between Gaussian KDEs with
 *   Silverman bandwidths on kde_grid points (see mdl_stats_kl_kde_sorted()).
 * - Throughput: L4 payload bits per second in consecutive bins of 10 ms, 100 ms and 1 s from
 *   the side's first packet; only bins that end by the side's last packet count. Mean rate and
 *   coefficient of variation (population sd / mean of the bin totals); NAN with fewer than two
 *   such bins.
 * - Bursts: maximal runs of packets whose gaps are all below burst_gap_s; a burst's size is its
 *   packet count (a lone packet is a burst of 1).
 * - Trace: over every UDP/TCP flow of a capture (or the drawn flow of a model): packets, flows,
 *   packets per flow, time span, distinct addresses and ports, mean payload, mean gap (time span
 *   / (packets - 1)). */
#ifndef ESTIMATOR_COMPARE_H
#define ESTIMATOR_COMPARE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "estimator/reader.h"
#include "models/stats.h"

#define EST_CMP_NLAGS   10 /* autocorrelation lags 1..10 */
#define EST_CMP_NSCALES 3  /* throughput bins: 10 ms, 100 ms, 1 s */

extern const int64_t est_cmp_scale_ns[EST_CMP_NSCALES];

struct est_cmp_opts {
    const char *flow[2];      /* per input: NULL (its largest flow), "INDEX" (as `flows` numbers
                                 them) or a spec "udp A:PORT B:PORT"; must be NULL for a model */
    uint64_t seed;            /* model draws (default 1) */
    int independent;          /* 1: draw a model side from its mixtures even when it has a
                                 sequence model (the version-1 way, for comparison) */
    double burst_gap_s;       /* default 0.001 */
    uint64_t min_packets;     /* fewer on a side of either input: no distances, a note (10) */
    unsigned jsd_bins;        /* default 100 */
    unsigned kde_grid;        /* default 512 */
    double iat_floor_s;       /* default 1e-6 */
    est_progress_fn progress; /* reading progress, may be NULL */
    void *progress_arg;
    volatile sig_atomic_t *stop; /* reading stops with FM_EINTR when *stop != 0; may be NULL */
};

void est_cmp_opts_init(struct est_cmp_opts *o);

struct est_cmp_time {
    double rate_bps[EST_CMP_NSCALES]; /* mean throughput, bit/s; NAN: fewer than two bins */
    double rate_cv[EST_CMP_NSCALES];  /* coefficient of variation of the bin totals; NAN too */
    double acf_len[EST_CMP_NLAGS];    /* autocorrelation of payload lengths; NAN: undefined */
    double acf_iat[EST_CMP_NLAGS];    /* of gaps */
    uint64_t bursts;                  /* 0 when the side is empty */
    double burst_mean, burst_p95, burst_max; /* packets per burst */
};

/* One side of one input. */
struct est_cmp_data {
    size_t n;
    int64_t *ts_ns;     /* n timestamps, ascending */
    double *len_time;   /* n payload lengths (bytes) in time order, beside ts_ns */
    double *len_sorted; /* n payload lengths (bytes), ascending */
    double *iat_sorted; /* n - 1 gaps (s), ascending */
    struct mdl_stats_summary len, iat;
    struct est_cmp_time time;
};

struct est_cmp_dist {
    double ks, w1, jsd, kl;
};

struct est_cmp_side {
    int ok;         /* the distances below were computed */
    int seq;        /* 1: the model input's side was drawn as a sequence */
    char note[160]; /* why not (too few packets, no model for the side), or "" */
    struct est_cmp_data in[2];
    struct est_cmp_dist len, iat;
};

struct est_cmp_trace {
    uint64_t packets, flows;
    double mean_conv; /* packets per flow */
    double span_s;    /* first to last packet */
    uint64_t addrs, ports;
    double mean_payload; /* bytes */
    double mean_iat_s;   /* span / (packets - 1); NAN below two packets */
};

struct est_cmp_input {
    char path[1024];
    int is_model;
    char flow_spec[200];        /* the selected flow, local endpoint first */
    long flow_index;            /* its index in `flows` order; -1 for a model */
    int flow_from_model;        /* a capture beside a model, no flow asked: 1 when the
                                   model's flow was found and selected, -1 when it is not
                                   in the capture (its largest flow was), 0 otherwise */
    struct est_read_stats read; /* what the reader skipped (captures) */
    struct est_cmp_trace trace;
};

struct est_compare {
    struct est_cmp_input in[2];  /* A, B */
    struct est_cmp_side side[2]; /* local, remote */
    uint64_t seed;
    int independent; /* est_cmp_opts.independent */
    double burst_gap_s;
    unsigned jsd_bins, kde_grid;
    double iat_floor_s;
};

/* Compare path_a with path_b. Each is a pcap/pcapng capture or a model file (JSON; at most
 * one of them). A capture beside a model compares the flow the model names unless its flow is
 * given (flow_from_model says whether it was there). On success stores a new result in *out.
 * Errors: FM_EIO (cannot read a file), FM_EFORMAT (not a capture, a truncated capture, a bad
 * model), FM_EINVAL (two models, a flow selection for a model, a bad flow spec), FM_ENOTFOUND (the
 * selected flow is not there, or a capture has no UDP/TCP flow: the message lists what was found),
 * FM_EINTR, FM_ENOMEM. */
FM_MUST_CHECK int est_compare_run(const char *path_a,
                                  const char *path_b,
                                  const struct est_cmp_opts *o,
                                  struct est_compare **out,
                                  struct fm_err *err);

void est_compare_free(struct est_compare *c);

/* Throughput of n packets with ascending timestamps and payload lengths (bytes), in bins of
 * bin_ns from the first packet (only bins that end by the last packet): mean bit/s into
 * *mean_bps and the coefficient of variation of the bin totals into *cv; both NAN with fewer
 * than two such bins. */
void est_compare_throughput(const int64_t *ts_ns,
                            const double *len,
                            size_t n,
                            int64_t bin_ns,
                            double *mean_bps,
                            double *cv);

/* Bursts of n packets whose n - 1 gaps (s, in time order) are iat_s: runs joined by gaps below
 * gap_s. Fills t->bursts, burst_mean, burst_p95 and burst_max. Returns FM_OK or FM_ENOMEM. */
FM_MUST_CHECK int est_compare_bursts(
    const double *iat_s, size_t n, double gap_s, struct est_cmp_time *t, struct fm_err *err);

#endif
