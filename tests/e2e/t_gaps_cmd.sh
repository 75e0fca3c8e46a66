#!/usr/bin/env bash
# quick
# serial
# `firstlight gaps`: exact listings of segments crafted with fl-segtool (every detected
# kind, recorded gaps, a hostile detail, --since/--until, --json through jq), exit
# statuses (--fail-on, damage, usage), then the real agent: a clean run has no detected
# gap, a batch deleted from a copy of its segment is an exact SEQUENCE_HOLE, a live run
# is not an unclean end, an agent stopped (SIGSTOP) for 3 s with 1 s heartbeats is a
# HEARTBEAT_MISSING, and kill -9 is an UNCLEAN_END.
. "$(dirname "$0")/../lib/e2e.sh"

SEG="$HELPERS/fl-segtool"

# gaps ARGS...: runs the command; stdout in $T/out, stderr in $T/err, status in $RC.
gaps() {
	"$FIRSTLIGHT" gaps "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# check_out NAME EXPECTED_STATUS: the status, and stdout equal to the text on stdin.
check_out() {
	local want
	want=$(cat)
	check "$1: exit status" "$2" "$RC" || cat "$T/err" >&2
	CHECKS=$((CHECKS + 1))
	if [ "$want" != "$(cat "$T/out")" ]; then
		fail "$1: output differs"
		diff <(echo "$want") "$T/out" | sed 's/^/    /' >&2
	fi
}

# expect_error NAME STATUS PATTERN ARGS...: status, one line on stderr, matching PATTERN.
expect_error() {
	local name=$1 want=$2 pattern=$3
	shift 3
	gaps "$@"
	check "$name: exit status" "$want" "$RC"
	check "$name: one line on stderr" 1 "$(grep -c . "$T/err")"
	check_cmd "$name: message names the cause" grep -q -- "$pattern" "$T/err" || cat "$T/err" >&2
}

# iso_ms NS: RFC 3339 UTC to the millisecond, as the table prints times.
iso_ms() {
	printf '%s.%03dZ' "$(date -u -d "@$(($1 / 1000000000))" +%Y-%m-%dT%H:%M:%S)" \
		$((($1 % 1000000000) / 1000000))
}

# ---- crafted segments: exact output -------------------------------------------------------
# run-a: STARTED (by a pid on another boot: not live), a PRE_EXISTING gap whose detail
# holds terminal escapes and a byte that is not UTF-8, seq 8-9 missing, 35 s between
# heartbeats (interval 10 s), 13-14 lost by the sink (recorded: no hole), no STOPPED.
# run-b: starts at seq 5, a SENSOR_DOWN gap, stops cleanly.
mkdir -p "$T/syn"
"$SEG" write "$T/syn/seg-001.seg.gz" <<'EOF'
agent run-a 1 1700000000 STARTED pid=1 boot=not-this-boot bootns=1000
hb run-a 2 1700000010 10000000000
gap run-a 3 1700000010.5 3 cgroup=4026 workload=cgroup:4026 count=1 detail=bash\x20alive\x20before\x20the\x20sensor\x1b]0;pwned\x07\xff
exit run-a 4 1700000011
exit run-a 5 1700000012
batch
exit run-a 6 1700000013
hb run-a 7 1700000020 10000000000
batch
exit run-a 10 1700000031
hb run-a 11 1700000055 10000000000
EOF
"$SEG" write "$T/syn/seg-002.seg.gz" --unclean <<'EOF'
gap run-a 12 1700000056 7 start=1700000055500000000 end=1700000056000000000 first=13 last=14 count=2 reason=disk-full detail=2\x20records\x20lost:\x20disk\x20full
exit run-a 15 1700000057
exit run-b 5 1700000100
gap run-b 6 1700000101 2 start=1700000057000000000 end=1700000099000000000 prev=run-a reason=crash detail=no\x20agent\x20ran
hb run-b 7 1700000102 10000000000
agent run-b 8 1700000103 STOPPED
EOF

gaps "$T/syn"
check_out "crafted: table" 0 <<'EOF'
SOURCE    KIND               RUN    WORKLOAD     START                     END                       COUNT  DETAIL
recorded  PRE_EXISTING       run-a  cgroup:4026  -                         -                             1  bash alive before the sensor\x1b]0;pwned\x07\xff
detected  SEQUENCE_HOLE      run-a  -            2023-11-14T22:13:40.000Z  2023-11-14T22:13:51.000Z      2  seq 8-9 missing
detected  HEARTBEAT_MISSING  run-a  -            2023-11-14T22:13:40.000Z  2023-11-14T22:14:15.000Z      3  no heartbeat for 35s (interval 10s) between seq 7 and seq 11
recorded  SINK_LOSS          run-a  -            2023-11-14T22:14:15.500Z  2023-11-14T22:14:16.000Z      2  2 records lost: disk full
detected  UNCLEAN_END        run-a  -            2023-11-14T22:14:17.000Z  -                             -  no STOPPED record after seq 15: the agent crashed or was killed
recorded  SENSOR_DOWN        run-b  -            2023-11-14T22:14:17.000Z  2023-11-14T22:14:59.000Z      0  no agent ran
detected  MISSING_BEGINNING  run-b  -            -                         2023-11-14T22:15:00.000Z      4  seq 1-4 missing: the first record read is seq 5 (the run's start was pruned or deleted)
gaps: 7 (SENSOR_DOWN 1, PRE_EXISTING 1, SINK_LOSS 1, SEQUENCE_HOLE 1, HEARTBEAT_MISSING 1, UNCLEAN_END 1, MISSING_BEGINNING 1) in 15 records, 2 runs, 2 files
EOF
check "crafted: no control character reaches the terminal" 0 \
	"$(tr -d '\n' <"$T/out" | LC_ALL=C grep -c '[[:cntrl:]]')"
check "crafted: nothing on stderr" "" "$(cat "$T/err")"

# The same files in another order, and one of them twice: the same gaps.
gaps "$T/syn/seg-002.seg.gz" "$T/syn/seg-001.seg.gz" "$T/syn/seg-002.seg.gz"
check "crafted, reordered: same gaps" "$("$FIRSTLIGHT" gaps "$T/syn" | head -n 8)" "$(head -n 8 "$T/out")"
check "crafted, reordered: summary" "gaps: 7 (SENSOR_DOWN 1, PRE_EXISTING 1, SINK_LOSS 1, SEQUENCE_HOLE 1, HEARTBEAT_MISSING 1, UNCLEAN_END 1, MISSING_BEGINNING 1) in 21 records, 2 runs, 3 files; 6 duplicate records" \
	"$(tail -n 1 "$T/out")"

gaps --since 2023-11-14T22:14:10Z --until 1700000060 "$T/syn"
check_out "crafted: --since/--until" 0 <<'EOF'
SOURCE    KIND               RUN    WORKLOAD  START                     END                       COUNT  DETAIL
detected  HEARTBEAT_MISSING  run-a  -         2023-11-14T22:13:40.000Z  2023-11-14T22:14:15.000Z      3  no heartbeat for 35s (interval 10s) between seq 7 and seq 11
recorded  SINK_LOSS          run-a  -         2023-11-14T22:14:15.500Z  2023-11-14T22:14:16.000Z      2  2 records lost: disk full
detected  UNCLEAN_END        run-a  -         2023-11-14T22:14:17.000Z  -                             -  no STOPPED record after seq 15: the agent crashed or was killed
recorded  SENSOR_DOWN        run-b  -         2023-11-14T22:14:17.000Z  2023-11-14T22:14:59.000Z      0  no agent ran
gaps: 4 (SENSOR_DOWN 1, SINK_LOSS 1, HEARTBEAT_MISSING 1, UNCLEAN_END 1) in 15 records, 2 runs, 2 files; 3 outside --since/--until
EOF

# --json: one object per line, parsed by jq; stable names, 64-bit numbers as strings.
gaps --json "$T/syn"
check "json: exit status" 0 "$RC"
check "json: every line is an object" 7 "$(jq -c 'select(type == "object")' "$T/out" | wc -l)"
check "json: kinds in order" "PRE_EXISTING SEQUENCE_HOLE HEARTBEAT_MISSING SINK_LOSS UNCLEAN_END SENSOR_DOWN MISSING_BEGINNING" \
	"$(jq -r .kind "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check "json: sources" "recorded detected detected recorded detected recorded detected" \
	"$(jq -r .source "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check "json: the hole" \
	'{"source":"detected","kind":"SEQUENCE_HOLE","node":"n1","runId":"run-a","seq":null,"workload":null,"cgroupId":null,"owner":null,"start":"2023-11-14T22:13:40.000000000Z","end":"2023-11-14T22:13:51.000000000Z","startUnixNano":"1700000020000000000","endUnixNano":"1700000031000000000","count":"2","firstSeq":"8","lastSeq":"9","eventType":null,"reason":null,"previousRunId":null,"aboutNode":null,"detail":"seq 8-9 missing","file":"'"$T"'/syn/seg-001.seg.gz"}' \
	"$(jq -c 'select(.kind == "SEQUENCE_HOLE")' "$T/out")"
check "json: the sink loss" '"disk-full" "13" "14" "12"' \
	"$(jq -r 'select(.kind == "SINK_LOSS") | [.reason, .firstSeq, .lastSeq, .seq] | map(tojson) | join(" ")' "$T/out")"
check "json: the sensor down" '"run-a" "crash" "2023-11-14T22:14:59.000000000Z"' \
	"$(jq -r 'select(.kind == "SENSOR_DOWN") | [.previousRunId, .reason, .end] | map(tojson) | join(" ")' "$T/out")"
check "json: hostile detail, escaped and valid UTF-8" '"bash alive before the sensor\u001b]0;pwned\u0007\\xff"' \
	"$(jq '.detail' "$T/out" | head -n 1)"
check "json: every field on every line" 21 \
	"$(jq -r 'keys | length' "$T/out" | sort -u)"

# --fail-on: 3 when a listed gap has a kind named (any case), else 0.
gaps --fail-on sequence_hole "$T/syn"
check "--fail-on sequence_hole" 3 "$RC"
gaps --fail-on BLIND_WORKLOAD,Ring_Buffer_Drop "$T/syn"
check "--fail-on kinds absent" 0 "$RC"
gaps --fail-on blind_workload --fail-on Sensor_Down --json "$T/syn"
check "--fail-on repeated" 3 "$RC"
gaps --fail-on any "$T/syn"
check "--fail-on any" 3 "$RC"
gaps --fail-on incomplete "$T/syn"
check "--fail-on incomplete: holes, sink loss, unclean end" 3 "$RC"
# What every healthy store has (history before the start, a planned restart) is not
# incomplete evidence; any still fails on it.
mkdir -p "$T/healthy"
"$SEG" write "$T/healthy/seg-001.seg.gz" <<'EOF2'
agent run-c 1 1700000200 STARTED pid=1 boot=not-this-boot bootns=1000
gap run-c 2 1700000200.5 3 cgroup=1 workload=cgroup:1 count=30 detail=alive\x20before\x20the\x20sensor
gap run-c 3 1700000201 2 start=1700000100000000000 end=1700000200000000000 prev=run-0 reason=stopped detail=no\x20agent\x20ran
hb run-c 4 1700000202 10000000000
agent run-c 5 1700000203 STOPPED
EOF2
gaps --fail-on incomplete "$T/healthy"
check "--fail-on incomplete: a healthy store passes" 0 "$RC" || cat "$T/out" "$T/err" >&2
gaps --fail-on INCOMPLETE,sensor_down "$T/healthy"
check "--fail-on incomplete plus a kind" 3 "$RC"
gaps --fail-on any "$T/healthy"
check "--fail-on any: a healthy store fails" 3 "$RC"
gaps --fail-on SEQUENCE_HOLE --since 1700000050 "$T/syn"
check "--fail-on only counts listed gaps" 0 "$RC"
gaps --fail-on any "$T/syn/seg-001.seg.gz"
check "--fail-on any: listed on stdout still" 6 "$(wc -l <"$T/out")"

# Damage: the error names the file and the byte, what was read is listed, status 1,
# and 1 wins over 3.
size=$(stat -c %s "$T/syn/seg-002.seg.gz")
head -c $((size - 30)) "$T/syn/seg-002.seg.gz" >"$T/cut.seg.gz"
gaps --fail-on any "$T/syn/seg-001.seg.gz" "$T/cut.seg.gz"
check "damaged: exit status" 1 "$RC"
check "damaged: one line on stderr" 1 "$(grep -c . "$T/err")"
check_cmd "damaged: names file and byte" grep -q "cut.seg.gz: .*byte [0-9]" "$T/err"
check_cmd "damaged: what was read is listed" grep -q "SEQUENCE_HOLE .* seq 8-9 missing" "$T/out"
gaps --json "$T/syn/seg-001.seg.gz" "$T/cut.seg.gz"
check "damaged, json: exit status" 1 "$RC"
check "damaged, json: what was read is listed" "SEQUENCE_HOLE" \
	"$(jq -r 'select(.firstSeq == "8") | .kind' "$T/out")"
check "damaged, json: one line on stderr" 1 "$(grep -c . "$T/err")"
head -c 3000 /dev/urandom >"$T/garbage"
gaps "$T/garbage"
check "garbage: exit status" 1 "$RC"
check_cmd "garbage: names file and byte" grep -q "$T/garbage: .*byte" "$T/err"

# Usage errors: status 2 and one line; a missing input is 1, as for `read`.
expect_error "unknown kind" 2 "gaps: --fail-on: unknown kind 'bogus'" --fail-on pre_existing,bogus "$T/syn"
expect_error "empty kind" 2 "gaps: --fail-on: empty kind" --fail-on sequence_hole,,any "$T/syn"
expect_error "bad time" 2 "gaps: --since: invalid time 'yesterday'" --since yesterday "$T/syn"
expect_error "local time" 2 "gaps: --until: invalid time" --until 2023-11-14T22:13:40 "$T/syn"
expect_error "since after until" 2 "gaps: --since is after --until" --since 1700000060 --until 1700000050 "$T/syn"
expect_error "unknown option" 2 "gaps: unknown option or missing value '--bogus'" --bogus
expect_error "missing value" 2 "missing value '--fail-on'" "$T/syn" --fail-on
expect_error "missing input" 1 "$T/missing.seg.gz: No such file" "$T/missing.seg.gz"
gaps --help
check "--help: status" 0 "$RC"
check_cmd "--help documents exit 3" grep -q "3 a gap of a --fail-on kind" "$T/out"

# ---- the real agent ---------------------------------------------------------------------
# Short flushes so that the workload lands in several batches.
agent_start --flush-ms 10
# A live run is not an unclean end, even though it has no STOPPED record yet.
gaps "$T/data"
check "live: no unclean end" 0 "$(grep -c UNCLEAN_END "$T/out")"
check_cmd "live: the run is still running" grep -q "; 1 run still running" "$T/out"
for i in $(seq 1 40); do
	/bin/true "fl-gaps-$i"
	sleep 0.01 # spread over many flushes (not a wait for a condition)
done
agent_stop
seg=$(ls "$T"/data/*.seg.gz)
run=$(q -r '.[0].agentRunId')
records=$(wc -l <"$T/records.jsonl")

gaps --json "$T/data"
check "clean: exit status" 0 "$RC"
check "clean: no detected gap" "" "$(jq -r 'select(.source == "detected") | .kind' "$T/out")"
# A busy machine may give the agent pre-existing processes, sockets it does not record
# (a ping beside the test) and such, never lost records.
check "clean: only gaps of what ran before or beside the agent" "" \
	"$(jq -r '.kind | select(IN("PRE_EXISTING", "MISSING_START", "UNATTRIBUTED_WORKLOAD", "BLIND_WORKLOAD",
	"UNRECORDED_SOCKETS") | not)' "$T/out")"
gaps "$T/data"
check "clean: summary" "in $records records, 1 run, 1 file" \
	"$(tail -n 1 "$T/out" | sed 's/^gaps: [0-9]*\( ([^)]*)\)\? //')"
gaps --fail-on sequence_hole,heartbeat_missing,unclean_end,missing_beginning,ring_buffer_drop,sink_loss "$T/data"
check "clean: --fail-on detected kinds" 0 "$RC"
gaps --fail-on incomplete "$T/data"
check "clean: --fail-on incomplete" 0 "$RC"

# Delete a batch from the middle of a copy: exactly its records are reported missing.
"$SEG" batches "$seg" >"$T/batches"
nb=$(wc -l <"$T/batches")
check_cmd "the segment has batches to delete" test "$nb" -ge 3
read -r _ _ first last _ < <(sed -n 2p "$T/batches")
mkdir "$T/copy"
"$SEG" drop-batch "$seg" "$T/copy/$(basename "$seg")" 1
t_before=$(q -r --argjson s $((first - 1)) '.[] | select(.seq == ($s | tostring)) | .timeUnixNano')
t_after=$(q -r --argjson s $((last + 1)) '.[] | select(.seq == ($s | tostring)) | .timeUnixNano')
if [ "$first" = "$last" ]; then range=$first; else range="$first-$last"; fi
gaps "$T/copy"
check "hole: exit status" 0 "$RC"
check "hole: the one detected gap" \
	"detected SEQUENCE_HOLE $run - $(iso_ms "$t_before") $(iso_ms "$t_after") $((last - first + 1)) seq $range missing" \
	"$(grep '^detected' "$T/out" | tr -s ' ')"
gaps --json --fail-on SEQUENCE_HOLE "$T/copy"
check "hole: --fail-on" 3 "$RC"
check "hole: json" "$first $last $((last - first + 1)) $t_before $t_after" \
	"$(jq -r 'select(.kind == "SEQUENCE_HOLE") | "\(.firstSeq) \(.lastSeq) \(.count) \(.startUnixNano) \(.endUnixNano)"' "$T/out")"
gaps --fail-on incomplete "$T/copy"
check "hole: --fail-on incomplete" 3 "$RC"

# A stalled agent: SIGSTOP for three heartbeat intervals is one HEARTBEAT_MISSING,
# between the heartbeats around the stall.
rm -rf "$T/data"
agent_start --heartbeat-interval 1
# heartbeats_on_disk N: at least N heartbeat records are readable.
heartbeats_on_disk() {
	[ "$("$FIRSTLIGHT" read "$T/data" 2>/dev/null | grep -c '"heartbeat"')" -ge "$1" ]
}
wait_for 10 heartbeats_on_disk 1 || fail "no heartbeat"
kill -STOP "$AGENT_PID"
sleep 3.5 # the stall itself (not a wait for a condition)
kill -CONT "$AGENT_PID"
n=$("$FIRSTLIGHT" read "$T/data" 2>/dev/null | grep -c '"heartbeat"')
wait_for 10 heartbeats_on_disk $((n + 1)) || fail "no heartbeat after the stall"
agent_stop
# Consecutive heartbeats (and STOPPED) more than 2 s apart, by seq.
stall=$(q -r '[.[] | select(.heartbeat or .agent.state == "STOPPED")
	| {s: (.seq | tonumber), t: .timeUnixNano}] | sort_by(.s) as $b
	| range(1; $b | length) | select(($b[.].t | tonumber) - ($b[. - 1].t | tonumber) > 2e9)
	| "\($b[. - 1].t) \($b[.].t)"')
check "stall: one window in the records" 1 "$(echo "$stall" | grep -c .)"
read -r t1 t2 <<<"$stall"
gaps --json --fail-on heartbeat_missing "$T/data"
check "stall: exit status" 3 "$RC"
check "stall: the one detected gap" "HEARTBEAT_MISSING $t1 $t2 $(((t2 - t1 + 999999999) / 1000000000 - 1))" \
	"$(jq -r 'select(.source == "detected") | "\(.kind) \(.startUnixNano) \(.endUnixNano) \(.count)"' "$T/out")"
check "stall: detail" true "$(jq 'select(.source == "detected") | .detail
	| test("^no heartbeat for [0-9]+(\\.[0-9]+)?s \\(interval 1s\\) between seq [0-9]+ and seq [0-9]+$")' "$T/out")"

# kill -9: the run ends without STOPPED, reported from its last record's time.
rm -rf "$T/data"
agent_start
for i in $(seq 1 10); do /bin/true "fl-gaps-kill-$i"; done
# Its records are flushed within 100 ms; wait until the last exit is on disk.
wait_for 10 sh -c "'$FIRSTLIGHT' read '$T/data' 2>/dev/null | grep -q fl-gaps-kill-10" ||
	fail "records of the workload were not flushed"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
"$FIRSTLIGHT" read "$T/data" >"$T/records.jsonl" 2>/dev/null
last_seq=$(q -r 'map(.seq | tonumber) | max')
# Strings of digits: the longest, then the greatest, is the largest (no float rounding).
last_t=$(q -r 'map(.timeUnixNano) | sort_by(length, .) | last')
gaps --fail-on unclean_end "$T/data"
check "kill -9: exit status" 3 "$RC"
gaps --fail-on incomplete "$T/data"
check "kill -9: --fail-on incomplete" 3 "$RC"
check "kill -9: unclean end" \
	"detected UNCLEAN_END $(q -r '.[0].agentRunId') - $(iso_ms "$last_t") - - no STOPPED record after seq $last_seq: the agent crashed or was killed" \
	"$(grep '^detected' "$T/out" | tr -s ' ')"
finish
