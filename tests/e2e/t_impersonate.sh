#!/usr/bin/env bash
# quick
# A cgroup named like a Kubernetes container by something that is not a container
# runtime (here: mkdir by a shell) must not get that container's identity, even while
# the real container with that id runs; the claim is recorded as a claim.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || exit 1
cid=$(printf 'fl%062x' $$)     # 64 characters of hex, like a containerd id
cid=${cid//[^0-9a-f]/0}
uid=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
root=/sys/fs/cgroup/unified
fake="$root/kubepods/besteffort/pod$uid/$cid"
mkdir -p "$fake" || exit 1
on_cleanup "rmdir '$fake' '$root/kubepods/besteffort/pod$uid' '$root/kubepods/besteffort' '$root/kubepods'"
rmdir "$fake" # made again below, while the agent watches

bundle_make "$T/b" '["sh","-c","exit 0"]' '{"io.kubernetes.cri.sandbox-name":"real-pod","io.kubernetes.cri.sandbox-namespace":"e2e","io.kubernetes.cri.container-name":"real"}'
agent_start
mkdir "$fake"
sh -c 'echo $$ > "$1/cgroup.procs" && exec /bin/true fl-impostor' sh "$fake" &
imp=$!
wait $imp
container_run runc "$cid" "$T/b"
check "real container ran" 0 $?
fake_cg=$(stat -c %i "$fake")
rmdir "$fake" # its end, while the agent watches
agent_stop

fw='[.[] | select(.workload.cgroupId == $cg)][-1].workload'
check "impostor: not a container" UNKNOWN "$(q -r --arg cg "$fake_cg" "$fw.kind")"
check "impostor: no container id" "" "$(q -r --arg cg "$fake_cg" "$fw.containerId // \"\"")"
check "impostor: the claim is recorded" "$cid" "$(q -r --arg cg "$fake_cg" "$fw.claimedContainerId")"
check "impostor: not verified" false "$(q -r --arg cg "$fake_cg" "$fw.identityVerified // false")"
check "impostor: no pod name" "" "$(q -r --arg cg "$fake_cg" "$fw.podName // \"\"")"
check_cmd "impostor: the detail says why" grep -q "not trusted" <<<"$(q -r --arg cg "$fake_cg" "$fw.detail")"
check "impostor: its process is in it" "cgroup:$fake_cg" "$(q -r --argjson p "$imp" '.[] | select(.exec.process.pid == $p and .exec.process.args[1] == "fl-impostor") | .exec.process.workloadKey')"
check "real container: named" real-pod "$(q -r --arg id "$cid" '[.[] | select(.workload.containerId == $id)][-1].workload.podName')"
check "real container: a different cgroup" true "$(q -r --arg id "$cid" --arg cg "$fake_cg" '[.[] | select(.workload.containerId == $id)][-1].workload.cgroupId != $cg')"
check "impostor: unattributed at its end" true "$(q -r --arg cg "$fake_cg" '[.[] | select(.workload.cgroupId == $cg and .workload.state == "ENDED")][0].workload.unattributed')"
check "impostor: an UNATTRIBUTED_WORKLOAD gap" 1 "$(q -r --arg cg "$fake_cg" '[.[] | select(.gap.kind == "UNATTRIBUTED_WORKLOAD" and .gap.cgroupId == $cg)] | length')"
check "only one workload holds the id" 1 "$(q -r --arg id "$cid" '[.[] | select(.workload.containerId == $id) | .workload.key] | unique | length')"
finish
