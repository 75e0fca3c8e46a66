#!/usr/bin/env bash
# quick
# Real OCI containers with runc and with crun, carrying Kubernetes CRI annotations: the
# records name the container (id, runtime, pod name/namespace/uid, container name,
# image) and attribute every one of its processes to it, the first exec included.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "cannot prepare cgroups for crun" >&2; exit 1; }
ann() { # ann RUNTIME: CRI annotations as containerd writes them
	jq -n --arg rt "$1" --arg uid "$2" '{
		"io.kubernetes.cri.container-type": "container",
		"io.kubernetes.cri.sandbox-name": ("pod-" + $rt),
		"io.kubernetes.cri.sandbox-namespace": "e2e",
		"io.kubernetes.cri.sandbox-uid": $uid,
		"io.kubernetes.cri.container-name": ("app-" + $rt),
		"io.kubernetes.cri.image-name": "docker.io/library/busybox:1.35"}'
}
uid_runc=3f2a1c4e-0b7d-4e8a-9c61-2d5f7a8b9c01
uid_crun=7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908
# A 5 ms job, and one whose shell starts children (a subshell and a new busybox image).
bundle_make "$T/b-runc" '["sh","-c","exit 3"]' "$(ann runc $uid_runc)"
bundle_make "$T/b-crun" '["sh","-c","exit 3"]' "$(ann crun $uid_crun)"
bundle_make "$T/b-kids" '["sh","-c","(exit 0); busybox sh -c \"exit 0\" fl-child; exit 5"]' "$(ann runc $uid_runc)"

agent_start
container_run runc "fl-runc-$$" "$T/b-runc"
check "runc container exit status" 3 $?
container_run crun "fl-crun-$$" "$T/b-crun"
check "crun container exit status" 3 $?
container_run runc "fl-kids-$$" "$T/b-kids"
check "forking container exit status" 5 $?
agent_stop

for rt in runc crun kids; do
	id="fl-$rt-$$"
	wsel='[.[] | select(.workload.containerId == $id)]'
	want_rt=$rt want_uid=$uid_runc want_pod=pod-runc want_name=app-runc
	[ $rt = crun ] && want_rt=crun want_uid=$uid_crun want_pod=pod-crun want_name=app-crun
	[ $rt = kids ] && want_rt=runc
	check "$rt: workload records (started, resolved, ended)" "STARTED RESOLVED ENDED" \
		"$(q -r --arg id "$id" "$wsel | map(.workload.state) | join(\" \")")"
	last="$wsel | .[-1].workload"
	check "$rt: runtime" "$want_rt" "$(q -r --arg id "$id" "$last.runtime")"
	check "$rt: kind" CONTAINER "$(q -r --arg id "$id" "$last.kind")"
	check "$rt: verified" true "$(q -r --arg id "$id" "$last.identityVerified")"
	check "$rt: pod name" "$want_pod" "$(q -r --arg id "$id" "$last.podName")"
	check "$rt: pod namespace" e2e "$(q -r --arg id "$id" "$last.podNamespace")"
	check "$rt: pod uid" "$want_uid" "$(q -r --arg id "$id" "$last.podUid")"
	check "$rt: container name" "$want_name" "$(q -r --arg id "$id" "$last.containerName")"
	check "$rt: image" docker.io/library/busybox:1.35 "$(q -r --arg id "$id" "$last.image")"
	check "$rt: bundle" "$T/b-$rt" "$(q -r --arg id "$id" "$last.bundle")"
	check "$rt: not unattributed" false "$(q -r --arg id "$id" "$last.unattributed // false")"
	cg=$(q -r --arg id "$id" "$last.cgroupId")
	key=$(q -r --arg id "$id" "$last.key")
	check "$rt: key is the cgroup" "cgroup:$cg" "$key"
	# Every process record in the container's cgroup carries its key; the first exec is
	# the container's entrypoint.
	procs='[.[] | (.exec // .fork) | select(.process.cgroupId == $cg) | .process]'
	check_cmd "$rt: processes seen" test "$(q --arg cg "$cg" "$procs | length")" -ge 1
	check "$rt: all carry the workload key" 0 "$(q --arg cg "$cg" --arg k "$key" "$procs | map(select(.workloadKey != \$k)) | length")"
	# The entrypoint's exec, in the container (runc's own init may exec there first).
	check "$rt: the entrypoint exec is in it" 1 "$(q -r --arg cg "$cg" '[.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[0:2] == ["sh","-c"] and (.exec.process.args | length) == 3)] | length')"
	check "$rt: container exit code" "$([ $rt = kids ] && echo 5 || echo 3)" \
		"$(q -r --arg cg "$cg" '[.[] | select(.exit.cgroupId == $cg) | .exit][-1].exitCode')"
	# ENDED counts processes (a fork and its exec are one) and execs, as the records show.
	check "$rt: processCount counts processes, not images" \
		"$(q --arg cg "$cg" "$procs | map(\"\(.pid)/\(.startBootNano)\") | unique | length")" \
		"$(q -r --arg id "$id" "$last.processCount")"
	check "$rt: execCount" "$(q --arg cg "$cg" '[.[] | select(.exec.process.cgroupId == $cg)] | length')" \
		"$(q -r --arg id "$id" "$last.execCount")"
	check_cmd "$rt: the STARTED record precedes its first process" test \
		"$(q --arg id "$id" "$wsel | .[0].seq | tonumber")" -lt \
		"$(q --arg cg "$cg" '[.[] | select((.exec // .fork).process.cgroupId == $cg) | .seq | tonumber] | min')"
done
check "kids: the child shell was recorded in the container" 1 \
	"$(q --arg cg "$(q -r --arg id "fl-kids-$$" '[.[] | select(.workload.containerId == $id)][-1].workload.cgroupId')" \
	'[.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[-1]? == "fl-child")] | length')"
finish
