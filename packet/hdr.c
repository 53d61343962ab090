/* packet/hdr.c - IP and UDP headers. */
#include "packet/hdr.h"

#include <string.h>

#include "common/inet.h"

size_t pkt_ip_write(const struct pkt_ip_fields *f, size_t l4_len, uint8_t *out, uint32_t *pseudo)
{
    uint32_t sum = 0;
    size_t hlen;
    if (f->ip_version == 6) {
        hlen = PKT_IP6_HDR_LEN;
        memset(out, 0, hlen);
        fm_put_be32(out, 6u << 28 | (uint32_t)f->tos << 20); /* flow label 0 */
        fm_put_be16(out + 4, (unsigned)(l4_len > 0xffff ? 0xffff : l4_len));
        out[6] = f->proto;
        out[7] = f->ttl;
        memcpy(out + 8, f->src, 16);
        memcpy(out + 24, f->dst, 16);
        sum = fm_inet_csum_add(sum, f->src, 16);
        sum = fm_inet_csum_add(sum, f->dst, 16);
    } else {
        hlen = PKT_IP4_HDR_LEN;
        size_t total = hlen + l4_len;
        memset(out, 0, hlen);
        out[0] = 0x45; /* version 4, 5 words, no options */
        out[1] = f->tos;
        fm_put_be16(out + 2, (unsigned)(total > 0xffff ? 0xffff : total));
        /* Don't Fragment is set, so the identification only has to vary (RFC 6864). */
        fm_put_be16(out + 4, f->id);
        fm_put_be16(out + 6, 0x4000);
        out[8] = f->ttl;
        out[9] = f->proto;
        memcpy(out + 12, f->src, 4);
        memcpy(out + 16, f->dst, 4);
        fm_put_be16(out + 10, fm_inet_csum_fold(fm_inet_csum_add(0, out, hlen)));
        sum = fm_inet_csum_add(sum, f->src, 4);
        sum = fm_inet_csum_add(sum, f->dst, 4);
    }
    *pseudo = sum + f->proto + (uint32_t)l4_len;
    return hlen;
}

void pkt_udp_write(uint8_t *udp,
                   uint16_t sport,
                   uint16_t dport,
                   uint16_t len_field,
                   const uint8_t *payload,
                   size_t cap,
                   uint32_t pseudo,
                   int checksum)
{
    fm_put_be16(udp, sport);
    fm_put_be16(udp + 2, dport);
    fm_put_be16(udp + 4, len_field);
    fm_put_be16(udp + 6, 0);
    if (!checksum)
        return;
    uint32_t acc = fm_inet_csum_add(pseudo, udp, PKT_UDP_HDR_LEN);
    acc = fm_inet_csum_add(acc, payload, cap);
    uint16_t c = fm_inet_csum_fold(acc);
    fm_put_be16(udp + 6, c ? c : 0xffffu);
}

size_t pkt_udp_frame_write(uint8_t *out,
                           const uint8_t *macs,
                           const struct pkt_ip_fields *f,
                           uint16_t sport,
                           uint16_t dport,
                           const uint8_t *payload,
                           size_t len)
{
    size_t off = 0;
    if (macs) {
        memcpy(out, macs, 12);
        fm_put_be16(out + 12, f->ip_version == 6 ? 0x86ddu : 0x0800u);
        off = PKT_ETH_HDR_LEN;
    }
    struct pkt_ip_fields udp_f = *f;
    udp_f.proto = 17;
    size_t udp_len = PKT_UDP_HDR_LEN + len;
    uint32_t pseudo = 0;
    off += pkt_ip_write(&udp_f, udp_len, out + off, &pseudo);
    uint8_t *udp = out + off;
    if (len)
        memcpy(udp + PKT_UDP_HDR_LEN, payload, len);
    /* A datagram past 64 KiB is not one; its length field says 0 only in an IPv6 jumbogram,
     * which flowmimic never writes (TRX_MAX_PAYLOAD keeps below). */
    pkt_udp_write(udp, sport, dport, (uint16_t)udp_len, udp + PKT_UDP_HDR_LEN, len, pseudo, 1);
    return off + udp_len;
}
