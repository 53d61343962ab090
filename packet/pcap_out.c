/* packet/pcap_out.c - pcap files written whole, through a temporary renamed into place. */
#include "packet/pcap_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pkt_pcap_out_open(
    struct pkt_pcap_out *o, const char *path, int linktype, int snaplen, struct fm_err *err)
{
    memset(o, 0, sizeof(*o));
    o->snaplen = (uint32_t)snaplen;
    o->path = strdup(path);
    o->dead = pcap_open_dead_with_tstamp_precision(linktype, snaplen, PCAP_TSTAMP_PRECISION_NANO);
    if (!o->path || !o->dead) {
        pkt_pcap_out_abort(o);
        return fm_err_set(err, FM_ENOMEM, "pcap writer for '%s'", path);
    }
    int rc = fm_atomic_open(&o->af, path, err);
    if (rc < 0) {
        pkt_pcap_out_abort(o);
        return rc;
    }
    o->dumper = pcap_dump_fopen(o->dead, o->af.f);
    if (!o->dumper) {
        rc = fm_err_set(err, FM_EIO, "cannot write '%s': %s", path, pcap_geterr(o->dead));
        pkt_pcap_out_abort(o);
        return rc;
    }
    o->af.lent = 1; /* the dumper owns the stream: pcap_dump_close() closes it */
    return FM_OK;
}

int pkt_pcap_out_write(struct pkt_pcap_out *o,
                       int64_t ts_ns,
                       const uint8_t *data,
                       uint32_t caplen,
                       uint32_t wirelen,
                       struct fm_err *err)
{
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    if (ts_ns < 0)
        ts_ns = 0;
    h.ts.tv_sec = (time_t)(ts_ns / 1000000000LL);
    /* With nanosecond precision the dumper takes nanoseconds in tv_usec. */
    h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000LL);
    /* A frame over the snapshot length is cut there, as a capture would; its lengths still
     * say how long it was. */
    h.caplen = caplen > o->snaplen ? o->snaplen : caplen;
    h.len = wirelen;
    pcap_dump((u_char *)o->dumper, &h, data);
    if (ferror(pcap_dump_file(o->dumper)))
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", o->path);
    return FM_OK;
}

int pkt_pcap_out_flush(struct pkt_pcap_out *o, struct fm_err *err)
{
    if (pcap_dump_flush(o->dumper) != 0)
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", o->path);
    return FM_OK;
}

int pkt_pcap_out_commit(struct pkt_pcap_out *o, struct fm_err *err)
{
    int rc = fm_atomic_commit(&o->af, err);
    pkt_pcap_out_abort(o);
    return rc;
}

void pkt_pcap_out_abort(struct pkt_pcap_out *o)
{
    fm_atomic_abort(&o->af);
    if (o->dumper)
        pcap_dump_close(o->dumper);
    o->dumper = NULL;
    if (o->dead)
        pcap_close(o->dead);
    o->dead = NULL;
    free(o->path);
    o->path = NULL;
}
