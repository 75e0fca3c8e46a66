#!/usr/bin/env bash
# An upgrade's handover: agent A runs with --handover and is stopped (SIGTERM); 3,000
# processes run in the test's cgroup while no agent runs; agent B starts on the same data
# dir and pin dir. Every exec, fork and exit of them is in the records exactly once, no
# SENSOR_DOWN gap, no drop, no missing start; a process alive at the handover that ends
# in the window is known to have started; the chain goes on and verifies.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/handover.sh"

handover_setup
n=3000
# A ring that holds the window's events even beside the other work on a shared machine
# (3,000 processes take ~2 MiB): this test is about exactness, t_handover_drops about loss.
args=(--handover --pin-dir "$PIN" --ring-size 128M --metrics-addr off)

agent_start "${args[@]}"
# Alive at the handover, ended (killed) in the window; and alive across both agents.
in_cg_bg sleep 600
window_sleep=$BG
on_cleanup "kill $window_sleep"
in_cg_bg sleep 600
long_sleep=$BG
on_cleanup "kill $long_sleep"
# Until A has written each sleep's exec: /proc shows the new argv before the exec's
# tracepoint fires, and A stopped in between would leave the exec to B.
exec_recorded() {
	"$FIRSTLIGHT" read "$T/data" 2>/dev/null |
		jq -se --argjson p "$1" 'any(.[]; .exec.process.pid == $p and .exec.process.args[0] == "sleep")' >/dev/null
}
wait_for 30 exec_recorded "$window_sleep" || fail "A did not record the window's sleep"
wait_for 30 exec_recorded "$long_sleep" || fail "A did not record the long sleep"
agent_stop
a_run=$(q -r '[.[] | select(.agent.state == "STARTED")][0].agentRunId')
check "A's stop says a handover is pending" true "$(q -r '[.[] | select(.agent.state == "STOPPED")][-1].agent.handover')"
check_cmd "A left its programs pinned" test -e "$PIN/meta" -a -e "$PIN/link_fl_exec" -a -e "$PIN/map_events"

# No agent: the pinned programs write into the pinned ring.
in_cg "$HELPERS/fl-storm" -n "$n" -p 2 -- /bin/true "fl-ho-$$"
check "storm exit status" 0 $?
kill "$window_sleep"
wait "$window_sleep" 2>/dev/null

agent_start "${args[@]}"
check_cmd "B says it adopted A's programs" grep -q "adopted from run $a_run" "$T/agent.err"
kill "$long_sleep"
wait "$long_sleep" 2>/dev/null
agent_stop
b_run=$(q -r '[.[] | select(.agent.state == "STARTED")][1].agentRunId')
check "B names the run it adopted" "$a_run" "$(q -r --arg r "$b_run" '.[] | select(.agentRunId == $r and .agent.state == "STARTED") | .agent.adoptedRunId')"
check "no SENSOR_DOWN gap" 0 "$(q '[.[] | select(.gap.kind == "SENSOR_DOWN")] | length')"

marker="fl-ho-$$"
check "every exec once" "$n" "$(q --arg m "$marker" '[.[] | select(.exec.process.args[1]? == $m)] | length')"
check "every exec id once" "$n" "$(q --arg m "$marker" '[.[] | select(.exec.process.args[1]? == $m) | .exec.process.execId] | unique | length')"
check "recorded by B" "$n" "$(q --arg m "$marker" --arg r "$b_run" '[.[] | select(.exec.process.args[1]? == $m and .agentRunId == $r)] | length')"
check "every exit once, by exec id" "$n" "$(q --arg m "$marker" '([.[] | select(.exec.process.args[1]? == $m)
	| {(.exec.process.execId): true}] | add) as $ids | [.[] | select(.exit and $ids[.exit.execId])] | length')"
# In the cgroup: fl-storm's exec, its 2 workers' forks, n forks and execs of /bin/true and
# their exits, the workers' and fl-storm's exits; the two sleeps' execs and exits.
check "execs in the cgroup" $((n + 3)) "$(in_cg_count exec)"
check "forks in the cgroup, all B's" $((n + 2)) "$(in_cg_count fork "$b_run")"
check "exits in the cgroup" $((n + 5)) "$(in_cg_count exit)"
for t in exec fork exit; do check "no $t dropped" 0 "$(cg_dropped $t)"; done
check "no missing start in the cgroup" 0 "$(q --arg cg "$CG_ID" '[.[] | select(.gap.kind == "MISSING_START" and .gap.cgroupId == $cg)] | length')"
# The two sleeps by pid in the test's cgroup (the storm's 3,000 pids may wrap onto theirs
# elsewhere), never a new segment's restatement (snapshot).
sleep_q() { q -r --argjson p "$1" --arg cg "$CG_ID" "[.[] | select((.snapshot | not) and .$2.pid == \$p
	and .$2.cgroupId == \$cg)] | $3"; }
check "the window's sleep: exec once, by A" "$a_run" "$(sleep_q "$window_sleep" exec.process 'if length == 1 then .[0].agentRunId else length end')"
check "the window's sleep: exit once, by B" "$b_run" "$(sleep_q "$window_sleep" exit 'if length == 1 then .[0].agentRunId else length end')"
check "the window's sleep: killed in the window" 15 "$(sleep_q "$window_sleep" exit '.[0].exit.signal')"
check "the window's sleep: start known at its exit" true "$(sleep_q "$window_sleep" exit '.[0].exit.startSeen')"
check "the long sleep: exec once, by A" "$a_run" "$(sleep_q "$long_sleep" exec.process 'if length == 1 then .[0].agentRunId else length end')"
check "the long sleep: exit once, by B" "$b_run" "$(sleep_q "$long_sleep" exit 'if length == 1 then .[0].agentRunId else length end')"
check "the long sleep: start known at its exit" true "$(sleep_q "$long_sleep" exit '.[0].exit.startSeen')"
check "B recorded no pre-existing process" 0 "$(q --arg r "$b_run" '[.[] | select(.agentRunId == $r and .exec.process.flags.preExisting)] | length')"
check "each run's seq has no holes" true "$(q '[group_by(.agentRunId)[] | [.[].seq | tonumber] | . == [range(1; length + 1)]] | all')"
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
check_cmd "the chain verifies with the node's key" "$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data"
finish
