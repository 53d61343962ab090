/* trace/input.c - a packet trace from a file of either kind, converted or validated; see
 * input.h. The order of the checks is the order of the messages a user sees: what the file
 * is, whether the flow applies to it, whether it can be read twice, which flow, the read. */
#include "trace/input.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "packet/sniff.h"

int trc_kind_sniff(const char *path, enum trc_kind *kind, struct fm_err *err)
{
    enum pkt_input in = PKT_INPUT_UNKNOWN;
    int rc = pkt_sniff(path, &in, err);
    *kind = in == PKT_INPUT_CAPTURE   ? TRC_KIND_PCAP
            : in == PKT_INPUT_UNKNOWN ? TRC_KIND_UNKNOWN
                                      : TRC_KIND_JSON;
    return rc;
}

/* Only the last name of a path counts: a dot in a directory's name is not an extension. */
int trc_kind_of_name(const char *name)
{
    const char *base = strrchr(name, '/');
    const char *dot = strrchr(base ? base + 1 : name, '.');
    if (!dot)
        return TRC_KIND_UNKNOWN;
    if (strcasecmp(dot, ".json") == 0)
        return TRC_KIND_JSON;
    if (strcasecmp(dot, ".pcap") == 0 || strcasecmp(dot, ".cap") == 0)
        return TRC_KIND_PCAP;
    if (strcasecmp(dot, ".pcapng") == 0)
        return -1;
    return TRC_KIND_UNKNOWN;
}

const char *trc_kind_name(enum trc_kind kind)
{
    return kind == TRC_KIND_JSON ? "json" : "pcap";
}

/* A capture, all of it or one flow's packets. A flow is resolved before the read, which for
 * an index reads the capture once more: a pipe cannot give it twice. */
static int read_capture(const struct trc_input *in,
                        struct trc_trace *t,
                        struct trc_input_result *res,
                        struct fm_err *err)
{
    struct pkt_flow_key key;
    const char *path = in->path;
    int rc = FM_OK;
    if (in->flow && !pkt_input_rereadable(path))
        return fm_err_set(err, FM_EINVAL,
                          "'%s' is not a regular file: --flow reads the capture twice, so save "
                          "it to a file first",
                          path);
    if (in->flow) {
        assert(in->select); /* the caller's part of the bargain: see input.h */
        rc = in->select(path, in->flow, in->stop, &key, err);
        if (rc == FM_EINVAL)
            res->bad = TRC_BAD_FLOW_SPEC;
        if (rc < 0)
            return rc;
    }
    rc = trc_from_pcap(path, in->flow ? &key : NULL, in->with_payload, t, &res->stats,
                       in->want_frames ? &res->frames : NULL, in->stop, err);
    if (rc == FM_EFORMAT && !pkt_input_rereadable(path)) {
        /* A pipe is read as a capture; a JSON trace must be a file, looked at before it is
         * read. */
        char msg[FM_ERR_LEN];
        snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
        fm_err_set(err, rc, "%s (a JSON trace cannot come from a pipe: save it to a file first)",
                   msg);
    }
    return rc;
}

int trc_input_read(const struct trc_input *in,
                   struct trc_trace *t,
                   struct trc_input_result *res,
                   struct fm_err *err)
{
    memset(res, 0, sizeof(*res));
    trc_trace_fini(t);
    int rc = trc_kind_sniff(in->path, &res->kind, err);
    if (rc < 0)
        return rc;
    if (res->kind == TRC_KIND_UNKNOWN)
        return fm_err_set(err, FM_EFORMAT,
                          "cannot tell what '%s' holds: it is neither a JSON packet trace (text "
                          "starting with '{' or '[') nor a pcap or pcapng capture",
                          in->path);
    if (res->kind == TRC_KIND_JSON && in->flow) {
        res->bad = TRC_BAD_FLOW_JSON;
        return fm_err_set(err, FM_EINVAL, "a flow applies to capture input; '%s' is a JSON trace",
                          in->path);
    }
    rc = res->kind == TRC_KIND_JSON ? trc_trace_load(in->path, t, err)
                                    : read_capture(in, t, res, err);
    if (rc < 0)
        return rc;
    res->read = 1;
    return FM_OK;
}

int trc_convert(const struct trc_input *in,
                const char *out,
                struct trc_convert_result *res,
                struct fm_err *err)
{
    struct trc_trace t;
    memset(res, 0, sizeof(*res));
    trc_trace_init(&t);
    int rc = trc_input_read(in, &t, &res->in, err);
    if (rc < 0)
        goto out;
    /* A stop during the read of a JSON trace, or after a capture's last packet: the output is
     * written whole or not at all, and here it is not begun. */
    if (in->stop && *in->stop) {
        res->interrupted = 1;
        rc = fm_err_set(err, FM_EINTR, "interrupted: nothing written to '%s'", out);
        goto out;
    }
    rc = res->in.kind == TRC_KIND_JSON ? trc_to_pcap(&t, out, err) : trc_trace_save(out, &t, err);
    if (rc == FM_OK)
        res->packets = t.n;
out:
    trc_trace_fini(&t);
    return rc;
}

int trc_validate_input(const struct trc_input *in,
                       size_t max_keep,
                       struct trc_validate_report *r,
                       struct trc_input_result *res,
                       struct fm_err *err)
{
    struct trc_trace t;
    memset(r, 0, sizeof(*r));
    trc_trace_init(&t);
    int rc = trc_input_read(in, &t, res, err);
    if (rc < 0)
        goto out;
    if (in->stop && *in->stop) {
        rc = fm_err_set(err, FM_EINTR, "interrupted after reading '%s': nothing checked", in->path);
        goto out;
    }
    rc = trc_validate(&t, max_keep, r, err);
out:
    trc_trace_fini(&t);
    return rc;
}
