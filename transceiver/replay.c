/* transceiver/replay.c - `replay` as a few calls: input, sink and route, source, listener,
 * common start, send loop, outcome. */
#include "transceiver/replay.h"

#include "common/par.h"
#include "common/time.h"
#include "models/json.h"
#include "models/model.h"
#include "models/variant.h"
#include "packet/sniff.h"
#include "transceiver/receiver.h"
#include "transceiver/route.h"
#include "transceiver/sender_int.h"
#include "transceiver/start.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void trx_replay_opts_init(struct trx_replay_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->side = TRX_SIDE_DEFAULT;
    o->streams = 1;
    o->speed = 1.0;
    o->rate_scale = 1.0;
    o->timer = TRX_TIMER_HYBRID;
    o->spin_us = -1.0; /* the send loop's default, or TRX_REPLAY_RT_SPIN_NS with realtime */
    o->src_port = -1;
    o->dst_port = -1;
    o->loops = 1;
}

int trx_replay_input_kind(const char *path, enum trx_replay_input *kind, struct fm_err *err)
{
    enum pkt_input k = PKT_INPUT_UNKNOWN;
    int rc = pkt_sniff(path, &k, err);
    if (rc < 0)
        return rc;
    if (k == PKT_INPUT_CAPTURE) {
        *kind = TRX_REPLAY_CAPTURE;
        return FM_OK;
    }
    if (k == PKT_INPUT_JSON_OBJECT) {
        *kind = TRX_REPLAY_MODEL;
        return FM_OK;
    }
    return fm_err_set(err, FM_EFORMAT,
                      "'%s' is neither a capture (pcap, pcapng) nor a model (JSON)", path);
}

int trx_replay_open_sink(struct trx_replay *r, const struct trx_replay_opts *o, struct fm_err *err)
{
    int rc;
    /* The next hop's MAC is read from the kernel's tables, not probed: a dry run shows it too. */
    if (o->have_peer_mac && o->peer_mac_auto && o->iface && o->have_peer) {
        rc = trx_next_hop_mac(o->iface, o->ip_version, o->peer_ip, r->peer_mac, err);
        if (rc < 0)
            return rc;
    } else {
        memcpy(r->peer_mac, o->peer_mac, 6);
    }
    if (!o->dry_run) {
        /* Permission and interface first (the sink checks both), then the route: each error
         * names what to fix, and nothing has been sent yet. */
        struct trx_libnet_opts lo;
        memset(&lo, 0, sizeof(lo));
        lo.iface = o->iface;
        lo.ip_version = o->ip_version;
        lo.have_peer_mac = o->have_peer_mac;
        memcpy(lo.peer_mac, r->peer_mac, 6);
        rc = trx_sink_libnet_new(&lo, &r->sink, err);
        if (rc == FM_OK)
            rc = trx_route_check(o->iface, o->ip_version, o->peer_ip, r->src_ip, r->via, err);
        if (rc < 0)
            return rc;
        r->have_src_ip = 1;
    } else if (o->iface && o->have_peer) {
        /* A dry run sends nothing, but shows the packets as they would leave. */
        if (if_nametoindex(o->iface) == 0)
            return fm_err_set(err, FM_ENOTFOUND, "no interface '%s' (see `ip link`)", o->iface);
        rc = trx_iface_address(o->iface, o->ip_version, NULL, r->src_ip, err);
        if (rc < 0)
            return rc;
        r->have_src_ip = 1;
    }
    return FM_OK;
}

/* The mean payload of a side's length model, bytes (the truncation to its range aside). */
static double payload_mean(const struct mdl_mixture *x)
{
    double mean = 0;
    for (size_t i = 0; i < x->n_atoms; i++)
        mean += x->atoms[i].weight * x->atoms[i].value;
    for (unsigned i = 0; i < x->k; i++)
        mean += x->comps[i].weight * x->comps[i].mean;
    return mean;
}

/* --pps or --mbps for a model: the rate scale that brings its streams' mean rate to it.
 * FM_EINVAL when the side has no rate to scale. */
static int rate_for(const struct mdl_side *s,
                    const struct trx_replay_opts *o,
                    double *scale,
                    struct fm_err *err)
{
    double pps = s->duration_s > 0 && s->packets > 1 ? (double)(s->packets - 1) / s->duration_s : 0;
    double bps = pps * 8.0 * (s->has_payload ? payload_mean(&s->payload) : 0);
    double have = o->pps > 0 ? pps : bps;
    if (!(have > 0))
        return fm_err_set(err, FM_EINVAL, "%s: the model's side has no %s to scale",
                          o->pps > 0 ? "--pps" : "--mbps", o->pps > 0 ? "packet rate" : "bit rate");
    /* The total is the whole run's, over every rank's share. */
    double streams = (double)(o->total_streams ? o->total_streams : (unsigned)o->streams);
    *scale = (o->pps > 0 ? o->pps : o->mbps * 1e6) / (have * streams);
    return FM_OK;
}

/* Load the model and make its source; r->own_port gets the port this host's side sends from
 * (stream 0), which is where the peer's side sends to. */
static int model_source(struct trx_replay *r,
                        const struct trx_replay_opts *o,
                        const char *path,
                        struct fm_err *err)
{
    struct mdl_model *m = calloc(1, sizeof(*m));
    struct trx_model_opts mo;
    int rc = FM_OK;
    if (!m)
        return fm_err_set(err, FM_ENOMEM, "model");
    rc = mdl_json_load(path, m, err);
    if (rc < 0)
        goto out;
    /* replay sends UDP: a TCP flow's model played as UDP would be another flow (issue 11). */
    if (strcmp(m->proto, "udp") != 0) {
        rc = fm_err_set(err, FM_EINVAL,
                        "model '%s' is of a %s flow: replay sends UDP only (replay the capture "
                        "itself to send its packets)",
                        path, m->proto);
        goto out;
    }
    trx_model_opts_init(&mo);
    mo.side = o->side == MDL_SIDE_REMOTE ? MDL_SIDE_REMOTE : MDL_SIDE_LOCAL;
    if (o->variant) {
        rc = mdl_variant_load_spec(o->variant, &mo.variant, err);
        if (rc < 0)
            goto out;
        /* A variant whose largest payload does not fit the interface's MTU would be refused
         * by the kernel packet by packet ("Message too long"): refuse it before the start. */
        int mtu = 1500;
        if (o->iface && !o->dry_run) {
            rc = trx_iface_mtu(o->iface, &mtu, err);
            if (rc < 0)
                goto out;
        }
        rc = mdl_variant_mtu_check(m, mo.side, &mo.variant, mtu, err);
        if (rc < 0)
            goto out;
    }
    mo.streams = (unsigned)o->streams;
    mo.first_stream = o->first_stream;
    mo.total_streams = o->total_streams;
    mo.count = o->count;
    mo.duration_ns = (int64_t)(o->duration_s * 1e9);
    /* Neither --count nor --duration: the side's own duration, loops times, as generate
     * does (issue 11: replay used to run until Ctrl-C). */
    if (!o->have_duration && o->count == 0 && o->loops != 0)
        mo.duration_ns = (int64_t)llround(m->sides[mo.side].duration_s * 1e9 * o->loops);
    /* Without --seed, a random one: two replays of one model (two hosts, two runs) must not
     * send the same SSRCs and sequence numbers (issue 11). It is reported, to repeat a run. */
    if (o->have_seed) {
        mo.seed = o->seed;
    } else {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
            seed = (uint64_t)fm_time_mono_ns() ^ ((uint64_t)getpid() << 32);
        mo.seed = seed & ((1ULL << 53) - 1); /* a JSON number reads it back exactly */
    }
    r->seed = mo.seed;
    r->first_stream = mo.first_stream;
    r->streams = mo.streams;
    /* The peer plays the other side for as long: listen to the end of the longer one. */
    r->listen_ns = mo.duration_ns;
    if (!o->have_duration && o->count == 0 && o->loops != 0) {
        for (int s = 0; s < 2; s++) {
            int64_t d = (int64_t)llround(m->sides[s].duration_s * 1e9 * o->loops);
            if (d > r->listen_ns)
                r->listen_ns = d;
        }
    }
    mo.rate_scale = o->rate_scale;
    if (o->pps > 0 || o->mbps > 0) {
        rc = rate_for(&m->sides[mo.side], o, &mo.rate_scale, err);
        if (rc < 0)
            goto out;
    }
    r->rate_scale = mo.rate_scale;
    mo.ip_version = o->ip_version ? o->ip_version : 4;
    if (r->have_src_ip) {
        mo.have_src_ip = 1;
        memcpy(mo.src_ip, r->src_ip, 16);
    }
    if (o->have_peer) {
        mo.have_dst_ip = 1;
        memcpy(mo.dst_ip, o->peer_ip, 16);
    }
    mo.src_port = o->src_port > 0 ? (int)o->src_port : -1;
    mo.dst_port = o->dst_port > 0 ? (int)o->dst_port : -1;
    if (mo.src_port > 0)
        r->own_port = (uint16_t)mo.src_port;
    else if (mo.variant.src_port > 0)
        r->own_port = (uint16_t)mo.variant.src_port;
    else
        r->own_port = mo.side == MDL_SIDE_REMOTE ? m->remote.port : m->local.port;
    struct fm_err e2 = {0};
    rc = trx_source_model_new(m, &mo, &r->src, &e2);
    if (rc < 0)
        fm_err_set(err, rc, "model '%s': %s", path, e2.msg);
out:
    free(m);
    return rc;
}

/* A capture's source: its packets with their recorded timing, addressed to the peer. */
static int capture_source(struct trx_replay *r,
                          const struct trx_replay_opts *o,
                          const char *path,
                          struct fm_err *err)
{
    struct trx_capture_opts co;
    memset(&co, 0, sizeof(co));
    co.path = path;
    co.have_flow = o->have_flow;
    co.flow = o->flow;
    co.side = o->side == TRX_SIDE_DEFAULT ? TRX_SIDE_BOTH : o->side;
    co.speed = o->speed;
    co.loops = o->loops == 0 ? UINT_MAX : o->loops;
    co.pps = o->pps;
    co.mbps = o->mbps;
    co.ip_version = o->ip_version ? o->ip_version : 4;
    co.have_src = r->have_src_ip;
    memcpy(co.src_ip, r->src_ip, 16);
    co.have_dst = o->have_peer;
    memcpy(co.dst_ip, o->peer_ip, 16);
    return trx_source_capture_new(&co, &r->src, err);
}

int trx_replay_open_source(struct trx_replay *r,
                           const struct trx_replay_opts *o,
                           const char *path,
                           enum trx_replay_input kind,
                           struct fm_err *err)
{
    r->kind = kind;
    int rc =
        kind == TRX_REPLAY_MODEL ? model_source(r, o, path, err) : capture_source(r, o, path, err);
    if (rc < 0)
        return rc;
    trx_send_opts_init(&r->send);
    r->send.timer = o->timer;
    /* A SCHED_FIFO task preempts every normal one the moment its timer fires, so it needs a
     * far shorter spin; and a long spin at short gaps would never sleep, which the kernel's
     * real-time throttling punishes with 50 ms stalls. */
    if (o->spin_us >= 0)
        r->send.spin_ns = (int64_t)(o->spin_us * 1e3);
    else if (o->realtime)
        r->send.spin_ns = TRX_REPLAY_RT_SPIN_NS;
    r->send.count = o->count;
    r->send.duration_ns = o->have_duration ? (int64_t)(o->duration_s * 1e9) : 0;
    r->send.max_rate_pps = o->max_rate;
    r->lateness = malloc(sizeof(*r->lateness));
    if (!r->lateness)
        return fm_err_set(err, FM_ENOMEM, "lateness histogram");
    trx_lat_hist_init(r->lateness);
    r->send.lateness = r->lateness;
    return FM_OK;
}

int trx_replay_shard(
    struct trx_replay_opts *o, enum trx_replay_input kind, int rank, int size, struct fm_err *err)
{
    if (size <= 1)
        return FM_OK;
    if (kind == TRX_REPLAY_CAPTURE)
        return fm_err_set(err, FM_EINVAL,
                          "a capture cannot be shared among %d MPI ranks (each would send it "
                          "all): replay it from one process, or replay a model",
                          size);
    if (o->listen)
        return fm_err_set(err, FM_EINVAL,
                          "--listen under mpirun: the %d ranks would each "
                          "listen on one port; run one process to listen",
                          size);
    long s = o->streams;
    if (s < size)
        return fm_err_set(err, FM_EINVAL,
                          "--streams %ld among %d MPI ranks leaves a rank with none: give at "
                          "least %d streams, or fewer ranks",
                          s, size, size);
    long first = rank * s / size;
    long end = (rank + 1) * s / size;
    o->first_stream = (unsigned)first;
    o->total_streams = (unsigned)s;
    o->streams = end - first;
    if (o->count) {
        uint64_t c = o->count;
        /* c * r / n without overflow: (c / n) * r + (c % n) * r / n. */
        uint64_t n = (uint64_t)size;
        uint64_t lo = c / n * (uint64_t)rank + c % n * (uint64_t)rank / n;
        uint64_t hi = c / n * (uint64_t)(rank + 1) + c % n * (uint64_t)(rank + 1) / n;
        /* A rank whose share of --count is 0 would read as "no limit". */
        if (hi == lo)
            return fm_err_set(err, FM_EINVAL,
                              "--count %llu among %d MPI ranks leaves a rank with none: count "
                              "at least %d",
                              (unsigned long long)c, size, size);
        o->count = hi - lo;
    }
    return FM_OK;
}

int trx_replay_listen(struct trx_replay *r, const struct trx_replay_opts *o, struct fm_err *err)
{
    return o->listen ? trx_listener_start(&r->lis, r->own_port, err) : FM_OK;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Several ranks: the barrier, each rank's clock against rank 0's, then rank 0's start. The
 * broadcast carries an error flag, so that a --start-at rank 0 refuses stops every rank. */
static int par_start(struct trx_replay *r,
                     const struct trx_replay_opts *o,
                     const volatile sig_atomic_t *stop,
                     struct fm_err *err)
{
    /* {1: a time of rank 0's clock, 2: --start-at (every rank's own clock), -1: refused;
     * the time, UNIX ns} */
    int64_t msg[2] = {0, 0};
    int rc = fm_par_barrier(err);
    if (rc == FM_OK)
        rc = fm_par_clock_offset(real_ns, &r->clock_offset_ns, &r->clock_rtt_ns, err);
    if (rc < 0)
        return rc;
    if (fm_par_rank() == 0) {
        if (o->have_start) {
            rc = trx_start_target(o->start_relative, o->start_at, &msg[1], err);
            msg[0] = rc < 0 ? -1 : 2;
        } else {
            msg[0] = 1;
            msg[1] = real_ns() + TRX_REPLAY_PAR_MARGIN_NS;
        }
    }
    int brc = fm_par_bcast(msg, sizeof(msg), err);
    if (brc < 0)
        return brc;
    if (msg[0] < 0) {
        if (rc < 0) {
            char m[FM_ERR_LEN];
            snprintf(m, sizeof(m), "%s", err ? err->msg : "");
            return fm_err_set(err, rc, "--start-at %s", m);
        }
        return fm_err_set(err, FM_EINVAL, "rank 0 refused --start-at (its error is above)");
    }
    /* Rank 0's time on this rank's clock: not when the broadcast happened to arrive, which
     * a busy host delays by a scheduler's time slice. Sleep, then spin the last stretch, as
     * the send loop's hybrid timer does: a wake-up from sleep on a busy host comes late by
     * as much as the spin saves (ms measured here with 4 ranks on 2 cores). */
    int64_t t = msg[0] == 1 ? msg[1] - r->clock_offset_ns : msg[1];
    trx_start_wait(t - TRX_REPLAY_PAR_SPIN_NS, stop);
    while (!(stop && *stop) && real_ns() < t) {
    }
    return FM_OK;
}

int trx_replay_wait_start(struct trx_replay *r,
                          const struct trx_replay_opts *o,
                          const volatile sig_atomic_t *stop,
                          struct fm_err *err)
{
    r->agreed = 1;
    if (!fm_par_all_ok(1))
        return fm_err_set(err, FM_EINVAL,
                          "another MPI rank failed before the start (its error "
                          "is on its stderr)");
    if (fm_par_size() > 1)
        return par_start(r, o, stop, err);
    if (!o->have_start)
        return FM_OK;
    int64_t target = 0;
    int rc = trx_start_target(o->start_relative, o->start_at, &target, err);
    if (rc < 0) {
        /* The message names the option the user typed. */
        char msg[FM_ERR_LEN];
        snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
        return fm_err_set(err, rc, "--start-at %s", msg);
    }
    trx_start_wait(target, stop);
    return FM_OK;
}

int trx_replay_send(struct trx_replay *r,
                    struct trx_send_stats *st,
                    trx_status_fn status,
                    void *arg,
                    volatile sig_atomic_t *stop,
                    struct fm_err *err)
{
    struct trx_clock clk;
    trx_clock_real(&clk);
    /* The probe's wall-clock stamps follow the clocks as they are now, after any wait. */
    r->send.probe_clock_offset_ns = trx_realtime_offset_ns();
    int64_t t0 = fm_time_mono_ns();
    r->start_real_ns = t0 + r->send.probe_clock_offset_ns;
    int rc = trx_send_run(r->src, r->sink, &r->send, &clk, st, status, arg, stop, err);
    /* This side may have sent its last packet before the run's end while the peer still
     * sends: the listener stays up to the end, then the grace for packets in flight. */
    while (r->lis.r && rc == FM_OK && !(stop && *stop) && fm_time_mono_ns() - t0 < r->listen_ns) {
        struct timespec nap = {0, 20000000};
        nanosleep(&nap, NULL);
    }
    trx_listener_stop(&r->lis, rc != FM_EINTR);
    if (r->kind == TRX_REPLAY_CAPTURE)
        trx_source_capture_stats(r->src, &r->capture);
    return rc;
}

const char *trx_replay_state(int send_rc, const struct trx_send_stats *st)
{
    if (send_rc == FM_EINTR)
        return "interrupted";
    return send_rc < 0 || st->errors ? "failed" : "complete";
}

double trx_replay_late_pct(const struct trx_send_stats *st)
{
    return st->packets ? 100.0 * (double)st->late / (double)st->packets : 0.0;
}

/* This rank's record for rank 0. */
static void own_rank(const struct trx_replay *r,
                     const struct trx_send_stats *st,
                     int send_rc,
                     struct trx_replay_rank *k)
{
    memset(k, 0, sizeof(*k));
    k->rank = fm_par_rank();
    k->send_rc = send_rc;
    k->first_stream = r->first_stream;
    k->streams = r->streams;
    k->packets = st->packets;
    k->bytes = st->bytes;
    k->late = st->late;
    k->errors = st->errors;
    k->late_p50_ns = st->late_p50_ns;
    k->late_p99_ns = st->late_p99_ns;
    k->late_max_ns = st->late_max_ns;
    k->elapsed_ns = st->elapsed_ns;
    k->start_real_ns = r->start_real_ns + r->clock_offset_ns; /* on rank 0's clock */
    k->clock_offset_ns = r->clock_offset_ns;
    k->clock_rtt_ns = r->clock_rtt_ns;
    snprintf(k->first_error, sizeof(k->first_error), "%.127s", st->first_error);
    if (gethostname(k->host, sizeof(k->host) - 1) != 0)
        snprintf(k->host, sizeof(k->host), "?");
}

/* Rank 0: the whole run from the ranks' records and the merged histogram. */
static void merged(const struct trx_replay_rank *k,
                   int n,
                   const struct trx_lat_hist *h,
                   struct trx_send_stats *st,
                   int *send_rc,
                   int64_t *spread_ns)
{
    int64_t t0 = INT64_MAX, t1 = INT64_MIN, s1 = INT64_MIN;
    int rc = FM_OK;
    uint64_t errors = 0;
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < n; i++) {
        st->packets += k[i].packets;
        st->bytes += k[i].bytes;
        st->late += k[i].late;
        errors += k[i].errors;
        t0 = k[i].start_real_ns < t0 ? k[i].start_real_ns : t0;
        s1 = k[i].start_real_ns > s1 ? k[i].start_real_ns : s1;
        int64_t end = k[i].start_real_ns + k[i].elapsed_ns;
        t1 = end > t1 ? end : t1;
        if (k[i].send_rc == FM_EINTR || (rc == FM_OK && k[i].send_rc < 0))
            rc = k[i].send_rc;
    }
    st->errors = errors;
    st->elapsed_ns = t1 > t0 ? t1 - t0 : 0;
    st->late_p50_ns = trx_lat_hist_quantile(h, 0.50);
    st->late_p99_ns = trx_lat_hist_quantile(h, 0.99);
    st->late_max_ns = h->n ? h->max_ns : 0;
    st->late_max_recent_ns = st->late_max_ns;
    if (st->elapsed_ns > 0) {
        double secs = (double)st->elapsed_ns / 1e9;
        st->mean_pps = (double)st->packets / secs;
        st->mean_mbps = (double)st->bytes * 8.0 / secs / 1e6;
    }
    /* The first failed send's reason, from the lowest rank that had one. */
    for (int i = 0; i < n; i++) {
        if (k[i].errors) {
            snprintf(st->first_error, sizeof(st->first_error), "rank %d: %s", k[i].rank,
                     k[i].first_error);
            break;
        }
    }
    *send_rc = rc;
    *spread_ns = s1 - t0;
}

int trx_replay_merge(const struct trx_replay *r,
                     struct trx_send_stats *st,
                     int *send_rc,
                     struct trx_replay_ranks *out,
                     struct fm_err *err)
{
    memset(out, 0, sizeof(*out));
    out->size = fm_par_size();
    if (out->size <= 1)
        return FM_OK;
    /* Every rank makes every call below, whatever failed before, so none waits alone. */
    struct trx_replay_rank mine;
    struct trx_lat_hist *h = malloc(sizeof(*h));
    int root = fm_par_rank() == 0;
    if (root)
        out->rank = calloc((size_t)out->size, sizeof(*out->rank));
    int ok = fm_par_all_ok(h && (!root || out->rank));
    if (!ok || !h) {
        free(h);
        trx_replay_ranks_free(out);
        return fm_err_set(err, FM_ENOMEM, "merging the MPI ranks' summaries: out of memory");
    }
    own_rank(r, st, *send_rc, &mine);
    /* Flags any rank may raise: cut short, and how far behind it was. */
    int64_t flags[2] = {st->cut_short, st->behind_ns};
    *h = *r->lateness;
    int64_t mx = h->max_ns;
    int rc = fm_par_gather(&mine, sizeof(mine), out->rank, err);
    if (rc == FM_OK)
        rc = fm_par_sum_u64(h->bucket, (size_t)TRX_HIST_BUCKETS, err);
    if (rc == FM_OK)
        rc = fm_par_sum_u64(&h->n, 1, err);
    if (rc == FM_OK)
        rc = fm_par_max_i64(&mx, 1, err);
    if (rc == FM_OK)
        rc = fm_par_max_i64(flags, 2, err);
    int64_t shared[2] = {0, 0};
    struct trx_send_stats all;
    if (rc == FM_OK && root) {
        h->max_ns = mx;
        merged(out->rank, out->size, h, &all, send_rc, &out->start_spread_ns);
        all.cut_short = (int)flags[0];
        all.behind_ns = flags[1];
        shared[0] = *send_rc;
        shared[1] = out->start_spread_ns;
    }
    if (rc == FM_OK)
        rc = fm_par_bcast(root ? &all : st, sizeof(*st), err);
    if (rc == FM_OK)
        rc = fm_par_bcast(shared, sizeof(shared), err);
    free(h);
    if (rc < 0)
        return rc;
    if (root)
        *st = all;
    *send_rc = (int)shared[0];
    out->start_spread_ns = shared[1];
    return FM_OK;
}

void trx_replay_ranks_free(struct trx_replay_ranks *k)
{
    free(k->rank);
    memset(k, 0, sizeof(*k));
}

void trx_replay_close(struct trx_replay *r)
{
    if (!r->agreed)
        (void)fm_par_all_ok(0); /* the other ranks wait for this one's word on the start */
    free(r->lateness);
    trx_listener_stop(&r->lis, 0);
    trx_receiver_free(r->lis.r);
    trx_source_free(r->src);
    trx_sink_discard(r->sink); /* libnet: nothing to commit */
    memset(r, 0, sizeof(*r));
}
