/* transceiver/route.c - where packets to a peer leave from: routes and interface addresses,
 * asked of the kernel without sending anything. */
#include "transceiver/route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The address of iface in the peer's family into out; prefers the one given in want (the
 * route's choice) when iface holds it, and avoids IPv6 link-local addresses when it can.
 * Returns FM_OK, FM_ENOTFOUND. */
int trx_iface_address(
    const char *iface, uint8_t version, const uint8_t *want, uint8_t out[16], struct fm_err *err)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0)
        return fm_err_errno(err, FM_ENET, errno, "cannot list the addresses of '%s'", iface);
    int found = 0; /* 1: an address, 2: the wanted one */
    int chosen_ll = 0;
    int family = version == 4 ? AF_INET : AF_INET6;
    memset(out, 0, 16);
    for (const struct ifaddrs *a = ifa; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != family || strcmp(a->ifa_name, iface) != 0)
            continue;
        uint8_t addr[16] = {0};
        int link_local = 0;
        if (family == AF_INET) {
            const struct sockaddr_in *sin = (const void *)a->ifa_addr;
            memcpy(addr, &sin->sin_addr, 4);
        } else {
            const struct sockaddr_in6 *sin6 = (const void *)a->ifa_addr;
            memcpy(addr, &sin6->sin6_addr, 16);
            link_local = IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr);
        }
        if (want && memcmp(addr, want, version == 4 ? 4 : 16) == 0) {
            memcpy(out, addr, 16);
            found = 2;
            break;
        }
        if (!found || (chosen_ll && !link_local)) {
            memcpy(out, addr, 16);
            chosen_ll = link_local;
            found = 1;
        }
    }
    freeifaddrs(ifa);
    if (!found)
        return fm_err_set(err, FM_ENOTFOUND, "interface '%s' has no IPv%u address", iface, version);
    return FM_OK;
}

/* The name of the interface holding addr, into name (IF_NAMESIZE), or "" when none does. */
static void address_owner(uint8_t version, const uint8_t *addr, char *name)
{
    struct ifaddrs *ifa = NULL;
    name[0] = '\0';
    if (getifaddrs(&ifa) != 0)
        return;
    int family = version == 4 ? AF_INET : AF_INET6;
    for (const struct ifaddrs *a = ifa; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != family)
            continue;
        const void *p = NULL;
        if (family == AF_INET)
            p = &((const struct sockaddr_in *)(const void *)a->ifa_addr)->sin_addr;
        else
            p = &((const struct sockaddr_in6 *)(const void *)a->ifa_addr)->sin6_addr;
        if (memcmp(p, addr, version == 4 ? 4 : 16) == 0) {
            snprintf(name, IF_NAMESIZE, "%s", a->ifa_name);
            break;
        }
    }
    freeifaddrs(ifa);
}

/* Ask the kernel for a route to the peer the cheap way: connect() a UDP socket (which sends
 * nothing) and read back the source address it chose. */
int trx_route_check(const char *iface,
                    uint8_t ip_version,
                    const uint8_t peer_ip[16],
                    uint8_t src[16],
                    char via[IF_NAMESIZE],
                    struct fm_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    char peer[INET6_ADDRSTRLEN];
    inet_ntop(ip_version == 4 ? AF_INET : AF_INET6, peer_ip, peer, sizeof(peer));
    memset(&ss, 0, sizeof(ss));
    if (ip_version == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(9);
        memcpy(&sin->sin_addr, peer_ip, 4);
        sl = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(9);
        memcpy(&sin6->sin6_addr, peer_ip, 16);
        if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
            sin6->sin6_scope_id = if_nametoindex(iface);
        sl = sizeof(*sin6);
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return fm_err_errno(err, FM_ENET, errno, "route to %s", peer);
    int rc = FM_OK;
    uint8_t route_src[16] = {0};
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        rc = fm_err_errno(err, FM_ENET, errno, "no route to peer %s", peer);
        goto out;
    }
    struct sockaddr_storage me;
    socklen_t ml = sizeof(me);
    if (getsockname(fd, (struct sockaddr *)&me, &ml) != 0) {
        rc = fm_err_errno(err, FM_ENET, errno, "route to %s", peer);
        goto out;
    }
    if (ip_version == 4)
        memcpy(route_src, &((struct sockaddr_in *)&me)->sin_addr, 4);
    else
        memcpy(route_src, &((struct sockaddr_in6 *)&me)->sin6_addr, 16);
    address_owner(ip_version, route_src, via);
    rc = trx_iface_address(iface, ip_version, route_src, src, err);
out:
    close(fd);
    return rc;
}

int trx_iface_mtu(const char *iface, int *mtu, struct fm_err *err)
{
    struct ifreq ifr;
    if (strlen(iface) >= sizeof(ifr.ifr_name))
        return fm_err_set(err, FM_ENOTFOUND, "no interface '%s' (see `ip link`)", iface);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return fm_err_errno(err, FM_ENET, errno, "cannot ask the MTU of '%s'", iface);
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, iface, strlen(iface) + 1);
    int rc = ioctl(fd, SIOCGIFMTU, &ifr);
    int e = errno;
    close(fd);
    if (rc < 0)
        return e == ENODEV
                   ? fm_err_set(err, FM_ENOTFOUND, "no interface '%s' (see `ip link`)", iface)
                   : fm_err_errno(err, FM_ENET, e, "cannot ask the MTU of '%s'", iface);
    *mtu = ifr.ifr_mtu;
    return FM_OK;
}
