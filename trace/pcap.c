/* trace/pcap.c - JSON packet traces to and from captures; see pcap.h.
 * Specifications: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 768 (UDP), RFC 9293 (TCP), RFC 1071
 * (the Internet checksum), RFC 3550 section 5.1 (RTP), tcpdump.org LINKTYPE_RAW.
 *
 *   IPv4:  |0x45| tos | total length | id=0 | DF | ttl | proto | checksum | src | dst |
 *   IPv6:  |6| traffic class | flow label=0 | payload len | next hdr | hop limit | src | dst |
 *   UDP:   | src port | dst port | length | checksum |
 *   TCP:   | src port | dst port | seq | ack | 5<<4 | flags | window | checksum | urg=0 |
 *   RTP:   |V|P=0|X=0|CC=0|M| PT | sequence | timestamp | SSRC |
 */
#include "trace/pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/file.h"
#include "common/inet.h"
#include "packet/hdr.h"
#include "packet/pcap_in.h"
#include "packet/pcap_out.h"

#define NS_PER_SEC 1000000000LL

/* ---- capture -> trace ---- */

static uint16_t be16_at(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The TCP header of a decoded packet: pkt_decode() gives where the payload starts, and the
 * header ends there, 20 to 60 bytes earlier. The start is the offset whose ports, data offset
 * and flags agree with the decoded ones (all four must match, so option bytes cannot pass
 * for a header). Returns the offset, or -1 when none agrees. */
static long find_tcp_header(const uint8_t *d, uint32_t caplen, const struct pkt_decoded *k)
{
    for (uint32_t hlen = 20; hlen <= 60; hlen += 4) {
        if (k->payload_off < hlen || k->payload_off > caplen)
            break;
        const uint8_t *h = d + (k->payload_off - hlen);
        if (be16_at(h) == k->sport && be16_at(h + 2) == k->dport && (h[12] >> 4) * 4u == hlen &&
            h[13] == k->tcp_flags)
            return (long)(k->payload_off - hlen);
    }
    return -1;
}

/* One decoded packet into a trace packet (without its payload); *bytes is set to the payload
 * in the frame when it is to be kept and was captured whole, else to NULL. */
static void pkt_from_decoded(const struct pkt_raw *raw,
                             const struct pkt_decoded *k,
                             int with_payload,
                             struct trc_pkt *p,
                             const uint8_t **bytes,
                             uint64_t *cut)
{
    memset(p, 0, sizeof(*p));
    int64_t ts = raw->ts_ns;
    int64_t sec = ts / NS_PER_SEC;
    int64_t nsec = ts % NS_PER_SEC;
    if (nsec < 0) {
        sec--;
        nsec += NS_PER_SEC;
    }
    p->ts_sec = sec;
    p->ts_nsec = (uint32_t)nsec;
    p->proto = k->proto;
    p->family = k->ip_version;
    memcpy(p->src_ip, k->src, 16);
    memcpy(p->dst_ip, k->dst, 16);
    p->src_port = k->sport;
    p->dst_port = k->dport;
    p->ttl = k->ttl;
    p->dscp = k->dscp;
    p->payload_length = k->payload_len;
    p->udp_length = -1;
    const uint8_t *d = raw->data;
    int whole = k->payload_off <= raw->caplen && raw->caplen - k->payload_off >= k->payload_len;
    *bytes = with_payload && whole ? d + k->payload_off : NULL;
    if (with_payload && !whole)
        ++*cut;
    if (k->proto == 17) {
        /* The UDP header is the 8 bytes before the payload. */
        if (k->payload_off >= 8 && k->payload_off <= raw->caplen)
            p->udp_length = be16_at(d + k->payload_off - 4);
        /* The decoder already tells RTCP (RFC 5761) from RTP. */
        if (k->rtp.valid) {
            p->has_rtp = 1;
            p->rtp.version = 2; /* the decoder accepts nothing else */
            p->rtp.payload_type = k->rtp.payload_type;
            p->rtp.marker = k->rtp.marker;
            p->rtp.seq = k->rtp.seq;
            p->rtp.timestamp = k->rtp.timestamp;
            p->rtp.ssrc = k->rtp.ssrc;
        }
    } else {
        p->has_tcp = 1;
        p->tcp.flags = k->tcp_flags;
        long h = find_tcp_header(d, raw->caplen, k);
        if (h >= 0) {
            p->tcp.seq = be32_at(d + h + 4);
            p->tcp.ack = be32_at(d + h + 8);
            p->tcp.window = be16_at(d + h + 14);
        }
    }
}

int trc_from_pcap(const char *path,
                  const struct pkt_flow_key *flow,
                  int with_payload,
                  struct trc_trace *t,
                  struct trc_read_stats *stats,
                  uint64_t **frames,
                  const volatile sig_atomic_t *stop,
                  struct fm_err *err)
{
    struct pkt_pcap_in *in = NULL;
    uint64_t *fr = NULL;
    size_t fr_cap = 0;
    struct trc_trace tmp;
    struct trc_read_stats st;
    memset(&st, 0, sizeof(st));
    trc_trace_init(&tmp);
    int rc = pkt_pcap_open(path, &in, err);
    if (rc < 0)
        goto out;
    st.linktype = pkt_pcap_linktype(in);
    for (;;) {
        struct pkt_raw raw;
        struct pkt_decoded k;
        /* Ctrl-C: checked before each packet, and after a read that a signal broke (a pipe
         * that stalls). */
        int r = stop && *stop ? FM_EINTR : FM_OK;
        if (r == FM_OK)
            r = pkt_pcap_next(in, &raw, err);
        if (r < 0 && stop && *stop) {
            fm_err_set(err, FM_EINTR, "reading '%s': interrupted after %llu frames", path,
                       (unsigned long long)st.frames);
            r = FM_EINTR;
        }
        if (r < 0) {
            rc = r;
            goto out;
        }
        if (r == 0)
            break;
        st.frames++;
        enum pkt_decode_status s = pkt_decode(st.linktype, raw.data, raw.caplen, raw.wirelen, &k);
        st.status[s]++;
        if (s != PKT_DEC_OK)
            continue;
        if (flow) {
            struct pkt_endpoint a;
            struct pkt_endpoint b;
            struct pkt_flow_key key;
            memcpy(a.addr, k.src, 16);
            a.port = k.sport;
            memcpy(b.addr, k.dst, 16);
            b.port = k.dport;
            pkt_flow_key_make(&key, k.ip_version, k.proto, &a, &b);
            if (!pkt_flow_key_equal(&key, flow)) {
                st.other_flows++;
                continue;
            }
        }
        struct trc_pkt p;
        const uint8_t *bytes = NULL;
        pkt_from_decoded(&raw, &k, with_payload, &p, &bytes, &st.payload_cut);
        rc = trc_trace_append(&tmp, &p, err);
        if (rc < 0)
            goto out;
        if (bytes) {
            /* The trace owns its payloads: a copy, one byte at least so that a known empty
             * payload stays distinct from an unknown one (as trc_trace_append does). */
            struct trc_pkt *q = &tmp.pkts[tmp.n - 1];
            q->payload = malloc(p.payload_length ? p.payload_length : 1);
            if (!q->payload) {
                rc = fm_err_set(err, FM_ENOMEM, "payload of packet %zu", tmp.n - 1);
                goto out;
            }
            memcpy(q->payload, bytes, p.payload_length);
        }
        if (frames && (!fr || tmp.n > fr_cap)) {
            size_t cap = fr_cap ? 2 * fr_cap : 1024;
            uint64_t *nf = realloc(fr, cap * sizeof(*nf));
            if (!nf) {
                rc = fm_err_set(err, FM_ENOMEM, "frame numbers of '%s'", path);
                goto out;
            }
            fr = nf;
            fr_cap = cap;
        }
        if (fr)
            fr[tmp.n - 1] = st.frames;
        st.kept++;
    }
    trc_trace_fini(t);
    *t = tmp;
    trc_trace_init(&tmp);
    if (frames) {
        *frames = fr;
        fr = NULL;
    }
    rc = FM_OK;
out:
    if (rc < 0)
        trc_trace_fini(t);
    if (stats)
        *stats = st;
    free(fr);
    trc_trace_fini(&tmp);
    pkt_pcap_close(in);
    return rc;
}

/* ---- trace -> capture ---- */

int trc_frame_build(const struct trc_pkt *p, uint8_t *buf, size_t cap, size_t *len)
{
    size_t iph = p->family == 6 ? 40 : 20;
    size_t l4h = p->proto == 6 ? 20 : 8;
    size_t l4len = l4h + p->payload_length;
    size_t total = iph + l4len;
    /* The IP length fields are 16 bits: IPv4's counts its header, IPv6's does not. */
    if (total > cap || (p->family == 6 ? l4len : total) > 65535)
        return FM_EINVAL;
    memset(buf, 0, total);
    uint8_t *ip = buf;
    uint8_t *l4 = buf + iph;
    uint8_t *pl = l4 + l4h;
    unsigned tos = p->dscp >= 0 ? (unsigned)p->dscp << 2 : 0;
    unsigned ttl = p->ttl >= 0 ? (unsigned)p->ttl : 64;

    /* The payload: the trace's bytes, or an RTP header from the rtp fields, or zeros. */
    if (p->payload) {
        memcpy(pl, p->payload, p->payload_length);
    } else if (p->has_rtp) {
        uint8_t rtp[12];
        rtp[0] = (uint8_t)(p->rtp.version << 6);
        rtp[1] = (uint8_t)((p->rtp.marker ? 0x80u : 0u) | (p->rtp.payload_type & 0x7fu));
        fm_put_be16(rtp + 2, p->rtp.seq);
        fm_put_be32(rtp + 4, p->rtp.timestamp);
        fm_put_be32(rtp + 8, p->rtp.ssrc);
        memcpy(pl, rtp, p->payload_length < 12 ? p->payload_length : 12);
    }

    struct pkt_ip_fields ipf = {(uint8_t)(p->family == 6 ? 6 : 4),
                                p->src_ip,
                                p->dst_ip,
                                p->proto,
                                (uint8_t)tos,
                                (uint8_t)ttl,
                                0};
    uint32_t sum = 0;
    pkt_ip_write(&ipf, l4len, ip, &sum);

    if (p->proto == 6) {
        fm_put_be16(l4, p->src_port);
        fm_put_be16(l4 + 2, p->dst_port);
        fm_put_be32(l4 + 4, p->tcp.seq);
        fm_put_be32(l4 + 8, p->tcp.ack);
        l4[12] = 5u << 4;
        l4[13] = p->tcp.flags;
        fm_put_be16(l4 + 14, p->tcp.window);
        fm_put_be16(l4 + 16, fm_inet_csum_fold(fm_inet_csum_add(sum, l4, l4len)));
    } else {
        /* A udp_length in the trace is written as it is, even a wrong one: validate and
         * Wireshark should see what the trace says. */
        pkt_udp_write(l4, p->src_port, p->dst_port,
                      (uint16_t)(p->udp_length >= 0 ? (unsigned)p->udp_length : (unsigned)l4len),
                      pl, p->payload_length, sum, 1);
    }
    *len = total;
    return FM_OK;
}

int trc_to_pcap(const struct trc_trace *t, const char *path, struct fm_err *err)
{
    struct pkt_pcap_out out;
    uint8_t *frame = malloc(TRC_FRAME_MAX);
    if (!frame)
        return fm_err_set(err, FM_ENOMEM, "writing '%s'", path);
    int rc = pkt_pcap_out_open(&out, path, DLT_RAW, TRC_FRAME_MAX, err);
    if (rc < 0) {
        free(frame);
        return rc;
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct trc_pkt *p = &t->pkts[i];
        size_t len = 0;
        if (trc_frame_build(p, frame, TRC_FRAME_MAX, &len) < 0) {
            rc = fm_err_set(err, FM_EINVAL, "packet %zu: %lu payload bytes do not fit an IP packet",
                            i, (unsigned long)p->payload_length);
            goto out;
        }
        rc = pkt_pcap_out_write(&out, (int64_t)p->ts_sec * 1000000000LL + (int64_t)p->ts_nsec,
                                frame, (uint32_t)len, (uint32_t)len, err);
        if (rc < 0)
            goto out;
    }
    rc = pkt_pcap_out_commit(&out, err);
out:
    pkt_pcap_out_abort(&out);
    free(frame);
    return rc;
}
