/* tests/unit/test_estimator_holdout.c - the holdout report on captures written here: a flow
 * whose two halves differ completely (lengths and gaps), so that a model that saw anything of
 * half 2 would show it; the split in time order whatever the file order; the figures worked
 * out by hand; and the errors. */
#include "estimator/holdout.h"
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "tests/support/test_util.h"

#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NS 1000000000LL
#define MS 1000000LL
#define T0 (1700000000LL * NS)
#define NP 400

struct tpkt {
    int64_t ts;
    unsigned len;
};

/* Packets of 10.0.0.1:5004 to 10.0.0.2:6000, in the order given. */
static void write_pcap(const char *path, const struct tpkt *p, size_t n)
{
    pcap_t *dead =
        pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[1600];
        size_t flen = test_udp4_frame(b, 1, 2, 5004, 6000, p[i].len);
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof(h));
        h.ts.tv_sec = (time_t)(p[i].ts / NS);
        h.ts.tv_usec = (suseconds_t)(p[i].ts % NS); /* nanoseconds in a nano dump */
        h.caplen = h.len = (bpf_u_int32)flen;
        pcap_dump((u_char *)d, &h, b);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

/* Half 1: 200 packets of 100 bytes, 10 ms apart. Half 2: 200 packets of 300 bytes, 30 ms
 * apart (the first 10 ms after half 1's last). In the file, the two packets either side of
 * the middle are swapped, so that only a split in time order gets the halves right. */
static void write_halves(const char *path)
{
    static struct tpkt p[NP];
    for (int i = 0; i < NP; i++) {
        int64_t t = i < 200 ? (int64_t)i * 10 * MS : 2000 * MS + (int64_t)(i - 200) * 30 * MS;
        p[i] = (struct tpkt){T0 + t, i < 200 ? 100u : 300u};
    }
    struct tpkt x = p[199];
    p[199] = p[200];
    p[200] = x;
    write_pcap(path, p, NP);
}

static void test_halves_apart(void **state)
{
    (void)state;
    char path[300];
    write_halves(test_path(path, sizeof(path), "halves.pcap"));
    struct est_ho_opts o;
    est_ho_opts_init(&o);
    struct mdl_model *m = calloc(1, sizeof(*m));
    struct est_holdout *h = calloc(1, sizeof(*h));
    assert_non_null(m);
    assert_non_null(h);
    o.model = m;
    struct fm_err err = {0};
    if (est_holdout_run(path, &o, h, &err) != FM_OK)
        fail_msg("est_holdout_run: %s", err.msg);
    assert_string_equal(h->flow_spec, "udp 10.0.0.1:5004 10.0.0.2:6000");
    const struct est_ho_side *sd = &h->side[0];
    assert_true(sd->ok);
    assert_true(sd->seq);
    assert_int_equal(sd->s[EST_HO_HALF1].n, 200);
    assert_int_equal(sd->s[EST_HO_HALF2].n, 200);
    assert_int_equal(sd->s[EST_HO_MODEL].n, 2000);
    assert_int_equal(sd->s[EST_HO_INDEPENDENT].n, 2000);
    /* The halves share no length and no gap: KS 1. The model of half 1 knows only 100 bytes
     * every 10 ms, so it is as far from half 2, however it is drawn. */
    for (int k = EST_HO_HALF1; k < EST_HO_NSERIES; k++) {
        if (k == EST_HO_HALF2)
            continue;
        assert_double_near(sd->s[k].ks_len, 1.0, 0);
        assert_double_near(sd->s[k].ks_gap, 1.0, 0);
    }
    assert_double_near(sd->s[EST_HO_HALF2].ks_len, 0.0, 0);
    /* Ten packets of 100 bytes in every 100 ms bin: no variation; no gap under 1 ms: bursts
     * of one; a constant series has no autocorrelation. */
    assert_double_near(sd->s[EST_HO_HALF1].cv100, 0.0, 1e-12);
    assert_double_near(sd->s[EST_HO_HALF1].burst_mean, 1.0, 0);
    assert_true(isnan(sd->s[EST_HO_HALF1].acf1_len));
    /* The model was fitted on half 1 only: 200 packets of 100 bytes. */
    const struct mdl_side *ms = &m->sides[0];
    assert_int_equal(ms->packets, 200);
    assert_double_near(ms->payload.min, 100.0, 0);
    assert_double_near(ms->payload.max, 100.0, 0);
    assert_double_near(ms->iat.max, 0.010, 1e-12);
    /* The remote side sent nothing. */
    assert_false(h->side[1].ok);
    assert_non_null(strstr(h->side[1].note, "0 packets: nothing to split"));
    /* The same seed gives the same report; another seed other draws of the same halves. */
    struct est_holdout *again = calloc(1, sizeof(*again));
    assert_non_null(again);
    o.model = NULL;
    assert_int_equal(est_holdout_run(path, &o, again, &err), FM_OK);
    assert_memory_equal(&again->side[0], &h->side[0], sizeof(h->side[0]));
    free(again);
    free(h);
    free(m);
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    char path[300], model[300];
    write_halves(test_path(path, sizeof(path), "err.pcap"));
    struct est_ho_opts o;
    est_ho_opts_init(&o);
    struct est_holdout *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    struct fm_err err = {0};
    o.draw_factor = 0;
    assert_int_equal(est_holdout_run(path, &o, h, &err), FM_EINVAL);
    est_ho_opts_init(&o);
    o.flow = "3";
    assert_int_equal(est_holdout_run(path, &o, h, &err), FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no flow 3 in the capture"));
    o.flow = "udp 10.0.0.9:1 10.0.0.2:6000";
    assert_int_equal(est_holdout_run(path, &o, h, &err), FM_ENOTFOUND);
    o.flow = NULL;
    FILE *f = fopen(test_path(model, sizeof(model), "m.json"), "w");
    assert_non_null(f);
    fputs("{\"format\": \"flowmimic.model\"}\n", f);
    fclose(f);
    assert_int_equal(est_holdout_run(model, &o, h, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "is a model, not a capture"));
    free(h);
    unlink(path);
    unlink(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halves_apart),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
