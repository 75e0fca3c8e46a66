#!/usr/bin/env bash
# 100 containers created, run and deleted back to back (each a few tens of ms): 100
# named workloads, and not one process left unattributed.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || exit 1
bundle_make "$T/b" '["sh","-c","exit 0"]' \
	'{"io.kubernetes.cri.sandbox-name":"churn","io.kubernetes.cri.sandbox-namespace":"e2e","io.kubernetes.cri.container-name":"c","io.kubernetes.cri.image-name":"busybox"}'
agent_start
for i in $(seq 1 100); do
	container_run crun "fl-churn-$$-$i" "$T/b" || fail "container $i failed"
done
agent_stop

mine='[.[] | select(.workload.containerId? // "" | startswith("fl-churn-'$$'-"))]'
check "distinct containers named" 100 "$(q "$mine | map(.workload.containerId) | unique | length")"
check "each with its pod name" 100 "$(q "$mine | map(select(.workload.podName == \"churn\") | .workload.containerId) | unique | length")"
check "each ended" 100 "$(q "$mine | map(select(.workload.state == \"ENDED\")) | length")"
check "none unattributed" 0 "$(q "$mine | map(select(.workload.unattributed)) | length")"
cgs=$(q -c "$mine | map(.workload.cgroupId) | unique")
check "every exec in them is attributed to its container" 100 "$(q --argjson cgs "$cgs" '
	([.[] | select(.workload) | .workload | select(.containerId) | {key: .key, value: .containerId}] | from_entries) as $named |
	[.[] | select(.exec.process.cgroupId as $c | $cgs | index($c)) | .exec.process | select($named[.workloadKey])] | length')"
check "no exec in them is unattributed" 0 "$(q --argjson cgs "$cgs" '
	([.[] | select(.workload) | .workload | select(.containerId) | {key: .key, value: .containerId}] | from_entries) as $named |
	[.[] | select(.exec.process.cgroupId as $c | $cgs | index($c)) | .exec.process | select($named[.workloadKey] | not)] | length')"
finish
