#!/usr/bin/env bash
# quick
# A container created before the agent started (runc create), started after: its
# cgroup is found by the agent's scan and its identity read from runc's own state
# (/run/runc/<id>/state.json names the bundle), so it is named like any other.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || exit 1
id="fl-pre-$$"
bundle_make "$T/b" '["sh","-c","exit 4"]' \
	'{"io.kubernetes.cri.sandbox-name":"early-pod","io.kubernetes.cri.sandbox-namespace":"e2e","io.kubernetes.cri.container-name":"early"}'
on_cleanup "runc delete -f $id"
(cd "$T/b" && runc create "$id" </dev/null >/dev/null 2>&1) || { echo "runc create failed" >&2; exit 1; }

agent_start
runc start "$id"
wait_for 10 sh -c "runc state $id | grep -q '\"status\": \"stopped\"'" || fail "container did not stop"
runc delete "$id"
agent_stop

w='[.[] | select(.workload.containerId == $id)][-1].workload'
check "named" early-pod "$(q -r --arg id "$id" "$w.podName")"
check "runtime" runc "$(q -r --arg id "$id" "$w.runtime")"
check "kind" CONTAINER "$(q -r --arg id "$id" "$w.kind")"
check "identity from the runtime's state" runtime-state "$(q -r --arg id "$id" "$w.identitySource")"
check "bundle" "$T/b" "$(q -r --arg id "$id" "$w.bundle")"
cg=$(q -r --arg id "$id" "$w.cgroupId")
check "its init was pre-existing" true "$(q -r --arg cg "$cg" '[.[] | select(.exec.process.cgroupId == $cg and .exec.process.flags.preExisting)] | length > 0')"
check "the entrypoint is in it" "cgroup:$cg" "$(q -r --arg cg "$cg" '[.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[0] == "sh")][0].exec.process.workloadKey')"
check "exit code" 4 "$(q -r --arg cg "$cg" '[.[] | select(.exit.cgroupId == $cg)][-1].exit.exitCode')"
finish
