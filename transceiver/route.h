/* transceiver/route.h - where packets to a peer leave from. Every function asks the kernel
 * (getifaddrs(), a connect()ed UDP socket, rtnetlink) and sends nothing; reentrant. */
#ifndef TRANSCEIVER_ROUTE_H
#define TRANSCEIVER_ROUTE_H

#include <net/if.h>
#include <stdint.h>

#include "common/err.h"

/* The address of iface in the given IP version into out (16 bytes, IPv4 in the first 4);
 * prefers want (may be NULL) when iface holds it, and avoids IPv6 link-local addresses when
 * it can. Returns FM_OK, FM_ENOTFOUND (no such address) or FM_ENET. */
FM_MUST_CHECK int trx_iface_address(
    const char *iface, uint8_t version, const uint8_t *want, uint8_t out[16], struct fm_err *err);

/* The MTU of iface (SIOCGIFMTU) into *mtu. FM_OK, FM_ENOTFOUND (no such interface) or
 * FM_ENET. */
FM_MUST_CHECK int trx_iface_mtu(const char *iface, int *mtu, struct fm_err *err);

/* The route to peer_ip: FM_ENET "no route to peer X" when there is none. On FM_OK, src is
 * the address to send from (the route's when iface holds it, else iface's own), and via the
 * interface the kernel's route leaves through ("" when unknown): when it is not iface, the
 * raw socket bound to iface still sends there, but the peer may not be reachable. */
FM_MUST_CHECK int trx_route_check(const char *iface,
                                  uint8_t ip_version,
                                  const uint8_t peer_ip[16],
                                  uint8_t src[16],
                                  char via[IF_NAMESIZE],
                                  struct fm_err *err);

/* The MAC address of the next hop toward peer_ip through iface, from the kernel's route (its
 * gateway, or the peer on the link) and neighbour table, into mac.
 * Sends nothing: FM_ENOTFOUND "... does not know the MAC of ..." (with what to do) when ARP or
 * neighbour discovery has not resolved it; FM_ENET without a route. */
FM_MUST_CHECK int trx_next_hop_mac(const char *iface,
                                   uint8_t ip_version,
                                   const uint8_t peer_ip[16],
                                   uint8_t mac[6],
                                   struct fm_err *err);

#endif
