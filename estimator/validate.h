/* estimator/validate.h - protocol checks of a packet trace (JSON or capture).
 * est_validate_trace() walks a struct mdl_trace in order and reports every packet that breaks
 * a rule: timestamps, addresses and ports, UDP lengths, RTP version, sequence and timestamp
 * continuity per stream (RFC 3550), and the TCP connection life (RFC 9293: handshake, flag
 * combinations, sequence and acknowledgement numbers, FIN and RST). Rule names are stable:
 * scripts may match on them; est_validate_rule_name() and est_validate_rule_help() list them.
 * A report is filled by est_validate_trace() and released with est_validate_report_fini().
 * Reentrant: no state outside the report. */
#ifndef ESTIMATOR_VALIDATE_H
#define ESTIMATOR_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "models/trace.h"

enum est_vrule {
    EST_V_TS_ORDER,
    EST_V_IP_TTL,
    EST_V_IP_SRC,
    EST_V_PORT,
    EST_V_FLOW_PROTO,
    EST_V_UDP_LENGTH,
    EST_V_RTP_VERSION,
    EST_V_RTP_HEADER,
    EST_V_RTP_SSRC,
    EST_V_RTP_SEQ_GAP,
    EST_V_RTP_SEQ_DUP,
    EST_V_RTP_SEQ_ORDER,
    EST_V_RTP_TS,
    EST_V_TCP_FLAGS,
    EST_V_TCP_HANDSHAKE,
    EST_V_TCP_SEQ,
    EST_V_TCP_ACK,
    EST_V_TCP_FIN,
    EST_V_TCP_RST,
    EST_V_NRULES
};

/* One broken rule: "packet N: RULE: expected X, got Y". */
struct est_violation {
    size_t packet; /* index in the trace, from 0 */
    enum est_vrule rule;
    char expected[112];
    char got[112];
};

struct est_validate_report {
    size_t packets;
    size_t flows;       /* distinct address and port pairs (either direction) */
    size_t tcp_conns;   /* TCP connections (a SYN after a close starts a new one) */
    size_t rtp_streams; /* RTP streams: sender, receiver and SSRC */
    uint64_t total;     /* violations found */
    uint64_t per_rule[EST_V_NRULES];
    struct est_violation *v; /* the first nv violations in packet order, owned */
    size_t nv;
};

/* Check t and fill *r (zeroed first) with every violation counted and the first max_keep
 * (0: all) kept in r->v. Returns FM_OK (the trace may still be invalid: r->total > 0) or
 * FM_ENOMEM. */
int est_validate_trace(const struct mdl_trace *t,
                       size_t max_keep,
                       struct est_validate_report *r,
                       struct fm_err *err);

void est_validate_report_fini(struct est_validate_report *r);

/* The stable name of a rule ("rtp-seq-gap") and what it checks, in one line. */
const char *est_validate_rule_name(enum est_vrule rule);
const char *est_validate_rule_help(enum est_vrule rule);

#endif
