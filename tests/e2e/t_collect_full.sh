#!/usr/bin/env bash
# quick
# The collector's disk full, for real: its store is a small tmpfs the test fills. A batch
# it cannot write stays in the stream, and so do the node's batches after it: handed back,
# not judged. Judged before it, they were refused for want of the node's key (its first
# batch states it, and pinning the key is a write too) and acknowledged for good, or stored
# out of order under a false chain break. Then the collector killed while batches wait,
# the disk freed, more shipped, the collector started again: the waiting batches come
# again only after later ones, and wait for nothing now but what the consumer says is
# outstanding. At the end the collector's copy is the node's, batch for batch, and its
# own chain holds no finding: nothing was wrong with the node.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
marker=fl-colfull-$$
node=colfull-node-$$
export NODE_NAME=$node
mkdir -p "$T/col"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$T/col" || { fail "cannot mount a tmpfs"; finish; }
on_cleanup "umount '$T/col'"
fill() { dd if=/dev/zero of="$T/col/filler" bs=4k >/dev/null 2>&1; }
workloads() { for i in $(seq 1 "$2"); do /bin/true "$marker-$1-$i"; done; } # ROUND COUNT
waiting() { [ "$(collector_metric firstlight_collector_node_waiting_seconds "$node")" != 0 ]; }

# 1. Full from the node's first batch on (its key cannot be pinned); killed while waiting.
collector_start "$js_url" --metrics-addr 127.0.0.1:0 || exit 1
fill
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
workloads 1 40
check_cmd "run 1 shipped" wait_for 60 ship_drained
check_cmd "the collector says the node's batches wait" \
	wait_for 30 grep -q "collect: node $node: stream message 1 is not stored yet; its later batches wait behind it" \
	"$T/col.err"
check_cmd "the metric says so" waiting
check_cmd "the cause named" grep -q "No space left on device" "$T/col.err"
kill -KILL "$COLLECTOR_PID"
wait "$COLLECTOR_PID" 2>/dev/null
rm "$T/col/filler"
workloads 2 40
check_cmd "run 2 shipped" wait_for 60 ship_drained
collector_start "$js_url" --metrics-addr 127.0.0.1:0 || exit 1
check_cmd "restarted: it knows messages are outstanding" \
	grep -q "collect: [0-9]* messages delivered before were not acknowledged" "$T/col.err"
check_cmd "restarted: everything collected" wait_for 90 collected_all "$T/data" "$node"

# 2. Full again while it runs, then freed: the batches wait, then follow in order. (More
# processes than before: their batches must need more than the slack of a file's last page.)
fill
workloads 3 100
check_cmd "run 3 shipped" wait_for 60 ship_drained
check_cmd "waiting again" wait_for 30 waiting
rm "$T/col/filler"
check_cmd "freed: everything collected" wait_for 90 collected_all "$T/data" "$node"
check_cmd "the wait ends" wait_for 30 grep -q "collect: node $node: its batches are stored again, in order" "$T/col.err"
check "the metric says so" 0 "$(collector_metric firstlight_collector_node_waiting_seconds "$node")"
check "nothing refused" "" "$(collector_metric firstlight_collector_rejected_batches_total "$node")"
agent_stop
check_cmd "the agent's last batches collected" wait_for 60 collected_all "$T/data" "$node"
collector_stop

copy_is_the_nodes "$node" "$marker-" 180
check "its key pinned on first use, once" 1 \
	"$("$FIRSTLIGHT" read "$T/col/@collector" 2>/dev/null | jq -s '[.[] | select(.nodeKey)] | length')"
finish
