#!/usr/bin/env bash
# quick
# Sandboxes make no cgroup: a bubblewrap and an unshare sandbox are recorded as sandbox
# workloads named by their pid namespace; a host process belongs to the host workload.
. "$(dirname "$0")/../lib/e2e.sh"

agent_start
bwrap --unshare-pid --ro-bind / / --bind "$T" "$T" --dev /dev --proc /proc /bin/sh -c \
	'read s < /proc/self/stat; echo "${s%% *}" > "$1"; readlink /proc/self/ns/pid > "$2"' fl-bwrap "$T/bw.pid" "$T/bw.ns"
check "bwrap exit status" 0 $?
unshare --pid --fork /bin/sh -c 'readlink /proc/self/ns/pid > "$1"' fl-unshare "$T/us.ns"
check "unshare exit status" 0 $?
/bin/true fl-host &
host_pid=$!
wait $host_pid
agent_stop

for sb in bw:bubblewrap us:unshare; do
	f=${sb%%:*} rt=${sb#*:}
	ino=$(sed 's/.*\[\([0-9]*\)\]/\1/' "$T/$f.ns")
	key="sandbox:pidns:$ino"
	check "$rt: workload kind" SANDBOX "$(q -r --arg k "$key" '[.[] | select(.workload.key == $k)][0].workload.kind')"
	check "$rt: runtime" "$rt" "$(q -r --arg k "$key" '[.[] | select(.workload.key == $k)][0].workload.runtime')"
	check "$rt: namespace recorded" "$ino" "$(q -r --arg k "$key" '[.[] | select(.workload.key == $k)][0].workload.namespaces.pid')"
	check "$rt: started and ended" "STARTED ENDED" "$(q -r --arg k "$key" '[.[] | select(.workload.key == $k) | .workload.state] | join(" ")')"
	check "$rt: its shell carries the sandbox key" "$key" \
		"$(q -r --arg m "fl-$([ $rt = bubblewrap ] && echo bwrap || echo unshare)" '[.[] | select(.exec.process.args[3]? == $m) | .exec.process.workloadKey][0]')"
done
# bwrap mounts the sandbox's own /proc: what the shell read there is its pid inside.
check "bwrap: the shell's pid inside the sandbox" "$(cat "$T/bw.pid")" "$(q -r '[.[] | select(.exec.process.args[3]? == "fl-bwrap") | .exec.process.nsPid][0]')"

host_key=$(q -r --argjson p "$host_pid" '.[] | select(.exec.process.pid == $p) | .exec.process.workloadKey')
check "host process: cgroup key" "cgroup:$(q -r --argjson p "$host_pid" '.[] | select(.exec.process.pid == $p) | .exec.process.cgroupId')" "$host_key"
host_kind=$(q -r --arg k "$host_key" '[.[] | select(.workload.key == $k)][0].workload.kind')
case "$host_kind" in HOST | SERVICE | SESSION | SLICE) check "host process: host workload" ok ok ;;
*) check "host process: host workload" "HOST/SERVICE/SESSION/SLICE" "$host_kind" ;; esac
finish
