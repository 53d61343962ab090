/* packet/live.h - the one way flowmimic opens a live capture (libpcap): `capture` and
 * `receive --iface` alike. Immediate mode, nanosecond timestamps where the kernel gives
 * them, a BPF filter, non-blocking with a descriptor to poll; errors say what to do (no such
 * interface, no permission, interface down, a filter libpcap rejects). Filters compile on a
 * dead handle too, so that a bad one is refused before any work. */
#ifndef PACKET_LIVE_H
#define PACKET_LIVE_H

#include <pcap/pcap.h>

#include "common/err.h"

struct pkt_live_opts {
    const char *iface;
    int snaplen;
    int promisc;
    int buffer_bytes;   /* the kernel buffer libpcap asks for */
    const char *filter; /* BPF (pcap-filter(7)); NULL or "" = everything */
    int inbound_only;   /* only packets the interface received, not those sent from here */
    int decodable;      /* refuse a link type packet/decode.h cannot read */
};

struct pkt_live {
    pcap_t *cap;
    int fd;       /* to poll */
    int nano;     /* timestamps are in nanoseconds (else microseconds) */
    int linktype; /* DLT_* */
};

/* Open and activate. FM_OK with *out filled, or FM_ENOTFOUND (no interface), FM_EPERM (root
 * or CAP_NET_RAW needed), FM_EINVAL (filter rejected), FM_EFORMAT (link type not decodable,
 * with decodable), FM_ENET (anything else); nothing is left open on failure. */
FM_MUST_CHECK int
pkt_live_open(const struct pkt_live_opts *o, struct pkt_live *out, struct fm_err *err);
void pkt_live_close(struct pkt_live *l);

/* Compile filter without an interface: FM_OK or FM_EINVAL naming it. NULL or "" is fine. */
FM_MUST_CHECK int pkt_filter_check(const char *filter, struct fm_err *err);

#endif
