/* tests/unit/test_transceiver_replay.c - `replay` as calls: the defaults, telling a capture
 * from a model, the dry run's sink, a model's source with its ports and the send loop's
 * options, the common start's checks, and a short run into a memory sink. */
#include "models/json.h"
#include "packet/hdr.h"
#include "packet/pcap_out.h"
#include "tests/support/test_util.h"
#include "transceiver/replay.h"

#include <limits.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A temporary file holding len bytes of data; the caller unlinks it. */
static void write_temp(char *path, size_t size, const void *data, size_t len)
{
    snprintf(path, size, "/tmp/fm_test_replay_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* A model whose local side sends 1000-byte packets 1 ms apart, saved into path. */
static void save_model(char *path, size_t size)
{
    struct mdl_model m;
    memset(&m, 0, sizeof(m));
    m.version = MDL_VERSION;
    snprintf(m.proto, sizeof(m.proto), "udp");
    snprintf(m.local.ip, sizeof(m.local.ip), "198.18.0.1");
    m.local.port = 5004;
    snprintf(m.remote.ip, sizeof(m.remote.ip), "198.18.0.2");
    m.remote.port = 6000;
    struct mdl_side *s = &m.sides[MDL_SIDE_LOCAL];
    s->present = 1;
    s->packets = 1000;
    s->duration_s = 1;
    s->has_payload = 1;
    s->payload.scale = MDL_SCALE_LINEAR;
    s->payload.min = 1000;
    s->payload.max = 1000;
    s->payload.resolution = 1;
    s->payload.n_atoms = 1;
    s->payload.atoms[0] = (struct mdl_atom){1000, 1.0};
    s->has_iat = 1;
    s->iat.scale = MDL_SCALE_LOG;
    s->iat.min = 0.001;
    s->iat.max = 0.001;
    s->iat.n_atoms = 1;
    s->iat.atoms[0] = (struct mdl_atom){0.001, 1.0};
    s->headers = (struct mdl_headers){64, 0, 1, 96, 0.5};
    m.sides[MDL_SIDE_REMOTE].present = 0;
    write_temp(path, size, "", 0);
    struct fm_err err = {0};
    if (mdl_json_save(&m, path, &err) != FM_OK)
        fail_msg("mdl_json_save: %s", err.msg);
}

/* trx_replay_open_source(), failing the test with the message. */
static void open_source(struct trx_replay *r, const struct trx_replay_opts *o, const char *path)
{
    struct fm_err err = {0};
    if (trx_replay_open_source(r, o, path, TRX_REPLAY_MODEL, &err) != FM_OK)
        fail_msg("trx_replay_open_source: %s", err.msg);
}

static void test_defaults(void **state)
{
    (void)state;
    struct trx_replay_opts o;
    trx_replay_opts_init(&o);
    assert_int_equal(o.side, TRX_SIDE_DEFAULT);
    assert_int_equal(o.streams, 1);
    assert_double_near(o.speed, 1.0, 0);
    assert_double_near(o.rate_scale, 1.0, 0);
    assert_int_equal(o.timer, TRX_TIMER_HYBRID);
    assert_true(o.spin_us < 0);
    assert_int_equal(o.src_port, -1);
    assert_int_equal(o.dst_port, -1);
    assert_null(o.iface);
}

static void test_input_kind(void **state)
{
    (void)state;
    static const uint8_t pcap[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
    char cap[64], json[64], text[64];
    write_temp(cap, sizeof(cap), pcap, sizeof(pcap));
    write_temp(json, sizeof(json), "{\"format\": 1}", 13);
    write_temp(text, sizeof(text), "hello, world\n", 13);
    enum trx_replay_input k = TRX_REPLAY_MODEL;
    struct fm_err err = {0};
    assert_int_equal(trx_replay_input_kind(cap, &k, &err), FM_OK);
    assert_int_equal(k, TRX_REPLAY_CAPTURE);
    assert_int_equal(trx_replay_input_kind(json, &k, &err), FM_OK);
    assert_int_equal(k, TRX_REPLAY_MODEL);
    assert_int_equal(trx_replay_input_kind(text, &k, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "is neither a capture (pcap, pcapng) nor a model (JSON)"));
    assert_true(trx_replay_input_kind("/nonexistent/x.pcap", &k, &err) < 0);
    unlink(cap);
    unlink(json);
    unlink(text);
}

static void test_dry_run_sink(void **state)
{
    (void)state;
    struct trx_replay_opts o;
    trx_replay_opts_init(&o);
    o.dry_run = 1;
    struct trx_replay r;
    memset(&r, 0, sizeof(r));
    struct fm_err err = {0};
    /* Without an interface and a peer: nothing is opened, the recorded addresses stay. */
    assert_int_equal(trx_replay_open_sink(&r, &o, &err), FM_OK);
    assert_null(r.sink);
    assert_false(r.have_src_ip);
    /* With them, the interface must exist; nothing is opened either way. */
    o.iface = "fmnosuch0";
    o.have_peer = 1;
    o.ip_version = 4;
    assert_int_equal(trx_replay_open_sink(&r, &o, &err), FM_ENOTFOUND);
    assert_string_equal(err.msg, "no interface 'fmnosuch0' (see `ip link`)");
    assert_null(r.sink);
    trx_replay_close(&r);
}

/* A saved model and a dry run's options over it, for the tests that open its source. */
struct fixture {
    char path[64];
    struct trx_replay_opts o;
    struct trx_replay r;
};

static int setup_model(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    save_model(f->path, sizeof(f->path));
    trx_replay_opts_init(&f->o);
    f->o.dry_run = 1;
    *state = f;
    return 0;
}

static int teardown_model(void **state)
{
    struct fixture *f = *state;
    trx_replay_close(&f->r);
    unlink(f->path);
    free(f);
    return 0;
}

static void test_model_source(void **state)
{
    struct fixture *f = *state;
    struct fm_err err = {0};
    f->o.count = 3;
    f->o.spin_us = 50;
    open_source(&f->r, &f->o, f->path);
    assert_int_equal(f->r.kind, TRX_REPLAY_MODEL);
    assert_int_equal(f->r.own_port, 5004); /* the local side's port */
    assert_int_equal(f->r.send.count, 3);
    assert_int_equal(f->r.send.spin_ns, 50000);
    trx_replay_close(&f->r);

    /* --src-port moves this side's port; --realtime shortens the spin. */
    f->o.spin_us = -1;
    f->o.realtime = 1;
    f->o.src_port = 7000;
    open_source(&f->r, &f->o, f->path);
    assert_int_equal(f->r.own_port, 7000);
    assert_int_equal(f->r.send.spin_ns, TRX_REPLAY_RT_SPIN_NS);
    trx_replay_close(&f->r);

    /* The side with no model: the message names the file. */
    f->o.side = MDL_SIDE_REMOTE;
    assert_true(trx_replay_open_source(&f->r, &f->o, f->path, TRX_REPLAY_MODEL, &err) < 0);
    assert_non_null(strstr(err.msg, f->path));
}

/* Refused before the start (issue 11): a variant whose largest payload does not fit the
 * MTU (1500 for a dry run: the model's 1000 bytes + 500 is 1500, over 1472), and a TCP
 * flow's model, which replay would have sent as UDP. */
static void test_model_refusals(void **state)
{
    struct fixture *f = *state;
    struct fm_err err = {0};
    char vpath[64];
    static const char big[] = "{\"format\": \"flowmimic.variants\", \"version\": 1, \"variants\": "
                              "[{\"name\": \"big\", \"changes\": {\"payload_shift\": 500}}]}";
    write_temp(vpath, sizeof(vpath), big, sizeof(big) - 1);
    f->o.dry_run = 1;
    f->o.variant = vpath;
    assert_int_equal(trx_replay_open_source(&f->r, &f->o, f->path, TRX_REPLAY_MODEL, &err),
                     FM_EINVAL);
    assert_non_null(strstr(err.msg, "variant 'big'"));
    assert_non_null(strstr(err.msg, "1500 bytes, more than the 1472 that fit a 1500-byte MTU"));
    assert_null(f->r.src);
    unlink(vpath);
    f->o.variant = NULL;

    struct mdl_model m;
    assert_int_equal(mdl_json_load(f->path, &m, &err), FM_OK);
    snprintf(m.proto, sizeof(m.proto), "tcp");
    assert_int_equal(mdl_json_save(&m, f->path, &err), FM_OK);
    assert_int_equal(trx_replay_open_source(&f->r, &f->o, f->path, TRX_REPLAY_MODEL, &err),
                     FM_EINVAL);
    assert_non_null(strstr(err.msg, "is of a tcp flow: replay sends UDP only"));
    assert_null(f->r.src);
}

static void test_wait_start(void **state)
{
    (void)state;
    struct trx_replay_opts o;
    struct trx_replay r;
    memset(&r, 0, sizeof(r));
    trx_replay_opts_init(&o);
    struct fm_err err = {0};
    assert_int_equal(trx_replay_wait_start(&r, &o, NULL, &err), FM_OK);
    assert_int_equal(r.agreed, 1); /* one rank: the check passes at once */
    o.have_start = 1;
    o.start_relative = 1;
    o.start_at = 0;
    assert_int_equal(trx_replay_wait_start(&r, &o, NULL, &err), FM_OK);
    o.start_relative = 0;
    o.start_at = 1e9; /* 2001: past */
    assert_int_equal(trx_replay_wait_start(&r, &o, NULL, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "--start-at is "));
    assert_non_null(strstr(err.msg, "s in the past"));
}

/* Packets a source gives before its end (at most max), and the last one's offset. */
static unsigned drain(struct trx_source *src, unsigned max, int64_t *last)
{
    struct trx_pkt p;
    const uint8_t *orig = NULL;
    struct fm_err err = {0};
    unsigned n = 0;
    *last = -1;
    while (n < max && trx_source_next(src, &p, &orig, &err) == 1) {
        *last = p.offset_ns;
        n++;
    }
    return n;
}

/* Without --count or --duration a model plays its side's own duration (1 s of 1 ms gaps
 * here), --loop times, as generate does; --duration 0 and --loop 0 do not end (issue 11). */
static void test_model_default_duration(void **state)
{
    struct fixture *f = *state;
    int64_t last = 0;
    open_source(&f->r, &f->o, f->path);
    unsigned n = drain(f->r.src, 100000, &last);
    assert_in_range(n, 990, 1001);
    assert_true(last < 1000000000);
    trx_replay_close(&f->r);
    f->o.loops = 3;
    open_source(&f->r, &f->o, f->path);
    n = drain(f->r.src, 100000, &last);
    assert_in_range(n, 2990, 3001);
    assert_true(last >= 2900000000 && last < 3000000000);
    trx_replay_close(&f->r);
    f->o.loops = 0;
    open_source(&f->r, &f->o, f->path);
    assert_int_equal(drain(f->r.src, 5000, &last), 5000);
    trx_replay_close(&f->r);
    /* --pps on a model: the rate scale that brings 999 packets/s (1000 over 1 s) to 1998
     * with one stream, and to 999 per stream with two (the total is what is asked). */
    f->o.loops = 1;
    f->o.pps = 1998;
    open_source(&f->r, &f->o, f->path);
    n = drain(f->r.src, 100000, &last);
    assert_in_range(n, 1990, 2001);
    trx_replay_close(&f->r);
    f->o.pps = 0;
    f->o.mbps = 0.016; /* 1000-byte packets: 2 per second */
    open_source(&f->r, &f->o, f->path);
    n = drain(f->r.src, 100000, &last);
    assert_in_range(n, 1, 3);
    trx_replay_close(&f->r);
    f->o.mbps = 0;
    f->o.have_duration = 1; /* --duration 0 */
    open_source(&f->r, &f->o, f->path);
    assert_int_equal(drain(f->r.src, 5000, &last), 5000);
    trx_replay_close(&f->r);
}

/* One packet as the shares are compared: stream, deadline, port, SSRC, sequence, length. */
struct pkt_key {
    uint32_t stream;
    int64_t offset_ns;
    uint16_t sport;
    uint32_t ssrc;
    uint16_t seq;
    uint32_t len;
};

static int key_cmp(const void *a, const void *b)
{
    const struct pkt_key *x = a, *y = b;
    if (x->stream != y->stream)
        return x->stream < y->stream ? -1 : 1;
    if (x->offset_ns != y->offset_ns)
        return x->offset_ns < y->offset_ns ? -1 : 1;
    return 0;
}

/* Every packet of o's source (a model played for 200 ms), appended to keys at *n. */
static void collect(
    struct fixture *f, const struct trx_replay_opts *o, struct pkt_key *keys, size_t cap, size_t *n)
{
    struct trx_pkt p;
    const uint8_t *orig = NULL;
    struct fm_err err = {0};
    open_source(&f->r, o, f->path);
    while (trx_source_next(f->r.src, &p, &orig, &err) == 1) {
        assert_true(*n < cap);
        keys[(*n)++] = (struct pkt_key){p.stream,   p.offset_ns, p.addr.sport,
                                        p.rtp_ssrc, p.rtp_seq,   p.payload_len};
    }
    trx_replay_close(&f->r);
}

/* mpirun's ranks: rank r of N plays streams [r*S/N, (r+1)*S/N) with the whole set's numbers,
 * ports, SSRCs and stagger, so that the shares together are what one process plays, packet
 * for packet; fewer streams than ranks, a capture, --listen are refused; --count is shared. */
static void test_shard(void **state)
{
    struct fixture *f = *state;
    struct fm_err err = {0};
    enum { S = 7, N = 3, CAP = 4096 };
    struct pkt_key *one = calloc(CAP, sizeof(*one));
    struct pkt_key *all = calloc(CAP, sizeof(*all));
    assert_non_null(one);
    assert_non_null(all);
    f->o.streams = S;
    f->o.seed = 11;
    f->o.have_seed = 1;
    f->o.have_duration = 1;
    f->o.duration_s = 0.2;
    size_t n1 = 0, n = 0;
    collect(f, &f->o, one, CAP, &n1);
    unsigned got[N];
    for (int r = 0; r < N; r++) {
        struct trx_replay_opts o = f->o;
        assert_int_equal(trx_replay_shard(&o, TRX_REPLAY_MODEL, r, N, &err), FM_OK);
        assert_int_equal(o.first_stream, (unsigned)(r * S / N));
        assert_int_equal(o.total_streams, S);
        got[r] = (unsigned)o.streams;
        collect(f, &o, all, CAP, &n);
    }
    assert_int_equal(got[0] + got[1] + got[2], S);
    assert_true(n1 > 100);
    assert_int_equal(n, n1);
    qsort(one, n1, sizeof(*one), key_cmp);
    qsort(all, n, sizeof(*all), key_cmp);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(all[i].stream, one[i].stream);
        assert_true(all[i].offset_ns == one[i].offset_ns);
        assert_int_equal(all[i].sport, one[i].sport);
        assert_int_equal(all[i].ssrc, one[i].ssrc);
        assert_int_equal(all[i].seq, one[i].seq);
        assert_int_equal(all[i].len, one[i].len);
    }
    free(one);
    free(all);

    /* --count 10 among 3: 3, 3 and 4, 10 in all. */
    struct trx_replay_opts o = f->o;
    o.count = 10;
    uint64_t sum = 0;
    for (int r = 0; r < N; r++) {
        struct trx_replay_opts c = o;
        assert_int_equal(trx_replay_shard(&c, TRX_REPLAY_MODEL, r, N, &err), FM_OK);
        sum += c.count;
    }
    assert_int_equal(sum, 10);
    o.count = 2;
    assert_int_equal(trx_replay_shard(&o, TRX_REPLAY_MODEL, 0, N, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "--count 2 among 3 MPI ranks"));
    o = f->o;
    o.streams = 2;
    assert_int_equal(trx_replay_shard(&o, TRX_REPLAY_MODEL, 0, N, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "--streams 2 among 3 MPI ranks"));
    assert_int_equal(o.streams, 2); /* unchanged */
    o = f->o;
    assert_int_equal(trx_replay_shard(&o, TRX_REPLAY_CAPTURE, 0, N, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "a capture cannot be shared"));
    o.listen = 1;
    assert_int_equal(trx_replay_shard(&o, TRX_REPLAY_MODEL, 0, N, &err), FM_EINVAL);
    /* More streams than one process plays (4096), shared: 6000 over 2 ranks, rank 1 plays
     * streams 3000..5999 from source ports 3000 above stream 0's; one process is refused. */
    o = f->o;
    o.streams = 6000;
    o.src_port = 20000;
    o.duration_s = 0.001;
    struct trx_replay r6;
    memset(&r6, 0, sizeof(r6));
    assert_int_equal(trx_replay_open_source(&r6, &o, f->path, TRX_REPLAY_MODEL, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "in one process"));
    trx_replay_close(&r6);
    assert_int_equal(trx_replay_shard(&o, TRX_REPLAY_MODEL, 1, 2, &err), FM_OK);
    assert_int_equal(o.first_stream, 3000);
    assert_int_equal(o.streams, 3000);
    memset(&r6, 0, sizeof(r6));
    open_source(&r6, &o, f->path);
    struct trx_pkt p6;
    const uint8_t *orig6 = NULL;
    uint16_t lo = UINT16_MAX, hi = 0;
    while (trx_source_next(r6.src, &p6, &orig6, &err) == 1) {
        lo = p6.addr.sport < lo ? p6.addr.sport : lo;
        hi = p6.addr.sport > hi ? p6.addr.sport : hi;
    }
    trx_replay_close(&r6);
    assert_true(lo >= 23000 && hi <= 25999 && hi > lo);
    /* One rank: nothing changes. */
    o = f->o;
    assert_int_equal(trx_replay_shard(&o, TRX_REPLAY_MODEL, 0, 1, &err), FM_OK);
    assert_int_equal(o.streams, S);
    assert_int_equal(o.total_streams, 0);
}

/* A capture of three UDP packets 10 ms apart, at path. */
static void write_capture(char *path, size_t size)
{
    static const uint8_t a[4] = {198, 18, 0, 1}, b[4] = {198, 18, 0, 2};
    uint8_t frame[14 + 20 + 8 + 20];
    memset(frame, 0, sizeof(frame));
    frame[12] = 0x08; /* EtherType IPv4 */
    struct pkt_ip_fields ip = {4, a, b, 17, 0, 64, 1};
    uint32_t pseudo = 0;
    assert_int_equal(pkt_ip_write(&ip, 8 + 20, frame + 14, &pseudo), 20);
    pkt_udp_write(frame + 34, 5004, 6000, 28, frame + 42, 20, pseudo, 1);
    write_temp(path, size, "", 0);
    struct pkt_pcap_out out;
    struct fm_err err = {0};
    memset(&out, 0, sizeof(out));
    assert_int_equal(pkt_pcap_out_open(&out, path, 1, 65535, &err), FM_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pkt_pcap_out_write(&out, 1700000000000000000 + i * 10000000LL, frame,
                                            sizeof(frame), sizeof(frame), &err),
                         FM_OK);
    assert_int_equal(pkt_pcap_out_commit(&out, &err), FM_OK);
}

/* --loop N plays a capture N times, each pass one mean gap after the last; --loop 0 plays it
 * until stopped; a pipe cannot be played twice (issue 11, as tcpreplay --loop). */
static void test_capture_loops(void **state)
{
    (void)state;
    char cap[64];
    write_capture(cap, sizeof(cap));
    struct trx_replay_opts o;
    struct trx_replay r;
    struct fm_err err = {0};
    trx_replay_opts_init(&o);
    o.loops = 2;
    memset(&r, 0, sizeof(r));
    assert_int_equal(trx_replay_open_source(&r, &o, cap, TRX_REPLAY_CAPTURE, &err), FM_OK);
    struct trx_pkt p;
    const uint8_t *orig = NULL;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(trx_source_next(r.src, &p, &orig, &err), 1);
        assert_true(p.offset_ns == i * 10000000LL);
    }
    assert_int_equal(trx_source_next(r.src, &p, &orig, &err), 0);
    trx_replay_close(&r);
    int64_t last = 0;
    o.loops = 0;
    assert_int_equal(trx_replay_open_source(&r, &o, cap, TRX_REPLAY_CAPTURE, &err), FM_OK);
    assert_int_equal(drain(r.src, 300, &last), 300);
    assert_true(last == 299 * 10000000LL);
    trx_replay_close(&r);
    /* --pps and --mbps: a constant rate instead of the recorded one (tcpreplay's). */
    o.loops = 1;
    o.pps = 50;
    assert_int_equal(trx_replay_open_source(&r, &o, cap, TRX_REPLAY_CAPTURE, &err), FM_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trx_source_next(r.src, &p, &orig, &err), 1);
        assert_true(p.offset_ns == i * 20000000LL);
    }
    trx_replay_close(&r);
    o.pps = 0;
    o.mbps = 0.008; /* 20 bytes of payload = 160 bits: one packet every 20 ms */
    assert_int_equal(trx_replay_open_source(&r, &o, cap, TRX_REPLAY_CAPTURE, &err), FM_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trx_source_next(r.src, &p, &orig, &err), 1);
        assert_true(p.offset_ns == i * 20000000LL);
    }
    trx_replay_close(&r);
    o.mbps = 0;
    o.loops = 2;
    assert_int_equal(trx_replay_open_source(&r, &o, "-", TRX_REPLAY_CAPTURE, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "cannot be read twice"));
    unlink(cap);
}

static void test_send_to_memory(void **state)
{
    struct fixture *f = *state;
    struct fm_err err = {0};
    f->o.count = 5;
    open_source(&f->r, &f->o, f->path);
    assert_int_equal(trx_sink_mem_new(16, &f->r.sink, &err), FM_OK);
    assert_int_equal(trx_replay_listen(&f->r, &f->o, &err), FM_OK); /* no --listen: nothing */
    assert_null(f->r.lis.r);
    struct trx_send_stats st;
    volatile sig_atomic_t stop = 0;
    int rc = trx_replay_send(&f->r, &st, NULL, NULL, &stop, &err);
    assert_int_equal(rc, FM_OK);
    assert_int_equal(st.packets, 5);
    assert_string_equal(trx_replay_state(rc, &st), "complete");
    assert_string_equal(trx_replay_state(FM_EINTR, &st), "interrupted");
    assert_string_equal(trx_replay_state(FM_ENET, &st), "failed");
    /* Sends the kernel refused fail the run, though the loop went to its end (issue 11). */
    st.errors = 1;
    assert_string_equal(trx_replay_state(FM_OK, &st), "failed");
    st.errors = 0;
    st.late = 1;
    assert_double_near(trx_replay_late_pct(&st), 20.0, 1e-9);
    st.packets = 0;
    assert_double_near(trx_replay_late_pct(&st), 0.0, 0);
    trx_replay_close(&f->r);
    assert_null(f->r.src);
    assert_null(f->r.sink);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_input_kind),
        cmocka_unit_test(test_dry_run_sink),
        cmocka_unit_test_setup_teardown(test_model_source, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_model_refusals, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_model_default_duration, setup_model, teardown_model),
        cmocka_unit_test(test_capture_loops),
        cmocka_unit_test(test_wait_start),
        cmocka_unit_test_setup_teardown(test_shard, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_send_to_memory, setup_model, teardown_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
