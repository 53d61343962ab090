/* tests/fuzz/fuzz_fit.c - fitting a flow (estimator/estimate.h, models/mixture.h): packets
 * described by the input go into a flow table that keeps series (estimator/flow.c), and the
 * top flow is fitted with est_model_from_flow(); a fitted model must print and load again.
 * The packets skip libpcap and the decoder (fuzz_pcap.c and fuzz_decode.c fuzz those), so
 * that timestamps anywhere in 0..INT64_MAX, payload lengths, TTL, DSCP and RTP fields reach
 * the fit directly and cheaply.
 *
 * Input: 8 bytes of first timestamp (ns, little-endian, top bit dropped), one byte of fit
 * options, then 8 bytes per packet:
 *   flags   bit 0 side (0: A to B, 1: B to A), bits 1-2 the gap's unit (ns, us, ms, s),
 *           bit 3 RTP, bit 4 marker, bit 5 another SSRC, bit 6 a sequence jump,
 *           bit 7 a second flow (another port)
 *   ttl     TTL; its low 6 bits are also the DSCP
 *   length  payload length, 2 bytes little-endian
 *   gap     signed, 4 bytes little-endian, times the unit: timestamps may go backwards;
 *           they stay in 0..INT64_MAX as a capture's do. */
#include "estimator/estimate.h"
#include "models/json.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PACKETS 2048 /* bounds the fit's time on a long input */

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Fit options from one byte: small enough that a fit takes milliseconds. */
static void fit_opts(uint8_t b, struct est_opts *o)
{
    static const unsigned min_samples[4] = {2, 4, 16, 100};
    est_opts_init(o);
    o->iat_scale = (b & 1) ? MDL_SCALE_LINEAR : MDL_SCALE_LOG;
    o->fit.k = (b >> 1) & 3; /* 0: by BIC, up to max_k */
    if (o->fit.k == 3)
        o->fit.k = 0;
    o->fit.max_k = 2;
    o->fit.restarts = 1;
    o->fit.max_iter = 30;
    switch ((b >> 3) & 3) {
    case 1:
        o->fit.trim_lo = 5;
        o->fit.trim_hi = 95;
        break;
    case 2:
        o->fit.trim_lo = 0;
        o->fit.trim_hi = 50;
        break;
    case 3:
        o->fit.trim_lo = 50;
        o->fit.trim_hi = 100;
        break;
    default:
        break;
    }
    if (b & 0x20)
        o->fit.atom_min_share = 0;
    o->min_samples = min_samples[(b >> 6) & 3];
}

/* The next timestamp: ts + gap * unit, kept in 0..INT64_MAX. */
static int64_t step(int64_t ts, int32_t gap, unsigned unit)
{
    static const int64_t mult[4] = {1, 1000, 1000000, 1000000000};
    int64_t d = 0;
    int64_t next = 0;
    if (__builtin_mul_overflow((int64_t)gap, mult[unit], &d) ||
        __builtin_add_overflow(ts, d, &next))
        return d < 0 ? 0 : INT64_MAX;
    return next < 0 ? 0 : next;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct est_flow_table *t = NULL;
    struct fm_err err = {0};
    struct est_opts o;
    struct mdl_model m, again;

    if (size < 9)
        return 0;
    int64_t ts = (int64_t)(le(data, 8) & (uint64_t)INT64_MAX);
    fit_opts(data[8], &o);
    data += 9;
    size -= 9;
    t = est_flow_table_new();
    if (!t || est_flow_table_watch(t, NULL, &err) < 0)
        goto out;

    uint16_t seq = 1000;
    for (size_t i = 0; i + 8 <= size && i / 8 < MAX_PACKETS; i += 8) {
        const uint8_t *r = data + i;
        struct pkt_decoded p;
        memset(&p, 0, sizeof(p));
        ts = step(ts, (int32_t)(uint32_t)le(r + 4, 4), (r[0] >> 1) & 3);
        p.ts_ns = ts;
        p.ip_version = 4;
        p.proto = 17; /* UDP */
        uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
        memcpy(r[0] & 1 ? p.dst : p.src, a, 4);
        memcpy(r[0] & 1 ? p.src : p.dst, b, 4);
        uint16_t pa = (r[0] & 0x80) ? 5006 : 5004, pb = 6000;
        p.sport = r[0] & 1 ? pb : pa;
        p.dport = r[0] & 1 ? pa : pb;
        p.payload_len = (uint32_t)le(r + 2, 2);
        p.wire_len = p.payload_len + 42;
        p.ttl = r[1];
        p.dscp = r[1] & 0x3f;
        if (r[0] & 0x08) {
            seq = (uint16_t)(seq + ((r[0] & 0x40) ? 1000 : 1));
            p.rtp.valid = 1;
            p.rtp.payload_type = r[2] & 0x7f;
            p.rtp.marker = (r[0] >> 4) & 1;
            p.rtp.seq = seq;
            p.rtp.timestamp = (uint32_t)(ts / 125000);
            p.rtp.ssrc = (r[0] & 0x20) ? 0x1234u : 0xabcdu;
        }
        if (est_flow_table_add(t, &p, &err) < 0)
            goto out;
    }

    size_t n = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t, &n);
    fuzz_check(flows != NULL, "fit: sort", "NULL");
    if (n == 0)
        goto out;
    int rc = est_model_from_flow(flows[0], "fuzz.pcap", &o, &m, &err);
    if (rc < 0) {
        fuzz_check_err(rc, &err, "fit");
        goto out;
    }
    char *text = mdl_json_print(&m);
    fuzz_check(text != NULL, "fit: print the model", NULL);
    rc = mdl_json_parse(text, strlen(text), "fitted.json", &again, &err);
    fuzz_check(rc == FM_OK, "fit: a fitted model does not load", err.msg);
    free(text);
out:
    est_flow_table_free(t);
    return 0;
}
