#!/usr/bin/env bash
# quick
# The agent's own disk fails under it, for real, and at times lies: the data dir is an
# ext4 file system on a loop device whose backing file lives on a small tmpfs, and the
# test fills the tmpfs (not the file system above it). A batch's write still lands in the
# page cache; its writeback fails. Either fdatasync says so (ENOSPC), or, when the write
# began in blocks the backing file already held and ran on into blocks it could not get,
# the loop device reports it whole, fdatasync says 0 and the disk holds zeros where the
# batch was (store/readback.h). Without a read-back the agent took such a batch as
# stored: the page cache kept serving it until the cache was gone, and then `verify`
# called the segment "damaged or altered", an alarm of tampering for a device's failure,
# with the batch's records lost uncounted. The agent reads every synced batch back from
# the disk; a difference cuts the segment back to the last batch that read back and
# counts the records after it as lost, by sequence range; a batch is shipped only once
# it is stored, so the collector never holds one the node's store cut. Proof at the end:
# the file system mounted afresh (nothing from the cache), every record there or
# counted, the store verifies, and the collector's copy is the node's, batch for batch.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"
. "$(dirname "$0")/../lib/loopdisk.sh"

nats_start js || exit 1
marker=fl-lying-$$
node=lying-node-$$
export NODE_NAME=$node
loopdisk_mount "$T/data" || { fail "cannot make the loop device's file system"; finish; }
i=0
workloads() { # MARKER PATTERN: runs 20 processes, then looks for PATTERN in the log
	for j in $(seq 20); do /bin/true "$1-$i-$j"; done
	i=$((i + 1))
	grep -qE "$2" "$T/agent.err"
}

collector_start "$js_url" || exit 1
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 ${LYING_AGENT_ARGS:-}
# before: recorded, stored and shipped (a batch is shipped once stored), so the collector's
# copy holds them. Anything later may be lost to the disk: counted, not asserted.
before() {
	[ "$("$FIRSTLIGHT" read "$T/col/$node" 2>/dev/null | jq -s --arg m "$marker-before-" \
		'[.[] | select(.exec.process.args[1]? // "" | startswith($m))] | length')" = 20 ]
}
for j in $(seq 20); do /bin/true "$marker-before-$j"; done
check_cmd "the agent reads back, its data dir being on a loop device" \
	grep -q "store: $T/data is on a loop device (or one built on it)" "$T/agent.err"
check_cmd "the first workloads stored and collected" wait_for 30 before
check_cmd "the backing store full" backing_full
wait_for 60 workloads "$marker-lost" "records are counted as lost" || fail "no write failed"
check_cmd "the agent is alive" kill -0 "$AGENT_PID"
backing_room
# Stored again: a workload run after the room was made reaches the collector, which gets
# only batches the store synced and read back. Not the log's "writing again": the store
# may say it while the disk is still full (a new segment opens, then its sync fails).
stored_again() {
	/bin/true "$marker-after-$i"
	i=$((i + 1))
	[ "$("$FIRSTLIGHT" read "$T/col/$node" 2>/dev/null | jq -s --arg m "$marker-after-" \
		'[.[] | select(.exec.process.args[1]? // "" | startswith($m))] | length')" -gt 0 ]
}
check_cmd "the store writes again once there is room" wait_for 60 stored_again
check_cmd "and says so" grep -q "store: writing again" "$T/agent.err"
/bin/true "$marker-last"
agent_stop
# Which of the two failures the device showed (both, here): said, not asserted.
grep -E "segment .*: (fdatasync: |bytes .* read back)" "$T/agent.err" >&2
check_cmd "everything shipped collected" wait_for 60 collected_all "$T/data" "$node"
collector_stop

# What the disk holds, not the page cache.
loopdisk_remount "$T/data" || fail "cannot mount $LOOPDISK again"
"$FIRSTLIGHT" read "$T/data" >"$T/records.jsonl" 2>"$T/read.err"
check "read from the disk" 0 $? || cat "$T/read.err" >&2
losses=$(q -c '[.[] | select(.gap.kind == "SINK_LOSS") | .gap]')
check_cmd "sink losses recorded" test "$(echo "$losses" | jq length)" -ge 1
check "seq = 1..N minus exactly the lost ranges" true "$(q --argjson l "$losses" '
	([.[].seq | tonumber]) as $have |
	([$l[] | range(.firstSeq | tonumber; (.lastSeq | tonumber) + 1)]) as $lost |
	($have | max) as $n |
	($have + $lost | sort) == [range(1; $n + 1)] and ($have | length) == ($have | unique | length)')"
check "every workload before the disk filled" 20 "$(q --arg m "$marker-before-" \
	'[.[] | select(.exec.process.args[1]? // "" | startswith($m))] | length')"
check "the last workload is recorded" 1 "$(q --arg m "$marker-last" '[.[] | select(.exec.process.args[1]? == $m)] | length')"
check "the run stopped cleanly" STOPPED "$(q -r '.[-1].agent.state')"
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify.out" 2>&1
check "verify from the disk" 0 $? || cat "$T/verify.out" >&2
check_cmd "verify names the segment cut at its last stored batch" \
	grep -qE "ends without a clean close \(WRITE_FAILED\): (fdatasync|read-back) failed after" "$T/verify.out"
copy_matches "$node"
check "no finding in the collector's chain" "" \
	"$("$FIRSTLIGHT" read "$T/col/@collector" 2>/dev/null | jq -r 'select(.gap) | .gap.kind')"
finish
