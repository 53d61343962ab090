/* llm/session.h - one run of `flowmimic agents` from the clients to the files it writes.
 * A session names everything a run needs besides the model: the clients' configuration, the
 * agents' options and the files. llm_session_run() opens the generator and reviewer clients
 * (checked against the server), runs the loop of llm/agent.h with a transcript that starts
 * with a header, writes the transcript, and on approval the variant file and the example
 * packets as a JSON trace. The batch study (llm/study.h) runs many sessions' worth of runs
 * with the same pieces. Nothing here prints; results and messages go to the caller.
 * Not thread-safe. */
#ifndef LLM_SESSION_H
#define LLM_SESSION_H

#include "common/err.h"
#include "common/strbuf.h"
#include "llm/agent.h"
#include "llm/client.h"
#include "models/model.h"

struct llm_session {
    struct llm_config cfg;      /* the clients' configuration; cfg.model is the generator's */
    const char *reviewer_model; /* NULL: the generator's */
    struct llm_agent_opts agent;
    const char *model_path; /* the model file, as the transcript names it */
    const char *transcript; /* the transcript file, written in every case */
    const char *output;     /* the variant file (one run) */
    const char *trace;      /* the example packets as a JSON trace; NULL: not written */
};

/* Whether the session's stop flag (cfg.stop) is set. */
FM_MUST_CHECK int llm_session_stopped(const struct llm_session *s);

/* Check that side `side` of m (loaded from path) is something variants can be made of: the
 * side has packets, the flow is UDP. FM_EINVAL with a message naming the file otherwise. */
FM_MUST_CHECK int llm_session_model_check(const struct mdl_model *m,
                                          const char *path,
                                          enum mdl_side_id side,
                                          struct fm_err *err);

/* The generator and reviewer clients for one generator model (the same client when the
 * reviewer's model is the generator's), with labels for the transcript. */
struct llm_clients {
    struct llm_client *gen;
    struct llm_client *rev;
    char gen_label[700]; /* "llama3.2:3b at http://127.0.0.1:11434 (ollama)" */
    char rev_label[700];
};

/* Open the clients of s for the generator model `model` and check each against the server
 * (llm_client_check). Returns FM_OK, or the client's error with its message; *c is then
 * empty (safe to free). */
FM_MUST_CHECK int llm_clients_open(const struct llm_session *s,
                                   const char *model,
                                   struct llm_clients *c,
                                   struct fm_err *err);
/* Free both clients (once when they are the same); c is left empty. */
void llm_clients_free(struct llm_clients *c);

/* Append the transcript's header for a run of s with the clients c: the time (UTC), the model
 * file and side, both agents and what they are asked for. */
void llm_transcript_header(struct fm_buf *t,
                           const struct llm_session *s,
                           const struct llm_clients *c);
/* Write the transcript t to path (atomically). FM_ENOMEM when t ran out of memory, else
 * fm_file_write_atomic()'s errors. */
FM_MUST_CHECK int llm_transcript_save(const char *path, const struct fm_buf *t, struct fm_err *err);

/* Write the variants of an approved proposal as a variant file (mdl_variants_save). */
FM_MUST_CHECK int
llm_proposal_save_variants(const char *path, const struct llm_proposal *p, struct fm_err *err);
/* Write the example packets of an approved proposal, one variant after the other, as a JSON
 * trace: timestamps are cumulative gaps from 0 (as in generate), addresses and ports those of
 * side `side` of m as each variant changes them, RTP with a sequence and SSRC per variant.
 * FM_EFORMAT when the model's addresses cannot be read, else trc_trace's errors. */
FM_MUST_CHECK int llm_proposal_save_trace(const char *path,
                                          const struct mdl_model *m,
                                          enum mdl_side_id side,
                                          const struct llm_proposal *p,
                                          struct fm_err *err);

/* How a run ended, for reports. */
enum llm_outcome {
    LLM_OUTCOME_APPROVED,
    LLM_OUTCOME_NOT_APPROVED,
    LLM_OUTCOME_ERROR,
    LLM_OUTCOME_INTERRUPTED,
};

/* "approved", "not_approved", "error", "interrupted". */
const char *llm_outcome_name(enum llm_outcome o);

/* The outcome of a run that returned rc with result res: interrupted when rc is FM_EINTR or
 * the stop flag is set (even after a run that ended), else error, approved or not. */
enum llm_outcome
llm_session_outcome(const struct llm_session *s, int rc, const struct llm_agent_result *res);

struct llm_session_result {
    struct llm_agent_result run; /* the loop's result (zero when the clients did not open) */
    int opened;                  /* 0: the clients could not be opened (err says why) */
    int rc;                      /* the loop's return code (FM_OK: it ran to its end) */
    struct fm_err err;           /* why the clients did not open, or why the loop failed */
    enum llm_outcome outcome;    /* see llm_session_outcome() */
    struct fm_err transcript;    /* code set: the transcript could not be written */
    struct fm_err save;          /* code set: the variants or the trace could not be written */
};

/* One run of s on m with the generator model s->cfg.model: the clients are opened (on failure
 * res->opened is 0 and only the transcript is written, saying why), the loop runs (live: a live
 * view, may be NULL), the transcript is written in every case, and when the loop approved and the
 * transcript was written, the variants go to s->output and then, when they were written and
 * s->trace is set, the example packets to s->trace. Returns FM_OK when all of it went through
 * (approved or not; res->outcome says which), else the code of the first failure, whose message is
 * in res->err, res->transcript or res->save. res is filled in every case. */
int llm_session_run(const struct mdl_model *m,
                    const struct llm_session *s,
                    const struct llm_agent_live *live,
                    struct llm_session_result *res);

#endif
