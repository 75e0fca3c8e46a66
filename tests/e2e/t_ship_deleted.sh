#!/usr/bin/env bash
# What only off-node anchoring can prove. Two agent runs, both shipped and collected; then
# a root attacker on the node deletes the newest run's segments with chain.state,
# agent.state and ship.state. The local store alone still verifies (nothing there says a
# run is missing); against the collector's copy, the deleted run is named, with its
# sequence range and record count.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
node=deleted-node-$$
export NODE_NAME=$node

agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
for i in $(seq 1 20); do /bin/true "fl-deleted-1-$i"; done
check_cmd "run 1 shipped" wait_for 60 ship_drained
agent_stop
run1_segs=$(ls "$T/data"/*.seg.gz)
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
for i in $(seq 1 20); do /bin/true "fl-deleted-2-$i"; done
check_cmd "run 2 shipped" wait_for 60 ship_drained
agent_stop
run2=$(q -r '[.[] | select(.agent.state == "STARTED")][1].agentRunId')
run2_last=$(q -r --arg r "$run2" '[.[] | select(.agentRunId == $r) | .seq | tonumber] | max')
collector_start "$js_url" || exit 1
check_cmd "collected" wait_for 60 collected_all "$T/data" "$node"
collector_stop

# The attacker: run 2 and the state files go.
for f in "$T"/data/*.seg.gz; do
	grep -qxF "$f" <<<"$run1_segs" || rm -f "$f"
done
rm -f "$T/data/chain.state" "$T/data/agent.state" "$T/data/ship.state"
"$FIRSTLIGHT" verify --trust-embedded-key "$T/data" >"$T/local.out" 2>&1
check "the local store alone still verifies" 0 $?
"$FIRSTLIGHT" verify --against "$T/col" "$T/data" >"$T/against.out" 2>&1
check "against the collector: exit status" 1 $?
check_cmd "against the collector: FAIL naming the node" grep -q "^FAIL: node $node: batches the collector holds" "$T/against.out"
check "against the collector: the deleted run, its whole seq range" 1 \
	"$(grep -cE "^  GONE: run $run2, seq 1-$run2_last, [0-9]+ records in [0-9]+ batches" "$T/against.out")" || cat "$T/against.out" >&2
check "against the collector: nothing else named" 1 "$(grep -c "^  " "$T/against.out")"
finish
