/* common/hist.c - log-linear histograms in bounded memory (the layout of HdrHistogram:
 * G. Tene, "HdrHistogram: A High Dynamic Range Histogram"). */
#include "common/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fm_hist_init(struct fm_hist *h, unsigned sub_bits)
{
    memset(h, 0, sizeof(*h));
    if (sub_bits < FM_HIST_MIN_BITS)
        sub_bits = FM_HIST_MIN_BITS;
    if (sub_bits > FM_HIST_MAX_BITS)
        sub_bits = FM_HIST_MAX_BITS;
    h->sub_bits = sub_bits;
}

void fm_hist_fini(struct fm_hist *h)
{
    unsigned b = h->sub_bits;
    for (size_t c = 0; c < FM_HIST_CHUNKS; c++)
        free(h->chunk[c]);
    fm_hist_init(h, b);
}

static size_t chunk_bytes(unsigned b)
{
    return ((size_t)1 << b) * sizeof(uint64_t);
}

/* Chunk 0 holds 0 .. 2^b - 1 and chunk 1 2^b .. 2^(b+1) - 1, one value a bucket; chunk c >= 1
 * holds [2^(b+c-1), 2^(b+c)) in buckets of 2^(c-1). */
static void locate(unsigned b, uint64_t v, size_t *c, size_t *sub)
{
    uint64_t m = (uint64_t)1 << b;
    if (v < m) {
        *c = 0;
        *sub = (size_t)v;
        return;
    }
    unsigned e = 63;
    while (!(v >> e))
        e--;
    unsigned shift = e - b; /* the chunk's bucket width is 2^shift */
    *c = shift + 1;
    *sub = (size_t)((v >> shift) - m);
}

/* The smallest value of bucket (c, sub) and the bucket's width. */
static void bucket_range(unsigned b, size_t c, size_t sub, uint64_t *lo, uint64_t *width)
{
    uint64_t m = (uint64_t)1 << b;
    if (c == 0) {
        *lo = sub;
        *width = 1;
        return;
    }
    unsigned shift = (unsigned)c - 1;
    *lo = (m + sub) << shift;
    *width = (uint64_t)1 << shift;
}

/* The bucket of v, allocating its chunk when needed; NULL when out of memory. */
static uint64_t *bucket(struct fm_hist *h, int64_t v)
{
    size_t c = 0;
    size_t sub = 0;
    locate(h->sub_bits, (uint64_t)(v < 0 ? 0 : v), &c, &sub);
    if (!h->chunk[c]) {
        h->chunk[c] = calloc((size_t)1 << h->sub_bits, sizeof(uint64_t));
        if (!h->chunk[c])
            return NULL;
        h->bytes += chunk_bytes(h->sub_bits);
    }
    return &h->chunk[c][sub];
}

int fm_hist_reserve(struct fm_hist *h, int64_t v)
{
    return bucket(h, v) ? FM_OK : FM_ENOMEM;
}

int fm_hist_add_n(struct fm_hist *h, int64_t v, uint64_t n)
{
    if (n == 0)
        return FM_OK;
    if (v < 0)
        v = 0;
    uint64_t *b = bucket(h, v);
    if (!b)
        return FM_ENOMEM;
    *b += n;
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (h->count == 0 || v > h->max)
        h->max = v;
    h->count += n;
    return FM_OK;
}

int fm_hist_add(struct fm_hist *h, int64_t v)
{
    return fm_hist_add_n(h, v, 1);
}

int64_t fm_hist_percentile(const struct fm_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    /* Nearest rank: ceil(p / 100 * count), in long double so that whole percentages of
     * counts up to 2^64 come out exact. */
    long double r = ceill((long double)p * (long double)h->count / 100.0L);
    uint64_t rank = r < 1.0L ? 1 : r >= (long double)h->count ? h->count : (uint64_t)r;
    /* The first and last ranks are the extremes, which are kept exactly. */
    if (rank == 1)
        return h->min;
    if (rank == h->count)
        return h->max;
    size_t nsub = (size_t)1 << h->sub_bits;
    uint64_t seen = 0;
    for (size_t c = 0; c < FM_HIST_CHUNKS; c++) {
        if (!h->chunk[c])
            continue;
        for (size_t s = 0; s < nsub; s++) {
            seen += h->chunk[c][s];
            if (seen < rank)
                continue;
            uint64_t lo = 0;
            uint64_t width = 0;
            bucket_range(h->sub_bits, c, s, &lo, &width);
            /* The middle of the bucket, never outside the values seen. */
            int64_t v = (int64_t)(lo + (width - 1) / 2);
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max; /* not reached: the counters sum to count */
}

int fm_hist_merge(struct fm_hist *dst, const struct fm_hist *src, struct fm_err *err)
{
    if (dst->sub_bits != src->sub_bits)
        return fm_err_set(err, FM_EINVAL, "cannot merge histograms of %u and %u sub-bucket bits",
                          dst->sub_bits, src->sub_bits);
    if (src->count == 0)
        return FM_OK;
    /* Allocate first, so that a failure leaves dst as it was. */
    size_t nsub = (size_t)1 << src->sub_bits;
    for (size_t c = 0; c < FM_HIST_CHUNKS; c++) {
        if (!src->chunk[c] || dst->chunk[c])
            continue;
        dst->chunk[c] = calloc(nsub, sizeof(uint64_t));
        if (!dst->chunk[c])
            return fm_err_set(err, FM_ENOMEM, "merging histograms: out of memory");
        dst->bytes += chunk_bytes(dst->sub_bits);
    }
    for (size_t c = 0; c < FM_HIST_CHUNKS; c++) {
        if (!src->chunk[c])
            continue;
        for (size_t s = 0; s < nsub; s++)
            dst->chunk[c][s] += src->chunk[c][s];
    }
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->count == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    return FM_OK;
}

double fm_hist_rel_error(unsigned sub_bits)
{
    return ldexp(1.0, -(int)sub_bits - 1);
}

size_t fm_hist_mem_bytes(const struct fm_hist *h)
{
    return h->bytes;
}

size_t fm_hist_mem_max(unsigned sub_bits)
{
    return (size_t)(64 - sub_bits) * chunk_bytes(sub_bits);
}
