#!/usr/bin/env bash
# A 3-server JetStream cluster with the stream replicated on all three (R3, as a platform
# team runs it): one server killed (kill -9) while a storm is being shipped. The agent,
# given all three URLs, goes on through the others; nothing is lost: the copy collected
# from the two left is the node's store, batch for batch.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_cluster js 3 || { echo "cluster did not form" >&2; exit 1; }
marker=fl-cluster-$$
node=cluster-node-$$
export NODE_NAME=$node
shipped() { [ "$(metric firstlight_ship_acked_batches_total)" -gt "$1" ] 2>/dev/null; }

agent_start --ship "$js_url" --ship-replicas 3 --metrics-addr 127.0.0.1:0 --flush-ms 20
"$HELPERS/fl-storm" -n 2000 -p 2 -- /bin/true "$marker" >/dev/null &
storm=$!
check_cmd "shipping to the cluster" wait_for 120 shipped 5
kill -KILL "$js1_pid"
wait "$js1_pid" 2>/dev/null
wait "$storm"
check "storm exit status" 0 $?
check_cmd "all shipped through the two left" wait_for 180 ship_drained
agent_stop
left="$js2_url,$js3_url"
check "every batch in the stream exactly once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js2_url" FIRSTLIGHT "firstlight.batches.$node")"
collector_start "$left" || exit 1
check_cmd "collected" wait_for 120 collected_all "$T/data" "$node"
collector_stop
copy_matches "$node"
finish
