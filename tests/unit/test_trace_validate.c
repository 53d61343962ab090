/* tests/unit/test_trace_validate.c - protocol checks of packet traces: one hand-made
 * invalid trace per error rule (tests/data/trace/invalid_<rule>.json), one trace with a
 * warning per warning rule (warn_<rule>.json) and the valid ones, then the
 * edge cases built here: sequence wrap, keep-alives, retransmissions, connections seen from
 * the middle, and --max-errors. */
#include "tests/support/test_util.h"
#include "trace/trace.h"
#include "trace/validate.h"

#include <string.h>

static void load(const char *name, struct trc_trace *t)
{
    char path[512];
    struct fm_err err = {0};
    const char *dir = getenv("FM_TEST_DATA");
    snprintf(path, sizeof(path), "%s/trace/%s", dir ? dir : "tests/data", name);
    trc_trace_init(t);
    if (trc_trace_load(path, t, &err) != FM_OK)
        fail_msg("load %s: %s", path, err.msg);
}

static enum trc_vrule rule_by_name(const char *name)
{
    for (int r = 0; r < TRC_V_NRULES; r++) {
        if (strcmp(trc_validate_rule_name((enum trc_vrule)r), name) == 0)
            return (enum trc_vrule)r;
    }
    fail_msg("no rule '%s'", name);
    return TRC_V_NRULES;
}

/* Each file breaks its rule at the packet named, and nothing else breaks but what is listed
 * (reordering is a gap first and a late packet then; one file holds three bad flag sets). */
static const struct {
    const char *rule;
    size_t packet; /* of the first violation */
    unsigned count;
    const char *also;
    const char *got; /* a part of the first violation's "got" text */
} cases[] = {
    {"ts-order", 13, 1, NULL, "1700000000.085999999"},
    {"ip-ttl", 11, 1, NULL, "got 0"},
    {"ip-src", 14, 1, NULL, "224.0.0.251:5353 (multicast)"},
    {"port", 14, 1, NULL, "destination port 0"},
    {"flow-proto", 14, 1, NULL, "got udp"},
    {"udp-length", 10, 1, NULL, "got 100"},
    {"rtp-version", 11, 1, NULL, "got 1"},
    {"rtp-header", 13, 1, NULL, "got 7 in the payload"},
    {"rtp-ssrc", 14, 1, NULL, "got 198.18.0.3:5004 to 198.18.0.2:5006"},
    {"rtp-seq-gap", 12, 1, NULL, "got 1 (1 missing)"},
    {"rtp-seq-dup", 12, 1, NULL, "got 65535 again"},
    {"rtp-seq-order", 12, 1, "rtp-seq-gap", "got 65535 (1 behind"},
    {"rtp-ts", 12, 1, NULL, "got 4294960000 (seq 0)"},
    {"tcp-flags", 4, 3, NULL, "got none"},
    {"tcp-handshake", 1, 1, NULL, "got 1000"},
    {"tcp-seq", 8, 1, NULL, "got 5221 (20 bytes skipped)"},
    {"tcp-ack", 6, 1, NULL, "got 5301"},
    {"tcp-fin", 10, 1, NULL, "got PA with 10 bytes"},
    {"tcp-rst", 7, 1, NULL, "got FA"},
};

static void test_each_rule(void **state)
{
    (void)state;
    /* Every rule has a file, and every file's name is a rule. */
    assert_int_equal(sizeof(cases) / sizeof(cases[0]), TRC_V_NRULES);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[96];
        struct trc_trace t;
        struct trc_validate_report r;
        struct fm_err err = {0};
        enum trc_vrule rule = rule_by_name(cases[i].rule);
        /* An error rule's file is invalid; a warning rule's is valid with warnings. */
        int warns = trc_validate_rule_warns(rule);
        snprintf(name, sizeof(name), "%s_%s.json", warns ? "warn" : "invalid", cases[i].rule);
        load(name, &t);
        assert_int_equal(trc_validate(&t, 0, &r, &err), FM_OK);
        if ((warns ? r.warnings : r.errors) != r.total || (warns ? r.errors : r.warnings) != 0)
            fail_msg("%s: %llu errors and %llu warnings, expected only %s", name,
                     (unsigned long long)r.errors, (unsigned long long)r.warnings,
                     warns ? "warnings" : "errors");
        if (r.per_rule[rule] != cases[i].count)
            fail_msg("%s: %llu violations of %s, expected %u", name,
                     (unsigned long long)r.per_rule[rule], cases[i].rule, cases[i].count);
        uint64_t others = r.total - r.per_rule[rule];
        uint64_t allowed = cases[i].also ? r.per_rule[rule_by_name(cases[i].also)] : 0;
        if (others != allowed || (cases[i].also && allowed == 0))
            fail_msg("%s: %llu other violations (first: %s)", name, (unsigned long long)others,
                     trc_validate_rule_name(r.v[0].rule));
        assert_int_equal(r.nv, r.total);
        /* The first violation of the rule: where and what. */
        size_t k = 0;
        while (k < r.nv && r.v[k].rule != rule)
            k++;
        assert_true(k < r.nv);
        assert_int_equal(r.v[k].warning, warns);
        if (r.v[k].packet != cases[i].packet || !strstr(r.v[k].got, cases[i].got) ||
            strncmp(r.v[k].expected, "expected ", 9) != 0 || strncmp(r.v[k].got, "got ", 4) != 0)
            fail_msg("%s: packet %zu: %s, %s", name, r.v[k].packet, r.v[k].expected, r.v[k].got);
        trc_validate_report_fini(&r);
        trc_trace_fini(&t);
    }
}

static void test_valid_files(void **state)
{
    (void)state;
    static const char *const names[] = {"valid_tcp_rtp.json", "valid_ipv6_refused.json"};
    for (size_t i = 0; i < 2; i++) {
        struct trc_trace t;
        struct trc_validate_report r;
        struct fm_err err = {0};
        load(names[i], &t);
        assert_int_equal(trc_validate(&t, 0, &r, &err), FM_OK);
        if (r.total)
            fail_msg("%s: packet %zu: %s: %s, %s", names[i], r.v[0].packet,
                     trc_validate_rule_name(r.v[0].rule), r.v[0].expected, r.v[0].got);
        assert_int_equal(r.packets, t.n);
        assert_int_equal(r.tcp_conns, 1);
        trc_validate_report_fini(&r);
        trc_trace_fini(&t);
    }
}

static void test_rule_names(void **state)
{
    (void)state;
    for (int a = 0; a < TRC_V_NRULES; a++) {
        const char *na = trc_validate_rule_name((enum trc_vrule)a);
        assert_true(strlen(na) > 2);
        assert_true(strlen(trc_validate_rule_help((enum trc_vrule)a)) > 10);
        for (int b = 0; b < a; b++)
            assert_string_not_equal(na, trc_validate_rule_name((enum trc_vrule)b));
    }
    assert_string_equal(trc_validate_rule_name(TRC_V_NRULES), "?");
}

/* ---- traces built here ---- */

static struct trc_pkt base_pkt(uint8_t proto, int64_t t_ms, int forward)
{
    struct trc_pkt p;
    memset(&p, 0, sizeof(p));
    p.ts_sec = 1700000000 + t_ms / 1000;
    p.ts_nsec = (uint32_t)(t_ms % 1000) * 1000000u;
    p.proto = proto;
    p.family = 4;
    uint8_t a[4] = {198, 18, 0, 1};
    uint8_t b[4] = {198, 18, 0, 2};
    memcpy(p.src_ip, forward ? a : b, 4);
    memcpy(p.dst_ip, forward ? b : a, 4);
    p.src_port = forward ? 1000 : 2000;
    p.dst_port = forward ? 2000 : 1000;
    p.ttl = 64;
    p.dscp = -1;
    p.udp_length = -1;
    return p;
}

static void add_rtp(struct trc_trace *t, int64_t t_ms, uint16_t seq, uint32_t ts)
{
    struct trc_pkt p = base_pkt(17, t_ms, 1);
    struct fm_err err = {0};
    p.payload_length = 100;
    p.has_rtp = 1;
    p.rtp.version = 2;
    p.rtp.payload_type = 96;
    p.rtp.seq = seq;
    p.rtp.timestamp = ts;
    p.rtp.ssrc = 42;
    assert_int_equal(trc_trace_append(t, &p, &err), FM_OK);
}

static void add_tcp(struct trc_trace *t,
                    int64_t t_ms,
                    int forward,
                    const char *flags,
                    uint32_t seq,
                    uint32_t ack,
                    uint32_t len)
{
    struct trc_pkt p = base_pkt(6, t_ms, forward);
    struct fm_err err = {0};
    static const char letters[] = "FSRPAUEC";
    p.has_tcp = 1;
    for (const char *c = flags; *c; c++)
        p.tcp.flags |= (uint8_t)(1u << (strchr(letters, *c) - letters));
    p.tcp.seq = seq;
    p.tcp.ack = ack;
    p.tcp.window = 1000;
    p.payload_length = len;
    assert_int_equal(trc_trace_append(t, &p, &err), FM_OK);
}

static void validate(const struct trc_trace *t, size_t keep, struct trc_validate_report *r)
{
    struct fm_err err = {0};
    assert_int_equal(trc_validate(t, keep, r, &err), FM_OK);
}

static void test_rtp_wrap_and_loss(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_validate_report r;
    trc_trace_init(&t);
    /* Sequence numbers and timestamps that wrap are continuous. */
    uint32_t ts = 4294967295u - 1000;
    uint16_t seq = 65530;
    for (int i = 0; i < 12; i++, seq++, ts += 600)
        add_rtp(&t, (int64_t)i * 20, seq, ts);
    validate(&t, 0, &r);
    assert_int_equal(r.total, 0);
    assert_int_equal(r.rtp_streams, 1);
    trc_validate_report_fini(&r);
    /* Then 100 lost at once, one duplicate far behind (within the window), one late packet
     * beyond the window (counted as reordering, since it cannot be told from one). */
    seq += 100;
    add_rtp(&t, 300, seq, ts);
    add_rtp(&t, 301, (uint16_t)(seq - 101), 0);
    add_rtp(&t, 302, (uint16_t)(seq - 50), 0);
    add_rtp(&t, 303, (uint16_t)(seq - 50), 0);
    validate(&t, 0, &r);
    assert_int_equal(r.per_rule[TRC_V_RTP_SEQ_GAP], 1);
    assert_non_null(strstr(r.v[0].got, "(100 missing)"));
    assert_int_equal(r.per_rule[TRC_V_RTP_SEQ_ORDER], 2);
    assert_int_equal(r.per_rule[TRC_V_RTP_SEQ_DUP], 1);
    assert_int_equal(r.per_rule[TRC_V_RTP_SEQ_DUP] + r.per_rule[TRC_V_RTP_SEQ_ORDER] +
                         r.per_rule[TRC_V_RTP_SEQ_GAP],
                     r.total);
    trc_validate_report_fini(&r);
    trc_trace_fini(&t);
}

static void test_max_keep(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_validate_report r;
    trc_trace_init(&t);
    /* Every other sequence number: 499 gaps. */
    for (int i = 0; i < 500; i++)
        add_rtp(&t, i, (uint16_t)(2 * i), (uint32_t)i * 10);
    validate(&t, 7, &r);
    assert_int_equal(r.total, 499);
    assert_int_equal(r.nv, 7);
    assert_int_equal(r.v[6].packet, 7);
    trc_validate_report_fini(&r);
    assert_null(r.v);
    validate(&t, 0, &r);
    assert_int_equal(r.nv, 499);
    trc_validate_report_fini(&r);
    trc_trace_fini(&t);
}

static void test_tcp_life(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_validate_report r;
    trc_trace_init(&t);
    /* A SYN sent twice, a SYN-ACK sent twice, data with a retransmission, keep-alives (with
     * and without a byte), sequence numbers across the wrap, a FIN sent twice. */
    uint32_t c = 4294967290u;
    uint32_t s = 100;
    add_tcp(&t, 0, 1, "S", c, 0, 0);
    add_tcp(&t, 1, 1, "S", c, 0, 0);
    add_tcp(&t, 2, 0, "SA", s, c + 1, 0);
    add_tcp(&t, 3, 0, "SA", s, c + 1, 0);
    add_tcp(&t, 4, 1, "A", c + 1, s + 1, 0);
    add_tcp(&t, 5, 1, "PA", c + 1, s + 1, 10);
    add_tcp(&t, 6, 1, "PA", c + 11, s + 1, 10);
    add_tcp(&t, 7, 0, "A", s + 1, c + 21, 0);
    add_tcp(&t, 8, 1, "A", c + 20, s + 1, 0);
    add_tcp(&t, 9, 1, "A", c + 20, s + 1, 1);
    add_tcp(&t, 10, 0, "A", s + 1, c + 21, 0);
    validate(&t, 0, &r);
    if (r.total)
        fail_msg("packet %zu: %s: %s, %s", r.v[0].packet, trc_validate_rule_name(r.v[0].rule),
                 r.v[0].expected, r.v[0].got);
    trc_validate_report_fini(&r);
    /* The same 10 bytes again: a retransmission, reported under tcp-seq. */
    add_tcp(&t, 11, 1, "PA", c + 11, s + 1, 10);
    add_tcp(&t, 12, 1, "FA", c + 21, s + 1, 0);
    add_tcp(&t, 13, 1, "FA", c + 21, s + 1, 0);
    add_tcp(&t, 14, 0, "FA", s + 1, c + 22, 0);
    add_tcp(&t, 15, 1, "A", c + 22, s + 2, 0);
    validate(&t, 0, &r);
    assert_int_equal(r.total, 1);
    assert_int_equal(r.per_rule[TRC_V_TCP_SEQ], 1);
    assert_int_equal(r.v[0].packet, 11);
    assert_non_null(strstr(r.v[0].got, "10 bytes sent again"));
    trc_validate_report_fini(&r);
    /* A new connection on the same ports after the close. */
    add_tcp(&t, 16, 1, "S", 5, 0, 0);
    add_tcp(&t, 17, 0, "SA", 9, 6, 0);
    add_tcp(&t, 18, 1, "PA", 6, 10, 3);
    validate(&t, 0, &r);
    assert_int_equal(r.total, 1);
    assert_int_equal(r.tcp_conns, 2);
    trc_validate_report_fini(&r);
    trc_trace_fini(&t);
}

static void test_tcp_midstream(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_validate_report r;
    trc_trace_init(&t);
    /* A capture that starts with a keep-alive: the peer's ack is one beyond it, which is no
     * violation; the missing handshake is reported once. */
    add_tcp(&t, 0, 1, "A", 999, 50, 0);
    add_tcp(&t, 1, 0, "A", 50, 1000, 0);
    add_tcp(&t, 2, 1, "PA", 1000, 50, 20);
    add_tcp(&t, 3, 0, "PA", 50, 1020, 5);
    add_tcp(&t, 4, 1, "A", 1020, 55, 0);
    validate(&t, 0, &r);
    assert_int_equal(r.total, 1);
    assert_int_equal(r.per_rule[TRC_V_TCP_HANDSHAKE], 1);
    assert_int_equal(r.v[0].packet, 0);
    /* A connection seen from its middle is what a capture shows: a warning (issue 11). */
    assert_int_equal(r.warnings, 1);
    assert_int_equal(r.errors, 0);
    assert_true(r.v[0].warning);
    trc_validate_report_fini(&r);
    /* Data before the SYN-ACK (an error) and acks of bytes never sent (a warning: the
     * capture may have missed them). */
    trc_trace_fini(&t);
    add_tcp(&t, 0, 1, "S", 1, 0, 0);
    add_tcp(&t, 1, 1, "PA", 2, 0, 10);
    add_tcp(&t, 2, 0, "A", 7, 100, 0);
    validate(&t, 0, &r);
    assert_int_equal(r.per_rule[TRC_V_TCP_HANDSHAKE], 1);
    assert_non_null(strstr(r.v[0].expected, "SYN-ACK before data"));
    assert_false(r.v[0].warning);
    assert_int_equal(r.per_rule[TRC_V_TCP_ACK], 1);
    assert_int_equal(r.per_rule_warnings[TRC_V_TCP_ACK], 1);
    assert_int_equal(r.errors, 1);
    trc_validate_report_fini(&r);
    trc_trace_fini(&t);
}

static void test_udp_length(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_validate_report r;
    struct fm_err err = {0};
    trc_trace_init(&t);
    struct trc_pkt p = base_pkt(17, 0, 1);
    p.payload_length = 1472;
    p.udp_length = 1480; /* right */
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    p.udp_length = 3008; /* a first fragment of a larger datagram */
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    p.udp_length = 100; /* plainly wrong */
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    p.udp_length = -1; /* not given: nothing to check */
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    validate(&t, 0, &r);
    assert_int_equal(r.total, 2);
    assert_int_equal(r.v[0].packet, 1);
    assert_non_null(strstr(r.v[0].got, "got 3008 (the first IP fragment"));
    assert_true(r.v[0].warning); /* a fragment: a warning */
    assert_string_equal(r.v[1].got, "got 100");
    assert_false(r.v[1].warning); /* plainly wrong: an error */
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.warnings, 1);
    assert_string_equal(r.v[1].expected, "expected udp_length 1480 (8 + payload_length)");
    trc_validate_report_fini(&r);
    trc_trace_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_rule),     cmocka_unit_test(test_valid_files),
        cmocka_unit_test(test_rule_names),    cmocka_unit_test(test_rtp_wrap_and_loss),
        cmocka_unit_test(test_max_keep),      cmocka_unit_test(test_tcp_life),
        cmocka_unit_test(test_tcp_midstream), cmocka_unit_test(test_udp_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
