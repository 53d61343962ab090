/* transceiver/replay.h - `replay` as a few calls: tell the input apart (a capture or a model),
 * open what sends (the libnet sink, after the permission, interface and route checks; nothing
 * for a dry run) and the source (a model's schedule, or a capture with its recorded timing),
 * wait for a common start, run the send loop with a listener for the peer's side beside it,
 * and name the outcome. Every check that can fail does so before the first packet leaves.
 * Nothing here prints: the caller reports, from what each call returns.
 * A struct trx_replay is zeroed with memset(), filled by the calls below in their order, and
 * released by trx_replay_close(). Not thread-safe. */
#ifndef TRANSCEIVER_REPLAY_H
#define TRANSCEIVER_REPLAY_H

#include <net/if.h>
#include <signal.h>
#include <stdint.h>

#include "common/err.h"
#include "packet/endpoint.h"
#include "transceiver/listener.h"
#include "transceiver/sender.h"
#include "transceiver/sink.h"
#include "transceiver/source.h"
#include "transceiver/source_capture.h"
#include "transceiver/timer.h"

/* --side not given: a model's local side, or both sides of a capture. */
#define TRX_SIDE_DEFAULT (-2)

/* What a replay is asked to do; trx_replay_opts_init() fills the defaults. */
struct trx_replay_opts {
    const char *iface; /* NULL: none (a dry run only) */
    int have_peer;
    uint8_t ip_version;    /* of the peer (4 or 6); 0 without one */
    uint8_t peer_mac_auto; /* with have_peer_mac: the next hop's MAC, looked up at open */
    uint8_t peer_ip[16];
    int have_peer_mac; /* link-layer mode: Ethernet frames to peer_mac */
    uint8_t peer_mac[6];
    int side; /* MDL_SIDE_*, TRX_SIDE_BOTH, or TRX_SIDE_DEFAULT */
    long streams;
    int have_flow; /* capture: only this flow */
    struct pkt_flow_key flow;
    double speed;      /* capture: 2 plays twice as fast (default 1) */
    uint64_t count;    /* stop after this many packets, 0 = no limit */
    double duration_s; /* with have_duration: stop after this long, 0 = no limit */
    int have_duration; /* without it or count: a model plays its side's duration, a capture
                        * itself, loops times */
    unsigned loops;    /* passes (default 1); 0: until stopped, as tcpreplay --loop=0 */
    double rate_scale; /* model: multiplies the packet rate (default 1) */
    double pps, mbps;  /* > 0: a total rate instead (one of them), as tcpreplay --pps and
                        * --mbps: a capture's packets are paced at it, a model's rate is
                        * scaled so that its streams' mean comes to it (payload bits) */
    double max_rate;   /* packets per second at most, 0 = no cap */
    enum trx_timer_mode timer;
    double spin_us; /* hybrid timer's spin; < 0: the send loop's default, or
                     * TRX_REPLAY_RT_SPIN_NS with realtime */
    int realtime;
    const char *variant; /* model: FILE[:NAME] of a variant to apply, or NULL */
    uint64_t seed;
    int have_seed;
    long src_port, dst_port; /* model: -1 = the variant's, then the model's */
    int listen;              /* model: also receive the peer's side on this side's port */
    int have_start;          /* start at a time (--start-at) */
    int start_relative;      /* start_at is seconds from now, not a UNIX time */
    double start_at;
    int dry_run; /* no sink: the source only */
    /* mpirun's ranks (trx_replay_shard()): this rank plays streams first_stream ..
     * first_stream + streams - 1 of total_streams; 0 and 0 for one process. */
    unsigned first_stream, total_streams;
};

void trx_replay_opts_init(struct trx_replay_opts *o);

/* The spin before a deadline with realtime (otherwise the send loop's default, 200 us):
 * wake-ups of a normal task come up to about 100 us late on a busy machine; a SCHED_FIFO one
 * wakes within tens. */
#define TRX_REPLAY_RT_SPIN_NS 20000

enum trx_replay_input { TRX_REPLAY_CAPTURE, TRX_REPLAY_MODEL };

struct trx_replay {
    enum trx_replay_input kind;
    struct trx_sink *sink;   /* NULL for a dry run */
    struct trx_source *src;  /* NULL until trx_replay_open_source() */
    int have_src_ip;         /* src_ip is the interface's: packets are sent from it */
    uint8_t src_ip[16];      /* from the route to the peer, or the interface's address */
    char via[IF_NAMESIZE];   /* the interface the route to the peer leaves through, or "" */
    uint8_t peer_mac[6];     /* link-layer mode: where the frames go (given, or looked up) */
    uint16_t own_port;       /* model: the port this host's side sends from (stream 0) */
    double rate_scale;       /* model: the packet rate's multiplier in effect (--rate-scale,
                              * or what --pps/--mbps came to) */
    int64_t listen_ns;       /* --listen: listen this long from the start at least (the
                              * run's duration: the peer may send until its end) */
    uint64_t seed;           /* model: the seed its draws (lengths, gaps, SSRC, first
                              * sequence number) came from: --seed, or a random one */
    struct trx_listener lis; /* --listen: lis.r is the receiver once started */
    struct trx_send_opts send;
    struct trx_capture_stats capture; /* a capture's counters, after trx_replay_send() */
    unsigned first_stream, streams;   /* model: the streams this rank plays */
    int agreed;                       /* every rank passed trx_replay_wait_start()'s check */
    int64_t start_real_ns;            /* CLOCK_REALTIME as the send loop began */
    int64_t clock_offset_ns;          /* mpirun: rank 0's wall clock minus this rank's */
    int64_t clock_rtt_ns;             /* the round trip it was measured over */
    struct trx_lat_hist *lateness;    /* the send loop's histogram, for trx_replay_merge() */
};

/* What path holds, told by its first bytes: a capture (pcap, pcapng) or a model (a JSON
 * object). FM_EFORMAT for anything else, or pkt_sniff()'s errors. */
FM_MUST_CHECK int
trx_replay_input_kind(const char *path, enum trx_replay_input *kind, struct fm_err *err);

/* Not a dry run: the libnet sink on o->iface (root or CAP_NET_RAW, an interface that exists)
 * and the route to the peer (r->src_ip, r->via: when via is another interface, packets still
 * leave through o->iface; the caller may warn). A dry run with an interface and a peer: the
 * interface must exist (FM_ENOTFOUND) and has its address taken. Otherwise nothing. Returns
 * FM_OK or the sink's and the route's errors. */
FM_MUST_CHECK int
trx_replay_open_sink(struct trx_replay *r, const struct trx_replay_opts *o, struct fm_err *err);

/* The source over path of the given kind, with the addresses of trx_replay_open_sink(), and
 * the send loop's options (r->send). A model is loaded (and its variant), a capture opened.
 * Returns FM_OK, or the errors of mdl_json_load(), mdl_variant_load_spec(),
 * trx_source_model_new() (its message after "model 'PATH': "), trx_source_capture_new(). */
FM_MUST_CHECK int trx_replay_open_source(struct trx_replay *r,
                                         const struct trx_replay_opts *o,
                                         const char *path,
                                         enum trx_replay_input kind,
                                         struct fm_err *err);

/* --listen: start the receiver on r->own_port in a thread, before the first send so that the
 * peer's first packets are not missed. FM_OK (also without o->listen) or the listener's
 * errors. */
FM_MUST_CHECK int
trx_replay_listen(struct trx_replay *r, const struct trx_replay_opts *o, struct fm_err *err);

/* Under mpirun (common/par.h), rank `rank` of `size` takes its share of o->streams:
 * [rank * S / size, (rank + 1) * S / size), numbered, ported and seeded as one process of S
 * streams would play them; a --count is shared the same way. FM_EINVAL (the message says
 * why) for fewer streams than ranks, or a capture (o is then unchanged). Nothing for one
 * rank. */
FM_MUST_CHECK int trx_replay_shard(
    struct trx_replay_opts *o, enum trx_replay_input kind, int rank, int size, struct fm_err *err);

/* The margin rank 0 gives every rank between the broadcast of the start and the start, and
 * the last stretch before it each rank spins rather than sleeps. */
#define TRX_REPLAY_PAR_MARGIN_NS 200000000LL
#define TRX_REPLAY_PAR_SPIN_NS   2000000LL

/* The start. First every rank says it is ready (FM_EINVAL when another is not: its own error
 * is on its stderr), and r->agreed is set. One rank: --start-at (refused when too far ahead
 * or past, FM_EINVAL naming --start-at), waited for, or until *stop; FM_OK at once without
 * it. Several: a barrier; each rank measures its wall clock against rank 0's
 * (fm_par_clock_offset(): within half the fastest of 16 round trips, tens of us on a LAN);
 * then rank 0 broadcasts the start: TRX_REPLAY_PAR_MARGIN_NS from now on its clock, which
 * each rank waits for on its own clock corrected by the offset; or with --start-at, rank 0's
 * reading of it as a UNIX time, which each rank waits for on its own wall clock uncorrected
 * (precise with clocks synced by PTP or NTP: the user's word that they are). */
FM_MUST_CHECK int trx_replay_wait_start(struct trx_replay *r,
                                        const struct trx_replay_opts *o,
                                        const volatile sig_atomic_t *stop,
                                        struct fm_err *err);

/* Run the send loop to its end (trx_send_run(), whose code it returns), then stop the
 * listener (gracefully unless stopped) and take the capture's counters. st is filled in
 * every case; status(arg) is called about once a second. */
FM_MUST_CHECK int trx_replay_send(struct trx_replay *r,
                                  struct trx_send_stats *st,
                                  trx_status_fn status,
                                  void *arg,
                                  volatile sig_atomic_t *stop,
                                  struct fm_err *err);

/* The outcome of trx_replay_send()'s code and stats: "interrupted", "failed" (the loop's
 * error, or sends that failed: a packet the kernel refused is not a packet sent), or
 * "complete". */
const char *trx_replay_state(int send_rc, const struct trx_send_stats *st);

/* The share of packets sent late, in percent (0 without packets). */
double trx_replay_late_pct(const struct trx_send_stats *st);

/* One rank's share and figures, gathered to rank 0 by trx_replay_merge(). */
struct trx_replay_rank {
    int32_t rank, send_rc;
    uint32_t first_stream, streams;
    uint64_t packets, bytes, late, errors;
    int64_t late_p50_ns, late_p99_ns, late_max_ns, elapsed_ns;
    int64_t start_real_ns;   /* when its send loop began, CLOCK_REALTIME of rank 0 */
    int64_t clock_offset_ns; /* rank 0's wall clock minus its own, and the round trip */
    int64_t clock_rtt_ns;    /* it was measured over */
    char host[64];
    char first_error[128]; /* its first failed send's reason, or "" */
};

/* A run of several ranks, merged. */
struct trx_replay_ranks {
    int size;                     /* 1: one process, nothing else is set */
    int64_t start_spread_ns;      /* the latest rank's start - the earliest's (rank 0's clock) */
    struct trx_replay_rank *rank; /* size of them in rank order, on rank 0; NULL elsewhere */
};

/* After trx_replay_send(), on every rank: *st and *send_rc become the whole run's on every
 * rank: counts summed, lateness percentiles from the ranks' histograms merged bin by bin
 * (not an average of percentiles), the largest lateness, elapsed from the earliest start to
 * the latest end; the code is FM_EINTR when a rank was stopped, else the first rank's
 * failure, else FM_OK. One rank: nothing changes. FM_OK or FM_ENET/FM_ENOMEM (*st then
 * remains this rank's own). Release out with trx_replay_ranks_free(). */
FM_MUST_CHECK int trx_replay_merge(const struct trx_replay *r,
                                   struct trx_send_stats *st,
                                   int *send_rc,
                                   struct trx_replay_ranks *out,
                                   struct fm_err *err);
void trx_replay_ranks_free(struct trx_replay_ranks *k);

/* Stop and free the listener, the source and the sink; r is then as zeroed. A rank that
 * never reached the start tells the others here, so that none waits for it. */
void trx_replay_close(struct trx_replay *r);

#endif
