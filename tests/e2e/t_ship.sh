#!/usr/bin/env bash
# Evidence leaves the node: an agent with --ship publishes every batch to a NATS JetStream
# server of the test (loopback), 2,000 processes and a runc job recorded meanwhile; the
# collector takes them into a store of its own. Exactly once: the stream's messages carry
# the node's batches, each once and in order (with --ship-linger-ms 200 a message carries
# the batches of a linger), and the collector's copy is the node's batch for batch: it
# verifies with the node's public key, reads the same, and the job's tree from it is the
# tree from the node's store. A batch published on the node's subject but signed with another key is refused and recorded, and so is a bundle cut short.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"
. "$(dirname "$0")/../lib/nats.sh"

containers_setup || { echo "container set-up failed" >&2; exit 1; }
nats_start js || exit 1
marker=fl-ship-$$
node=ship-node-$$
export NODE_NAME=$node

agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --ship-linger-ms 200
check_cmd "the agent says it ships" grep -q "ship: connected to $js_url, shipping on firstlight.batches.$node" "$T/agent.err"
"$HELPERS/fl-storm" -n 2000 -p 2 -- /bin/true "$marker"
check "storm exit status" 0 $?
bundle_make "$T/b" '["sh","-c","busybox true; exit 3"]' || exit 1
container_run runc "fl-ship-$$" "$T/b"
check "container exit status" 3 $?
# Every batch written so far acked, while the agent runs.
check_cmd "everything written is acked" wait_for 60 ship_drained
check "connected" 1 "$(metric firstlight_ship_connected)"
# What shipping cost is on the node's own metrics: the shipper's and its client's threads.
ship_cpu=$(metric 'firstlight_cpu_seconds_total{role="ship"}')
check_cmd "shipping's CPU is the ship role's ($ship_cpu s)" awk -v v="$ship_cpu" 'BEGIN {exit !(v > 0)}'
agent_stop
local_batches=$(batch_hashes "$T/data" | wc -l)
check "the stream holds each batch once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
check_cmd "batches went in fewer messages (a message per linger)" test \
	"$("$HELPERS/fl-jsinfo" msgs "$js_url" FIRSTLIGHT "firstlight.batches.$node")" -lt "$local_batches"
# The agent's account of what it shipped (its stop line; the metrics count the same) is
# the stream's: batches, messages, and their bodies' bytes.
shipped=$(sed -n 's/.*ship: stopped; this run shipped \([0-9]*\) batches in \([0-9]*\) messages (\([0-9]*\) bytes).*/\1 \2 \3/p' "$T/agent.err")
check "what the agent says it shipped" "$local_batches $("$HELPERS/fl-jsinfo" msgs "$js_url" FIRSTLIGHT "firstlight.batches.$node") $("$HELPERS/fl-jsinfo" list "$js_url" FIRSTLIGHT "firstlight.batches.$node" | sed -n 's/.* bytes=\([0-9]*\)$/\1/p' | awk '{s += $1} END {print s}')" "$shipped"

collector_start "$js_url" || exit 1
check_cmd "the collector holds them all" wait_for 60 collected_all "$T/data" "$node"
collector_stop
copy_matches "$node"
check_cmd "verify names the trusted key" grep -q "trusted: --pubkey" "$T/verify-copy.out"
check "the copy reads as the node's store" "$("$FIRSTLIGHT" read "$T/data" | md5sum)" \
	"$("$FIRSTLIGHT" read "$T/col/$node" | md5sum)"
check "every process of the storm, once" 2000 \
	"$("$FIRSTLIGHT" read "$T/col/$node" | jq -c --arg m "$marker" 'select(.exec.process.args[1]? == $m) | .exec.process.execId' | sort -u | wc -l)"
"$FIRSTLIGHT" tree --container "fl-ship-$$" "$T/data" >"$T/tree.node" 2>&1
check "tree from the node: exit status" 0 $?
"$FIRSTLIGHT" tree --container "fl-ship-$$" "$T/col" >"$T/tree.col" 2>&1
check "tree from the collected store (every node): exit status" 0 $?
check "the same tree" "$(cat "$T/tree.node")" "$(cat "$T/tree.col")"
check "verify --against: nothing gone" 0 \
	"$("$FIRSTLIGHT" verify --against "$T/col" "$T/data" >"$T/against.out" 2>&1; echo $?)"
check_cmd "verify --against: says so" grep -q "^OK: node $node: all $local_batches batches" "$T/against.out"

# A batch on the node's subject signed by another key: refused, kept aside, on record.
# (The segment's second batch, re-signed by a forger's key: it states no key of its own.)
seg=$(ls "$T/data"/*.seg.gz | head -n1)
"$HELPERS/fl-tamper" forge "$seg" "$T/forged.seg.gz" >/dev/null || exit 1
"$HELPERS/fl-segtool" batch "$T/forged.seg.gz" 1 "$T/forged.batch" || exit 1
hash=$("$HELPERS/fl-segtool" hashes "$T/forged.seg.gz" | sed -n 2p)
"$HELPERS/fl-jsinfo" publish "$js_url" "firstlight.batches.$node" "$T/forged.batch" \
	"Fl-Segment=$(basename "$seg")" Fl-Batch=1 "Fl-Hash=$hash" >/dev/null
check "forged batch published" 0 $?
collector_start "$js_url" || exit 1
check_cmd "the collector refuses it" wait_for 30 grep -q "refused a batch .* its signature is not the node's key's: forged" "$T/col.err"
collector_stop
check "the node's folder is unchanged" "$(batch_hashes "$T/data")" "$(batch_hashes "$T/col/$node")"
check "kept aside for whoever investigates" 1 "$(ls "$T/col/@rejected/$node" | grep -c "^$hash")"
"$FIRSTLIGHT" read "$T/col/@collector" >"$T/findings.jsonl"
check "on the collector's record: BATCH_REJECTED, bad-signature, naming the node" "$node bad-signature" \
	"$(jq -r 'select(.gap.kind == "BATCH_REJECTED") | "\(.gap.node) \(.gap.reason)"' "$T/findings.jsonl")"
check "the node's key, held on first use, on record" "trust-on-first-use $(sed -n 's/.*public key \([0-9a-f]*\)).*/\1/p' "$T/agent.err")" \
	"$(jq -r --arg n "$node" 'select(.nodeKey.node == $n) | .nodeKey as $k | "\($k.source) \($k.publicKey)"' "$T/findings.jsonl" |
		while read -r src b64; do echo "$src $(echo "$b64" | base64 -d | od -An -tx1 | tr -d ' \n')"; done)"

# A bundle whose second batch is cut (its length says 5 bytes, 2 follow): refused whole,
# on record; its first batch, already held, changes nothing.
"$HELPERS/fl-segtool" batch "$seg" 0 "$T/b0.batch" || exit 1
len=$(stat -c %s "$T/b0.batch") v=
while [ "$len" -ge 128 ]; do v+=$(printf '\\x%02x' $(((len & 127) | 128))); len=$((len >> 7)); done
v+=$(printf '\\x%02x' "$len")
{ printf '%b' "$v"; cat "$T/b0.batch"; printf '\x05ab'; } >"$T/cut.bundle"
"$HELPERS/fl-jsinfo" publish "$js_url" "firstlight.batches.$node" "$T/cut.bundle" \
	"Fl-Segment=$(basename "$seg")" Fl-Batch=1 Fl-Count=2 "Fl-Hash=$hash" >/dev/null
check "cut bundle published" 0 $?
collector_start "$js_url" || exit 1
check_cmd "the collector refuses the cut bundle" wait_for 30 grep -q "refused a batch .* not a bundle of 2 batches: batch 1's length is cut or beyond the message" "$T/col.err"
collector_stop
check "the node's folder is still unchanged" "$(batch_hashes "$T/data")" "$(batch_hashes "$T/col/$node")"
"$FIRSTLIGHT" read "$T/col/@collector" >"$T/findings.jsonl"
check "on record: BATCH_REJECTED, undecodable" "$node undecodable" \
	"$(jq -r 'select(.gap.kind == "BATCH_REJECTED" and .gap.reason != "bad-signature") | "\(.gap.node) \(.gap.reason)"' "$T/findings.jsonl")"

# The collected store read whole by report. The collector ran with this test's NODE_NAME,
# so its own records name the node: they are @collector's all the same (its folder), its
# chain signed by its own key; its findings about the node count in the node's verdict.
mkdir "$T/keys" && cp "$T/node.pub" "$T/keys/$node.pub" &&
	"$FIRSTLIGHT" key export --key "$T/col.key" >"$T/keys/@collector.pub" || exit 1
"$FIRSTLIGHT" report --since 2020-01-01 --until 2030-01-01 --keys "$T/keys" --json "$T/col" >"$T/report.json"
check "report of the collected store: not complete (the window is longer than the runs)" 3 $?
check "report: the node and @collector, each apart" "@collector $node" "$(jq -r '[.nodes[].node] | join(" ")' "$T/report.json")"
check "report: both chains verify with the pinned keys" "true true true true" \
	"$(jq -r '[.nodes[].chain | .verified, .keyPinned] | map(tostring) | join(" ")' "$T/report.json")"
check "report: the node's verdict counts the 2 refused batches" "BATCH_REJECTED: 2 batches refused by the collector" \
	"$(jq -r --arg n "$node" '.nodes[] | select(.node == $n) | .reasons[] | select(.kind == "BATCH_REJECTED") | .text' "$T/report.json")"
check "report: listed among the node's gaps, naming it" "$node $node" \
	"$(jq -r --arg n "$node" '[.nodes[] | select(.node == $n) | .gaps[] | select(.kind == "BATCH_REJECTED") | .aboutNode] | join(" ")' "$T/report.json")"
check "report: the collector's own verdict notes them, not as its own loss" "FINDINGS: 2 about the nodes they name, in their verdicts" \
	"$(jq -r '.nodes[] | select(.node == "@collector") | ([.reasons[].kind | select(. == "BATCH_REJECTED")] | length | tostring) + (.notes[] | select(.kind == "FINDINGS") | .text)' "$T/report.json" | sed 's/^0//')"
finish
