#!/usr/bin/env bash
# tests/integration/cli.sh - the flowmimic program as a user meets it: exit codes, one-line
# errors that name the thing, no partial output files, Ctrl-C, and the main commands on the
# bundled captures.
# Usage: cli.sh FLOWMIMIC MKPCAP SRCDIR
set -u
fm=$1
mk=$2
src=$3
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
video=$src/traffic_dumps/rtp_video_160kbps_1dir__trex.pcap
g729=$src/traffic_dumps/rtp_g729_voice_bidir_vad__trex.pcap

# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"
# ---- global options and help ----
run "$fm" --version
check "--version" test "$rc" = 0 -a -n "$(grep -E '^flowmimic [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out")"
run "$fm" --help
check "--help lists commands" grep -q "estimate" "$tmp/out"
run "$fm" help estimate
cp "$tmp/out" "$tmp/help1"
run "$fm" estimate --help
check "help X = X --help" cmp -s "$tmp/help1" "$tmp/out"
check "estimate --help names its options" grep -q -- "--max-k" "$tmp/out"
run "$fm"
check "no command: usage, exit 2" test "$rc" = 2
run "$fm" frobnicate
expect "unknown command" 2 "unknown command 'frobnicate'"
run "$fm" estimate --bogus "$video"
expect "unknown option" 2 "try 'flowmimic estimate --help'"
# What was typed is quoted escaped: one line, no raw control bytes.
run "$fm" estimate "--a$(printf '\nb\033')c" "$video"
expect "unknown option with control bytes: one line" 2 'unknown option'
check "unknown option: escaped" grep -qF -- '--a\nb\x1bc' "$tmp/err"
run "$fm" estimate -k 11 "$video"
expect "-k out of range" 2 "-k"
run "$fm" estimate --max-k
expect "missing value" 2 "needs a value"
run "$fm" estimate --trim 90,10 "$video"
expect "--trim order" 2 "--trim"
run "$fm" estimate --top 2 --flow 0 "$video"
expect "--top with --flow" 2 "exclude"
run "$fm" flows
expect "flows without capture" 2 "name a capture"
run "$fm" estimate --flow 'udp 1.2.3.4 5.6.7.8:2' "$video"
expect "bad flow spec" 2 "udp 1.2.3.4 5.6.7.8:2"

# ---- bad captures: one line naming the file, exit 1, nothing written ----
run "$fm" flows "$tmp/missing.pcap"
expect "missing capture" 1 "missing.pcap"
printf 'this is not a capture, just some text\n' >"$tmp/text.pcap"
run "$fm" flows "$tmp/text.pcap"
expect "text file" 1 "text.pcap"
: >"$tmp/empty.pcap"
run "$fm" flows "$tmp/empty.pcap"
expect "empty file" 1 "empty.pcap"
run "$fm" flows "$tmp"
expect "directory" 1 "$tmp"
# A capture cut inside a packet is read to its last whole packet with one warning, as tcpdump
# reads it (issue 11): the same packet count as tcpdump, exit 0, a model from what is there.
head -c 200000 "$video" >"$tmp/cut.pcap"
run "$fm" flows --json "$tmp/cut.pcap"
expect "cut capture: read to its last whole packet" 0
check "cut capture: one warning naming it" test "$(grep -c "cut.pcap' ends in the middle of packet" "$tmp/err")" = 1
whole=$(tcpdump -nr "$tmp/cut.pcap" 2>/dev/null | wc -l)
check "cut capture: as many packets as tcpdump reads ($whole)" grep -q "\"local_packets\": $whole," "$tmp/out"
mkdir -p "$tmp/o1"
run "$fm" estimate -o "$tmp/o1/m.json" "$tmp/cut.pcap"
expect "estimate on a cut capture" 0
check "cut capture: estimate warns once over its two passes" test "$(grep -c "ends in the middle of packet" "$tmp/err")" = 1
check "cut capture: a model" test -s "$tmp/o1/m.json"
check "no temporary files left" no_tmp_files "$tmp/o1"
# Hostile bytes inside a valid capture: every frame is counted and skipped or read, never a crash.
"$mk" "$tmp/good.pcap" 2000 4
cp "$tmp/good.pcap" "$tmp/hostile.pcap"
for off in 60 700 3000 9000 20000 50000; do
    printf '\xff\xff\xff\xff\x00\x00\x45\x0f\xff\xff\x11\x11' |
        dd of="$tmp/hostile.pcap" bs=1 seek=$off conv=notrunc 2>/dev/null
done
run "$fm" flows "$tmp/hostile.pcap"
check "hostile capture: exit 0 or 1, never a crash" test "$rc" = 0 -o "$rc" = 1
check "hostile capture: no sanitizer report" test -z "$(grep -E 'Sanitizer|runtime error' "$tmp/err")"

# ---- flows on the bundled captures ----
run "$fm" flows "$video"
check "flows exit 0" test "$rc" = 0
check "flows: header and one flow" test "$(wc -l <"$tmp/out")" = 2
check "flows: the video flow with its 1246 packets" grep -qE '^ +0 udp .* 1246 ' "$tmp/out"
run "$fm" flows --json "$g729"
check "flows --json: local side sent 677 packets" grep -q '"local_packets": 677' "$tmp/out"
check "flows --json: flow spec" grep -q '"flow": "udp 21.0.0.2:10000 22.0.0.6:10000"' "$tmp/out"
run "$fm" flows --top 1 "$tmp/good.pcap"
check "flows --top 1" test "$(wc -l <"$tmp/out")" = 2
# "-" is standard input (tcpdump -w - | flowmimic flows -): the same table as from the file.
"$fm" flows --json "$g729" >"$tmp/flows.file"
"$fm" flows --json - <"$g729" >"$tmp/flows.stdin"
check "flows -: exit 0" test "$?" = 0
check "flows -: the same flows as from the file" \
    test "$(grep -v '"capture"' "$tmp/flows.stdin")" = "$(grep -v '"capture"' "$tmp/flows.file")"
# A pcapng block whose timestamp is past year 2262 (found by fuzzing): one line naming the
# packet, exit 1, and estimate writes no model.
badts=$src/tests/fuzz/corpus/pcap/pcap_in-ts-overflow.pcapng
run "$fm" flows "$badts"
expect "timestamp out of range" 1 "is corrupt at packet 15: its timestamp (17369589463866 s) is out of range"
run "$fm" estimate -o "$tmp/badts.json" "$badts"
expect "estimate on a corrupt timestamp" 1 "is corrupt at packet 15"
check "corrupt timestamp: no model written" test ! -e "$tmp/badts.json"
run "$fm" flows - </dev/null
expect "flows - with nothing on stdin" 1 "'-' is not a pcap or pcapng capture"
run "$fm" estimate -o "$tmp/x.json" - <"$g729"
expect "estimate - (reads twice)" 1 "estimate reads the capture twice, so save it to a file first"
check "estimate -: no model written" test ! -e "$tmp/x.json"
# One rule for inputs that cannot be looked at first (packet/sniff.h): they are captures,
# streamed; a command that reads twice says to save them to a file.
run "$fm" validate - <"$g729"
expect "validate -: read as a capture" 0
check "validate -: the same verdict as on the file" grep -q "1353 packets, 1 flows.*valid" "$tmp/out"
run "$fm" convert --flow 0 <(cat "$g729") "$tmp/pipe.json"
expect "convert --flow from a pipe (reads twice)" 1 "save it to a file first"
check "convert --flow from a pipe: nothing written" test ! -e "$tmp/pipe.json"

# ---- estimate and show ----
run "$fm" estimate -o "$tmp/video.json" "$video"
check "estimate exit 0" test "$rc" = 0
check "estimate prints PATH<TAB>FLOW" grep -qP "^$tmp/video.json\tudp " "$tmp/out"
run "$fm" show "$tmp/video.json"
check "show exit 0" test "$rc" = 0
check "show: payload table" grep -q "payload length (bytes)" "$tmp/out"
check "show: iat table" grep -q "inter-arrival time" "$tmp/out"
check "show: RTP payload type 97" grep -q "RTP payload type 97" "$tmp/out"
check "show: one-way flow" grep -q "remote side.*no packets" "$tmp/out"
run "$fm" show --json "$tmp/video.json"
cp "$tmp/out" "$tmp/norm.json"
run "$fm" show --json "$tmp/norm.json"
check "show --json is a fixed point" cmp -s "$tmp/norm.json" "$tmp/out"
check "show --json: format" grep -q '"format": "flowmimic.model"' "$tmp/norm.json"
(cd "$tmp" && "$fm" estimate "$g729" >/dev/null 2>&1)
check "default output models/<capture>-0.json" test -s "$tmp/models/rtp_g729_voice_bidir_vad__trex-0.json"
run "$fm" estimate -k 2 --iat-scale linear --trim 1,99 --seed 5 -o "$tmp/k2.json" "$video"
check "estimate with -k 2 --iat-scale linear --trim" test "$rc" = 0
check "-k 2 honoured" grep -q '"k": 2' "$tmp/k2.json"
check "--iat-scale linear honoured" grep -q '"scale": "linear"' "$tmp/k2.json"
run "$fm" estimate --min-samples 100000 -o "$tmp/few.json" "$g729"
check "--min-samples: exit 0 with notes" test "$rc" = 0
check "--min-samples: note in stderr" grep -q "min-samples" "$tmp/err"
check "--min-samples: no payload model" grep -q '"payload_length": null' "$tmp/few.json"
mkdir -p "$tmp/many"
run "$fm" estimate --top 3 -o "$tmp/many/" "$tmp/good.pcap"
check "--top 3 writes three models" test "$(ls "$tmp/many" | grep -c json)" = 3
run "$fm" estimate --top 2 -o "$tmp/one.json" "$tmp/good.pcap"
expect "-o file with two flows" 2 "directory"
run "$fm" estimate --flow 7 "$video"
expect "flow index out of range" 1 "flow 7 is not in"
run "$fm" estimate --flow 'udp 198.18.0.1:1 198.18.0.2:2' "$video"
expect "flow spec not in capture" 1 "is not in"
run "$fm" estimate --flow 'udp 21.0.0.2:1026 22.0.0.10:1026' -o "$tmp/spec.json" "$video"
check "flow by spec, either order" test "$rc" = 0 -a -s "$tmp/spec.json"
check "the sender stays local" grep -q '"flow": "udp 22.0.0.10:1026 21.0.0.2:1026"' "$tmp/spec.json"
printf '0\n# a comment\n\n' >"$tmp/flows.txt"
run "$fm" estimate --flows-file "$tmp/flows.txt" -o "$tmp/ff.json" "$video"
check "--flows-file" test "$rc" = 0 -a -s "$tmp/ff.json"
run "$fm" estimate --flows-file "$tmp/nope.txt" "$video"
expect "missing flows file" 1 "nope.txt"
run "$fm" estimate -o "$tmp/nodir/m.json" "$video"
expect "unwritable output" 1 "nodir/m.json"
run "$fm" estimate --plot "$tmp/plots" -o "$tmp/p.json" "$g729"
check "--plot exit 0" test "$rc" = 0
check "--plot: four PNGs" test "$(ls "$tmp/plots"/*.png 2>/dev/null | wc -l)" = 4
check "--plot: real PNG" test "$(head -c 4 "$tmp/plots/rtp_g729_voice_bidir_vad__trex-0-local-payload.png" | od -An -c | tr -d ' ')" = "211PNG"
# A quote in the capture's name or the directory is drawn, not refused after the model was
# written (issue 11).
mkdir -p "$tmp/pl'ots"
cp "$g729" "$tmp/pl'ots/o'clock.pcap"
run "$fm" estimate --plot "$tmp/pl'ots" -o "$tmp/pl'ots/m.json" "$tmp/pl'ots/o'clock.pcap"
check "--plot with quotes in names: exit 0" test "$rc" = 0
check "--plot with quotes in names: four PNGs" test "$(ls "$tmp/pl'ots"/*.png 2>/dev/null | wc -l)" = 4

# ---- outputs that are not regular files: written through, never replaced ----
# Private device nodes made with mknod (root only; never /dev itself): a copy of /dev/null
# and of /dev/full. Before the fix, estimate -o NULL replaced the node with a regular file
# and exit 0, and -o FULL reported no error.
if [ "$(id -u)" = 0 ]; then
    mknod "$tmp/null" c 1 3
    mknod "$tmp/full" c 1 7
    mkfifo "$tmp/out.fifo"
    run "$fm" estimate -o "$tmp/null" "$g729"
    expect "estimate -o NULL: exit 0" 0
    check "estimate -o NULL: still the device" test -c "$tmp/null"
    run "$fm" estimate -o "$tmp/full" "$g729"
    expect "estimate -o FULL: no space left" 1 "cannot write '$tmp/full': No space left on device"
    check "estimate -o FULL: still the device" test -c "$tmp/full"
    run "$fm" estimate -o "$tmp/m0.json" "$g729"
    run "$fm" generate --count 20 -o "$tmp/null" "$tmp/m0.json"
    expect "generate -o NULL: exit 0" 0
    check "generate -o NULL: still the device" test -c "$tmp/null"
    run "$fm" generate --count 20 -o "$tmp/full" "$tmp/m0.json"
    expect "generate -o FULL: no space left" 1 "No space left on device"
    check "generate -o FULL: still the device" test -c "$tmp/full"
    run "$fm" convert "$g729" "$tmp/full"
    expect "convert OUT=FULL: no space left" 1 "No space left on device"
    check "convert OUT=FULL: still the device" test -c "$tmp/full"
    # A FIFO: what estimate writes arrives at the reader, and it stays a FIFO.
    cat "$tmp/out.fifo" >"$tmp/fifo.json" &
    reader=$!
    run "$fm" estimate -o "$tmp/out.fifo" "$g729"
    wait "$reader"
    expect "estimate -o FIFO: exit 0" 0
    check "estimate -o FIFO: still a FIFO" test -p "$tmp/out.fifo"
    check "estimate -o FIFO: the model came through" "$fm" show "$tmp/fifo.json"
    # /dev/stdout appends where the shell said to, and stays what it was.
    echo first >"$tmp/log"
    "$fm" estimate -o /dev/stdout "$g729" >>"$tmp/log" 2>/dev/null
    check "estimate -o /dev/stdout >>: appended" test "$(head -n 1 "$tmp/log")" = first
    check "estimate -o /dev/stdout >>: the model follows" grep -q '"format": "flowmimic.model"' "$tmp/log"
    check "/dev/stdout is still a link" test -L /dev/stdout
fi
# No permission: a user who cannot write the directory is told so before the fit, and the
# directory is left as it was.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    mkdir -p "$tmp/ro"
    chmod 755 "$tmp/ro" "$tmp"
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$fm" estimate -o "$tmp/ro/m.json" "$g729"
    expect "estimate into an unwritable directory" 1 "cannot write '$tmp/ro/m.json' into directory"
    check "unwritable directory: nothing written" test -z "$(ls -A "$tmp/ro")"
fi
# A link to a regular file: the file is replaced whole, the link stays.
run "$fm" estimate -o "$tmp/target.json" "$video"
ln -s target.json "$tmp/link.json"
run "$fm" estimate -o "$tmp/link.json" "$g729"
expect "estimate -o LINK: exit 0" 0
check "estimate -o LINK: still a link" test -L "$tmp/link.json"
check "estimate -o LINK: the target holds the new model" grep -q '"10000"\|10000' "$tmp/target.json"
# Refused before any work: an empty name, a directory where a file is needed, a missing
# directory; a flows file that never ends (/dev/zero) is bounded.
run "$fm" estimate -o '' "$g729"
expect "estimate -o ''" 1 "empty"
run "$fm" generate --count 5 -o "$tmp" "$tmp/target.json"
expect "generate -o DIR" 1 "is a directory"
run "$fm" convert "$g729" "$tmp"
expect "convert OUT=DIR" 1 "is a directory"
run "$fm" convert "$g729" "$tmp/nodir/x.json"
expect "convert OUT in a missing directory" 1 "no directory"
run timeout 20 "$fm" estimate --flows-file /dev/zero "$g729"
expect "--flows-file /dev/zero: refused" 1 "is a device, not a file"
# A pipe is read, but never past 64 KiB.
run timeout 20 "$fm" estimate --flows-file <(yes 0) "$g729"
expect "--flows-file from an endless pipe: bounded" 1 "too large"
run "$fm" estimate -o "$tmp/pipe.json" --flows-file <(echo 0) "$g729"
expect "--flows-file from a pipe: read" 0
printf '0\n\0\n' >"$tmp/nul.txt"
run "$fm" estimate --flows-file "$tmp/nul.txt" "$g729"
expect "--flows-file with a NUL byte" 2 "NUL"
# Numbers: hexadecimal is not a duration.
run "$fm" generate --duration 0x10 -o "$tmp/h.pcap" "$tmp/target.json"
expect "--duration 0x10" 2 "expected a duration such as 250ms, 5s, 2m or 1h, got '0x10'"
check "--duration 0x10: no file" test ! -e "$tmp/h.pcap"
# Durations take units, as tcpreplay's and iperf3's users type them (issue 11): 1.5s, 1500ms
# and 1.5 are the same time.
run "$fm" generate --duration 1.5 --seed 3 -o "$tmp/d1.pcap" "$tmp/target.json"
expect "--duration 1.5" 0
run "$fm" generate --duration 1500ms --seed 3 -o "$tmp/d2.pcap" "$tmp/target.json"
expect "--duration 1500ms" 0
run "$fm" generate --duration 0.025m --seed 3 -o "$tmp/d3.pcap" "$tmp/target.json"
expect "--duration 0.025m" 0
check "1.5, 1500ms and 0.025m write the same packets" cmp -s "$tmp/d1.pcap" "$tmp/d2.pcap"
check "1.5 and 0.025m write the same packets" cmp -s "$tmp/d1.pcap" "$tmp/d3.pcap"
run "$fm" generate --duration 2sec -o "$tmp/d4.pcap" "$tmp/target.json"
expect "--duration 2sec" 2 "expected a duration such as 250ms, 5s, 2m or 1h, got '2sec'"

# ---- bad models ----
printf '{"format": "flowmimic.model", "version": 1, "flow": ' >"$tmp/broken.json"
run "$fm" show "$tmp/broken.json"
expect "broken JSON" 1 "broken.json"
sed -E 's/"version": [0-9]+/"version": 99/' "$tmp/norm.json" >"$tmp/newer.json"
run "$fm" show "$tmp/newer.json"
expect "newer model" 1 "newer than this flowmimic reads"
run "$fm" show "$tmp/missing.json"
expect "missing model" 1 "missing.json"

# ---- pipes and Ctrl-C ----
mkfifo "$tmp/fifo.pcap"
run "$fm" estimate "$tmp/fifo.pcap"
expect "estimate on a pipe" 1 "regular file"
# Ctrl-C while flows reads a pipe that has gone quiet: the flows read so far are listed.
"$mk" "$tmp/small.pcap" 300 2
(cat "$tmp/small.pcap"; sleep 30) >"$tmp/fifo.pcap" &
feeder=$!
"$fm" flows "$tmp/fifo.pcap" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 50); do
    # wait until flowmimic has read everything the feeder wrote (the pipe is empty)
    [ "$(cat /proc/$pid/io 2>/dev/null | awk '/^rchar/ {print $2}')" -ge "$(stat -c %s "$tmp/small.pcap")" ] 2>/dev/null && break
    sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
kill $feeder 2>/dev/null
wait $feeder 2>/dev/null
check "Ctrl-C on flows: exit 130" test "$rc" = 130
check "Ctrl-C on flows: says the list is partial" grep -q "partial" "$tmp/err"
check "Ctrl-C on flows: lists the 300 packets read" grep -qE '^ +0 udp ' "$tmp/out"
check "Ctrl-C on flows: counts add up" test "$(awk 'NR > 1 {s += $5 + $7} END {print s}' "$tmp/out")" = 300
# Ctrl-C while a large capture is being read or fitted: either the model is complete or it is
# absent; never a partial file, never a leftover temporary.
"$mk" "$tmp/big.pcap" 1000000 50
mkdir -p "$tmp/o2"
"$fm" estimate -o "$tmp/o2/big.json" "$tmp/big.pcap" >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 0.3
kill -INT $pid
wait $pid
rc=$?
if [ "$rc" = 130 ]; then
    check "Ctrl-C: no model" test ! -e "$tmp/o2/big.json"
    check "Ctrl-C: says interrupted" grep -q "interrupted" "$tmp/err"
else
    check "Ctrl-C too late: complete model" "$fm" show "$tmp/o2/big.json"
fi
check "Ctrl-C: no temporary files" no_tmp_files "$tmp/o2"

# capture -r: a file through a filter into another, as tcpdump -r IN -w OUT EXPR (issue 11):
# the same packets with the same timestamps as tcpdump writes.
run "$fm" capture -r "$g729" -w "$tmp/r1.pcap" udp and src host 21.0.0.2
expect "capture -r with a filter" 0
tcpdump -nr "$g729" -w "$tmp/r2.pcap" udp and src host 21.0.0.2 2>/dev/null
check "capture -r: tcpdump's packets, to the nanosecond" \
    cmp -s <(tcpdump -nr "$tmp/r1.pcap" -tt --nano 2>/dev/null) <(tcpdump -nr "$tmp/r2.pcap" -tt --nano 2>/dev/null)
check "capture -r: some packets, not all" test "$(tcpdump -nr "$tmp/r1.pcap" 2>/dev/null | wc -l)" -gt 0 -a \
    "$(tcpdump -nr "$tmp/r1.pcap" 2>/dev/null | wc -l)" -lt "$(tcpdump -nr "$g729" 2>/dev/null | wc -l)"
check "capture -r -c 5 -w -: five packets through a pipe" \
    test "$("$fm" capture -r "$g729" -c 5 -w - 2>/dev/null | tcpdump -nr - 2>/dev/null | wc -l)" = 5
run "$fm" capture -r "$g729" -i lo -w "$tmp/r3.pcap"
expect "capture -r with -i" 2 "not with -i"
run "$fm" capture -r "$g729" -d 5 -w "$tmp/r3.pcap"
expect "capture -r with --duration" 2 "--duration is for an interface"
run "$fm" capture -r "$tmp/missing.pcap" -w "$tmp/r3.pcap"
expect "capture -r of a missing file" 1 "missing.pcap"
check "capture -r: nothing written after an error" test ! -e "$tmp/r3.pcap"

# replay --flow takes an index as `flows` numbers them, as every other command does (issue 11).
run "$fm" replay --dry-run --count 5 --flow 0 "$g729"
expect "replay --flow INDEX" 0
cp "$tmp/out" "$tmp/by_index"
run "$fm" replay --dry-run --count 5 --flow 'udp 21.0.0.2:10000 22.0.0.6:10000' "$g729"
check "replay --flow 0 is the spec of flow 0" cmp -s "$tmp/by_index" "$tmp/out"
run "$fm" replay --dry-run --count 5 --flow 3 "$g729"
expect "replay --flow past the last index" 1 "flow 3 is not in"

# --multiplier, tcpreplay's name: --speed for a capture, --rate-scale for a model.
run "$fm" replay --dry-run --count 5 --multiplier 2 "$g729"
cp "$tmp/out" "$tmp/mult"
run "$fm" replay --dry-run --count 5 --speed 2 "$g729"
check "replay --multiplier 2 is --speed 2 for a capture" cmp -s "$tmp/mult" "$tmp/out"
run "$fm" replay --dry-run --count 5 --seed 1 --multiplier 3 "$tmp/target.json"
sed "s/rate x[0-9.]*//" "$tmp/out" >"$tmp/mult"
run "$fm" replay --dry-run --count 5 --seed 1 --rate-scale 3 "$tmp/target.json"
check "replay --multiplier 3 is --rate-scale 3 for a model" cmp -s "$tmp/mult" <(sed 's/rate x[0-9.]*//' "$tmp/out")

# Without --seed a replay draws from a random seed, shown in the plan, so that two runs (two
# hosts) do not send the same SSRCs and sequence numbers (issue 11); --seed repeats a run.
run "$fm" replay --dry-run --count 20 "$tmp/target.json"
cp "$tmp/out" "$tmp/r1"
run "$fm" replay --dry-run --count 20 "$tmp/target.json"
check "replay without --seed: another seed each run" \
    test "$(grep -o 'seed [0-9]*' "$tmp/r1")" != "$(grep -o 'seed [0-9]*' "$tmp/out")"
seed=$(grep -o 'seed [0-9]*' "$tmp/r1" | cut -d' ' -f2)
run "$fm" replay --dry-run --count 20 --seed "$seed" "$tmp/target.json"
check "replay --seed with the seed shown repeats the run" cmp -s "$tmp/r1" "$tmp/out"

# An IPv6 endpoint widens its column instead of pushing the rest of its row out of line
# (issue 11): every row of the table has the same length.
linphone=$src/../shared/traffic_dumps/sip_linphone_video_call_mixed_flows__mtaa.pcap
if [ -e "$linphone" ]; then
    run "$fm" flows "$linphone"
    check "flows: an IPv6 flow is listed" grep -q "fe80::" "$tmp/out"
    check "flows: IPv6 rows line up with the others" test "$(tail -n +2 "$tmp/out" | awk '{print length}' | sort -u | wc -l)" = 1
elif [ "${CI:-}" = true ]; then
    bad "no shared captures at $src/../shared"
fi
report_and_exit
