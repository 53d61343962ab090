/* cli/cmd_agents.c - `flowmimic agents`: an LLM generator proposes variants of a model, the
 * deterministic checks and an LLM reviewer judge them (llm/agent.c). On approval the variants
 * go to a variant file (and their example packets to a JSON trace); without approval nothing
 * but the transcript is written. With --prompts, a batch study: each prompt of a prompt set
 * is run --repeat times per --model, one JSON line per run, then a table per model. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/num.h"
#include "llm/agent.h"
#include "llm/client.h"
#include "models/json.h"
#include "models/variant.h"
#include "trace/trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MODELS 8

enum {
    OPT_TRACE = 256,
    OPT_TRANSCRIPT,
    OPT_SERVER,
    OPT_API,
    OPT_API_KEY_ENV,
    OPT_REVIEWER_MODEL,
    OPT_VARIANTS,
    OPT_PACKETS,
    OPT_ROUNDS,
    OPT_SIDE,
    OPT_MTU,
    OPT_TIMEOUT,
    OPT_TEMPERATURE,
    OPT_SEED,
    OPT_NUM_PREDICT,
    OPT_NUM_CTX,
    OPT_KEEP_ALIVE,
    OPT_TASK,
    OPT_PROMPTS,
    OPT_REPEAT,
    OPT_JSON,
};

static const struct cli_opt opts[] = {
    {"output", 'o', required_argument, "FILE",
     "approved variants (default variants.json); with --prompts,\nthe JSON lines (default "
     "stdout)"},
    {"trace", OPT_TRACE, required_argument, "FILE",
     "the approved variants' example packets as a JSON trace"},
    {"transcript", OPT_TRANSCRIPT, required_argument, "FILE",
     "the whole conversation (default output.txt)"},
    {"server", OPT_SERVER, required_argument, "URL",
     "LLM server (default $OLLAMA_HOST, else\nhttp://127.0.0.1:11434)"},
    {"api", OPT_API, required_argument, "ollama|openai",
     "server protocol (default ollama); openai: llama-server,\nvLLM, LM Studio, hosted services"},
    {"api-key-env", OPT_API_KEY_ENV, required_argument, "VAR",
     "variable holding the API key (openai; default\nOPENAI_API_KEY); never printed"},
    {"model", 'm', required_argument, "NAME",
     "generator model (default llama3.2:3b); repeatable\nwith --prompts"},
    {"reviewer-model", OPT_REVIEWER_MODEL, required_argument, "NAME",
     "reviewer model (default: the generator's)"},
    {"variants", OPT_VARIANTS, required_argument, "N", "variants per proposal, 1..16 (default 3)"},
    {"packets", OPT_PACKETS, required_argument, "M",
     "example packets per variant, 1..50 (default 5)"},
    {"rounds", OPT_ROUNDS, required_argument, "N", "most generator replies, 1..100 (default 5)"},
    {"side", OPT_SIDE, required_argument, "local|remote", "the model side to vary (default local)"},
    {"mtu", OPT_MTU, required_argument, "BYTES",
     "link MTU payloads must fit, 576..65535 (default 1500)"},
    {"timeout", OPT_TIMEOUT, required_argument, "S",
     "per request, connection included (default 120)"},
    {"temperature", OPT_TEMPERATURE, required_argument, "T",
     "sampling temperature, 0..2 (default: the server's)"},
    {"seed", OPT_SEED, required_argument, "N",
     "seed for the example packets, also sent to the server\n(default 1, not sent)"},
    {"num-predict", OPT_NUM_PREDICT, required_argument, "N",
     "cap on tokens per reply (default 2048)"},
    {"num-ctx", OPT_NUM_CTX, required_argument, "N", "context size (default: the server's)"},
    {"keep-alive", OPT_KEEP_ALIVE, required_argument, "DUR",
     "Ollama: keep the model loaded this long after a request\n(30s, 10m, 1h, -1 for ever, 0 to "
     "unload; default: the\nserver's, 5m)"},
    {"task", OPT_TASK, required_argument, "TEXT",
     "what to ask the generator (default: test variations\nof QoS marking, TTL, ports, sizes "
     "and rates)"},
    {"prompts", OPT_PROMPTS, required_argument, "FILE",
     "batch study: run every prompt of FILE (prompts/video.json)"},
    {"repeat", OPT_REPEAT, required_argument, "N",
     "with --prompts: runs per prompt and model (default 1)"},
    {"json", OPT_JSON, no_argument, NULL, "print a summary object on stdout"},
    {"quiet", 'q', no_argument, NULL, "no live view and no closing line"},
    {"help", 'h', no_argument, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd_doc doc = {
    "agents",
    "[OPTIONS] MODEL.json",
    "Run an LLM generator and reviewer on a model; write the variants they approve.",
    "Each round the generator is given a summary of the model and packets drawn from it,\n"
    "and proposes --variants variants (name, rationale, changes of DSCP, TTL, ports, RTP\n"
    "payload type, payload scale/shift, rate scale) with --packets example packets each,\n"
    "as JSON under a schema. Deterministic checks come first: the schema (types, required and\n"
    "unknown fields), ranges (ports 1-65535, TTL 1-255, DSCP 0-63, scales 0.001-1000), unique\n"
    "names usable as variant names, the largest payload within the MTU (MTU minus IP and UDP\n"
    "headers; the RTP header is part of the payload), and the plausibility of every example\n"
    "packet: after undoing the variant's changes, its length and gap must lie within the\n"
    "model's [min, max] and at least 0.1% of the model's packets must fall within 5% of it.\n"
    "A failed check, or a reply that is not JSON (prose, Python), goes back to the generator.\n"
    "A proposal that passes goes to the reviewer, whose JSON \"verdict\" field alone decides:\n"
    "APPROVE ends the run; REVISE, or an unreadable reply, sends its problems back.\n"
    "\n"
    "On approval the variants are written to -o (readable by generate/replay --variant) and\n"
    "the example packets to --trace; exit 0. After --rounds without approval no variant\n"
    "file is written; exit 1. The transcript (every message, check and verdict, round by\n"
    "round) is written in every case, also on errors and Ctrl-C (exit 130), and shown live\n"
    "when stderr is a terminal.\n"
    "\n"
    "Batch study (--prompts FILE --repeat N --model A --model B): one JSON line per run on\n"
    "stdout (or -o): outcome, rounds, replies that parsed, proposals that passed the checks,\n"
    "approved variants, tokens per second; then a table per model on stderr. Exit 0 when\n"
    "every run completed (approved or not), 1 when a run failed with an error.\n"
    "\nExamples:\n"
    "  flowmimic agents video.json\n"
    "  flowmimic agents --model qwen2.5:7b --variants 2 --trace examples.json -o v.json "
    "video.json\n"
    "  flowmimic agents --api openai --server http://127.0.0.1:8080 --model local video.json\n"
    "  flowmimic agents --prompts prompts/video.json --repeat 3 -m llama3.2:3b -m qwen2.5:3b "
    "video.json\n",
};

struct agents_opts {
    const char *output;
    const char *trace;
    const char *transcript;
    const char *server;
    enum llm_api api;
    const char *api_key_env;
    const char *models[MAX_MODELS];
    size_t n_models;
    const char *reviewer_model;
    struct llm_agent_opts agent;
    double timeout_s;
    double temperature;
    long seed_sent; /* -1: not sent */
    long num_predict;
    long num_ctx;
    const char *keep_alive;
    const char *prompts;
    long repeat;
    int json;
    int quiet;
};

/* A keep_alive duration as Ollama reads it: a number of seconds, or a number with a unit
 * (ms, s, m, h); negative keeps the model loaded for ever, 0 unloads it at once. */
static int parse_keep_alive(const char *arg, const char **out, struct fm_err *err)
{
    const char *p = arg;
    if (*p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    if (digits && *p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        p += frac ? frac + 1 : 0;
    }
    if (strcmp(p, "ms") == 0 || strcmp(p, "s") == 0 || strcmp(p, "m") == 0 || strcmp(p, "h") == 0)
        p += strlen(p);
    if (!digits || *p || strlen(arg) >= sizeof(((struct llm_config *)0)->keep_alive))
        return fm_err_set(err, FM_EINVAL,
                          "--keep-alive: expected a duration such as 30s, 10m, 1h or -1, got '%s'",
                          arg);
    *out = arg;
    return FM_OK;
}

/* Parse one option into o; returns FM_OK or FM_EINVAL with the message in err. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct agents_opts *o = self;
    long v = 0;
    uint64_t u = 0;
    switch (c) {
    case 'o':
        o->output = arg;
        return FM_OK;
    case OPT_TRACE:
        o->trace = arg;
        return FM_OK;
    case OPT_TRANSCRIPT:
        o->transcript = arg;
        return FM_OK;
    case OPT_SERVER:
        o->server = arg;
        return FM_OK;
    case OPT_API:
        return llm_api_parse(arg, &o->api, err);
    case OPT_API_KEY_ENV:
        o->api_key_env = arg;
        return FM_OK;
    case 'm':
        if (o->n_models >= MAX_MODELS)
            return fm_err_set(err, FM_EINVAL, "--model: at most %d models", MAX_MODELS);
        if (!arg[0] || strlen(arg) >= sizeof(((struct llm_config *)0)->model))
            return fm_err_set(err, FM_EINVAL, "--model: '%s' is not a model name", arg);
        o->models[o->n_models++] = arg;
        return FM_OK;
    case OPT_REVIEWER_MODEL:
        if (!arg[0] || strlen(arg) >= sizeof(((struct llm_config *)0)->model))
            return fm_err_set(err, FM_EINVAL, "--reviewer-model: '%s' is not a model name", arg);
        o->reviewer_model = arg;
        return FM_OK;
    case OPT_VARIANTS:
        if (fm_parse_long(arg, 1, LLM_MAX_VARIANTS, "--variants", &v, err) < 0)
            return FM_EINVAL;
        o->agent.check.n_variants = (size_t)v;
        return FM_OK;
    case OPT_PACKETS:
        if (fm_parse_long(arg, 1, LLM_MAX_PACKETS, "--packets", &v, err) < 0)
            return FM_EINVAL;
        o->agent.check.n_packets = (size_t)v;
        return FM_OK;
    case OPT_ROUNDS:
        if (fm_parse_long(arg, 1, 100, "--rounds", &v, err) < 0)
            return FM_EINVAL;
        o->agent.rounds = (unsigned)v;
        return FM_OK;
    case OPT_SIDE:
        if (strcmp(arg, "local") == 0)
            o->agent.check.side = MDL_SIDE_LOCAL;
        else if (strcmp(arg, "remote") == 0)
            o->agent.check.side = MDL_SIDE_REMOTE;
        else
            return fm_err_set(err, FM_EINVAL, "--side: expected local or remote, got '%s'", arg);
        return FM_OK;
    case OPT_MTU:
        if (fm_parse_long(arg, 576, 65535, "--mtu", &v, err) < 0)
            return FM_EINVAL;
        o->agent.check.mtu = (int)v;
        return FM_OK;
    case OPT_TIMEOUT:
        return fm_parse_double(arg, 0.1, 86400, "--timeout", &o->timeout_s, err);
    case OPT_TEMPERATURE:
        return fm_parse_double(arg, 0, 2, "--temperature", &o->temperature, err);
    case OPT_SEED:
        if (fm_parse_u64(arg, 2147483647, "--seed", &u, err) < 0)
            return FM_EINVAL;
        o->agent.seed = u;
        o->seed_sent = (long)u;
        return FM_OK;
    case OPT_NUM_PREDICT:
        return fm_parse_long(arg, 16, 1000000, "--num-predict", &o->num_predict, err);
    case OPT_NUM_CTX:
        return fm_parse_long(arg, 256, 10000000, "--num-ctx", &o->num_ctx, err);
    case OPT_KEEP_ALIVE:
        return parse_keep_alive(arg, &o->keep_alive, err);
    case OPT_TASK:
        if (!arg[0])
            return fm_err_set(err, FM_EINVAL, "--task: give the text of a task");
        o->agent.task = arg;
        return FM_OK;
    case OPT_PROMPTS:
        o->prompts = arg;
        return FM_OK;
    case OPT_REPEAT:
        return fm_parse_long(arg, 1, 1000, "--repeat", &o->repeat, err);
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    case 'q':
        o->quiet = 1;
        return FM_OK;
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

/* The client configuration for one model. */
static int make_config(const struct agents_opts *o,
                       const char *model,
                       struct llm_config *cfg,
                       struct fm_err *err)
{
    llm_config_init(cfg);
    cfg->api = o->api;
    int rc = llm_config_set_server(cfg, o->server, err);
    if (rc < 0)
        return rc;
    snprintf(cfg->model, sizeof(cfg->model), "%s", model);
    const char *key = o->api_key_env             ? o->api_key_env
                      : o->api == LLM_API_OPENAI ? "OPENAI_API_KEY"
                                                 : "";
    snprintf(cfg->api_key_env, sizeof(cfg->api_key_env), "%s", key);
    if (o->timeout_s > 0)
        cfg->timeout_s = o->timeout_s;
    if (cfg->connect_timeout_s > cfg->timeout_s)
        cfg->connect_timeout_s = cfg->timeout_s;
    cfg->temperature = o->temperature;
    cfg->seed = o->seed_sent;
    if (o->num_predict > 0)
        cfg->num_predict = (int)o->num_predict;
    if (o->num_ctx > 0)
        cfg->num_ctx = (int)o->num_ctx;
    if (o->keep_alive)
        snprintf(cfg->keep_alive, sizeof(cfg->keep_alive), "%s", o->keep_alive);
    cfg->stop = &cli_stop;
    return FM_OK;
}

/* The generator and reviewer clients for one model (the same client when the reviewer
 * model is the generator's), checked against the server. */
struct clients {
    struct llm_client *gen;
    struct llm_client *rev;
    char gen_label[700];
    char rev_label[700];
};

static void clients_free(struct clients *c)
{
    if (c->rev != c->gen)
        llm_client_free(c->rev);
    llm_client_free(c->gen);
    c->gen = c->rev = NULL;
}

static int
clients_open(const struct agents_opts *o, const char *model, struct clients *c, struct fm_err *err)
{
    struct llm_config gcfg;
    struct llm_config rcfg;
    const char *rmodel = o->reviewer_model ? o->reviewer_model : model;
    memset(c, 0, sizeof(*c));
    if (make_config(o, model, &gcfg, err) < 0 || make_config(o, rmodel, &rcfg, err) < 0)
        return FM_EINVAL;
    snprintf(c->gen_label, sizeof(c->gen_label), "%s at %s (%s)", gcfg.model, gcfg.server,
             llm_api_name(gcfg.api));
    snprintf(c->rev_label, sizeof(c->rev_label), "%s at %s (%s)", rcfg.model, rcfg.server,
             llm_api_name(rcfg.api));
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
        clients_free(c);
    return rc;
}

/* ---- live view ---- */

static void live_write(void *arg, const char *text, size_t len)
{
    (void)arg;
    fwrite(text, 1, len, stderr);
    fflush(stderr);
}

/* ---- outputs ---- */

static void transcript_header(struct fm_buf *t,
                              const char *model_path,
                              const struct agents_opts *o,
                              const struct clients *c)
{
    char when[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fm_buf_printf(t,
                  "flowmimic agents transcript, %s\nmodel file: %s (side %s)\ngenerator: %s\n"
                  "reviewer: %s\nasked for: %zu variants of %zu example packets, at most %u "
                  "rounds, MTU %d, seed %llu\n",
                  when, model_path, o->agent.check.side == MDL_SIDE_LOCAL ? "local" : "remote",
                  c->gen_label, c->rev_label, o->agent.check.n_variants, o->agent.check.n_packets,
                  o->agent.rounds, o->agent.check.mtu, (unsigned long long)o->agent.seed);
}

static int write_transcript(const char *path, const struct fm_buf *t, struct fm_err *err)
{
    if (t->oom)
        return fm_err_set(err, FM_ENOMEM, "transcript '%s'", path);
    return fm_file_write_atomic(path, t->s ? t->s : "", t->len, err);
}

static int write_variants(const char *path, const struct llm_proposal *p, struct fm_err *err)
{
    struct mdl_variant vs[LLM_MAX_VARIANTS];
    for (size_t i = 0; i < p->n; i++)
        vs[i] = p->vs[i].v;
    return mdl_variants_save(path, vs, p->n, err);
}

/* The example packets of the approved variants, one after the other, as a JSON trace:
 * timestamps are cumulative gaps from 0 (as in generate), addresses and ports those of the
 * model's side as the variant changes them, RTP with a sequence and SSRC per variant. */
static int write_trace(const char *path,
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

static void json_summary(const struct agents_opts *o,
                         const char *outcome,
                         const struct llm_agent_result *res,
                         const char *error)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "outcome", outcome);
    if (error)
        jw_str(&w, "error", error);
    else
        jw_null(&w, "error");
    jw_int(&w, "rounds", res->st.rounds);
    jw_int(&w, "max_rounds", o->agent.rounds);
    if (res->approved)
        jw_int(&w, "approved_round", res->approved_round);
    else
        jw_null(&w, "approved_round");
    jw_arr_begin(&w, "variants");
    for (size_t i = 0; res->approved && i < res->proposal.n; i++)
        jw_str(&w, NULL, res->proposal.vs[i].v.name);
    jw_arr_end(&w);
    if (res->approved)
        jw_str(&w, "output", o->output);
    else
        jw_null(&w, "output");
    if (res->approved && o->trace)
        jw_str(&w, "trace", o->trace);
    else
        jw_null(&w, "trace");
    jw_str(&w, "transcript", o->transcript);
    jw_int(&w, "replies", res->st.replies);
    jw_int(&w, "parsed", res->st.parsed);
    jw_int(&w, "passed_checks", res->st.passed);
    jw_int(&w, "reviews", res->st.reviews);
    jw_int(&w, "reply_tokens", res->st.reply_tokens);
    jw_num(&w, "tokens_per_s", llm_agent_tokens_per_s(&res->st));
    jw_num(&w, "wall_s", res->st.wall_s);
    jw_obj_end(&w);
    jw_finish(&w);
    fflush(stdout);
}

/* Can path be created or replaced? Checked before the first request, so that a run of many
 * minutes does not end on a typo in a directory name. */
/* ---- one run ---- */

static int run_single(struct agents_opts *o, const char *model_path, const struct mdl_model *m)
{
    struct clients c;
    struct fm_buf t;
    struct fm_err err = {0};
    struct llm_agent_result *res = NULL;
    int rc = CLI_EXIT_RUNTIME;
    memset(&c, 0, sizeof(c));
    fm_buf_init(&t);
    res = calloc(1, sizeof(*res));
    if (!res) {
        fm_log_error("out of memory");
        goto out;
    }
    if (clients_open(o, o->models[0], &c, &err) < 0) {
        if (o->json)
            json_summary(o, "error", res, err.msg);
        fm_log_error("%s", err.msg);
        goto out;
    }
    transcript_header(&t, model_path, o, &c);
    o->agent.gen_label = c.gen_label;
    o->agent.rev_label = c.rev_label;
    int tty = !o->quiet && isatty(STDERR_FILENO);
    struct llm_agent_live live = {tty ? live_write : NULL, NULL};
    int run_rc = llm_agent_run(m, &o->agent, c.gen, c.rev, &live, &t, res, &err);
    struct fm_err terr = {0};
    int t_rc = write_transcript(o->transcript, &t, &terr);
    const char *outcome = run_rc == FM_EINTR || cli_stop ? "interrupted"
                          : run_rc < 0                   ? "error"
                          : res->approved                ? "approved"
                                                         : "not_approved";
    struct fm_err werr = {0};
    if (run_rc == FM_OK && res->approved && t_rc == FM_OK) {
        /* Variants first: the trace is only an illustration of them. */
        if (write_variants(o->output, &res->proposal, &werr) == FM_OK && o->trace)
            write_trace(o->trace, m, o->agent.check.side, &res->proposal, &werr);
    }
    if (o->json)
        json_summary(o, werr.code ? "error" : outcome, res,
                     werr.code    ? werr.msg
                     : run_rc < 0 ? err.msg
                                  : NULL);
    if (t_rc < 0) {
        fm_log_error("%s", terr.msg);
    } else if (strcmp(outcome, "interrupted") == 0) {
        fm_log_error("interrupted in round %u: no variants written; transcript so far in %s",
                     res->st.rounds, o->transcript);
        rc = CLI_EXIT_INTR;
    } else if (run_rc < 0) {
        fm_log_error("%s", err.msg);
    } else if (werr.code) {
        fm_log_error("%s", werr.msg);
    } else if (!res->approved) {
        fm_log_error("no variant approved after %u round%s; see %s", o->agent.rounds,
                     o->agent.rounds == 1 ? "" : "s", o->transcript);
    } else {
        if (!o->quiet) {
            char names[400] = "";
            size_t used = 0;
            for (size_t i = 0; i < res->proposal.n && used + 1 < sizeof(names); i++) {
                int n = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                 res->proposal.vs[i].v.name);
                if (n < 0)
                    break;
                used += (size_t)n;
            }
            /* Names come from the LLM and the command line: escaped like any message. */
            char line[1024], esc[1024];
            snprintf(line, sizeof(line),
                     "approved in round %u of %u: %zu variants (%s) in %s%s%s; transcript in %s",
                     res->approved_round, o->agent.rounds, res->proposal.n, names, o->output,
                     o->trace ? ", example packets in " : "", o->trace ? o->trace : "",
                     o->transcript);
            fprintf(stderr, "%s\n", fm_escape(line, esc, sizeof(esc)));
        }
        rc = CLI_EXIT_OK;
    }
out:
    clients_free(&c);
    fm_buf_fini(&t);
    free(res);
    return rc;
}

/* ---- batch study ---- */

struct tally {
    unsigned runs, errors, replies, parsed, passed, approved_runs, rounds;
    size_t approved_variants;
    long tokens;
    double gen_s;
};

static void tally_add(struct tally *ty, const struct llm_agent_result *res, int error)
{
    ty->runs++;
    ty->errors += error != 0;
    ty->replies += res->st.replies;
    ty->parsed += res->st.parsed;
    ty->passed += res->st.passed;
    ty->rounds += res->st.rounds;
    if (res->approved) {
        ty->approved_runs++;
        ty->approved_variants += res->proposal.n;
    }
    if (res->st.reply_tokens > 0 && res->st.gen_s > 0) {
        ty->tokens += res->st.reply_tokens;
        ty->gen_s += res->st.gen_s;
    }
}

static void print_table(const struct agents_opts *o, const struct tally *ty)
{
    fprintf(stderr, "\n%-24s %5s %6s %9s %9s %10s %9s %7s %9s\n", "model", "runs", "errors",
            "parsed", "passed", "approved", "variants", "rounds", "tokens/s");
    for (size_t i = 0; i < o->n_models; i++) {
        const struct tally *t = &ty[i];
        char parsed[24];
        char passed[24];
        char approved[24];
        char tps[24];
        snprintf(parsed, sizeof(parsed), "%u/%u", t->parsed, t->replies);
        snprintf(passed, sizeof(passed), "%u/%u", t->passed, t->parsed);
        snprintf(approved, sizeof(approved), "%u/%u", t->approved_runs, t->runs);
        if (t->gen_s > 0)
            snprintf(tps, sizeof(tps), "%9.1f", (double)t->tokens / t->gen_s);
        else
            snprintf(tps, sizeof(tps), "%9s", "-");
        char model[64];
        fprintf(stderr, "%-24s %5u %6u %9s %9s %10s %9zu %7.2f %s\n",
                fm_escape(o->models[i], model, sizeof(model)), t->runs, t->errors, parsed, passed,
                approved, t->approved_variants, t->runs ? (double)t->rounds / t->runs : 0.0, tps);
    }
    fprintf(stderr, "parsed: generator replies that were a JSON object; passed: proposals that "
                    "passed every check;\napproved: runs the reviewer approved; variants: "
                    "variants approved; rounds: mean per run\n");
}

/* Emit one run's line: to stdout at once, or kept for -o. */
static int emit_line(const struct agents_opts *o, struct fm_buf *lines, const char *line)
{
    if (!line)
        return FM_ENOMEM;
    if (o->output) {
        fm_buf_printf(lines, "%s\n", line);
    } else {
        printf("%s\n", line);
        fflush(stdout);
    }
    return FM_OK;
}

static int run_batch(struct agents_opts *o, const char *model_path, const struct mdl_model *m)
{
    struct llm_prompt_set *set = NULL;
    struct llm_agent_result *res = NULL;
    struct fm_buf t;
    struct fm_buf lines;
    struct tally ty[MAX_MODELS];
    struct fm_err err = {0};
    int rc = CLI_EXIT_RUNTIME;
    int any_error = 0;
    memset(ty, 0, sizeof(ty));
    fm_buf_init(&t);
    fm_buf_init(&lines);
    set = malloc(sizeof(*set));
    res = malloc(sizeof(*res));
    if (!set || !res) {
        fm_log_error("out of memory");
        goto out;
    }
    if (llm_prompts_load(o->prompts, set, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    int tty = !o->quiet && isatty(STDERR_FILENO);
    unsigned total = (unsigned)(o->n_models * set->n * (size_t)o->repeat);
    unsigned done = 0;
    for (size_t mi = 0; mi < o->n_models && !cli_stop; mi++) {
        struct clients c;
        struct fm_err cerr = {0};
        int open_rc = clients_open(o, o->models[mi], &c, &cerr);
        for (size_t pi = 0; pi < set->n && !cli_stop; pi++) {
            for (long r = 1; r <= o->repeat && !cli_stop; r++) {
                struct llm_agent_opts ao = o->agent;
                struct fm_err rerr = {0};
                memset(res, 0, sizeof(*res));
                ao.task = set->items[pi].task;
                ao.seed = o->agent.seed + (uint64_t)(r - 1);
                int run_rc = open_rc;
                if (open_rc == FM_OK) {
                    fm_buf_printf(&t,
                                  "\n##### run %u of %u: model %s, prompt %s, repeat %ld, "
                                  "seed %llu #####\n",
                                  done + 1, total, o->models[mi], set->items[pi].name, r,
                                  (unsigned long long)ao.seed);
                    transcript_header(&t, model_path, o, &c);
                    ao.gen_label = c.gen_label;
                    ao.rev_label = c.rev_label;
                    run_rc = llm_agent_run(m, &ao, c.gen, c.rev, NULL, &t, res, &rerr);
                }
                const char *emsg = open_rc < 0 ? cerr.msg : run_rc < 0 ? rerr.msg : NULL;
                int intr = run_rc == FM_EINTR || cli_stop;
                const char *outcome = intr            ? "interrupted"
                                      : run_rc < 0    ? "error"
                                      : res->approved ? "approved"
                                                      : "not_approved";
                struct llm_run_info info = {
                    o->models[mi],
                    o->reviewer_model ? o->reviewer_model : o->models[mi],
                    set->items[pi].name,
                    (unsigned)r,
                    ao.seed,
                    outcome,
                    emsg,
                    o->agent.check.n_variants,
                };
                char *line = llm_run_record(&info, res);
                int e = emit_line(o, &lines, line);
                free(line);
                if (e < 0) {
                    fm_log_error("out of memory");
                    clients_free(&c);
                    goto out;
                }
                if (!intr) {
                    tally_add(&ty[mi], res, run_rc < 0);
                    any_error |= run_rc < 0;
                }
                done++;
                if (tty) {
                    char model[64], prompt[64];
                    fprintf(stderr, "\r\033[Krun %u/%u: %s, %s #%ld: %s", done, total,
                            fm_escape(o->models[mi], model, sizeof(model)),
                            fm_escape(set->items[pi].name, prompt, sizeof(prompt)), r, outcome);
                }
            }
        }
        if (open_rc < 0)
            fm_log_warn("%s", cerr.msg);
        clients_free(&c);
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    struct fm_err werr = {0};
    if (write_transcript(o->transcript, &t, &werr) < 0) {
        fm_log_error("%s", werr.msg);
        goto out;
    }
    if (o->output) {
        if (lines.oom || fm_file_write_atomic(o->output, lines.s ? lines.s : "",
                                              lines.len ? lines.len - 1 : 0, &werr) < 0) {
            fm_log_error("%s", lines.oom ? "out of memory" : werr.msg);
            goto out;
        }
    }
    if (!o->quiet)
        print_table(o, ty);
    if (cli_stop) {
        fm_log_error("interrupted in run %u of %u; transcript in %s", done, total, o->transcript);
        rc = CLI_EXIT_INTR;
    } else if (any_error) {
        fm_log_error("some runs failed with an error (see their \"error\" field)");
    } else {
        rc = CLI_EXIT_OK;
    }
out:
    fm_buf_fini(&t);
    fm_buf_fini(&lines);
    free(set);
    free(res);
    return rc;
}

int cmd_agents(int argc, char **argv)
{
    struct cli_parser p;
    struct agents_opts o;
    struct mdl_model *m = NULL;
    struct fm_err err = {0};
    int rc = CLI_EXIT_RUNTIME;
    memset(&o, 0, sizeof(o));
    llm_agent_opts_init(&o.agent);
    o.api = LLM_API_OLLAMA;
    o.temperature = -1.0;
    o.seed_sent = -1;
    o.repeat = 0;
    o.transcript = "output.txt";
    cli_parser_init(&p, &doc, opts);
    int prc = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (prc >= 0)
        return prc;
    const char *model_path = cli_one_operand(&doc, argc, argv, "a model file (MODEL.json)");
    if (!model_path)
        return CLI_EXIT_USAGE;
    if (!o.prompts && o.n_models > 1)
        return cli_usage_error(doc.name, "several --model need --prompts (a batch study)");
    if (!o.prompts && o.repeat)
        return cli_usage_error(doc.name, "--repeat needs --prompts");
    if (o.prompts && o.agent.task)
        return cli_usage_error(doc.name, "--task and --prompts exclude each other");
    if (o.prompts && o.trace)
        return cli_usage_error(doc.name, "--trace is for a single run, not with --prompts");
    if (o.api_key_env && o.api != LLM_API_OPENAI)
        return cli_usage_error(doc.name, "--api-key-env needs --api openai");
    if (o.n_models == 0)
        o.models[o.n_models++] = LLM_DEFAULT_MODEL;
    if (o.repeat == 0)
        o.repeat = 1;
    if (!o.output && !o.prompts)
        o.output = "variants.json";
    /* flowmimic -q agents ... is as quiet as agents -q. */
    if (fm_log_get_level() < FM_LOG_WARN)
        o.quiet = 1;
    /* A usage error for the server URL, before any work. */
    struct llm_config probe;
    int crc = make_config(&o, o.models[0], &probe, &err);
    if (crc == FM_EINVAL)
        return cli_usage_error(doc.name, "%s", err.msg);
    if (crc < 0) { /* libcurl missing: what to install, not how to type the URL */
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }

    if (cli_check_output(o.transcript, 0) != CLI_EXIT_OK ||
        (o.output && cli_check_output(o.output, 0) != CLI_EXIT_OK) ||
        (o.trace && cli_check_output(o.trace, 0) != CLI_EXIT_OK))
        return CLI_EXIT_RUNTIME;
    cli_signals_install();
    m = malloc(sizeof(*m));
    if (!m) {
        fm_log_error("out of memory");
        goto out;
    }
    if (mdl_json_load(model_path, m, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    const struct mdl_side *s = &m->sides[o.agent.check.side];
    if (!s->present) {
        fm_log_error("model '%s' has no packets on its %s side: use --side %s", model_path,
                     o.agent.check.side == MDL_SIDE_LOCAL ? "local" : "remote",
                     o.agent.check.side == MDL_SIDE_LOCAL ? "remote" : "local");
        goto out;
    }
    if (strcmp(m->proto, "udp") != 0) {
        fm_log_error("model '%s' is of a %s flow: variants apply to UDP flows", model_path,
                     m->proto);
        goto out;
    }
    rc = o.prompts ? run_batch(&o, model_path, m) : run_single(&o, model_path, m);
out:
    free(m);
    return rc;
}
