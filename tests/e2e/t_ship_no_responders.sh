#!/usr/bin/env bash
# quick
# The stream stays, but for a while nothing answers publishes on the node's subject (no
# responders: in a cluster, the moments its leader is being elected; here the stream
# made to take another subject, then given its own back). The batches of the publish
# that found no one were taken from the in-memory queue: the agent must ship them again
# from the files, not go on with the next ones queued (a hole the server would accept:
# it holds what the agent had shipped before, so the expected last sequence matches).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
marker=fl-noresp-$$
node=noresp-node-$$
export NODE_NAME=$node
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
for i in $(seq 1 20); do /bin/true "$marker-before-$i"; done
check_cmd "shipped" wait_for 60 ship_drained

check_cmd "the stream takes another subject" "$HELPERS/fl-jsinfo" subjects "$js_url" FIRSTLIGHT "elsewhere.>"
# Batches keep coming while no one answers: some in the publish that finds no one, more
# queued behind it.
for r in 1 2 3 4 5; do
	for i in $(seq 1 10); do /bin/true "$marker-during-$r-$i"; done
	sleep 0.3
done
check_cmd "the agent finds no responders" wait_for 30 \
	grep -q "ship: FIRSTLIGHT: no stream answers on this subject (no responders: .*); connecting again" "$T/agent.err"
check_cmd "and a stream that does not take its subject" wait_for 30 \
	grep -qF "stream FIRSTLIGHT exists but does not take subject firstlight.batches.>" "$T/agent.err"
check_cmd "the stream takes the node's subjects again" "$HELPERS/fl-jsinfo" subjects "$js_url" FIRSTLIGHT "firstlight.batches.>"
for i in $(seq 1 20); do /bin/true "$marker-after-$i"; done
check_cmd "shipped again" wait_for 60 ship_drained
agent_stop
check "every batch in the stream exactly once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
finish
