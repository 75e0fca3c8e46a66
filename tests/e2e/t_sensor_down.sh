#!/usr/bin/env bash
# quick
# The agent killed with kill -9, workloads run while nothing watches, the agent starts
# again: a SENSOR_DOWN gap covers the window (reason crash, naming the previous run),
# and a process started inside it and still running is reported pre-existing and
# started_while_down. A clean restart gives a SENSOR_DOWN gap with reason stopped.
. "$(dirname "$0")/../lib/e2e.sh"

agent_start
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
before=$(date +%s%N)
sleep 30 &
down_pid=$!
/bin/true "fl-unseen-$$"
agent_start
after=$(date +%s%N)
agent_stop
kill "$down_pid"

gap='[.[] | select(.gap.kind == "SENSOR_DOWN")]'
check "one sensor-down gap" 1 "$(q "$gap | length")"
check "reason" crash "$(q -r "$gap[0].gap.reason")"
runs=$(q -r '[.[] | select(.agent.state == "STARTED") | .agentRunId] | join(" ")')
first_run=${runs%% *}
second_run=${runs##* }
check "two runs" 2 "$(wc -w <<<"$runs")"
check "names the previous run" "$first_run" "$(q -r "$gap[0].gap.previousRunId")"
check "written by the second run" "$second_run" "$(q -r "$gap[0].agentRunId")"
check_cmd "window starts before the kill" test "$(q -r "$gap[0].gap.startTimeUnixNano")" -le "$before"
check_cmd "window ends at the restart" test "$(q -r "$gap[0].gap.endTimeUnixNano")" -ge "$before" -a "$(q -r "$gap[0].gap.endTimeUnixNano")" -le "$after"
sel='[.[] | select(.exec.process.pid == $p and .agentRunId == $r)][0].exec.process'
check "process started while down: pre-existing" true "$(q -r --argjson p "$down_pid" --arg r "$second_run" "$sel.flags.preExisting")"
check "process started while down: flagged" true "$(q -r --argjson p "$down_pid" --arg r "$second_run" "$sel.flags.startedWhileDown")"
check "its argv from /proc" '["sleep","30"]' "$(q -c --argjson p "$down_pid" --arg r "$second_run" "$sel.args")"
check "the test shell is pre-existing but not started while down" false \
	"$(q -r --argjson p $$ --arg r "$second_run" "$sel.flags.startedWhileDown // false")"
check "nothing of the unseen process" 0 "$(q --arg m "fl-unseen-$$" '[.[] | select(.exec.process.args[1]? == $m)] | length')"

# A clean stop and start: the hole is there too, explained as a stop.
agent_start
agent_stop
check "clean restart: reason" stopped "$(q -r '[.[] | select(.gap.kind == "SENSOR_DOWN")][-1].gap.reason')"
finish
