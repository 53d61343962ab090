#!/usr/bin/env python3
"""bench/time_structure.py - the time structure of `flowmimic generate` against each capture.

Usage: time_structure.py FLOWMIMIC DUMPS_DIR [--seed S] [--min-packets N] [--json FILE]
                         [--kinds sequence,independent,halves]

For the main UDP flow (most packets) of every capture in DUMPS_DIR, each side with at least
N packets (default 300): fit a model with `flowmimic estimate` twice (the sequence model, and
`--sequence off` for the independent one), draw 10x the side's packets with `generate`, and
read the capture and both drawings with tshark, timestamps as exact integer nanoseconds (the
fields are parsed as text, never as floating epoch seconds). The figures of issue 10:
  KS of payload length and of gap (whole ticks of the capture's clock), bound
  max(0.03, 1.63 sqrt(1/n + 1/m)); lag-1 autocorrelation of length and of gap (within 0.1);
  throughput CV in 100 ms bins (within 20%); mean burst size, gaps under 2 ms (within 15%);
  RTP video sides (the capture's packets share timestamps): marker share and same-timestamp
  share (within 0.05), frames per second (within 10%).
Prints a Markdown table per model kind and a count of the sides within every bound, and the
same for the capture's first half against its second: how far the data itself is from
stationary, the floor no model of the whole capture can be asked to beat.
Needs tshark and numpy (Debian: tshark, python3-numpy)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

FIELDS = ["frame.time_epoch", "ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst",
          "udp.dstport", "udp.length", "rtp.marker", "rtp.timestamp", "rtp.version"]


def ns_of(text):
    """Integer nanoseconds from tshark's "1700000000.123456789" (exact, no float)."""
    sec, _, frac = text.partition(".")
    return int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])


def read(pcap):
    """Packets of every UDP flow: {(src, sport, dst, dport): dict of arrays}."""
    out = subprocess.run(
        ["tshark", "-n", "-r", pcap, "-Y", "udp and not icmp", "-o", "rtp.heuristic_rtp:TRUE",
         "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
        + sum((["-e", f] for f in FIELDS), []),
        capture_output=True, text=True, check=True).stdout
    flows = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < len(FIELDS) or not f[0] or not f[7]:
            continue
        src, dst = f[1] or f[2], f[4] or f[5]
        key = (src, int(f[3]), dst, int(f[6]))
        d = flows.setdefault(key, {"t": [], "len": [], "mk": [], "ts": [], "rtp": []})
        d["t"].append(ns_of(f[0]))
        d["len"].append(int(f[7]) - 8)
        is_rtp = f[10] == "2" and f[9] != ""
        d["rtp"].append(is_rtp)
        d["mk"].append(is_rtp and f[8] in ("1", "True"))
        d["ts"].append(int(f[9]) if is_rtp else -1)
    for d in flows.values():
        order = np.argsort(np.array(d["t"], dtype=np.int64), kind="stable")
        for k in d:
            d[k] = np.array(d[k])[order]
    return flows


def tick_ns(t):
    """The capture's timestamp tick: the coarsest of 1 ms, 1 us, 1 ns that divides all."""
    for tick in (1_000_000, 1_000, 1):
        if np.all(t % tick == 0):
            return tick
    return 1


def ks(a, b):
    a, b = np.sort(a), np.sort(b)
    v = np.union1d(a, b)
    fa = np.searchsorted(a, v, side="right") / len(a)
    fb = np.searchsorted(b, v, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def acf1(x):
    """The sample autocorrelation at lag 1 as time-series texts (and `flowmimic compare`)
    define it: about the whole series' mean, over its whole variance."""
    d = np.asarray(x, dtype=float)
    d = d - d.mean()
    v = float(np.dot(d, d))
    return float(np.dot(d[:-1], d[1:]) / v) if len(d) > 2 and v > 0 else 0.0


def figures(d, tick):
    t, ln = d["t"].astype(np.int64), d["len"].astype(float)
    gap = np.diff(t)
    bins = ((t - t[0]) // 100_000_000).astype(np.int64)
    per = np.bincount(bins, weights=ln)
    burst_breaks = np.count_nonzero(gap >= 2_000_000)
    span = (t[-1] - t[0]) / 1e9
    r = {"n": len(t), "len": ln, "gap": np.rint(gap / tick),
         "acf_len": acf1(ln), "acf_gap": acf1(gap),
         "cv100": float(np.std(per) / np.mean(per)) if np.mean(per) > 0 else 0.0,
         "burst": len(t) / (burst_breaks + 1)}
    if np.all(d["rtp"]):
        same = np.count_nonzero(np.diff(d["ts"]) == 0)
        changes = np.count_nonzero(np.diff(d["ts"]) != 0)
        r.update(marker=float(np.mean(d["mk"])), same_ts=same / (len(t) - 1),
                 fps=changes / span if span > 0 else 0.0)
    return r


def judge(c, g, tick):
    """The figures of a drawing against the capture's, and which bounds hold."""
    bound = max(0.03, 1.63 * np.sqrt(1 / c["n"] + 1 / g["n"]))
    row = {"ks_len": ks(c["len"], g["len"]), "ks_gap": ks(c["gap"], g["gap"]), "bound": bound}
    ok = {"ks_len": row["ks_len"] <= bound, "ks_gap": row["ks_gap"] <= bound,
          "acf_len": abs(g["acf_len"] - c["acf_len"]) <= 0.1,
          "acf_gap": abs(g["acf_gap"] - c["acf_gap"]) <= 0.1,
          "cv100": abs(g["cv100"] - c["cv100"]) <= 0.2 * c["cv100"],
          "burst": abs(g["burst"] - c["burst"]) <= 0.15 * c["burst"]}
    for k in ("acf_len", "acf_gap", "cv100", "burst"):
        row[k] = (c[k], g[k])
    if "marker" in c and c["same_ts"] > 0.05:
        for k, tol, rel in (("marker", 0.05, False), ("same_ts", 0.05, False), ("fps", 0.1, True)):
            x, y = c[k], g.get(k, float("nan"))
            row[k] = (x, y)
            ok[k] = abs(y - x) <= (tol * x if rel else tol)
    row["ok"] = ok
    return row


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(f"{os.path.basename(cmd[0])} {cmd[1]}: {r.stderr.strip()[:200]}")


def endpoint(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("flowmimic")
    ap.add_argument("dumps")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--min-packets", type=int, default=300)
    ap.add_argument("--json")
    ap.add_argument("--kinds", default="sequence,independent,halves",
                    help="which tables (default all three)")
    a = ap.parse_args()
    kinds = a.kinds.split(",")
    if not kinds or set(kinds) - {"sequence", "independent", "halves"}:
        ap.error(f"--kinds {a.kinds}: name sequence, independent and/or halves")
    work = tempfile.mkdtemp(prefix="fm-timestruct-")
    rows = []
    for name in sorted(os.listdir(a.dumps)):
        if not name.endswith((".pcap", ".pcapng")):
            continue
        pcap = os.path.join(a.dumps, name)
        flows = read(pcap)
        if not flows:
            continue
        pair = {}
        for (s, sp, d, dp), v in flows.items():
            k = tuple(sorted([(s, sp), (d, dp)]))
            pair[k] = pair.get(k, 0) + len(v["t"])
        (ha, pa), (hb, pb) = max(pair, key=pair.get)
        spec = f"udp {endpoint(ha, pa)} {endpoint(hb, pb)}"
        sides = [k for k in ((ha, pa, hb, pb), (hb, pb, ha, pa))
                 if k in flows and len(flows[k]["t"]) >= a.min_packets]
        if not sides:
            continue
        models = {}
        for kind, extra in (("sequence", []), ("independent", ["--sequence", "off"])):
            if kind not in kinds and kind != "sequence":  # its flow names the local side
                continue
            models[kind] = os.path.join(work, f"{kind}.json")
            run([a.flowmimic, "estimate", pcap, "--flow", spec, "--seed", a.seed,
                 "-o", models[kind]] + extra)
        local = json.load(open(next(iter(models.values()))))["flow"]["local"]
        for k in sides:
            cap = flows[k]
            tick = tick_ns(cap["t"])
            c = figures(cap, tick)
            side = "local" if (local["ip"], int(local["port"])) == (k[0], k[1]) else "remote"
            row = {"capture": name, "side": side, "n": c["n"], "tick_ns": tick, "capture_fig": c}
            # The floor: the capture's first half against its second, judged by the same
            # bounds (their n is half the capture's, so the KS bound is wider).
            if "halves" in kinds:
                h = len(cap["t"]) // 2
                first = {f: v[:h] for f, v in cap.items()}
                second = {f: v[h:] for f, v in cap.items()}
                row["halves"] = judge(figures(first, tick), figures(second, tick), tick)
            for kind in (x for x in ("sequence", "independent") if x in kinds):
                model = models[kind]
                out = os.path.join(work, f"{kind}.pcap")
                run([a.flowmimic, "generate", model, "--side", side, "--count", str(10 * c["n"]),
                     "--seed", a.seed, "-o", out])
                g = read(out)
                gen = g[max(g, key=lambda x: len(g[x]["t"]))]
                row[kind] = judge(c, figures(gen, tick), tick)
            rows.append(row)
            print(f"time_structure: {name} {side} done", file=sys.stderr)
    report(rows, kinds)
    if a.json:
        with open(a.json, "w") as f:
            for r in rows:
                r.pop("capture_fig")
                json.dump(r, f, default=lambda o: bool(o) if isinstance(o, np.bool_) else float(o))
                f.write("\n")


def report(rows, kinds):
    for kind in kinds:
        what = ("the capture's halves (first / second; the data's own floor)" if kind == "halves"
                else f"{kind} model (capture / drawn)")
        print(f"\n{what}; * outside the bound\n")
        print("| capture | side | n | KS len | KS gap | bound | acf1 len | acf1 gap | CV 100 ms "
              "| burst | marker | same ts | frames/s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        within = 0
        for r in rows:
            x = r[kind]
            ok = x["ok"]
            within += all(ok.values())

            def pair(k, fmt):
                if k not in x:
                    return "-"
                star = "" if ok.get(k, True) else " *"
                return f"{x[k][0]:{fmt}} / {x[k][1]:{fmt}}{star}"

            def one(k):
                return f"{x[k]:.3f}" + ("" if ok[k] else " *")
            print(f"| {r['capture'][:28]} | {r['side']} | {r['n']} | {one('ks_len')} | "
                  f"{one('ks_gap')} | {x['bound']:.3f} | {pair('acf_len', '+.2f')} | "
                  f"{pair('acf_gap', '+.2f')} | {pair('cv100', '.2f')} | {pair('burst', '.2f')} | "
                  f"{pair('marker', '.3f')} | {pair('same_ts', '.3f')} | {pair('fps', '.2f')} |")
        print(f"\n{kind}: {within} of {len(rows)} sides within every bound")


if __name__ == "__main__":
    main()
