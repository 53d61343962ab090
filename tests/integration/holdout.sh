#!/usr/bin/env bash
# tests/integration/holdout.sh - `flowmimic compare --holdout` on the shared captures: the
# halves' figures agree with a recomputation from tshark's view of the capture (python3), the
# model of half 1 is exactly what `estimate` makes of a capture holding only half 1's packets
# (tshark writes it), the draws are 10x half 2 and seeded, the sequence keeps the lag-1
# autocorrelation that independent draws lose, and bad inputs get one line and exit 1 or 2.
# Usage: holdout.sh FLOWMIMIC SRCDIR    (FM_DUMPS_DIR: the shared captures)
set -u
fm=$1
src=$2
dumps=${FM_DUMPS_DIR:-$src/../shared/traffic_dumps}
export LC_ALL=C TZ=UTC
if [ ! -d "$dumps" ]; then
    echo "skip: no shared captures in $dumps"
    exit 77
fi
for tool in jq python3 tshark; do
    command -v "$tool" >/dev/null || {
        echo "skip: holdout.sh needs $tool"
        exit 77
    }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"
jqe() {
    jq -e "$@" >/dev/null
}

g729=$dumps/rtp_g729_voice_bidir_vad__trex.pcap
h264=$dumps/rtp_h264_video_1dir__saghul_sipp-scenarios.pcap
sip=$dumps/sip_linphone_video_call_mixed_flows__mtaa.pcap
tiny=$dumps/mpegts_rtp_vlan_multicast_tiny__tsduck.pcap

# The flow's packets as tshark decodes them: frame number, side (0 local, 1 remote), epoch
# time and UDP payload bytes. tshark prints the time with 9 decimals: python reads it as
# integer nanoseconds, so no rounding enters the gaps.
packets() { # CAPTURE REPORT.json
    local a b
    read -r _ a b < <(jq -r .flow "$2")
    local la=${a%:*} lp=${a##*:} ra=${b%:*} rp=${b##*:}
    tshark -r "$1" -Y "udp && ((ip.src == $la && udp.srcport == $lp && ip.dst == $ra &&
        udp.dstport == $rp) || (ip.src == $ra && udp.srcport == $rp && ip.dst == $la &&
        udp.dstport == $lp))" -T fields -e frame.number -e ip.src -e udp.srcport \
        -e frame.time_epoch -e udp.length 2>/dev/null |
        awk -v ip="$la" -v port="$lp" -F'\t' '
            $2 == ip && $3 == port { print $1 "\t0\t" $4 "\t" $5 - 8; next }
            { print $1 "\t1\t" $4 "\t" $5 - 8 }' >"$tmp/pk.tsv"
}

# Recompute the halves' figures from pk.tsv (only the selected flow's packets in it) and
# compare them with the report's JSON ($1); prints the first disagreement and exits 1.
cat >"$tmp/recompute.py" <<'EOF'
import json, sys

rep = json.load(open(sys.argv[1]))
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
gap_s = rep["burst_gap_s"]

def ns(t):
    whole, _, frac = t.partition(".")
    return int(whole) * 10**9 + int((frac + "000000000")[:9])

def ks(a, b):
    a, b = sorted(a), sorted(b)
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] == x:
            i += 1
        while j < len(b) and b[j] == x:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    return d

def acf1(x):
    n = len(x)
    if n < 2 or all(v == x[0] for v in x):
        return None
    m = sum(x) / n
    var = sum((v - m) ** 2 for v in x)
    return sum((x[t] - m) * (x[t + 1] - m) for t in range(n - 1)) / var

def cv100(ts, ln):
    bin_ns = 100 * 10**6
    nb = (ts[-1] - ts[0]) // bin_ns
    if nb < 2:
        return None
    tot = [0.0] * nb
    for t, l in zip(ts, ln):
        b = (t - ts[0]) // bin_ns
        if b < nb:
            tot[b] += l
    m = sum(tot) / nb
    sd = (sum((v - m) ** 2 for v in tot) / nb) ** 0.5
    return sd / m if m > 0 else None

def burst_mean(gaps, n):
    return n / (1 + sum(1 for g in gaps if not g < gap_s))

def figures(pk):
    ts = [p[0] for p in pk]
    ln = [p[1] for p in pk]
    gaps = [(ts[i + 1] - ts[i]) / 1e9 for i in range(len(ts) - 1)]
    return ts, ln, gaps, {"acf1_length": acf1(ln), "acf1_gap": acf1(gaps),
                          "cv_100ms": cv100(ts, ln), "mean_burst": burst_mean(gaps, len(ts))}

def near(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))

bad = []
for s, name in enumerate(("local", "remote")):
    side = rep["sides"][name]
    # Time order as the fit sees it: by timestamp, ties in file order.
    pk = sorted((ns(r[2]), int(r[3]), int(r[0])) for r in rows if int(r[1]) == s)
    pk = [(t, l) for t, l, _ in pk]
    if len(pk) < 2:
        if side["packets"]["half1"] != 0 or side["note"] is None:
            bad.append(f"{name}: {len(pk)} packets but a report")
        continue
    h = len(pk) // 2
    t1, l1, g1, f1 = figures(pk[:h])
    t2, l2, g2, f2 = figures(pk[h:])
    want = {"half1": h, "half2": len(pk) - h}
    for k, v in want.items():
        if side["packets"][k] != v:
            bad.append(f"{name}: packets.{k} {side['packets'][k]}, recomputed {v}")
    checks = [("ks_length", "half1_vs_half2", ks(l1, l2)),
              ("ks_gap", "half1_vs_half2", ks(g1, g2))]
    for key in ("acf1_length", "acf1_gap", "cv_100ms", "mean_burst"):
        checks.append((key, "half1", f1[key]))
        checks.append((key, "half2", f2[key]))
        if f1[key] is not None and f2[key] is not None:
            checks.append((key, "half1_vs_half2", f1[key] - f2[key]))
    for key, field, v in checks:
        if not near(side[key][field], v):
            bad.append(f"{name}: {key}.{field} {side[key][field]}, recomputed {v}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

# ---- help ----
run "$fm" compare --help
check "--help names --holdout" grep -q -- "--holdout CAPTURE" "$tmp/out"
check "--help names --holdout-model" grep -q -- "--holdout-model FILE" "$tmp/out"
check "--help has a holdout example" grep -q "flowmimic compare --holdout .*\.pcap" "$tmp/out"

# ---- G.729, both sides: the halves' figures against tshark + python ----
run "$fm" compare --holdout "$g729" --json --holdout-model "$tmp/ho.json"
expect "g729 --json" 0
cp "$tmp/out" "$tmp/g729.json"
check "g729: valid JSON" jqe . "$tmp/g729.json"
check "g729: both sides fitted with a sequence" \
    jqe '[.sides[] | .fitted and .sequence and .note == null] | all' "$tmp/g729.json"
check "g729: 10x half 2 drawn, both ways" jqe '[.sides[] | .packets |
    .model == 10 * .half2 and .independent == 10 * .half2] | all' "$tmp/g729.json"
check "g729: every KS in [0, 1]" jqe '[.sides[] | (.ks_length, .ks_gap) | .[] |
    select(. != null) | . >= 0 and . <= 1] | length == 12 and all' "$tmp/g729.json"
check "g729: every acf in [-1, 1]" jqe '[.sides[] | (.acf1_length, .acf1_gap) |
    (.half1, .half2, .model, .independent) | . >= -1 and . <= 1] | all' "$tmp/g729.json"
packets "$g729" "$tmp/g729.json"
check "g729: tshark sees the flow" test "$(wc -l <"$tmp/pk.tsv")" -gt 1000
run python3 "$tmp/recompute.py" "$tmp/g729.json" "$tmp/pk.tsv"
expect "g729: halves agree with the recomputation" 0
# The sequence keeps the talk spurts' persistence (half 2's lag-1 autocorrelation of length
# is 0.86); 3390 independent draws have an acf whose sd is about 1/sqrt(3390) = 0.017.
check "g729: sequence draws keep the length acf" jqe '[.sides[] | .acf1_length.model > 0.4] | all' \
    "$tmp/g729.json"
check "g729: independent draws lose it" \
    jqe '[.sides[] | .acf1_length.independent | fabs < 0.1] | all' "$tmp/g729.json"

# The model of half 1 is exactly estimate's model of a capture holding only half 1's packets.
keep=$(python3 - "$tmp/pk.tsv" <<'EOF'
import sys
rows = [l.split("\t") for l in open(sys.argv[1])]
keep = []
for s in ("0", "1"):
    side = sorted((int(r[0]) for r in rows if r[1] == s))
    keep += side[: len(side) // 2]
print(",".join(str(f) for f in sorted(keep)))
EOF
)
tshark -r "$g729" -Y "frame.number in {$keep}" -w "$tmp/half1.pcap" 2>/dev/null
run "$fm" -q estimate -o "$tmp/est.json" "$tmp/half1.pcap"
expect "estimate of half 1" 0
check "g729: --holdout-model = estimate of half 1" cmp -s \
    <(jq 'del(.source.capture)' "$tmp/ho.json") <(jq 'del(.source.capture)' "$tmp/est.json")

# ---- seeds ----
run "$fm" compare --holdout "$g729" --json --seed 1
check "same seed, same report" cmp -s "$tmp/out" "$tmp/g729.json"
run "$fm" compare --holdout "$g729" --json --seed 2
cp "$tmp/out" "$tmp/seed2.json"
check "another seed: the halves are the same" jqe --slurpfile a "$tmp/g729.json" \
    '[.sides[] | .ks_length.half1_vs_half2, .acf1_gap.half1] ==
     [$a[0].sides[] | .ks_length.half1_vs_half2, .acf1_gap.half1]' "$tmp/seed2.json"
check "another seed: other draws" jqe --slurpfile a "$tmp/g729.json" \
    '.sides.local.ks_length.model_vs_half2 != $a[0].sides.local.ks_length.model_vs_half2' \
    "$tmp/seed2.json"

# ---- H.264, one side: the table, and the remote side's note ----
run "$fm" compare --holdout "$h264"
expect "h264 table" 0
check "h264: table has the rows" grep -q "^  KS length .*[0-9]" "$tmp/out"
check "h264: table has the columns" grep -q "h1 vs h2 model vs h2 indep vs h2" "$tmp/out"
check "h264: remote side has nothing to split" grep -q "note: the remote side has 0 packets" \
    "$tmp/out"
cp "$tmp/out" "$tmp/h264.txt"
run "$fm" compare --holdout "$h264" --json
cp "$tmp/out" "$tmp/h264.json"
packets "$h264" "$tmp/h264.json"
run python3 "$tmp/recompute.py" "$tmp/h264.json" "$tmp/pk.tsv"
expect "h264: halves agree with the recomputation" 0
ks=$(printf '%.4f' "$(jq .sides.local.ks_length.half1_vs_half2 "$tmp/h264.json")")
check "h264: table KS = JSON KS" grep -q "^  KS length  *$ks " "$tmp/h264.txt"

# ---- too few packets to fit: the halves are still reported, the model is not ----
run "$fm" compare --holdout "$tiny" --json
expect "tiny: exit 0" 0
check "tiny: no model of 8 packets, and why" jqe '.sides.local | .fitted == false and
    (.note | test("8 packets, fewer than the 100 a fit needs")) and .packets.half1 == 8 and
    .ks_length.half1_vs_half2 != null and .ks_length.model_vs_half2 == null' "$tmp/out"

# ---- bad inputs ----
run "$fm" compare --holdout "$tmp/ho.json"
expect "a model is not a capture" 1 "is a model, not a capture"
run "$fm" compare --holdout "$tmp/none.pcap"
expect "missing capture" 1 "none.pcap"
run "$fm" compare --holdout "$g729" --flow 5
expect "no such flow" 1 "no flow 5 in the capture"
run "$fm" compare --holdout "$sip" --flow 30
expect "a one-packet flow" 1 "nothing to split"
run "$fm" compare --holdout "$g729" "$g729"
expect "operands beside --holdout" 2 "unexpected argument"
run "$fm" compare --holdout "$g729" --flow-b 0
expect "--flow-b with --holdout" 2 "--holdout takes neither"
run "$fm" compare --holdout "$g729" --plot "$tmp/p"
expect "--plot with --holdout" 2 "--holdout takes neither"
run "$fm" compare --holdout-model "$tmp/x.json" "$g729" "$g729"
expect "--holdout-model alone" 2 "--holdout-model goes with --holdout"
run "$fm" compare --holdout "$g729" --holdout-model "$tmp/nodir/x.json"
expect "--holdout-model in a missing folder" 1 "nodir"
run "$fm" compare --sequence maybe "$g729" "$g729"
expect "--sequence maybe" 2 "expected on or off"

report_and_exit
