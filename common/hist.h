/* common/hist.h - histograms of non-negative integers in bounded memory, for percentiles of
 * long series (gaps between packets in ns, payload lengths) that must not grow with the
 * number of values.
 *
 * Log-linear buckets, as in HdrHistogram: with b sub-bucket bits, values below 2^(b+1) have
 * a bucket each (exact); above, each power of two [2^e, 2^(e+1)) is cut into 2^b buckets of
 * width 2^(e-b). A percentile is read as the middle of its bucket (clamped to the smallest
 * and largest value added, which are kept exactly), so it is within a relative error of
 * 2^-(b+1) of the exact nearest-rank percentile: 0.098% for b = 9, 0.049% for b = 10.
 * Buckets are allocated one power of two at a time, when a value first falls in it: a
 * histogram holds at most (64 - b) * 2^b counters of 8 bytes (fm_hist_mem_max()), however
 * many values it is given, and usually far fewer (only the powers of two seen).
 *
 * Two histograms with the same b merge exactly (fm_hist_merge(): the merge of the
 * histograms of two series is the histogram of their union), so that per-thread or per-rank
 * histograms can be combined.
 *
 * Ownership: fm_hist_init() cannot fail and allocates nothing; fm_hist_fini() frees the
 * buckets. A zeroed struct is not initialised. Not thread-safe; no globals. */
#ifndef COMMON_HIST_H
#define COMMON_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define FM_HIST_MIN_BITS 1
#define FM_HIST_MAX_BITS 16
#define FM_HIST_CHUNKS   64 /* one per power of two, at most; 64 - b are used */

struct fm_hist {
    unsigned sub_bits;               /* b */
    uint64_t count;                  /* values added */
    int64_t min, max;                /* exact; 0 when count is 0 */
    size_t bytes;                    /* heap held by the buckets */
    uint64_t *chunk[FM_HIST_CHUNKS]; /* 2^b counters each, NULL until used */
};

/* An empty histogram with sub_bits buckets per power of two (clamped to
 * FM_HIST_MIN_BITS..FM_HIST_MAX_BITS). */
void fm_hist_init(struct fm_hist *h, unsigned sub_bits);

/* Free the buckets; h is then empty and may be used again. */
void fm_hist_fini(struct fm_hist *h);

/* Add n values v (negative values count as 0). Returns FM_OK, or FM_ENOMEM when a new
 * bucket range cannot be allocated (nothing is then added). */
FM_MUST_CHECK int fm_hist_add_n(struct fm_hist *h, int64_t v, uint64_t n);

/* Make sure the buckets for v are allocated, so that adding v cannot fail. Returns FM_OK or
 * FM_ENOMEM. */
FM_MUST_CHECK int fm_hist_reserve(struct fm_hist *h, int64_t v);

/* fm_hist_add_n(h, v, 1). */
FM_MUST_CHECK int fm_hist_add(struct fm_hist *h, int64_t v);

/* The nearest-rank percentile p (0 < p <= 100: the smallest value with at least p% of the
 * values at or below it), within fm_hist_rel_error() of it; 0 when the histogram is empty. */
int64_t fm_hist_percentile(const struct fm_hist *h, double p);

/* Add every value of src to dst. Returns FM_OK, FM_EINVAL (different sub_bits; dst is
 * unchanged) or FM_ENOMEM (dst unchanged). */
FM_MUST_CHECK int fm_hist_merge(struct fm_hist *dst, const struct fm_hist *src, struct fm_err *err);

/* The bound on a percentile's relative error for sub_bits: 2^-(sub_bits + 1). */
double fm_hist_rel_error(unsigned sub_bits);

/* Heap bytes held now, and the most a histogram of sub_bits can ever hold. */
size_t fm_hist_mem_bytes(const struct fm_hist *h);
size_t fm_hist_mem_max(unsigned sub_bits);

#endif
