#!/usr/bin/env bash
# quick
# A shell that lives a few ms and exits 7: its fork, exec and exit are recorded with the
# exact pid, argv, exit code, and a parent chain that leads to this test's shell.
. "$(dirname "$0")/../lib/e2e.sh"

agent_start
sh -c 'exit 7' &
pid=$!
wait $pid
check "workload exit status" 7 $?
# And one that exits 0, as root: zeros that are answers.
sh -c 'exit 0' fl-exit-zero &
pid0=$!
wait $pid0
agent_stop

me=$$
mine() { q --argjson p "$pid" "$@"; }
check "exec records of the workload" 1 "$(mine '[.[] | select(.exec.process.pid == $p)] | length')"
check "fork records of the workload" 1 "$(mine '[.[] | select(.fork.process.pid == $p)] | length')"
check "exit records of the workload" 1 "$(mine '[.[] | select(.exit.pid == $p)] | length')"
check "argv" '["sh","-c","exit 7"]' "$(mine -c '.[] | select(.exec.process.pid == $p) | .exec.process.args')"
check "ppid" "$me" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.ppid')"
check "binary" "$(readlink -f "$(command -v sh)")" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.binary')"
check "cwd" "$(pwd -P)" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.cwd')"
check "uid" "$(id -u)" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.uid // 0')"
check "exit code" 7 "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode')"
check "exit signal" 0 "$(mine '.[] | select(.exit.pid == $p) | .exit.signal // 0')"
check "start seen" true "$(mine '.[] | select(.exit.pid == $p) | .exit.startSeen')"
# Exit code 0, signal 0 and uid 0 are in the JSON, not left out as proto3 zeros, so
# jq's select(.exit.exitCode == 0) finds the process that exited 0.
check "exit code 0 is present" '{"exitCode":0,"signal":0}' \
	"$(q -c --argjson p "$pid0" '.[] | select(.exit.pid == $p) | .exit | {exitCode, signal}')"
check "select(.exit.exitCode == 0) finds it" "$pid0" \
	"$(jq --argjson p "$pid0" 'select(.exit.exitCode == 0 and .exit.pid == $p) | .exit.pid' "$T/records.jsonl")"
check "uid 0 and its caps are present" "true true" \
	"$(q -r --argjson p "$pid0" '.[] | select(.exec.process.pid == $p) | .exec.process | "\(has("uid")) \(has("capEffective"))"')"
check "uid 0 selects it" "$pid0" \
	"$(jq --argjson p "$pid0" 'select(.exec.process.uid == 0 and .exec.process.pid == $p) | .exec.process.pid' "$T/records.jsonl")"
# Counters are there whatever their value (0 on a quiet machine, not on a busy one).
check "a heartbeat states its drops" true "$(q -r '[.[] | select(.heartbeat)][0].heartbeat | has("drops")')"
check "STOPPED states its drops" true "$(q -r '.[] | select(.agent.state == "STOPPED") | .agent | has("drops")')"

# The chain: this shell (pre-existing) -> fork -> exec -> exit, all by exec id.
shell_id=$(q --argjson p "$me" '.[] | select(.exec.process.pid == $p and .exec.process.flags.preExisting) | .exec.process.execId')
fork_id=$(mine '.[] | select(.fork.process.pid == $p) | .fork.process.execId')
exec_id=$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.execId')
check_cmd "test shell recorded as pre-existing" test -n "$shell_id"
check "fork's parent is the test shell" "$shell_id" "$(mine '.[] | select(.fork.process.pid == $p) | .fork.parentExecId')"
check "fork inherits the shell's binary" "$(readlink -f /proc/$me/exe)" "$(mine '.[] | select(.fork.process.pid == $p) | .fork.process.binary')"
check "exec's parent is the test shell" "$shell_id" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.parentExecId')"
check "exec replaced the forked image" "$fork_id" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.replacedExecId')"
check "exit names the exec'd image" "$exec_id" "$(mine '.[] | select(.exit.pid == $p) | .exit.execId')"
check "exec id is boot-tag:start:pid" "$pid" "${exec_id##*:}"
check "lifetime is positive" true "$(mine '.[] | select(.exit.pid == $p) | (.exit.durationNano | tonumber) > 0')"
check "records in order: fork < exec < exit" true "$(mine '
  ([.[] | select(.fork.process.pid == $p) | .seq | tonumber][0]) as $f |
  ([.[] | select(.exec.process.pid == $p) | .seq | tonumber][0]) as $e |
  ([.[] | select(.exit.pid == $p) | .seq | tonumber][0]) as $x | $f < $e and $e < $x')"
# Sequence numbers: 1..N without holes, framed by the agent's start and stop records.
check "seq has no holes" true "$(q '[.[].seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]')"
check "first record: agent started" STARTED "$(q -r '.[0].agent.state')"
check "last record: agent stopped" STOPPED "$(q -r '.[-1].agent.state')"
finish
