/* tests/unit/test_estimator_flow.c - the flow table: direction, per-side counters, sorting,
 * series of watched flows, flow specs and formatting. */
#include "estimator/flow.h"
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "tests/support/test_util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PROTO_UDP 17
#define PROTO_TCP 6

static struct pkt_decoded
pkt4(const char *src, unsigned sport, const char *dst, unsigned dport, int64_t ts, uint32_t len)
{
    struct pkt_decoded p;
    memset(&p, 0, sizeof(p));
    p.ts_ns = ts;
    p.ip_version = 4;
    p.proto = PROTO_UDP;
    assert_int_equal(inet_pton(AF_INET, src, p.src), 1);
    assert_int_equal(inet_pton(AF_INET, dst, p.dst), 1);
    p.sport = (uint16_t)sport;
    p.dport = (uint16_t)dport;
    p.payload_len = len;
    p.wire_len = len + 42;
    p.ttl = 64;
    p.dscp = 46;
    return p;
}

static void add(struct est_flow_table *t, const struct pkt_decoded *p)
{
    struct fm_err err = {0};
    assert_int_equal(est_flow_table_add(t, p, &err), FM_OK);
}

static void test_direction_and_counts(void **state)
{
    (void)state;
    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    /* The higher address sends first: it is still the local side. */
    struct pkt_decoded out = pkt4("198.51.100.9", 6000, "192.0.2.1", 5004, 1000, 100);
    struct pkt_decoded back = pkt4("192.0.2.1", 5004, "198.51.100.9", 6000, 0, 40);
    add(t, &out);
    back.ts_ns = 2000;
    add(t, &back);
    out.ts_ns = 500; /* out of order: the first timestamp moves back */
    add(t, &out);
    out.ts_ns = 3000;
    add(t, &out);
    assert_int_equal(est_flow_table_count(t), 1);

    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    assert_non_null(s);
    assert_int_equal(n, 1);
    const struct est_flow *f = s[0];
    assert_int_equal(f->local.port, 6000);
    assert_int_equal(f->local.addr[0], 198);
    assert_int_equal(f->remote.port, 5004);
    assert_int_equal(f->side[0].packets, 3);
    assert_int_equal(f->side[0].bytes, 300);
    assert_int_equal(f->side[0].first_ts_ns, 500);
    assert_int_equal(f->side[0].last_ts_ns, 3000);
    assert_int_equal(f->side[1].packets, 1);
    assert_int_equal(f->side[1].bytes, 40);
    assert_int_equal(f->side[1].first_ts_ns, 2000);
    assert_int_equal(f->side[1].last_ts_ns, 2000);
    assert_int_equal(f->keep_series, 0);
    assert_null(f->series[0]);
    /* The canonical key puts the smaller endpoint first. */
    assert_int_equal(f->key.a.port, 5004);
    assert_int_equal(f->key.b.port, 6000);

    /* Same addresses over TCP, or a different port, are different flows. */
    struct pkt_decoded tcp = out;
    tcp.proto = PROTO_TCP;
    add(t, &tcp);
    struct pkt_decoded other = pkt4("198.51.100.9", 6001, "192.0.2.1", 5004, 4000, 10);
    add(t, &other);
    assert_int_equal(est_flow_table_count(t), 3);
    est_flow_table_free(t);
    est_flow_table_free(NULL);
}

static void test_sorting_and_growth(void **state)
{
    (void)state;
    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    /* 5000 flows (past the first bucket array and many chunks); flow i gets i % 7 + 1
     * packets, so many ties that only first appearance orders. */
    enum { NFLOWS = 5000 };
    const struct est_flow *first = NULL;
    int64_t ts = 0;
    for (int round = 0; round < 7; round++) {
        for (unsigned i = 0; i < NFLOWS; i++) {
            if ((unsigned)round >= i % 7 + 1)
                continue;
            struct pkt_decoded p = pkt4("10.0.0.1", 1000 + i, "10.0.0.2", 2000, ts++, i);
            add(t, &p);
            if (!first) {
                size_t n = 0;
                first = est_flow_table_sorted(t, &n)[0];
            }
        }
    }
    assert_int_equal(est_flow_table_count(t), NFLOWS);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    assert_non_null(s);
    assert_int_equal(n, NFLOWS);
    for (size_t i = 1; i < n; i++) {
        uint64_t a = s[i - 1]->side[0].packets, b = s[i]->side[0].packets;
        assert_true(a >= b);
        if (a == b)
            assert_true(s[i - 1]->first_seen < s[i]->first_seen);
    }
    /* The first flows with 7 packets are ports 1006, 1013, ...; 1006 appeared first. */
    assert_int_equal(s[0]->side[0].packets, 7);
    assert_int_equal(s[0]->local.port, 1006);
    assert_int_equal(s[1]->local.port, 1013);
    assert_int_equal(s[n - 1]->side[0].packets, 1);
    /* Flows never move: the pointer taken after the first packet is still the flow. */
    assert_int_equal(first->local.port, 1000);
    assert_int_equal(first->side[0].packets, 1);
    /* Asking again without adding returns the same order. */
    size_t n2 = 0;
    assert_ptr_equal(est_flow_table_sorted(t, &n2), s);
    assert_int_equal(n2, n);
    est_flow_table_free(t);
}

static void test_watch_series(void **state)
{
    (void)state;
    struct fm_err err = {0};
    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    struct pkt_flow_key k;
    assert_int_equal(pkt_flow_spec_parse("udp 192.0.2.1:5004 198.51.100.9:6000", &k, &err), FM_OK);
    assert_int_equal(est_flow_table_watch(t, &k, &err), FM_OK);

    /* 1000 RTP packets from the local side (more than the initial series capacity): seq runs
     * on except one jump, one foreign SSRC, a marker on every 10th. */
    for (unsigned i = 0; i < 1000; i++) {
        struct pkt_decoded p =
            pkt4("198.51.100.9", 6000, "192.0.2.1", 5004, 1000 * (int64_t)i, 100 + i % 3);
        p.rtp.valid = 1;
        p.rtp.payload_type = 96;
        p.rtp.marker = i % 10 == 9;
        p.rtp.seq = (uint16_t)(65000 + i + (i >= 500 ? 1 : 0)); /* wraps, and skips one */
        p.rtp.ssrc = i == 700 ? 1 : 0xabcdu;
        p.ttl = (uint8_t)(i < 10 ? 63 : 64);
        add(t, &p);
    }
    struct pkt_decoded back = pkt4("192.0.2.1", 5004, "198.51.100.9", 6000, 5, 20);
    add(t, &back);
    /* A flow not watched keeps no series. */
    struct pkt_decoded other = pkt4("192.0.2.1", 5005, "198.51.100.9", 6000, 5, 20);
    add(t, &other);

    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    assert_int_equal(n, 2);
    const struct est_flow *f = s[0];
    assert_int_equal(f->keep_series, 1);
    assert_null(s[1]->series[0]);
    const struct est_series *l = f->series[0];
    assert_non_null(l);
    assert_int_equal(l->n, 1000);
    assert_true(l->cap >= 1000);
    assert_int_equal(l->ts_ns[999], 999000);
    assert_int_equal(l->payload_len[0], 100);
    assert_int_equal(l->payload_len[999], 100);
    assert_int_equal(l->payload_len[998], 102);
    assert_int_equal(l->ttl_hist[63], 10);
    assert_int_equal(l->ttl_hist[64], 990);
    assert_int_equal(l->dscp_hist[46], 1000);
    assert_int_equal(l->rtp_valid, 1000);
    assert_int_equal(l->rtp_pt_hist[96], 1000);
    assert_int_equal(l->rtp_marker, 100);
    assert_int_equal(l->rtp_ssrc_match, 999);
    assert_int_equal(l->rtp_first_ssrc, 0xabcdu);
    assert_int_equal(l->rtp_seq_next, 998); /* 999 successors, one skipped */
    const struct est_series *r = f->series[1];
    assert_non_null(r);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->rtp_valid, 0);
    assert_int_equal(r->ts_ns[0], 5);
    est_flow_table_free(t);

    /* Watching everything (NULL) keeps series for every flow. */
    t = est_flow_table_new();
    assert_non_null(t);
    assert_int_equal(est_flow_table_watch(t, NULL, &err), FM_OK);
    add(t, &back);
    add(t, &other);
    s = est_flow_table_sorted(t, &n);
    assert_int_equal(n, 2);
    assert_non_null(s[0]->series[0]);
    assert_non_null(s[1]->series[0]);
    assert_null(s[0]->series[1]); /* no packet the other way yet */
    est_flow_table_free(t);
}

static void test_spec_parse(void **state)
{
    (void)state;
    struct fm_err err = {0};
    struct pkt_flow_key k, k2;
    assert_int_equal(pkt_flow_spec_parse("udp 198.51.100.9:6000 192.0.2.1:5004", &k, &err), FM_OK);
    assert_int_equal(k.ip_version, 4);
    assert_int_equal(k.proto, PROTO_UDP);
    assert_int_equal(k.a.addr[0], 192);
    assert_int_equal(k.a.port, 5004);
    assert_int_equal(k.b.addr[0], 198);
    assert_int_equal(k.b.port, 6000);
    /* Either order and extra blanks give the same key. */
    assert_int_equal(pkt_flow_spec_parse("  udp\t192.0.2.1:5004   198.51.100.9:6000 ", &k2, &err),
                     FM_OK);
    assert_memory_equal(&k, &k2, sizeof(k));

    assert_int_equal(pkt_flow_spec_parse("tcp [2001:db8::1]:5004 [2001:db8::2]:443", &k, &err),
                     FM_OK);
    assert_int_equal(k.ip_version, 6);
    assert_int_equal(k.proto, PROTO_TCP);
    assert_int_equal(k.a.port, 5004);
    assert_int_equal(k.a.addr[15], 1);
    assert_int_equal(k.b.port, 443);

    static const char *const bad[] = {
        "",
        "udp",
        "udp 192.0.2.1:5004",
        "udp 192.0.2.1:5004 192.0.2.2:6000 extra",
        "sctp 192.0.2.1:5004 192.0.2.2:6000",
        "udp 192.0.2.1 192.0.2.2:6000",
        "udp 192.0.2.1:65536 192.0.2.2:6000",
        "udp 192.0.2.1:-1 192.0.2.2:6000",
        "udp 192.0.2.1: 192.0.2.2:6000",
        "udp 192.0.2.300:1 192.0.2.2:6000",
        "udp :1 192.0.2.2:6000",
        "udp 2001:db8::1:5004 [2001:db8::2]:6000",
        "udp [2001:db8::1]5004 [2001:db8::2]:6000",
        "udp [2001:db8::1 [2001:db8::2]:6000",
        "udp []:1 [2001:db8::2]:6000",
        "udp [192.0.2.1]:1 [2001:db8::2]:6000",
        "udp 192.0.2.1:1 [2001:db8::2]:6000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        memset(&k, 0x77, sizeof(k));
        if (pkt_flow_spec_parse(bad[i], &k, &err) != FM_EINVAL)
            fail_msg("spec '%s' accepted", bad[i]);
        assert_int_equal(err.code, FM_EINVAL);
        char quoted[300];
        snprintf(quoted, sizeof(quoted), "flow spec '%s'", bad[i]);
        assert_non_null(strstr(err.msg, quoted));
        assert_int_equal(k.a.port, 0x7777); /* untouched on error */
    }
    assert_int_equal(pkt_flow_spec_parse("udp 192.0.2.1", &k, &err), FM_EINVAL);
    assert_string_equal(err.msg,
                        "flow spec 'udp 192.0.2.1': expected 'udp|tcp ADDR:PORT ADDR:PORT'");
    /* A very long spec is rejected, not overflowed. */
    char longspec[600];
    memset(longspec, '1', sizeof(longspec) - 1);
    longspec[sizeof(longspec) - 1] = '\0';
    memcpy(longspec, "udp ", 4);
    assert_int_equal(pkt_flow_spec_parse(longspec, &k, &err), FM_EINVAL);
}

static void test_format(void **state)
{
    (void)state;
    char buf[128];
    struct pkt_endpoint e;
    memset(&e, 0, sizeof(e));
    e.addr[0] = 192, e.addr[1] = 0, e.addr[2] = 2, e.addr[3] = 1;
    e.port = 5004;
    pkt_endpoint_format(4, &e, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.1:5004");
    pkt_addr_format(4, e.addr, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.1");

    struct fm_err err = {0};
    struct pkt_flow_key k;
    assert_int_equal(pkt_flow_spec_parse("udp [2001:db8::1]:5004 [2001:db8::2]:6000", &k, &err),
                     FM_OK);
    pkt_endpoint_format(6, &k.a, buf, sizeof(buf));
    assert_string_equal(buf, "[2001:db8::1]:5004");
    pkt_addr_format(6, k.b.addr, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8::2");

    /* The spec of a flow names the local side first and parses back to its key. */
    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    struct pkt_decoded p = pkt4("198.51.100.9", 6000, "192.0.2.1", 5004, 0, 10);
    add(t, &p);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    est_flow_format_spec(s[0], buf, sizeof(buf));
    assert_string_equal(buf, "udp 198.51.100.9:6000 192.0.2.1:5004");
    assert_int_equal(pkt_flow_spec_parse(buf, &k, &err), FM_OK);
    assert_memory_equal(&k, &s[0]->key, sizeof(k));
    /* A short buffer truncates, still terminated. */
    char small[8];
    est_flow_format_spec(s[0], small, sizeof(small));
    assert_int_equal(strlen(small), 7);
    est_flow_table_free(t);
}

/* xorshift64*: a fixed seed makes any failure reproducible. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* A packet between two of a few hundred endpoints, IPv4 or IPv6, either way, with flows
 * to themselves and pairs on one address now and then, and everything series keep. */
static struct pkt_decoded random_pkt(uint64_t *seed, int64_t *ts)
{
    struct pkt_decoded p;
    memset(&p, 0, sizeof(p));
    uint64_t r = next_rand(seed);
    unsigned x = (unsigned)(r % 600), y = (unsigned)((r >> 10) % 600);
    if (r >> 60 == 0)
        y = x; /* to itself */
    p.ip_version = (r >> 20) % 5 == 0 ? 6 : 4;
    p.proto = (r >> 23) % 9 == 0 ? PROTO_TCP : PROTO_UDP;
    size_t alen = p.ip_version == 6 ? 16 : 4;
    memset(p.src, 0x20, alen);
    memset(p.dst, 0x20, alen);
    /* Endpoints 0..599: 40 addresses, 15 ports each, so some pairs share an address. */
    p.src[alen - 1] = (uint8_t)(x / 15);
    p.dst[alen - 1] = (uint8_t)(y / 15);
    p.sport = (uint16_t)(5000 + x % 15);
    p.dport = (uint16_t)(5000 + y % 15);
    /* Mostly in time order, sometimes a step back. */
    *ts += (int64_t)((r >> 30) % 1000) - ((r >> 40) % 16 == 0 ? 3000 : 0);
    p.ts_ns = *ts;
    p.payload_len = (uint32_t)((r >> 44) % 1400);
    p.wire_len = p.payload_len + 42;
    p.ttl = (uint8_t)(r >> 52);
    p.dscp = (uint8_t)((r >> 8) & 0x3f);
    uint64_t q = next_rand(seed);
    p.rtp.valid = (uint8_t)(q & 1);
    p.rtp.payload_type = (uint8_t)((q >> 1) & 0x7f);
    p.rtp.marker = (uint8_t)((q >> 8) & 1);
    p.rtp.seq = (uint16_t)((q >> 9) % 4);
    p.rtp.ssrc = (uint32_t)((q >> 16) % 3);
    p.rtp.timestamp = (uint32_t)(q >> 32);
    return p;
}

static void assert_series_equal(const struct est_series *a, const struct est_series *b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
        return;
    }
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->ts_ns, b->ts_ns, a->n * sizeof(*a->ts_ns));
    assert_memory_equal(a->payload_len, b->payload_len, a->n * sizeof(*a->payload_len));
    assert_memory_equal(a->ttl_hist, b->ttl_hist, sizeof(a->ttl_hist));
    assert_memory_equal(a->dscp_hist, b->dscp_hist, sizeof(a->dscp_hist));
    assert_memory_equal(a->rtp_pt_hist, b->rtp_pt_hist, sizeof(a->rtp_pt_hist));
    assert_int_equal(a->rtp_valid, b->rtp_valid);
    assert_int_equal(a->rtp_marker, b->rtp_marker);
    assert_int_equal(a->rtp_ssrc_match, b->rtp_ssrc_match);
    assert_int_equal(a->rtp_seq_next, b->rtp_seq_next);
}

/* est_flow_table_add_many() in batches of any size leaves the table exactly as
 * est_flow_table_add() one packet at a time: flows, order, sides, counters and series,
 * also while the table grows in the middle of a batch. */
static void test_add_many(void **state)
{
    (void)state;
    enum { NPKTS = 30000 };
    struct pkt_decoded *pk = malloc(NPKTS * sizeof(*pk));
    assert_non_null(pk);
    uint64_t seed = 0xf10e5eedull;
    int64_t ts = 1000000;
    for (size_t i = 0; i < NPKTS; i++)
        pk[i] = random_pkt(&seed, &ts);

    for (int watch = 0; watch < 3; watch++) {
        struct est_flow_table *one = est_flow_table_new(), *many = est_flow_table_new();
        assert_non_null(one);
        assert_non_null(many);
        struct fm_err err = {0};
        /* 0: no series; 1: every flow keeps them; 2: one flow does. */
        if (watch == 1) {
            assert_int_equal(est_flow_table_watch(one, NULL, &err), FM_OK);
            assert_int_equal(est_flow_table_watch(many, NULL, &err), FM_OK);
        } else if (watch == 2) {
            struct pkt_flow_key k;
            struct pkt_endpoint x, y;
            memset(&x, 0, sizeof(x));
            memcpy(x.addr, pk[7].src, sizeof(x.addr));
            x.port = pk[7].sport;
            memset(&y, 0, sizeof(y));
            memcpy(y.addr, pk[7].dst, sizeof(y.addr));
            y.port = pk[7].dport;
            pkt_flow_key_make(&k, pk[7].ip_version, pk[7].proto, &y, &x);
            assert_int_equal(est_flow_table_watch(one, &k, &err), FM_OK);
            assert_int_equal(est_flow_table_watch(many, &k, &err), FM_OK);
        }
        assert_int_equal(est_flow_table_keeps_series(one), watch != 0);
        for (size_t i = 0; i < NPKTS; i++)
            add(one, &pk[i]);
        for (size_t i = 0; i < NPKTS;) {
            size_t n = 1 + next_rand(&seed) % (2 * EST_FLOW_ADD_BATCH + 5);
            if (n > NPKTS - i)
                n = NPKTS - i;
            assert_int_equal(est_flow_table_add_many(many, pk + i, n, &err), FM_OK);
            i += n;
        }
        assert_int_equal(est_flow_table_add_many(many, pk, 0, &err), FM_OK);

        size_t na = 0, nb = 0;
        struct est_flow *const *a = est_flow_table_sorted(one, &na);
        struct est_flow *const *b = est_flow_table_sorted(many, &nb);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(na, nb);
        assert_true(na > 1000); /* the table grew past its first slot array */
        size_t kept = 0, selfs = 0;
        for (size_t i = 0; i < na; i++) {
            assert_memory_equal(&a[i]->key, &b[i]->key, sizeof(a[i]->key));
            assert_memory_equal(&a[i]->local, &b[i]->local, sizeof(a[i]->local));
            assert_memory_equal(&a[i]->remote, &b[i]->remote, sizeof(a[i]->remote));
            assert_int_equal(a[i]->first_seen, b[i]->first_seen);
            assert_memory_equal(a[i]->side, b[i]->side, sizeof(a[i]->side));
            assert_int_equal(a[i]->keep_series, b[i]->keep_series);
            assert_series_equal(a[i]->series[0], b[i]->series[0]);
            assert_series_equal(a[i]->series[1], b[i]->series[1]);
            kept += a[i]->keep_series;
            if (memcmp(&a[i]->local, &a[i]->remote, sizeof(a[i]->local)) == 0) {
                /* A flow to itself is all local. */
                selfs++;
                assert_int_equal(a[i]->side[1].packets, 0);
            }
        }
        assert_int_equal(kept, watch == 0 ? 0 : watch == 1 ? na : 1);
        assert_true(selfs > 0);
        est_flow_table_free(one);
        est_flow_table_free(many);
    }
    free(pk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direction_and_counts),
        cmocka_unit_test(test_sorting_and_growth),
        cmocka_unit_test(test_watch_series),
        cmocka_unit_test(test_spec_parse),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_add_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
