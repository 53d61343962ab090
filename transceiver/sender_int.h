/* transceiver/sender_int.h - internals of the send loop exposed for unit tests: the lateness
 * histogram. Log-linear buckets (HdrHistogram's layout): values below 64 ns are exact, above
 * that each power of two is split into 32 buckets, so any quantile is within 1/64 (1.6%) of
 * the true value and memory is fixed (15 KiB) however long the run. Not thread-safe. */
#ifndef TRANSCEIVER_SENDER_INT_H
#define TRANSCEIVER_SENDER_INT_H

#include <stdint.h>

#define TRX_HIST_SUB_BITS 5
#define TRX_HIST_SUB      (1 << TRX_HIST_SUB_BITS)
#define TRX_HIST_BUCKETS  ((64 - TRX_HIST_SUB_BITS) * TRX_HIST_SUB)

struct trx_lat_hist {
    uint64_t n;
    int64_t max_ns;
    uint64_t bucket[TRX_HIST_BUCKETS];
};

void trx_lat_hist_init(struct trx_lat_hist *h);

/* Count one value; negative values (a send before its deadline) count as 0. */
void trx_lat_hist_add(struct trx_lat_hist *h, int64_t v_ns);

/* The q-quantile (0 < q <= 1) as the midpoint of its bucket, never above the largest value
 * seen (which is returned exactly when the quantile falls on the last value); 0 when empty. */
int64_t trx_lat_hist_quantile(const struct trx_lat_hist *h, double q);

#endif
