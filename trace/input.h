/* trace/input.h - a packet trace from a file of either kind, and the work of `convert` and
 * `validate` on it. What a file holds is told by its content (packet/sniff.h): a JSON trace,
 * which must be a file, or a pcap/pcapng capture, which may also be a pipe.
 * A capture's packets may be limited to one flow, named by its index in `flowmimic flows` or
 * by its spec. Ranking flows is the flow table's work (estimator/), which trace/ does not use:
 * the caller passes the resolver in (struct trc_input's select; the program passes
 * est_flow_select()). Nothing here prints: a result says what was read and skipped, and the
 * caller words it. Not thread-safe; nothing here keeps state between calls. */
#ifndef TRACE_INPUT_H
#define TRACE_INPUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "packet/endpoint.h"
#include "trace/pcap.h"
#include "trace/trace.h"
#include "trace/validate.h"

/* What a file holds: a JSON trace, a pcap or pcapng capture, or neither. */
enum trc_kind { TRC_KIND_UNKNOWN, TRC_KIND_JSON, TRC_KIND_PCAP };

/* What path holds, by packet/sniff.h's one rule (a pipe is a capture). Returns FM_OK and sets
 * *kind (TRC_KIND_UNKNOWN for neither), or FM_EIO when path cannot be looked at. */
FM_MUST_CHECK int trc_kind_sniff(const char *path, enum trc_kind *kind, struct fm_err *err);

/* The kind a file name asks for by its extension (any case): TRC_KIND_JSON for .json,
 * TRC_KIND_PCAP for .pcap and .cap, TRC_KIND_UNKNOWN for any other or none, and -1 for
 * .pcapng, which is read but not written. */
FM_MUST_CHECK int trc_kind_of_name(const char *name);

/* "json" for TRC_KIND_JSON, "pcap" for the others. */
const char *trc_kind_name(enum trc_kind kind);

/* Resolves the flow arg names in the capture at path into *key; stop, once set, may end a
 * read of the capture with FM_EINTR. Returns FM_OK, FM_EINVAL when arg is not a flow (err says
 * why), or any other error of reading the capture or finding the flow. */
typedef int (*trc_flow_select_fn)(const char *path,
                                  const char *arg,
                                  volatile sig_atomic_t *stop,
                                  struct pkt_flow_key *key,
                                  struct fm_err *err);

/* One file to read as a trace. */
struct trc_input {
    const char *path;
    const char *flow;            /* capture only: the flow as INDEX or SPEC, or NULL for all */
    trc_flow_select_fn select;   /* resolves flow; needed when flow is set */
    int with_payload;            /* capture: 1 keeps payload bytes, 0 payload_length only */
    int want_frames;             /* capture: each packet's frame number into frames */
    volatile sig_atomic_t *stop; /* may be NULL; once set, stops a read (FM_EINTR) */
};

/* The arguments, rather than the file, are at fault. */
enum trc_bad {
    TRC_BAD_NONE,
    TRC_BAD_FLOW_JSON, /* a flow was named for a JSON trace */
    TRC_BAD_FLOW_SPEC  /* flow is not a flow: the message says why */
};

/* What a read did, also when it failed. */
struct trc_input_result {
    enum trc_kind kind;          /* what the file holds, once looked at */
    enum trc_bad bad;            /* set when the failure is the arguments' */
    int read;                    /* 1 once the file was read whole */
    struct trc_read_stats stats; /* capture: what was kept and skipped (whole when read) */
    uint64_t *frames;            /* want_frames, a capture read: frame numbers (free()) */
};

/* Read in->path into t (emptied first; left empty on failure) and fill *res (zeroed first).
 * Returns FM_OK; FM_EFORMAT for a file that is neither kind; FM_EINVAL with res->bad set
 * for a flow that does not apply or is not a flow, and without it for a flow named in a
 * capture that cannot be read twice (a pipe); FM_EINTR when stopped; the errors of
 * trc_trace_load(), in->select and trc_from_pcap(). */
FM_MUST_CHECK int trc_input_read(const struct trc_input *in,
                                 struct trc_trace *t,
                                 struct trc_input_result *res,
                                 struct fm_err *err);

/* What `convert` did. */
struct trc_convert_result {
    struct trc_input_result in; /* the read; in.kind is the direction (JSON: to pcap) */
    size_t packets;             /* packets written */
    int interrupted;            /* stop was set once the read was done: nothing written */
};

/* Read in (as trc_input_read() does) and write its packets to out as the other kind: a JSON
 * trace as pcap (trc_to_pcap()), a capture as a JSON trace (trc_trace_save()), atomically.
 * The caller checks out and the direction first. Returns FM_OK; the errors of the read; then
 * FM_EINTR (res->interrupted) when stop was set by the end of the read; the write's errors. */
FM_MUST_CHECK int trc_convert(const struct trc_input *in,
                              const char *out,
                              struct trc_convert_result *res,
                              struct fm_err *err);

/* Read in (as trc_input_read() does) and check its packets (trc_validate(), keeping the first
 * max_keep violations, 0: all) into *r, which the caller releases with
 * trc_validate_report_fini(). Returns FM_OK (the trace may still be invalid: r->total > 0);
 * the errors of the read; FM_EINTR when stop was set by the end of the read; FM_ENOMEM. */
FM_MUST_CHECK int trc_validate_input(const struct trc_input *in,
                                     size_t max_keep,
                                     struct trc_validate_report *r,
                                     struct trc_input_result *res,
                                     struct fm_err *err);

#endif
