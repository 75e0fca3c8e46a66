#!/usr/bin/env bash
# Containers started by a real containerd (Debian 12's 1.6, its runc shim, `ctr run
# --rootfs`, no image): the test starts its own containerd with its own root, state dir
# and socket, no CRI plugin, and runs two containers in a namespace of its own. The first
# container of a namespace makes runc create the namespace's cgroup (/<ns>) on its way to
# the container's (/<ns>/<id>): that directory is not the container. Exactly one workload
# per container, verified from runc's command line under the shim and named from its
# bundle, each found by `tree --container`, exit codes exact.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

for b in containerd ctr containerd-shim-runc-v2; do
	command -v "$b" >/dev/null || { echo "$b missing: scripts/deps.sh test installs containerd" >&2; exit 1; }
done
containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
"$FL_ROOTFS_SCRIPT" "$T/rootfs" >/dev/null || { echo "cannot build the rootfs" >&2; exit 1; }
ns=fl-e2e-$$
sock=$T/containerd.sock
mkdir -p "$T/cd-root" "$T/cd-state"
# version 2 config: no CRI plugin (it would look for CNI and a sandbox image).
printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$T/containerd.toml"
containerd --config "$T/containerd.toml" --root "$T/cd-root" --state "$T/cd-state" \
	--address "$sock" >"$T/containerd.log" 2>&1 &
cd_pid=$!
# Cleanup runs in order: the containers, the namespace, containerd, the cgroups it left.
ctr_() { ctr --address "$sock" --namespace "$ns" "$@"; }
on_cleanup "ctr --address $sock --namespace $ns tasks kill -s KILL c1-$$; ctr --address $sock --namespace $ns tasks kill -s KILL c2-$$; ctr --address $sock --namespace $ns containers rm c1-$$ c2-$$; ctr --address $sock namespaces rm $ns >/dev/null"
on_cleanup "kill $cd_pid; wait $cd_pid"
# containerd keeps its shims' sockets, IO fifos and runc's state under /run/containerd
# whatever its --state: removed when nothing else is left in them.
on_cleanup "find /sys/fs/cgroup -depth -type d -name '$ns' -exec rmdir {} +; rm -rf /run/containerd/runc/$ns; rmdir /run/containerd/fifo /run/containerd/s /run/containerd/runc"
wait_for 30 ctr --address "$sock" version >/dev/null 2>&1 || { cat "$T/containerd.log" >&2; exit 1; }

agent_start --metrics-addr off
# No image: no PATH in the process's environment, so the shell by its path.
ctr_ run --rootfs "$T/rootfs" "c1-$$" /bin/sh -c 'exit 3' </dev/null >"$T/c1.out" 2>&1
check "first container: exit status" 3 $? || cat "$T/c1.out" >&2
ctr_ run --rootfs "$T/rootfs" "c2-$$" /bin/sh -c '/bin/true fl-cd-marker; exit 5' </dev/null >"$T/c2.out" 2>&1
check "second container: exit status" 5 $? || cat "$T/c2.out" >&2
wait_for 20 container_recorded "c2-$$" || fail "second container's identity not recorded"
ctr_ containers rm "c1-$$" "c2-$$" >/dev/null
wait_for 20 sh -c "! ls -d /sys/fs/cgroup/unified/$ns/c2-$$ /sys/fs/cgroup/$ns/c2-$$ 2>/dev/null | grep -q ."
agent_stop

for c in 1 2; do
	id=c$c-$$
	code=$([ $c = 1 ] && echo 3 || echo 5)
	check "$id: exactly one workload" 1 \
		"$(q -r --arg id "$id" '[.[] | select(.workload.containerId == $id) | .workload.key] | unique | length')"
	w='[.[] | select(.workload.containerId == $id)][-1].workload'
	check "$id: its own cgroup, verified from runc under the shim, named by its bundle" "CONTAINER /$ns/$id true runc oci-bundle" \
		"$(q -r --arg id "$id" "$w | \"\(.kind) \(.cgroupPath) \(.identityVerified) \(.runtime) \(.identitySource)\"")"
	check "$id: bundle in containerd's task dir" "$T/cd-state/io.containerd.runtime.v2.task/$ns/$id" \
		"$(q -r --arg id "$id" "$w.bundle")"
	"$FIRSTLIGHT" tree --container "$id" --json "$T/data" >"$T/tree-$c.json" 2>"$T/tree-$c.err"
	check "$id: tree --container" 0 $? || cat "$T/tree-$c.err" >&2
	check "$id: the tree's workload" "$id 1" \
		"$(jq -r '"\(.workloads[0].containerId) \(.workloads | length)"' "$T/tree-$c.json")"
	cg=$(q -r --arg id "$id" "$w.cgroupId")
	check "$id: its shell's exit, recorded" "$code" \
		"$(q -r --arg cg "$cg" '[.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[0] == "/bin/sh") | .exec.process.execId] as $e | [.[] | select(.exit.execId == $e[0])][0].exit.exitCode')"
done
check "the namespace's directory is not a container" "" \
	"$(q -r --arg p "/$ns" '[.[] | select(.workload.cgroupPath == $p)][-1].workload.containerId // ""')"
check "the namespace's directory: made on the way" true \
	"$(q -r --arg p "/$ns" '[.[] | select(.workload.cgroupPath == $p)][-1].workload.detail | test("on its way to container c1-")')"
finish
