/* llm/check.h - deterministic checks of an LLM generator's proposal before anyone trusts it.
 * A proposal is the generator's JSON reply: {"variants": [{"name", "rationale", "changes",
 * "packets": [{"payload_length", "gap_ms"}]}]}. llm_proposal_read() checks its schema and
 * ranges and fills a struct llm_proposal; llm_proposal_check() then checks it against the
 * model: names, the link MTU and the plausibility of every example packet. Every problem is
 * written to a struct llm_findings as one line that the generator can act on; nothing stops
 * at the first problem, so one round of feedback names them all.
 *
 * Plausibility ("non-negligible likelihood"). An example packet is what the variant would
 * send: its payload_length is after payload_scale/payload_shift and its gap_ms after
 * rate_scale. Mapped back into the model's own units (the length through the inverse of
 * round(x * scale + shift), the gap multiplied by rate_scale), a value x is plausible when
 *  1. it lies in the model's support [min, max] (for lengths: the transformed
 *     [round(min * scale + shift), round(max * scale + shift)]; for gaps, with a tolerance of
 *     one timestamp tick), and
 *  2. the model puts at least LLM_PLAUS_MIN_MASS of its packets within LLM_PLAUS_WINDOW
 *     (relative) of x: P(|X - x| <= max(LLM_PLAUS_WINDOW * x, one quantum)) >= 1e-3, where X
 *     is drawn from the mixture as mdl_mixture_sample() draws it (atoms, and Gaussians
 *     truncated to [min, max]; on ln(x) for log-scale gaps) or, on a side with a sequence
 *     model, from its states' pieces (mdl_seq_mass()), whichever holds more: those pieces are
 *     what the side's packets are drawn from.
 * A packet the model would produce about once in a thousand or more within 5% passes; a
 * value between two modes that the capture never showed fails. The mass is a probability,
 * unlike a density ratio, so it behaves the same for an atom, a broad component and a
 * component 0.0002 wide on ln(seconds).
 *
 * All structs are plain values; nothing is allocated. Not thread-safe per object. */
#ifndef LLM_CHECK_H
#define LLM_CHECK_H

#include "common/err.h"
#include <stddef.h>

#include <cjson/cJSON.h>

#include "models/model.h"
#include "models/variant.h"

#define LLM_MAX_VARIANTS   16 /* most variants per proposal */
#define LLM_MAX_PACKETS    50 /* most example packets per variant */
#define LLM_MAX_FINDINGS   40 /* lines kept; more are counted in dropped */
#define LLM_FINDING_LEN    320
#define LLM_PLAUS_WINDOW   0.05 /* relative half-width of the plausibility window */
#define LLM_PLAUS_MIN_MASS 1e-3 /* least model mass inside the window */
#define LLM_DEFAULT_MTU    1500

struct llm_findings {
    size_t n;
    size_t dropped; /* findings past LLM_MAX_FINDINGS, counted only */
    char msg[LLM_MAX_FINDINGS][LLM_FINDING_LEN];
};

void llm_findings_init(struct llm_findings *f);
void llm_findings_add(struct llm_findings *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Total findings, dropped ones included. */
size_t llm_findings_count(const struct llm_findings *f);

struct llm_example {
    long payload_length; /* bytes of UDP payload (the RTP header included), as sent */
    double gap_ms;       /* gap before this packet, as sent (after rate_scale) */
};

struct llm_proposed {
    struct mdl_variant v;
    size_t n_packets;
    struct llm_example packets[LLM_MAX_PACKETS];
};

struct llm_proposal {
    size_t n;
    struct llm_proposed vs[LLM_MAX_VARIANTS];
};

struct llm_check_opts {
    enum mdl_side_id side; /* the model side the variants change */
    size_t n_variants;     /* variants the generator was asked for (exactly) */
    size_t n_packets;      /* example packets per variant (exactly) */
    int mtu;               /* link MTU in bytes (default LLM_DEFAULT_MTU) */
};

void llm_check_opts_init(struct llm_check_opts *o);

/* Read root (the generator's parsed reply) into *out, checking the schema: types, required
 * fields, unknown fields, counts, and the ranges of every field (those of
 * mdl_variant_check(), plus gap_ms >= 0 and payload_length >= 0). Each problem goes to f.
 * Returns the number of problems found (0: *out is complete and usable). */
size_t llm_proposal_read(const cJSON *root,
                         const struct llm_check_opts *o,
                         struct llm_proposal *out,
                         struct llm_findings *f);

/* Check a proposal that llm_proposal_read() accepted against the model: names unique and
 * usable as variant names ([A-Za-z0-9._-], not starting with '.' or '-'), the largest
 * payload the variant makes within the MTU, the RTP header (12 bytes) within each RTP
 * example, and plausibility (above) of every example packet. Problems go to f; remarks that
 * do not block (a variant that changes nothing, a side without a gap model) go to notes
 * (may be NULL). Returns the number of problems. */
size_t llm_proposal_check(const struct mdl_model *m,
                          const struct llm_check_opts *o,
                          const struct llm_proposal *p,
                          struct llm_findings *f,
                          struct llm_findings *notes);

/* 1 when s is usable as a variant (or prompt) name: letters, digits, '.', '_' and '-', not
 * empty and not starting with '.' or '-' (so that it survives a command line and FILE:NAME). */
FM_MUST_CHECK int llm_name_usable(const char *s);

/* Probability that a draw from m (as mdl_mixture_sample() draws: atoms, and Gaussians
 * truncated to [min, max]) falls in [lo, hi], in the feature's unit. */
double llm_mixture_mass(const struct mdl_mixture *m, double lo, double hi);

/* Plausibility of one value, in the model's units (x already mapped back): the window, the
 * mass in it and whether it passes both rules. quantum is the smallest half-width. */
struct llm_plaus {
    double lo, hi; /* the window */
    double mass;   /* model mass in the window */
    int in_support;
    int ok;
};
void llm_plaus_eval(const struct mdl_mixture *m, double x, double quantum, struct llm_plaus *out);

/* Plausibility of an example packet's length and gap under a variant of side s of the model;
 * the results are in the model's units. A side without that model gives ok = 1, mass NAN. */
void llm_plaus_length(const struct mdl_side *s,
                      const struct mdl_variant *v,
                      long payload_length,
                      struct llm_plaus *out);
void llm_plaus_gap(const struct mdl_side *s,
                   const struct mdl_variant *v,
                   double gap_ms,
                   struct llm_plaus *out);

#endif
