#!/usr/bin/env bash
# A handover while shipping: agent A (--handover --ship) records 500 processes and is
# stopped; 500 more run in the window; agent B adopts A's pins on the same data dir and
# ships on from where A stopped (ship.state). The stream holds each of the node's
# batches exactly once, the collector's copy is the node's batch for batch and verifies,
# and each process of both storms is in it once.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/handover.sh"
. "$(dirname "$0")/../lib/nats.sh"

handover_setup
nats_start js || exit 1
node=ho-ship-$$
export NODE_NAME=$node
args=(--handover --pin-dir "$PIN" --ring-size 64M --ship "$js_url" --metrics-addr 127.0.0.1:0)

agent_start "${args[@]}"
in_cg "$HELPERS/fl-storm" -n 500 -p 2 -- /bin/true "fl-hos-a-$$"
check "storm A exit status" 0 $?
agent_stop
in_cg "$HELPERS/fl-storm" -n 500 -p 2 -- /bin/true "fl-hos-w-$$"
check "storm in the window exit status" 0 $?
agent_start "${args[@]}"
check_cmd "B adopted A's programs" grep -q "adopted from run" "$T/agent.err"
# Everything written so far acked, A's last batches among them.
check_cmd "everything written is acked" wait_for 60 ship_drained
agent_stop
check "no SENSOR_DOWN gap" 0 "$(q '[.[] | select(.gap.kind == "SENSOR_DOWN")] | length')"
# A message may carry several batches (a bundle): the batches the stream's messages
# carry are the store's, each once, in order.
check "the stream holds each batch once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"

collector_start "$js_url" || exit 1
check_cmd "the collector holds them all" wait_for 60 collected_all "$T/data" "$node"
collector_stop
copy_matches "$node"
"$FIRSTLIGHT" read "$T/col/$node" >"$T/col.jsonl"
for m in "fl-hos-a-$$" "fl-hos-w-$$"; do
	check "$m: every process once in the copy" 500 "$(jq -c --arg m "$m" 'select(.exec.process.args[1]? == $m) | .exec.process.execId' "$T/col.jsonl" | sort -u | wc -l)"
	check "$m: no exec twice" 500 "$(jq -c --arg m "$m" 'select(.exec.process.args[1]? == $m)' "$T/col.jsonl" | wc -l)"
done
check "verify --against: nothing gone" 0 \
	"$("$FIRSTLIGHT" verify --against "$T/col" "$T/data" >"$T/against.out" 2>&1; echo $?)"
finish
