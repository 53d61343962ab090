/* tests/support/udpsend.c - a small, bounded UDP sender for the receive tests: COUNT datagrams
 * of RTP (version 2, PT 96, one SSRC, 90 kHz timestamps advancing 3000 per packet) followed by
 * a flowmimic probe (magic "FMPR", version 1, stream 0, sequence, CLOCK_REALTIME send time),
 * GAP microseconds apart, to ADDR PORT.
 * Usage: udpsend [-n COUNT] [-g GAP_US] [-l LEN] [-s SSRC] [-p SRCPORT] [-x SEQ]... ADDR PORT
 *   -x SEQ   do not send the packet with this sequence number (a loss); repeatable
 * Network safety: it sends only to loopback (127.0.0.0/8, ::1) or to the benchmarking range
 * the tests' namespaces use (198.18.0.0/15), at most 100000 packets, so a mistyped address
 * never reaches a real network. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 100000
#define MAX_SKIP  64
#define MAX_LEN   1472

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int usage(void)
{
    fprintf(stderr, "usage: udpsend [-n COUNT] [-g GAP_US] [-l LEN] [-s SSRC] [-p SRCPORT] "
                    "[-x SEQ]... ADDR PORT\n");
    return 2;
}

/* strtoul with the whole string and a range checked. */
static int num(const char *s, unsigned long hi, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end != '\0' || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long count = 10;
    unsigned long gap_us = 1000;
    unsigned long len = 200;
    unsigned long ssrc = 0x464d0001;
    unsigned long sport = 0;
    unsigned long skip[MAX_SKIP];
    size_t nskip = 0;
    int c;
    while ((c = getopt(argc, argv, "n:g:l:s:p:x:")) != -1) {
        unsigned long v = 0;
        switch (c) {
        case 'n':
            if (num(optarg, MAX_COUNT, &count) < 0)
                return usage();
            break;
        case 'g':
            if (num(optarg, 10000000, &gap_us) < 0)
                return usage();
            break;
        case 'l':
            if (num(optarg, MAX_LEN, &len) < 0 || len < 32)
                return usage();
            break;
        case 's':
            if (num(optarg, 0xffffffffUL, &ssrc) < 0)
                return usage();
            break;
        case 'p':
            if (num(optarg, 65535, &sport) < 0)
                return usage();
            break;
        case 'x':
            if (num(optarg, 65535, &v) < 0 || nskip >= MAX_SKIP)
                return usage();
            skip[nskip++] = v;
            break;
        default:
            return usage();
        }
    }
    if (optind + 2 != argc)
        return usage();
    unsigned long port = 0;
    if (num(argv[optind + 1], 65535, &port) < 0 || port == 0)
        return usage();

    struct sockaddr_storage to;
    socklen_t tolen = 0;
    memset(&to, 0, sizeof(to));
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, argv[optind], &sin.sin_addr) == 1) {
        uint32_t a = ntohl(sin.sin_addr.s_addr);
        if ((a >> 24) != 127 && (a >> 17) != (0xc612u >> 1)) {
            fprintf(stderr, "udpsend: %s is neither loopback nor in 198.18.0.0/15\n", argv[optind]);
            return 2;
        }
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)port);
        memcpy(&to, &sin, sizeof(sin));
        tolen = sizeof(sin);
    } else if (inet_pton(AF_INET6, argv[optind], &sin6.sin6_addr) == 1 &&
               IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr)) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)port);
        memcpy(&to, &sin6, sizeof(sin6));
        tolen = sizeof(sin6);
    } else {
        fprintf(stderr, "udpsend: %s is not an allowed address (loopback or 198.18.0.0/15)\n",
                argv[optind]);
        return 2;
    }

    int fd = socket(to.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("udpsend: socket");
        return 1;
    }
    if (sport) {
        struct sockaddr_storage from;
        memset(&from, 0, sizeof(from));
        socklen_t fromlen = tolen;
        if (to.ss_family == AF_INET) {
            struct sockaddr_in f4;
            memset(&f4, 0, sizeof(f4));
            f4.sin_family = AF_INET;
            f4.sin_port = htons((uint16_t)sport);
            memcpy(&from, &f4, sizeof(f4));
        } else {
            struct sockaddr_in6 f6;
            memset(&f6, 0, sizeof(f6));
            f6.sin6_family = AF_INET6;
            f6.sin6_port = htons((uint16_t)sport);
            memcpy(&from, &f6, sizeof(f6));
        }
        if (bind(fd, (const struct sockaddr *)&from, fromlen) != 0) {
            perror("udpsend: bind");
            close(fd);
            return 1;
        }
    }

    uint8_t b[MAX_LEN];
    memset(b, 0x5a, sizeof(b));
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    int rc = 0;
    for (unsigned long i = 0; i < count; i++) {
        int skipped = 0;
        for (size_t k = 0; k < nskip; k++)
            skipped |= skip[k] == (i & 0xffffu);
        if (!skipped) {
            b[0] = 0x80;
            b[1] = 96;
            put16(b + 2, (unsigned)(i & 0xffffu));
            put32(b + 4, (uint32_t)(i * 3000));
            put32(b + 8, (uint32_t)ssrc);
            put32(b + 12, 0x464d5052u);
            b[16] = 1;
            b[17] = 0;
            put16(b + 18, 0);
            put32(b + 20, (uint32_t)i);
            int64_t t = realtime_ns();
            put32(b + 24, (uint32_t)((uint64_t)t >> 32));
            put32(b + 28, (uint32_t)t);
            if (sendto(fd, b, len, 0, (const struct sockaddr *)&to, tolen) != (ssize_t)len) {
                perror("udpsend: sendto");
                rc = 1;
                break;
            }
        }
        /* Absolute deadlines, so the rate holds whatever each send costs. */
        next.tv_nsec += (long)(gap_us * 1000);
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    close(fd);
    return rc;
}
