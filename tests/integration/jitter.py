#!/usr/bin/env python3
# tests/integration/jitter.py - `receive --read` against tshark's RTP stream analysis on the
# shared captures (issue 11): every RTP stream tshark computes a jitter for (it knows the
# clock: a static payload type, or SDP in the capture) must agree with flowmimic on the
# SSRC, the packet count, the clock, the largest jitter to tshark's printed 3 decimals, and
# the mean jitter: to the printed decimals on streams without markers, within 3% on streams
# with them (Wireshark's running mean divides by every packet while it skips the markers',
# flowmimic averages over the packets it keeps). A dynamic payload type's
# clock is measured from its timestamps: the Linphone call's Opus streams must come out at
# 48 kHz with tshark's figures, its VP8 streams at 90 kHz.
# Usage: jitter.py FLOWMIMIC SRCDIR   (FM_DUMPS_DIR: the shared captures; skip 77 without,
# except under CI=true)
import json
import os
import re
import subprocess
import sys

fm, src = sys.argv[1], sys.argv[2]
dumps = os.environ.get("FM_DUMPS_DIR", os.path.join(src, "..", "shared", "traffic_dumps"))
if not os.path.isdir(dumps):
    print(f"SKIP: no shared captures at {dumps}")
    sys.exit(1 if os.environ.get("CI") == "true" else 77)

# A tshark -z rtp,streams row: ... SSRC Payload Pkts Lost (x%) MinD MeanD MaxD MinJ MeanJ MaxJ
ROW = re.compile(r"(0x[0-9A-Fa-f]{8})\s+(.*?)\s+(\d+)\s+-?\d+ \(\S+%\)(?:\s+\S+){4}\s+(\S+)\s+(\S+)")
fails = 0
checked = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL:", msg)


def tshark_streams(cap, extra):
    out = subprocess.run(["tshark", "-r", cap, "-q", "-o", "rtp.heuristic_rtp:TRUE", *extra,
                          "-z", "rtp,streams"], capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        m = ROW.search(line)
        if m:
            rows[(int(m.group(1), 16), int(m.group(3)))] = (m.group(2), float(m.group(4)),
                                                              float(m.group(5)))
    return rows


def markers(cap, ssrc):
    out = subprocess.run(["tshark", "-r", cap, "-o", "rtp.heuristic_rtp:TRUE", "-Y",
                          f"rtp.ssrc == {ssrc:#x} && rtp.marker == 1", "-T", "fields", "-e",
                          "frame.number"], capture_output=True, text=True, check=True).stdout
    return len(out.split())


# The Linphone capture's SDP names Opus and VP8 on ports 7078 and 9078; tshark follows them
# only from the call's setup unless told to decode the ports as RTP throughout.
extra = {"sip_linphone_video_call_mixed_flows__mtaa.pcap": ["-d", "udp.port==7078,rtp",
                                                            "-d", "udp.port==9078,rtp"]}
clocks_seen = {}
for name in sorted(os.listdir(dumps)):
    if not name.endswith((".pcap", ".pcapng")):
        continue
    cap = os.path.join(dumps, name)
    r = subprocess.run([fm, "receive", "--read", cap, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{name}: receive --read exit {r.returncode}: {r.stderr.strip()}")
        continue
    ours = {(s["ssrc"], s["packets"]): s for s in json.loads(r.stdout)["streams"] if s["rtp"]}
    for key, (payload, mean, mx) in tshark_streams(cap, extra.get(name, [])).items():
        if key[1] < 20 or (mean == 0 and mx == 0):
            continue  # tshark has no clock for it (an unknown dynamic type): nothing to match
        s = ours.get(key)
        what = f"{name} ssrc {key[0]:#010x} ({payload}, {key[1]} packets)"
        if s is None:
            fail(f"{what}: flowmimic has no such stream")
            continue
        checked += 1
        clocks_seen[(name, payload)] = (s["clock_rate_hz"], s["clock_source"])
        if round(s["jitter_max_ms"], 3) != mx:
            fail(f"{what}: max jitter {s['jitter_max_ms']:.3f} ms, tshark {mx:.3f}")
        m = markers(cap, key[0])
        if m == 0 and round(s["jitter_mean_ms"], 3) != mean:
            fail(f"{what}: mean jitter {s['jitter_mean_ms']:.3f} ms, tshark {mean:.3f}")
        if m > 0 and abs(s["jitter_mean_ms"] - mean) > 0.03 * mean:
            fail(f"{what}: mean jitter {s['jitter_mean_ms']:.3f} ms, tshark {mean:.3f} "
                 f"({m} markers): more than 3% apart")
        print(f"ok {what}: clock {s['clock_rate_hz']} ({s['clock_source']}), mean/max "
              f"{s['jitter_mean_ms']:.3f}/{s['jitter_max_ms']:.3f} ms, tshark {mean:.3f}/{mx:.3f}")

want = {("sip_linphone_video_call_mixed_flows__mtaa.pcap", "opus"): (48000, "measured"),
        ("sip_linphone_video_call_mixed_flows__mtaa.pcap", "VP8"): (90000, "measured"),
        ("rtp_g729_voice_bidir_vad__trex.pcap", "g729"): (8000, "payload type"),
        ("rtp_g711_voice_bidir__radionbik.pcap", "g711A"): (8000, "payload type")}
for k, v in want.items():
    if clocks_seen.get(k) != v:
        fail(f"{k[0]} {k[1]}: clock {clocks_seen.get(k)}, expected {v}")
if checked < 8:
    fail(f"only {checked} streams compared with tshark, expected 8 or more")
print(f"{checked} streams compared, {fails} failures")
sys.exit(1 if fails else 0)
