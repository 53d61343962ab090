/* transceiver/packet.c - the UDP payload of a synthetic packet: RTP header and probe
 * (packet/rtp.h), then filler. */
#include "transceiver/packet.h"

#include <string.h>

#include "packet/rtp.h"

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
    if (!p->rtp || len < PKT_RTP_HDR_LEN)
        return len;
    pkt_rtp_write(buf, p->rtp_pt, p->rtp_marker, p->rtp_seq, p->rtp_ts, p->rtp_ssrc);
    /* The probe's stream field is 16 bits; more streams than that wrap, which only costs the
     * receiver its per-stream split, not the packets. */
    if (pkt_payload_has_probe((uint32_t)len))
        pkt_probe_write(buf, (uint16_t)p->stream, p->probe_seq);
    return len;
}
