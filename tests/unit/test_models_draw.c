/* tests/unit/test_models_draw.c - a series drawn from one side of a model: with a sequence,
 * a packet's length and the gap before it come from one state and the chain's transitions
 * show in the series; without one (or with MDL_DRAW_INDEPENDENT), the draws are exactly the
 * mixtures' in the order compare always drew them; NAN where the side has no model; and the
 * quantiles of a state's pieces. */
#include "models/draw.h"
#include "tests/support/test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A side with both mixtures (lengths 100 or 200 bytes, gaps 1 ms or 5 ms: atoms only, so a
 * draw names its atom) and a two-state sequence: state 0 sends 1000 bytes 2 ms after the
 * previous packet, state 1 300 bytes after 30 ms; state 1 is always followed by state 0, and
 * state 0 by state 1 with probability 1/4. */
static void make_side(struct mdl_side *s)
{
    memset(s, 0, sizeof(*s));
    s->present = 1;
    s->packets = 1000;
    s->duration_s = 10;
    s->has_payload = 1;
    s->payload.scale = MDL_SCALE_LINEAR;
    s->payload.min = 100;
    s->payload.max = 200;
    s->payload.resolution = 1;
    s->payload.n_atoms = 2;
    s->payload.atoms[0].value = 100;
    s->payload.atoms[0].weight = 0.5;
    s->payload.atoms[1].value = 200;
    s->payload.atoms[1].weight = 0.5;
    s->has_iat = 1;
    s->iat.scale = MDL_SCALE_LOG;
    s->iat.min = 0.001;
    s->iat.max = 0.005;
    s->iat.resolution = 1e-6;
    s->iat.n_atoms = 2;
    s->iat.atoms[0].value = 0.001;
    s->iat.atoms[0].weight = 0.5;
    s->iat.atoms[1].value = 0.005;
    s->iat.atoms[1].weight = 0.5;
    struct mdl_seq *q = &s->seq;
    q->k = 2;
    q->order = 1;
    q->clusters = 2;
    q->tick_ns = 1000;
    q->states[0] =
        (struct mdl_seq_state){800, 0, 0.0, 0.0, {1, {{1000, 1000, 1}}}, {1, {{2e6, 2e6, 1}}}};
    q->states[1] =
        (struct mdl_seq_state){200, 1, 0.0, 0.0, {1, {{300, 300, 1}}}, {1, {{30e6, 30e6, 1}}}};
    q->n_ctx = 3;
    q->ctx[0] = (struct mdl_seq_ctx){0, {0}, 1000, {0.8, 0.2}};
    q->ctx[1] = (struct mdl_seq_ctx){1, {0}, 800, {0.75, 0.25}};
    q->ctx[2] = (struct mdl_seq_ctx){1, {1}, 200, {1.0, 0.0}};
    mdl_seq_sort_ctx(q);
    struct fm_err err = {0};
    if (mdl_seq_check(q, &err) != FM_OK)
        fail_msg("test sequence: %s", err.msg);
    s->has_seq = 1;
}

#define N 20000

static void test_sequence(void **state)
{
    (void)state;
    struct mdl_side s;
    make_side(&s);
    double *len = malloc(N * sizeof(*len));
    double *gap = malloc((N - 1) * sizeof(*gap));
    assert_non_null(len);
    assert_non_null(gap);
    struct fm_rng *r = fm_rng_new(11);
    assert_int_equal(mdl_side_draw_series(&s, MDL_DRAW_AUTO, r, N, len, gap), 1);
    fm_rng_free(r);
    size_t small = 0, small_after_small = 0, small_after_large = 0, large = 0;
    for (size_t i = 0; i < N; i++) {
        assert_true(len[i] == 1000.0 || len[i] == 300.0);
        /* gap[i - 1] is the gap before packet i: its state's, in seconds. */
        if (i > 0)
            assert_double_near(gap[i - 1], len[i] == 1000.0 ? 0.002 : 0.030, 1e-12);
        if (i == 0)
            continue;
        if (len[i - 1] == 300.0) {
            small_after_small += len[i] == 300.0;
        } else {
            large++;
            small_after_large += len[i] == 300.0;
        }
        small += len[i] == 300.0;
    }
    /* The chain shows: state 1 never repeats, state 0 leads to it a quarter of the time
     * (sd of the share over ~16000 draws: 0.0034), and it is a fifth of the packets. */
    assert_int_equal(small_after_small, 0);
    assert_double_near((double)small_after_large / (double)large, 0.25, 0.015);
    assert_double_near((double)small / (double)(N - 1), 0.2, 0.015);
    free(len);
    free(gap);
}

/* Without the sequence, the draws are the mixtures' in compare's old order: every length,
 * then every gap, from the same generator. */
static void test_independent(void **state)
{
    (void)state;
    struct mdl_side s;
    make_side(&s);
    double len[64], gap[63], want_len[64], want_gap[63];
    struct fm_rng *r = fm_rng_new(5);
    for (size_t i = 0; i < 64; i++)
        want_len[i] = mdl_mixture_sample(&s.payload, r);
    for (size_t i = 0; i < 63; i++)
        want_gap[i] = mdl_mixture_sample(&s.iat, r);
    fm_rng_free(r);
    for (int pass = 0; pass < 2; pass++) {
        /* Asked for, beside a sequence; and for a side without one. */
        enum mdl_draw_mode mode = pass == 0 ? MDL_DRAW_INDEPENDENT : MDL_DRAW_AUTO;
        s.has_seq = pass == 0;
        r = fm_rng_new(5);
        assert_int_equal(mdl_side_draw_series(&s, mode, r, 64, len, gap), 0);
        fm_rng_free(r);
        assert_memory_equal(len, want_len, sizeof(len));
        assert_memory_equal(gap, want_gap, sizeof(gap));
    }
    /* A feature without a model is NAN; one packet has no gap (gap may be NULL). */
    s.has_seq = 0;
    s.has_iat = 0;
    r = fm_rng_new(5);
    mdl_side_draw_series(&s, MDL_DRAW_AUTO, r, 3, len, gap);
    assert_true(len[0] == 100.0 || len[0] == 200.0);
    assert_true(isnan(gap[0]) && isnan(gap[1]));
    s.present = 0;
    mdl_side_draw_series(&s, MDL_DRAW_AUTO, r, 1, len, NULL);
    assert_true(isnan(len[0]));
    fm_rng_free(r);
}

static void test_quantile(void **state)
{
    (void)state;
    /* An atom of 0.3 at 10, then 0.7 uniform over [20, 90]. */
    struct mdl_seq_dist d = {2, {{10, 10, 0.3}, {20, 90, 0.7}}};
    assert_double_near(mdl_seq_dist_quantile(&d, 0.1), 10.0, 0);
    assert_double_near(mdl_seq_dist_quantile(&d, 0.3), 10.0, 0);
    assert_double_near(mdl_seq_dist_quantile(&d, 0.65), 55.0, 1e-9);
    assert_double_near(mdl_seq_dist_quantile(&d, 1.0), 90.0, 1e-9);
}

/* The states' pieces weighted by their packets: state 0 (800 packets) sends 1000 bytes after
 * 2 ms, state 1 (200) 300 bytes after 30 ms; a third state adds whole values 10..19. */
static void test_mass(void **state)
{
    (void)state;
    struct mdl_side s;
    make_side(&s);
    const struct mdl_seq *q = &s.seq;
    assert_double_near(mdl_seq_mass(q, 0, 999, 1001), 0.8, 1e-12);
    assert_double_near(mdl_seq_mass(q, 0, 250, 1001), 1.0, 1e-12);
    assert_double_near(mdl_seq_mass(q, 0, 301, 999), 0.0, 0);
    assert_double_near(mdl_seq_mass(q, 0, 1001, 999), 0.0, 0);
    assert_double_near(mdl_seq_mass(q, 1, 29e6, 31e6), 0.2, 1e-12);
    assert_double_near(mdl_seq_mass(q, 1, 0, 1e6), 0.0, 0);
    /* Whole bytes 10..19 at 0.5 of a state of 1000 packets (of 2000): 2 of its 10 values lie in
     * [14.5, 16] (15 and 16), so 0.5 * 0.5 * 0.2. */
    struct mdl_seq r = *q;
    r.k = 3;
    r.states[2] = (struct mdl_seq_state){
        1000, 0, 0.0, 0.0, {2, {{10, 19, 0.5}, {50, 50, 0.5}}}, {1, {{1e6, 1e6, 1}}}};
    assert_double_near(mdl_seq_mass(&r, 0, 14.5, 16), 0.05, 1e-12);
    assert_double_near(mdl_seq_mass(&r, 0, 0, 100), 0.5, 1e-12);
    /* A piece with its mean is drawn skewed toward lo: the mass follows the draws. */
    struct mdl_seq one;
    memset(&one, 0, sizeof(one));
    one.k = 1;
    one.tick_ns = 1000;
    one.states[0] =
        (struct mdl_seq_state){100, 0, 0.0, 0.0, {1, {{0, 99, 1}}}, {1, {{1e6, 1e6, 1}}}};
    one.len_mean[0][0] = 20;
    one.n_ctx = 1;
    one.ctx[0] = (struct mdl_seq_ctx){0, {0}, 100, {1.0}};
    struct fm_err err = {0};
    assert_int_equal(mdl_seq_check(&one, &err), FM_OK);
    struct fm_rng *rng = fm_rng_new(3);
    struct mdl_seq_gen g;
    mdl_seq_gen_init(&g);
    size_t in = 0, n = 200000;
    for (size_t i = 0; i < n; i++) {
        unsigned st;
        double len, gap;
        int mk;
        mdl_seq_draw(&one, &g, rng, &st, &len, &gap, &mk);
        in += len >= 0 && len <= 9;
    }
    fm_rng_free(rng);
    double m = mdl_seq_mass(&one, 0, 0, 9);
    assert_true(m > 0.5 && m < 0.6); /* 0.1^(1 / 3.95) = 0.558; uniform would say 0.1 */
    assert_double_near(m, (double)in / (double)n, 0.005);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_independent),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_mass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
