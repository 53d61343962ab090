/* models/seq.h - the per-side sequence model: a Markov chain over packet states.
 * Each packet of a side is in one of k states (a cluster of (payload length, ln gap), split by
 * the RTP marker bit on video sides). The next state is drawn from the longest stored history
 * of up to `order` states that matches the last ones drawn (a variable-order chain that backs
 * off to shorter histories, down to the states' own shares). Inside a state, length and gap
 * come from the state's empirical distributions (exact atoms plus equal-mass pieces) through
 * a Gaussian copula: one latent normal score per feature runs through the whole sequence as
 * an AR(1) whose coefficient is the current state's, so that a level persists across state
 * changes while every state keeps its exact marginal distribution. In a sliced model (`slice`,
 * written by today's fit) the length's score also picks the next state, so that the chain's
 * transitions follow the level instead of ignoring it. The fit estimates each rho from the
 * capture's normal scores and then calibrates it by drawing (models/seqfit.c), since those
 * scores miss part of the persistence that crosses state changes.
 *
 * A struct mdl_seq is a plain value (fixed arrays, no pointers): copy it freely. It holds no
 * per-packet data: at most MDL_SEQ_MAX_STATES states of MDL_SEQ_MAX_PIECES pieces per feature
 * and MDL_SEQ_MAX_CTX histories, so that a side prints to at most MDL_SEQ_MAX_JSON bytes
 * whatever the capture's length. A struct mdl_seq_gen is the state of one drawn sequence.
 * Not thread-safe per object; no globals. Fitting is in models/seqfit.h. */
#ifndef MODELS_SEQ_H
#define MODELS_SEQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/rng.h"

#define MDL_SEQ_MAX_STATES 16
#define MDL_SEQ_MAX_ORDER  3
#define MDL_SEQ_MAX_CTX    192
#define MDL_SEQ_MAX_PIECES 32
#define MDL_SEQ_MAX_JSON   65536 /* bytes of one side's "sequence" object, pretty-printed */

/* One piece of a feature's distribution: mass p spread over [lo, hi] (see the shapes in
 * struct mdl_seq), or an atom when lo == hi. Values are whole bytes (length) or whole
 * nanoseconds (gap). */
struct mdl_seq_piece {
    double lo, hi;
    double p;
};

/* A feature's distribution inside a state: pieces in increasing value order, p summing to 1. */
struct mdl_seq_dist {
    unsigned n;
    struct mdl_seq_piece pieces[MDL_SEQ_MAX_PIECES];
};

struct mdl_seq_state {
    uint64_t n;     /* packets of the capture in this state */
    int marker;     /* 1: packets of this state carry the RTP marker (end of a frame) */
    double rho_len; /* copula AR(1) coefficients, -1 < rho < 1 */
    double rho_gap;
    struct mdl_seq_dist len; /* payload bytes */
    struct mdl_seq_dist gap; /* ns since the side's previous packet */
};

/* P(next state | the last `order` states, oldest first in hist). */
struct mdl_seq_ctx {
    unsigned order;                  /* 0..MDL_SEQ_MAX_ORDER */
    uint8_t hist[MDL_SEQ_MAX_ORDER]; /* hist[order - 1] is the latest state */
    uint64_t n;                      /* times the history occurred in the capture */
    double p[MDL_SEQ_MAX_STATES];    /* sums to 1 over the k states */
};

struct mdl_seq {
    unsigned k;        /* states, 1..MDL_SEQ_MAX_STATES */
    unsigned order;    /* chain order chosen by BIC, 0..MDL_SEQ_MAX_ORDER */
    unsigned clusters; /* (length, gap) clusters the states came from (BIC) */
    int frames;        /* 1: the states' marker flags come from the capture's RTP markers */
    double tick_ns;    /* the capture's timestamp tick: gaps are drawn on it */
    double bic[MDL_SEQ_MAX_ORDER + 1]; /* of each chain order tried, 0 if not tried */
    /* 1: one uniform u picks both the next state and the length inside it: the context's
     * states, taken in increasing mean length (mdl_seq_len_order()), cut [0, 1) into slices
     * of their probabilities; u's slice is the state and u's place in it the length's
     * quantile in the state. u's normal score is rho_length of the last packet's state times
     * the last length's normal score within its state, plus noise: a packet at the top of its
     * band leads to a higher band or higher in the same one, so a level persists across
     * states, while u stays uniform given every earlier state (the transitions and each
     * state's lengths are exactly the fitted ones). 0 (files without it): the state is drawn
     * independently and rho_length carries the length's score from packet to packet. */
    int slice;
    struct mdl_seq_state states[MDL_SEQ_MAX_STATES];
    unsigned n_ctx; /* histories stored; the order-0 one is always there */
    struct mdl_seq_ctx ctx[MDL_SEQ_MAX_CTX];
    /* The pieces' means: len_mean[i][j] for states[i].len.pieces[j], gap_mean likewise. With
     * 0 (files without it) a piece is spread uniformly; with lo < mean < hi a draw is
     * lo + (hi - lo) f^a, f uniform and a = (hi - lo) / (mean - lo) - 1, so that the draws'
     * mean is the capture's: a wide tail piece (gaps of 0.1 to 8 s holding a few silences)
     * drawn uniformly made a side silent for longer than the capture. */
    double len_mean[MDL_SEQ_MAX_STATES][MDL_SEQ_MAX_PIECES];
    double gap_mean[MDL_SEQ_MAX_STATES][MDL_SEQ_MAX_PIECES];
};

/* Check that a sequence model is usable: counts in range, each state's distributions
 * ordered with masses summing to 1 (within 1e-6), every context's probabilities likewise,
 * histories naming existing states, no history twice, the order-0 history present. Returns
 * FM_OK or FM_EFORMAT with a message naming the first problem ("states[2].len.pieces[3]"). */
FM_MUST_CHECK int mdl_seq_check(const struct mdl_seq *s, struct fm_err *err);

/* Sort the stored histories into the order mdl_seq_check() and mdl_seq_find_ctx() want
 * (shorter first, then by states, oldest first). */
void mdl_seq_sort_ctx(struct mdl_seq *s);

/* The state of one drawn sequence: the last states and the latent normal scores. */
struct mdl_seq_gen {
    unsigned nhist;
    uint8_t hist[MDL_SEQ_MAX_ORDER]; /* oldest first */
    int seen;                        /* 0 before the first packet */
    double z_len;                    /* the last packet's latent normal scores */
    double z_gap;
    unsigned last;                      /* the last packet's state */
    uint8_t by_len[MDL_SEQ_MAX_STATES]; /* mdl_seq_len_order(), set at the first draw */
};

void mdl_seq_gen_init(struct mdl_seq_gen *g);

/* One packet: its state, payload length (bytes), gap since the previous packet (ns, a whole
 * number of ticks) and marker. s must have passed mdl_seq_check(). Any number of draws. */
void mdl_seq_draw(const struct mdl_seq *s,
                  struct mdl_seq_gen *g,
                  struct fm_rng *r,
                  unsigned *state,
                  double *len,
                  double *gap_ns,
                  int *marker);

/* The k states in increasing mean length (index order among equals) into order[]. */
void mdl_seq_len_order(const struct mdl_seq *s, uint8_t *order);

/* The stored context used after the history hist[0..nhist) (oldest first): the longest
 * suffix that is stored. Never NULL for a checked model. */
const struct mdl_seq_ctx *
mdl_seq_find_ctx(const struct mdl_seq *s, const uint8_t *hist, unsigned nhist);

#endif
