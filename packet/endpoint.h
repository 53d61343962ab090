/* packet/endpoint.h - the one endpoint type (an address and a port) and flow key of
 * flowmimic, with their text forms: "192.0.2.1:5004", "[2001:db8::1]:5004", and flow specs
 * "udp A:PORT B:PORT" as users write them on the command line. Reentrant. */
#ifndef PACKET_ENDPOINT_H
#define PACKET_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PKT_PROTO_TCP 6
#define PKT_PROTO_UDP 17

struct pkt_endpoint {
    uint8_t addr[16]; /* IPv4 in the first 4 bytes, rest zero */
    uint16_t port;
};

struct pkt_flow_key {
    uint8_t ip_version;
    uint8_t proto;
    struct pkt_endpoint a, b; /* canonical order: a <= b (address bytes, then port) */
};

/* Canonical key of a flow from two endpoints (either order); zeroed first, padding
 * included, so that keys compare with memcmp(). */
void pkt_flow_key_make(struct pkt_flow_key *k,
                       uint8_t ip_version,
                       uint8_t proto,
                       const struct pkt_endpoint *x,
                       const struct pkt_endpoint *y);

/* 1 when two canonical keys name the same flow. */
FM_MUST_CHECK int pkt_flow_key_equal(const struct pkt_flow_key *x, const struct pkt_flow_key *y);

/* Endpoint as text: "192.0.2.1:5004" or "[2001:db8::1]:5004" into buf (>= 64 bytes). */
void pkt_endpoint_format(uint8_t ip_version, const struct pkt_endpoint *e, char *buf, size_t size);
/* The same from an address and a port kept apart (a packet's source, its destination). */
void pkt_addr_port_format(
    uint8_t ip_version, const uint8_t addr[16], uint16_t port, char *buf, size_t size);
/* Just the address (INET6_ADDRSTRLEN bytes are enough). */
void pkt_addr_format(uint8_t ip_version, const uint8_t addr[16], char *buf, size_t size);

/* "udp", "tcp", or NULL for another protocol number. */
const char *pkt_proto_name(uint8_t proto);

/* Parse a flow spec "udp A:PORT B:PORT" (IPv6 as [addr]:port) into a canonical key.
 * Returns FM_OK or FM_EINVAL with a message naming the spec. */
FM_MUST_CHECK int
pkt_flow_spec_parse(const char *spec, struct pkt_flow_key *out, struct fm_err *err);

#endif
