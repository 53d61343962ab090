/* bench/gen_capture.c - write a deterministic synthetic UDP/IPv4 capture for read benchmarks.
 * Usage: gen_capture OUT.pcap [PACKETS [FLOWS [SEED]]] (defaults 1000000, 50, 1).
 * The file is a nanosecond pcap (magic 0xa1b23c4d) of Ethernet II frames written with
 * libpcap's pcap_dump. Packets are spread over FLOWS bidirectional UDP flows whose shares
 * fall off like 1/rank, so the flow table sees a few heavy flows and a long tail. A third of
 * the flows look like RTP video (12-byte RTP header, MTU-size fragments and a spread of smaller
 * frames), a third like RTP voice (fixed 160-byte frames), the rest like other UDP (uniform
 * sizes, no RTP). The same arguments always give the same bytes. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/inet.h"
#include "common/num.h"

#define ETH_HLEN    14
#define IPV4_HLEN   20
#define UDP_HLEN    8
#define RTP_HLEN    12
#define MAX_PAYLOAD 1400
#define MAX_FRAME   (ETH_HLEN + IPV4_HLEN + UDP_HLEN + MAX_PAYLOAD)
#define START_SEC   1700000000LL
#define NS_PER_SEC  1000000000LL
#define MAX_FLOWS   65000

enum flow_kind { KIND_VIDEO = 0, KIND_VOICE = 1, KIND_OTHER = 2 };

struct gen_flow {
    enum flow_kind kind;
    uint8_t ip[2][4]; /* [0] = the endpoint that sends first */
    uint16_t port[2];
    uint16_t seq[2]; /* RTP sequence per direction */
    uint32_t ssrc[2];
    int started;      /* 1 once the flow has sent its first packet */
    double cum_share; /* cumulative share of packets up to and including this flow */
};

/* splitmix64: tiny, fast and good enough to spread sizes and flows; keeps the file stable
 * across libc versions, which rand() would not. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double next_unit(uint64_t *state)
{
    return (double)(next_u64(state) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static uint32_t next_range(uint64_t *state, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(next_u64(state) % (uint64_t)(hi - lo + 1));
}

static void flows_init(struct gen_flow *flows, size_t n, uint64_t *rng)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += 1.0 / (double)(i + 1);
    double cum = 0.0;
    for (size_t i = 0; i < n; i++) {
        struct gen_flow *f = &flows[i];
        memset(f, 0, sizeof(*f));
        f->kind = (enum flow_kind)(i % 3);
        /* 10.0.0.0/16 on one side, 10.1.0.0/16 on the other: TEST-NET-like private space. */
        f->ip[0][0] = 10;
        f->ip[0][1] = 0;
        f->ip[0][2] = (uint8_t)(i >> 8);
        f->ip[0][3] = (uint8_t)(i + 1);
        f->ip[1][0] = 10;
        f->ip[1][1] = 1;
        f->ip[1][2] = (uint8_t)(i >> 8);
        f->ip[1][3] = (uint8_t)(i + 1);
        f->port[0] = (uint16_t)(20000 + 2 * i);
        f->port[1] = (uint16_t)(30000 + 2 * i);
        for (int d = 0; d < 2; d++) {
            f->seq[d] = (uint16_t)next_u64(rng);
            f->ssrc[d] = (uint32_t)next_u64(rng);
        }
        cum += 1.0 / (double)(i + 1) / total;
        f->cum_share = cum;
    }
    flows[n - 1].cum_share = 1.0;
}

static size_t pick_flow(const struct gen_flow *flows, size_t n, double u)
{
    size_t lo = 0;
    size_t hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u < flows[mid].cum_share)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static uint32_t pick_payload(enum flow_kind kind, uint64_t *rng)
{
    double u = next_unit(rng);
    switch (kind) {
    case KIND_VIDEO:
        if (u < 0.4)
            return MAX_PAYLOAD; /* MTU-size fragments of large frames */
        return next_range(rng, 200, MAX_PAYLOAD - 1);
    case KIND_VOICE:
        return u < 0.9 ? 172 : 24; /* 160-byte G.711 frames plus comfort noise, with RTP */
    case KIND_OTHER:
        break;
    }
    return next_range(rng, 16, 1200);
}

/* Build one frame into buf; returns its length. */
static uint32_t build_frame(
    uint8_t *buf, struct gen_flow *f, int dir, uint32_t payload_len, uint16_t ip_id, int64_t ts_ns)
{
    const int src = dir;
    const int dst = 1 - dir;
    uint8_t *eth = buf;
    /* Locally administered MACs derived from the addresses. */
    const uint8_t mac_dst[6] = {0x02, 0x00, f->ip[dst][1], f->ip[dst][2], f->ip[dst][3], 0x01};
    const uint8_t mac_src[6] = {0x02, 0x00, f->ip[src][1], f->ip[src][2], f->ip[src][3], 0x01};
    memcpy(eth, mac_dst, 6);
    memcpy(eth + 6, mac_src, 6);
    fm_put_be16(eth + 12, 0x0800);

    uint8_t *ip = eth + ETH_HLEN;
    ip[0] = 0x45;
    ip[1] = f->kind == KIND_OTHER ? 0 : (uint8_t)(34 << 2); /* DSCP AF41 for media */
    fm_put_be16(ip + 2, IPV4_HLEN + UDP_HLEN + payload_len);
    fm_put_be16(ip + 4, ip_id);
    fm_put_be16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 17;
    fm_put_be16(ip + 10, 0);
    memcpy(ip + 12, f->ip[src], 4);
    memcpy(ip + 16, f->ip[dst], 4);
    /* RFC 791: the header checksum, computed with its field zero. */
    fm_put_be16(ip + 10, fm_inet_csum_fold(fm_inet_csum_add(0, ip, IPV4_HLEN)));

    uint8_t *udp = ip + IPV4_HLEN;
    fm_put_be16(udp, f->port[src]);
    fm_put_be16(udp + 2, f->port[dst]);
    fm_put_be16(udp + 4, UDP_HLEN + payload_len);
    fm_put_be16(udp + 6, 0); /* no checksum, allowed over IPv4 (RFC 768) */

    uint8_t *pl = udp + UDP_HLEN;
    memset(pl, 0x5a, payload_len);
    if (f->kind != KIND_OTHER && payload_len >= RTP_HLEN) {
        const int marker = payload_len < MAX_PAYLOAD;
        pl[0] = 0x80;
        pl[1] = (uint8_t)((marker ? 0x80 : 0) | (f->kind == KIND_VIDEO ? 96 : 0));
        fm_put_be16(pl + 2, f->seq[dir]++);
        fm_put_be32(pl + 4, (uint32_t)(ts_ns / 11111)); /* about a 90 kHz clock */
        fm_put_be32(pl + 8, f->ssrc[dir]);
    }
    return ETH_HLEN + IPV4_HLEN + UDP_HLEN + payload_len;
}

static int usage(void)
{
    fprintf(stderr, "usage: gen_capture OUT.pcap [PACKETS [FLOWS [SEED]]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    pcap_t *p = NULL;
    pcap_dumper_t *d = NULL;
    struct gen_flow *flows = NULL;
    struct fm_err err = {0};
    uint64_t packets = 1000000;
    uint64_t nflows = 50;
    uint64_t seed = 1;
    int rc = 1;

    /* "--help" (or any option) is not a file to write over. */
    if (argc < 2 || argc > 5 || argv[1][0] == '-')
        return usage();
    if ((argc > 2 && fm_parse_u64(argv[2], UINT64_C(1) << 40, "PACKETS", &packets, &err) < 0) ||
        (argc > 3 && fm_parse_u64(argv[3], MAX_FLOWS, "FLOWS", &nflows, &err) < 0) ||
        (argc > 4 && fm_parse_u64(argv[4], UINT64_MAX, "SEED", &seed, &err) < 0)) {
        fprintf(stderr, "gen_capture: %s\n", err.msg);
        return usage();
    }
    if (nflows == 0) {
        fprintf(stderr, "gen_capture: FLOWS must be at least 1\n");
        return usage();
    }

    uint64_t rng = seed;
    flows = calloc((size_t)nflows, sizeof(*flows));
    if (!flows) {
        fprintf(stderr, "gen_capture: out of memory\n");
        goto out;
    }
    flows_init(flows, (size_t)nflows, &rng);

    p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (!p) {
        fprintf(stderr, "gen_capture: pcap_open_dead failed\n");
        goto out;
    }
    d = pcap_dump_open(p, argv[1]);
    if (!d) {
        fprintf(stderr, "gen_capture: %s: %s\n", argv[1], pcap_geterr(p));
        goto out;
    }

    uint8_t frame[MAX_FRAME];
    int64_t ts_ns = START_SEC * NS_PER_SEC;
    for (uint64_t i = 0; i < packets; i++) {
        struct gen_flow *f = &flows[pick_flow(flows, (size_t)nflows, next_unit(&rng))];
        /* The first packet of every flow goes forward, so "local" is always endpoint 0. */
        const int dir = f->started && next_unit(&rng) >= 0.7 ? 1 : 0;
        f->started = 1;
        const uint32_t len =
            build_frame(frame, f, dir, pick_payload(f->kind, &rng), (uint16_t)i, ts_ns);
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(ts_ns / NS_PER_SEC);
        h.ts.tv_usec = (suseconds_t)(ts_ns % NS_PER_SEC); /* nanoseconds in a nano pcap */
        h.caplen = len;
        h.len = len;
        pcap_dump((u_char *)d, &h, frame);
        /* Gaps of 0..2 us: about 1 Mpps of offered load, so 1e6 packets span ~1 s. */
        ts_ns += (int64_t)next_range(&rng, 0, 2000);
    }
    if (pcap_dump_flush(d) < 0) {
        fprintf(stderr, "gen_capture: %s: write failed\n", argv[1]);
        goto out;
    }
    rc = 0;
out:
    if (d)
        pcap_dump_close(d);
    if (p)
        pcap_close(p);
    free(flows);
    return rc;
}
