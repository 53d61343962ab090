/* packet/live.c - live capture opening (libpcap). */
#include "packet/live.h"

#include <string.h>

#include "packet/decode.h"

/* Compile filter for p and, when set is 1, install it. */
static int compile_filter(pcap_t *p, const char *filter, int set, struct fm_err *err)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return fm_err_set(err, FM_EINVAL, "capture filter '%s' rejected: %s (see pcap-filter(7))",
                          filter, pcap_geterr(p));
    int rc = FM_OK;
    if (set && pcap_setfilter(p, &prog) != 0)
        rc = fm_err_set(err, FM_ENET, "capture filter '%s': %s", filter, pcap_geterr(p));
    pcap_freecode(&prog);
    return rc;
}

int pkt_filter_check(const char *filter, struct fm_err *err)
{
    if (!filter || !*filter)
        return FM_OK;
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    if (!p)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    int rc = compile_filter(p, filter, 0, err);
    pcap_close(p);
    return rc;
}

static int activate(const struct pkt_live_opts *o, struct pkt_live *l, struct fm_err *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    const char *ifc = o->iface;
    l->cap = pcap_create(ifc, ebuf);
    if (!l->cap)
        return fm_err_set(err, FM_ENET, "cannot capture on '%s': %s", ifc, ebuf);
    pcap_set_snaplen(l->cap, o->snaplen);
    pcap_set_promisc(l->cap, o->promisc);
    pcap_set_immediate_mode(l->cap, 1);
    pcap_set_buffer_size(l->cap, o->buffer_bytes);
    int nano_ok = pcap_set_tstamp_precision(l->cap, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int arc = pcap_activate(l->cap);
    switch (arc) {
    case 0:
        break;
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return fm_err_set(err, FM_ENOTFOUND, "no interface '%s' (`ip link` lists them)", ifc);
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return fm_err_set(err, FM_EPERM,
                          "capturing on '%s' needs root or CAP_NET_RAW (sudo setcap "
                          "cap_net_raw,cap_net_admin=eip flowmimic)",
                          ifc);
    case PCAP_ERROR_IFACE_NOT_UP:
        return fm_err_set(err, FM_ENET, "interface '%s' is down: ip link set %s up", ifc, ifc);
    default:
        if (arc < 0)
            return fm_err_set(err, FM_ENET, "cannot capture on '%s': %s", ifc, pcap_geterr(l->cap));
        break; /* a warning (no promiscuous mode, ...): the capture still works */
    }
    l->nano = nano_ok && pcap_get_tstamp_precision(l->cap) == PCAP_TSTAMP_PRECISION_NANO;
    l->linktype = pcap_datalink(l->cap);
    if (o->decodable && !pkt_linktype_supported(l->linktype)) {
        const char *name = pcap_datalink_val_to_name(l->linktype);
        return fm_err_set(err, FM_EFORMAT,
                          "cannot capture on '%s': link type %s (%d) is not supported; "
                          "supported: %s",
                          ifc, name ? name : "unknown", l->linktype, PKT_LINKTYPE_NAMES);
    }
    /* Inbound only: with replay --listen on the same host, what is sent is not received. */
    if (o->inbound_only)
        (void)pcap_setdirection(l->cap, PCAP_D_IN);
    if (o->filter && *o->filter) {
        int rc = compile_filter(l->cap, o->filter, 1, err);
        if (rc < 0)
            return rc;
    }
    if (pcap_setnonblock(l->cap, 1, ebuf) != 0)
        return fm_err_set(err, FM_ENET, "capture on '%s': %s", ifc, ebuf);
    l->fd = pcap_get_selectable_fd(l->cap);
    if (l->fd < 0)
        return fm_err_set(err, FM_ENET, "capture on '%s' cannot be polled", ifc);
    return FM_OK;
}

int pkt_live_open(const struct pkt_live_opts *o, struct pkt_live *out, struct fm_err *err)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    int rc = activate(o, out, err);
    if (rc < 0)
        pkt_live_close(out);
    return rc;
}

void pkt_live_close(struct pkt_live *l)
{
    if (l->cap)
        pcap_close(l->cap);
    l->cap = NULL;
    l->fd = -1;
}
