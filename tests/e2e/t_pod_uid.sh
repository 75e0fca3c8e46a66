#!/usr/bin/env bash
# A bundle whose pod uid annotation disagrees with the pod uid of the cgroup path the
# container runs in (runc, cgroupsPath /kubepods/besteffort/pod<uid>/<id>): the path's
# uid is the workload's pod uid, the annotation's is recorded beside it as
# annotationPodUid, flagged, never used as the identity.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
cid=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
uid_path=$(cat /proc/sys/kernel/random/uuid)
uid_ann=$(cat /proc/sys/kernel/random/uuid)
on_cleanup "find /sys/fs/cgroup -depth -type d \\( -path '*/kubepods/besteffort/pod$uid_path' -o -path '*/kubepods/besteffort' -o -path '*/kubepods' \\) -exec rmdir {} + 2>/dev/null"
bundle_make "$T/b" '["sh","-c","exit 7"]' "$(jq -n --arg u "$uid_ann" '{"io.kubernetes.cri.container-type": "container",
	"io.kubernetes.cri.sandbox-name": "pod-uid", "io.kubernetes.cri.sandbox-namespace": "e2e",
	"io.kubernetes.cri.sandbox-uid": $u}')"
jq --arg p "/kubepods/besteffort/pod$uid_path/$cid" '.linux.cgroupsPath = $p' "$T/b/config.json" >"$T/b/c.json" &&
	mv "$T/b/c.json" "$T/b/config.json"

agent_start --metrics-addr off
container_run runc "$cid" "$T/b"
check "container exit status" 7 $?
agent_stop

last="[.[] | select(.workload.containerId == \$id)][-1].workload"
check "the container is one verified workload" "CONTAINER true" "$(q -r --arg id "$cid" "$last | \"\(.kind) \(.identityVerified)\"")"
check "pod uid: the path's" "$uid_path" "$(q -r --arg id "$cid" "$last.podUid")"
check "the annotation's, flagged beside it" "$uid_ann" "$(q -r --arg id "$cid" "$last.annotationPodUid // \"\"")"
check "pod name still from the bundle" pod-uid "$(q -r --arg id "$cid" "$last.podName")"
# runc made the kubepods levels on its way to the container's cgroup: they are not it
check "only the container's own cgroup holds the id" "/kubepods/besteffort/pod$uid_path/$cid" \
	"$(q -r --arg id "$cid" '[.[] | select(.workload.containerId == $id) | .workload.cgroupPath] | unique | join(" ")')"
check "the pod level: a slice, not a container" "SLICE " \
	"$(q -r --arg p "/kubepods/besteffort/pod$uid_path" '[.[] | select(.workload.cgroupPath == $p)][-1].workload | "\(.kind) \(.containerId // "")"')"
finish
