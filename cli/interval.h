/* cli/interval.h - interval reports, as iperf3 -i gives them: one line per interval while a
 * long run goes (packets, Mbit/s, and what the command adds: lateness for replay, loss and
 * jitter for receive), and the same intervals as a JSON array in --json. The command calls
 * cli_interval_tick() with its running totals whenever it can (about once a second); a line
 * is due each time the elapsed time crosses a multiple of the interval, and covers exactly
 * what changed since the previous line. */
#ifndef CLI_INTERVAL_H
#define CLI_INTERVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/jw.h"
#include "common/err.h"

/* Running totals since the start. Fields a command does not measure stay at their "none"
 * value (has_late / has_loss = 0). */
struct cli_interval_totals {
    int64_t elapsed_ns;
    uint64_t packets, bytes;
    int has_late;        /* replay: lateness */
    uint64_t late;       /* packets sent more than the late bound after their deadline */
    int64_t late_max_ns; /* the worst lateness since the previous tick */
    int has_loss;        /* receive: loss and jitter */
    uint64_t lost;       /* expected - received, RTP sequence (never negative) */
    double jitter_ms;    /* the RFC 3550 jitter now, worst stream */
};

/* One finished interval. */
struct cli_interval_rec {
    double start_s, end_s;
    uint64_t packets, bytes;
    uint64_t late;
    int64_t late_max_ns;
    uint64_t lost;
    double jitter_ms;
};

struct cli_interval {
    int64_t every_ns; /* 0: off */
    FILE *text;       /* lines go here (NULL: none, e.g. with --json) */
    const char *label;
    struct cli_interval_totals prev; /* totals at the end of the last interval */
    int64_t late_max_ns;             /* worst lateness in the interval so far */
    struct cli_interval_rec *recs;   /* kept for --json */
    size_t n, cap;
    int keep;      /* keep records for --json */
    int oom;       /* a record could not be kept: the JSON array says so */
    size_t closed; /* intervals closed */
};

/* every_ns 0 turns reports off (every call is then a no-op). text: where lines go, or NULL;
 * keep: keep the records for cli_interval_json(). */
void cli_interval_init(struct cli_interval *iv, int64_t every_ns, FILE *text, int keep);
void cli_interval_fini(struct cli_interval *iv);

/* Totals now; closes every interval whose end has passed (each gets what changed since the
 * last, so an interval with no tick inside it shows zeros). */
void cli_interval_tick(struct cli_interval *iv, const struct cli_interval_totals *t);

/* At the end of the run: closes the last, partial, interval (when it holds anything). */
void cli_interval_finish(struct cli_interval *iv, const struct cli_interval_totals *t);

/* The records as the JSON array "intervals" (nothing when reports are off). */
void cli_interval_json(const struct cli_interval *iv, struct jw *w);

/* Parse an interval in seconds (0.1 to 3600). */
FM_MUST_CHECK int
cli_interval_parse(const char *arg, const char *what, int64_t *out_ns, struct fm_err *err);

#endif
