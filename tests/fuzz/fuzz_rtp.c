/* tests/fuzz/fuzz_rtp.c - UDP payloads with arrival times, as the receiver sees them, into the
 * per-stream statistics engine (transceiver/receiver.h: trx_rstats_add).
 *
 * The first byte picks the start time (0, now, near year 2262) and whether the engine keeps
 * at most 3 streams (so that the cap is crossed); then records of 10 bytes:
 *   0     flags: bits 0-1 the stream (source port), bit 2 a probe, bit 3 raw payload, bits 4-6
 *         the time step's unit (ns, us, ms, s, 2^32 ns, backwards in us, absolute << 47,
 *         none), bit 7 the SSRC's low bit
 *   1-2   the time step
 *   3-4   RTP sequence number
 *   5     the probe's sequence number above the RTP one (probe seq = b5 << 16 | RTP seq)
 *   6     marker and payload type (200..204 is RTCP)
 *   7     payload length beyond 12 (raw: the number of input bytes taken as the payload)
 *   8-9   the probe's send time before the arrival, in us (0xffff: a time past INT64_MAX)
 * What must hold: every packet is counted once (streams + RTCP + over the cap = packets fed);
 * per RTP stream, distinct = packets - duplicates - stray and lost = expected - distinct
 * when positive, else 0; percentiles ordered and inside [min, max]; totals agree with the
 * streams; the engine's memory within its stated bound; and no UB (ASan, UBSan). */
#include "common/inet.h"
#include "tests/fuzz/fuzz.h"
#include "transceiver/packet.h"
#include "transceiver/receiver.h"

#include <math.h>
#include <string.h>

#define REC 10

/* The next arrival time from a step, never negative except through "absolute" (which the
 * engine must take as 0). */
static int64_t step_time(int64_t t, unsigned unit, uint16_t v)
{
    static const int64_t mul[] = {1, 1000, 1000000, 1000000000, (int64_t)1 << 32};
    if (unit < 5) {
        int64_t d = (int64_t)v * mul[unit];
        return t > INT64_MAX - d ? INT64_MAX : t + d;
    }
    if (unit == 5)
        return t > (int64_t)v * 1000 ? t - (int64_t)v * 1000 : 0;
    if (unit == 6)
        return (int64_t)((uint64_t)v << 47); /* may read as negative */
    return t;
}

static void check_stream(const struct trx_stream_stats *s)
{
    fuzz_check(s->packets > 0, "rtp: a stream without packets", NULL);
    fuzz_check(s->len_min <= s->len_p50 && s->len_p50 <= s->len_p90 && s->len_p90 <= s->len_p99 &&
                   s->len_p99 <= s->len_max,
               "rtp: length percentiles", "out of order");
    if (s->packets > 1)
        fuzz_check(0 <= s->iat_p50_ns && s->iat_p50_ns <= s->iat_p90_ns &&
                       s->iat_p90_ns <= s->iat_p99_ns && s->iat_p99_ns <= s->iat_max_ns,
                   "rtp: gap percentiles", "out of order");
    fuzz_check(s->last_ns >= s->first_ns, "rtp: last arrival", "before the first");
    if (!s->rtp) {
        fuzz_check(s->expected == 0 && s->lost == 0 && s->stray == 0 && s->duplicates == 0,
                   "rtp: sequence counts", "on a stream that is not RTP");
        return;
    }
    fuzz_check(s->duplicates + s->stray <= s->packets, "rtp: duplicates + stray", "above packets");
    fuzz_check(s->reordered <= s->packets && s->restarts < s->packets, "rtp: reordered/restarts",
               "above packets");
    uint64_t distinct = s->packets - s->duplicates - s->stray;
    uint64_t lost = s->expected > distinct ? s->expected - distinct : 0;
    fuzz_check(s->lost == lost, "rtp: lost", "not expected - distinct");
    fuzz_check(s->expected >= 1, "rtp: expected", "0 on an RTP stream");
    if (s->probes > 0) {
        fuzz_check(s->owd_min_ns <= s->owd_max_ns, "rtp: one-way delay", "min above max");
        fuzz_check(!isnan(s->owd_mean_ns) && !isnan(s->probe_jitter_ms), "rtp: probe stats", "NaN");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct trx_rstats_opts o;
    trx_rstats_opts_init(&o);
    if (data[0] & 0x80)
        o.max_streams = 3;
    if (data[0] & 0x40)
        o.clock_rate_hz = 8000;
    static const int64_t starts[] = {0, 1700000000LL * 1000000000LL, INT64_MAX - 1000000000LL};
    int64_t t = starts[(data[0] & 0x3) % 3];
    struct trx_rstats *rs = trx_rstats_new(&o);
    if (!rs)
        return 0;
    size_t off = 1;
    uint64_t fed = 0;
    uint8_t payload[12 + 256];
    while (off + REC <= size) {
        const uint8_t *r = data + off;
        off += REC;
        struct trx_addr a;
        memset(&a, 0, sizeof(a));
        a.ip_version = 4;
        a.src[0] = 198;
        a.src[1] = 18;
        a.dst[0] = 198;
        a.dst[1] = 18;
        a.dst[3] = 2;
        a.sport = (uint16_t)(40000 + (r[0] & 3));
        a.dport = 5004;
        t = step_time(t, (r[0] >> 4) & 7, (uint16_t)(r[1] << 8 | r[2]));
        const uint8_t *p = payload;
        size_t len = 0;
        if (r[0] & 0x08) {
            /* Raw: the next r[7] input bytes (or what is left) are the payload. */
            len = r[7];
            if (len > size - off)
                len = size - off;
            p = data + off;
            off += len;
        } else {
            len = 12 + (size_t)r[7];
            memset(payload, 0x5a, sizeof(payload));
            payload[0] = 0x80;
            payload[1] = r[6];
            fm_put_be16(payload + 2, (unsigned)(r[3] << 8 | r[4]));
            fm_put_be32(payload + 4, (uint32_t)(r[3] << 8 | r[4]) * 3000u);
            fm_put_be32(payload + 8, 0x10000u + (r[0] >> 7));
            if ((r[0] & 0x04) && len >= PKT_RTP_HDR_LEN + PKT_PROBE_LEN) {
                uint16_t back = (uint16_t)(r[8] << 8 | r[9]);
                uint64_t send = back == 0xffff             ? UINT64_MAX
                                : t > (int64_t)back * 1000 ? (uint64_t)(t - (int64_t)back * 1000)
                                                           : 0;
                fm_put_be32(payload + 12, PKT_PROBE_MAGIC);
                payload[16] = PKT_PROBE_VERSION;
                payload[17] = 0;
                fm_put_be16(payload + 18, r[0] & 3);
                fm_put_be32(payload + 20, (uint32_t)r[5] << 16 | (uint32_t)(r[3] << 8 | r[4]));
                fm_put_be32(payload + 24, (uint32_t)(send >> 32));
                fm_put_be32(payload + 28, (uint32_t)send);
            }
        }
        /* The engine reads min(cap, len) bytes; a datagram may claim more than was kept. */
        size_t claimed = len + ((r[0] & 0x08) && (r[6] & 1) ? (size_t)r[8] * 256 : 0);
        struct fm_err err = {0};
        int rc = trx_rstats_add(rs, &a, p, len, claimed, t, &err);
        if (rc < 0) {
            fuzz_check_err(rc, &err, "rtp: trx_rstats_add");
            fuzz_check(rc == FM_ENOMEM, "rtp: trx_rstats_add", "fails other than FM_ENOMEM");
            break;
        }
        fed++;
    }

    struct trx_rstats_totals tot;
    trx_rstats_totals(rs, &tot);
    size_t n = trx_rstats_count(rs);
    fuzz_check(n == tot.streams && n <= o.max_streams, "rtp: stream count", NULL);
    fuzz_check(tot.packets + tot.rtcp + tot.over_cap == fed, "rtp: packets",
               "streams + RTCP + over the cap differ from the packets fed");
    uint64_t packets = 0;
    uint64_t lost = 0;
    for (size_t i = 0; i < n; i++) {
        struct trx_stream_stats s;
        trx_rstats_stream(rs, i, &s);
        check_stream(&s);
        packets += s.packets;
        lost += s.lost;
    }
    fuzz_check(packets == tot.packets && lost == tot.lost, "rtp: totals",
               "differ from the sum of the streams");
    fuzz_check(trx_rstats_mem_bytes(rs) <=
                   sizeof(size_t) * 4 * 16 + (n + 8) * trx_rstats_stream_mem_max() + 4096,
               "rtp: memory", "above the stated bound");
    trx_rstats_free(rs);
    return 0;
}
