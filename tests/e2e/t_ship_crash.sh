#!/usr/bin/env bash
# kill -9 on both ends while batches flow. The agent killed in the middle of a storm it
# is shipping, then started again on the same data dir: it asks the server where it
# stands and goes on from there, so the stream holds every batch once (no duplicate from
# the publish the kill cut, no hole). The collector killed while it takes batches, then
# started again: its durable consumer redelivers what it had not acknowledged, and what
# it had already stored is known as such, so its copy is the node's, batch for batch.
# Then ship.state torn (it is rewritten in place; a crash may cut a write): its check
# fails, the agent says so and asks the server, and the stream still holds each batch once.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
marker=fl-crash-$$
node=crash-node-$$
export NODE_NAME=$node
shipped() { [ "$(metric firstlight_ship_acked_batches_total)" -gt "$1" ] 2>/dev/null; }

collector_start "$js_url" || exit 1
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --flush-ms 20
"$HELPERS/fl-storm" -n 3000 -p 2 -- /bin/true "$marker" >/dev/null &
storm=$!
check_cmd "shipping" wait_for 60 shipped 5
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
# The collector too, in the middle of what it takes.
kill -KILL "$COLLECTOR_PID"
wait "$COLLECTOR_PID" 2>/dev/null
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --flush-ms 20
collector_start "$js_url" || exit 1
wait "$storm"
check "storm exit status" 0 $?
check_cmd "the restarted agent catches up" wait_for 120 ship_drained
agent_stop
check "every batch in the stream exactly once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
check_cmd "collected" wait_for 60 collected_all "$T/data" "$node"
collector_stop
copy_matches "$node" # no hole, no duplicate, both runs
check_cmd "two agent runs in it" grep -q "2 agent runs" "$T/verify-copy.out"
check "no chain break on the collector's record" "" \
	"$("$FIRSTLIGHT" read "$T/col/@collector" | jq -r 'select(.gap.kind == "CHAIN_BREAK") | .gap.detail')"

grep -q '^check [0-9a-f]\{16\}$' "$T/data/ship.state"
check "ship.state ends with its check" 0 $?
sed -i 's/^batch \([0-9]*\)$/batch 1\1/' "$T/data/ship.state" # a digit more: torn
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --flush-ms 20
check_cmd "the torn ship.state named" grep -q "ship.state is damaged: where shipping stands is asked of the server" \
	"$T/agent.err"
check_cmd "the third run catches up" wait_for 120 ship_drained
agent_stop
check "after the torn state: every batch in the stream exactly once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
finish
