#!/usr/bin/env bash
# quick
# The agent is stopped just after the engine comes back, with a backlog of many small
# segments still queued. A message carries the batches of one segment only, so the
# backlog is a message per segment; no new batch is written during a stop to wake the
# shipper between them. The stop's grace is plenty for a few dozen messages: every batch
# must be shipped before the agent exits, the last ones (STOPPED among them) too, and
# its last line must say nothing is left unshipped.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
port=$js_port
marker=fl-stopbl-$$
node=stopbl-node-$$
export NODE_NAME=$node
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --segment-bytes 4k
/bin/true "$marker-first"
check_cmd "shipping" wait_for 60 ship_drained

nats_stop js
acked_before=$(metric firstlight_ship_acked_batches_total)
segments() { ls "$T/data"/*.seg.gz | wc -l; }
before=$(segments)
# Processes until the backlog spans 20 more segments (bounded: at most 2,000 of them).
for i in $(seq 1 2000); do
	/bin/true "$marker-$i"
	[ $((i % 10)) -ne 0 ] || [ "$(segments)" -lt $((before + 20)) ] || break
done
check_cmd "a backlog of 20 segments or more" test "$(segments)" -ge $((before + 20))
nats_start js "$port" || exit 1
# Stopped as soon as the engine has taken one more message (the agent may not even have
# seen the engine away: a publish waits through a short outage in the client's buffer).
acked_more() { [ "$(metric firstlight_ship_acked_batches_total)" -gt "$acked_before" ] 2>/dev/null; }
check_cmd "the agent ships again" wait_for 60 acked_more
agent_stop
check "the stop says nothing is left unshipped" 1 \
	"$(grep -c "ship: stopped; this run shipped [0-9]* batches in [0-9]* messages ([0-9]* bytes); shipping goes on from segment [0-9]* batch [0-9]* (0 batches counted unshipped)" "$T/agent.err")"
check "every batch in the stream exactly once, in order, the last ones too" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
finish
