/* transceiver/sink_pcap.c - packets into a pcap file: Ethernet, IPv4 or IPv6, UDP, payload.
 * specification: RFC 791 (IPv4 header), RFC 8200 (IPv6 header), RFC 768 and RFC 8200 8.1
 * (UDP and its checksum over the pseudo-header), RFC 1071 (the Internet checksum). Headers
 * are written a byte at a time, big-endian, never through structs. The file is written with
 * libpcap's dumper at nanosecond resolution to a temporary file beside the target, renamed
 * over it on a committed close and removed otherwise, so a failed or interrupted run never
 * leaves a half-written capture where the user expects a whole one. */
#include "transceiver/sink.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ETH_LEN   14
#define IP4_LEN   20
#define IP6_LEN   40
#define UDP_LEN   8
#define SNAPLEN   65535
#define FRAME_MAX (ETH_LEN + IP6_LEN + UDP_LEN + TRX_MAX_PAYLOAD)

/* Locally administered addresses (the 0x02 bit): a capture of synthetic traffic should not
 * claim a real vendor's interface. */
static const uint8_t src_mac[6] = {0x02, 0x66, 0x6d, 0x00, 0x00, 0x01};
static const uint8_t dst_mac[6] = {0x02, 0x66, 0x6d, 0x00, 0x00, 0x02};

struct pcap_sink {
    pcap_t *pd;
    pcap_dumper_t *dumper;
    char *path;
    char *tmp;      /* the temporary file, "" once renamed or removed */
    uint16_t ip_id; /* IPv4 identification, counting per packet */
    uint8_t *frame; /* FRAME_MAX bytes */
};

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

/* The 32-bit running sum of 16-bit big-endian words (RFC 1071); an odd last byte is padded
 * with zero. */
static uint32_t sum16(uint32_t sum, const uint8_t *b, size_t len)
{
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += (uint32_t)b[i] << 8 | b[i + 1];
    if (i < len)
        sum += (uint32_t)b[i] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Build the frame for one packet into s->frame; returns its length. */
static size_t
build_frame(struct pcap_sink *s, const struct trx_pkt *p, const uint8_t *payload, size_t len)
{
    uint8_t *f = s->frame;
    const struct trx_addr *a = &p->addr;
    int v6 = a->ip_version == 6;
    size_t ip_len = v6 ? IP6_LEN : IP4_LEN;
    uint16_t udp_len = (uint16_t)(UDP_LEN + len);

    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    put_be16(f + 12, v6 ? 0x86dd : 0x0800);

    uint8_t *ip = f + ETH_LEN;
    uint8_t tos = (uint8_t)((p->dscp & 0x3fu) << 2); /* ECN bits 0: not ECN-capable */
    uint32_t pseudo = 0;
    if (v6) {
        put_be32(ip, 6u << 28 | (uint32_t)tos << 20); /* flow label 0 */
        put_be16(ip + 4, udp_len);
        ip[6] = 17; /* next header: UDP */
        ip[7] = p->ttl;
        memcpy(ip + 8, a->src, 16);
        memcpy(ip + 24, a->dst, 16);
        pseudo = sum16(pseudo, a->src, 16);
        pseudo = sum16(pseudo, a->dst, 16);
    } else {
        ip[0] = 0x45; /* version 4, 5 words, no options */
        ip[1] = tos;
        put_be16(ip + 2, (uint16_t)(IP4_LEN + udp_len));
        /* Don't Fragment is set, so the identification only has to vary (RFC 6864). */
        put_be16(ip + 4, s->ip_id++);
        put_be16(ip + 6, 0x4000);
        ip[8] = p->ttl;
        ip[9] = 17;
        put_be16(ip + 10, 0);
        memcpy(ip + 12, a->src, 4);
        memcpy(ip + 16, a->dst, 4);
        put_be16(ip + 10, fold(sum16(0, ip, IP4_LEN)));
        pseudo = sum16(pseudo, a->src, 4);
        pseudo = sum16(pseudo, a->dst, 4);
    }
    pseudo += 17u + udp_len; /* protocol and UDP length of the pseudo-header */

    uint8_t *udp = ip + ip_len;
    put_be16(udp, a->sport);
    put_be16(udp + 2, a->dport);
    put_be16(udp + 4, udp_len);
    put_be16(udp + 6, 0);
    if (len)
        memcpy(udp + UDP_LEN, payload, len);
    uint16_t ck = fold(sum16(pseudo, udp, UDP_LEN + len));
    /* A computed 0 is sent as all ones: 0 means "no checksum" in IPv4 and is forbidden in
     * IPv6 (RFC 768, RFC 8200 8.1). */
    put_be16(udp + 6, ck ? ck : 0xffff);
    return ETH_LEN + ip_len + UDP_LEN + len;
}

static int pcap_send(void *self,
                     const struct trx_pkt *p,
                     const uint8_t *payload,
                     size_t len,
                     int64_t ts_ns,
                     struct fm_err *err)
{
    struct pcap_sink *s = self;
    if (len > TRX_MAX_PAYLOAD)
        return fm_err_set(err, FM_EINVAL, "a %zu-byte payload does not fit in a UDP datagram", len);
    if (p->addr.ip_version != 4 && p->addr.ip_version != 6)
        return fm_err_set(err, FM_EINVAL, "packet has IP version %u", p->addr.ip_version);
    if (ts_ns < 0)
        return fm_err_set(err, FM_EINVAL, "packet timestamp is negative");
    size_t n = build_frame(s, p, payload, len);
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = (time_t)(ts_ns / 1000000000LL);
    /* With nanosecond precision the dumper takes nanoseconds in tv_usec. */
    h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000LL);
    h.len = (bpf_u_int32)n;
    /* A frame over the snapshot length (a near-64 KiB datagram) is cut there, as a capture
     * would; its lengths still say how long it was. */
    h.caplen = (bpf_u_int32)(n > SNAPLEN ? SNAPLEN : n);
    pcap_dump((u_char *)s->dumper, &h, s->frame);
    FILE *fp = pcap_dump_file(s->dumper);
    if (ferror(fp))
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", s->path);
    return FM_OK;
}

static void free_sink(struct pcap_sink *s)
{
    if (!s)
        return;
    if (s->dumper)
        pcap_dump_close(s->dumper);
    if (s->tmp && s->tmp[0])
        unlink(s->tmp);
    if (s->pd)
        pcap_close(s->pd);
    free(s->frame);
    free(s->tmp);
    free(s->path);
    free(s);
}

static int pcap_close_sink(void *self, int commit, struct fm_err *err)
{
    struct pcap_sink *s = self;
    int rc = FM_OK;
    if (commit) {
        FILE *fp = pcap_dump_file(s->dumper);
        /* Flush and sync before the rename, so that the name never points at a file whose
         * data a crash could still lose. */
        if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
            rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", s->path);
            goto out;
        }
        pcap_dump_close(s->dumper);
        s->dumper = NULL;
        if (rename(s->tmp, s->path) != 0) {
            rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", s->path);
            goto out;
        }
        s->tmp[0] = '\0';
    }
out:
    free_sink(s);
    return rc;
}

static const struct trx_sink_ops pcap_ops = {.send = pcap_send, .close = pcap_close_sink};

int trx_sink_pcap_new(const char *path, struct trx_sink **out, struct fm_err *err)
{
    struct trx_sink *sink = NULL;
    struct pcap_sink *s = NULL;
    FILE *fp = NULL;
    int fd = -1;
    int rc = FM_OK;

    sink = malloc(sizeof(*sink));
    s = calloc(1, sizeof(*s));
    if (!sink || !s)
        goto nomem;
    size_t plen = strlen(path);
    s->path = strdup(path);
    s->tmp = malloc(plen + 16);
    if (s->tmp)
        s->tmp[0] = '\0'; /* no temporary file to remove yet */
    s->frame = malloc(FRAME_MAX);
    if (!s->path || !s->tmp || !s->frame)
        goto nomem;
    s->ip_id = 1;
    s->pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
    if (!s->pd)
        goto nomem;
    snprintf(s->tmp, plen + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(s->tmp);
    if (fd < 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        s->tmp[0] = '\0';
        goto out;
    }
    /* mkstemp makes the file private; a capture is as readable as any other output. */
    if (fchmod(fd, 0644) != 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        goto out;
    }
    fp = fdopen(fd, "wb");
    if (!fp) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        goto out;
    }
    fd = -1; /* fp owns it now */
    s->dumper = pcap_dump_fopen(s->pd, fp);
    if (!s->dumper) {
        rc = fm_err_set(err, FM_EIO, "cannot write '%s': %s", path, pcap_geterr(s->pd));
        goto out;
    }
    fp = NULL; /* the dumper owns it now */
    sink->ops = &pcap_ops;
    sink->self = s;
    *out = sink;
    sink = NULL;
    s = NULL;
    goto out;
nomem:
    rc = fm_err_set(err, FM_ENOMEM, "pcap writer for '%s'", path);
out:
    if (fp)
        fclose(fp);
    if (fd >= 0)
        close(fd);
    free_sink(s);
    free(sink);
    return rc;
}
