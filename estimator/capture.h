/* estimator/capture.h - live capture on an interface with libpcap, written to a pcap file as
 * packets come.
 * The file is written in place, not through a temporary: a capture is worth keeping whatever
 * ends it, so every poll round's packets are flushed to it, and after Ctrl-C, SIGTERM, a
 * limit or a write error (a full disk) the file ends on a whole record and reads as a valid
 * capture of everything written so far. Nothing is created before the interface is open and
 * the filter accepted, so a capture that cannot start leaves no file behind. */
#ifndef ESTIMATOR_CAPTURE_H
#define ESTIMATOR_CAPTURE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define EST_CAPTURE_SNAPLEN      262144
#define EST_CAPTURE_BUFFER_BYTES (32 << 20)

struct est_capture_opts {
    const char *iface;
    const char *filter;          /* BPF expression; NULL or "" captures everything */
    int snaplen;                 /* bytes kept per packet; default EST_CAPTURE_SNAPLEN */
    int buffer_bytes;            /* kernel buffer; default EST_CAPTURE_BUFFER_BYTES */
    int promisc;                 /* 1 (the default) also sees traffic between other hosts */
    uint64_t count;              /* stop after this many packets; 0 = no limit */
    int64_t duration_ns;         /* stop after this long; 0 = no limit */
    const char *write_path;      /* the pcap file; "-" writes to standard output */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop, keep what was captured */
};

struct est_capture_stats {
    uint64_t packets;      /* written to the file */
    uint64_t bytes;        /* their length on the wire */
    uint64_t kernel_drops; /* pcap_stats: dropped for want of buffer space */
    uint64_t iface_drops;  /* pcap_stats: dropped by the interface or its driver */
    int64_t elapsed_ns;
    int link_type; /* DLT_* */
    int nano;      /* 1 when timestamps have nanosecond resolution */
};

struct est_capture;

/* Defaults as documented above; the pointers NULL, no limits. */
void est_capture_opts_init(struct est_capture_opts *o);

/* The BPF expression for "udp" traffic of a host and/or port ("udp and host 198.18.0.2 and
 * port 5004"). host must be an IPv4 or IPv6 address (a name would make libpcap query DNS),
 * port 1..65535 or 0 for any. FM_EINVAL naming the bad value. */
FM_MUST_CHECK int
est_capture_filter_build(const char *host, long port, char *buf, size_t size, struct fm_err *err);

/* Check a filter's syntax without an interface (and without privileges): FM_EINVAL with
 * libpcap's words and the filter. */
FM_MUST_CHECK int est_capture_filter_check(const char *filter, struct fm_err *err);

/* Open the interface, set the filter, then create the output file. Errors: FM_EPERM (not
 * root and no CAP_NET_RAW), FM_ENOTFOUND (no such interface), FM_EINVAL (filter rejected),
 * FM_ENET (the interface is down or cannot capture), FM_EIO (the file cannot be created). */
FM_MUST_CHECK int
est_capture_open(const struct est_capture_opts *o, struct est_capture **out, struct fm_err *err);

/* Capture until a limit, the stop flag or an error. status (may be NULL) is called about
 * once a second. Returns FM_OK at a limit, FM_EINTR when stopped, FM_EIO when the file could
 * not be written (it is then cut back to its last whole record), FM_ENET when the capture
 * failed (the interface went away). In every case the file is complete and valid. */
FM_MUST_CHECK int est_capture_run(struct est_capture *c,
                                  void (*status)(const struct est_capture_stats *s, void *arg),
                                  void *arg,
                                  struct fm_err *err);

void est_capture_get_stats(const struct est_capture *c, struct est_capture_stats *s);

/* Read a capture file instead of an interface (capture -r, as tcpdump -r FILE -w OUT EXPR):
 * the packets o->filter accepts, up to o->count, are written to o->write_path whole (a
 * temporary renamed into place; "-" is standard output), cut at o->snaplen, with their
 * timestamps. o->iface and o->duration_ns are not used; o->stop ends the read early with
 * what was written kept (FM_EINTR). s gets the counts; s->elapsed_ns is the capture's own
 * span. Errors: those of reading the file (pkt_pcap_open/next), FM_EINVAL (the filter),
 * FM_EIO (the output: nothing is left behind). */
FM_MUST_CHECK int est_capture_file(const struct est_capture_opts *o,
                                   const char *read_path,
                                   struct est_capture_stats *s,
                                   struct fm_err *err);

/* Close the interface and the file (flushing it). NULL is a no-op. */
void est_capture_free(struct est_capture *c);

#endif
