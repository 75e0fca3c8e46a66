#!/usr/bin/env bash
# serial
# The DaemonSet's pod template (deploy/kubernetes/firstlight.yaml) run in podman with
# exactly its settings: hostPID, securityContext (capabilities, read-only root, no new
# privileges, seccomp), the mounts, NODE_NAME from the node, the args: the flags come from
# the manifest (scripts/podman-args.py; podman 4.3's `kube play` ignores hostPID), only the
# hostPaths of the data dir, the key dir and the bpffs are the test's own. The agent in
# the image becomes ready (/healthz 200 from inside the pod's network namespace, where a
# kubelet's probe arrives), records a runc container's job on the host with its identity,
# and its data dir on the host verifies with the node key it made. Then a rolling update:
# the pod is stopped (SIGTERM: handover) and a new one adopts the pinned programs, no
# SENSOR_DOWN between them. The image's version label, the binary's --version and the
# STARTED record agree.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/image.sh"
. "$(dirname "$0")/../lib/container.sh"

here=$(cd "$(dirname "$0")/../.." && pwd)
manifest=$here/deploy/kubernetes/firstlight.yaml
image_setup || exit 1
containers_setup || { echo "container set-up failed" >&2; exit 1; }

# Cleanup runs in order: the pods go first (their agents hold the pin dir), then the pins.
on_cleanup "podman rm -f -t 0 fl-ds-a-$$ fl-ds-b-$$ >/dev/null 2>&1"
mkdir "$T/bpffs" && mount -t bpf bpf "$T/bpffs" || { echo "cannot mount a bpffs at $T/bpffs" >&2; exit 1; }
on_cleanup "'$FIRSTLIGHT' unpin --pin-dir '$T/bpffs/firstlight' >/dev/null; umount '$T/bpffs'"
# The node's tracefs, which the manifest brings into the pod (systemd mounts it at boot;
# a bare test machine may not have it).
if ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing || { echo "cannot mount tracefs" >&2; exit 1; }
	on_cleanup "umount /sys/kernel/tracing"
fi
node=fl-ds-node-$$
maps=(--map "/var/lib/firstlight=$T/data" --map "/etc/firstlight=$T/keys" --map "/sys/fs/bpf=$T/bpffs")
# Runtimes this machine does not have: their (DirectoryOrCreate) dirs made in $T, not in /run.
for p in $(awk '/^ *path: \/run\// { print $2 }' "$manifest"); do
	[ -d "$p" ] || maps+=(--map "$p=$T/absent$p")
done
mapfile -t pod_args < <("$here/scripts/podman-args.py" "$manifest" --node "$node" --image "$image" "${maps[@]}")
# One addition: the test's OCI bundle, read-only at its own path, standing in for the
# runtimes' bundle dirs the manifest mounts (containerd's under /run/containerd): the
# agent reads a container's identity from its bundle's config.json.
bundle_make "$T/b" '["sh","-c","exit 7"]' || exit 1
for i in "${!pod_args[@]}"; do
	[ "${pod_args[$i]}" = "$image" ] || continue
	pod_args=("${pod_args[@]:0:$i}" "--volume=$T/b:$T/b:ro,rprivate" "${pod_args[@]:$i}")
	break
done
check_cmd "flags derived from the manifest" test "${#pod_args[@]}" -gt 10
check "the template runs with its pinned image" "$(sed -n 's/^ *image: //p' "$manifest")" "$image"

# pod_start NAME: runs the template; waits for /healthz 200. POD_PID: its agent's host pid.
pod_start() {
	podman run -d --name "$1" "${pod_args[@]}" >/dev/null || { echo "podman run failed" >&2; exit 1; }
	POD_PID=$(podman inspect -f '{{.State.Pid}}' "$1")
	if ! wait_for 60 healthz_ok; then
		echo "the pod did not become ready:" >&2
		podman logs "$1" >&2
		exit 1
	fi
}
healthz() { nsenter -t "$POD_PID" -n curl -s -o "$T/healthz" -w '%{http_code}' http://127.0.0.1:9464/healthz; }
healthz_ok() { [ "$(healthz)" = 200 ]; }
# pod_stop NAME: what a rolling update does: SIGTERM, the grace period, then the logs.
pod_stop() {
	podman stop -t "$(sed -n 's/^ *terminationGracePeriodSeconds: //p' "$manifest")" "$1" >/dev/null
	check "$1: exit status" 0 "$(podman inspect -f '{{.State.ExitCode}}' "$1")"
	podman logs "$1" >"$T/$1.log" 2>&1
	podman rm "$1" >/dev/null
	"$FIRSTLIGHT" read "$T/data" >"$T/records.jsonl" 2>"$T/read.err"
	check "firstlight read exit status" 0 "$?" || cat "$T/read.err" >&2
}

pod_start "fl-ds-a-$$"
check_cmd "ready: every program attached" grep -q "^ok: [0-9]* programs attached" "$T/healthz"
check "the pod sees the host's pids" "$(readlink /proc/self/ns/pid)" "$(readlink "/proc/$POD_PID/ns/pid")"
check "the pod's root is read-only" ro "$(awk '$5 == "/" { split($6, o, ","); print o[1] }' "/proc/$POD_PID/mountinfo")"
check "the manifest adds the four documented capabilities" "BPF,NET_ADMIN,PERFMON,SYS_PTRACE" \
	"$(sed -n '/add:/,/volumeMounts/ s/^ *- \([A-Z_]*\)$/\1/p' "$manifest" | sort | paste -sd,)"
# Once ready, the agent keeps of them what it needs while it runs (docs/deployment.md,
# "Least privilege while it runs"): CAP_BPF; CAP_DAC_READ_SEARCH is not granted here.
caps_of() { capsh --decode="$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$POD_PID/status")" 2>/dev/null |
	sed 's/.*=//; s/cap_//g' | tr a-z A-Z | tr , '\n' | sort | paste -sd,; }
check "ready, the agent holds CAP_BPF alone (effective)" BPF "$(caps_of CapEff)"
check "ready, the agent holds CAP_BPF alone (permitted)" BPF "$(caps_of CapPrm)"
check "no new privileges, a seccomp filter" "1 2" \
	"$(awk '$1 == "NoNewPrivs:" { n = $2 } $1 == "Seccomp:" { s = $2 } END { print n, s }' "/proc/$POD_PID/status")"

# A job in a runc container on the host: recorded by the agent in the pod, named.
container_run runc "fl-ds-job-$$" "$T/b"
check "the job's exit status" 7 $?
check_cmd "the job's identity recorded" wait_for 30 container_recorded "fl-ds-job-$$"
pod_stop "fl-ds-a-$$"
a_run=$(q -r '[.[] | select(.agent.state == "STARTED")][0].agentRunId')
check "STARTED names the node (downward API)" "$node" "$(q -r '[.[] | select(.agent.state == "STARTED")][0].node')"
check "STARTED's version is the binary's" "$(podman run --rm --network=none "$image" --version | awk '{ print $2 }')" \
	"$(q -r '[.[] | select(.agent.state == "STARTED")][0].agent.version')"
check "the image's version label is the binary's" "$(podman run --rm --network=none "$image" --version | awk '{ print $2 }')" \
	"$(podman image inspect -f '{{index .Labels "org.opencontainers.image.version"}}' "$image")"
wl='[.[] | select(.workload.containerId == $id)][-1].workload'
check "the job's workload: runc, a container" "runc CONTAINER" "$(q -r --arg id "fl-ds-job-$$" "$wl | \"\(.runtime) \(.kind)\"")"
cg=$(q -r --arg id "fl-ds-job-$$" "$wl.cgroupId")
check "the job's exit: code 7, in its cgroup" 7 "$(q -r --arg cg "$cg" '[.[] | select(.exit.cgroupId == $cg and .exit.exitCode == 7)][0].exit.exitCode')"
check "the job's exec: sh -c exit 7" '["sh","-c","exit 7"]' "$(q -c --arg cg "$cg" '[.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[0] == "sh")][0].exec.process.args')"
check "the privilege programs attached in the pod (the node's tracefs)" true \
	"$(q '[.[] | .nodeCapabilities.available // empty | index("privilege-changes") != null] | first')"
check "the stop handed over" true "$(q -r '[.[] | select(.agent.state == "STOPPED")][0].agent.handover')"

# The rolling update: a new pod on the same node adopts what the old one pinned.
pod_start "fl-ds-b-$$"
pod_stop "fl-ds-b-$$"
check_cmd "B adopted A's programs" grep -q "adopted the programs run $a_run left pinned in /sys/fs/bpf/firstlight" "$T/fl-ds-b-$$.log"
check "B's STARTED names A" "$a_run" "$(q -r '[.[] | select(.agent.state == "STARTED")][1].agent.adoptedRunId')"
check "no SENSOR_DOWN gap" 0 "$(q '[.[] | select(.gap.kind == "SENSOR_DOWN")] | length')"
check "the key stayed on the host, 0600" 600 "$(stat -c %a "$T/keys/node.key")"
"$FIRSTLIGHT" key export --key "$T/keys/node.key" >"$T/node.pub"
check_cmd "the data dir verifies on the host with the node's key" "$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data"
finish
