#!/usr/bin/env bash
# quick
# A cgroup named like a containerd container, made while the agent is down, takes the
# victim's identity only if the runtime's own state puts the victim there. The victim is
# a real runc container laid out as containerd's runc shim lays one out (bundle in
# containerd's task dir, runc --root /run/containerd/runc/default, its cgroup
# /cri-containerd-<id>.scope); a workload nests /fl-nest-<pid>/cri-containerd-<id>.scope
# in a cgroup of its own and runs a process in it. The bundle for that id exists: before
# runtime state was checked that was enough, and the fake became the verified victim.
# Now the fake stays a claim (runc's state.json records the victim's cgroup), the victim
# is verified, and its bundle is read with containerd's annotation keys only (a CRI-O
# key in it, as a pod annotation copied there would be, is not taken).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
cg2=/sys/fs/cgroup/unified
[ -d "$cg2" ] || cg2=/sys/fs/cgroup
cid=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
task=/run/containerd/io.containerd.runtime.v2.task
bdir=$task/default/$cid
sroot=/run/containerd/runc/default
nest=$cg2/fl-nest-$$
fake=$nest/cri-containerd-$cid.scope

mkdir -p "$task/default" "$sroot" || exit 1
on_cleanup "rm -rf '$bdir'; rmdir '$task/default' '$task' '$sroot' /run/containerd/runc 2>/dev/null"
bundle_make "$bdir" '["sh","-c","exit 5"]' "$(jq -n '{"io.kubernetes.cri.container-type": "container",
	"io.kubernetes.cri.sandbox-name": "victim-pod", "io.kubernetes.cri.sandbox-namespace": "e2e",
	"io.kubernetes.pod.name": "forged-pod", "io.kubernetes.container.name": "forged-name"}')" || exit 1
jq --arg p "/cri-containerd-$cid.scope" '.linux.cgroupsPath = $p' "$bdir/config.json" >"$bdir/c.json" &&
	mv "$bdir/c.json" "$bdir/config.json"
on_cleanup "runc --root $sroot delete -f $cid"
(cd "$bdir" && runc --root "$sroot" create "$cid" </dev/null >/dev/null 2>&1) ||
	{ echo "runc create failed" >&2; exit 1; }
real_path=$(jq -r '.cgroup_paths[""]' "$sroot/$cid/state.json")
check "runc put the victim where its cgroupsPath says" "$cg2/cri-containerd-$cid.scope" "$real_path"

# The fake, and a process in it, while no agent runs.
mkdir -p "$fake" || exit 1
on_cleanup "rmdir '$fake' '$nest'"
sh -c 'echo $$ > "$1/cgroup.procs" && exec sleep 600' sh "$fake" &
squatter=$!
on_cleanup "kill $squatter"
wait_for 10 grep -q "cri-containerd-$cid.scope" "/proc/$squatter/cgroup" || fail "squatter not in the fake"
fake_cg=$(stat -c %i "$fake")
real_cg=$(stat -c %i "$real_path")

agent_start --metrics-addr off
runc --root "$sroot" start "$cid"
wait_for 10 sh -c "runc --root $sroot state $cid | grep -q '\"status\": \"stopped\"'" || fail "victim did not stop"
wait_for 20 container_recorded "$cid" || fail "victim's identity not recorded"
kill "$squatter"
wait "$squatter" 2>/dev/null
wait_for 10 rmdir "$fake" || fail "fake cgroup not removed" # its end, while the agent watches
runc --root "$sroot" delete "$cid"
agent_stop

fw='[.[] | select(.workload.cgroupId == $cg)][-1].workload'
check "fake: not a container" UNKNOWN "$(q -r --arg cg "$fake_cg" "$fw.kind")"
check "fake: no container id" "" "$(q -r --arg cg "$fake_cg" "$fw.containerId // \"\"")"
check "fake: the claim is recorded" "$cid" "$(q -r --arg cg "$fake_cg" "$fw.claimedContainerId")"
check "fake: not verified" false "$(q -r --arg cg "$fake_cg" "$fw.identityVerified // false")"
check "fake: no pod" "" "$(q -r --arg cg "$fake_cg" "($fw.podName // \"\") + ($fw.podNamespace // \"\")")"
check "fake: the path's runtime, as a claim" containerd "$(q -r --arg cg "$fake_cg" "$fw.runtime")"
check "fake: the detail says where the runtime's state puts the victim" \
	"path claims container ${cid:0:16} but the runtime's state puts the container in $real_path: not trusted" \
	"$(q -r --arg cg "$fake_cg" "$fw.detail")"
check "fake: unattributed at its end" true "$(q -r --arg cg "$fake_cg" '[.[] | select(.workload.cgroupId == $cg and .workload.state == "ENDED")][0].workload.unattributed')"
check "fake: one UNATTRIBUTED_WORKLOAD gap" 1 "$(q -r --arg cg "$fake_cg" '[.[] | select(.gap.kind == "UNATTRIBUTED_WORKLOAD" and .gap.cgroupId == $cg)] | length')"
check "fake: the squatter is in it" "cgroup:$fake_cg" "$(q -r --argjson p "$squatter" '[.[] | select(.exec.process.pid == $p)][0].exec.process.workloadKey')"

vw='[.[] | select(.workload.cgroupId == $cg)][-1].workload'
check "victim: verified container" "CONTAINER true $cid" "$(q -r --arg cg "$real_cg" "$vw | \"\(.kind) \(.identityVerified) \(.containerId)\"")"
check "victim: from the runtime's state" "runtime-state containerd $bdir" "$(q -r --arg cg "$real_cg" "$vw | \"\(.identitySource) \(.runtime) \(.bundle)\"")"
check "victim: containerd's keys" "victim-pod e2e" "$(q -r --arg cg "$real_cg" "$vw | \"\(.podName) \(.podNamespace)\"")"
check "victim: no CRI-O key taken" "" "$(q -r --arg cg "$real_cg" "$vw.containerName // \"\"")"
check "victim: exit code" 5 "$(q -r --arg cg "$real_cg" '[.[] | select(.exit.cgroupId == $cg)][-1].exit.exitCode')"
check "only the victim's cgroup holds the id" "$real_cg" "$(q -r --arg id "$cid" '[.[] | select(.workload.containerId == $id) | .workload.cgroupId] | unique | join(" ")')"
finish
