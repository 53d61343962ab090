/* transceiver/source_capture.c - a packet source over a capture file, for `replay CAPTURE`.
 * Timing: every packet's offset is its capture timestamp minus the first selected packet's,
 * divided by the speed. The sender turns offsets into absolute deadlines, so the replay stays
 * anchored to the first packet however long it runs, where relative sleeps (tcpreplay) drift.
 * Timestamps that go backwards (merged captures) are held at the latest offset. */
#include "transceiver/source_capture.h"

#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "packet/decode.h"
#include "packet/pcap_in.h"
#include "packet/sniff.h"

struct capsrc {
    struct pkt_pcap_in *in;
    int linktype;
    struct trx_capture_opts o;
    int have_first;
    int64_t first_ts_ns;
    int64_t last_off_ns;
    int64_t pass_base_ns;   /* offset of this pass's first packet */
    uint64_t pass_selected; /* packets selected in this pass */
    uint64_t paced;         /* with pps or mbps: packets handed over so far */
    double paced_bits;      /* with mbps: payload bits handed over so far */
    int have_local;
    struct pkt_endpoint local; /* with a flow: the sender of its first packet */
    struct trx_capture_stats st;
    uint8_t buf[TRX_MAX_PAYLOAD]; /* a payload the snap length cut, padded with zeros */
};

static int same_endpoint(const struct pkt_endpoint *a, const uint8_t addr[16], uint16_t port)
{
    return a->port == port && memcmp(a->addr, addr, 16) == 0;
}

/* 1 when a decoded UDP packet belongs to the selected flow and side. */
static int selected(struct capsrc *cs, const struct pkt_decoded *d)
{
    if (!cs->o.have_flow)
        return 1;
    struct pkt_endpoint x, y;
    memcpy(x.addr, d->src, 16);
    x.port = d->sport;
    memcpy(y.addr, d->dst, 16);
    y.port = d->dport;
    struct pkt_flow_key k;
    pkt_flow_key_make(&k, d->ip_version, d->proto, &x, &y);
    if (!pkt_flow_key_equal(&k, &cs->o.flow))
        return 0;
    if (!cs->have_local) {
        cs->local = x;
        cs->have_local = 1;
    }
    int from_local = same_endpoint(&cs->local, d->src, d->sport);
    if (cs->o.side == MDL_SIDE_LOCAL)
        return from_local;
    if (cs->o.side == MDL_SIDE_REMOTE)
        return !from_local;
    return 1;
}

/* The end of a pass: start the next one (1), or say the end (0). The next pass begins one
 * mean gap of this one after its last packet, as tcpreplay --loop plays a file again. */
static int next_pass(struct capsrc *cs, struct fm_err *err)
{
    if (cs->o.loops != UINT_MAX && cs->st.passes >= (cs->o.loops ? cs->o.loops : 1))
        return 0;
    if (cs->pass_selected == 0)
        return 0; /* nothing selected: another pass would select nothing again */
    int64_t span = cs->last_off_ns - cs->pass_base_ns;
    int64_t gap = cs->pass_selected > 1 ? span / (int64_t)(cs->pass_selected - 1) : 0;
    pkt_pcap_close(cs->in);
    cs->in = NULL;
    int rc = pkt_pcap_open(cs->o.path, &cs->in, err);
    if (rc < 0)
        return rc;
    cs->st.passes++;
    cs->pass_base_ns = cs->last_off_ns + gap;
    cs->pass_selected = 0;
    cs->have_first = 0;
    return 1;
}

static int capsrc_next(void *self, struct trx_pkt *p, const uint8_t **original, struct fm_err *err)
{
    struct capsrc *cs = self;
    struct pkt_raw raw;
    struct pkt_decoded d;
    for (;;) {
        int r = pkt_pcap_next(cs->in, &raw, err);
        if (r < 0)
            return r;
        if (r == 0) {
            r = next_pass(cs, err);
            if (r <= 0)
                return r;
            continue;
        }
        cs->st.frames++;
        if (pkt_decode(cs->linktype, raw.data, raw.caplen, raw.wirelen, &d) != PKT_DEC_OK ||
            d.proto != IPPROTO_UDP) {
            cs->st.not_udp++;
            continue;
        }
        if (d.ip_version != cs->o.ip_version) {
            cs->st.other_version++;
            continue;
        }
        if (!selected(cs, &d)) {
            cs->st.other_flow++;
            continue;
        }
        break;
    }
    if (!cs->have_first) {
        cs->first_ts_ns = raw.ts_ns;
        cs->have_first = 1;
    }
    cs->pass_selected++;
    int64_t off =
        cs->pass_base_ns + (int64_t)llround((double)(raw.ts_ns - cs->first_ts_ns) / cs->o.speed);
    /* A rate instead of the recorded timing: the packet goes when the ones before it have
     * taken 1/pps each, or their payload bits at mbps. */
    if (cs->o.pps > 0)
        off = (int64_t)llround((double)cs->paced * 1e9 / cs->o.pps);
    else if (cs->o.mbps > 0)
        off = (int64_t)llround(cs->paced_bits / (cs->o.mbps * 1e6) * 1e9);
    cs->paced++;
    if (off < cs->last_off_ns)
        off = cs->last_off_ns;
    cs->last_off_ns = off;

    uint32_t plen = d.payload_len > TRX_MAX_PAYLOAD ? TRX_MAX_PAYLOAD : d.payload_len;
    uint32_t at = d.payload_off;
    uint32_t avail = raw.caplen - at;
    /* cppcheck cannot see pkt_decode() fill d and takes payload_len for 0. */
    /* cppcheck-suppress knownConditionTrueFalse */
    if (avail >= plen) {
        *original = raw.data + at;
    } else {
        /* The packet went out whole; only the capture kept less. Its length is what the
         * timing model cares about, so the missing bytes are sent as zeros. */
        memcpy(cs->buf, raw.data + at, avail);
        memset(cs->buf + avail, 0, plen - avail);
        *original = cs->buf;
        cs->st.short_payload++;
    }
    cs->st.selected++;
    cs->paced_bits += 8.0 * (double)plen;

    memset(p, 0, sizeof(*p));
    p->offset_ns = off;
    p->payload_len = plen;
    p->addr.ip_version = d.ip_version;
    memcpy(p->addr.src, cs->o.have_src ? cs->o.src_ip : d.src, 16);
    memcpy(p->addr.dst, cs->o.have_dst ? cs->o.dst_ip : d.dst, 16);
    p->addr.sport = d.sport;
    p->addr.dport = d.dport;
    p->ttl = d.ttl;
    p->dscp = d.dscp;
    return 1;
}

static void capsrc_free(void *self)
{
    struct capsrc *cs = self;
    if (!cs)
        return;
    pkt_pcap_close(cs->in);
    free(cs);
}

static const struct trx_source_ops capsrc_ops = {capsrc_next, capsrc_free};

int trx_source_capture_new(const struct trx_capture_opts *o,
                           struct trx_source **out,
                           struct fm_err *err)
{
    struct capsrc *cs = NULL;
    struct trx_source *src = NULL;
    int rc = FM_OK;
    if (!(o->speed > 0.0) || !isfinite(o->speed))
        return fm_err_set(err, FM_EINVAL, "--speed must be above 0");
    if (!(o->pps >= 0.0) || !(o->mbps >= 0.0) || (o->pps > 0 && o->mbps > 0))
        return fm_err_set(err, FM_EINVAL, "--pps and --mbps: one rate, above 0");
    cs = calloc(1, sizeof(*cs));
    src = calloc(1, sizeof(*src));
    if (!cs || !src) {
        rc = fm_err_set(err, FM_ENOMEM, "capture source");
        goto out;
    }
    cs->o = *o;
    if (o->loops != 0 && o->loops != 1 && !pkt_input_rereadable(o->path)) {
        rc = fm_err_set(err, FM_EINVAL,
                        "--loop: '%s' cannot be read twice (a pipe): save it to "
                        "a file first",
                        o->path);
        goto out;
    }
    rc = pkt_pcap_open(o->path, &cs->in, err);
    if (rc < 0)
        goto out;
    cs->st.passes = 1;
    cs->linktype = pkt_pcap_linktype(cs->in);
    src->ops = &capsrc_ops;
    src->self = cs;
    *out = src;
    cs = NULL;
    src = NULL;
out:
    capsrc_free(cs);
    free(src);
    return rc;
}

void trx_source_capture_stats(const struct trx_source *s, struct trx_capture_stats *out)
{
    const struct capsrc *cs = s->self;
    *out = cs->st;
}
