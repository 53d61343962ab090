/* bench/af_packet_loop.c - the bare AF_PACKET send loop: the rate ceiling.
 * Usage: af_packet_loop -i IFACE -d DST_MAC [-n PACKETS] [-p PAYLOAD]
 *                       [-m sendto|sendmmsg|raw4|raw4mmsg] [-b BATCH] [-t MAX_SECONDS]
 * Builds one Ethernet II / IPv4 / UDP frame 198.18.0.1:5004 -> 198.18.0.2:5006 (RFC 2544
 * benchmark space) with PAYLOAD bytes (default 200), source MAC of IFACE, and sends it
 * PACKETS times (default 500000) as fast as the socket takes it, on an AF_PACKET SOCK_RAW
 * socket bound to IFACE: one sendto() per frame, or sendmmsg() with BATCH frames (default 64)
 * per call. The frame never changes, so the loop does nothing but the system calls: it is
 * what a sender on this interface cannot beat. -m raw4 sends the same IPv4 packet (no
 * Ethernet header) with sendto() on a raw IPv4 socket (IPPROTO_RAW, bound to IFACE) to
 * 198.18.0.2, which is the kernel path of flowmimic's libnet sink: routing and neighbour
 * lookup on every packet; -m raw4mmsg the same in sendmmsg() batches of BATCH, the ceiling of
 * flowmimic's raw IP mode (its default). Stops after MAX_SECONDS (default 30) whatever
 * remains. Meant for a veth end inside a network namespace that the caller created.
 * Prints one JSON line: packets the kernel took, failed calls, seconds, packets per second. */
/* sendmmsg() and struct mmsghdr are GNU extensions of glibc. */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): the macro glibc reads */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/inet.h"
#include "common/num.h"

#define ETH_HLEN    14
#define IPV4_HLEN   20
#define UDP_HLEN    8
#define MAX_PAYLOAD 1472
#define MAX_FRAME   (ETH_HLEN + IPV4_HLEN + UDP_HLEN + MAX_PAYLOAD)
#define MAX_BATCH   1024
#define NS_PER_SEC  1000000000LL
#define CHECK_EVERY 1024 /* packets between two looks at the clock */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
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

static uint32_t
build_frame(uint8_t *buf, const uint8_t dst_mac[6], const uint8_t src_mac[6], uint32_t payload_len)
{
    static const uint8_t src_ip[4] = {198, 18, 0, 1};
    static const uint8_t dst_ip[4] = {198, 18, 0, 2};
    memcpy(buf, dst_mac, 6);
    memcpy(buf + 6, src_mac, 6);
    fm_put_be16(buf + 12, 0x0800);
    uint8_t *ip = buf + ETH_HLEN;
    ip[0] = 0x45;
    ip[1] = 0;
    fm_put_be16(ip + 2, IPV4_HLEN + UDP_HLEN + payload_len);
    fm_put_be16(ip + 4, 0);
    fm_put_be16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 17;
    fm_put_be16(ip + 10, 0);
    memcpy(ip + 12, src_ip, 4);
    memcpy(ip + 16, dst_ip, 4);
    /* RFC 791: the header checksum, computed with its field zero. */
    fm_put_be16(ip + 10, fm_inet_csum_fold(fm_inet_csum_add(0, ip, IPV4_HLEN)));
    uint8_t *udp = ip + IPV4_HLEN;
    fm_put_be16(udp, 5004);
    fm_put_be16(udp + 2, 5006);
    fm_put_be16(udp + 4, UDP_HLEN + payload_len);
    fm_put_be16(udp + 6, 0);
    uint8_t *pl = udp + UDP_HLEN;
    memset(pl, 0x5a, payload_len);
    if (payload_len >= 12) {
        pl[0] = 0x80; /* an RTP header with sequence 0, for decoders */
        pl[1] = 96;
    }
    return ETH_HLEN + IPV4_HLEN + UDP_HLEN + payload_len;
}

static int usage(void)
{
    fprintf(stderr, "usage: af_packet_loop -i IFACE -d DST_MAC [-n PACKETS] [-p PAYLOAD] "
                    "[-m sendto|sendmmsg|raw4|raw4mmsg] [-b BATCH] [-t MAX_SECONDS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct fm_err err = {0};
    struct mmsghdr *msgs = NULL;
    int fd = -1;
    const char *ifname = NULL;
    uint8_t dst_mac[6];
    int have_dst = 0;
    uint64_t packets = 500000;
    uint64_t payload = 200;
    uint64_t batch = 64;
    uint64_t max_s = 30;
    enum { MODE_SENDTO, MODE_SENDMMSG, MODE_RAW4, MODE_RAW4MMSG } mode = MODE_SENDTO;
    static const char *const mode_names[] = {"sendto", "sendmmsg", "raw4", "raw4mmsg"};
    int rc = 1;
    int c;

    while ((c = getopt(argc, argv, "i:d:n:p:m:b:t:")) != -1) {
        int ok = FM_OK;
        switch (c) {
        case 'i':
            ifname = optarg;
            break;
        case 'd':
            if (parse_mac(optarg, dst_mac) < 0)
                ok = fm_err_set(&err, FM_EINVAL, "-d: '%s' is not a MAC address", optarg);
            have_dst = 1;
            break;
        case 'n':
            ok = fm_parse_u64(optarg, UINT64_C(1) << 32, "-n", &packets, &err);
            break;
        case 'p':
            ok = fm_parse_u64(optarg, MAX_PAYLOAD, "-p", &payload, &err);
            break;
        case 'm':
            if (strcmp(optarg, "sendto") == 0)
                mode = MODE_SENDTO;
            else if (strcmp(optarg, "sendmmsg") == 0)
                mode = MODE_SENDMMSG;
            else if (strcmp(optarg, "raw4") == 0)
                mode = MODE_RAW4;
            else if (strcmp(optarg, "raw4mmsg") == 0)
                mode = MODE_RAW4MMSG;
            else
                ok = fm_err_set(&err, FM_EINVAL,
                                "-m: '%s' is not sendto, sendmmsg, raw4 or raw4mmsg", optarg);
            break;
        case 'b':
            ok = fm_parse_u64(optarg, MAX_BATCH, "-b", &batch, &err);
            if (ok == FM_OK && batch == 0)
                ok = fm_err_set(&err, FM_EINVAL, "-b: at least 1");
            break;
        case 't':
            ok = fm_parse_u64(optarg, 3600, "-t", &max_s, &err);
            break;
        default:
            return usage();
        }
        if (ok < 0) {
            fprintf(stderr, "af_packet_loop: %s\n", err.msg);
            return usage();
        }
    }
    if (!ifname || !have_dst || optind != argc)
        return usage();

    /* Protocol 0: send only, receive nothing. */
    const int raw4 = mode == MODE_RAW4 || mode == MODE_RAW4MMSG;
    fd = raw4 ? socket(AF_INET, SOCK_RAW, IPPROTO_RAW) : socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        perror("af_packet_loop: socket");
        goto out;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
        fprintf(stderr, "af_packet_loop: interface name '%s' is too long\n", ifname);
        goto out;
    }
    memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
        perror("af_packet_loop: SIOCGIFHWADDR");
        goto out;
    }
    uint8_t src_mac[6];
    memcpy(src_mac, ifr.ifr_hwaddr.sa_data, 6);
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = (int)if_nametoindex(ifname);
    sll.sll_protocol = 0;
    if (sll.sll_ifindex == 0) {
        perror("af_packet_loop: if_nametoindex");
        goto out;
    }
    struct sockaddr_in dst4;
    memset(&dst4, 0, sizeof(dst4));
    dst4.sin_family = AF_INET;
    dst4.sin_addr.s_addr = htonl(0xc6120002U); /* 198.18.0.2 */
    if (raw4) {
        /* Only through IFACE, as flowmimic's --iface. */
        if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0) {
            perror("af_packet_loop: SO_BINDTODEVICE");
            goto out;
        }
    } else if (bind(fd, (const struct sockaddr *)&sll, sizeof(sll)) < 0) {
        perror("af_packet_loop: bind");
        goto out;
    }

    uint8_t frame[MAX_FRAME];
    const uint32_t len = build_frame(frame, dst_mac, src_mac, (uint32_t)payload);
    struct iovec iov = {frame, len};
    if (mode == MODE_RAW4MMSG) /* the IPv4 packet, no Ethernet header, to 198.18.0.2 */
        iov = (struct iovec){frame + ETH_HLEN, len - ETH_HLEN};
    msgs = calloc((size_t)batch, sizeof(*msgs));
    if (!msgs) {
        fprintf(stderr, "af_packet_loop: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < batch; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (mode == MODE_RAW4MMSG) {
            msgs[i].msg_hdr.msg_name = &dst4;
            msgs[i].msg_hdr.msg_namelen = sizeof(dst4);
        }
    }

    uint64_t sent = 0, failed = 0, next_check = CHECK_EVERY;
    const int64_t t0 = now_ns();
    const int64_t stop = t0 + (int64_t)max_s * NS_PER_SEC;
    while (sent < packets) {
        if (mode == MODE_RAW4) {
            if (sendto(fd, frame + ETH_HLEN, len - ETH_HLEN, 0, (const struct sockaddr *)&dst4,
                       sizeof(dst4)) < 0)
                failed++;
            else
                sent++;
        } else if (mode == MODE_SENDMMSG || mode == MODE_RAW4MMSG) {
            const uint64_t want = packets - sent < batch ? packets - sent : batch;
            const int n = sendmmsg(fd, msgs, (unsigned)want, 0);
            if (n < 0)
                failed++;
            else
                sent += (uint64_t)n;
        } else if (sendto(fd, frame, len, 0, (const struct sockaddr *)&sll, sizeof(sll)) < 0) {
            failed++;
        } else {
            sent++;
        }
        /* A loop that only fails must stop too: count failed calls against the check. */
        if (sent + failed >= next_check) {
            next_check = sent + failed + CHECK_EVERY;
            if (now_ns() > stop)
                break;
        }
    }
    const int64_t t1 = now_ns();
    const double secs = (double)(t1 - t0) / 1e9;
    printf("{\"tool\": \"af_packet_%s\", \"payload\": %llu, \"packets\": %llu, \"failed_calls\": "
           "%llu, \"seconds\": %.6f, \"pps\": %.1f}\n",
           mode_names[mode], (unsigned long long)payload, (unsigned long long)sent,
           (unsigned long long)failed, secs, secs > 0 ? (double)sent / secs : 0.0);
    rc = sent == packets ? 0 : 1;
out:
    if (fd >= 0)
        close(fd);
    free(msgs);
    return rc;
}
