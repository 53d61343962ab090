/* models/draw.h - a series of packets drawn from one side of a model, for the consumers that
 * look at draws rather than send them: compare (the model side of a comparison), the holdout
 * report and the agents' example packets. generate and replay draw through
 * transceiver/source_model.c, which follows the same rules packet by packet.
 * Nothing here allocates or keeps state; the RNG is the caller's. Not thread-safe per RNG. */
#ifndef MODELS_DRAW_H
#define MODELS_DRAW_H

#include <stddef.h>

#include "common/rng.h"
#include "models/model.h"

enum mdl_draw_mode {
    MDL_DRAW_AUTO = 0,       /* as a sequence when the side has one, else independently */
    MDL_DRAW_INDEPENDENT = 1 /* from the mixtures, packet by packet, even beside a sequence */
};

/* Draw n packets of side s in time order: len[0..n) payload bytes and gap_s[0..n-1) the
 * seconds between packet i and packet i + 1 (gap_s may be NULL when n < 2). With a sequence
 * model (has_seq, mode MDL_DRAW_AUTO) the n packets are one chain of mdl_seq_draw(): a
 * packet's length and the gap before it come from the same state, gaps are whole ticks of
 * the capture's clock, and the first packet's own gap (it has no predecessor) is dropped.
 * Otherwise the lengths are drawn first, then the gaps, each independently from its mixture.
 * A feature the side has no model for (has_payload or has_iat 0, or an absent side) is NAN.
 * Returns 1 when the draws came from the sequence model, 0 when from the mixtures. */
int mdl_side_draw_series(const struct mdl_side *s,
                         enum mdl_draw_mode mode,
                         struct fm_rng *r,
                         size_t n,
                         double *len,
                         double *gap_s);

/* The value below which a share q (0..1) of a state's feature lies, reading its pieces as
 * uniform over [lo, hi] (atoms where lo == hi). d must have at least one piece. */
double mdl_seq_dist_quantile(const struct mdl_seq_dist *d, double q);

/* The share of a sequence model's packets whose feature (gap != 0: the gap in ns, else the
 * payload length in bytes) lies in [lo, hi]: the states' pieces weighted by the states'
 * packet counts, as mdl_seq_draw() draws them over the long run (an atom counts when it lies
 * inside; a piece counts the share of its draws that land on the whole values inside, spread
 * uniformly or, with its mean, as the draw shapes them). 0 for lo > hi. */
double mdl_seq_mass(const struct mdl_seq *s, int gap, double lo, double hi);

#endif
