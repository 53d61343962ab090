/* tests/unit/test_trace_input.c - a trace from a file of either kind: telling kinds apart by
 * content and by name, a flow that does not apply or is not a flow (the arguments' fault,
 * not the file's), the flow resolver passed in, frame numbers, a stop after the read, and
 * convert and validate on whole files. */
#include "tests/support/test_util.h"
#include "trace/input.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The resolver trace/ is given: "B" names flow B by spec, anything else is not a flow. */
static int calls;

static int fake_select(const char *path,
                       const char *arg,
                       volatile sig_atomic_t *stop,
                       struct pkt_flow_key *key,
                       struct fm_err *err)
{
    (void)path;
    (void)stop;
    calls++;
    if (strcmp(arg, "B") == 0)
        return pkt_flow_spec_parse("udp 198.18.0.1:5004 198.18.0.3:5006", key, err);
    return fm_err_set(err, FM_EINVAL, "'%s' is not a flow", arg);
}

static void data_path(char *buf, size_t size, const char *name)
{
    const char *dir = getenv("FM_TEST_DATA");
    snprintf(buf, size, "%s/trace/%s", dir ? dir : "tests/data", name);
}

/* 1 when the files at a and b hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb");
    FILE *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = getc(fa);
        same = ca == getc(fb);
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* A capture of four UDP packets: flow A three times, flow B (to .3) third. */
static void write_capture(const char *path)
{
    struct trc_trace t;
    struct fm_err err = {0};
    trc_trace_init(&t);
    for (int i = 0; i < 4; i++) {
        struct trc_pkt p;
        memset(&p, 0, sizeof(p));
        p.ts_sec = 1700000000;
        p.ts_nsec = (uint32_t)i;
        p.proto = 17;
        assert_int_equal(trc_addr_parse("198.18.0.1", &p.family, p.src_ip, &err), FM_OK);
        assert_int_equal(
            trc_addr_parse(i == 2 ? "198.18.0.3" : "198.18.0.2", &p.family, p.dst_ip, &err), FM_OK);
        p.src_port = 5004;
        p.dst_port = 5006;
        p.ttl = 64;
        p.dscp = -1;
        p.udp_length = -1;
        p.payload_length = 10;
        assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    }
    assert_int_equal(trc_to_pcap(&t, path, &err), FM_OK);
    trc_trace_fini(&t);
}

static void test_kinds(void **state)
{
    (void)state;
    char json[512];
    char cap[300];
    char junk[300];
    struct fm_err err = {0};
    enum trc_kind k = TRC_KIND_UNKNOWN;
    assert_int_equal(trc_kind_of_name("a/b.c/x.JSON"), TRC_KIND_JSON);
    assert_int_equal(trc_kind_of_name("x.pcap"), TRC_KIND_PCAP);
    assert_int_equal(trc_kind_of_name("x.cap"), TRC_KIND_PCAP);
    assert_int_equal(trc_kind_of_name("x.pcapng"), -1);
    assert_int_equal(trc_kind_of_name("dir.json/x"), TRC_KIND_UNKNOWN);
    assert_int_equal(trc_kind_of_name("x.txt"), TRC_KIND_UNKNOWN);
    assert_string_equal(trc_kind_name(TRC_KIND_JSON), "json");
    assert_string_equal(trc_kind_name(TRC_KIND_PCAP), "pcap");

    data_path(json, sizeof(json), "valid_tcp_rtp.json");
    test_path(cap, sizeof(cap), "kinds.pcap");
    write_capture(cap);
    test_path(junk, sizeof(junk), "junk.bin");
    test_write_text(junk, "hello");
    assert_int_equal(trc_kind_sniff(json, &k, &err), FM_OK);
    assert_int_equal(k, TRC_KIND_JSON);
    assert_int_equal(trc_kind_sniff(cap, &k, &err), FM_OK);
    assert_int_equal(k, TRC_KIND_PCAP);
    assert_int_equal(trc_kind_sniff(junk, &k, &err), FM_OK);
    assert_int_equal(k, TRC_KIND_UNKNOWN);
}

static void test_read(void **state)
{
    (void)state;
    char json[512];
    char cap[300];
    char junk[300];
    struct fm_err err = {0};
    struct trc_trace t;
    struct trc_input_result res;
    trc_trace_init(&t);
    data_path(json, sizeof(json), "valid_tcp_rtp.json");
    test_path(cap, sizeof(cap), "read.pcap");
    write_capture(cap);
    test_path(junk, sizeof(junk), "junk2.bin");
    test_write_text(junk, "hello");

    /* A JSON trace: read whole; a flow for it is the arguments' fault, found before any read. */
    struct trc_input in = {json, NULL, fake_select, 1, 1, NULL};
    assert_int_equal(trc_input_read(&in, &t, &res, &err), FM_OK);
    assert_int_equal(res.kind, TRC_KIND_JSON);
    assert_true(res.read);
    assert_true(t.n > 0);
    assert_null(res.frames);
    in.flow = "B";
    calls = 0;
    assert_int_equal(trc_input_read(&in, &t, &res, &err), FM_EINVAL);
    assert_int_equal(res.bad, TRC_BAD_FLOW_JSON);
    assert_false(res.read);
    assert_int_equal(t.n, 0);
    assert_int_equal(calls, 0);

    /* A capture: one flow through the resolver, with frame numbers. */
    in.path = cap;
    assert_int_equal(trc_input_read(&in, &t, &res, &err), FM_OK);
    assert_int_equal(calls, 1);
    assert_int_equal(res.kind, TRC_KIND_PCAP);
    assert_true(res.read);
    assert_int_equal(t.n, 1);
    assert_int_equal(res.stats.frames, 4);
    assert_int_equal(res.stats.other_flows, 3);
    assert_non_null(res.frames);
    assert_int_equal(res.frames[0], 3);
    free(res.frames);
    /* ... a flow that is not one: the resolver's message, flagged as the arguments'. */
    in.flow = "C";
    assert_int_equal(trc_input_read(&in, &t, &res, &err), FM_EINVAL);
    assert_int_equal(res.bad, TRC_BAD_FLOW_SPEC);
    assert_string_equal(err.msg, "'C' is not a flow");
    assert_int_equal(t.n, 0);
    /* ... all of it, lengths only. */
    in.flow = NULL;
    in.with_payload = 0;
    in.want_frames = 0;
    assert_int_equal(trc_input_read(&in, &t, &res, &err), FM_OK);
    assert_int_equal(t.n, 4);
    assert_null(t.pkts[0].payload);
    assert_null(res.frames);

    /* Neither kind: the file's fault, named. */
    in.path = junk;
    assert_int_equal(trc_input_read(&in, &t, &res, &err), FM_EFORMAT);
    assert_int_equal(res.bad, TRC_BAD_NONE);
    assert_non_null(strstr(err.msg, "cannot tell what"));
    trc_trace_fini(&t);
}

static void test_convert_validate(void **state)
{
    (void)state;
    char json[512];
    char cap[300];
    char out[300];
    char back[300];
    struct fm_err err = {0};
    struct trc_convert_result res;
    struct trc_validate_report r;
    struct trc_input_result vres;
    data_path(json, sizeof(json), "valid_tcp_rtp.json");
    test_path(cap, sizeof(cap), "conv.pcap");
    test_path(out, sizeof(out), "conv.json");
    test_path(back, sizeof(back), "conv2.pcap");
    write_capture(cap);

    /* capture -> JSON -> pcap: as many packets each way, the same bytes in the end. */
    struct trc_input in = {cap, NULL, fake_select, 1, 0, NULL};
    assert_int_equal(trc_convert(&in, out, &res, &err), FM_OK);
    assert_int_equal(res.in.kind, TRC_KIND_PCAP);
    assert_int_equal(res.packets, 4);
    in.path = out;
    assert_int_equal(trc_convert(&in, back, &res, &err), FM_OK);
    assert_int_equal(res.in.kind, TRC_KIND_JSON);
    assert_int_equal(res.packets, 4);
    assert_true(same_bytes(cap, back));

    /* A stop set by the end of the read: nothing written. */
    volatile sig_atomic_t stop = 1;
    char never[300];
    test_path(never, sizeof(never), "never.json");
    in.path = json;
    in.stop = &stop;
    assert_int_equal(trc_convert(&in, never, &res, &err), FM_EINTR);
    assert_true(res.interrupted);
    assert_true(res.in.read);
    assert_int_equal(res.packets, 0);
    assert_int_equal(access(never, F_OK), -1);

    /* Validate: a valid trace, then the same stop. */
    in.stop = NULL;
    assert_int_equal(trc_validate_input(&in, 0, &r, &vres, &err), FM_OK);
    assert_true(r.packets > 0);
    assert_int_equal(r.total, 0);
    trc_validate_report_fini(&r);
    in.path = cap;
    in.want_frames = 1;
    assert_int_equal(trc_validate_input(&in, 0, &r, &vres, &err), FM_OK);
    assert_int_equal(r.packets, 4);
    assert_non_null(vres.frames);
    free(vres.frames);
    trc_validate_report_fini(&r);
    in.stop = &stop;
    in.want_frames = 0;
    in.path = json;
    assert_int_equal(trc_validate_input(&in, 0, &r, &vres, &err), FM_EINTR);
    assert_int_equal(r.packets, 0);
    trc_validate_report_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_convert_validate),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
