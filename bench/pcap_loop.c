/* bench/pcap_loop.c - the bare libpcap read loop: the ceiling for reading a capture here.
 * Usage: pcap_loop [-b BYTES] [-d] CAPTURE
 * Opens the file with nanosecond timestamps (as flowmimic does), calls pcap_next_ex until the
 * end, counts packets and captured bytes, and prints one JSON line {"packets", "bytes",
 * "seconds"} to stdout. It decodes nothing, so any reader that looks at headers can only be
 * slower, given the same I/O. Without -b, libpcap opens the file itself and stdio reads it
 * in st_blksize pieces (4 KiB here: one read() per ~6 packets of the benchmark capture).
 * With -b, the file is opened with fopen(), given a stdio buffer of BYTES with setvbuf() and
 * handed to pcap_fopen_offline_with_tstamp_precision(), as estimator/pcap_in.c does with
 * 256 KiB: that variant is the fair ceiling for flowmimic. With -d the loop is
 * pcap_dispatch() with a callback that counts, the calling convention estimator/pcap_in.c
 * uses for whole files (one call into libpcap per 64 Ki packets instead of one per packet);
 * without -d it is the pcap_next_ex() loop the targets are set against. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/err.h"
#include "common/num.h"
#include "common/time.h"

static int usage(void)
{
    fprintf(stderr, "usage: pcap_loop [-b BYTES] [-d] CAPTURE\n");
    return 2;
}

struct counts {
    uint64_t packets;
    uint64_t bytes;
};

static void count_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct counts *c = (struct counts *)(void *)user;
    (void)data;
    c->packets++;
    c->bytes += h->caplen;
}

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct fm_err err = {0};
    pcap_t *p = NULL;
    FILE *fp = NULL;
    char *iobuf = NULL;
    uint64_t bufsize = 0;
    int dispatch = 0;
    int rc = 1;

    int opt = getopt(argc, argv, "b:d");
    while (opt != -1) {
        if (opt == 'd') {
            dispatch = 1;
        } else if (opt != 'b') {
            return usage();
        } else if (fm_parse_u64(optarg, UINT64_C(1) << 30, "-b", &bufsize, &err) < 0) {
            fprintf(stderr, "pcap_loop: %s\n", err.msg);
            return usage();
        }
        opt = getopt(argc, argv, "b:d");
    }
    if (argc - optind != 1)
        return usage();
    const char *path = argv[optind];

    const int64_t t0 = fm_time_mono_ns();
    if (bufsize == 0) {
        p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    } else {
        fp = fopen(path, "rb");
        iobuf = malloc((size_t)bufsize);
        if (!fp || !iobuf) {
            fprintf(stderr, "pcap_loop: cannot open '%s'\n", path);
            goto out;
        }
        if (setvbuf(fp, iobuf, _IOFBF, (size_t)bufsize) != 0) {
            fprintf(stderr, "pcap_loop: setvbuf failed\n");
            goto out;
        }
        p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
        if (p)
            fp = NULL; /* pcap_close() closes it from now on */
    }
    if (!p) {
        fprintf(stderr, "pcap_loop: %s\n", errbuf);
        goto out;
    }
    struct counts c = {0, 0};
    int r = 0;
    if (dispatch) {
        r = pcap_dispatch(p, 65536, count_packet, (u_char *)&c);
        while (r > 0)
            r = pcap_dispatch(p, 65536, count_packet, (u_char *)&c);
        if (r == 0)
            r = PCAP_ERROR_BREAK; /* the end of the file, as pcap_next_ex() says it */
    } else {
        /* Counters of their own, not c's: c's address is taken above, so the compiler would
         * keep c in memory across every call. */
        uint64_t packets = 0;
        uint64_t bytes = 0;
        struct pcap_pkthdr *h = NULL;
        const u_char *data = NULL;
        r = pcap_next_ex(p, &h, &data);
        while (r == 1) {
            packets++;
            bytes += h->caplen;
            r = pcap_next_ex(p, &h, &data);
        }
        c.packets = packets;
        c.bytes = bytes;
    }
    if (r != PCAP_ERROR_BREAK) {
        fprintf(stderr, "pcap_loop: %s: %s\n", path, pcap_geterr(p));
        goto out;
    }
    const double seconds = (double)(fm_time_mono_ns() - t0) / 1e9;
    printf("{\"packets\": %llu, \"bytes\": %llu, \"seconds\": %.6f}\n",
           (unsigned long long)c.packets, (unsigned long long)c.bytes, seconds);
    rc = 0;
out:
    if (p)
        pcap_close(p);
    if (fp)
        fclose(fp);
    free(iobuf); /* only after pcap_close(): the FILE uses it until then */
    return rc;
}
