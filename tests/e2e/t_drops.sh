#!/usr/bin/env bash
# quick
# A ring buffer too small for the load (4 KiB) while the consumer is paused (SIGSTOP):
# events are lost,
# and every loss is recorded as a RING_BUFFER_DROP gap by event type, with a window;
# nothing vanishes without a count. (Exact per-workload conservation: see t_gap_*.)
. "$(dirname "$0")/../lib/e2e.sh"

marker="fl-drops-$$"
agent_start --ring-size 4096
kill -STOP "$AGENT_PID"
"$HELPERS/fl-storm" -n 500 -p 2 -- /bin/true "$marker"
kill -CONT "$AGENT_PID"
agent_stop

execs=$(q --arg m "$marker" '[.[] | select(.exec.process.args[1]? == $m)] | length')
exec_drops=$(q '[.[] | select(.gap.kind == "RING_BUFFER_DROP" and .gap.eventType == "exec") | .gap.count | tonumber] | add // 0')
all_drops=$(q '[.[] | select(.gap.kind == "RING_BUFFER_DROP") | .gap.count | tonumber] | add // 0')
check_cmd "events were lost" test "$exec_drops" -gt 0
check_cmd "not everything was lost" test "$execs" -gt 0
# Other processes on the machine may lose exec events too, hence >=.
check_cmd "recorded + dropped execs cover the storm ($execs + $exec_drops >= 500)" test $((execs + exec_drops)) -ge 500
check "the stop record totals the gaps" "$all_drops" "$(q '.[-1].agent.drops // "0" | tonumber')"
check "every drop gap has a window" 0 "$(q '[.[] | select(.gap.kind == "RING_BUFFER_DROP") | select((.gap.startTimeUnixNano | tonumber) > (.gap.endTimeUnixNano | tonumber) or (.gap.startTimeUnixNano // "0") == "0")] | length')"
check "seq has no holes" true "$(q '[.[].seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]')"
finish
