#!/usr/bin/env bash
# tests/integration/generate.sh - `flowmimic generate` as a user meets it: models estimated
# from the bundled captures become pcaps that tshark decodes as RTP, with the counts,
# durations, streams, variants and overrides asked for; bad inputs give one-line errors;
# Ctrl-C leaves no file.
# Usage: generate.sh FLOWMIMIC SRCDIR
set -u
fm=$1
src=$2
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
video=$src/traffic_dumps/rtp_video_160kbps_1dir__trex.pcap
g729=$src/traffic_dumps/rtp_g729_voice_bidir_vad__trex.pcap

if ! command -v tshark >/dev/null; then
    echo "tshark is not installed: skipping"
    exit 77
fi

# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"
# fields FILE PORTS FIELD...: tshark's fields, one packet a line, with PORTS decoded as RTP.
fields() {
    local f=$1 ports=$2
    shift 2
    local args=()
    for e in "$@"; do args+=(-e "$e"); done
    tshark -n -r "$f" -d "udp.port==$ports,rtp" -o ip.check_checksum:TRUE \
        -o udp.check_checksum:TRUE -T fields -E separator=' ' "${args[@]}" 2>/dev/null
}

# all_rtp FILE PORTS PT: every packet is RTP version 2 with payload type PT and good IP and
# UDP checksums (tshark's status 1 is "good").
all_rtp() {
    local f=$1 ports=$2 pt=$3 n bad_lines
    n=$(fields "$f" "$ports" frame.number | wc -l)
    bad_lines=$(fields "$f" "$ports" rtp.version rtp.p_type udp.checksum.status |
        grep -cv "^2 $pt 1$")
    [ "$n" -gt 0 ] && [ "$bad_lines" = 0 ]
}

count_of() {
    fields "$1" 1 frame.number | wc -l
}

# ---- models ----
run "$fm" estimate -o "$tmp/video.json" "$video"
check "estimate video" test "$rc" = 0
run "$fm" estimate -o "$tmp/g729.json" "$g729"
check "estimate g729" test "$rc" = 0
vdur=$(awk -F': ' '/"duration_s"/ {gsub(/,/, "", $2); print $2; exit}' "$tmp/video.json")

# ---- video, defaults: the side's own duration ----
run "$fm" generate -o "$tmp/v.pcap" "$tmp/video.json"
check "generate video: exit 0" test "$rc" = 0 -a -s "$tmp/v.pcap"
check "generate prints FILE, packets, bytes, duration" grep -qP "^$tmp/v.pcap\t[0-9]+ packets\t[0-9]+ payload bytes\t[0-9.]+ s$" "$tmp/out"
check "video: every packet RTP v2, PT 97, good checksums" all_rtp "$tmp/v.pcap" 1026 97
n=$(count_of "$tmp/v.pcap")
check "video: packet count near the capture's 1246 ($n)" test "$n" -gt 1000 -a "$n" -lt 1500
check "video: printed count is the file's" grep -q "	$n packets	" "$tmp/out"
last=$(fields "$tmp/v.pcap" 1 frame.time_relative | tail -1)
check "video: ends within the model's duration ($last < $vdur)" awk "BEGIN {exit !($last < $vdur && $last > $vdur * 0.8)}"
check "video: model's addresses and TTL" test "$(fields "$tmp/v.pcap" 1026 ip.src ip.dst udp.srcport udp.dstport ip.ttl | sort -u)" = "22.0.0.10 21.0.0.2 1026 1026 126"
check "video: one SSRC" test "$(fields "$tmp/v.pcap" 1026 rtp.ssrc | sort -u | wc -l)" = 1
check "video: markers on frame ends" test "$(fields "$tmp/v.pcap" 1026 rtp.marker | grep -c '^1$')" -gt 100
check "no temporary files" no_tmp_files "$tmp"

# ---- count, duration ----
run "$fm" generate --count 500 -o "$tmp/c.pcap" "$tmp/video.json"
check "--count 500: 500 packets" test "$rc" = 0 -a "$(count_of "$tmp/c.pcap")" = 500
run "$fm" generate --duration 5 -o "$tmp/d.pcap" "$tmp/video.json"
last=$(fields "$tmp/d.pcap" 1 frame.time_relative | tail -1)
check "--duration 5: last packet before 5 s ($last)" awk "BEGIN {exit !($rc == 0 && $last < 5 && $last > 4)}"
run "$fm" generate --duration 60 --count 100 -o "$tmp/cd.pcap" "$tmp/video.json"
check "--count and --duration: the first limit wins" test "$(count_of "$tmp/cd.pcap")" = 100

# ---- streams ----
run "$fm" generate --streams 3 --count 900 -o "$tmp/s.pcap" "$tmp/video.json"
check "--streams 3: exit 0" test "$rc" = 0
check "--streams 3: all RTP" all_rtp "$tmp/s.pcap" 1026-1028 97
check "--streams 3: three SSRCs" test "$(fields "$tmp/s.pcap" 1026-1028 rtp.ssrc | sort -u | wc -l)" = 3
check "--streams 3: source ports 1026-1028" test "$(fields "$tmp/s.pcap" 1 udp.srcport | sort -u | tr '\n' ' ')" = "1026 1027 1028 "
# Staggered: each stream's first packet comes later than the previous stream's.
firsts=$(fields "$tmp/s.pcap" 1 udp.srcport frame.time_relative | awk '!seen[$1]++ {print $2}')
check "--streams 3: staggered starts" test "$(printf '%s\n' "$firsts" | sort -n | uniq | wc -l)" = 3
check "--streams 3: stream 0 starts at 0" test "$(printf '%s\n' "$firsts" | head -1)" = "0.000000000"
check "--streams 3: interleaved" test "$(fields "$tmp/s.pcap" 1 udp.srcport | head -60 | sort -u | wc -l)" = 3

# ---- voice, both sides ----
run "$fm" generate --side both --json -o "$tmp/g.pcap" "$tmp/g729.json"
check "--side both: exit 0" test "$rc" = 0
check "g729 both: every packet RTP v2, PT 18" all_rtp "$tmp/g.pcap" 10000 18
check "g729 both: two directions" test "$(fields "$tmp/g.pcap" 1 ip.src | sort -u | wc -l)" = 2
check "g729 both: two SSRCs" test "$(fields "$tmp/g.pcap" 10000 rtp.ssrc | sort -u | wc -l)" = 2
check "g729 both: no markers (voice)" test "$(fields "$tmp/g.pcap" 10000 rtp.marker | grep -c '^1$')" = 0
lp=$(awk -F': ' '/"local"/ {f = 1} f && /"packets"/ {gsub(/,/, "", $2); print $2; exit}' "$tmp/out")
rp=$(awk -F': ' '/"remote"/ {f = 1} f && /"packets"/ {gsub(/,/, "", $2); print $2; exit}' "$tmp/out")
check "--json: per side counts add up ($lp + $rp)" test "$((lp + rp))" = "$(count_of "$tmp/g.pcap")"
check "--json: local side's packets come from 21.0.0.2" test "$(fields "$tmp/g.pcap" 1 ip.src | grep -c '^21.0.0.2$')" = "$lp"
sorted=$(fields "$tmp/g.pcap" 1 frame.time_relative)
check "g729 both: time order" test "$sorted" = "$(printf '%s\n' "$sorted" | sort -n)"
run "$fm" generate --side remote -o "$tmp/r.pcap" "$tmp/g729.json"
check "--side remote: from 22.0.0.6" test "$rc" = 0 -a "$(fields "$tmp/r.pcap" 1 ip.src | sort -u)" = "22.0.0.6"
run "$fm" generate --side remote -o "$tmp/r.pcap" "$tmp/video.json"
expect "--side remote of a one-way flow" 1 "remote side of the model sent no packets"

# ---- overrides, determinism ----
run "$fm" generate --count 50 --src 2001:db8::1 --dst 2001:db8::2 --src-port 7000 --dst-port 7002 -o "$tmp/o6.pcap" "$tmp/video.json"
check "IPv6 overrides: exit 0" test "$rc" = 0
check "IPv6 overrides: addresses and ports" test "$(fields "$tmp/o6.pcap" 7000 ipv6.src ipv6.dst udp.srcport udp.dstport | sort -u)" = "2001:db8::1 2001:db8::2 7000 7002"
check "IPv6: all RTP with good UDP checksums" all_rtp "$tmp/o6.pcap" 7000 97
run "$fm" generate --count 300 --seed 9 -o "$tmp/s9a.pcap" "$tmp/video.json"
run "$fm" generate --count 300 --seed 9 -o "$tmp/s9b.pcap" "$tmp/video.json"
check "same seed, same file" cmp -s "$tmp/s9a.pcap" "$tmp/s9b.pcap"
run "$fm" generate --count 300 --seed 10 -o "$tmp/s10.pcap" "$tmp/video.json"
check "another seed, another file" test "$(cmp -s "$tmp/s9a.pcap" "$tmp/s10.pcap"; echo $?)" = 1

# ---- variants ----
cat >"$tmp/var.json" <<'EOF'
{ "format": "flowmimic.variants", "version": 1,
  "variants": [
    { "name": "ef", "rationale": "expedited forwarding, short TTL, another payload type",
      "changes": { "dscp": 46, "ttl": 9, "rtp_payload_type": 100 } },
    { "name": "fast", "changes": { "rate_scale": 2, "dst_port": 5006 } } ] }
EOF
run "$fm" generate --count 200 --variant "$tmp/var.json" -o "$tmp/ef.pcap" "$tmp/video.json"
check "variant (first): exit 0" test "$rc" = 0
check "variant: DSCP 46, TTL 9" test "$(fields "$tmp/ef.pcap" 1026 ip.dsfield.dscp ip.ttl | sort -u)" = "46 9"
check "variant: PT 100" all_rtp "$tmp/ef.pcap" 1026 100
run "$fm" generate --duration 10 --variant "$tmp/var.json:fast" -o "$tmp/fast.pcap" "$tmp/video.json"
run "$fm" generate --duration 10 -o "$tmp/slow.pcap" "$tmp/video.json"
nf=$(count_of "$tmp/fast.pcap")
ns=$(count_of "$tmp/slow.pcap")
check "variant rate_scale 2: about twice the packets ($nf vs $ns)" awk "BEGIN {exit !($nf > 1.6 * $ns && $nf < 2.4 * $ns)}"
check "variant dst_port 5006" test "$(fields "$tmp/fast.pcap" 5006 udp.dstport | sort -u)" = 5006
run "$fm" generate --variant "$tmp/var.json:nope" -o "$tmp/x.pcap" "$tmp/video.json"
expect "unknown variant name" 1 "variant 'nope' is not in"
printf '{"format": "flowmimic.variants", "version": 1, "variants": [{"name": "a", "changes": {"dcsp": 46}}]}' >"$tmp/unk.json"
run "$fm" generate --variant "$tmp/unk.json" -o "$tmp/x.pcap" "$tmp/video.json"
expect "variant: unknown field" 1 "field 'changes.dcsp' is not a known field"
printf '{"format": "flowmimic.variants", "version": 1, "variants": [{"name": "a", "changes": {"dscp": 64}}]}' >"$tmp/range.json"
run "$fm" generate --variant "$tmp/range.json" -o "$tmp/x.pcap" "$tmp/video.json"
expect "variant: dscp out of range" 1 "field 'changes.dscp' is out of range (0 to 63)"
printf '{"format": "flowmimic.variants", "version": 3, "variants": []}' >"$tmp/newer.json"
run "$fm" generate --variant "$tmp/newer.json" -o "$tmp/x.pcap" "$tmp/video.json"
expect "variant: newer version" 1 "newer than this flowmimic reads"
printf '{"format": "flowmimic.variants", ' >"$tmp/broken.json"
run "$fm" generate --variant "$tmp/broken.json" -o "$tmp/x.pcap" "$tmp/video.json"
expect "variant: broken JSON" 1 "not valid JSON"
run "$fm" generate --variant "$tmp/none.json" -o "$tmp/x.pcap" "$tmp/video.json"
expect "variant: missing file" 1 "none.json"
check "no output after failures" test ! -e "$tmp/x.pcap"

# ---- bad models and usage ----
run "$fm" generate -o "$tmp/x.pcap" "$tmp/missing.json"
expect "missing model" 1 "missing.json"
printf '{"format": "flowmimic.model", "version": 1, "flow": ' >"$tmp/broken-model.json"
run "$fm" generate -o "$tmp/x.pcap" "$tmp/broken-model.json"
expect "broken model" 1 "broken-model.json"
run "$fm" generate "$tmp/video.json"
expect "no -o" 2 "-o FILE"
run "$fm" generate -o "$tmp/x.pcap"
expect "no model" 2 "name a model file"
run "$fm" generate --side sideways -o "$tmp/x.pcap" "$tmp/video.json"
expect "bad --side" 2 "--side"
run "$fm" generate --count 0 -o "$tmp/x.pcap" "$tmp/video.json"
expect "--count 0" 2 "--count"
run "$fm" generate --streams 5000 -o "$tmp/x.pcap" "$tmp/video.json"
expect "--streams too many" 2 "--streams"
run "$fm" generate --src 10.0.0.1 --dst ::1 -o "$tmp/x.pcap" "$tmp/video.json"
expect "--src/--dst IP versions differ" 2 "IPv4"
run "$fm" generate --src ::1 -o "$tmp/x.pcap" "$tmp/video.json"
expect "--src IPv6 to the model's IPv4" 1 "IPv6 but the destination is IPv4"
run "$fm" generate -o "$tmp/nodir/x.pcap" "$tmp/video.json"
expect "unwritable output" 1 "nodir/x.pcap"
run "$fm" help generate
check "help generate" grep -q -- "--variant FILE\[:NAME\]" "$tmp/out"
check "no output after failures" test ! -e "$tmp/x.pcap"

# ---- Ctrl-C: no partial file, no temporary ----
mkdir -p "$tmp/intr"
"$fm" generate --count 1000000000 --streams 64 -o "$tmp/intr/big.pcap" "$tmp/video.json" \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 50); do
    ls -a "$tmp/intr" | grep -q '\.tmp\.' && break
    sleep 0.1
done
sleep 0.3
kill -INT $pid
wait $pid
rc=$?
err=$(cat "$tmp/err")
expect "Ctrl-C: exit 130" 130 "interrupted"
check "Ctrl-C: no capture" test ! -e "$tmp/intr/big.pcap"
check "Ctrl-C: no temporary files" no_tmp_files "$tmp/intr"

report_and_exit
