/* tests/unit/test_trace_json.c - JSON packet traces: parsing, rejections that name the
 * packet and the field, printing, and load(save(t)) == t. */
#include "tests/support/test_util.h"
#include "trace/trace.h"

#include <string.h>
#include <unistd.h>

static const char good[] =
    "{ \"format\": \"flowmimic.trace\", \"version\": 1, \"packets\": [\n"
    "  { \"ts_sec\": 1700000000, \"ts_nsec\": 20000000, \"proto\": \"udp\",\n"
    "    \"src\": \"198.18.0.1\", \"src_port\": 5004, \"dst\": \"198.18.0.2\", \"dst_port\": "
    "5006,\n"
    "    \"ttl\": 64, \"dscp\": 46, \"payload_length\": 1200, \"udp_length\": 1208,\n"
    "    \"rtp\": { \"version\": 2, \"payload_type\": 96, \"marker\": true, \"seq\": 65535,\n"
    "             \"timestamp\": 4294967295, \"ssrc\": 305419896 } },\n"
    "  { \"ts_sec\": 1700000000, \"ts_nsec\": 999999999, \"proto\": \"tcp\",\n"
    "    \"src\": \"2001:db8::1\", \"src_port\": 40000, \"dst\": \"2001:db8::2\", \"dst_port\": "
    "80,\n"
    "    \"payload\": \"00ff10Ab\",\n"
    "    \"tcp\": { \"flags\": \"PA\", \"seq\": 4294967295, \"ack\": 7, \"window\": 512 } },\n"
    "  { \"ts_sec\": 0, \"ts_nsec\": 0, \"proto\": \"udp\", \"src\": \"10.0.0.1\",\n"
    "    \"src_port\": 0, \"dst\": \"10.0.0.2\", \"dst_port\": 65535, \"payload\": \"\" }\n"
    "] }\n";

static void test_parse_good(void **state)
{
    (void)state;
    struct trc_trace t;
    struct fm_err err = {0};
    trc_trace_init(&t);
    int rc = trc_trace_parse(good, strlen(good), "good.json", &t, &err);
    if (rc != FM_OK)
        fail_msg("parse: %s", err.msg);
    assert_int_equal(t.n, 3);
    const struct trc_pkt *p = &t.pkts[0];
    assert_int_equal(p->ts_sec, 1700000000);
    assert_int_equal(p->ts_nsec, 20000000);
    assert_int_equal(p->proto, 17);
    assert_int_equal(p->family, 4);
    assert_memory_equal(p->src_ip, "\xc6\x12\x00\x01", 4);
    assert_memory_equal(p->dst_ip, "\xc6\x12\x00\x02", 4);
    assert_int_equal(p->src_port, 5004);
    assert_int_equal(p->dst_port, 5006);
    assert_int_equal(p->ttl, 64);
    assert_int_equal(p->dscp, 46);
    assert_int_equal(p->payload_length, 1200);
    assert_null(p->payload);
    assert_int_equal(p->udp_length, 1208);
    assert_true(p->has_rtp);
    assert_int_equal(p->rtp.version, 2);
    assert_int_equal(p->rtp.payload_type, 96);
    assert_int_equal(p->rtp.marker, 1);
    assert_int_equal(p->rtp.seq, 65535);
    assert_int_equal(p->rtp.timestamp, 4294967295u);
    assert_int_equal(p->rtp.ssrc, 305419896u);
    assert_false(p->has_tcp);

    p = &t.pkts[1];
    assert_int_equal(p->proto, 6);
    assert_int_equal(p->family, 6);
    assert_int_equal(p->src_ip[0], 0x20);
    assert_int_equal(p->src_ip[15], 1);
    assert_int_equal(p->ttl, -1);
    assert_int_equal(p->dscp, -1);
    assert_int_equal(p->udp_length, -1);
    assert_int_equal(p->payload_length, 4);
    assert_non_null(p->payload);
    assert_memory_equal(p->payload, "\x00\xff\x10\xab", 4);
    assert_true(p->has_tcp);
    assert_int_equal(p->tcp.flags, TRC_TCP_PSH | TRC_TCP_ACK);
    assert_int_equal(p->tcp.seq, 4294967295u);
    assert_int_equal(p->tcp.ack, 7);
    assert_int_equal(p->tcp.window, 512);

    /* An empty payload is known (non-NULL), not absent. */
    p = &t.pkts[2];
    assert_int_equal(p->payload_length, 0);
    assert_non_null(p->payload);
    trc_trace_fini(&t);
    assert_int_equal(t.n, 0);
    assert_null(t.pkts);
}

static void test_bare_array_and_defaults(void **state)
{
    (void)state;
    static const char text[] =
        "[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"tcp\",\"src\":\"1.2.3.4\",\"src_port\":1,"
        "\"dst\":\"5.6.7.8\",\"dst_port\":2,\"payload_length\":0,\"tcp\":{\"flags\":\"S\","
        "\"seq\":100}},"
        "{\"ts_sec\":1,\"ts_nsec\":3,\"proto\":\"udp\",\"src\":\"1.2.3.4\",\"src_port\":1,"
        "\"dst\":\"5.6.7.8\",\"dst_port\":2,\"payload_length\":12,\"rtp\":{\"payload_type\":0,"
        "\"seq\":1,\"timestamp\":2,\"ssrc\":3}}]";
    struct trc_trace t;
    struct fm_err err = {0};
    trc_trace_init(&t);
    if (trc_trace_parse(text, strlen(text), "bare", &t, &err) != FM_OK)
        fail_msg("parse: %s", err.msg);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.pkts[0].tcp.flags, TRC_TCP_SYN);
    assert_int_equal(t.pkts[0].tcp.ack, 0);
    assert_int_equal(t.pkts[0].tcp.window, 65535);
    assert_int_equal(t.pkts[1].rtp.version, 2);
    assert_int_equal(t.pkts[1].rtp.marker, 0);
    /* A byte order mark in front, as some editors write, is skipped. */
    char *bom = malloc(sizeof(text) + 3);
    assert_non_null(bom);
    snprintf(bom, sizeof(text) + 3, "\xef\xbb\xbf%s", text);
    if (trc_trace_parse(bom, strlen(bom), "bom", &t, &err) != FM_OK)
        fail_msg("parse with BOM: %s", err.msg);
    assert_int_equal(t.n, 2);
    free(bom);
    trc_trace_fini(&t);
}

/* Parse text and expect FM_EFORMAT with every part in the message; t must be left empty. */
static void expect_reject(const char *text, const char *part1, const char *part2)
{
    struct trc_trace t;
    struct fm_err err = {0};
    trc_trace_init(&t);
    int rc = trc_trace_parse(text, strlen(text), "bad.json", &t, &err);
    if (rc != FM_EFORMAT)
        fail_msg("expected FM_EFORMAT for %s, got %d (%s)", text, rc, err.msg);
    if (!strstr(err.msg, part1) || (part2 && !strstr(err.msg, part2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.msg, part1, part2 ? part2 : "");
    /* One line, starting with the file's name. */
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(strncmp(err.msg, "bad.json: ", 10), 0);
    assert_int_equal(t.n, 0);
    assert_null(t.pkts);
}

/* A good packet with one replacement: "KEY": VALUE put in front (the later duplicate would be
 * rejected) is awkward, so the tests spell each packet out. */
#define PK(extra)                                                                        \
    "[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"udp\",\"src\":\"1.2.3.4\",\"src_port\":1," \
    "\"dst\":\"5.6.7.8\",\"dst_port\":2" extra "}]"

static void test_rejects(void **state)
{
    (void)state;
    expect_reject("{\"format\": ", "bad.json: not JSON (line 1, column", NULL);
    expect_reject("[\n{}\n,]", "not JSON (line 3, column 2)", NULL);
    expect_reject("[] x", "not JSON", "text after the end");
    expect_reject("42", "not a packet trace", "a number");
    expect_reject("{\"format\":\"flowmimic.model\",\"version\":1,\"packets\":[]}", "format", NULL);
    expect_reject("{\"format\":\"flowmimic.trace\",\"version\":9,\"packets\":[]}", "newer", NULL);
    expect_reject("{\"format\":\"flowmimic.trace\",\"version\":1}", "packets: is missing", NULL);
    expect_reject("{\"format\":\"flowmimic.trace\",\"version\":1,\"packets\":{}}",
                  "packets: must be an array", NULL);
    expect_reject("{\"format\":\"flowmimic.trace\",\"version\":1,\"packets\":[],\"x\":1}",
                  "x: is not a known field", NULL);
    expect_reject("[1]", "packet 0: packet: must be an object", NULL);
    expect_reject(PK(",\"payload_length\":1,\"colour\":1"), "packet 0: colour: is not a known",
                  NULL);
    expect_reject(PK(",\"payload_length\":1,\"payload_length\":2"), "payload_length: appears twice",
                  NULL);
    expect_reject(PK(""), "packet 0: payload_length: is missing", NULL);
    expect_reject("[{\"ts_nsec\":2}]", "packet 0: ts_sec: is missing", NULL);
    expect_reject(PK(",\"payload_length\":\"1\""),
                  "payload_length: must be an integer, not a string", NULL);
    expect_reject(PK(",\"payload_length\":1.5"), "payload_length: must be an integer", NULL);
    expect_reject(PK(",\"payload_length\":65508"), "payload_length: 65508 is more than", NULL);
    expect_reject(PK(",\"payload\":\"abc\""), "payload: hex text has an odd number", NULL);
    expect_reject(PK(",\"payload\":\"zz\""), "payload: 'z' at offset 0 is not a hex digit", NULL);
    expect_reject(PK(",\"payload\":\"abcd\",\"payload_length\":3"), "payload: holds 2 bytes",
                  "payload_length is 3");
    expect_reject(PK(",\"payload_length\":1,\"ttl\":256"), "ttl: 256 is out of range 0..255", NULL);
    expect_reject(PK(",\"payload_length\":1,\"dscp\":-1"), "dscp: -1 is out of range 0..63", NULL);
    expect_reject(PK(",\"payload_length\":1,\"udp_length\":70000"), "udp_length", "out of range");
    expect_reject(PK(",\"payload_length\":1,\"rtp\":{\"payload_type\":128,\"seq\":1,"
                     "\"timestamp\":1,\"ssrc\":1}"),
                  "rtp.payload_type: 128 is out of range 0..127", NULL);
    expect_reject(PK(",\"payload_length\":1,\"rtp\":{\"payload_type\":1,\"seq\":1,"
                     "\"timestamp\":1,\"ssrc\":1,\"csrc\":[]}"),
                  "csrc: is not a known field of rtp", NULL);
    expect_reject(PK(",\"payload_length\":1,\"rtp\":{\"payload_type\":1,\"seq\":1,"
                     "\"timestamp\":1,\"ssrc\":1,\"marker\":1}"),
                  "rtp.marker: must be true or false", NULL);
    expect_reject(PK(",\"payload_length\":1,\"rtp\":{\"payload_type\":1,\"seq\":1}"),
                  "rtp.timestamp: is missing", NULL);
    expect_reject(PK(",\"payload_length\":1,\"rtp\":[]"), "rtp: must be an object", NULL);
    expect_reject(PK(",\"payload_length\":1,\"tcp\":{\"flags\":\"S\",\"seq\":1}"),
                  "tcp: is only allowed on TCP packets", NULL);
    /* One value per field: the later packet is named. */
    expect_reject(
        "[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"udp\",\"src\":\"1.2.3.4\",\"src_port\":1,"
        "\"dst\":\"5.6.7.8\",\"dst_port\":2,\"payload_length\":0},"
        "{\"ts_sec\":1,\"ts_nsec\":1000000000,\"proto\":\"udp\",\"src\":\"1.2.3.4\","
        "\"src_port\":1,\"dst\":\"5.6.7.8\",\"dst_port\":2,\"payload_length\":0}]",
        "bad.json: packet 1: ts_nsec: 1000000000 is out of range 0..999999999", NULL);
    expect_reject("[{\"ts_sec\":-1,\"ts_nsec\":2}]", "packet 0: ts_sec: -1 is out of range", NULL);
    expect_reject("[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"icmp\"}]",
                  "proto: \"icmp\" is not \"udp\" or \"tcp\"", NULL);
    expect_reject("[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"udp\",\"src\":\"1.2.3.400\"}]",
                  "packet 0: src: '1.2.3.400' is not an IPv4 or IPv6 address", NULL);
    expect_reject("[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"udp\",\"src\":\"1.2.3.4\","
                  "\"dst\":\"::1\"}]",
                  "dst: is IPv6 but src is IPv4", NULL);
    expect_reject("[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"udp\",\"src\":\"1.2.3.4\","
                  "\"dst\":\"5.6.7.8\",\"src_port\":1,\"dst_port\":70000}]",
                  "packet 0: dst_port: 70000 is out of range 0..65535", NULL);
    static const char tcp[] =
        "[{\"ts_sec\":1,\"ts_nsec\":2,\"proto\":\"tcp\",\"src\":\"1.2.3.4\",\"src_port\":1,"
        "\"dst\":\"5.6.7.8\",\"dst_port\":2,\"payload_length\":0%s}]";
    char buf[512];
    snprintf(buf, sizeof(buf), tcp, "");
    expect_reject(buf, "packet 0: tcp: is missing", NULL);
    snprintf(buf, sizeof(buf), tcp, ",\"tcp\":{\"flags\":\"SX\",\"seq\":1}");
    expect_reject(buf, "tcp.flags: 'X' is not a flag letter", NULL);
    snprintf(buf, sizeof(buf), tcp, ",\"tcp\":{\"flags\":\"SS\",\"seq\":1}");
    expect_reject(buf, "tcp.flags: 'S' appears twice", NULL);
    snprintf(buf, sizeof(buf), tcp, ",\"tcp\":{\"flags\":\"S\"}");
    expect_reject(buf, "tcp.seq: is missing", NULL);
    snprintf(buf, sizeof(buf), tcp, ",\"tcp\":{\"flags\":\"S\",\"seq\":1,\"window\":65536}");
    expect_reject(buf, "tcp.window: 65536 is out of range", NULL);
    snprintf(buf, sizeof(buf), tcp, ",\"udp_length\":8,\"tcp\":{\"flags\":\"S\",\"seq\":1}");
    expect_reject(buf, "udp_length: is only allowed on UDP packets", NULL);
}

static void test_print_round_trip(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_trace u;
    struct fm_err err = {0};
    char *text = NULL;
    char *text2 = NULL;
    trc_trace_init(&t);
    trc_trace_init(&u);
    assert_int_equal(trc_trace_parse(good, strlen(good), "good", &t, &err), FM_OK);
    assert_int_equal(trc_trace_print(&t, &text, &err), FM_OK);
    /* One packet per line, payload hex in lower case, flags in canonical order. */
    assert_non_null(strstr(text, "\"payload\":\"00ff10ab\""));
    assert_non_null(strstr(text, "\"flags\":\"PA\""));
    assert_non_null(strstr(text, "\"src\":\"2001:db8::1\""));
    assert_non_null(strstr(text, "\"timestamp\":4294967295"));
    size_t lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 5 + t.n); /* the file writer adds the last newline */
    if (trc_trace_parse(text, strlen(text), "printed", &u, &err) != FM_OK)
        fail_msg("reparse: %s\n%s", err.msg, text);
    assert_int_equal(u.n, t.n);
    for (size_t i = 0; i < t.n; i++) {
        const struct trc_pkt *a = &t.pkts[i];
        const struct trc_pkt *b = &u.pkts[i];
        assert_int_equal(a->ts_sec, b->ts_sec);
        assert_int_equal(a->ts_nsec, b->ts_nsec);
        assert_int_equal(a->family, b->family);
        assert_memory_equal(a->src_ip, b->src_ip, 16);
        assert_memory_equal(a->dst_ip, b->dst_ip, 16);
        assert_int_equal(a->ttl, b->ttl);
        assert_int_equal(a->dscp, b->dscp);
        assert_int_equal(a->udp_length, b->udp_length);
        assert_int_equal(a->payload_length, b->payload_length);
        assert_int_equal(a->payload == NULL, b->payload == NULL);
        if (a->payload && a->payload_length)
            assert_memory_equal(a->payload, b->payload, a->payload_length);
        assert_int_equal(a->has_rtp, b->has_rtp);
        assert_memory_equal(&a->rtp, &b->rtp, sizeof(a->rtp));
        assert_int_equal(a->has_tcp, b->has_tcp);
        assert_memory_equal(&a->tcp, &b->tcp, sizeof(a->tcp));
    }
    /* Printing the reloaded trace gives the same text. */
    assert_int_equal(trc_trace_print(&u, &text2, &err), FM_OK);
    assert_string_equal(text, text2);
    free(text);
    free(text2);
    trc_trace_fini(&t);
    trc_trace_fini(&u);
}

static void test_append_save_load(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_trace u;
    struct fm_err err = {0};
    char path[300];
    test_path(path, sizeof(path), "out.json");
    trc_trace_init(&t);
    trc_trace_init(&u);
    /* Built the way the agents build their example packets. */
    uint8_t bytes[3] = {1, 2, 3};
    struct trc_pkt p;
    memset(&p, 0, sizeof(p));
    p.ts_sec = 5;
    p.proto = 17;
    p.ttl = -1;
    p.dscp = -1;
    p.udp_length = -1;
    assert_int_equal(trc_addr_parse("198.18.0.9", &p.family, p.src_ip, &err), FM_OK);
    assert_int_equal(trc_addr_parse("198.18.0.10", &p.family, p.dst_ip, &err), FM_OK);
    assert_int_equal(p.family, 4);
    p.payload = bytes;
    p.payload_length = 3;
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    bytes[0] = 99; /* the trace holds its own copy */
    p.payload = NULL;
    p.payload_length = 100;
    for (int i = 0; i < 100; i++) {
        p.ts_nsec = (uint32_t)i;
        assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    }
    assert_int_not_equal(t.pkts[0].payload[0], bytes[0]);
    assert_int_equal(t.pkts[0].payload[0], 1);
    assert_int_equal(trc_trace_save(path, &t, &err), FM_OK);
    if (trc_trace_load(path, &u, &err) != FM_OK)
        fail_msg("load: %s", err.msg);
    assert_int_equal(u.n, 101);
    assert_int_equal(u.pkts[0].payload[2], 3);
    assert_int_equal(u.pkts[100].ts_nsec, 99);
    /* The file is the printed text and a newline. */
    char *text = NULL;
    assert_int_equal(trc_trace_print(&t, &text, &err), FM_OK);
    FILE *rf = fopen(path, "r");
    assert_non_null(rf);
    size_t tlen = strlen(text);
    char *got = calloc(1, tlen + 8);
    assert_non_null(got);
    assert_int_equal(fread(got, 1, tlen + 8, rf), tlen + 1);
    fclose(rf);
    assert_memory_equal(got, text, tlen);
    assert_int_equal(got[tlen], '\n');
    free(got);
    free(text);

    /* A packet that could not be loaded again is not saved, and the old file stays. */
    t.pkts[7].ts_nsec = 1000000000u;
    assert_int_equal(trc_trace_save(path, &t, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "packet 7: ts_nsec"));
    assert_non_null(strstr(err.msg, path));
    t.pkts[7].ts_nsec = 0;
    t.pkts[3].family = 6;
    t.pkts[3].payload_length = 65520;
    assert_int_equal(trc_trace_save(path, &t, &err), FM_OK);
    t.pkts[3].family = 4;
    assert_int_equal(trc_trace_save(path, &t, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "packet 3: payload_length"));
    assert_int_equal(trc_trace_load(path, &u, &err), FM_OK);
    assert_int_equal(u.pkts[3].family, 6);

    /* Files: missing, empty; an error leaves the trace empty. */
    char missing[300];
    test_path(missing, sizeof(missing), "none.json");
    assert_int_equal(trc_trace_load(missing, &u, &err), FM_EIO);
    assert_int_equal(u.n, 0);
    char empty[300];
    test_path(empty, sizeof(empty), "empty.json");
    test_write_text(empty, "");
    assert_int_equal(trc_trace_load(empty, &u, &err), FM_EFORMAT);
    assert_int_equal(trc_trace_load(test_dir(), &u, &err), FM_EIO);
    trc_trace_fini(&t);
    trc_trace_fini(&u);
}

static void test_addresses(void **state)
{
    (void)state;
    uint8_t fam = 0;
    uint8_t ip[16];
    char buf[64];
    struct fm_err err = {0};
    assert_int_equal(trc_addr_parse("::ffff:1.2.3.4", &fam, ip, &err), FM_OK);
    assert_int_equal(fam, 6);
    trc_addr_format(fam, ip, buf, sizeof(buf));
    assert_string_equal(buf, "::ffff:1.2.3.4");
    assert_int_equal(trc_addr_parse("1.2.3", &fam, ip, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "'1.2.3'"));
    assert_int_equal(trc_addr_parse("", &fam, ip, &err), FM_EINVAL);
    assert_int_equal(trc_addr_parse("0.0.0.0", &fam, ip, &err), FM_OK);
    trc_addr_format(fam, ip, buf, sizeof(buf));
    assert_string_equal(buf, "0.0.0.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),       cmocka_unit_test(test_bare_array_and_defaults),
        cmocka_unit_test(test_rejects),          cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_append_save_load), cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
