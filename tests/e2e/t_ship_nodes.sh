#!/usr/bin/env bash
# Across nodes. Three agents, each a node of its own (NODE_NAME), ship to one JetStream
# server of the test; one collector holds them all, a folder per node. tree --pod finds a
# pod on whichever node it ran; a pod name on two nodes is ambiguous, each node named,
# and --node chooses. A node whose sensor is killed is NODE_SILENT: for the collector as
# it runs, and for `gaps` reading the collected store. verify checks each node's chain.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"
. "$(dirname "$0")/../lib/nats.sh"

containers_setup || { echo "container set-up failed" >&2; exit 1; }
nats_start js || exit 1
collector_start "$js_url" --silent-after 3 || exit 1
ann() { jq -nc --arg p "$1" '{"io.kubernetes.cri.sandbox-name":$p,"io.kubernetes.cri.sandbox-namespace":"e2e",
	"io.kubernetes.cri.container-name":"c","io.kubernetes.cri.image-name":"busybox"}'; }
# on_node NODE POD...: an agent as NODE, a container per POD in it, shipped, stopped.
on_node() {
	local node=$1 pod
	shift
	rm -rf "$T/data"
	NODE_NAME=$node agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
	for pod in "$@"; do
		bundle_make "$T/b-$node-$pod" '["sh","-c","exit 0"]' "$(ann "$pod")" || exit 1
		container_run runc "fl-nodes-$node-$pod-$$" "$T/b-$node-$pod"
		check "$node: container of $pod exit status" 0 $?
	done
	check_cmd "$node: shipped" wait_for 60 ship_drained
	agent_stop
	mv "$T/data" "$T/data-$node"
}
a=nodes-a-$$ b=nodes-b-$$ c=nodes-c-$$
on_node "$a" "pod-a-$$" "pod-both-$$"
on_node "$b" "pod-b-$$" "pod-both-$$"
# Node c: heartbeats every second, then killed.
NODE_NAME=$c agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0 --heartbeat-interval 1
check_cmd "$c: shipped" wait_for 60 ship_drained
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
check_cmd "the collector says node c went silent" wait_for 60 grep -q "node $c sent nothing for" "$T/col.err"
collector_stop
check "a folder per node" "$(printf '%s\n' "$a" "$b" "$c" | sort)" "$(ls "$T/col" | grep -v '^@' | sort)"

# tree --pod over the collected store: the pod, on its node.
"$FIRSTLIGHT" tree --pod "pod-a-$$" --json "$T/col" >"$T/tree.json" 2>"$T/tree.err"
check "tree --pod a: exit status" 0 $? || cat "$T/tree.err" >&2
check "tree --pod a: on node a" "$a fl-nodes-$a-pod-a-$$-$$" \
	"$(jq -r '.workloads[] | select(.containerId) | "\(.node) \(.containerId)"' "$T/tree.json")"
"$FIRSTLIGHT" tree --pod "pod-b-$$" --json "$T/col" >"$T/tree.json" 2>"$T/tree.err"
check "tree --pod b: on node b" "$b" "$(jq -r '[.workloads[] | select(.containerId) | .node] | unique | join(" ")' "$T/tree.json")"
"$FIRSTLIGHT" tree --pod "pod-both-$$" "$T/col" >/dev/null 2>"$T/amb.err"
check "a pod on two nodes: exit status" 2 $?
check_cmd "a pod on two nodes: says to add --node" grep -q "on several nodes: add --node NAME" "$T/amb.err"
check "a pod on two nodes: both nodes listed" 2 "$(grep -cE "node ($a|$b)" "$T/amb.err")"
"$FIRSTLIGHT" tree --pod "pod-both-$$" --node "$b" --json "$T/col" >"$T/tree.json" 2>"$T/tree.err"
check "--node b: exit status" 0 $? || cat "$T/tree.err" >&2
check "--node b: node b's container" "$b fl-nodes-$b-pod-both-$$-$$" \
	"$(jq -r '.workloads[] | select(.containerId) | "\(.node) \(.containerId)"' "$T/tree.json")"

# gaps over the collected store, read on a node of its own: c is silent, a and b stopped.
sleep 4 # three of c's heartbeat intervals since its last record (not a wait for a condition)
NODE_NAME=the-reader-$$ "$FIRSTLIGHT" gaps --json "$T/col" >"$T/gaps.json" 2>"$T/gaps.err"
check "gaps: NODE_SILENT for node c, and only c" "$c" \
	"$(jq -r 'select(.kind == "NODE_SILENT" and .source == "detected") | .node' "$T/gaps.json")"
check "gaps: no unclean end of a or b" "" "$(jq -r 'select(.kind == "UNCLEAN_END") | .node' "$T/gaps.json")"
check "the collector's own record: NODE_SILENT for c" "$c" \
	"$("$FIRSTLIGHT" read "$T/col/@collector" 2>/dev/null | jq -r 'select(.gap.kind == "NODE_SILENT") | .gap.node')"
# verify: each folder its node's own chain. Without keys every folder is UNPINNED (3);
# with each node's key in --keys DIR (DIR/<node>.pub) every folder is OK (0).
"$FIRSTLIGHT" verify "$T/col" >"$T/verify.out" 2>&1
check "verify without keys: exit status UNPINNED" 3 $? || cat "$T/verify.out" >&2
check "verify without keys: one UNPINNED per folder" 4 "$(grep -c ": UNPINNED: " "$T/verify.out")"
mkdir -p "$T/keys"
for n in "$a" "$b" "$c"; do "$FIRSTLIGHT" key export --key "$T/node.key" >"$T/keys/$n.pub"; done
"$FIRSTLIGHT" key export --key "$T/col.key" >"$T/keys/@collector.pub"
"$FIRSTLIGHT" verify --keys "$T/keys" "$T/col" >"$T/verify.out" 2>&1
check "verify --keys: every node's chain" 0 $? || cat "$T/verify.out" >&2
check "verify --keys: one OK per folder" 4 "$(grep -c ": OK: .*(trusted: --pubkey)" "$T/verify.out")"
finish
