/* transceiver/sink.h - where built packets go: a pcap file, an interface through libnet, or
 * memory (tests). A sink is an interface (ops + self); created by a *_new() function and
 * released with trx_sink_close(), which also reports any deferred error. */
#ifndef TRANSCEIVER_SINK_H
#define TRANSCEIVER_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "transceiver/packet.h"

/* Packets that a batching sink counted in and then failed to put out, with their payload
 * bytes (the len given to queue()), so that the sender can take both back out of its totals. */
struct trx_sink_failed {
    uint64_t packets;
    uint64_t bytes;
};

struct trx_sink_ops {
    /* Put one packet out: headers from p (addresses, ports, TTL, DSCP), payload as given.
     * ts_ns is the packet's timestamp (pcap sinks write it; wire sinks ignore it). Returns
     * FM_OK or a negative FM_E* code (FM_ENET for a failed send, with the reason). */
    int (*send)(void *self,
                const struct trx_pkt *p,
                const uint8_t *payload,
                size_t len,
                int64_t ts_ns,
                struct fm_err *err);
    /* Optional (NULL when the sink has no batching): like send, but the sink may hold the
     * packet (copied) until flush() or until its batch is full, and send a batch in one system
     * call. Returns FM_OK or a negative FM_E* code; packets that a batch send failed to put
     * out are added to *failed (reasons in err). */
    int (*queue)(void *self,
                 const struct trx_pkt *p,
                 const uint8_t *payload,
                 size_t len,
                 struct trx_sink_failed *failed,
                 struct fm_err *err);
    /* Send what queue() holds; *failed as for queue(). */
    int (*flush)(void *self, struct trx_sink_failed *failed, struct fm_err *err);
    /* Finish: flush, close, and for files rename the temporary into place. commit = 0
     * discards a file sink's output instead (an error or Ctrl-C before the end). */
    int (*close)(void *self, int commit, struct fm_err *err);
};

struct trx_sink {
    const struct trx_sink_ops *ops;
    void *self;
};

static inline int trx_sink_send(struct trx_sink *s,
                                const struct trx_pkt *p,
                                const uint8_t *payload,
                                size_t len,
                                int64_t ts_ns,
                                struct fm_err *err)
{
    return s->ops->send(s->self, p, payload, len, ts_ns, err);
}

/* Close and free (NULL allowed). Returns FM_OK or the first error. */
FM_MUST_CHECK int trx_sink_close(struct trx_sink *s, int commit, struct fm_err *err);

/* Close and free without committing (NULL allowed), on a path that has failed already or
 * for a sink whose close has nothing to report (an interface): a pcap file is thrown away. */
void trx_sink_discard(struct trx_sink *s);

/* Ethernet/IPv4|IPv6/UDP frames into a pcap file with nanosecond timestamps (libpcap's
 * dumper), written to a temporary file renamed over path on a committed close. */
FM_MUST_CHECK int trx_sink_pcap_new(const char *path, struct trx_sink **out, struct fm_err *err);

/* Packets on an interface through libnet. Raw IP mode (the kernel resolves the next hop and
 * builds the link header) unless peer_mac is set (link-layer mode, frames built here). Checks
 * permission first: FM_EPERM "raw sockets need root or CAP_NET_RAW". */
struct trx_libnet_opts {
    const char *iface;  /* required */
    uint8_t ip_version; /* 4 or 6 */
    int have_peer_mac;
    uint8_t peer_mac[6];
};
FM_MUST_CHECK int
trx_sink_libnet_new(const struct trx_libnet_opts *o, struct trx_sink **out, struct fm_err *err);

/* Memory: keeps the first cap packets (pkt, payload copy, ts) for tests. */
struct trx_mem_rec {
    struct trx_pkt pkt;
    uint8_t payload[2048]; /* first bytes */
    size_t len;
    int64_t ts_ns;
};
FM_MUST_CHECK int trx_sink_mem_new(size_t cap, struct trx_sink **out, struct fm_err *err);
/* The records a memory sink holds (borrowed; valid until close). */
const struct trx_mem_rec *trx_sink_mem_records(const struct trx_sink *s, size_t *n);

#endif
