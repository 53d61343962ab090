/* models/model.h - the flow model: per side, payload length and IAT mixtures, the sequence
 * model (format version 2) and header fields.
 * A struct mdl_model is a plain value (no pointers) filled by the estimator or by
 * mdl_json_load(); copy it freely (it is about 100 KiB: allocate it rather than put it on a
 * small stack). The JSON form is laid out in DESIGN.md ("Model file"). */
#ifndef MODELS_MODEL_H
#define MODELS_MODEL_H

#include <stdint.h>

#include "models/mixture.h"
#include "models/seq.h"

#define MDL_FORMAT              "flowmimic.model"
#define MDL_VERSION             2 /* the newest this flowmimic reads and writes */
#define MDL_VERSION_INDEPENDENT 1 /* no side has a sequence model: written as version 1 */

/* What a model file may hold, so that a hostile one cannot ask for absurd draws: a feature's
 * values (payload bytes, gap seconds) up to MDL_MAX_VALUE, a side's duration up to
 * MDL_MAX_DURATION_S. mdl_json_load() refuses more, and the estimator refuses to fit a
 * flow that would need more (timestamps that jump by decades). */
#define MDL_MAX_VALUE      1e9
#define MDL_MAX_DURATION_S 1e12

enum mdl_side_id { MDL_SIDE_LOCAL = 0, MDL_SIDE_REMOTE = 1 };

struct mdl_endpoint {
    char ip[64]; /* textual IPv4 or IPv6 address */
    uint16_t port;
};

struct mdl_headers {
    int ttl;                 /* most common TTL or hop limit, -1 unknown */
    int dscp;                /* most common DSCP, -1 unknown */
    int rtp;                 /* 1 when the side was recognised as RTP */
    int rtp_payload_type;    /* most common RTP payload type */
    double rtp_marker_ratio; /* share of RTP packets with the marker bit */
};

struct mdl_side {
    int present; /* 0: the side sent no packets ("remote": null in JSON) */
    uint64_t packets;
    double duration_s;
    int has_payload;            /* 0 when there were too few samples: see note */
    struct mdl_mixture payload; /* scale linear, bytes */
    int has_iat;
    struct mdl_mixture iat; /* seconds; scale log or linear */
    struct mdl_headers headers;
    int has_seq; /* 1: draw packets as a sequence (version 2); 0: independently */
    struct mdl_seq seq;
    char note[160]; /* why a feature has no model, or "" */
};

struct mdl_model {
    int version;         /* of the file it was read from, or MDL_VERSION */
    char capture[256];   /* file name of the source capture */
    char flow_spec[200]; /* "udp 192.168.0.101:5018 85.17.186.6:53134" (local first) */
    uint64_t packets;    /* packets of the flow, both sides */
    uint64_t reordered;  /* packets whose timestamp went backwards, put back in order */
    char proto[8];       /* "udp" or "tcp" */
    struct mdl_endpoint local, remote;
    struct mdl_side sides[2]; /* indexed by enum mdl_side_id */
};

#endif
