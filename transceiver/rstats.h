/* transceiver/rstats.h - the receive statistics engine (struct trx_rstats): it takes one
 * UDP payload at a time with its addresses and arrival time and keeps per-stream state
 * (loss, reordering, duplicates, RFC 3550 interarrival jitter, one-way delay, gaps and
 * sizes); it does no I/O, so tests feed it directly, and transceiver/receiver.h feeds it
 * from sockets and captures.
 *
 * A stream is keyed by (IP version, source address and port, destination address and port,
 * SSRC when the payload is RTP). Payloads are taken as RTP (RFC 3550 5.1) when they hold at
 * least 12 bytes and start with version 2; RTCP (packet types 200..204) is counted, not made
 * into streams. Loss, reordering and duplicates come from the RTP sequence number extended
 * over its 16-bit wrap as RFC 3550 A.1 does; streams without RTP have packet, byte, gap and
 * size statistics only. A flowmimic probe after the RTP header (transceiver/packet.h) adds
 * the sender's clock: one-way delay (arrival - send time) and a jitter that needs no RTP
 * clock-rate guess; and its 32-bit sequence number, which makes loss exact over any gap.
 *
 * Sequence numbers (RFC 3550 A.1). A stream is on probation until MIN_SEQUENTIAL (2)
 * packets came in sequence; before that a large jump starts the count again. Then a step
 * forward below MAX_DROPOUT (3000) is taken as it reads (the packets between are lost), a
 * step back within MAX_MISORDER (100) is a late packet or a duplicate, and anything else is
 * a large jump, held until the next packet: unless that one follows it in sequence (A.1's
 * bad_seq), the held packet was a straggler (counted late when it falls inside the run) or
 * a stray (counted in `stray`, in no sequence). A jump confirmed that way is a burst of loss
 * or a sender that restarted, and 16 bits cannot tell which, nor how many times the number
 * wrapped: the probe's 32-bit sequence, when both packets carry one, decides exactly (a
 * probe sequence that does not step with the RTP one is a restart). Without it, the
 * arrival time does: the gap since the highest number, divided by the stream's time per
 * sequence number so far, estimates how many numbers were skipped, and the nearest count of
 * the form jump + k * 65536 is taken when the estimate is at least half of it; otherwise (or
 * with fewer than 8 numbers of history) the sender restarted: the count starts again and
 * what came before keeps its own (`restarts`). A short step (below MAX_DROPOUT) is tested
 * the same way for whole wraps hidden in it (a loss of exactly k * 65536 packets), when the
 * time since the highest number is worth at least half a wrap more than the step. Limits
 * without the probe: a sender that stops sending for more than 32,768 of its packet times
 * and resumes in sequence reads as a loss of 65,536 (except audio whose marker bit opens a
 * talkspurt, RFC 3551 4.1); a burst of loss that took less than half the time its size
 * implies (the rate dropped during it) reads as a restart.
 *
 * Gaps and payload lengths go into histograms of fixed layout (common/hist.h), so memory
 * per stream is bounded whatever the number of packets: gap percentiles are within 0.1%
 * (2^-10) of the exact nearest-rank ones, length percentiles are exact up to 2047 bytes and
 * within 0.05% above; minimum, maximum and mean are exact.
 *
 * Times: arrival times are CLOCK_REALTIME nanoseconds (what SO_TIMESTAMPNS and libpcap give),
 * so a one-way delay is meaningful when the probe's send time is CLOCK_REALTIME on a host
 * whose clock agrees with ours (the same host, or both synchronised by NTP/PTP). It is
 * reported raw, whatever it is; the caller decides whether it is plausible. Durations
 * (--duration, --idle) run on CLOCK_MONOTONIC.
 *
 * Ownership: trx_rstats_new() creates, trx_rstats_free() releases (NULL allowed). Not
 * thread-safe; no globals. Nothing here prints. */
#ifndef TRANSCEIVER_RSTATS_H
#define TRANSCEIVER_RSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "transceiver/packet.h"

/* Streams kept by default: as many as replay can send (transceiver/source_model.c), so that
 * one receiver accounts for every stream of a full replay. Packets of further streams are
 * counted in over_cap, in no stream. A stream costs 14-30 KiB when it has a few packets,
 * 50-110 KiB for a video flow of seconds to minutes (mostly its gap histogram), at most
 * trx_rstats_stream_mem_max(); nothing is allocated for a stream before its first packet,
 * so the cap costs nothing by itself (docs/SCALING.md has the measures). */
#define TRX_RSTATS_MAX_STREAMS 4096
#define TRX_RSTATS_GAP_BITS    9  /* gap histogram: percentiles within 2^-10 */
#define TRX_RSTATS_LEN_BITS    10 /* length histogram: exact below 2048, then 2^-11 */

struct trx_rstats_opts {
    uint32_t clock_rate_hz; /* RTP clock for jitter of every stream; 0 (default): a static
                               payload type's, else measured per stream (see below) */
    size_t max_streams;     /* default TRX_RSTATS_MAX_STREAMS */
};

void trx_rstats_opts_init(struct trx_rstats_opts *o);

/* Where a stream's RTP clock came from. A dynamic payload type (96-127, or one RFC 3551
 * leaves unassigned) has no clock of its own: its timestamps' advance over the time they span
 * is snapped to 8, 16, 48 or 90 kHz within 20%; with less than 0.2 s or 5 steps of them, or no
 * clock near, 90 kHz is assumed. */
enum trx_clock_source {
    TRX_CLOCK_PAYLOAD_TYPE = 0, /* RFC 3551's table */
    TRX_CLOCK_OPTION,           /* trx_rstats_opts.clock_rate_hz */
    TRX_CLOCK_MEASURED,         /* from the timestamps, snapped */
    TRX_CLOCK_ASSUMED,          /* 90 kHz, for want of a measure */
};

/* What one stream looked like, computed by trx_rstats_stream(). Times in ns unless named;
 * values that cannot be known are NAN (doubles) or 0 with the matching count at 0. */
struct trx_stream_stats {
    uint8_t ip_version; /* 4 or 6; IPv4 addresses in the first 4 bytes */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    int rtp; /* 1: RTP; ssrc, rtp_pt, sequence and jitter fields are valid */
    uint32_t ssrc;
    uint8_t rtp_pt;         /* payload type of the last packet */
    uint32_t clock_rate_hz; /* RTP clock the jitter was computed with */
    enum trx_clock_source clock_source;
    double clock_measured_hz; /* the timestamps' rate before snapping (NAN: not measured) */

    uint64_t packets, bytes; /* every packet, duplicates included; UDP payload bytes */
    uint64_t expected;       /* highest - lowest extended sequence number + 1, summed over
                                the runs a restart separates (RTP) */
    uint64_t lost;           /* expected - distinct received, never below 0 */
    uint64_t reordered;      /* arrived after a packet with a higher sequence number */
    uint64_t duplicates;     /* a sequence number seen before (within the last 4096) */
    uint64_t stray;          /* RTP packets in no sequence: a jump the next packet did not
                                confirm, or one still waiting for its next packet */
    uint64_t restarts;       /* times the sequence started again (RFC 3550 A.1 re-sync) */
    double jitter_ms;        /* RFC 3550 6.4.1 / A.8 from RTP timestamps (NAN if not RTP) */
    double jitter_mean_ms;   /* its mean and largest value over the packets, as Wireshark's */
    double jitter_max_ms;    /* RTP stream analysis shows them (NAN if not RTP) */

    uint64_t probes;                /* packets carrying a valid flowmimic probe */
    double probe_jitter_ms;         /* the same estimator on the probes' send times (NAN: none) */
    int64_t owd_min_ns, owd_max_ns; /* arrival - probe send time, raw (0 when probes == 0) */
    double owd_mean_ns;             /* NAN when probes == 0 */

    /* Gaps between consecutive arrivals in this stream (packets - 1 of them). */
    int64_t iat_p50_ns, iat_p90_ns, iat_p99_ns, iat_max_ns;
    double iat_mean_ns; /* NAN with fewer than two packets */
    /* UDP payload lengths. */
    uint32_t len_min, len_p50, len_p90, len_p99, len_max;
    double len_mean;

    int64_t first_ns, last_ns; /* arrival times, CLOCK_REALTIME */
    uint64_t time_backwards;   /* arrivals timestamped before the stream's previous one */
};

/* Counts over everything the engine was given. */
struct trx_rstats_totals {
    uint64_t packets, bytes; /* counted in streams */
    uint64_t lost;           /* sum over the streams */
    uint64_t rtcp;           /* RTCP packets, counted here only */
    uint64_t over_cap;       /* packets of streams beyond max_streams, counted here only */
    size_t streams;
    size_t max_streams; /* the cap in use (merged: the largest rank's; each rank has its own) */
    int64_t first_ns, last_ns; /* first and last arrival over all streams (0 before any) */
};

struct trx_rstats;

/* A new empty engine with options o (NULL: defaults). Returns NULL when out of memory. */
struct trx_rstats *trx_rstats_new(const struct trx_rstats_opts *o);
void trx_rstats_free(struct trx_rstats *rs);

/* Account one UDP datagram: its addresses (a->ip_version 4 or 6), payload (len is the
 * datagram's real length; only the first min(len, cap) bytes are read, cap >= 32 is enough
 * for RTP and the probe) and arrival time (CLOCK_REALTIME ns; a negative one counts as 0).
 * Packets should come in arrival order; a time earlier than the stream's last counts as a
 * gap of 0. Returns FM_OK, or FM_ENOMEM (the packet is then not counted). */
FM_MUST_CHECK int trx_rstats_add(struct trx_rstats *rs,
                                 const struct trx_addr *a,
                                 const uint8_t *payload,
                                 size_t cap,
                                 size_t len,
                                 int64_t arrival_ns,
                                 struct fm_err *err);

/* Account the UDP datagrams of a capture file (pcap or pcapng, any link type the receiver
 * decodes) sent to one of ports (all UDP when nports is 0), with their capture timestamps as
 * arrival times: the same statistics for a capture as for what was received, so that the two
 * can stand side by side. Returns FM_OK, FM_EIO (cannot open), FM_EFORMAT (not a capture, a
 * link type the receiver cannot decode, truncated, a timestamp past year 2262: the message
 * names the file and, for a packet, its number), FM_ENOMEM. */
FM_MUST_CHECK int trx_rstats_read_pcap(struct trx_rstats *rs,
                                       const char *path,
                                       const uint16_t *ports,
                                       size_t nports,
                                       struct fm_err *err);

/* Number of streams, in order of first arrival. */
size_t trx_rstats_count(const struct trx_rstats *rs);

/* Compute the statistics of stream i (< trx_rstats_count()) into *out. Walks the stream's
 * histograms: cheap, but not for every packet. */
void trx_rstats_stream(struct trx_rstats *rs, size_t i, struct trx_stream_stats *out);

/* The largest RFC 3550 jitter (jitter_ms) of the RTP streams now, 0 without any; cheap (no
 * percentiles), for an interval line: a tick over thousands of streams must not stall the
 * receiver the way computing every stream's statistics would (tens of ms for 4096). */
double trx_rstats_jitter_worst_ms(const struct trx_rstats *rs);

/* Totals; cheap (no percentiles), for a status line. */
void trx_rstats_totals(const struct trx_rstats *rs, struct trx_rstats_totals *out);

/* Every stream's statistics (trx_rstats_stream()) in a new array the caller frees, *n of
 * them; NULL with *n == 0 when there is none, NULL with *n > 0 when out of memory. */
struct trx_stream_stats *trx_rstats_streams(struct trx_rstats *rs, size_t *n);

/* One rank's counts, for a line per rank. */
struct trx_rstats_rank {
    int32_t rank;
    char host[64];
    struct trx_rstats_totals t;
};

/* Streams and totals, one receiver's or an MPI run's merged. */
struct trx_rstats_merged {
    struct trx_stream_stats *s; /* n streams: rank 0's first, then rank 1's... */
    size_t n;
    struct trx_rstats_totals t;   /* summed; first and last arrival over every rank */
    int size;                     /* ranks merged (1: one receiver) */
    struct trx_rstats_rank *rank; /* size of them (NULL for one receiver) */
};

/* Under mpirun (common/par.h), on every rank: every rank's streams and totals into *out on
 * rank 0 (elsewhere *out is left empty). Counts are summed and streams listed as they
 * are: each rank received its own (a rank per host or namespace, each receiving what is
 * addressed to it), so no stream is counted twice. One rank: its own. FM_OK, FM_ENOMEM or
 * FM_ENET. Release with trx_rstats_merged_free(). */
FM_MUST_CHECK int
trx_rstats_gather(struct trx_rstats *rs, struct trx_rstats_merged *out, struct fm_err *err);
void trx_rstats_merged_free(struct trx_rstats_merged *m);

/* Heap bytes the engine holds now. It grows with the number of streams and with the powers
 * of two their gaps and lengths reach, never with the number of packets: at most
 * trx_rstats_stream_mem_max() per stream, plus the stream table. */
size_t trx_rstats_mem_bytes(const struct trx_rstats *rs);
size_t trx_rstats_stream_mem_max(void);

#endif
