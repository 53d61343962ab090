/* transceiver/sender.h - the send loop: packets from a source to a sink at their deadlines.
 * Deadline of packet i = start + offset_i (absolute: error never accumulates). The next
 * packet's payload is built while waiting for its deadline, and only the probe's send time is
 * written at the last moment, so building never delays a send. The loop never logs per packet:
 * it counts lateness (send time - deadline) in a histogram and reports at the end. */
#ifndef TRANSCEIVER_SENDER_H
#define TRANSCEIVER_SENDER_H

#include <signal.h>
#include <stdint.h>

#include "common/err.h"
#include "transceiver/sink.h"
#include "transceiver/source.h"
#include "transceiver/timer.h"

struct trx_lat_hist;

struct trx_send_opts {
    enum trx_timer_mode timer;     /* default hybrid */
    int64_t spin_ns;               /* hybrid: spin over the last stretch (default 200 us) */
    uint64_t count;                /* stop after this many packets, 0 = no limit */
    int64_t duration_ns;           /* stop at this offset, 0 = no limit */
    double max_rate_pps;           /* cap: at least 1/max_rate between sends, 0 = none */
    int64_t late_ns;               /* a packet sent later than this is counted late (100 us) */
    int64_t probe_clock_offset_ns; /* added to the clock's time in probes (default 0); cli/
                                    * sets CLOCK_REALTIME - CLOCK_MONOTONIC so that a receiver
                                    * on another host with a synced clock can compare */
    struct trx_lat_hist *lateness; /* not NULL: gets the lateness histogram at the end, so
                                    * that the runs of several ranks can be merged bin by bin
                                    * (transceiver/sender_int.h); default NULL */
};

void trx_send_opts_init(struct trx_send_opts *o);

struct trx_send_stats {
    uint64_t packets, bytes; /* sent (payload bytes) */
    uint64_t errors;         /* sends that failed (counted, the loop goes on) */
    uint64_t late;           /* sent later than late_ns after the deadline */
    int64_t elapsed_ns;      /* from start to the last send */
    int64_t late_p50_ns, late_p99_ns, late_max_ns; /* send lateness */
    int64_t late_max_recent_ns; /* the worst since the previous status callback (interval
                                 * reports); at the end, since the last one */
    double mean_pps, mean_mbps;
    int64_t first_error_code;
    char first_error[256]; /* the first failed send's reason, or "" */
    int cut_short;         /* duration_ns ran out on the clock while the schedule still had
                            * packets due before it: the sender had fallen behind */
    int64_t behind_ns;     /* then: how far the next packet's deadline was behind the clock */
};

/* Most packets late, or cut short by the clock: the rate asked for was not reached. A run
 * of fewer than TRX_BEHIND_MIN_PACKETS is judged by cut_short alone. */
#define TRX_BEHIND_MIN_PACKETS 20
FM_MUST_CHECK int trx_send_behind(const struct trx_send_stats *s);

/* Called from the loop about once a second, between packets (for a status line). */
typedef void (*trx_status_fn)(const struct trx_send_stats *s, void *arg);

/* Run until the source ends, count or duration is reached, or *stop. duration_ns bounds
 * both the schedule (no packet whose deadline is at or past it) and the clock: a sender
 * that has fallen behind stops when duration_ns has passed since the start, whatever is
 * still due (st->cut_short). Fills *st in every case.
 * Returns FM_OK, FM_EINTR (stopped), or an error from the source or sink (send failures
 * are counted, not fatal, unless every send fails: then FM_ENET after 100). */
FM_MUST_CHECK int trx_send_run(struct trx_source *src,
                               struct trx_sink *sink,
                               const struct trx_send_opts *o,
                               const struct trx_clock *clk,
                               struct trx_send_stats *st,
                               trx_status_fn status,
                               void *arg,
                               volatile sig_atomic_t *stop,
                               struct fm_err *err);

#endif
