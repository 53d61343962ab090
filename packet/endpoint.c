/* packet/endpoint.c - endpoints and flow keys, and their text forms. */
#include "packet/endpoint.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/num.h"

#define SPEC_MAX_TOKEN 128

/* Address bytes in memcmp() order, then the port. */
static int endpoint_cmp(const struct pkt_endpoint *x, const struct pkt_endpoint *y)
{
    int c = memcmp(x->addr, y->addr, sizeof(x->addr));
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (x->port > y->port) - (x->port < y->port);
}

int pkt_flow_key_equal(const struct pkt_flow_key *x, const struct pkt_flow_key *y)
{
    return x->ip_version == y->ip_version && x->proto == y->proto &&
           endpoint_cmp(&x->a, &y->a) == 0 && endpoint_cmp(&x->b, &y->b) == 0;
}

void pkt_flow_key_make(struct pkt_flow_key *k,
                       uint8_t ip_version,
                       uint8_t proto,
                       const struct pkt_endpoint *x,
                       const struct pkt_endpoint *y)
{
    /* Zero first, padding included, so that callers may compare keys with memcmp(). */
    memset(k, 0, sizeof(*k));
    k->ip_version = ip_version;
    k->proto = proto;
    if (endpoint_cmp(x, y) <= 0) {
        k->a = *x;
        k->b = *y;
    } else {
        k->a = *y;
        k->b = *x;
    }
}

void pkt_addr_format(uint8_t ip_version, const uint8_t addr[16], char *buf, size_t size)
{
    if (size == 0)
        return;
    if (!inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)size))
        buf[0] = '\0';
}

void pkt_addr_port_format(
    uint8_t ip_version, const uint8_t addr[16], uint16_t port, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN];
    pkt_addr_format(ip_version, addr, a, sizeof(a));
    if (ip_version == 6)
        snprintf(buf, size, "[%s]:%u", a, (unsigned)port);
    else
        snprintf(buf, size, "%s:%u", a, (unsigned)port);
}

void pkt_endpoint_format(uint8_t ip_version, const struct pkt_endpoint *e, char *buf, size_t size)
{
    pkt_addr_port_format(ip_version, e->addr, e->port, buf, size);
}

const char *pkt_proto_name(uint8_t proto)
{
    if (proto == PKT_PROTO_UDP)
        return "udp";
    if (proto == PKT_PROTO_TCP)
        return "tcp";
    return NULL;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into e; returns the IP version or 0 on error, with a reason
 * in *why. */
static int parse_endpoint(const char *tok, struct pkt_endpoint *e, const char **why)
{
    char addr[SPEC_MAX_TOKEN];
    const char *port = NULL;
    size_t alen = 0;
    int v6 = 0;

    if (tok[0] == '[') {
        const char *close = strchr(tok, ']');
        if (!close || close[1] != ':') {
            *why = "IPv6 endpoints are written [ADDR]:PORT";
            return 0;
        }
        alen = (size_t)(close - tok - 1);
        port = close + 2;
        v6 = 1;
    } else {
        const char *colon = strrchr(tok, ':');
        if (!colon) {
            *why = "missing ':PORT'";
            return 0;
        }
        alen = (size_t)(colon - tok);
        if (memchr(tok, ':', alen)) {
            *why = "IPv6 endpoints are written [ADDR]:PORT";
            return 0;
        }
        port = colon + 1;
    }
    if (alen == 0 || alen >= sizeof(addr)) {
        *why = "bad address";
        return 0;
    }
    memcpy(addr, tok + v6, alen);
    addr[alen] = '\0';
    memset(e, 0, sizeof(*e));
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, e->addr) != 1) {
        *why = v6 ? "bad IPv6 address" : "bad IPv4 address";
        return 0;
    }
    long p = 0;
    if (fm_parse_long(port, 0, 65535, "port", &p, NULL) < 0) {
        *why = "the port must be a number from 0 to 65535";
        return 0;
    }
    e->port = (uint16_t)p;
    return v6 ? 6 : 4;
}

int pkt_flow_spec_parse(const char *spec, struct pkt_flow_key *out, struct fm_err *err)
{
    static const char usage[] = "expected 'udp|tcp ADDR:PORT ADDR:PORT'";
    char tok[4][SPEC_MAX_TOKEN];
    size_t ntok = 0;
    const char *s = spec;

    /* Split on blanks into at most three tokens; a fourth means trailing garbage. */
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t len = strcspn(s, " \t");
        if (ntok == 4 || len >= SPEC_MAX_TOKEN)
            return fm_err_set(err, FM_EINVAL, "flow spec '%s': %s", spec, usage);
        memcpy(tok[ntok], s, len);
        tok[ntok][len] = '\0';
        ntok++;
        s += len;
    }
    if (ntok != 3)
        return fm_err_set(err, FM_EINVAL, "flow spec '%s': %s", spec, usage);

    uint8_t proto = 0;
    if (strcmp(tok[0], "udp") == 0)
        proto = PKT_PROTO_UDP;
    else if (strcmp(tok[0], "tcp") == 0)
        proto = PKT_PROTO_TCP;
    else
        return fm_err_set(err, FM_EINVAL, "flow spec '%s': unknown protocol '%s'; %s", spec, tok[0],
                          usage);

    struct pkt_endpoint x, y;
    const char *why = NULL;
    int vx = parse_endpoint(tok[1], &x, &why);
    if (!vx)
        return fm_err_set(err, FM_EINVAL, "flow spec '%s': endpoint '%s': %s", spec, tok[1], why);
    int vy = parse_endpoint(tok[2], &y, &why);
    if (!vy)
        return fm_err_set(err, FM_EINVAL, "flow spec '%s': endpoint '%s': %s", spec, tok[2], why);
    if (vx != vy)
        return fm_err_set(err, FM_EINVAL, "flow spec '%s': one endpoint is IPv4, the other IPv6",
                          spec);
    pkt_flow_key_make(out, (uint8_t)vx, proto, &x, &y);
    return FM_OK;
}
