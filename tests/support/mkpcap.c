/* tests/support/mkpcap.c - write a synthetic capture for tests: N UDP/IPv4 packets over
 * Ethernet spread over F flows, nanosecond timestamps, deterministic.
 * Usage: mkpcap OUT.pcap N [FLOWS] */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mkpcap OUT.pcap N [FLOWS]\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    long flows = argc > 3 ? strtol(argv[3], NULL, 10) : 3;
    if (n < 0 || flows < 1 || flows > 60000)
        return 2;
    pcap_t *dead =
        pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t *d = dead ? pcap_dump_open(dead, argv[1]) : NULL;
    if (!d) {
        fprintf(stderr, "mkpcap: cannot write %s\n", argv[1]);
        return 1;
    }
    uint8_t frame[1514];
    uint64_t state = 42;
    int64_t ts = 1700000000LL * 1000000000LL;
    for (long i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned f = (unsigned)((state >> 33) % (uint64_t)flows);
        /* Flow 0 carries half the packets so that it is the largest. */
        if ((state >> 20) & 1)
            f = 0;
        unsigned payload = 100 + (unsigned)((state >> 40) % 1100);
        int reverse = ((state >> 50) & 3) == 0;
        memset(frame, 0, 42);
        frame[5] = 1;
        frame[11] = 2;
        put16(frame + 12, 0x0800);
        uint8_t *ip = frame + 14;
        ip[0] = 0x45;
        put16(ip + 2, 20 + 8 + payload);
        ip[8] = 64;
        ip[9] = 17;
        uint8_t a[4] = {198, 18, 0, 1}, b[4] = {198, 18, 1, (uint8_t)(1 + f % 250)};
        memcpy(ip + 12, reverse ? b : a, 4);
        memcpy(ip + 16, reverse ? a : b, 4);
        uint8_t *udp = ip + 20;
        unsigned pa = 5004, pb = 6000 + f;
        put16(udp, reverse ? pb : pa);
        put16(udp + 2, reverse ? pa : pb);
        put16(udp + 4, 8 + payload);
        memset(udp + 8, 0xab, payload);
        ts += 1000 + (int64_t)((state >> 24) % 2000000);
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(ts / 1000000000LL);
        h.ts.tv_usec = (suseconds_t)(ts % 1000000000LL); /* ns in a nanosecond dumper */
        h.caplen = h.len = 14 + 20 + 8 + payload;
        pcap_dump((u_char *)d, &h, frame);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return 0;
}
