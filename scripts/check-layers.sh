#!/usr/bin/env bash
# The architecture as a test (make test runs it): the folders of user/ are layers, and a
# file may include only headers of its own folder or of a lower layer; no module (x.c and
# x.h) reaches itself again through the modules it includes; a command (cmd/) is
# included by nothing but main.c; every struct of the kernel ABI (bpf/firstlight.h) has
# its size asserted. Prints every violation, exit 1 if there is one.
#
#   rank 0  base       time, text, tables, allocation, logging
#   rank 1  records    the record core: recorder, gaps, ids and keys, the sink interface
#   rank 1  identity   what cgroup paths, OCI bundles and runtime argv say
#   rank 2  store      segment files, chain, keys, retention, the sinks
#   rank 2  sensor     BPF loading, decoding, the live process and workload tables
#   rank 2  transport  NATS JetStream: connection, stream, publish, consume
#   rank 3  readers    inputs, read, tree, gaps, verify as libraries
#   rank 3  ship       shipping the node's batches to JetStream
#   rank 4  agent      the agent's lifecycle, metrics, run state, what the store reports
#   rank 5  collect    the collector: batches from JetStream into a store per node
#   rank 6  cmd        option parsing, calls into the layers below
set -u
cd "$(dirname "$0")/.."

awk '
BEGIN {
	rank["base"] = 0; rank["records"] = 1; rank["identity"] = 1; rank["store"] = 2
	rank["sensor"] = 2; rank["transport"] = 2; rank["readers"] = 3; rank["ship"] = 3; rank["agent"] = 4; rank["collect"] = 5; rank["cmd"] = 6
	bad = 0
}
FNR == 1 {
	file = FILENAME; sub(/^user\//, "", file)
	folder = file; sub(/\/.*/, "", folder)
	mod = file; sub(/\.[ch]$/, "", mod)
	if (!(folder in rank)) { printf "%s: folder %s has no layer in scripts/check-layers.sh\n", FILENAME, folder; bad = 1 }
	mods[mod] = 1
}
/^#include "[a-z_]+\/[a-z_0-9]+\.h"/ {
	inc = $2; gsub(/"/, "", inc)
	ifolder = inc; sub(/\/.*/, "", ifolder)
	imod = inc; sub(/\.h$/, "", imod)
	if (imod == mod)
		next
	if (!(ifolder in rank)) { printf "%s: includes %s, in no layer\n", FILENAME, inc; bad = 1; next }
	if (ifolder != folder && rank[ifolder] >= rank[folder]) {
		printf "%s: includes %s: %s (layer %d) may not use %s (layer %d)\n", FILENAME, inc, folder, rank[folder], ifolder, rank[ifolder]
		bad = 1
	}
	if (ifolder == "cmd" && file != "cmd/main.c") {
		printf "%s: includes %s: a command is included by main.c alone\n", FILENAME, inc
		bad = 1
	}
	if (!((mod, imod) in edge)) { edge[mod, imod] = 1; out[mod] = out[mod] " " imod }
}
# Depth-first search for a module that reaches itself; prints the first path found.
function visit(m,    n, i, next_mods) {
	state[m] = 1; stack[++depth] = m
	n = split(out[m], next_mods, " ")
	for (i = 1; i <= n; i++) {
		if (state[next_mods[i]] == 1) { report(next_mods[i]); continue }
		if (!state[next_mods[i]]) visit(next_mods[i])
	}
	state[m] = 2; depth--
}
function report(m,    i, s, from) {
	for (i = 1; i <= depth; i++) if (stack[i] == m) from = i
	s = ""
	for (i = from; i <= depth; i++) s = s stack[i] " -> "
	printf "include cycle: %s%s\n", s, m
	bad = 1
}
END {
	for (m in mods) if (!state[m]) visit(m)
	exit bad
}
' user/*/*.c user/*/*.h
rc=$?

# Every struct of the kernel/user ABI has its size pinned in user/sensor/abi.c.
for s in $(sed -n 's/^struct \(fl_[a-z0-9_]*\) {.*/\1/p' bpf/firstlight.h); do
	if ! grep -q "_Static_assert(sizeof(struct $s) ==" user/sensor/abi.c; then
		echo "bpf/firstlight.h: struct $s has no size assertion in user/sensor/abi.c"
		rc=1
	fi
done
[ $rc -eq 0 ] && echo "check-layers: $(ls user/*/*.[ch] | wc -l) files in $(ls -d user/*/ | wc -l) layers, no upward include, no cycle; $(grep -c '^struct fl_[a-z0-9_]* {' bpf/firstlight.h) ABI structs pinned"
exit $rc
