/* tests/unit/test_models_variant.c - variant files: parsing, rejections that name the field,
 * FILE:NAME specs, saving, and what a variant does to a payload length. */
#include "models/variant.h"
#include "tests/support/test_util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char good[] =
    "{ \"format\": \"flowmimic.variants\", \"version\": 1,\n"
    "  \"variants\": [\n"
    "    { \"name\": \"ef-marked\", \"rationale\": \"expedited forwarding\",\n"
    "      \"changes\": { \"dscp\": 46, \"ttl\": 32, \"src_port\": 5004, \"dst_port\": 5006,\n"
    "                   \"rtp_payload_type\": 100, \"payload_scale\": 1.5,\n"
    "                   \"payload_shift\": -20, \"rate_scale\": 2 } },\n"
    "    { \"name\": \"plain\" },\n"
    "    { \"name\": \"nulls\", \"changes\": { \"dscp\": null, \"rate_scale\": null } }\n"
    "  ] }\n";

static void test_parse_good(void **state)
{
    (void)state;
    struct mdl_variant vs[4];
    size_t n = 0;
    struct fm_err err = {0};
    int rc = mdl_variants_parse(good, strlen(good), "test", vs, 4, &n, &err);
    if (rc != FM_OK)
        fail_msg("parse: %s", err.msg);
    assert_int_equal(n, 3);
    assert_string_equal(vs[0].name, "ef-marked");
    assert_string_equal(vs[0].rationale, "expedited forwarding");
    assert_int_equal(vs[0].dscp, 46);
    assert_int_equal(vs[0].ttl, 32);
    assert_int_equal(vs[0].src_port, 5004);
    assert_int_equal(vs[0].dst_port, 5006);
    assert_int_equal(vs[0].rtp_payload_type, 100);
    assert_double_near(vs[0].payload_scale, 1.5, 0.0);
    assert_double_near(vs[0].payload_shift, -20.0, 0.0);
    assert_double_near(vs[0].rate_scale, 2.0, 0.0);
    assert_int_equal(mdl_variant_check(&vs[0], &err), FM_OK);
    /* No changes and null changes both keep the model's values. */
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal(vs[i].dscp, -1);
        assert_int_equal(vs[i].ttl, -1);
        assert_int_equal(vs[i].src_port, -1);
        assert_int_equal(vs[i].rtp_payload_type, -1);
        assert_double_near(vs[i].payload_scale, 1.0, 0.0);
        assert_double_near(vs[i].rate_scale, 1.0, 0.0);
    }
}

/* Parse text and expect FM_EFORMAT with every part in the message; vs must stay untouched. */
static void expect_reject(const char *text, const char *part1, const char *part2)
{
    struct mdl_variant vs[2];
    memset(vs, 0x5a, sizeof(vs));
    size_t n = 77;
    struct fm_err err = {0};
    int rc = mdl_variants_parse(text, strlen(text), "variant file 'x.json'", vs, 2, &n, &err);
    if (rc != FM_EFORMAT)
        fail_msg("expected FM_EFORMAT for %s, got %d (%s)", text, rc, err.msg);
    if (!strstr(err.msg, part1) || (part2 && !strstr(err.msg, part2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.msg, part1, part2 ? part2 : "");
    assert_non_null(strstr(err.msg, "x.json"));
    assert_int_equal(n, 77);
    assert_int_equal(vs[0].dscp, 0x5a5a5a5a);
}

#define HEAD "{\"format\": \"flowmimic.variants\", \"version\": 1, \"variants\": "

static void test_rejects(void **state)
{
    (void)state;
    expect_reject("{\"format\": \"flowmimic.variants\", ", "not valid JSON", NULL);
    expect_reject("[1, 2]", "not a flowmimic variant file", NULL);
    expect_reject("{\"format\": \"flowmimic.model\", \"version\": 1}", "format", NULL);
    expect_reject("{\"format\": \"flowmimic.variants\", \"version\": 2, \"variants\": []}",
                  "newer than this flowmimic reads", "upgrade");
    expect_reject("{\"format\": \"flowmimic.variants\", \"version\": 1.5, \"variants\": []}",
                  "'version'", NULL);
    expect_reject(HEAD "[], \"extra\": 1}", "field 'extra' is not a known field", NULL);
    expect_reject(HEAD "{}}", "'variants'", "array");
    expect_reject(HEAD "[{\"name\": \"a\", \"colour\": \"red\"}]}", "'colour'", "variant 0 ('a')");
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": {\"dcsp\": 46}}]}",
                  "field 'changes.dcsp' is not a known field", "variant 0 ('a')");
    expect_reject(HEAD "[{\"name\": \"a\"}, {\"name\": \"b\", \"changes\": {\"dscp\": 64}}]}",
                  "variant 1 ('b'): field 'changes.dscp' is out of range (0 to 63)", NULL);
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": {\"dscp\": 4.5}}]}", "changes.dscp",
                  "integer");
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": {\"ttl\": 0}}]}", "changes.ttl",
                  "out of range");
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": {\"src_port\": 70000}}]}",
                  "changes.src_port", "out of range");
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": {\"rtp_payload_type\": 128}}]}",
                  "changes.rtp_payload_type", "out of range");
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": {\"rate_scale\": 0}}]}",
                  "changes.rate_scale", "out of range");
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": {\"payload_scale\": \"big\"}}]}",
                  "changes.payload_scale", "number");
    expect_reject(HEAD "[{\"name\": \"a\", \"changes\": [1]}]}", "'changes'", "object");
    expect_reject(HEAD "[{\"changes\": {}}]}", "variant 0", "'name' is missing");
    expect_reject(HEAD "[{\"name\": \"a:b\"}]}", "'name'", "':'");
    expect_reject(HEAD "[{\"name\": \"a\"}, {\"name\": \"a\"}]}", "variant 1 ('a')", "repeats");
    expect_reject(HEAD "[{\"name\": 3}]}", "'name'", "string");
    expect_reject(HEAD "[{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\"}]}",
                  "too many variants", NULL);
}

static void test_check(void **state)
{
    (void)state;
    struct mdl_variant v;
    struct fm_err err = {0};
    mdl_variant_init(&v);
    assert_int_equal(mdl_variant_check(&v, &err), FM_OK);
    v.dscp = 64;
    assert_int_equal(mdl_variant_check(&v, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "dscp"));
    mdl_variant_init(&v);
    v.rate_scale = (double)NAN;
    assert_int_equal(mdl_variant_check(&v, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "rate_scale"));
    mdl_variant_init(&v);
    v.payload_shift = 1e6;
    assert_int_equal(mdl_variant_check(&v, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "payload_shift"));
}

static void test_payload_mapping(void **state)
{
    (void)state;
    struct mdl_variant v;
    mdl_variant_init(&v);
    /* Unchanged lengths stay as drawn, rounded to whole bytes. */
    assert_int_equal(mdl_variant_payload(&v, 1200.0), 1200);
    assert_int_equal(mdl_variant_payload(&v, 99.4), 99);
    assert_int_equal(mdl_variant_payload(&v, 99.6), 100);
    v.payload_scale = 1.5;
    v.payload_shift = -20;
    assert_int_equal(mdl_variant_payload(&v, 100.0), 130);
    /* Clamped to what a UDP datagram can carry, and never negative. */
    assert_int_equal(mdl_variant_payload(&v, 10.0), 0);
    v.payload_scale = 100;
    assert_int_equal(mdl_variant_payload(&v, 1400.0), 65507);
    assert_int_equal(mdl_variant_payload(&v, (double)NAN), 0);
}

/* A variant that makes the side's largest payload too big for the MTU is refused, by name,
 * before generate or replay would write or send oversized packets (issue 11). */
static void test_mtu_check(void **state)
{
    (void)state;
    struct mdl_model m;
    struct mdl_variant v;
    struct fm_err err = {0};
    memset(&m, 0, sizeof(m));
    snprintf(m.local.ip, sizeof(m.local.ip), "198.18.0.1");
    snprintf(m.remote.ip, sizeof(m.remote.ip), "198.18.0.2");
    m.sides[MDL_SIDE_LOCAL].present = 1;
    m.sides[MDL_SIDE_LOCAL].has_payload = 1;
    m.sides[MDL_SIDE_LOCAL].payload.max = 1400;
    assert_int_equal(mdl_max_udp_payload(&m, 1500), 1472);
    mdl_variant_init(&v);
    snprintf(v.name, sizeof(v.name), "big");
    assert_int_equal(mdl_variant_mtu_check(&m, MDL_SIDE_LOCAL, &v, 1500, &err), FM_OK);
    v.payload_shift = 72; /* 1472: the last byte that fits */
    assert_int_equal(mdl_variant_mtu_check(&m, MDL_SIDE_LOCAL, &v, 1500, &err), FM_OK);
    v.payload_shift = 73;
    assert_int_equal(mdl_variant_mtu_check(&m, MDL_SIDE_LOCAL, &v, 1500, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "variant 'big'"));
    assert_non_null(strstr(err.msg, "1473 bytes, more than the 1472 that fit a 1500-byte MTU"));
    v.payload_shift = 0;
    v.payload_scale = 1.25;
    assert_int_equal(mdl_variant_mtu_check(&m, MDL_SIDE_LOCAL, &v, 1500, &err), FM_EINVAL);
    assert_int_equal(mdl_variant_mtu_check(&m, MDL_SIDE_LOCAL, &v, 9000, &err), FM_OK);
    /* IPv6 takes 20 bytes more of the packet. */
    snprintf(m.remote.ip, sizeof(m.remote.ip), "2001:db8::2");
    assert_int_equal(mdl_max_udp_payload(&m, 1500), 1452);
    /* A side without lengths, or without packets, has nothing to exceed. */
    m.sides[MDL_SIDE_LOCAL].has_payload = 0;
    assert_int_equal(mdl_variant_mtu_check(&m, MDL_SIDE_LOCAL, &v, 1500, &err), FM_OK);
    assert_int_equal(mdl_variant_mtu_check(&m, MDL_SIDE_REMOTE, &v, 1500, &err), FM_OK);
}

static void test_files_and_specs(void **state)
{
    (void)state;
    char path[300], spec[340];
    struct mdl_variant v;
    struct fm_err err = {0};
    test_path(path, sizeof(path), "v.json");
    test_write_text(path, good);

    /* FILE alone takes the first variant; FILE:NAME the named one. */
    assert_int_equal(mdl_variant_load_spec(path, &v, &err), FM_OK);
    assert_string_equal(v.name, "ef-marked");
    snprintf(spec, sizeof(spec), "%s:plain", path);
    assert_int_equal(mdl_variant_load_spec(spec, &v, &err), FM_OK);
    assert_string_equal(v.name, "plain");
    assert_int_equal(v.dscp, -1);
    snprintf(spec, sizeof(spec), "%s:nope", path);
    assert_int_equal(mdl_variant_load_spec(spec, &v, &err), FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    assert_non_null(strstr(err.msg, "ef-marked, plain, nulls"));
    test_path(spec, sizeof(spec), "missing.json");
    assert_int_equal(mdl_variant_load_spec(spec, &v, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "missing.json"));

    /* A path with a ':' of its own still loads as a whole. */
    char cpath[300];
    test_path(cpath, sizeof(cpath), "a:b.json");
    test_write_text(cpath, good);
    assert_int_equal(mdl_variant_load_spec(cpath, &v, &err), FM_OK);
    assert_string_equal(v.name, "ef-marked");

    /* An empty list loads, but a spec needs a variant to pick. */
    test_path(path, sizeof(path), "empty.json");
    test_write_text(path, "{\"format\": \"flowmimic.variants\", \"version\": 1, \"variants\": []}");
    struct mdl_variant vs[2];
    size_t n = 9;
    assert_int_equal(mdl_variants_load(path, vs, 2, &n, &err), FM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(mdl_variant_load_spec(path, &v, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "no variants"));
    test_write_text(path, "");
    assert_int_equal(mdl_variants_load(path, vs, 2, &n, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "empty"));
}

static void test_save_round_trip(void **state)
{
    (void)state;
    struct mdl_variant vs[2], back[4];
    size_t n = 0;
    struct fm_err err = {0};
    char path[300];
    mdl_variant_init(&vs[0]);
    snprintf(vs[0].name, sizeof(vs[0].name), "fast");
    snprintf(vs[0].rationale, sizeof(vs[0].rationale), "twice the rate, \"quoted\"");
    vs[0].rate_scale = 2.0;
    vs[0].payload_shift = -0.1;
    vs[0].dscp = 34;
    mdl_variant_init(&vs[1]);
    snprintf(vs[1].name, sizeof(vs[1].name), "same");
    test_path(path, sizeof(path), "saved.json");
    assert_int_equal(mdl_variants_save(path, vs, 2, &err), FM_OK);
    assert_int_equal(mdl_variants_load(path, back, 4, &n, &err), FM_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(&back[0], &vs[0], sizeof(vs[0]));
    assert_memory_equal(&back[1], &vs[1], sizeof(vs[1]));

    /* A bad variant is refused before anything is written. */
    vs[1].ttl = 300;
    test_path(path, sizeof(path), "bad.json");
    assert_int_equal(mdl_variants_save(path, vs, 2, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "ttl"));
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),      cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_check),           cmocka_unit_test(test_payload_mapping),
        cmocka_unit_test(test_files_and_specs), cmocka_unit_test(test_save_round_trip),
        cmocka_unit_test(test_mtu_check),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
