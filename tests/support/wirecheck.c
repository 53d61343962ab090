/* tests/support/wirecheck.c - how close two captures of one UDP flow are: payload lengths
 * and gaps between packets sent to PORT, compared with the two-sample KS statistic and the
 * Wasserstein-1 distance (models/stats.h), decoded by the receiver's own decoder.
 * Usage: wirecheck REF.pcap GOT.pcap PORT
 * Prints: ref N got M ks_len X w1_len Y ks_gap Z w1_gap_us W */
#include "models/stats.h"
#include "transceiver/receiver_int.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

struct series {
    double *len, *gap;
    size_t n, cap;
};

static int load(const char *path, unsigned port, struct series *s)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!p) {
        fprintf(stderr, "wirecheck: %s\n", ebuf);
        return -1;
    }
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h = NULL;
    const u_char *b = NULL;
    long long last = -1;
    while (pcap_next_ex(p, &h, &b) == 1) {
        struct trx_addr a;
        size_t off = 0, len = 0;
        if (!trx_recv_decode(dlt, b, h->caplen, h->len, &a, &off, &len) || a.dport != port)
            continue;
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 1024;
            double *nl = realloc(s->len, s->cap * sizeof(double));
            if (nl)
                s->len = nl;
            double *ng = nl ? realloc(s->gap, s->cap * sizeof(double)) : NULL;
            if (ng)
                s->gap = ng;
            if (!nl || !ng) {
                pcap_close(p);
                return -1;
            }
        }
        long long t = (long long)h->ts.tv_sec * 1000000000LL + (long long)h->ts.tv_usec;
        s->len[s->n] = (double)len;
        s->gap[s->n] = last < 0 ? 0.0 : (double)(t - last);
        last = t;
        s->n++;
    }
    pcap_close(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: wirecheck REF.pcap GOT.pcap PORT\n");
        return 2;
    }
    struct series ref = {0}, got = {0};
    int rc = 1;
    unsigned port = (unsigned)strtoul(argv[3], NULL, 10);
    if (load(argv[1], port, &ref) < 0 || load(argv[2], port, &got) < 0)
        goto out;
    if (ref.n < 2 || got.n < 2) {
        fprintf(stderr, "wirecheck: too few packets (%zu and %zu)\n", ref.n, got.n);
        goto out;
    }
    /* The first gap of each is the 0 before the first packet: leave it out. */
    printf("ref %zu got %zu ks_len %.6f w1_len %.3f ks_gap %.6f w1_gap_us %.3f\n", ref.n, got.n,
           mdl_stats_ks(ref.len, ref.n, got.len, got.n),
           mdl_stats_w1(ref.len, ref.n, got.len, got.n),
           mdl_stats_ks(ref.gap + 1, ref.n - 1, got.gap + 1, got.n - 1),
           mdl_stats_w1(ref.gap + 1, ref.n - 1, got.gap + 1, got.n - 1) / 1e3);
    rc = 0;
out:
    free(ref.len);
    free(ref.gap);
    free(got.len);
    free(got.gap);
    return rc;
}
