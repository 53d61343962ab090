/* bench/deadline_loop.c - the bare absolute-deadline send loop: the timing ceiling.
 * Usage: deadline_loop [-R] [-s SPIN_US] [-t MAX_SECONDS] [-l LEAD_MS] CAPTURE.pcap
 * Reads every Ethernet/IPv4/UDP packet of CAPTURE (its timestamps are the schedule), then
 * sends each UDP payload with sendto() on one UDP socket bound to the capture's source port,
 * to the capture's destination, at start + (timestamp - first timestamp): sleep with
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until SPIN_US (default 200) before the
 * deadline, with the timer slack at 1 ns (PR_SET_TIMERSLACK), then spin on clock_gettime.
 * start is LEAD_MS (default 10) after the capture is loaded. Nothing else happens in the
 * loop: no packet building, no statistics but a lateness maximum, so it shows what the
 * machine can do. -R runs it as `flowmimic replay --realtime` does: SCHED_FIFO priority 10
 * (above every normal task, below the kernel's threaded interrupts) and mlockall().
 * Safety: it refuses destinations outside 198.18.0.0/15 (RFC 2544 benchmark space), sends
 * exactly the capture's packets, and stops after MAX_SECONDS (default 120) whatever remains.
 * Prints one JSON line: packets sent, send errors, late packets (> 10 us), lateness p50, p99
 * (each send's lateness is stored in its slot, one store, and sorted after the loop) and the
 * worst. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/num.h"

#define ETH_HLEN    14
#define UDP_HLEN    8
#define NS_PER_SEC  1000000000LL
#define LATE_NS     10000 /* a send more than 10 us after its deadline counts as late */
#define RT_PRIORITY 10    /* as transceiver/timer.c */

struct slot {
    int64_t offset_ns; /* from the first packet */
    int64_t late_ns;   /* filled in as it is sent */
    uint32_t len;
    const uint8_t *payload; /* into the arena */
};

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

struct sched {
    struct slot *slots;
    size_t n, cap;
    uint8_t *arena;
    size_t used, arena_cap;
    struct sockaddr_in src, dst;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

/* Append one packet's UDP payload; returns 0, 1 when it is not IPv4/UDP, -1 on ENOMEM. */
static int sched_add(struct sched *s, const struct pcap_pkthdr *h, const uint8_t *d, int64_t t0)
{
    if (h->caplen < ETH_HLEN + 20 + UDP_HLEN || rd16(d + 12) != 0x0800)
        return 1;
    const uint8_t *ip = d + ETH_HLEN;
    const uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ip[9] != 17 || ihl < 20 || h->caplen < ETH_HLEN + ihl + UDP_HLEN)
        return 1;
    const uint8_t *udp = ip + ihl;
    const uint32_t ulen = rd16(udp + 4);
    if (ulen < UDP_HLEN || ETH_HLEN + ihl + ulen > h->caplen)
        return 1;
    const uint32_t len = ulen - UDP_HLEN;
    if (s->n == 0) {
        s->src.sin_family = AF_INET;
        memcpy(&s->src.sin_addr, ip + 12, 4);
        s->src.sin_port = htons((uint16_t)rd16(udp));
        s->dst.sin_family = AF_INET;
        memcpy(&s->dst.sin_addr, ip + 16, 4);
        s->dst.sin_port = htons((uint16_t)rd16(udp + 2));
    }
    if (s->n == s->cap) {
        const size_t cap = s->cap ? 2 * s->cap : 4096;
        struct slot *ns = realloc(s->slots, cap * sizeof(*ns));
        if (!ns)
            return -1;
        s->slots = ns;
        s->cap = cap;
    }
    if (!s->arena || s->used + len > s->arena_cap) {
        size_t cap = s->arena_cap ? 2 * s->arena_cap : (size_t)1 << 20;
        while (cap < s->used + len)
            cap *= 2;
        uint8_t *na = realloc(s->arena, cap);
        if (!na)
            return -1;
        /* Slots point into the arena: move them with it. */
        for (size_t i = 0; i < s->n; i++)
            s->slots[i].payload = na + (s->slots[i].payload - s->arena);
        s->arena = na;
        s->arena_cap = cap;
    }
    memcpy(s->arena + s->used, udp + UDP_HLEN, len);
    const int64_t ts = (int64_t)h->ts.tv_sec * NS_PER_SEC + h->ts.tv_usec;
    s->slots[s->n].offset_ns = s->n == 0 ? 0 : ts - t0;
    s->slots[s->n].len = len;
    s->slots[s->n].payload = s->arena + s->used;
    s->used += len;
    s->n++;
    return 0;
}

static int load(const char *path, struct sched *s)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!p) {
        fprintf(stderr, "deadline_loop: %s\n", errbuf);
        return -1;
    }
    int rc = 0;
    if (pcap_datalink(p) != DLT_EN10MB) {
        fprintf(stderr, "deadline_loop: %s: not an Ethernet capture\n", path);
        rc = -1;
    }
    struct pcap_pkthdr *h = NULL;
    const u_char *d = NULL;
    int64_t t0 = 0;
    while (rc == 0 && pcap_next_ex(p, &h, &d) == 1) {
        if (s->n == 0)
            t0 = (int64_t)h->ts.tv_sec * NS_PER_SEC + h->ts.tv_usec;
        if (sched_add(s, h, d, t0) < 0) {
            fprintf(stderr, "deadline_loop: out of memory\n");
            rc = -1;
        }
    }
    pcap_close(p);
    if (rc == 0 && s->n == 0) {
        fprintf(stderr, "deadline_loop: %s: no IPv4/UDP packets\n", path);
        rc = -1;
    }
    return rc;
}

/* 1 when addr (network order) is in 198.18.0.0/15. */
static int in_bench_net(const struct in_addr *addr)
{
    return (ntohl(addr->s_addr) & 0xfffe0000U) == 0xc6120000U;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: deadline_loop [-R] [-s SPIN_US] [-t MAX_SECONDS] [-l LEAD_MS] CAPTURE.pcap\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sched s = {0};
    struct fm_err err = {0};
    int fd = -1;
    uint64_t spin_us = 200;
    uint64_t max_s = 120;
    uint64_t lead_ms = 10;
    int realtime = 0;
    int rc = 1;
    int c;

    while ((c = getopt(argc, argv, "Rs:t:l:")) != -1) {
        int ok = FM_OK;
        switch (c) {
        case 'R':
            realtime = 1;
            break;
        case 's':
            ok = fm_parse_u64(optarg, 1000000, "-s", &spin_us, &err);
            break;
        case 't':
            ok = fm_parse_u64(optarg, 3600, "-t", &max_s, &err);
            break;
        case 'l':
            ok = fm_parse_u64(optarg, 10000, "-l", &lead_ms, &err);
            break;
        default:
            return usage();
        }
        if (ok < 0) {
            fprintf(stderr, "deadline_loop: %s\n", err.msg);
            return usage();
        }
    }
    if (optind != argc - 1)
        return usage();
    if (load(argv[optind], &s) < 0)
        goto out;
    if (!in_bench_net(&s.src.sin_addr) || !in_bench_net(&s.dst.sin_addr)) {
        fprintf(stderr, "deadline_loop: refusing addresses outside 198.18.0.0/15\n");
        goto out;
    }

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("deadline_loop: socket");
        goto out;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)&s.src, sizeof(s.src)) < 0) {
        perror("deadline_loop: bind");
        goto out;
    }
    /* The default slack of 50 us would wake every sleep up to 50 us late. */
    if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) < 0)
        perror("deadline_loop: PR_SET_TIMERSLACK");
    if (realtime) {
        struct sched_param sp;
        memset(&sp, 0, sizeof(sp));
        sp.sched_priority = RT_PRIORITY;
        if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0 || mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
            perror("deadline_loop: -R");
            goto out;
        }
    }

    const int64_t spin_ns = (int64_t)spin_us * 1000;
    const int64_t start = now_ns() + (int64_t)lead_ms * 1000000;
    const int64_t stop = start + (int64_t)max_s * NS_PER_SEC;
    uint64_t sent = 0, errors = 0, late = 0;
    int64_t worst_ns = 0;
    for (size_t i = 0; i < s.n; i++) {
        const int64_t deadline = start + s.slots[i].offset_ns;
        if (deadline > stop)
            break;
        int64_t t = now_ns();
        if (deadline - t > spin_ns) {
            const int64_t wake = deadline - spin_ns;
            struct timespec ts = {(time_t)(wake / NS_PER_SEC), (long)(wake % NS_PER_SEC)};
            int e;
            do
                e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            while (e == EINTR);
        }
        do
            t = now_ns();
        while (t < deadline);
        if (sendto(fd, s.slots[i].payload, s.slots[i].len, 0, (const struct sockaddr *)&s.dst,
                   sizeof(s.dst)) < 0)
            errors++;
        else
            sent++;
        const int64_t lateness = t - deadline;
        s.slots[i].late_ns = lateness;
        late += lateness > LATE_NS;
        if (lateness > worst_ns)
            worst_ns = lateness;
    }
    const size_t done = (size_t)(sent + errors);
    int64_t *lat = malloc((done ? done : 1) * sizeof(*lat));
    if (!lat) {
        fprintf(stderr, "deadline_loop: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < done; i++)
        lat[i] = s.slots[i].late_ns;
    qsort(lat, done, sizeof(*lat), cmp_i64);
    const size_t i50 = done ? (done - 1) / 2 : 0;
    const size_t i99 = done ? (size_t)((double)(done - 1) * 0.99) : 0;
    const double p50_us = done ? (double)lat[i50] / 1e3 : 0.0;
    const double p99_us = done ? (double)lat[i99] / 1e3 : 0.0;
    printf("{\"tool\": \"deadline_loop\", \"scheduled\": %zu, \"packets\": %llu, \"errors\": %llu, "
           "\"late\": %llu, \"p50_late_us\": %.3f, \"p99_late_us\": %.3f, \"worst_late_us\": "
           "%.3f, \"spin_us\": %llu, \"realtime\": %d}\n",
           s.n, (unsigned long long)sent, (unsigned long long)errors, (unsigned long long)late,
           p50_us, p99_us, (double)worst_ns / 1e3, (unsigned long long)spin_us, realtime);
    free(lat);
    rc = sent == s.n ? 0 : 1;
out:
    if (fd >= 0)
        close(fd);
    free(s.slots);
    free(s.arena);
    return rc;
}
