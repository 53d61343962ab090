/* packet/pcap_out.h - the one pcap writer for files flowmimic makes whole: generate's
 * output, convert's, receive -w. Nanosecond timestamps; the file is written to a temporary
 * and renamed into place on commit (common/file.h), so a reader sees the old file or the
 * whole new one, and a device or FIFO named as the output is written through. (capture -w
 * streams its file as packets come, for a capture read while it grows: estimator/capture.c.)
 * An embedded struct; not thread-safe. */
#ifndef PACKET_PCAP_OUT_H
#define PACKET_PCAP_OUT_H

#include <pcap/pcap.h>
#include <stdint.h>

#include "common/err.h"
#include "common/file.h"

struct pkt_pcap_out {
    struct fm_atomic_file af;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint32_t snaplen;
    char *path;
};

/* Open path for frames of linktype (DLT_*), cut at snaplen. FM_OK, FM_EIO (cannot write;
 * nothing left behind) or FM_ENOMEM. */
FM_MUST_CHECK int pkt_pcap_out_open(
    struct pkt_pcap_out *o, const char *path, int linktype, int snaplen, struct fm_err *err);

/* One frame: its time (ns since the epoch, >= 0), its captured bytes (cut at the snap
 * length here) and its length on the wire. FM_OK or FM_EIO when the stream failed. */
FM_MUST_CHECK int pkt_pcap_out_write(struct pkt_pcap_out *o,
                                     int64_t ts_ns,
                                     const uint8_t *data,
                                     uint32_t caplen,
                                     uint32_t wirelen,
                                     struct fm_err *err);

/* Push what is buffered to the file (a long run does this a few times a second). */
FM_MUST_CHECK int pkt_pcap_out_flush(struct pkt_pcap_out *o, struct fm_err *err);

/* 1 between a successful open and the commit or abort. */
static inline int pkt_pcap_out_is_open(const struct pkt_pcap_out *o)
{
    return o->dumper != NULL;
}

/* Put the file in place (FM_OK or FM_EIO), or throw it away; either way o is closed. Abort
 * after commit, or on a zeroed struct, does nothing. */
FM_MUST_CHECK int pkt_pcap_out_commit(struct pkt_pcap_out *o, struct fm_err *err);
void pkt_pcap_out_abort(struct pkt_pcap_out *o);

#endif
