/* packet/rtp.c - RTP headers, the payload types' clock rates and flowmimic's probe.
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
#include "packet/rtp.h"

#include "common/buf.h"
#include "common/inet.h"

#include <string.h>

#define RTP_VERSION 2

static void put_be64(uint8_t *b, uint64_t v)
{
    fm_put_be32(b, (uint32_t)(v >> 32));
    fm_put_be32(b + 4, (uint32_t)v);
}

int pkt_payload_has_probe(uint32_t payload_len)
{
    return payload_len >= PKT_PROBE_OFFSET + PKT_PROBE_LEN;
}

void pkt_rtp_write(uint8_t *buf, uint8_t pt, int marker, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    buf[0] = RTP_VERSION << 6; /* no padding, no extension, no CSRC */
    buf[1] = (uint8_t)((marker ? 0x80u : 0u) | (pt & 0x7fu));
    fm_put_be16(buf + 2, seq);
    fm_put_be32(buf + 4, ts);
    fm_put_be32(buf + 8, ssrc);
}

void pkt_probe_write(uint8_t *payload, uint16_t stream, uint32_t seq)
{
    uint8_t *q = payload + PKT_PROBE_OFFSET;
    fm_put_be32(q, PKT_PROBE_MAGIC);
    q[4] = PKT_PROBE_VERSION;
    q[5] = 0; /* flags: none defined yet */
    fm_put_be16(q + 6, stream);
    fm_put_be32(q + 8, seq);
    put_be64(q + 12, 0);
}

void pkt_probe_stamp(uint8_t *payload, int64_t send_time_ns)
{
    uint8_t *q = payload + PKT_PROBE_OFFSET;
    /* A caller that stamps a payload without a probe (a packet copied from a capture) would
     * otherwise overwrite real bytes: the magic makes the mistake harmless. */
    if (q[0] != 0x46 || q[1] != 0x4d || q[2] != 0x50 || q[3] != 0x52)
        return;
    put_be64(q + 12, (uint64_t)send_time_ns);
}

int pkt_probe_decode(const uint8_t *payload, size_t len, struct pkt_probe *out)
{
    struct fm_rd r;
    uint8_t b0 = 0, version = 0, flags = 0;
    uint16_t stream = 0;
    uint32_t magic = 0, seq = 0, hi = 0, lo = 0;

    fm_rd_init(&r, payload, len);
    /* The probe sits right after a fixed RTP header: anything else is not ours. */
    if (fm_rd_u8(&r, &b0) < 0 || b0 >> 6 != RTP_VERSION || (b0 & 0x0f) != 0)
        return 0;
    if (fm_rd_skip(&r, PKT_PROBE_OFFSET - 1) < 0 || fm_rd_be32(&r, &magic) < 0 ||
        fm_rd_u8(&r, &version) < 0 || fm_rd_u8(&r, &flags) < 0 || fm_rd_be16(&r, &stream) < 0 ||
        fm_rd_be32(&r, &seq) < 0 || fm_rd_be32(&r, &hi) < 0 || fm_rd_be32(&r, &lo) < 0)
        return 0;
    /* A newer probe version may lay its fields out differently: do not guess. */
    if (magic != PKT_PROBE_MAGIC || version != PKT_PROBE_VERSION)
        return 0;
    uint64_t t = (uint64_t)hi << 32 | lo;
    if (t > (uint64_t)INT64_MAX)
        return 0;
    out->stream = stream;
    out->seq = seq;
    out->send_time_ns = (int64_t)t;
    return 1;
}

int pkt_rtp_clock_fixed(uint8_t pt)
{
    /* RFC 3551 tables 4 and 5: audio 0 and 3-18 (1 and 2 are reserved), video 25, 26, 28
     * and 31-34. */
    return pt == 0 || (pt >= 3 && pt <= 18) || pt == 25 || pt == 26 || pt == 28 ||
           (pt >= 31 && pt <= 34);
}

uint32_t pkt_rtp_clock_rate(uint8_t pt)
{
    switch (pt) {
    case 0:  /* PCMU */
    case 3:  /* GSM */
    case 4:  /* G723 */
    case 5:  /* DVI4 */
    case 7:  /* LPC */
    case 8:  /* PCMA */
    case 9:  /* G722: 8000 by RFC 3551's own erratum-preserving rule */
    case 12: /* QCELP */
    case 13: /* CN */
    case 15: /* G728 */
    case 18: /* G729 */
        return 8000;
    case 6:
        return 16000;
    case 10:
    case 11:
        return 44100;
    case 16:
        return 11025;
    case 17:
        return 22050;
    default:
        /* 14 (MPA), 25-34 (video) and the dynamic range 96-127 are 90 kHz; dynamic types
         * are a guess, which is why the probe's jitter exists. */
        return 90000;
    }
}
