#!/usr/bin/env bash
# quick
# Blind workloads: a cgroup that lived and died with no process seen in it, and an
# opaque sandbox (a microVM monitor runs a kernel of its own: the host sees nothing
# inside) are both recorded as BLIND_WORKLOAD gaps naming the workload.
. "$(dirname "$0")/../lib/e2e.sh"

root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
cg="$root/fl-blind-$$"
cp /bin/true "$T/firecracker"

agent_start
mkdir "$cg"
id=$(stat -c %i "$cg")
rmdir "$cg"
"$T/firecracker" --api-sock /tmp/none &
vmm=$!
wait $vmm
agent_stop

blind='[.[] | select(.gap.kind == "BLIND_WORKLOAD")]'
check "empty cgroup: one blind gap" 1 "$(q --arg cg "$id" "$blind | map(select(.gap.cgroupId == \$cg)) | length")"
check "empty cgroup: reason" no-process-seen "$(q -r --arg cg "$id" "$blind | map(select(.gap.cgroupId == \$cg))[0].gap.reason")"
check "empty cgroup: its workload ended with 0 processes" 0 "$(q -r --arg cg "$id" '[.[] | select(.workload.cgroupId == $cg and .workload.state == "ENDED")][0].workload.processCount // 0')"
check "empty cgroup: the gap is counted in its coverage" 1 "$(q -r --arg cg "$id" '[.[] | select(.workload.cgroupId == $cg and .workload.state == "ENDED")][0].workload.gapCount')"
vmm_exec=$(q -r --argjson p "$vmm" '.[] | select(.exec.process.pid == $p) | .exec.process.execId')
check "microVM monitor: one opaque-sandbox gap" 1 "$(q --arg e "$vmm_exec" "$blind | map(select(.gap.reason == \"opaque-sandbox\" and (.gap.detail | contains(\$e)))) | length")"
check "microVM monitor: the gap names its workload" "$(q -r --argjson p "$vmm" '.[] | select(.exec.process.pid == $p) | .exec.process.workloadKey')" \
	"$(q -r --arg e "$vmm_exec" "$blind | map(select(.gap.reason == \"opaque-sandbox\" and (.gap.detail | contains(\$e))))[0].gap.workloadKey")"
finish
