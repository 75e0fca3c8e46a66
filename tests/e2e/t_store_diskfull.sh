#!/usr/bin/env bash
# quick
# Disk full, for real: the data dir is a small tmpfs that the test fills. The agent does
# not die; it counts what it cannot store as a SINK_LOSS gap with the exact sequence
# range, writes again when space returns (a new segment: header, the loss, a snapshot of
# live processes), and the store still verifies: the hole is explained, not hidden.
. "$(dirname "$0")/../lib/e2e.sh"

marker="fl-full-$$"
mkdir -p "$T/data"
# Big enough for the segments of a start and of a resume, each restating every live
# process (a busy machine has thousands, a compiler's argv is long): 1 MiB and 4 KiB a process now.
procs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
mount -t tmpfs -o size=$((1024 + 4 * procs))k,mode=0700 tmpfs "$T/data" || { fail "cannot mount a tmpfs"; finish; }
on_cleanup "umount '$T/data'"
agent_start
# Everything the tmpfs has left goes to a filler file (dd stops at ENOSPC).
dd if=/dev/zero of="$T/data/filler" bs=4k >/dev/null 2>&1
i=0
workloads() { # MARKER PATTERN: runs 20 processes, then looks for PATTERN in the log
	for j in $(seq 20); do /bin/true "$1-$i-$j"; done
	i=$((i + 1))
	grep -q "$2" "$T/agent.err"
}
wait_for 60 workloads "$marker-lost" "records are counted as lost" || fail "no write failed"
check_cmd "the agent is alive with the disk full" kill -0 "$AGENT_PID"
rm "$T/data/filler"
wait_for 60 workloads "$marker-after" "store: writing again" || fail "the store did not resume"
/bin/true "$marker-last"
agent_stop

check_cmd "the failure is logged with its cause" grep -q "No space left on device" "$T/agent.err"
losses=$(q -c '[.[] | select(.gap.kind == "SINK_LOSS") | .gap]')
check_cmd "sink losses recorded" test "$(echo "$losses" | jq length)" -ge 1
check "each loss: count = last - first + 1" true "$(echo "$losses" | jq '
	map((.count | tonumber) == (.lastSeq | tonumber) - (.firstSeq | tonumber) + 1) | all')"
check "each loss: reason disk-full" true "$(echo "$losses" | jq 'map(.reason == "disk-full") | all')"
check "each loss: a time window" true "$(echo "$losses" | jq '
	map((.startTimeUnixNano | tonumber) > 0 and (.endTimeUnixNano | tonumber) >= (.startTimeUnixNano | tonumber)) | all')"
# The records present are exactly 1..last minus the lost ranges.
check "seq = 1..N minus exactly the lost ranges" true "$(q --argjson l "$losses" '
	([.[].seq | tonumber]) as $have |
	([$l[] | range(.firstSeq | tonumber; (.lastSeq | tonumber) + 1)]) as $lost |
	($have | max) as $n |
	($have + $lost | sort) == [range(1; $n + 1)] and ($have | length) == ($have | unique | length)')"
check_cmd "records were lost" test "$(q '[.[] | select(.gap.kind == "SINK_LOSS") | .gap.count | tonumber] | add')" -gt 0
check "the last workload is recorded" 1 "$(q --arg m "$marker-last" '[.[] | select(.exec.process.args[1]? == $m)] | length')"
check_cmd "the new segment restates live processes (snapshot)" \
	test "$(q '[.[] | select(.snapshot == true)] | length')" -gt 0
check "the loss is recorded before the snapshot" true "$(q '
	([.[] | select(.gap.kind == "SINK_LOSS") | .seq | tonumber] | max) <
	([.[] | select(.snapshot == true) | .seq | tonumber] | min)')"
check "the run stopped cleanly" STOPPED "$(q -r '.[-1].agent.state')"

"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify.out" 2>&1
check "verify exit status" 0 $? || cat "$T/verify.out" >&2
check_cmd "verify counts the loss" grep -q "records were lost by the store and recorded as SINK_LOSS" "$T/verify.out"
check_cmd "verify notes the abandoned segment" grep -q "ends without a clean close (WRITE_FAILED)" "$T/verify.out"
finish
