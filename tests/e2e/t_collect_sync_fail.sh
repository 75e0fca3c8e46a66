#!/usr/bin/env bash
# quick
# The collector's disk fails under it at fdatasync, for real: its store is an ext4 file
# system on a loop device whose backing file lives on a small tmpfs; the test fills the
# tmpfs (not the file system above it), so writes still land in the page cache but their writeback
# fails (ENOSPC from the block layer, as a thin-provisioned volume does when its pool runs
# out), and fdatasync says so. The kernel says it once: a later fdatasync succeeds, and
# the pages whose writeback failed can still be read back from the cache, as if stored.
# So the batches written since the last good sync must not count as held when they come
# again: the collector forgets them, cuts them from the file, and writes them again once
# the disk takes writes. This loop device also lies at times: a write that begins in
# blocks its backing file holds and runs on into blocks it cannot get is reported whole,
# and fdatasync says 0. The collector reads what it synced back from the disk, and takes
# a difference as a failed sync (before it did, this test failed most runs under the
# DaemonSet's capabilities, never one as full root). Proof at the end: the file system
# mounted afresh (nothing from the cache), and the copy read from it is the node's,
# batch for batch.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"
. "$(dirname "$0")/../lib/loopdisk.sh"

nats_start js || exit 1
marker=fl-colsync-$$
node=colsync-node-$$
export NODE_NAME=$node
loopdisk_mount "$T/col" COLLECTOR_PID || { fail "cannot make the loop device's file system"; finish; }
workloads() { for i in $(seq 1 "$2"); do /bin/true "$marker-$1-$i"; done; } # ROUND COUNT

collector_start "$js_url" --metrics-addr 127.0.0.1:0 || exit 1
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
workloads 1 30
check_cmd "run 1 collected" wait_for 60 collected_all "$T/data" "$node"

check_cmd "the backing store full" backing_full
workloads 2 60
check_cmd "run 2 shipped" wait_for 60 ship_drained
# The sync's own error, or the read-back's when the device lied.
check_cmd "the collector's sync fails" wait_for 60 grep -qE \
	"collect: $T/col/$node: (No space left on device|Input/output error); the node's batches stay in the stream" \
	"$T/col.err"
# Said in the log, not read from the metric: the wait may last less than a poll.
check_cmd "the node's batches wait" wait_for 30 \
	grep -q "collect: node $node: stream message [0-9]* is not stored yet; its later batches wait behind it" "$T/col.err"
check_cmd "room again" backing_room
check_cmd "everything collected" wait_for 90 collected_all "$T/data" "$node"
check_cmd "the wait ends" wait_for 30 grep -q "collect: node $node: its batches are stored again, in order" "$T/col.err"
agent_stop
check_cmd "the agent's last batches collected" wait_for 60 collected_all "$T/data" "$node"
collector_stop

# What the disk holds, not the page cache.
loopdisk_remount "$T/col" || fail "cannot mount $LOOPDISK again"
copy_matches "$node"
check "every workload in the copy" 90 "$("$FIRSTLIGHT" read "$T/col/$node" | jq -s --arg m "$marker-" \
	'[.[] | select((.snapshot | not) and (.exec.process.args[1]? // "" | startswith($m)))] | length')"
finish
