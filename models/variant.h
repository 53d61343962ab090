/* models/variant.h - named variations of a model: header fields, sizes and rates.
 * A variant file is JSON, shared by `generate --variant`, `replay --variant` and the LLM
 * agents (which write it):
 *   { "format": "flowmimic.variants", "version": 1,
 *     "variants": [ { "name": "ef-marked", "rationale": "...",
 *                     "changes": { "dscp": 46, "ttl": 64, "src_port": 5004, "dst_port": 5006,
 *                                  "rtp_payload_type": 96, "payload_scale": 1.2,
 *                                  "payload_shift": -20, "rate_scale": 2.0 } } ] }
 * Every field of "changes" is optional; unknown fields anywhere are rejected by name.
 * payload_scale/payload_shift map a drawn payload length x to round(x * scale + shift),
 * clamped to 0..65507; rate_scale multiplies the packet rate (divides every gap).
 * A struct mdl_variant is a plain value; loading fills a caller-owned array. */
#ifndef MODELS_VARIANT_H
#define MODELS_VARIANT_H

#include <stddef.h>

#include "common/err.h"
#include "models/model.h"

#define MDL_VARIANTS_FORMAT  "flowmimic.variants"
#define MDL_VARIANTS_VERSION 1
#define MDL_MAX_VARIANTS     64

struct mdl_variant {
    char name[64];
    char rationale[512];
    int dscp;             /* 0..63, or -1 = keep the model's */
    int ttl;              /* 1..255, or -1 */
    int src_port;         /* 1..65535, or -1 */
    int dst_port;         /* 1..65535, or -1 */
    int rtp_payload_type; /* 0..127, or -1 */
    double payload_scale; /* > 0, default 1 */
    double payload_shift; /* bytes, default 0 */
    double rate_scale;    /* > 0, default 1 */
};

/* A variant that changes nothing. */
void mdl_variant_init(struct mdl_variant *v);

/* Load every variant of a file into vs (at most max). Returns FM_OK and sets *n, FM_EIO when
 * the file cannot be read, FM_EFORMAT (names the file, the variant and the field) for broken
 * JSON, another format, a newer version, an unknown field or a value out of range. */
FM_MUST_CHECK int mdl_variants_load(
    const char *path, struct mdl_variant *vs, size_t max, size_t *n, struct fm_err *err);
/* The same from text; what names it in messages. */
FM_MUST_CHECK int mdl_variants_parse(const char *text,
                                     size_t len,
                                     const char *what,
                                     struct mdl_variant *vs,
                                     size_t max,
                                     size_t *n,
                                     struct fm_err *err);

/* Check one variant's ranges; FM_OK or FM_EINVAL naming the field. */
FM_MUST_CHECK int mdl_variant_check(const struct mdl_variant *v, struct fm_err *err);

/* Load "FILE" or "FILE:NAME" (the first variant when no name is given). */
FM_MUST_CHECK int
mdl_variant_load_spec(const char *spec, struct mdl_variant *out, struct fm_err *err);

/* Write variants as a variant file, atomically (temporary file + rename). */
FM_MUST_CHECK int
mdl_variants_save(const char *path, const struct mdl_variant *vs, size_t n, struct fm_err *err);

/* The payload length a variant makes of a drawn length x. */
unsigned mdl_variant_payload(const struct mdl_variant *v, double x);

/* The largest UDP payload of the model's flow that fits one IP packet of mtu bytes (IPv4 or
 * IPv6 header, no options, and the UDP header off). */
long mdl_max_udp_payload(const struct mdl_model *m, int mtu);

/* Whether v keeps the side's largest payload within an MTU: FM_OK, or FM_EINVAL saying the
 * variant, the scale and shift, the sizes and the MTU (what a send would refuse as "Message
 * too long", or a capture show as fragments). A side with no length model passes. */
FM_MUST_CHECK int mdl_variant_mtu_check(const struct mdl_model *m,
                                        enum mdl_side_id side,
                                        const struct mdl_variant *v,
                                        int mtu,
                                        struct fm_err *err);

#endif
