/* transceiver/packet.c - the UDP payload of a synthetic packet: RTP header, probe, filler.
 * specification: RFC 3550 5.1 (RTP fixed header). Every multi-byte field is written and read
 * big-endian a byte at a time, so the layout never depends on the host or on struct padding.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |V=2|P|X|  CC=0 |M|     PT      |       sequence number         |  RTP (12 bytes)
 *  |                           timestamp                           |
 *  |                             SSRC                              |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      probe magic "FMPR"                       |  probe (20 bytes)
 *  |    version    |     flags     |            stream             |
 *  |                        probe sequence                         |
 *  |                   send time, ns (64 bits)                     |
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        filler ...                             |
 */
#include "transceiver/packet.h"

#include "common/buf.h"

#include <string.h>

#define RTP_VERSION 2

static void put_be16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static void put_be64(uint8_t *b, uint64_t v)
{
    put_be32(b, (uint32_t)(v >> 32));
    put_be32(b + 4, (uint32_t)v);
}

int trx_payload_has_probe(uint32_t payload_len)
{
    return payload_len >= TRX_PROBE_OFFSET + TRX_PROBE_LEN;
}

size_t trx_payload_build(const struct trx_pkt *p, const uint8_t *original, uint8_t *buf, size_t cap)
{
    size_t len = p->payload_len;
    if (len > cap)
        len = cap;
    if (!p->rtp && original) {
        memcpy(buf, original, len);
        return len;
    }
    /* The filler is a counting pattern rather than zeros, so that a link or a VPN that
     * compresses does not make synthetic packets cheaper to carry than real video. */
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 0x9du + 0x5bu);
    if (!p->rtp || len < TRX_RTP_HDR_LEN)
        return len;
    buf[0] = RTP_VERSION << 6; /* no padding, no extension, no CSRC */
    buf[1] = (uint8_t)((p->rtp_marker ? 0x80u : 0u) | (p->rtp_pt & 0x7fu));
    put_be16(buf + 2, p->rtp_seq);
    put_be32(buf + 4, p->rtp_ts);
    put_be32(buf + 8, p->rtp_ssrc);
    if (!trx_payload_has_probe((uint32_t)len))
        return len;
    uint8_t *q = buf + TRX_PROBE_OFFSET;
    put_be32(q, TRX_PROBE_MAGIC);
    q[4] = TRX_PROBE_VERSION;
    q[5] = 0; /* flags: none defined yet */
    /* The probe's stream field is 16 bits; more streams than that wrap, which only costs the
     * receiver its per-stream split, not the packets. */
    put_be16(q + 6, (uint16_t)p->stream);
    put_be32(q + 8, p->probe_seq);
    put_be64(q + 12, 0);
    return len;
}

void trx_probe_stamp(uint8_t *payload, int64_t send_time_ns)
{
    uint8_t *q = payload + TRX_PROBE_OFFSET;
    /* A caller that stamps a payload without a probe (a packet copied from a capture) would
     * otherwise overwrite real bytes: the magic makes the mistake harmless. */
    if (q[0] != 0x46 || q[1] != 0x4d || q[2] != 0x50 || q[3] != 0x52)
        return;
    put_be64(q + 12, (uint64_t)send_time_ns);
}

int trx_probe_decode(const uint8_t *payload, size_t len, struct trx_probe *out)
{
    struct fm_rd r;
    uint8_t b0 = 0, version = 0, flags = 0;
    uint16_t stream = 0;
    uint32_t magic = 0, seq = 0, hi = 0, lo = 0;

    fm_rd_init(&r, payload, len);
    /* The probe sits right after a fixed RTP header: anything else is not ours. */
    if (fm_rd_u8(&r, &b0) < 0 || b0 >> 6 != RTP_VERSION || (b0 & 0x0f) != 0)
        return 0;
    if (fm_rd_skip(&r, TRX_PROBE_OFFSET - 1) < 0 || fm_rd_be32(&r, &magic) < 0 ||
        fm_rd_u8(&r, &version) < 0 || fm_rd_u8(&r, &flags) < 0 || fm_rd_be16(&r, &stream) < 0 ||
        fm_rd_be32(&r, &seq) < 0 || fm_rd_be32(&r, &hi) < 0 || fm_rd_be32(&r, &lo) < 0)
        return 0;
    /* A newer probe version may lay its fields out differently: do not guess. */
    if (magic != TRX_PROBE_MAGIC || version != TRX_PROBE_VERSION)
        return 0;
    uint64_t t = (uint64_t)hi << 32 | lo;
    if (t > (uint64_t)INT64_MAX)
        return 0;
    out->stream = stream;
    out->seq = seq;
    out->send_time_ns = (int64_t)t;
    return 1;
}
