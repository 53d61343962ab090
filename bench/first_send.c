/* bench/first_send.c - how long a process's first UDP send takes, against its later ones.
 * Usage: first_send MODE DST_IP [PACKETS]
 * Sends PACKETS (default 10) 200-byte UDP datagrams to DST_IP port 5006, 100 us apart (spun),
 * and prints one JSON line with the duration of each sendto() in ns. Before the first one,
 * 1 ms ahead, MODE does:
 *   cold   nothing: the first send is the process's first trip through the send path
 *   probe  sendto(MSG_PROBE) to the same destination: routing only, nothing is sent
 *   lo     one datagram to 127.0.0.1 port 9 (discard) through the same socket
 *   veth   one datagram to DST_IP port 9 through another socket: the whole path once
 * Only addresses in 198.18.0.0/15 are accepted, so it can only reach the namespaces of
 * bench/first_send.sh; the loop is bounded by PACKETS (at most 1000). */
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

#include "common/err.h"
#include "common/num.h"

#ifndef MSG_PROBE
#define MSG_PROBE 0x10 /* linux/socket.h: do not send, only probe the path */
#endif

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void spin_until(int64_t t)
{
    while (now_ns() < t) {
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: first_send cold|probe|lo|veth DST_IP [PACKETS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct fm_err err = {0};
    uint64_t packets = 10;
    if (argc < 3 || argc > 4)
        return usage();
    const char *mode = argv[1];
    if (strcmp(mode, "cold") != 0 && strcmp(mode, "probe") != 0 && strcmp(mode, "lo") != 0 &&
        strcmp(mode, "veth") != 0)
        return usage();
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons(5006);
    if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1 ||
        (ntohl(dst.sin_addr.s_addr) & 0xfffe0000u) != 0xc6120000u) {
        fprintf(stderr, "first_send: '%s' is not an address in 198.18.0.0/15\n", argv[2]);
        return 2;
    }
    if (argc == 4 && fm_parse_u64(argv[3], 1000, "PACKETS", &packets, &err) < 0) {
        fprintf(stderr, "first_send: %s\n", err.msg);
        return 2;
    }
    if (packets == 0)
        return usage();

    int rc = 1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int other = socket(AF_INET, SOCK_DGRAM, 0);
    int64_t took[1000];
    uint8_t payload[200];
    memset(payload, 0x5a, sizeof(payload));
    if (fd < 0 || other < 0) {
        perror("first_send: socket");
        goto out;
    }
    struct sockaddr_in discard = dst;
    discard.sin_port = htons(9);
    if (strcmp(mode, "probe") == 0) {
        if (sendto(fd, payload, sizeof(payload), MSG_PROBE, (const struct sockaddr *)&dst,
                   sizeof(dst)) < 0)
            perror("first_send: MSG_PROBE");
    } else if (strcmp(mode, "lo") == 0) {
        struct sockaddr_in lo = discard;
        lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (sendto(fd, payload, sizeof(payload), 0, (const struct sockaddr *)&lo, sizeof(lo)) < 0)
            perror("first_send: loopback");
    } else if (strcmp(mode, "veth") == 0) {
        if (sendto(other, payload, sizeof(payload), 0, (const struct sockaddr *)&discard,
                   sizeof(discard)) < 0)
            perror("first_send: veth");
    }
    int64_t t = now_ns() + 1000000;
    for (uint64_t i = 0; i < packets; i++) {
        spin_until(t);
        const int64_t t0 = now_ns();
        if (sendto(fd, payload, sizeof(payload), 0, (const struct sockaddr *)&dst, sizeof(dst)) <
            0) {
            fprintf(stderr, "first_send: sendto: %s\n", strerror(errno));
            goto out;
        }
        took[i] = now_ns() - t0;
        t += 100000;
    }
    printf("{\"mode\": \"%s\", \"send_ns\": [", mode);
    for (uint64_t i = 0; i < packets; i++)
        printf("%s%lld", i ? ", " : "", (long long)took[i]);
    printf("]}\n");
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (other >= 0)
        close(other);
    return rc;
}
