/* tests/fuzz/fuzz_decode.c - one captured frame (packet/decode.h). The first byte picks
 * the link type among those pkt_decode() handles, the second adds to the wire length; the
 * rest is the frame, caplen its size, in a buffer of exactly that size. Every status is
 * fine; a decoded packet must be UDP or TCP over IPv4 or IPv6 with its payload inside the
 * frame, and pkt_decode_l4() must agree with pkt_decode() on everything but RTP. */
#include "packet/decode.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

static const int linktypes[] = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276};
#define N_LINKTYPES (sizeof(linktypes) / sizeof(linktypes[0]))

static void check_pkt(const struct pkt_decoded *p, uint32_t caplen, uint32_t wirelen)
{
    fuzz_check(p->ip_version == 4 || p->ip_version == 6, "decode: ip_version", NULL);
    fuzz_check(p->proto == 6 || p->proto == 17, "decode: proto", NULL);
    fuzz_check(p->payload_off <= caplen, "decode: payload_off", "past the captured bytes");
    fuzz_check(p->wire_len == wirelen, "decode: wire_len", "not the frame's");
    fuzz_check(p->proto == 17 || !p->rtp.valid, "decode: rtp", "on a TCP packet");
}

/* 1 when a and b agree on everything pkt_decode_l4() fills. */
static int same_l4(const struct pkt_decoded *a, const struct pkt_decoded *b)
{
    return a->ip_version == b->ip_version && a->proto == b->proto &&
           memcmp(a->src, b->src, sizeof(a->src)) == 0 &&
           memcmp(a->dst, b->dst, sizeof(a->dst)) == 0 && a->sport == b->sport &&
           a->dport == b->dport && a->payload_len == b->payload_len &&
           a->payload_off == b->payload_off && a->wire_len == b->wire_len && a->ttl == b->ttl &&
           a->dscp == b->dscp && a->tcp_flags == b->tcp_flags && a->vlan_depth == b->vlan_depth;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size - 2 > UINT32_MAX / 2)
        return 0;
    int linktype = linktypes[data[0] % N_LINKTYPES];
    uint32_t caplen = (uint32_t)(size - 2);
    uint32_t wirelen = caplen + (data[1] < 128 ? 0 : (uint32_t)data[1] * 8u);
    fuzz_check(pkt_linktype_supported(linktype), "decode: a link type", "not supported");

    /* A copy of exactly caplen bytes: nothing after the frame may be read. */
    uint8_t *frame = malloc(caplen ? caplen : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 2, caplen);
    struct pkt_decoded full, l4;
    memset(&full, 0, sizeof(full));
    memset(&l4, 0, sizeof(l4));
    enum pkt_decode_status s = pkt_decode(linktype, frame, caplen, wirelen, &full);
    enum pkt_decode_status s4 = pkt_decode_l4(linktype, frame, caplen, wirelen, &l4);
    fuzz_check((int)s >= 0 && (int)s < PKT_DEC_NSTATUS, "decode: status", "out of range");
    fuzz_check(pkt_decode_status_str(s) != NULL, "decode: status name", NULL);
    fuzz_check(s == s4, "decode: pkt_decode_l4 disagrees with pkt_decode", NULL);
    if (s == PKT_DEC_OK) {
        check_pkt(&full, caplen, wirelen);
        fuzz_check(!l4.rtp.valid && !l4.rtp.payload_type && !l4.rtp.marker && !l4.rtp.seq &&
                       !l4.rtp.timestamp && !l4.rtp.ssrc,
                   "decode: pkt_decode_l4", "filled RTP fields");
        fuzz_check(same_l4(&l4, &full), "decode: pkt_decode_l4",
                   "differs from pkt_decode beyond RTP");
    }
    /* A shorter wire than capture is what a broken file says: it must not matter more. */
    (void)pkt_decode(linktype, frame, caplen, caplen / 2, &full);
    free(frame);
    return 0;
}
