/* estimator/capture_file.c - capture -r: a capture file read through a filter into another,
 * as tcpdump -r IN -w OUT EXPR does; see estimator/capture.h. */
#include "estimator/capture.h"

#include "packet/pcap_in.h"
#include "packet/pcap_out.h"

#include <string.h>

int est_capture_file(const struct est_capture_opts *o,
                     const char *read_path,
                     struct est_capture_stats *s,
                     struct fm_err *err)
{
    struct pkt_pcap_in *in = NULL;
    struct pkt_pcap_out out;
    memset(&out, 0, sizeof(out));
    memset(s, 0, sizeof(*s));
    int rc = pkt_pcap_open(read_path, &in, err);
    if (rc < 0)
        return rc;
    if (o->filter && *o->filter) {
        rc = pkt_pcap_set_filter(in, o->filter, err);
        if (rc < 0)
            goto out;
    }
    s->link_type = pkt_pcap_linktype(in);
    s->nano = 1;
    int snaplen = pkt_pcap_snaplen(in);
    if (o->snaplen > 0 && (snaplen <= 0 || o->snaplen < snaplen))
        snaplen = o->snaplen;
    const char *path = strcmp(o->write_path, "-") == 0 ? "/dev/stdout" : o->write_path;
    rc = pkt_pcap_out_open(&out, path, s->link_type, snaplen, err);
    if (rc < 0)
        goto out;
    int64_t first = 0;
    for (;;) {
        if (o->stop && *o->stop) {
            rc = FM_EINTR;
            break;
        }
        if (o->count && s->packets >= o->count)
            break;
        struct pkt_raw p;
        int r = pkt_pcap_next(in, &p, err);
        if (r < 0) {
            rc = r;
            goto out;
        }
        if (r == 0)
            break;
        if (s->packets == 0)
            first = p.ts_ns;
        rc = pkt_pcap_out_write(&out, p.ts_ns, p.data, p.caplen, p.wirelen, err);
        if (rc < 0)
            goto out;
        s->packets++;
        s->bytes += p.wirelen;
        s->elapsed_ns = p.ts_ns - first;
    }
    /* Stopped or not, what was written is a whole capture: put it in place. */
    int crc = pkt_pcap_out_commit(&out, err);
    if (crc < 0)
        rc = crc;
out:
    pkt_pcap_out_abort(&out);
    pkt_pcap_close(in);
    return rc < 0 ? rc : FM_OK;
}
