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

#include "common/file.h"
#include "packet/hdr.h"
#include "packet/pcap_out.h"

#define SNAPLEN   65535
#define FRAME_MAX (PKT_UDP_FRAME_HDR_MAX + TRX_MAX_PAYLOAD)

/* Locally administered addresses (the 0x02 bit): a capture of synthetic traffic should not
 * claim a real vendor's interface. */
static const uint8_t macs[12] = {0x02, 0x66, 0x6d, 0x00, 0x00, 0x02,  /* destination */
                                 0x02, 0x66, 0x6d, 0x00, 0x00, 0x01}; /* source */

struct pcap_sink {
    struct pkt_pcap_out out; /* renamed over path on commit */
    uint16_t ip_id;          /* IPv4 identification, counting per packet */
    uint8_t *frame;          /* FRAME_MAX bytes */
};

/* Build the frame for one packet into s->frame; returns its length. */
static size_t
build_frame(struct pcap_sink *s, const struct trx_pkt *p, const uint8_t *payload, size_t len)
{
    uint16_t id = s->ip_id;
    if (p->addr.ip_version == 4)
        s->ip_id++;
    return trx_frame_write(s->frame, macs, p, id, payload, len);
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
    return pkt_pcap_out_write(&s->out, ts_ns, s->frame, (uint32_t)n, (uint32_t)n, err);
}

static void free_sink(struct pcap_sink *s)
{
    if (!s)
        return;
    pkt_pcap_out_abort(&s->out);
    free(s->frame);
    free(s);
}

static int pcap_close_sink(void *self, int commit, struct fm_err *err)
{
    struct pcap_sink *s = self;
    int rc = FM_OK;
    if (commit)
        rc = pkt_pcap_out_commit(&s->out, err);
    free_sink(s);
    return rc;
}

static const struct trx_sink_ops pcap_ops = {.send = pcap_send, .close = pcap_close_sink};

int trx_sink_pcap_new(const char *path, struct trx_sink **out, struct fm_err *err)
{
    struct trx_sink *sink = NULL;
    struct pcap_sink *s = NULL;
    int rc = FM_OK;

    sink = malloc(sizeof(*sink));
    s = calloc(1, sizeof(*s));
    if (!sink || !s)
        goto nomem;
    s->frame = malloc(FRAME_MAX);
    if (!s->frame)
        goto nomem;
    s->ip_id = 1;
    rc = pkt_pcap_out_open(&s->out, path, DLT_EN10MB, SNAPLEN, err);
    if (rc < 0)
        goto out;
    sink->ops = &pcap_ops;
    sink->self = s;
    *out = sink;
    sink = NULL;
    s = NULL;
    goto out;
nomem:
    rc = fm_err_set(err, FM_ENOMEM, "pcap writer for '%s'", path);
out:
    free_sink(s);
    free(sink);
    return rc;
}
