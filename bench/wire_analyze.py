#!/usr/bin/python3
"""bench/wire_analyze.py - what arrived on the veth, against what was meant to be sent.

Usage: wire_analyze.py timing SCHEDULE.pcap RECEIVED.pcap [--port 5006] [--tag K=V ...]
       wire_analyze.py rate TOOL OUTPUT --rx N [--tag K=V ...]
       wire_analyze.py rewrite CAPTURE OUT.pcap --flow SRC:SPORT>DST:DPORT --dst-mac MAC
                          --src-mac MAC
       wire_analyze.py ks REFERENCE.pcap RECEIVED.pcap --ref-flow SRC:SPORT>DST:DPORT
                          [--port 5006] [--tag K=V ...]

timing: SCHEDULE is a gen_schedule capture (payload = RTP header + 32-bit packet index at
byte 12); RECEIVED is tcpdump's nanosecond capture in the receiving namespace. Every arrival
to UDP port PORT is matched to its slot by the index. The error of packet i is
(arrival_i - arrival_first) - (schedule_i - schedule_first), "first" being the first packet
that arrived: the schedule aligned on the first packet. It is also reported centred (its mean
removed), which takes out a constant offset such as the first packet's own lateness. Drift is
the least-squares slope of the error against schedule time, in microseconds per second.

ks: payload lengths and inter-arrival gaps of the REFERENCE flow (one direction, given as
SRC:SPORT>DST:DPORT) against those of every UDP packet to PORT (0: any) in RECEIVED: two-sample KS
(scipy.stats.ks_2samp) and Wasserstein-1, with the packet counts and durations.

rate: the packets sent, seconds and packets per second from a sender's OUTPUT (the JSON of
af_packet_loop or `flowmimic replay --json`, or tcpreplay's text: "Actual: N packets ... sent
in S seconds" and "Rated: ... pps"), with N the packets counted on the receiving veth, as
"wire_pps" = N / seconds.

rewrite: the packets of one flow direction of CAPTURE as new Ethernet/IPv4/UDP frames
198.18.0.1:5004 -> 198.18.0.2:5006 with the given MACs, the same UDP payloads (zero-padded
where the snap length cut them) and the same timestamps, into a nanosecond pcap: the flow
ready for tcpreplay between the benchmark namespaces, without the capture's own addresses.

Prints one JSON line with the --tag pairs merged in (rewrite: the packet count). Reads pcap (micro- or nanosecond,
either byte order) of Ethernet frames, Linux cooked (SLL) or raw IP, with 802.1Q tags;
numpy and scipy from Debian's /usr/bin/python3.
"""
import argparse
import json
import re
import struct
import sys

import numpy as np
from scipy import stats

MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000),   # microseconds, little-endian
    b"\xa1\xb2\xc3\xd4": (">", 1000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),      # nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_IPV4 = 1, 101, 113, 228


def read_pcap(path):
    """Yield (timestamp ns, frame bytes, linktype) for every record of a pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in MAGICS:
        raise SystemExit(f"wire_analyze: {path}: not a pcap file (pcapng is not read here)")
    end, mult = MAGICS[data[:4]]
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    hdr = struct.Struct(end + "IIII")
    while off + 16 <= len(data):
        sec, frac, caplen, _ = hdr.unpack_from(data, off)
        off += 16
        if off + caplen > len(data):
            break  # a capture cut short: drop the partial record
        yield sec * 1_000_000_000 + frac * mult, data[off:off + caplen], linktype
        off += caplen


def udp_of(frame, linktype):
    """(src ip, sport, dst ip, dport, payload) of an IPv4/UDP packet, or None."""
    if linktype == DLT_EN10MB:
        off = 12
        while off + 2 <= len(frame) and frame[off:off + 2] in (b"\x81\x00", b"\x88\xa8"):
            off += 4
        if frame[off:off + 2] != b"\x08\x00":
            return None
        off += 2
    elif linktype == DLT_LINUX_SLL:
        if frame[14:16] != b"\x08\x00":
            return None
        off = 16
    elif linktype in (DLT_RAW, DLT_IPV4):
        off = 0
    else:
        return None
    if len(frame) < off + 28 or frame[off] >> 4 != 4 or frame[off + 9] != 17:
        return None
    if struct.unpack(">H", frame[off + 6:off + 8])[0] & 0x1FFF:
        return None  # a non-first fragment has no UDP header
    ihl = (frame[off] & 0x0F) * 4
    src = ".".join(str(b) for b in frame[off + 12:off + 16])
    dst = ".".join(str(b) for b in frame[off + 16:off + 20])
    u = off + ihl
    if len(frame) < u + 8:
        return None
    sport, dport, ulen = struct.unpack(">HHH", frame[u:u + 6])
    # The payload length comes from the UDP header: a snap length may have cut the bytes.
    return src, sport, dst, dport, max(ulen - 8, 0), frame[u + 8:]


def indexed(path, port):
    """{packet index: timestamp ns} of the UDP packets to port carrying a gen_schedule index."""
    out = {}
    for ts, frame, lt in read_pcap(path):
        u = udp_of(frame, lt)
        if u is None or u[3] != port or len(u[5]) < 16:
            continue
        idx = struct.unpack(">I", u[5][12:16])[0]
        out.setdefault(idx, ts)  # a duplicate keeps the first arrival
    return out


def cmd_timing(a):
    sched = indexed(a.schedule, a.port)
    recv = indexed(a.received, a.port)
    common = sorted(i for i in recv if i in sched)
    res = {"scheduled": len(sched), "received": len(recv), "matched": len(common)}
    if len(common) < 2:
        res["error"] = "fewer than 2 packets arrived"
        return res
    s = np.array([sched[i] for i in common], dtype=np.int64)
    r = np.array([recv[i] for i in common], dtype=np.int64)
    s_rel = (s - s[0]).astype(np.float64)
    err_us = ((r - r[0]) - (s - s[0])).astype(np.float64) / 1e3
    cen_us = err_us - err_us.mean()
    slope = np.polyfit(s_rel / 1e9, err_us, 1)[0]
    late_end = err_us[-1]
    a_err, a_cen = np.abs(err_us), np.abs(cen_us)
    # Reordering: arrivals whose index is below one that arrived earlier.
    order = np.array([i for _, i in sorted((recv[i], i) for i in common)])
    reordered = int((order[1:] < np.maximum.accumulate(order)[:-1]).sum())
    res.update({
        "first_index": common[0],
        "span_s": float(s_rel[-1] / 1e9),
        "median_us": float(np.median(a_err)),
        "p99_us": float(np.percentile(a_err, 99)),
        "max_us": float(a_err.max()),
        "mean_offset_us": float(err_us.mean()),
        "centred_median_us": float(np.median(a_cen)),
        "centred_p99_us": float(np.percentile(a_cen, 99)),
        "centred_max_us": float(a_cen.max()),
        "drift_us_per_s": float(slope),
        "end_error_us": float(late_end),
        "reordered": reordered,
    })
    return res


def parse_flow(spec):
    try:
        left, right = spec.split(">")
        sip, sport = left.rsplit(":", 1)
        dip, dport = right.rsplit(":", 1)
        return sip, int(sport), dip, int(dport)
    except ValueError:
        raise SystemExit(f"wire_analyze: --ref-flow '{spec}' is not SRC:PORT>DST:PORT")


def sizes_gaps(path, keep):
    ts, sizes = [], []
    for t, frame, lt in read_pcap(path):
        u = udp_of(frame, lt)
        if u is not None and keep(u):
            ts.append(t)
            sizes.append(u[4])
    t = np.array(ts, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    t = t[order]
    return np.array(sizes, dtype=np.float64)[order], np.diff(t).astype(np.float64) / 1e9


def cmd_ks(a):
    sip, sport, dip, dport = parse_flow(a.ref_flow)
    rs, rg = sizes_gaps(a.reference, lambda u: u[:4] == (sip, sport, dip, dport))
    ws, wg = sizes_gaps(a.received, lambda u: a.port == 0 or u[3] == a.port)
    res = {"ref_packets": int(rs.size), "wire_packets": int(ws.size),
           "ref_duration_s": float(rg.sum()), "wire_duration_s": float(wg.sum())}
    if rs.size < 2 or ws.size < 2:
        res["error"] = "fewer than 2 packets on one side"
        return res
    res.update({
        "ks_size": float(stats.ks_2samp(rs, ws).statistic),
        "ks_iat": float(stats.ks_2samp(rg, wg).statistic),
        # Paced flows have gaps that are nearly one value (20.000 ms); a constant few-us
        # shift of every gap then moves the KS to near 1 while W1 stays at the shift. The
        # same KS on gaps rounded to 100 us shows what remains at a coarser resolution.
        "ks_iat_100us": float(stats.ks_2samp(np.round(rg / 1e-4), np.round(wg / 1e-4)).statistic),
        "w1_size_bytes": float(stats.wasserstein_distance(rs, ws)),
        "w1_iat_s": float(stats.wasserstein_distance(rg, wg)),
        "ref_mean_size": float(rs.mean()), "wire_mean_size": float(ws.mean()),
        "ref_mean_iat_s": float(rg.mean()), "wire_mean_iat_s": float(wg.mean()),
    })
    if a.paired and rg.size == wg.size:
        # A replay of the capture itself: gap i on the wire is meant to equal gap i of the
        # capture, so their difference is the jitter the sender and the wire added.
        err = np.abs(wg - rg) * 1e6
        res["gap_err_us"] = {q: float(np.percentile(err, p))
                             for q, p in (("p50", 50), ("p95", 95), ("p99", 99))}
    return res


def cmd_rate(a):
    res = {"tool": a.tool, "rx": a.rx}
    with open(a.output, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if a.tool == "tcpreplay":
        m = re.search(r"Actual: (\d+) packets .* sent in ([0-9.]+) seconds", text)
        rated = re.search(r"Rated: .* ([0-9.]+) pps", text)
        if not m or not rated:
            res["error"] = "no 'Actual:'/'Rated:' lines in tcpreplay's output"
            return res
        res.update(sent=int(m.group(1)), seconds=float(m.group(2)),
                   pps=float(rated.group(1)))
    else:
        try:
            j = json.loads(text[text.index("{"):])
        except ValueError:
            res["error"] = "no JSON summary in the output"
            return res
        if a.tool.startswith("flowmimic"):
            res.update(sent=j["packets"], seconds=j["elapsed_s"], pps=j["mean_pps"],
                       errors=j.get("errors"), status=j.get("status"))
        else:
            res.update(sent=j["packets"], seconds=j["seconds"], pps=j["pps"],
                       errors=j.get("failed_calls"))
    if res["seconds"] > 0:
        res["wire_pps"] = a.rx / res["seconds"]
    return res


def ipv4_checksum(h):
    total = sum(struct.unpack(">10H", h))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def cmd_rewrite(a):
    flow = parse_flow(a.flow)
    dmac, smac = (bytes.fromhex(m.replace(":", "")) for m in (a.dst_mac, a.src_mac))
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, DLT_EN10MB)]
    n = 0
    for ts, frame, lt in read_pcap(a.capture):
        u = udp_of(frame, lt)
        if u is None or u[:4] != flow:
            continue
        payload = u[5][:u[4]].ljust(u[4], b"\0")
        ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), n & 0xFFFF,
                                   0x4000, 64, 17, 0, bytes([198, 18, 0, 1]),
                                   bytes([198, 18, 0, 2])))
        ip[10:12] = struct.pack(">H", ipv4_checksum(bytes(ip)))
        udp = struct.pack(">HHHH", 5004, 5006, 8 + len(payload), 0)
        f = dmac + smac + b"\x08\x00" + bytes(ip) + udp + payload
        out.append(struct.pack("<IIII", ts // 1_000_000_000, ts % 1_000_000_000, len(f), len(f)))
        out.append(f)
        n += 1
    with open(a.out, "wb") as f:
        f.write(b"".join(out))
    return {"packets": n}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("timing")
    t.add_argument("schedule")
    t.add_argument("received")
    k = sub.add_parser("ks")
    k.add_argument("reference")
    k.add_argument("received")
    k.add_argument("--ref-flow", required=True)
    k.add_argument("--paired", action="store_true",
                   help="the received packets replay the reference one for one: also report "
                        "the error of each gap (gap_err_us)")
    r = sub.add_parser("rate")
    r.add_argument("tool")
    r.add_argument("output")
    r.add_argument("--rx", type=int, required=True)
    w = sub.add_parser("rewrite")
    w.add_argument("capture")
    w.add_argument("out")
    w.add_argument("--flow", required=True)
    w.add_argument("--dst-mac", required=True)
    w.add_argument("--src-mac", required=True)
    for p in (t, k, r, w):
        p.add_argument("--port", type=int, default=5006)
        p.add_argument("--tag", action="append", default=[], metavar="K=V")
        p.add_argument("--own", metavar="FILE", default=None,
                       help="the sender's stdout: kept as \"own\" when it is one JSON value")
    a = ap.parse_args()
    res = {"timing": cmd_timing, "ks": cmd_ks, "rate": cmd_rate, "rewrite": cmd_rewrite}[a.what](a)
    tags = {}
    for kv in a.tag:
        key, _, val = kv.partition("=")
        try:
            tags[key] = json.loads(val)
        except ValueError:
            tags[key] = val
    if a.own:
        try:
            with open(a.own, encoding="utf-8") as f:
                tags["own"] = json.load(f)
        except (OSError, ValueError):
            tags["own"] = None
    print(json.dumps({**tags, **res}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
