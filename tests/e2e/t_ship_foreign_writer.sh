#!/usr/bin/env bash
# quick
# Someone else publishes on the node's subject while the agent ships (a misconfigured
# second agent, a hostile client with the stream's credentials). The agent's next publish
# expects the subject's last sequence to be its own last message: the server refuses it
# (wrong last sequence). The agent asks the server where it stands, finds a message that
# is not a batch of its own, and ships what follows its own last batch after it: every
# batch of the node reaches the stream exactly once, in order, and the collector's copy is
# the node's, with the stranger's message refused and on record.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
marker=fl-foreign-$$
node=foreign-node-$$
export NODE_NAME=$node
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
for i in $(seq 1 20); do /bin/true "$marker-before-$i"; done
check_cmd "shipped" wait_for 60 ship_drained

printf 'not a batch\n' >"$T/stranger.msg"
"$HELPERS/fl-jsinfo" publish "$js_url" "firstlight.batches.$node" "$T/stranger.msg" >/dev/null
check "a stranger's message on the node's subject" 0 $?
for i in $(seq 1 20); do /bin/true "$marker-after-$i"; done
check_cmd "the server refuses the agent's next publish; the agent asks where it stands" wait_for 30 \
	grep -q "ship: firstlight.batches.$node: .*; asking the server where it stands" "$T/agent.err"
check_cmd "and finds the stranger's message" wait_for 30 \
	grep -q "ship: the last message on firstlight.batches.$node is not a batch of ours: going on from ship.state" "$T/agent.err"
check_cmd "shipped again" wait_for 60 ship_drained
check "one refusal, no error left over" 1 "$(metric firstlight_ship_publish_errors_total)"
agent_stop
"$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node" >"$T/stream.batches"
check "the stream: every batch of the node exactly once, in order" "$(batch_hashes "$T/data")" \
	"$(grep -vx -- - "$T/stream.batches")"
check "and the stranger's message, once" 1 "$(grep -cx -- - "$T/stream.batches")"
check "after the stranger, the batches the refused publish held" 1 \
	"$(awk '$0 == "-" { s = NR } END { print (s > 1 && s < NR) }' "$T/stream.batches")"

collector_start "$js_url" || exit 1
check_cmd "the collector holds them all" wait_for 60 collected_all "$T/data" "$node"
check_cmd "and refuses the stranger's message" wait_for 30 \
	grep -q "refused a batch .*no segment name or hash in its headers" "$T/col.err"
collector_stop
copy_matches "$node"
check "the stranger on the collector's record: BATCH_REJECTED naming the node" "$node" \
	"$("$FIRSTLIGHT" read "$T/col/@collector" | jq -r 'select(.gap.kind == "BATCH_REJECTED") | .gap.node')"
check "every process after the stranger recorded in the copy" 20 \
	"$("$FIRSTLIGHT" read "$T/col/$node" | jq -c --arg m "$marker-after-" 'select((.exec.process.args[1]? // "") | startswith($m)) | .exec.process.execId' | sort -u | wc -l)"
finish
