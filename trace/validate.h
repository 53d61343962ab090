/* trace/validate.h - protocol checks of a packet trace (JSON or capture).
 * trc_validate() walks a struct trc_trace in order and reports every packet that breaks
 * a rule: timestamps, addresses and ports, UDP lengths, RTP version, sequence and timestamp
 * continuity per stream (RFC 3550), and the TCP connection life (RFC 9293: handshake, flag
 * combinations, sequence and acknowledgement numbers, FIN and RST). Rule names are stable:
 * scripts may match on them; trc_validate_rule_name() and trc_validate_rule_help() list them.
 * A report is filled by trc_validate() and released with trc_validate_report_fini().
 * Reentrant: no state outside the report. */
#ifndef TRACE_VALIDATE_H
#define TRACE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "trace/trace.h"

enum trc_vrule {
    TRC_V_TS_ORDER,
    TRC_V_IP_TTL,
    TRC_V_IP_SRC,
    TRC_V_PORT,
    TRC_V_FLOW_PROTO,
    TRC_V_UDP_LENGTH,
    TRC_V_RTP_VERSION,
    TRC_V_RTP_HEADER,
    TRC_V_RTP_SSRC,
    TRC_V_RTP_SEQ_GAP,
    TRC_V_RTP_SEQ_DUP,
    TRC_V_RTP_SEQ_ORDER,
    TRC_V_RTP_TS,
    TRC_V_TCP_FLAGS,
    TRC_V_TCP_HANDSHAKE,
    TRC_V_TCP_SEQ,
    TRC_V_TCP_ACK,
    TRC_V_TCP_FIN,
    TRC_V_TCP_RST,
    TRC_V_NRULES
};

/* One broken rule: "packet N: RULE: expected X, got Y". A warning is what a network does or a
 * capture of part of one shows (loss, reordering, retransmission, a connection seen from its
 * middle, an IP fragment): the trace is still valid. An error is a malformed or impossible
 * packet: the trace is invalid. */
struct trc_violation {
    size_t packet; /* index in the trace, from 0 */
    enum trc_vrule rule;
    int warning;
    char expected[112];
    char got[112];
};

struct trc_validate_report {
    size_t packets;
    size_t flows;       /* distinct address and port pairs (either direction) */
    size_t tcp_conns;   /* TCP connections (a SYN after a close starts a new one) */
    size_t rtp_streams; /* RTP streams: sender, receiver and SSRC */
    uint64_t total;     /* violations found: errors + warnings */
    uint64_t errors, warnings;
    uint64_t per_rule[TRC_V_NRULES];          /* both kinds */
    uint64_t per_rule_warnings[TRC_V_NRULES]; /* of them, warnings */
    struct trc_violation *v;                  /* the first nv violations in packet order, owned */
    size_t nv;
};

/* Check t and fill *r (zeroed first) with every violation counted and the first max_keep
 * (0: all) kept in r->v. Returns FM_OK (the trace may still be invalid: r->errors > 0) or
 * FM_ENOMEM. */
FM_MUST_CHECK int trc_validate(const struct trc_trace *t,
                               size_t max_keep,
                               struct trc_validate_report *r,
                               struct fm_err *err);

void trc_validate_report_fini(struct trc_validate_report *r);

/* 1 when a rule's findings are warnings (tcp-handshake and udp-length are errors except for
 * a connection seen from its middle and an IP fragment, which warn). */
FM_MUST_CHECK int trc_validate_rule_warns(enum trc_vrule rule);

/* The stable name of a rule ("rtp-seq-gap") and what it checks, in one line. */
const char *trc_validate_rule_name(enum trc_vrule rule);
const char *trc_validate_rule_help(enum trc_vrule rule);

#endif
