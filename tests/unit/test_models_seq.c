/* tests/unit/test_models_seq.c - the sequence model: a known chain's order and transition
 * table recovered (BIC picks the true order), states recovered from (length, gap), copula
 * persistence recovered and drawn, atoms kept exact, any number of draws, the 64 KiB bound
 * on a side's JSON, and the checks that reject a broken model; the calibration of persistence
 * that crosses states and of jitter's negative gap correlation, and the pieces' means (a
 * heavy tail's mean kept; printed, loaded and rejected by name), and sliced states (the
 * transitions and the states' lengths exact, the persistence crossing states). */
#include "models/json.h"
#include "models/seq.h"
#include "models/seqfit.h"
#include "models/stats.h"
#include "tests/support/test_util.h"

#include <gsl/gsl_cdf.h>
#include <string.h>

/* n labels from a chain over k states whose next state depends on the last `order` ones:
 * their sum plus one (mod k) is the likely next state, taken with probability stay, else
 * uniformly one of the k. */
static uint8_t *chain(size_t n, unsigned k, unsigned order, double stay, uint64_t seed)
{
    uint8_t *y = malloc(n);
    struct fm_rng *r = fm_rng_new(seed);
    assert_non_null(y);
    assert_non_null(r);
    for (size_t t = 0; t < n; t++) {
        unsigned likely = 0;
        for (unsigned i = 1; i <= order && i <= t; i++)
            likely += y[t - i];
        likely = (likely + 1) % k;
        y[t] = (uint8_t)(fm_rng_uniform(r) < stay ? likely : fm_rng_below(r, k));
    }
    fm_rng_free(r);
    return y;
}

static struct mdl_seq *new_seq(unsigned k)
{
    struct mdl_seq *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->k = k;
    return s;
}

static void test_chain_order(void **state)
{
    (void)state;
    struct fm_err err = {0};
    for (unsigned order = 0; order <= 3; order++) {
        size_t n = 60000;
        uint8_t *y = chain(n, 3, order, 0.7, 10 + order);
        struct mdl_seq *s = new_seq(3);
        assert_int_equal(mdl_seq_fit_chain(y, n, 3, 20, s, &err), FM_OK);
        if (s->order != order)
            fail_msg("true order %u, BIC chose %u (bic %g %g %g %g)", order, s->order, s->bic[0],
                     s->bic[1], s->bic[2], s->bic[3]);
        s->tick_ns = 1;
        for (unsigned i = 0; i < s->k; i++) {
            s->states[i].len = (struct mdl_seq_dist){1, {{100, 100, 1}}};
            s->states[i].gap = (struct mdl_seq_dist){1, {{1000, 1000, 1}}};
        }
        if (mdl_seq_check(s, &err) != FM_OK)
            fail_msg("%s", err.msg);
        free(y);
        free(s);
    }
}

static void test_chain_table(void **state)
{
    (void)state;
    struct fm_err err = {0};
    size_t n = 100000;
    uint8_t *y = chain(n, 4, 1, 0.6, 3);
    struct mdl_seq *s = new_seq(4);
    assert_int_equal(mdl_seq_fit_chain(y, n, 3, 20, s, &err), FM_OK);
    assert_int_equal(s->order, 1);
    assert_int_equal(s->n_ctx, 5); /* the empty history and one per state */
    for (unsigned prev = 0; prev < 4; prev++) {
        uint8_t h = (uint8_t)prev;
        const struct mdl_seq_ctx *c = mdl_seq_find_ctx(s, &h, 1);
        assert_non_null(c);
        assert_int_equal(c->order, 1);
        for (unsigned j = 0; j < 4; j++) {
            double want = 0.4 / 4 + (j == (prev + 1) % 4 ? 0.6 : 0.0);
            assert_double_near(c->p[j], want, 0.01);
        }
    }
    /* Drawing from the fitted chain gives its transition shares back. */
    struct fm_rng *r = fm_rng_new(5);
    struct mdl_seq_gen g;
    mdl_seq_gen_init(&g);
    for (unsigned i = 0; i < s->k; i++) {
        s->states[i].len.n = 1;
        s->states[i].len.pieces[0] = (struct mdl_seq_piece){100.0 * (i + 1), 100.0 * (i + 1), 1};
        s->states[i].gap.n = 1;
        s->states[i].gap.pieces[0] = (struct mdl_seq_piece){1e6, 1e6, 1};
    }
    s->tick_ns = 1;
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    unsigned prev = 0, hits = 0, total = 0;
    for (unsigned i = 0; i < 50000; i++) {
        unsigned st = 0;
        double len = 0, gap = 0;
        int mk = 0;
        mdl_seq_draw(s, &g, r, &st, &len, &gap, &mk);
        assert_double_near(len, 100.0 * (st + 1), 0);
        if (i > 0) {
            total++;
            hits += st == (prev + 1) % 4;
        }
        prev = st;
    }
    assert_double_near((double)hits / total, 0.7, 0.01);
    fm_rng_free(r);
    free(y);
    free(s);
}

/* Two kinds of packet from a sticky chain: small ones 1 ms apart, large ones 30 ms apart. */
static void test_states_recovered(void **state)
{
    (void)state;
    struct fm_err err = {0};
    size_t n = 40000;
    uint8_t *y = chain(n, 2, 1, 0.8, 7);
    double *len = malloc(n * sizeof(*len));
    int64_t *gap = malloc(n * sizeof(*gap));
    struct fm_rng *r = fm_rng_new(8);
    for (size_t i = 0; i < n; i++) {
        /* chain() moves to (last + 1) % 2 when it follows its rule: flip it into a stay. */
        y[i] = i > 0 && y[i] != y[i - 1] && fm_rng_uniform(r) < 0.8 ? y[i - 1] : y[i];
        len[i] = (double)(y[i] ? 1000 + fm_rng_below(r, 200) : 100 + fm_rng_below(r, 20));
        gap[i] = y[i] ? 30000000 + (int64_t)fm_rng_below(r, 5000) * 1000
                      : 1000000 + (int64_t)fm_rng_below(r, 100) * 1000;
    }
    struct mdl_seq_fit_opts o;
    mdl_seq_fit_opts_init(&o);
    struct mdl_seq *s = new_seq(0);
    assert_int_equal(mdl_seq_fit(len, gap, NULL, n, 1000, &o, s, &err), FM_OK);
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    /* Uniform blocks are not Gaussian: BIC may split each, but never mix the two. */
    unsigned small = 0;
    for (unsigned i = 0; i < s->k; i++) {
        const struct mdl_seq_state *x = &s->states[i];
        int is_small = x->len.pieces[x->len.n - 1].hi < 200;
        if (is_small) {
            small++;
            assert_true(x->gap.pieces[x->gap.n - 1].hi <= 1100000);
        } else {
            assert_true(x->len.pieces[0].lo >= 1000);
            assert_true(x->gap.pieces[0].lo >= 30000000);
        }
    }
    assert_true(small >= 1 && small < s->k);
    /* The share of small packets after a small one is the chain's (0.8 + 0.2 * 0.5... the
     * flipped chain stays with probability about 0.9): measure it on the data and on draws. */
    size_t ss = 0, sn = 0;
    for (size_t i = 1; i < n; i++) {
        if (len[i - 1] < 200) {
            sn++;
            ss += len[i] < 200;
        }
    }
    struct mdl_seq_gen g;
    mdl_seq_gen_init(&g);
    double prev = 0;
    size_t ds = 0, dn = 0;
    for (size_t i = 0; i < 100000; i++) {
        unsigned st = 0;
        double l = 0, gp = 0;
        int mk = 0;
        mdl_seq_draw(s, &g, r, &st, &l, &gp, &mk);
        assert_false(mk);
        if (i > 0 && prev < 200) {
            dn++;
            ds += l < 200;
        }
        prev = l;
    }
    assert_double_near((double)ds / dn, (double)ss / sn, 0.01);
    fm_rng_free(r);
    free(y);
    free(len);
    free(gap);
    free(s);
}

/* One state whose lengths follow a Gaussian-copula AR(1) with rho 0.8. */
static void test_copula(void **state)
{
    (void)state;
    struct fm_err err = {0};
    size_t n = 50000;
    double *len = malloc(n * sizeof(*len));
    int64_t *gap = malloc(n * sizeof(*gap));
    struct fm_rng *r = fm_rng_new(11);
    double z = 0;
    for (size_t i = 0; i < n; i++) {
        z = 0.8 * z + 0.6 * fm_rng_gauss(r);
        len[i] = floor(500 + 400 * gsl_cdf_ugaussian_P(z));
        gap[i] = 20000000 + (int64_t)fm_rng_below(r, 1000) * 1000; /* no persistence */
    }
    struct mdl_seq_fit_opts o;
    mdl_seq_fit_opts_init(&o);
    o.max_clusters = 1;
    struct mdl_seq *s = new_seq(0);
    assert_int_equal(mdl_seq_fit(len, gap, NULL, n, 1000, &o, s, &err), FM_OK);
    assert_int_equal(s->k, 1);
    assert_double_near(s->states[0].rho_len, 0.8, 0.02);
    assert_double_near(s->states[0].rho_gap, 0.0, 0.02);
    /* Drawn lengths have the capture's lag-1 correlation and range. */
    struct mdl_seq_gen g;
    mdl_seq_gen_init(&g);
    double *d = malloc(n * sizeof(*d));
    for (size_t i = 0; i < n; i++) {
        unsigned st = 0;
        double gp = 0;
        int mk = 0;
        mdl_seq_draw(s, &g, r, &st, &d[i], &gp, &mk);
        assert_true(d[i] >= 500 && d[i] <= 900);
        assert_true(gp >= 20000000 && gp <= 21000000);
        assert_double_near(fmod(gp, 1000), 0, 0);
    }
    double a_cap = 0, a_gen = 0;
    mdl_stats_acf(len, n, 1, &a_cap);
    mdl_stats_acf(d, n, 1, &a_gen);
    assert_double_near(a_gen, a_cap, 0.03);
    fm_rng_free(r);
    free(len);
    free(gap);
    free(d);
    free(s);
}

/* Exact lengths and zero gaps (a 1 ms tick) come back exactly, at their shares; a few
 * distinct values are all atoms, and the markers go with their states. */
static void test_atoms_and_markers(void **state)
{
    (void)state;
    struct fm_err err = {0};
    size_t n = 20000;
    double *len = malloc(n * sizeof(*len));
    int64_t *gap = malloc(n * sizeof(*gap));
    uint8_t *mk = malloc(n);
    struct fm_rng *r = fm_rng_new(12);
    for (size_t i = 0; i < n; i++) {
        /* Frames of three packets: 1200, 1200, then a shorter last one with the marker. */
        int last = i % 3 == 2;
        len[i] = last ? (double)(300 + fm_rng_below(r, 600)) : 1200;
        gap[i] = i % 3 == 0 ? 33000000 : fm_rng_uniform(r) < 0.5 ? 0 : 1000000;
        mk[i] = (uint8_t)last;
    }
    struct mdl_seq_fit_opts o;
    mdl_seq_fit_opts_init(&o);
    struct mdl_seq *s = new_seq(0);
    assert_int_equal(mdl_seq_fit(len, gap, mk, n, 1000000, &o, s, &err), FM_OK);
    assert_int_equal(s->frames, 1);
    struct mdl_seq_gen g;
    mdl_seq_gen_init(&g);
    size_t zeros = 0, full = 0, marked = 0, m = 100000, bad_marker = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned st = 0;
        double l = 0, gp = 0;
        int x = 0;
        mdl_seq_draw(s, &g, r, &st, &l, &gp, &x);
        zeros += gp == 0;
        full += l == 1200;
        marked += x;
        /* The marker goes with the shorter last packet of a frame. */
        bad_marker += x != (l != 1200);
        assert_true(gp == 0 || gp == 1000000 || gp == 33000000);
    }
    assert_double_near((double)zeros / m, 1.0 / 3, 0.01);
    assert_double_near((double)full / m, 2.0 / 3, 0.01);
    assert_double_near((double)marked / m, 1.0 / 3, 0.01);
    assert_true(bad_marker < m / 200);
    fm_rng_free(r);
    free(len);
    free(gap);
    free(mk);
    free(s);
}

/* The most a side can hold prints within the bound once fitted; a long, noisy capture too. */
static void test_json_bound(void **state)
{
    (void)state;
    struct fm_err err = {0};
    struct mdl_seq *s = new_seq(MDL_SEQ_MAX_STATES);
    s->order = 3;
    s->tick_ns = 1;
    for (unsigned i = 0; i < s->k; i++) {
        struct mdl_seq_state *x = &s->states[i];
        x->n = 123456789012ULL;
        x->rho_len = -0.123456789012345;
        x->rho_gap = 0.987654321098765;
        x->len.n = x->gap.n = MDL_SEQ_MAX_PIECES;
        for (unsigned j = 0; j < MDL_SEQ_MAX_PIECES; j++) {
            x->len.pieces[j] = (struct mdl_seq_piece){1e8 + j * 2, 1e8 + j * 2 + 1, 1.0 / 32};
            x->gap.pieces[j] =
                (struct mdl_seq_piece){1.23e17 + j * 1e15, 1.23e17 + j * 1e15 + 1e14, 1.0 / 32};
            s->len_mean[i][j] = x->len.pieces[j].lo + 0.123456789;
            s->gap_mean[i][j] = x->gap.pieces[j].lo + 1.23456789e12;
        }
    }
    for (unsigned c = 0; c < MDL_SEQ_MAX_CTX; c++) {
        struct mdl_seq_ctx *x = &s->ctx[c];
        x->order = c == 0 ? 0 : 3;
        for (unsigned j = 0; j < x->order; j++)
            x->hist[j] = (uint8_t)((c >> (4 * j)) % MDL_SEQ_MAX_STATES);
        x->n = 1000000000ULL + c;
        for (unsigned j = 0; j < s->k; j++)
            x->p[j] = j + 1 < s->k ? 0.061234567890123 : 1.0 - 15 * 0.061234567890123;
    }
    s->n_ctx = MDL_SEQ_MAX_CTX;
    mdl_seq_sort_ctx(s);
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    assert_true(mdl_json_seq_bytes(s) > MDL_SEQ_MAX_JSON);
    assert_int_equal(mdl_seq_fit_bound(s, &err), FM_OK);
    assert_true(mdl_json_seq_bytes(s) <= MDL_SEQ_MAX_JSON);
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    assert_true(s->n_ctx >= 1);
    free(s);

    /* 100000 packets of noise: many states and histories, still within the bound. */
    size_t n = 100000;
    double *len = malloc(n * sizeof(*len));
    int64_t *gap = malloc(n * sizeof(*gap));
    struct fm_rng *r = fm_rng_new(13);
    for (size_t i = 0; i < n; i++) {
        len[i] = (double)fm_rng_below(r, 1400);
        gap[i] = (int64_t)(1e3 * exp(12 * fm_rng_uniform(r)));
    }
    struct mdl_seq_fit_opts o;
    mdl_seq_fit_opts_init(&o);
    s = new_seq(0);
    assert_int_equal(mdl_seq_fit(len, gap, NULL, n, 1, &o, s, &err), FM_OK);
    assert_true(mdl_json_seq_bytes(s) <= MDL_SEQ_MAX_JSON);
    fm_rng_free(r);
    free(len);
    free(gap);
    free(s);
}

/* Lag-1 autocorrelation of m packets drawn from s (length, or gap when gap is set). */
static double drawn_acf(const struct mdl_seq *s, size_t m, uint64_t seed, int gap, double *mean)
{
    double *d = malloc(m * sizeof(*d));
    assert_non_null(d);
    struct fm_rng *r = fm_rng_new(seed);
    struct mdl_seq_gen g;
    mdl_seq_gen_init(&g);
    double sum = 0.0;
    for (size_t i = 0; i < m; i++) {
        unsigned st = 0;
        double l = 0, gp = 0;
        int mk = 0;
        mdl_seq_draw(s, &g, r, &st, &l, &gp, &mk);
        d[i] = gap ? gp : l;
        sum += d[i];
    }
    double a = 0;
    mdl_stats_acf(d, m, 1, &a);
    if (mean)
        *mean = sum / (double)m;
    fm_rng_free(r);
    free(d);
    return a;
}

/* A level drifting slowly through two bands of length, cut into states by the clusters: the
 * states' own scores see little of the persistence, which crosses the band edge; the
 * calibration puts it back. The gaps are a regular 20 ms clock plus a delay that varies from
 * packet to packet (jitter), whose lag-1 autocorrelation is negative (-0.5). */
static void test_calibration(void **state)
{
    (void)state;
    struct fm_err err = {0};
    size_t n = 40000;
    double *len = malloc(n * sizeof(*len));
    int64_t *gap = malloc(n * sizeof(*gap));
    struct fm_rng *r = fm_rng_new(21);
    double level = 0, j = 0;
    for (size_t i = 0; i < n; i++) {
        level = 0.995 * level + sqrt(1 - 0.995 * 0.995) * fm_rng_gauss(r);
        double band = level > 0 ? 900 : 200; /* two kinds of packet, as two codec modes */
        len[i] = floor(band + 60 * level + 20 * fm_rng_gauss(r));
        len[i] = len[i] < 20 ? 20 : len[i];
        double j2 = 2000 * fm_rng_uniform(r); /* µs of delay */
        gap[i] = (int64_t)(20000 + j2 - j) * 1000;
        j = j2;
    }
    double a_len = 0, a_gap = 0;
    mdl_stats_acf(len, n, 1, &a_len);
    double *g2 = malloc(n * sizeof(*g2));
    for (size_t i = 0; i < n; i++)
        g2[i] = (double)gap[i];
    mdl_stats_acf(g2, n, 1, &a_gap);
    assert_true(a_len > 0.9);
    assert_double_near(a_gap, -0.5, 0.03);
    struct mdl_seq_fit_opts o;
    mdl_seq_fit_opts_init(&o);
    struct mdl_seq *s = new_seq(0);
    assert_int_equal(mdl_seq_fit(len, gap, NULL, n, 1000, &o, s, &err), FM_OK);
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    assert_true(s->k >= 2);
    /* Drawn with another seed than the calibration's, twice the capture's length. */
    double mean = 0;
    assert_double_near(drawn_acf(s, 2 * n, 99, 0, NULL), a_len, 0.05);
    assert_double_near(drawn_acf(s, 2 * n, 99, 1, &mean), a_gap, 0.05);
    assert_double_near(mean, 20e6, 0.01 * 20e6);
    fm_rng_free(r);
    free(len);
    free(gap);
    free(g2);
    free(s);
}

/* Gaps of a 20 ms clock with rare silences (0.2%) of up to 8 s: too few for a state of their
 * own, they share the top pieces of another, the top one wide. Drawn uniformly its mean would
 * be the range's midpoint; with its mean kept the drawn gaps have the capture's mean (and so
 * the side is silent as long). */
static void test_piece_means(void **state)
{
    (void)state;
    struct fm_err err = {0};
    size_t n = 20000;
    double *len = malloc(n * sizeof(*len));
    int64_t *gap = malloc(n * sizeof(*gap));
    struct fm_rng *r = fm_rng_new(22);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        len[i] = (double)(60 + fm_rng_below(r, 40));
        double g = 20e6 + 1e6 * fm_rng_gauss(r);
        if (fm_rng_uniform(r) < 0.002) /* heavy tail: Pareto above 100 ms, capped at 8 s */
            g = fmin(100e6 * pow(fm_rng_uniform_pos(r), -1.0 / 1.2), 8e9);
        gap[i] = (int64_t)(round(g / 1000) * 1000);
        total += (double)gap[i];
    }
    struct mdl_seq_fit_opts o;
    mdl_seq_fit_opts_init(&o);
    struct mdl_seq *s = new_seq(0);
    assert_int_equal(mdl_seq_fit(len, gap, NULL, n, 1000, &o, s, &err), FM_OK);
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    unsigned kept = 0;
    for (unsigned i = 0; i < s->k; i++) {
        for (unsigned p = 0; p < s->states[i].gap.n; p++) {
            const struct mdl_seq_piece *q = &s->states[i].gap.pieces[p];
            double mean = s->gap_mean[i][p];
            if (mean != 0.0) {
                kept++;
                assert_true(mean > q->lo && mean < q->hi);
            }
        }
    }
    assert_true(kept >= 1);
    double mean = 0;
    (void)drawn_acf(s, 10 * n, 5, 1, &mean);
    assert_double_near(mean, total / (double)n, 0.05 * total / (double)n);
    /* The same model with its pieces spread uniformly (a file without means) overshoots. */
    memset(s->gap_mean, 0, sizeof(s->gap_mean));
    (void)drawn_acf(s, 10 * n, 5, 1, &mean);
    assert_true(mean > 1.1 * total / (double)n);
    fm_rng_free(r);
    free(len);
    free(gap);
    free(s);
}

/* A side with one piece mean, sliced, as a model file: printed, loaded back the same; a file
 * without means or slice (version 2 before them) loads with uniform pieces, unsliced; bad
 * values are rejected by name. */
static void test_piece_mean_json(void **state)
{
    (void)state;
    struct fm_err err = {0};
    struct mdl_model *m = calloc(1, sizeof(*m));
    struct mdl_model *back = calloc(1, sizeof(*back));
    assert_non_null(m);
    assert_non_null(back);
    m->version = MDL_VERSION;
    snprintf(m->capture, sizeof(m->capture), "call.pcap");
    snprintf(m->flow_spec, sizeof(m->flow_spec), "udp 198.18.0.1:5004 198.18.0.2:6000");
    m->packets = 100;
    snprintf(m->proto, sizeof(m->proto), "udp");
    snprintf(m->local.ip, sizeof(m->local.ip), "198.18.0.1");
    m->local.port = 5004;
    snprintf(m->remote.ip, sizeof(m->remote.ip), "198.18.0.2");
    m->remote.port = 6000;
    struct mdl_side *sd = &m->sides[0];
    sd->present = 1;
    sd->packets = 100;
    sd->duration_s = 2;
    sd->has_seq = 1;
    struct mdl_seq *q = &sd->seq;
    q->k = 1;
    q->clusters = 1;
    q->tick_ns = 1000;
    q->states[0].n = 99;
    q->states[0].len.n = 1;
    q->states[0].len.pieces[0] = (struct mdl_seq_piece){100, 100, 1};
    q->states[0].gap.n = 2;
    q->states[0].gap.pieces[0] = (struct mdl_seq_piece){19000000, 21000000, 0.75};
    q->states[0].gap.pieces[1] = (struct mdl_seq_piece){100000000, 8000000000, 0.25};
    q->gap_mean[0][1] = 700000000.5;
    q->slice = 1;
    q->n_ctx = 1;
    q->ctx[0].n = 99;
    q->ctx[0].p[0] = 1;
    assert_int_equal(mdl_seq_check(q, &err), FM_OK);
    char *text = mdl_json_print(m);
    assert_non_null(text);
    const char *piece = "[100000000, 8000000000, 0.25, 700000000.5]";
    if (!strstr(text, piece))
        fail_msg("'%s' not in %s", piece, text);
    if (mdl_json_parse(text, strlen(text), "t", back, &err) != FM_OK)
        fail_msg("%s", err.msg);
    assert_double_near(back->sides[0].seq.gap_mean[0][1], 700000000.5, 0);
    assert_int_equal(back->sides[0].seq.slice, 1);
    assert_double_near(back->sides[0].seq.gap_mean[0][0], 0, 0);
    assert_double_near(back->sides[0].seq.len_mean[0][0], 0, 0);
    struct {
        const char *to, *msg; /* the piece replaced by to: FM_OK when msg is NULL */
    } edits[] = {
        {"[100000000, 8000000000, 0.25]", NULL},
        {"[100000000, 8000000000, 0.25, 9000000000]", "states[0].gap_ns.pieces[1]: mean"},
        {"[100000000, 8000000000, 0.25, 100000000]", "states[0].gap_ns.pieces[1]: mean"},
        {"[100000000, 8000000000, 0.25, -5]", "states[0].gap_ns[1]"},
        {"[100000000, 8000000000, 0.25, 7e8, 1]", "states[0].gap_ns[1]"},
    };
    const char *at = strstr(text, piece);
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        size_t sz = strlen(text) + 64;
        char *buf = malloc(sz);
        assert_non_null(buf);
        snprintf(buf, sz, "%.*s%s%s", (int)(at - text), text, edits[i].to, at + strlen(piece));
        int rc = mdl_json_parse(buf, strlen(buf), "t", back, &err);
        if (!edits[i].msg) {
            if (rc != FM_OK)
                fail_msg("%s: %s", edits[i].to, err.msg);
            assert_double_near(back->sides[0].seq.gap_mean[0][1], 0, 0);
        } else if (rc != FM_EFORMAT || !strstr(err.msg, edits[i].msg)) {
            fail_msg("%s: rc %d, '%s' lacks '%s'", edits[i].to, rc, err.msg, edits[i].msg);
        }
        free(buf);
    }
    /* "slice": absent is false (files before it); anything but a boolean is rejected. */
    const char *sl = strstr(text, "\"slice\": true,");
    assert_non_null(sl);
    const char *tos[] = {"", "\"slice\": 1,"};
    for (size_t i = 0; i < 2; i++) {
        size_t sz = strlen(text) + 64;
        char *buf = malloc(sz);
        assert_non_null(buf);
        snprintf(buf, sz, "%.*s%s%s", (int)(sl - text), text, tos[i],
                 sl + strlen("\"slice\": true,"));
        int rc = mdl_json_parse(buf, strlen(buf), "t", back, &err);
        if (i == 0) {
            assert_int_equal(rc, FM_OK);
            assert_int_equal(back->sides[0].seq.slice, 0);
        } else if (rc != FM_EFORMAT || !strstr(err.msg, "sequence.slice")) {
            fail_msg("rc %d, '%s'", rc, err.msg);
        }
        free(buf);
    }
    free(text);
    free(m);
    free(back);
}

/* A sliced model (seq.h "slice"): three bands of length, an order-1 chain and a strong
 * coupling. Drawn, the transitions are the table's and every state's lengths its own (the
 * uniform stays uniform given the states), while the length persists across states: more
 * than the same model drawn unsliced. */
static void test_slice(void **state)
{
    (void)state;
    struct fm_err err = {0};
    struct mdl_seq *s = new_seq(3);
    s->order = 1;
    s->tick_ns = 1;
    s->slice = 1;
    /* States in decreasing length, so that the slices' order is not the index order. */
    for (unsigned i = 0; i < 3; i++) {
        double lo = 300.0 - 100.0 * i;
        s->states[i].n = 1000;
        s->states[i].rho_len = 0.9;
        s->states[i].len = (struct mdl_seq_dist){1, {{lo, lo + 99, 1}}};
        s->states[i].gap = (struct mdl_seq_dist){1, {{1000, 1000, 1}}};
    }
    const double table[3][3] = {{0.6, 0.3, 0.1}, {0.25, 0.5, 0.25}, {0.1, 0.3, 0.6}};
    s->n_ctx = 4;
    s->ctx[0] = (struct mdl_seq_ctx){0, {0}, 3000, {0.3, 0.4, 0.3}};
    for (unsigned i = 0; i < 3; i++) {
        s->ctx[i + 1] = (struct mdl_seq_ctx){1, {(uint8_t)i}, 1000, {0}};
        memcpy(s->ctx[i + 1].p, table[i], sizeof(table[i]));
    }
    mdl_seq_sort_ctx(s);
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    size_t m = 200000;
    double *d = malloc(m * sizeof(*d));
    assert_non_null(d);
    double cnt[3][3] = {{0}}, sum[3] = {0}, low[3] = {0}, seen[3] = {0}, a_sliced = 0;
    for (int sliced = 1; sliced >= 0; sliced--) {
        s->slice = sliced;
        struct fm_rng *r = fm_rng_new(31);
        struct mdl_seq_gen g;
        mdl_seq_gen_init(&g);
        unsigned prev = 0;
        for (size_t i = 0; i < m; i++) {
            unsigned st = 0;
            double gp = 0;
            int mk = 0;
            mdl_seq_draw(s, &g, r, &st, &d[i], &gp, &mk);
            if (!sliced)
                continue;
            if (i > 0)
                cnt[prev][st] += 1;
            seen[st] += 1;
            sum[st] += d[i];
            low[st] += d[i] < 300.0 - 100.0 * st + 25; /* the band's lowest quarter */
            prev = st;
        }
        fm_rng_free(r);
        double a = 0;
        mdl_stats_acf(d, m, 1, &a);
        if (sliced) {
            for (unsigned i = 0; i < 3; i++) {
                double row = cnt[i][0] + cnt[i][1] + cnt[i][2];
                for (unsigned j = 0; j < 3; j++)
                    assert_double_near(cnt[i][j] / row, table[i][j], 0.01);
                assert_double_near(sum[i] / seen[i], 300.0 - 100.0 * i + 49.5, 1.0);
                assert_double_near(low[i] / seen[i], 0.25, 0.01);
            }
            a_sliced = a;
        } else {
            if (!(a_sliced > a + 0.1))
                fail_msg("sliced acf %g, unsliced %g", a_sliced, a);
        }
    }
    free(d);
    free(s);
}

static void test_check_rejects(void **state)
{
    (void)state;
    struct fm_err err = {0};
    struct mdl_seq *s = new_seq(1);
    s->tick_ns = 1000;
    s->states[0].len.n = 1;
    s->states[0].len.pieces[0] = (struct mdl_seq_piece){100, 100, 1};
    s->states[0].gap.n = 2;
    s->states[0].gap.pieces[0] = (struct mdl_seq_piece){0, 0, 0.5};
    s->states[0].gap.pieces[1] = (struct mdl_seq_piece){1000, 5000, 0.5};
    s->n_ctx = 1;
    s->ctx[0].p[0] = 1;
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);

    s->states[0].gap.pieces[1].p = 0.4;
    assert_int_equal(mdl_seq_check(s, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "states[0].gap_ns"));
    s->states[0].gap.pieces[1].p = 0.5;
    s->states[0].gap.pieces[1].lo = -1;
    assert_int_equal(mdl_seq_check(s, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "states[0].gap_ns.pieces[1]"));
    s->states[0].gap.pieces[1].lo = 1000;
    s->states[0].rho_len = 1.0;
    assert_int_equal(mdl_seq_check(s, &err), FM_EFORMAT);
    s->states[0].rho_len = 0.5;
    s->ctx[0].order = 1; /* no empty history left, and a history longer than the order */
    assert_int_equal(mdl_seq_check(s, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "contexts[0]"));
    s->ctx[0].order = 0;
    s->ctx[0].p[0] = 0.9;
    assert_int_equal(mdl_seq_check(s, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "contexts[0].next"));
    s->ctx[0].p[0] = 1;
    s->gap_mean[0][1] = 5000; /* a mean at the piece's end, or on an atom */
    assert_int_equal(mdl_seq_check(s, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "states[0].gap_ns.pieces[1]: mean"));
    s->gap_mean[0][1] = 0;
    s->len_mean[0][0] = 100;
    assert_int_equal(mdl_seq_check(s, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "states[0].length.pieces[0]: mean"));
    s->len_mean[0][0] = 0;
    assert_int_equal(mdl_seq_check(s, &err), FM_OK);
    free(s);
}

static void test_fit_rejects(void **state)
{
    (void)state;
    struct fm_err err = {0};
    double len[3] = {100, 200, 300};
    int64_t gap[3] = {1000, -1, 1000};
    struct mdl_seq_fit_opts o;
    mdl_seq_fit_opts_init(&o);
    struct mdl_seq *s = new_seq(0);
    assert_int_equal(mdl_seq_fit(len, gap, NULL, 3, 1, &o, s, &err), FM_EINVAL);
    assert_int_equal(mdl_seq_fit(len, gap, NULL, 1, 1, &o, s, &err), FM_EINVAL);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_order),       cmocka_unit_test(test_chain_table),
        cmocka_unit_test(test_states_recovered),  cmocka_unit_test(test_copula),
        cmocka_unit_test(test_atoms_and_markers), cmocka_unit_test(test_json_bound),
        cmocka_unit_test(test_check_rejects),     cmocka_unit_test(test_fit_rejects),
        cmocka_unit_test(test_calibration),       cmocka_unit_test(test_piece_means),
        cmocka_unit_test(test_piece_mean_json),   cmocka_unit_test(test_slice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
