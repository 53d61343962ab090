#!/usr/bin/env bash
# tests/integration/timestruct.sh FLOWMIMIC SRC_DIR - the sequence model's time structure on
# the shared captures (issue 10), measured from outside by bench/time_structure.py: estimate
# the main flow of every capture, generate 10x each side's packets, read both with tshark.
# Asserts what the model must keep: every side's length and gap distributions within the KS
# bound; the RTP video sides' frames (marker share, same-timestamp share, frames per second);
# a strong lag-1 autocorrelation of length kept in sign and at least half its size; and at
# least MIN_SIDES sides within every bound (raise it as the model gets better, never lower it).
# 8: the sides that passed on each of 6 seeds when it was set (seed 1 passes 9; WhatsApp's
# 347 packets pass or not by the seed's luck).
set -euo pipefail
fm=$1
src=$2
dumps=${FM_DUMPS_DIR:-$src/../shared/traffic_dumps}
MIN_SIDES=8
[[ -d $dumps ]] || { echo "SKIP: no shared captures at $dumps"; exit 77; }
command -v tshark >/dev/null || { echo "tshark is missing: scripts/install-deps.sh --test" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$src/bench/time_structure.py" "$fm" "$dumps" --kinds sequence \
    --json "$tmp/rows.jsonl" | tee "$tmp/table"
/usr/bin/python3 - "$tmp/rows.jsonl" "$MIN_SIDES" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
need = int(sys.argv[2])
bad = []
if len(rows) < 10:
    bad.append(f"only {len(rows)} sides measured (the shared captures have 11 with >= 300 packets)")
video = 0
for r in rows:
    x, name = r["sequence"], f"{r['capture']} {r['side']}"
    for k in ("ks_len", "ks_gap"):
        if not x["ok"][k]:
            bad.append(f"{name}: {k} {x[k]:.3f} above the bound {x['bound']:.3f}")
    if "marker" in x:
        video += 1
        for k in ("marker", "same_ts", "fps"):
            if not x["ok"][k]:
                bad.append(f"{name}: RTP {k} capture {x[k][0]:.3f}, drawn {x[k][1]:.3f}")
    cap, drawn = x["acf_len"]
    if abs(cap) > 0.3 and not (cap * drawn > 0 and abs(drawn) >= abs(cap) / 2):
        bad.append(f"{name}: length autocorrelation capture {cap:+.2f}, drawn {drawn:+.2f}")
if video < 2:
    bad.append(f"{video} RTP video sides found (H.264 and TRex 160k have frames)")
within = sum(all(r["sequence"]["ok"].values()) for r in rows)
if within < need:
    bad.append(f"{within} sides within every bound, fewer than {need}")
print(f"timestruct: {within} of {len(rows)} sides within every bound, {video} RTP video sides")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
