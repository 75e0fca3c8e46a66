#!/usr/bin/env bash
# JetStream comes back without its store while both the agent and the collector run (the
# collector is a long-lived deployment: it sees the loss as it happens). Its pull fetches
# from the consumer that is gone only time out: it asks now and then whether the consumer
# is there, and on "not found" connects afresh, which makes the stream (if the agent has
# not yet) and the consumer again. The agent's publishes find no stream, or a stream made
# by the collector that does not hold its last batch: either way it asks where its node
# stands and ships its whole store again. The collector knows the batches shipped again
# as ones it holds: none stored twice, no chain break. (t_ship_stream_lost: the same with
# the collector stopped during the loss.)
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
marker=fl-lostlive-$$
node=lostlive-node-$$
export NODE_NAME=$node
collector_start "$js_url" --metrics-addr 127.0.0.1:0 || exit 1
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --segment-bytes 4k
for r in 1 2 3; do for i in $(seq 1 30); do /bin/true "$marker-$r-$i"; done; done
check_cmd "shipped" wait_for 60 ship_drained
check_cmd "collected" wait_for 60 collected_all "$T/data" "$node"
held=$(batch_hashes "$T/col/$node" | wc -l)

nats_stop js
rm -rf "$T/nats-js/js"
nats_start js "$js_port" || exit 1
for i in $(seq 1 30); do /bin/true "$marker-after-$i"; done
check_cmd "the collector finds its consumer gone and makes it again" wait_for 60 \
	grep -q "collect: FIRSTLIGHT: making the stream and the consumer again" "$T/col.err"
check_cmd "the agent ships its whole store again" wait_for 60 \
	grep -q "ship: stream FIRSTLIGHT holds nothing of this node although ship.state says it did: shipping the whole local store again" "$T/agent.err"
# The collector's folder already holds the batches from before: it reaches the node's
# count only once the batches shipped again have come past them.
check_cmd "collected again" wait_for 120 collected_all "$T/data" "$node"
dups=$(collector_metric firstlight_collector_duplicate_batches_total "$node")
check_cmd "the $held batches held before, shipped again, known as held ($dups)" test "${dups:-0}" -ge "$held"
agent_stop
check "every batch in the new stream exactly once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
check_cmd "the agent's last batches collected" wait_for 60 collected_all "$T/data" "$node"
collector_stop

copy_is_the_nodes "$node" "$marker-" 120
finish
