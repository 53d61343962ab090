/* tests/unit/llm_test_model.h - a small model for the llm tests, with numbers that make the
 * bounds easy to compute by hand. Header only. */
#ifndef TESTS_UNIT_LLM_TEST_MODEL_H
#define TESTS_UNIT_LLM_TEST_MODEL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model.h"

/* A model whose numbers make the bounds easy to compute by hand: lengths 90% N(500, 50) and
 * 10% exactly 1000 on [100, 1000]; gaps log-normal around 20 ms (sd 0.1 on ln s) on
 * [1 ms, 100 ms]; IPv4, RTP payload type 96. */
static inline void llm_test_model(struct mdl_model *m)
{
    memset(m, 0, sizeof(*m));
    m->version = 1;
    snprintf(m->capture, sizeof(m->capture), "call.pcap");
    snprintf(m->proto, sizeof(m->proto), "udp");
    snprintf(m->local.ip, sizeof(m->local.ip), "198.18.0.1");
    m->local.port = 5004;
    snprintf(m->remote.ip, sizeof(m->remote.ip), "198.18.0.2");
    m->remote.port = 5006;
    struct mdl_side *s = &m->sides[MDL_SIDE_LOCAL];
    s->present = 1;
    s->packets = 1000;
    s->duration_s = 20.0;
    s->has_payload = 1;
    s->payload.scale = MDL_SCALE_LINEAR;
    s->payload.min = 100;
    s->payload.max = 1000;
    s->payload.resolution = 1;
    s->payload.n_atoms = 1;
    s->payload.atoms[0].value = 1000;
    s->payload.atoms[0].weight = 0.1;
    s->payload.k = 1;
    s->payload.comps[0].weight = 0.9;
    s->payload.comps[0].mean = 500;
    s->payload.comps[0].sd = 50;
    s->has_iat = 1;
    s->iat.scale = MDL_SCALE_LOG;
    s->iat.min = 0.001;
    s->iat.max = 0.1;
    s->iat.resolution = 1e-6;
    s->iat.k = 1;
    s->iat.comps[0].weight = 1.0;
    s->iat.comps[0].mean = log(0.02);
    s->iat.comps[0].sd = 0.1;
    s->headers.ttl = 64;
    s->headers.dscp = 0;
    s->headers.rtp = 1;
    s->headers.rtp_payload_type = 96;
}

#endif
