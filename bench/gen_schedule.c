/* bench/gen_schedule.c - write a capture whose timestamps are a fixed send schedule.
 * Usage: gen_schedule -d DST_MAC [-s SRC_MAC] [-n PACKETS] [-g GAP_US] [-e] [-p PAYLOAD]
 *                     [-r SEED] OUT.pcap
 * Writes PACKETS (default 10000) Ethernet II / IPv4 / UDP frames 198.18.0.1:5004 ->
 * 198.18.0.2:5006 (RFC 2544 benchmark space) to a nanosecond pcap with libpcap's pcap_dump.
 * Gaps are GAP_US microseconds each (default 100), or with -e drawn from an exponential
 * distribution of mean GAP_US, rounded to the nanosecond. The payload (default 200 bytes)
 * starts with an RTP header (version 2, payload type 96, sequence = packet index) followed by
 * the 32-bit packet index, so that a receiver can match every arrival to its slot in the
 * schedule even when packets are lost. The destination MAC is the receiving veth's, which
 * makes the frames fit for tcpreplay as they are. The same arguments always give the same
 * bytes: the RNG is splitmix64 seeded with SEED (default 1), not the C library's. */
#include <math.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/inet.h"
#include "common/num.h"

#define ETH_HLEN    14
#define IPV4_HLEN   20
#define UDP_HLEN    8
#define RTP_HLEN    12
#define INDEX_LEN   4
#define MIN_PAYLOAD (RTP_HLEN + INDEX_LEN)
#define MAX_PAYLOAD 1472 /* a 1500-byte IPv4 MTU */
#define MAX_FRAME   (ETH_HLEN + IPV4_HLEN + UDP_HLEN + MAX_PAYLOAD)
#define START_SEC   1700000000LL
#define NS_PER_SEC  1000000000LL
#define SRC_PORT    5004
#define DST_PORT    5006

/* splitmix64, as in gen_capture.c: the same stream on every libc. */
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

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "02:00:c6:12:00:02" into mac; returns 0, or -1 on anything else. */
static int parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        const int hi = hex_digit(s[0]);
        const int lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (lo < 0)
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5 && *s++ != ':')
            return -1;
    }
    return *s == '\0' ? 0 : -1;
}

/* Build frame i into buf; returns its length. */
static uint32_t build_frame(uint8_t *buf,
                            const uint8_t dst_mac[6],
                            const uint8_t src_mac[6],
                            uint32_t payload_len,
                            uint32_t i,
                            int64_t offset_ns)
{
    memcpy(buf, dst_mac, 6);
    memcpy(buf + 6, src_mac, 6);
    fm_put_be16(buf + 12, 0x0800);

    uint8_t *ip = buf + ETH_HLEN;
    static const uint8_t src_ip[4] = {198, 18, 0, 1};
    static const uint8_t dst_ip[4] = {198, 18, 0, 2};
    ip[0] = 0x45;
    ip[1] = 34 << 2; /* DSCP AF41, as video */
    fm_put_be16(ip + 2, IPV4_HLEN + UDP_HLEN + payload_len);
    fm_put_be16(ip + 4, i);
    fm_put_be16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 17;
    fm_put_be16(ip + 10, 0);
    memcpy(ip + 12, src_ip, 4);
    memcpy(ip + 16, dst_ip, 4);
    /* RFC 791: the header checksum, computed with its field zero. */
    fm_put_be16(ip + 10, fm_inet_csum_fold(fm_inet_csum_add(0, ip, IPV4_HLEN)));

    uint8_t *udp = ip + IPV4_HLEN;
    fm_put_be16(udp, SRC_PORT);
    fm_put_be16(udp + 2, DST_PORT);
    fm_put_be16(udp + 4, UDP_HLEN + payload_len);
    fm_put_be16(udp + 6, 0); /* no checksum, allowed over IPv4 (RFC 768) */

    uint8_t *pl = udp + UDP_HLEN;
    memset(pl, 0x5a, payload_len);
    pl[0] = 0x80;
    pl[1] = 96;
    fm_put_be16(pl + 2, i);
    fm_put_be32(pl + 4, (uint32_t)(offset_ns / 11111)); /* about a 90 kHz clock */
    fm_put_be32(pl + 8, 0x5eed5eedU);
    fm_put_be32(pl + RTP_HLEN, i);
    return ETH_HLEN + IPV4_HLEN + UDP_HLEN + payload_len;
}

static int usage(void)
{
    fprintf(stderr, "usage: gen_schedule -d DST_MAC [-s SRC_MAC] [-n PACKETS] [-g GAP_US] [-e] "
                    "[-p PAYLOAD] [-r SEED] OUT.pcap\n");
    return 2;
}

int main(int argc, char **argv)
{
    pcap_t *p = NULL;
    pcap_dumper_t *d = NULL;
    struct fm_err err = {0};
    uint64_t packets = 10000;
    uint64_t payload = 200;
    uint64_t seed = 1;
    double gap_us = 100.0;
    int exponential = 0;
    int have_dst = 0;
    uint8_t dst_mac[6];
    uint8_t src_mac[6] = {0x02, 0x00, 0xc6, 0x12, 0x00, 0x01};
    int rc = 1;
    int c;

    while ((c = getopt(argc, argv, "d:s:n:g:ep:r:")) != -1) {
        int ok = FM_OK;
        switch (c) {
        case 'd':
            if (parse_mac(optarg, dst_mac) < 0)
                ok = fm_err_set(&err, FM_EINVAL, "-d: '%s' is not a MAC address", optarg);
            have_dst = 1;
            break;
        case 's':
            if (parse_mac(optarg, src_mac) < 0)
                ok = fm_err_set(&err, FM_EINVAL, "-s: '%s' is not a MAC address", optarg);
            break;
        case 'n':
            ok = fm_parse_u64(optarg, UINT32_MAX, "-n", &packets, &err);
            break;
        case 'g':
            ok = fm_parse_double(optarg, 0.0, 1e9, "-g", &gap_us, &err);
            break;
        case 'e':
            exponential = 1;
            break;
        case 'p':
            ok = fm_parse_u64(optarg, MAX_PAYLOAD, "-p", &payload, &err);
            if (ok == FM_OK && payload < MIN_PAYLOAD)
                ok = fm_err_set(&err, FM_EINVAL, "-p: at least %d bytes", MIN_PAYLOAD);
            break;
        case 'r':
            ok = fm_parse_u64(optarg, UINT64_MAX, "-r", &seed, &err);
            break;
        default:
            return usage();
        }
        if (ok < 0) {
            fprintf(stderr, "gen_schedule: %s\n", err.msg);
            return usage();
        }
    }
    if (!have_dst || optind != argc - 1)
        return usage();

    p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (!p) {
        fprintf(stderr, "gen_schedule: pcap_open_dead failed\n");
        goto out;
    }
    d = pcap_dump_open(p, argv[optind]);
    if (!d) {
        fprintf(stderr, "gen_schedule: %s: %s\n", argv[optind], pcap_geterr(p));
        goto out;
    }

    uint64_t rng = seed;
    uint8_t frame[MAX_FRAME];
    const double gap_ns = gap_us * 1e3;
    int64_t offset_ns = 0;
    for (uint64_t i = 0; i < packets; i++) {
        const uint32_t len =
            build_frame(frame, dst_mac, src_mac, (uint32_t)payload, (uint32_t)i, offset_ns);
        const int64_t ts_ns = START_SEC * NS_PER_SEC + offset_ns;
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(ts_ns / NS_PER_SEC);
        h.ts.tv_usec = (suseconds_t)(ts_ns % NS_PER_SEC); /* nanoseconds in a nano pcap */
        h.caplen = len;
        h.len = len;
        pcap_dump((u_char *)d, &h, frame);
        /* 1 - u is in (0, 1], so the logarithm is finite. */
        const double g = exponential ? -gap_ns * log(1.0 - next_unit(&rng)) : gap_ns;
        offset_ns += (int64_t)llround(g);
    }
    if (pcap_dump_flush(d) < 0) {
        fprintf(stderr, "gen_schedule: %s: write failed\n", argv[optind]);
        goto out;
    }
    rc = 0;
out:
    if (d)
        pcap_dump_close(d);
    if (p)
        pcap_close(p);
    return rc;
}
