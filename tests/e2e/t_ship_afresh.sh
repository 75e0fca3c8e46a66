#!/usr/bin/env bash
# A node whose store starts afresh (its data dir wiped or replaced) ships under a name
# the stream already holds batches of. The server's last batch names a place (segment
# number, batch index) that the new store also has, holding other batches: the agent
# must not take it for its own and skip its batches up to there, nor stall waiting for
# them. It ships the whole new store after the old one, and the collector records the
# break in the node's chain.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
node=afresh-node-$$
export NODE_NAME=$node

agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
for i in $(seq 1 20); do /bin/true "fl-afresh-1-$$"; done
check_cmd "run 1 shipped" wait_for 60 ship_drained
agent_stop
run1=$(batch_hashes "$T/data")

# The store starts afresh (same key, same node name): its segment numbers start again.
rm -rf "$T/data"
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
for i in $(seq 1 20); do /bin/true "fl-afresh-2-$$"; done
check_cmd "run 2 shipped (not waiting for the old store's positions)" wait_for 60 ship_drained
agent_stop
check_cmd "the agent said why it ships the whole store" \
	grep -q "ship: the last batch on .* is not in this node's store" "$T/agent.err"
run2=$(batch_hashes "$T/data")

collector_start "$js_url" || exit 1
both() { [ "$(batch_hashes "$T/col/$node" 2>/dev/null | wc -l)" -ge "$(printf '%s\n%s\n' "$run1" "$run2" | wc -l)" ]; }
check_cmd "collected" wait_for 60 both
collector_stop
check "the collector holds both stores, batch for batch, the old one first" \
	"$(printf '%s\n%s\n' "$run1" "$run2")" "$(batch_hashes "$T/col/$node")"
check "run 2's processes are in the collected store" 20 \
	"$("$FIRSTLIGHT" read "$T/col/$node" | jq -c --arg m "fl-afresh-2-$$" 'select(.exec.process.args[1]? == $m) | .exec.process.execId' | sort -u | wc -l)"
"$FIRSTLIGHT" read "$T/col/@collector" >"$T/findings.jsonl"
check "on the collector's record: one CHAIN_BREAK for the node" "$node" \
	"$(jq -r 'select(.gap.kind == "CHAIN_BREAK") | .gap.node' "$T/findings.jsonl")"
finish
