/* transceiver/receiver.h - receiving flows to measure them (the measuring is the statistics
 * engine's, transceiver/rstats.h). The receiver (struct trx_receiver) owns the I/O: UDP sockets
 * with kernel receive timestamps (SO_TIMESTAMPNS, read in batches with recvmmsg), or a live libpcap
 * capture on an interface, optionally writing what it receives to a pcap file; it feeds its own
 * engine.
 *
 * Ownership: trx_rstats_new()/trx_receiver_new() create, the matching _free() releases (NULL
 * allowed). Nothing keeps pointers to caller data except the options' strings, which must
 * outlive the receiver. Not thread-safe: one object is used by one thread at a time, but
 * there are no globals, so a receiver runs in its own thread beside a send loop (replay
 * --listen) and is stopped through the stop flag given to trx_receiver_run(). Nothing here
 * prints. */
#ifndef TRANSCEIVER_RECEIVER_H
#define TRANSCEIVER_RECEIVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "transceiver/packet.h"
#include "transceiver/rstats.h"

/* ---- receiver (I/O) ---- */

#define TRX_RECV_MAX_PORTS 32

struct trx_recv_opts {
    uint16_t ports[TRX_RECV_MAX_PORTS]; /* socket mode: at least one; pcap mode: none = any */
    size_t nports;
    const char *bind_addr;  /* socket mode: NULL = any (IPv6 and IPv4 through one dual-stack
                               socket per port, or IPv4 only when IPv6 is off) */
    const char *iface;      /* set: pcap mode (live capture on this interface, inbound only) */
    int64_t duration_ns;    /* stop this long after trx_receiver_run() starts, 0 = no limit */
    uint64_t count;         /* stop after this many UDP packets, 0 = no limit */
    int64_t idle_ns;        /* stop this long after the last packet (once one came), 0 = no */
    const char *write_path; /* write received packets to this pcap file, NULL = no */
    int snaplen;            /* pcap mode capture length and written length (default 65535) */
    int rcvbuf_bytes;       /* socket receive buffer asked for (default 8 MiB) */
    struct trx_rstats_opts stats;
};

void trx_recv_opts_init(struct trx_recv_opts *o);

/* What the receiver saw besides the streams. */
struct trx_recv_info {
    int pcap_mode;
    uint64_t kernel_drops; /* sockets: SO_RXQ_OVFL; pcap: ps_drop + ps_ifdrop */
    uint64_t skipped;      /* pcap: frames that were not intact UDP (fragments, truncated) */
    uint64_t truncated;    /* sockets: datagrams longer than the receive buffer */
    uint64_t no_kernel_ts; /* sockets: arrival time from clock_gettime, not the kernel */
    uint64_t written;      /* packets written to write_path */
    int64_t elapsed_ns;    /* from the start of trx_receiver_run() to its end */
};

struct trx_receiver;

/* Open the sockets (or the capture) and the output file. On success stores a new receiver in
 * *out. Errors: FM_EINVAL (no port in socket mode, bad bind address), FM_ENET (a port in
 * use, socket errors; the message names the port), FM_EPERM (capture not permitted),
 * FM_ENOTFOUND (no such interface), FM_EIO (the output file), FM_ENOMEM. */
FM_MUST_CHECK int
trx_receiver_new(const struct trx_recv_opts *o, struct trx_receiver **out, struct fm_err *err);

/* Receive until the duration, count or idle time is reached, or *stop becomes nonzero (from a
 * signal handler or another thread; seen within 100 ms). status, when not NULL, is called
 * about once a second from this thread with the current totals. When writing a pcap file,
 * it is flushed as packets come and renamed into place when this returns, whatever the
 * reason. Returns FM_OK (a limit was reached), FM_EINTR (stopped), or FM_ENET / FM_EIO on a
 * receive or write error (the statistics so far stay readable). Call once. */
FM_MUST_CHECK int trx_receiver_run(struct trx_receiver *r,
                                   void (*status)(const struct trx_rstats_totals *t, void *arg),
                                   void *arg,
                                   const volatile sig_atomic_t *stop,
                                   struct fm_err *err);

/* The receiver's engine (borrowed; valid until trx_receiver_free()). */
struct trx_rstats *trx_receiver_stats(struct trx_receiver *r);

/* Counts besides the streams; valid after trx_receiver_run(). */
void trx_receiver_info(const struct trx_receiver *r, struct trx_recv_info *out);

/* The local port the i-th socket is bound to (useful with port 0 in tests), or 0. */
uint16_t trx_receiver_port(const struct trx_receiver *r, size_t i);

/* Close everything. A pcap file not yet renamed into place (run never called) is removed. */
void trx_receiver_free(struct trx_receiver *r);

#endif
