#!/usr/bin/python3
"""bench/report.py - Markdown tables and target verdicts from the benchmark JSON lines.

Usage: report.py read --packets N RUNS.jsonl
       report.py fit RESULTS.jsonl
       report.py fidelity RESULTS.jsonl
       report.py timing [--timer MODE] RUNS.jsonl      (bench/timing.sh)
       report.py rate RUNS.jsonl                       (bench/rate.sh)
       report.py wire-fidelity RESULTS.jsonl           (bench/wire_fidelity.sh)
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
    print("| capture | side | feature | n | fm k+atoms | KS fm | KS fm median | KS resample | KS sk | "
          "KS noise | W1 fm | W1 sk | sk k |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    fails, checked, floor_fails = [], 0, []
    for r in rows:
        cap = r["capture"].rsplit(".", 1)[0]
        if "error" in r:
            print(f"| {cap} | | | | error: {r['error']} | | | | | | | | |")
            fails.append(f"{cap}: {r['error']}")
            continue
        if "skipped" in r:
            print(f"| {cap} | {r['side']} | {r['feature']} | {r['n']} | "
                  f"skipped: {r['skipped']} | | | | | | | | |")
            if r["skipped"] != "too few packets" and r["n"] >= 99:
                fails.append(f"{cap} {r['side']} {r['feature']}: no model ({r['skipped']})")
            continue
        sk_ks = r.get("sk_ks")
        # Median two-sample KS of two size-n samples of one continuous distribution: the
        # asymptotic Kolmogorov median 0.8276 times sqrt(2 / n). Below it, a KS is noise.
        noise = 0.8276 * math.sqrt(2.0 / r["n"])
        ks_med, ks_res = r.get("ks_median"), r.get("ks_resample_median")
        print(f"| {cap} | {r['side']} | {r['feature']} | {r['n']} | {r['k']}+{r['atoms']} | "
              f"{r['ks']:.4f} | {fmt(ks_med, '.4f')} | {fmt(ks_res, '.4f')} | {sk_ks:.4f} | "
              f"{noise:.4f} | {fmt_w1(r['feature'], r['w1'])} | "
              f"{fmt_w1(r['feature'], r.get('sk_w1'))} | {r.get('sk_k', '-')} |")
        checked += 1
        if not r["ks"] <= 0.05:
            fails.append(f"{cap} {r['side']} {r['feature']} KS {r['ks']:.4f}")
        # The same target judged on the median over draw sets, and whether the row is one that
        # even the capture's own values, resampled, miss (the target is below the floor).
        if ks_med is not None and not ks_med <= 0.05:
            floor_fails.append(f"{cap} {r['side']} {r['feature']} median KS {ks_med:.4f}, "
                               f"resample {fmt(ks_res, '.4f')}"
                               + (" (resample also over 0.05)" if ks_res is not None
                                  and ks_res > 0.05 else ""))
    mism = [r for r in rows if r.get("ks_recheck_diff", 0) > 1e-8 or r.get("w1_recheck_rel", 0) > 1e-6]
    print()
    print("fm: flowmimic (est_model_from_flow defaults, draws by mdl_mixture_sample). sk: the "
          "original tool's recipe, sklearn GaussianMixture on raw values, k by BIC in 1..5, draws "
          "rounded (payload) and clipped at 0. k+atoms: Gaussian components + atoms. KS noise: "
          "the median KS between two samples of n values from one continuous distribution "
          "(0.83 sqrt(2/n)). KS fm median: the median KS over further sets of n draws from the "
          "same model (one seed's KS moves by about the noise). KS resample: the median KS of n "
          "values drawn with replacement from the capture's own values, i.e. the empirical "
          "distribution used as the model; an i.i.d. model fitted to these n values is not "
          "expected to do better.")
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
    if any(r.get("ks_median") is not None for r in rows):
        print(f"on the median over draw sets: {checked - len(floor_fails)}/{checked} "
              f"{verdict(checked > 0 and not floor_fails)}")
        for f in floor_fails:
            print(f"  over: {f}")


TIMING_COMMANDS = {
    "deadline": "deadline_loop CAPTURE (UDP sendto, clock_nanosleep TIMER_ABSTIME, slack 1 ns, "
                "200 us spin)",
    "flowmimic": "flowmimic replay --iface vethA --peer 198.18.0.2 --timer {timer} --count N "
                 "--json CAPTURE",
    "tcpreplay": "tcpreplay -i vethA CAPTURE",
    "deadline-rt": "deadline_loop -R CAPTURE (as deadline, SCHED_FIFO 10 + mlockall)",
    "flowmimic-rt": "flowmimic replay --iface vethA --peer 198.18.0.2 --timer {timer} --realtime "
                    "--count N --json CAPTURE",
}
# Targets on the centred error (the mean offset removed) and on drift.
TIMING_P99_TARGET_US = {"fixed100": 25.0, "exp1000": 100.0}
DRIFT_TARGET_US_PER_S = 10.0


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def load_line(rows):
    loads = [r["load"] for r in rows if isinstance(r.get("load"), (int, float))]
    if loads:
        print(f"\nLoad average (1 min, /proc/loadavg) after each run: median "
              f"{statistics.median(loads):.2f}, range {min(loads):.2f}-{max(loads):.2f} "
              f"on {os_cpus()} CPUs.")


def os_cpus():
    import os
    return os.cpu_count()


def report_timing(rows, timer):
    schedules = list(dict.fromkeys(r["schedule"] for r in rows))
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    verdicts = []
    for sch in schedules:
        print(f"Schedule `{sch}`:\n")
        print("| tool | command | rounds | arrived | median us | p99 us | max us | "
              "centred: median us | p99 us | max us | drift us/s | last pkt ms | "
              "centred p99 vs deadline |")
        print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        base = {r["round"]: r for r in rows if r["schedule"] == sch and r["tool"] == "deadline"
                and "p99_us" in r}
        base_rt = {r["round"]: r for r in rows if r["schedule"] == sch
                   and r["tool"] == "deadline-rt" and "p99_us" in r}
        for t in tools:
            rs = [r for r in rows if r["schedule"] == sch and r["tool"] == t]
            ok = [r for r in rs if "p99_us" in r]
            if not ok:
                why = rs[0].get("error", "failed") if rs else "not run"
                print(f"| {t} | `{TIMING_COMMANDS.get(t, t).format(timer=timer)}` | {len(rs)} | "
                      f"{why} | | | | | | | | | |")
                verdicts.append((sch, t, None, None, None))
                continue
            arrived = med(r["matched"] / r["scheduled"] for r in ok)
            m = {k: med(r[k] for r in ok) for k in (
                "median_us", "p99_us", "max_us", "centred_median_us", "centred_p99_us",
                "centred_max_us", "drift_us_per_s", "end_error_us")}
            # Real-time runs are compared with the real-time loop, the others with the plain one.
            b = base_rt if t.endswith("-rt") and base_rt else base
            ratios = [r["centred_p99_us"] / b[r["round"]]["centred_p99_us"] for r in ok
                      if r["round"] in b and b[r["round"]]["centred_p99_us"] > 0]
            ratio = med(ratios)
            print(f"| {t} | `{TIMING_COMMANDS.get(t, t).format(timer=timer)}` | {len(ok)} | "
                  f"{arrived:.2%} | {m['median_us']:.1f} | {m['p99_us']:.1f} | "
                  f"{m['max_us']:.1f} | {m['centred_median_us']:.1f} | "
                  f"{m['centred_p99_us']:.1f} | {m['centred_max_us']:.1f} | "
                  f"{m['drift_us_per_s']:+.2f} | {m['end_error_us'] / 1e3:+.3f} | "
                  f"{fmt(ratio, '.2f')}x |")
            verdicts.append((sch, t, m["p99_us"], m["centred_p99_us"], m["drift_us_per_s"]))
        print()
    print("Error of packet i: (arrival_i - arrival_first) - (schedule_i - schedule_first), "
          "arrivals timestamped by tcpdump in the receiving namespace (nanosecond pcap). "
          "median/p99/max: of |error|, the schedule aligned on the first packet; centred: of "
          "|error - mean error|, i.e. with the constant offset (mostly the first packet's own "
          "lateness) removed. drift: least-squares slope of the error against schedule time. "
          "last pkt: error of the last packet. arrived: share of the schedule matched at the "
          "receiver. Every column is the median over rounds; the ratio is taken round by round "
          "(-rt tools against deadline-rt).")
    load_line(rows)
    # Round by round: the load of this shared machine moves the tails more than the tools do.
    print("\nCentred p99 |error| (us) round by round, with the load average after the run:\n")
    print("| schedule | round | " + " | ".join(tools) + " |")
    print("|---|--:|" + "--:|" * len(tools))
    for sch in schedules:
        for rnd in sorted({r["round"] for r in rows if r["schedule"] == sch}):
            cells = []
            for t in tools:
                r = next((x for x in rows if x["schedule"] == sch and x["round"] == rnd
                          and x["tool"] == t and "centred_p99_us" in x), None)
                cells.append("-" if r is None else
                             f"{r['centred_p99_us']:.1f} (load {r.get('load', '?')})")
            print(f"| {sch} | {rnd} | " + " | ".join(cells) + " |")
    for sch, t, p99, cp99, drift in verdicts:
        if not t.startswith("flowmimic"):
            continue
        target = TIMING_P99_TARGET_US.get(sch)
        if p99 is None:
            print(f"\ntarget ({sch}, {t}): no result FAIL")
            continue
        print(f"\ntarget ({sch}, {t}): drift under {DRIFT_TARGET_US_PER_S:g} us/s: {drift:+.2f} "
              f"{verdict(abs(drift) < DRIFT_TARGET_US_PER_S)}")
        if target is not None:
            print(f"target ({sch}, {t}): p99 |error| <= {target:g} us, offset removed: {cp99:.1f} us "
                  f"{verdict(cp99 <= target)}; aligned on the first packet: {p99:.1f} us "
                  f"{verdict(p99 <= target)}")


RATE_COMMANDS = {
    "af_packet_sendto": "af_packet_loop -i vethA -m sendto -n N -p PAYLOAD",
    "af_packet_sendmmsg": "af_packet_loop -i vethA -m sendmmsg -b 64 -n N -p PAYLOAD",
    "raw4_sendto": "af_packet_loop -i vethA -m raw4 -n N -p PAYLOAD (raw IPv4 socket)",
    "raw4_sendmmsg": "af_packet_loop -i vethA -m raw4mmsg -b 64 -n N -p PAYLOAD (raw IPv4 socket)",
    "tcpreplay": "tcpreplay -i vethA --topspeed -K CAPTURE (N frames of PAYLOAD bytes)",
    "flowmimic": "flowmimic replay --iface vethA --peer 198.18.0.2 --streams 100 --count N "
                 "--json MODEL (one payload atom, IAT atom 1e-6 s)",
    "flowmimic-l2": "flowmimic replay --iface vethA --peer 198.18.0.2 --peer-mac MAC_OF_vethB "
                    "--streams 100 --count N --json MODEL (link-layer mode)",
}


RATE_BASES = ("af_packet_sendto", "af_packet_sendmmsg", "raw4_sendto", "raw4_sendmmsg",
              "tcpreplay")
# What each flowmimic row is judged against: (base, share it must reach, what the target is).
RATE_TARGETS = (("tcpreplay", 1.0, "above tcpreplay --topspeed"),
                ("af_packet_sendto", 0.8, ">= 80% of the AF_PACKET sendto loop"),
                ("af_packet_sendmmsg", 0.8, ">= 80% of the AF_PACKET sendmmsg loop"))


def report_rate(rows):
    payloads = list(dict.fromkeys(r["payload"] for r in rows))
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    verdicts = []
    for pl in payloads:
        print(f"Payload {pl} bytes:\n")
        print("| tool | command | rounds | sent | own pps | wire pps | arrived | "
              "vs af_packet sendto | vs sendmmsg | vs raw4 sendto | vs raw4 sendmmsg | vs tcpreplay |")
        print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        by = {t: {r["round"]: r for r in rows if r["payload"] == pl and r["tool"] == t
                  and r.get("pps")} for t in tools}
        shares = {}
        for t in tools:
            rs = [r for r in rows if r["payload"] == pl and r["tool"] == t]
            ok = list(by[t].values())
            if not ok:
                why = rs[0].get("error", "failed") if rs else "not run"
                print(f"| {t} | `{RATE_COMMANDS.get(t, t)}` | {len(rs)} | {why} | | | | | | | | |")
                continue
            cols = []
            for b in RATE_BASES:
                ratios = [r["pps"] / by[b][k]["pps"] for k, r in by.get(t, {}).items()
                          if k in by.get(b, {})]
                shares[(t, b)] = med(ratios)
                cols.append(fmt(shares[(t, b)], ".1%"))
            wire = med(r.get("wire_pps") for r in ok)
            arrived = med(r["rx"] / r["sent"] for r in ok if r.get("sent"))
            print(f"| {t} | `{RATE_COMMANDS.get(t, t)}` | {len(ok)} | "
                  f"{med(r['sent'] for r in ok):.0f} | {med(r['pps'] for r in ok):,.0f} | "
                  f"{fmt(wire, ',.0f')} | {fmt(arrived, '.1%')} | " + " | ".join(cols) + " |")
        for t in tools:
            if t.startswith("flowmimic"):
                verdicts.append((pl, t, {b: shares.get((t, b)) for b in RATE_BASES}))
        print()
    print("own pps: the tool's own figure (af_packet_loop and flowmimic: packets / elapsed; "
          "tcpreplay: its \"Rated\" pps). wire pps: packets counted on vethB in the receiving "
          "namespace (rx_packets delta) over the tool's elapsed time. arrived: vethB's count / "
          "packets the tool says it sent. vs X: median over rounds of (own pps / X's own pps) in "
          "the same round.")
    load_line(rows)
    # A target is judged only when its peer ran in the same rounds (TOOLS may leave it out).
    for pl, t, sh in verdicts:
        parts = [f"{what}: {sh[b]:.1%} {verdict(sh[b] >= need if need < 1 else sh[b] > need)}"
                 for b, need, what in RATE_TARGETS if sh.get(b) is not None]
        if t == "flowmimic" and sh.get("raw4_sendmmsg") is not None:
            parts.append(f"(raw IP mode's own kernel path, the raw4 sendmmsg loop: "
                         f"{sh['raw4_sendmmsg']:.1%})")
        print(f"\ntarget ({pl} B, {t}): " + ("; ".join(parts) if parts else "no peer ran FAIL"))


def report_wire_fidelity(rows):
    print("| capture | flow side | n capture | tool | n wire | duration s cap / wire | "
          "KS size | KS gap | KS gap @100us | W1 size B | W1 gap ms | KS noise | "
          "gap error p50 / p95 us |")
    print("|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    fails, checked = [], 0
    for r in rows:
        cap = r["capture"].rsplit(".", 1)[0]
        if "error" in r:
            print(f"| {cap} | {r.get('side', '')} | {r.get('ref_packets', '')} | {r['tool']} | "
                  f"{r.get('wire_packets', '')} | error: {r['error']} | | | | | | | |")
            if r["tool"] == "flowmimic":
                fails.append(f"{cap} {r['tool']}: {r['error']}")
            continue
        # Two-sample KS between samples of sizes n1 and n2 from one distribution: median about
        # 0.8276 sqrt((n1 + n2) / (n1 n2)).
        noise = 0.8276 * math.sqrt((r["ref_packets"] + r["wire_packets"]) /
                                   (r["ref_packets"] * r["wire_packets"]))
        ge = r.get("gap_err_us")
        gap_err = f"{ge['p50']:.1f} / {ge['p95']:.1f}" if ge else "-"
        print(f"| {cap} | {r.get('side', '')} | {r['ref_packets']} | {r['tool']} | "
              f"{r['wire_packets']} | {r['ref_duration_s']:.1f} / {r['wire_duration_s']:.1f} | "
              f"{r['ks_size']:.4f} | {r['ks_iat']:.4f} | {r['ks_iat_100us']:.4f} | "
              f"{r['w1_size_bytes']:.1f} | "
              f"{r['w1_iat_s'] * 1e3:.3f} | {noise:.4f} | {gap_err} |")
        if r["tool"] == "flowmimic":
            checked += 1
            for k in ("ks_size", "ks_iat"):
                if not r[k] <= 0.05:
                    fails.append(f"{cap} {k} {r[k]:.4f}")
    print()
    print("flowmimic: the capture's model (flowmimic estimate, defaults) replayed with flowmimic "
          "replay; generate: the same model drawn to a file with flowmimic generate (no wire); "
          "tcpreplay: the capture's own flow (addresses rewritten into 198.18.0.0/24) at "
          "recorded speed, i.e. what the wire does to a perfect copy; flowmimic-capture: the "
          "same with flowmimic replay; deadline: the same with bench/deadline_loop, the bare "
          "absolute-deadline loop of the timing benchmark. Sizes are UDP payload "
          "lengths, gaps the time between consecutive packets of the flow; KS: scipy "
          "ks_2samp, W1: scipy wasserstein_distance. KS noise: the median KS of two samples of "
          "these sizes from one distribution. KS gap @100us: the same KS with both sets of gaps "
          "rounded to 100 us, which a constant shift of a few us per gap does not move. Gap "
          "error: for the replays of the capture itself, |gap i on the wire - gap i in the "
          "capture|, the jitter the sender and the path added.")
    load_line(rows)
    print(f"\ntarget: KS <= 0.05 on payload size and gap for every replayed model: "
          f"{checked - len({f.split()[0] for f in fails})}/{checked} captures "
          f"{verdict(checked > 0 and not fails)}")
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
    t = sub.add_parser("timing")
    t.add_argument("--timer", default="hybrid")
    t.add_argument("results")
    sub.add_parser("rate").add_argument("results")
    sub.add_parser("wire-fidelity").add_argument("results")
    a = ap.parse_args()
    if a.what == "read":
        report_read(load(a.runs), a.packets)
    elif a.what == "fit":
        report_fit(load(a.results))
    elif a.what == "fidelity":
        report_fidelity(load(a.results))
    elif a.what == "timing":
        report_timing(load(a.results), a.timer)
    elif a.what == "rate":
        report_rate(load(a.results))
    else:
        report_wire_fidelity(load(a.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
