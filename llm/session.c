/* llm/session.c - one run of `flowmimic agents`: clients, transcript, loop and files; see
 * llm/session.h. */
#include "llm/session.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/file.h"
#include "models/variant.h"
#include "trace/trace.h"

int llm_session_stopped(const struct llm_session *s)
{
    return s->cfg.stop && *s->cfg.stop;
}

int llm_session_model_check(const struct mdl_model *m,
                            const char *path,
                            enum mdl_side_id side,
                            struct fm_err *err)
{
    if (!m->sides[side].present)
        return fm_err_set(err, FM_EINVAL, "model '%s' has no packets on its %s side: use --side %s",
                          path, side == MDL_SIDE_LOCAL ? "local" : "remote",
                          side == MDL_SIDE_LOCAL ? "remote" : "local");
    if (strcmp(m->proto, "udp") != 0)
        return fm_err_set(err, FM_EINVAL, "model '%s' is of a %s flow: variants apply to UDP flows",
                          path, m->proto);
    return FM_OK;
}

/* The session's configuration with the model replaced, and its label for the transcript. */
static void config_for(const struct llm_session *s,
                       const char *model,
                       struct llm_config *cfg,
                       char *label,
                       size_t label_size)
{
    *cfg = s->cfg;
    snprintf(cfg->model, sizeof(cfg->model), "%s", model);
    snprintf(label, label_size, "%s at %s (%s)", cfg->model, cfg->server, llm_api_name(cfg->api));
}

void llm_clients_free(struct llm_clients *c)
{
    if (c->rev != c->gen)
        llm_client_free(c->rev);
    llm_client_free(c->gen);
    c->gen = c->rev = NULL;
}

int llm_clients_open(const struct llm_session *s,
                     const char *model,
                     struct llm_clients *c,
                     struct fm_err *err)
{
    struct llm_config gcfg;
    struct llm_config rcfg;
    const char *rmodel = s->reviewer_model ? s->reviewer_model : model;
    memset(c, 0, sizeof(*c));
    config_for(s, model, &gcfg, c->gen_label, sizeof(c->gen_label));
    config_for(s, rmodel, &rcfg, c->rev_label, sizeof(c->rev_label));
    c->gen = llm_client_new(&gcfg, err);
    if (!c->gen)
        return err ? err->code : FM_ENOMEM;
    int rc = llm_client_check(c->gen, err);
    if (rc == FM_OK && strcmp(rmodel, model) != 0) {
        c->rev = llm_client_new(&rcfg, err);
        rc = c->rev ? llm_client_check(c->rev, err) : (err ? err->code : FM_ENOMEM);
    } else {
        c->rev = c->gen;
    }
    if (rc < 0)
        llm_clients_free(c);
    return rc;
}

void llm_transcript_header(struct fm_buf *t,
                           const struct llm_session *s,
                           const struct llm_clients *c)
{
    const struct llm_agent_opts *a = &s->agent;
    char when[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fm_buf_printf(t,
                  "flowmimic agents transcript, %s\nmodel file: %s (side %s)\ngenerator: %s\n"
                  "reviewer: %s\nasked for: %zu variants of %zu example packets, at most %u "
                  "rounds, MTU %d, seed %llu\n",
                  when, s->model_path, a->check.side == MDL_SIDE_LOCAL ? "local" : "remote",
                  c->gen_label, c->rev_label, a->check.n_variants, a->check.n_packets, a->rounds,
                  a->check.mtu, (unsigned long long)a->seed);
}

int llm_transcript_save(const char *path, const struct fm_buf *t, struct fm_err *err)
{
    if (t->oom)
        return fm_err_set(err, FM_ENOMEM, "transcript '%s'", path);
    return fm_file_write_atomic(path, t->s ? t->s : "", t->len, err);
}

int llm_proposal_save_variants(const char *path, const struct llm_proposal *p, struct fm_err *err)
{
    struct mdl_variant vs[LLM_MAX_VARIANTS];
    for (size_t i = 0; i < p->n; i++)
        vs[i] = p->vs[i].v;
    return mdl_variants_save(path, vs, p->n, err);
}

int llm_proposal_save_trace(const char *path,
                            const struct mdl_model *m,
                            enum mdl_side_id side,
                            const struct llm_proposal *p,
                            struct fm_err *err)
{
    struct trc_trace t;
    struct trc_pkt pk;
    const struct mdl_side *s = &m->sides[side];
    const struct mdl_endpoint *from = side == MDL_SIDE_LOCAL ? &m->local : &m->remote;
    const struct mdl_endpoint *to = side == MDL_SIDE_LOCAL ? &m->remote : &m->local;
    int rc = FM_OK;
    trc_trace_init(&t);
    memset(&pk, 0, sizeof(pk));
    pk.proto = 17;
    uint8_t fam2 = 0;
    if (trc_addr_parse(from->ip, &pk.family, pk.src_ip, err) < 0 ||
        trc_addr_parse(to->ip, &fam2, pk.dst_ip, err) < 0) {
        rc = FM_EFORMAT;
        goto out;
    }
    double t_ms = 0.0;
    for (size_t i = 0; i < p->n; i++) {
        const struct llm_proposed *pv = &p->vs[i];
        const struct mdl_variant *v = &pv->v;
        double start_ms = -1.0;
        for (size_t j = 0; j < pv->n_packets; j++) {
            t_ms += pv->packets[j].gap_ms;
            if (start_ms < 0)
                start_ms = t_ms;
            int64_t ns = llround(t_ms * 1e6);
            pk.ts_sec = ns / 1000000000;
            pk.ts_nsec = (uint32_t)(ns % 1000000000);
            pk.src_port = (uint16_t)(v->src_port >= 0 ? v->src_port : from->port);
            pk.dst_port = (uint16_t)(v->dst_port >= 0 ? v->dst_port : to->port);
            pk.ttl = v->ttl >= 0 ? v->ttl : s->headers.ttl;
            pk.dscp = v->dscp >= 0 ? v->dscp : s->headers.dscp;
            pk.payload_length = (uint32_t)pv->packets[j].payload_length;
            pk.payload = NULL;
            pk.udp_length = 8 + (long)pk.payload_length;
            pk.has_rtp = s->headers.rtp;
            if (pk.has_rtp) {
                pk.rtp.version = 2;
                pk.rtp.payload_type =
                    (uint8_t)(v->rtp_payload_type >= 0 ? v->rtp_payload_type
                                                       : s->headers.rtp_payload_type);
                pk.rtp.marker = 0;
                pk.rtp.seq = (uint16_t)(j + 1);
                pk.rtp.timestamp = (uint32_t)llround((t_ms - start_ms) * 90.0);
                pk.rtp.ssrc = 0x464d0000u + (uint32_t)i; /* "FM" and the variant */
            }
            rc = trc_trace_append(&t, &pk, err);
            if (rc < 0)
                goto out;
        }
    }
    rc = trc_trace_save(path, &t, err);
out:
    trc_trace_fini(&t);
    return rc;
}

const char *llm_outcome_name(enum llm_outcome o)
{
    switch (o) {
    case LLM_OUTCOME_APPROVED:
        return "approved";
    case LLM_OUTCOME_NOT_APPROVED:
        return "not_approved";
    case LLM_OUTCOME_ERROR:
        return "error";
    case LLM_OUTCOME_INTERRUPTED:
        return "interrupted";
    }
    return "error";
}

enum llm_outcome
llm_session_outcome(const struct llm_session *s, int rc, const struct llm_agent_result *res)
{
    if (rc == FM_EINTR || llm_session_stopped(s))
        return LLM_OUTCOME_INTERRUPTED;
    if (rc < 0)
        return LLM_OUTCOME_ERROR;
    return res->approved ? LLM_OUTCOME_APPROVED : LLM_OUTCOME_NOT_APPROVED;
}

int llm_session_run(const struct mdl_model *m,
                    const struct llm_session *s,
                    const struct llm_agent_live *live,
                    struct llm_session_result *res)
{
    struct llm_clients c;
    struct fm_buf t;
    memset(res, 0, sizeof(*res));
    fm_buf_init(&t);
    res->rc = llm_clients_open(s, s->cfg.model, &c, &res->err);
    if (res->rc < 0) {
        /* The transcript is written in every case: here it says why nothing was asked. */
        res->outcome = LLM_OUTCOME_ERROR;
        llm_transcript_header(&t, s, &c);
        fm_buf_printf(&t, "\nerror: %s\n", res->err.msg);
        if (llm_transcript_save(s->transcript, &t, &res->transcript) < 0) {
            /* why is in the result's transcript error, which the caller reports */
        }
        fm_buf_fini(&t);
        return res->rc;
    }
    res->opened = 1;
    llm_transcript_header(&t, s, &c);
    struct llm_agent_opts ao = s->agent;
    ao.gen_label = c.gen_label;
    ao.rev_label = c.rev_label;
    res->rc = llm_agent_run(m, &ao, c.gen, c.rev, live, &t, &res->run, &res->err);
    llm_clients_free(&c);
    int rc = res->rc;
    int t_rc = llm_transcript_save(s->transcript, &t, &res->transcript);
    fm_buf_fini(&t);
    res->outcome = llm_session_outcome(s, res->rc, &res->run);
    if (rc == FM_OK && t_rc < 0)
        rc = t_rc;
    if (res->rc == FM_OK && res->run.approved && t_rc == FM_OK) {
        /* Variants first: the trace is only an illustration of them. */
        rc = llm_proposal_save_variants(s->output, &res->run.proposal, &res->save);
        if (rc == FM_OK && s->trace)
            rc = llm_proposal_save_trace(s->trace, m, s->agent.check.side, &res->run.proposal,
                                         &res->save);
    }
    return rc;
}
