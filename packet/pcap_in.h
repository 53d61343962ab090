/* packet/pcap_in.h - offline capture input (pcap and pcapng) with nanosecond timestamps.
 * The only libpcap user for files. A struct pkt_pcap_in is created by pkt_pcap_open() and
 * released with pkt_pcap_close(); packets returned by pkt_pcap_next() are borrowed and valid
 * until the next call. Not thread-safe. */
#ifndef PACKET_PCAP_IN_H
#define PACKET_PCAP_IN_H

#include <stdint.h>

#include "common/err.h"

struct pkt_pcap_in;

struct pkt_raw {
    int64_t ts_ns;       /* capture timestamp, ns since the epoch */
    const uint8_t *data; /* captured bytes, borrowed */
    uint32_t caplen;     /* bytes captured */
    uint32_t wirelen;    /* bytes on the wire */
};

/* Open a capture file. Returns FM_OK, or FM_EIO (cannot open/read: missing, a directory,
 * no permission) or FM_EFORMAT (empty, not a capture, unsupported link type); the message
 * names the file and says what to do. */
FM_MUST_CHECK int pkt_pcap_open(const char *path, struct pkt_pcap_in **out, struct fm_err *err);

/* Next packet: returns 1 and fills *pkt, 0 at the end of the file, or FM_EFORMAT when the
 * file is corrupt (message names the file and the packet number). A file that ends inside a
 * packet ends at its last whole packet, with one warning on stderr, as tcpdump reads it. */
FM_MUST_CHECK int pkt_pcap_next(struct pkt_pcap_in *in, struct pkt_raw *pkt, struct fm_err *err);

/* Hand up to max (> 0) packets, in file order, to fn, one call each; the packet is
 * borrowed until fn returns. The same packets as pkt_pcap_next() gives, with one call into
 * libpcap per batch instead of one per packet: for readers of whole files. fn returns 0 to
 * go on, nonzero to stop after that packet (then close the input: it is not meant to be
 * read further). Returns the number of packets handed to fn, 0 at the end of the file, or
 * the errors of pkt_pcap_next() (after fn has had every packet before the bad one). */
FM_MUST_CHECK int pkt_pcap_each(struct pkt_pcap_in *in,
                                int max,
                                int (*fn)(void *arg, const struct pkt_raw *pkt),
                                void *arg,
                                struct fm_err *err);

/* Keep only the packets a BPF filter (pcap-filter(7)) accepts, from the next one on, as
 * tcpdump -r FILE EXPR does. FM_OK or FM_EINVAL with libpcap's words and the filter. */
FM_MUST_CHECK int pkt_pcap_set_filter(struct pkt_pcap_in *in, const char *expr, struct fm_err *err);

/* The snapshot length the file was captured with. */
FM_MUST_CHECK int pkt_pcap_snaplen(const struct pkt_pcap_in *in);

/* libpcap's DLT_ link type of the file. */
FM_MUST_CHECK int pkt_pcap_linktype(const struct pkt_pcap_in *in);

/* Share of the file read so far, 0..1 (0 when unknown). */
double pkt_pcap_progress(const struct pkt_pcap_in *in);

/* Packets returned so far. */
uint64_t pkt_pcap_count(const struct pkt_pcap_in *in);

void pkt_pcap_close(struct pkt_pcap_in *in);

#endif
