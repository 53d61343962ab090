/* cli/cmd_agents.c - `flowmimic agents`: an LLM generator proposes variants of a model, the
 * deterministic checks and an LLM reviewer judge them (llm/agent.c). On approval the variants
 * go to a variant file (and their example packets to a JSON trace); without approval nothing
 * but the transcript is written. With --prompts, a batch study: each prompt of a prompt set
 * is run --repeat times per --model, one JSON line per run, then a table per model.
 * Here: the options, one call (llm_session_run() or llm_study_run()) and what is printed
 * (cli/agents_report.c). */
#include "cli/agents_report.h"
#include "cli/cli.h"

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/num.h"
#include "common/par.h"
#include "llm/agent.h"
#include "llm/client.h"
#include "llm/session.h"
#include "llm/study.h"
#include "models/json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    {"timeout", OPT_TIMEOUT, required_argument, "TIME",
     "per request, connection included (default 120s)"},
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
    const char *models[LLM_STUDY_MAX_MODELS];
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
        if (o->n_models >= LLM_STUDY_MAX_MODELS)
            return fm_err_set(err, FM_EINVAL, "--model: at most %d models", LLM_STUDY_MAX_MODELS);
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
        return fm_parse_duration(arg, 0.1, 86400, "--timeout", &o->timeout_s, err);
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
        o->keep_alive = arg;
        return llm_keep_alive_check(arg, "--keep-alive", err);
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

/* The clients' configuration from the options, for the first model. */
static int make_config(const struct agents_opts *o, struct llm_config *cfg, struct fm_err *err)
{
    llm_config_init(cfg);
    cfg->api = o->api;
    int rc = llm_config_set_server(cfg, o->server, err);
    if (rc < 0)
        return rc;
    snprintf(cfg->model, sizeof(cfg->model), "%s", o->models[0]);
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

/* The live view: the transcript as it grows, on stderr. */
static void live_write(void *arg, const char *text, size_t len)
{
    (void)arg;
    fwrite(text, 1, len, stderr);
    fflush(stderr);
}

/* One run: llm_session_run(), then the summary and one closing line. */
static int
run_single(const struct agents_opts *o, const struct llm_session *s, const struct mdl_model *m)
{
    struct llm_session_result *res = calloc(1, sizeof(*res));
    if (!res) {
        fm_log_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    int tty = !o->quiet && isatty(STDERR_FILENO);
    struct llm_agent_live live = {tty ? live_write : NULL, NULL};
    /* Its result is in res too, which the report reads. */
    (void)llm_session_run(m, s, &live, res);
    int rc = cli_agents_single_report(s, res, o->json, o->quiet);
    free(res);
    return rc;
}

/* The batch study: llm_study_run(), then the -o file, the table and one closing line. */
static int
run_batch(const struct agents_opts *o, const struct llm_session *s, const struct mdl_model *m)
{
    struct cli_agents_batch b;
    struct llm_study st = {s, o->models, o->n_models, o->prompts, (unsigned)o->repeat};
    /* Under mpirun the runs are shared out over the ranks (cli/agents_report.c). */
    if (fm_par_size() > 1)
        return cli_agents_batch_ranks(s, m, &st, o->quiet);
    struct llm_study_cb cb;
    struct llm_study_result *res = malloc(sizeof(*res));
    struct fm_err err = {0};
    int rc = CLI_EXIT_RUNTIME;
    cli_agents_batch_init(&b, o->output, o->models, !o->quiet && isatty(STDERR_FILENO), &cb);
    if (!res) {
        fm_log_error("out of memory");
        goto out;
    }
    if (llm_study_run(m, &st, &cb, res, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (b.tty)
        cli_agents_progress_done();
    if (res->transcript.code) {
        fm_log_error("%s", res->transcript.msg);
        goto out;
    }
    if (o->output) {
        if (b.lines.oom || fm_file_write_atomic(o->output, b.lines.s ? b.lines.s : "",
                                                b.lines.len ? b.lines.len - 1 : 0, &err) < 0) {
            fm_log_error("%s", b.lines.oom ? "out of memory" : err.msg);
            goto out;
        }
    }
    if (!o->quiet)
        cli_agents_table(o->models, o->n_models, res->tally);
    if (cli_stop) {
        fm_log_error("interrupted in run %u of %u; transcript in %s", res->done, res->total,
                     o->transcript);
        rc = CLI_EXIT_INTR;
    } else if (res->any_error) {
        fm_log_error("some runs failed with an error (see their \"error\" field)");
    } else {
        rc = CLI_EXIT_OK;
    }
out:
    cli_agents_batch_fini(&b);
    free(res);
    return rc;
}

int cmd_agents(int argc, char **argv)
{
    struct cli_parser p;
    struct agents_opts o;
    struct llm_session s;
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
    memset(&s, 0, sizeof(s));
    int crc = make_config(&o, &s.cfg, &err);
    if (crc == FM_EINVAL)
        return cli_usage_error(doc.name, "%s", err.msg);
    if (crc < 0) { /* libcurl missing: what to install, not how to type the URL */
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    s.reviewer_model = o.reviewer_model;
    s.agent = o.agent;
    s.model_path = model_path;
    s.transcript = o.transcript;
    s.output = o.output;
    s.trace = o.trace;

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
    if (mdl_json_load(model_path, m, &err) < 0 ||
        llm_session_model_check(m, model_path, o.agent.check.side, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (o.prompts && fm_par_init(&err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    rc = o.prompts ? run_batch(&o, &s, m) : run_single(&o, &s, m);
out:
    fm_par_fini();
    free(m);
    return rc;
}
