#!/usr/bin/env bash
# JetStream comes back without its store (a server whose disk was replaced, a stream
# deleted by hand) while the agent runs; the collector, stopped meanwhile, comes back after. The agent's publishes find no
# stream (no responders): it makes the stream again, finds nothing of its node there, and
# ships its whole store again, every batch of it: none may be skipped because it had been
# taken from the in-memory queue for the lost stream. The collector's consumer is gone
# too: it makes it again, and knows the batches shipped again as ones it holds, however
# old (its copy's file of that name holds them), rather than storing them twice under
# chain breaks. Small segments, so that the store is many files.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
marker=fl-lost-$$
node=lost-node-$$
export NODE_NAME=$node
collector_start "$js_url" --metrics-addr 127.0.0.1:0 || exit 1
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --segment-bytes 4k
for r in 1 2 3 4 5; do for i in $(seq 1 30); do /bin/true "$marker-$r-$i"; done; done
check_cmd "shipped" wait_for 60 ship_drained
check_cmd "collected" wait_for 60 collected_all "$T/data" "$node"
check_cmd "many segment files" test "$(ls "$T/data"/*.seg.gz | wc -l)" -gt 5
held=$(batch_hashes "$T/col/$node" | wc -l)
collector_stop

nats_stop js
rm -rf "$T/nats-js/js"
nats_start js "$js_port" || exit 1
for i in $(seq 1 30); do /bin/true "$marker-after-$i"; done
check_cmd "the agent makes the stream again" \
	wait_for 60 grep -q "ship: FIRSTLIGHT: no stream answers on this subject (no responders: the stream is gone, deleted or lost with the server's store, or a cluster is electing its leader); connecting again" "$T/agent.err"
check_cmd "and ships its whole store again" wait_for 30 \
	grep -q "ship: stream FIRSTLIGHT holds nothing of this node although ship.state says it did: shipping the whole local store again" "$T/agent.err"
collector_start "$js_url" --metrics-addr 127.0.0.1:0 || exit 1
check_cmd "collected again" wait_for 120 collected_all "$T/data" "$node"
agent_stop
check "every batch in the new stream exactly once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
check_cmd "the agent's last batches collected" wait_for 60 collected_all "$T/data" "$node"
dups=$(collector_metric firstlight_collector_duplicate_batches_total "$node")
check_cmd "the $held batches held before, shipped again, known as held ($dups)" test "${dups:-0}" -ge "$held"
collector_stop

copy_is_the_nodes "$node" "$marker-" 180
finish
