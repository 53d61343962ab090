#!/usr/bin/python3
"""bench/report.py - Markdown tables and target verdicts from the benchmark JSON lines.

Usage: report.py read --packets N RUNS.jsonl
       report.py fit RESULTS.jsonl
       report.py fidelity RESULTS.jsonl
Standard library only. Medians everywhere: the machine is shared, so a single run says
little. Verdicts are printed as "target: ... PASS|FAIL" lines after each table.
"""
import argparse
import json
import math
import statistics
import sys

READ_COMMANDS = {
    "bare": "pcap_loop CAPTURE (pcap_open_offline, pcap_next_ex loop, 4 KiB stdio reads)",
    "bare-256k": "pcap_loop -b 262144 CAPTURE (fopen + 256 KiB setvbuf, as flowmimic)",
    "flowmimic": "flowmimic flows CAPTURE >/dev/null",
    "tcpdump": "tcpdump -r CAPTURE -nn -q >/dev/null",
    "tshark": "tshark -r CAPTURE -T fields -e frame.len >/dev/null",
}
BASELINES = ["bare", "bare-256k"]


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report_read(rows, packets):
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    by = {t: [r for r in rows if r["tool"] == t] for t in tools}
    bases = [b for b in BASELINES if b in by]
    base_round = {b: {r["round"]: r["real"] for r in by[b]} for b in bases}
    print("| tool | command | median s | min s | max s | CPU s | Mpps | " +
          " | ".join(f"vs {b}" for b in bases) + " |")
    print("|---|---|--:|--:|--:|--:|--:|" + "--:|" * len(bases))
    share = {}
    for t in tools:
        reals = [r["real"] for r in by[t]]
        med = statistics.median(reals)
        cpu = statistics.median(r["user"] + r["sys"] for r in by[t])
        cols = []
        for b in bases:
            # Paired by round: each ratio compares runs made seconds apart, under the same load.
            ratios = [base_round[b][r["round"]] / r["real"] for r in by[t]
                      if r["round"] in base_round[b]]
            share[(t, b)] = statistics.median(ratios)
            cols.append(f"{share[(t, b)]:.1%}")
        print(f"| {t} | `{READ_COMMANDS.get(t, t)}` | {med:.3f} | {min(reals):.3f} | "
              f"{max(reals):.3f} | {cpu:.3f} | {packets / med / 1e6:.2f} | " +
              " | ".join(cols) + " |")
    print()
    print("Times are wall-clock seconds over the whole process; CPU s is user + sys. vs X: "
          "median over rounds of (X's time / tool's time) in the same round, i.e. the tool's "
          "throughput as a share of X's.")
    for b in bases:
        if ("flowmimic", b) in share:
            s = share[("flowmimic", b)]
            print(f"\ntarget: flowmimic flows >= 80% of the bare libpcap loop ({b}): {s:.1%} "
                  f"{verdict(s >= 0.8)}")


def size_tag(n):
    """1e4 for 10000, the plain number when n is not a power of ten."""
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10**e else str(n)


def report_fit(rows):
    keys = list(dict.fromkeys((r["data"], r["n"], r["mode"]) for r in rows))
    print("| data | n | k | flowmimic s | sklearn s | speedup | k fm / sk | held-out ll fm | "
          "sk | fm - sk | binned ll fm | sk | fm - sk |")
    print("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    verdicts = []
    for key in keys:
        data, n, mode = key
        fm = [r for r in rows if (r["data"], r["n"], r["mode"]) == key and r["tool"] == "flowmimic"]
        sk = [r for r in rows if (r["data"], r["n"], r["mode"]) == key and r["tool"] == "sklearn"]
        if not fm or not sk:
            continue
        tf = statistics.median(r["seconds"] for r in fm)
        ts = statistics.median(r["seconds"] for r in sk)
        # Both fits are seeded, so every run gives the same model; take the last run's.
        f, s = fm[-1], sk[-1]
        d = f["heldout_ll"] - s["heldout_ll"]
        if data == "payload":
            db = f["heldout_ll_bin"] - s["heldout_ll_bin"]
            binned = f"{f['heldout_ll_bin']:.5f} | {s['heldout_ll_bin']:.5f} | {db:+.5f}"
        else:
            binned = "- | - | -"
        print(f"| {data} | {size_tag(n)} | {mode} | {tf:.4f} | {ts:.3f} | {ts / tf:.1f}x | "
              f"{f['k']} / {s['k']} | {f['heldout_ll']:.5f} | {s['heldout_ll']:.5f} | "
              f"{d:+.5f} | {binned} |")
        if mode == "auto" and n == 1000000:
            verdicts.append((data, ts / tf, d))
    print()
    print("ll: mean log-density per held-out sample (100,000 held-out values). Binned ll: mean "
          "log of the mass of [x - 0.5, x + 0.5], the score that suits integer payload lengths.")
    for data, speed, d in verdicts:
        print(f"\ntarget ({data}, auto k, n = 1e6): >= 20x faster than sklearn n_init=3: "
              f"{speed:.1f}x {verdict(speed >= 20)}; held-out ll no more than 0.001 below "
              f"sklearn: {d:+.5f} {verdict(d >= -0.001)}")


def fmt_w1(feature, w1):
    if w1 is None:
        return "-"
    return f"{w1:.1f} B" if feature == "payload" else f"{w1 * 1e3:.3f} ms"


def report_fidelity(rows):
    print("| capture | side | feature | n | fm k+atoms | KS fm | KS sk | KS noise | W1 fm | W1 sk | "
          "sk k |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    fails, checked = [], 0
    for r in rows:
        cap = r["capture"].rsplit(".", 1)[0]
        if "error" in r:
            print(f"| {cap} | | | | error: {r['error']} | | | | | | |")
            fails.append(f"{cap}: {r['error']}")
            continue
        if "skipped" in r:
            print(f"| {cap} | {r['side']} | {r['feature']} | {r['n']} | "
                  f"skipped: {r['skipped']} | | | | | | |")
            if r["skipped"] != "too few packets" and r["n"] >= 99:
                fails.append(f"{cap} {r['side']} {r['feature']}: no model ({r['skipped']})")
            continue
        sk_ks = r.get("sk_ks")
        # Median two-sample KS of two size-n samples of one continuous distribution: the
        # asymptotic Kolmogorov median 0.8276 times sqrt(2 / n). Below it, a KS is noise.
        noise = 0.8276 * math.sqrt(2.0 / r["n"])
        print(f"| {cap} | {r['side']} | {r['feature']} | {r['n']} | {r['k']}+{r['atoms']} | "
              f"{r['ks']:.4f} | {sk_ks:.4f} | {noise:.4f} | {fmt_w1(r['feature'], r['w1'])} | "
              f"{fmt_w1(r['feature'], r.get('sk_w1'))} | {r.get('sk_k', '-')} |")
        checked += 1
        if not r["ks"] <= 0.05:
            fails.append(f"{cap} {r['side']} {r['feature']} KS {r['ks']:.4f}")
    mism = [r for r in rows if r.get("ks_recheck_diff", 0) > 1e-8 or r.get("w1_recheck_rel", 0) > 1e-6]
    print()
    print("fm: flowmimic (est_model_from_flow defaults, draws by mdl_mixture_sample). sk: the "
          "original tool's recipe, sklearn GaussianMixture on raw values, k by BIC in 1..5, draws "
          "rounded (payload) and clipped at 0. k+atoms: Gaussian components + atoms. KS noise: "
          "the median KS between two samples of n values from one continuous distribution "
          "(0.83 sqrt(2/n)); a KS near it is as good as a draw can be at this n.")
    if mism:
        print("\nscipy disagrees with mdl_stats_ks/mdl_stats_w1 on: " +
              ", ".join(f"{r['capture']} {r['side']} {r['feature']}" for r in mism))
    else:
        print("\nscipy's ks_2samp and wasserstein_distance agree with mdl_stats_ks and "
              "mdl_stats_w1 on every flowmimic row.")
    print(f"\ntarget: KS <= 0.05 for payload length and IAT on every main flow side with >= 100 "
          f"packets: {checked - len(fails)}/{checked} {verdict(checked > 0 and not fails)}")
    for f in fails:
        print(f"  over: {f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("read")
    r.add_argument("--packets", type=int, required=True)
    r.add_argument("runs")
    sub.add_parser("fit").add_argument("results")
    sub.add_parser("fidelity").add_argument("results")
    a = ap.parse_args()
    if a.what == "read":
        report_read(load(a.runs), a.packets)
    elif a.what == "fit":
        report_fit(load(a.results))
    else:
        report_fidelity(load(a.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
