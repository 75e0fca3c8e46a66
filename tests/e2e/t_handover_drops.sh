#!/usr/bin/env bash
# serial
# A handover whose window holds more events than the ring: agent A (--handover, a 16 KiB
# ring) is stopped, 3,000 processes run in the test's cgroup with no agent, agent B adopts
# the pins. The kernel counted every event it could not queue; B reports them as
# RING_BUFFER_DROP (ring full) or SHARE_EXCEEDED (the workload's ring share used up: the
# window is one drain epoch) gaps naming the test's workload, so that for its cgroup
# records + drops = the events that happened, exactly, for exec, fork and exit. The window
# is still no SENSOR_DOWN: the programs never stopped, and what they lost is counted.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/handover.sh"

handover_setup
n=3000
args=(--handover --pin-dir "$PIN" --ring-size 16384 --metrics-addr off)

agent_start "${args[@]}"
agent_stop
a_run=$(q -r '[.[] | select(.agent.state == "STARTED")][0].agentRunId')
check "A's stop says a handover is pending" true "$(q -r '[.[] | select(.agent.state == "STOPPED")][-1].agent.handover')"

# In the cgroup: fl-storm's exec, its 2 workers' forks, n forks and execs of /bin/true,
# n + 2 + 1 exits.
in_cg "$HELPERS/fl-storm" -n "$n" -p 2 -- /bin/true "fl-hod-$$"
check "storm exit status" 0 $?

agent_start "${args[@]}"
check_cmd "B says it adopted A's programs" grep -q "adopted from run $a_run" "$T/agent.err"
agent_stop
b_run=$(q -r '[.[] | select(.agent.state == "STARTED")][1].agentRunId')
check "B names the run it adopted" "$a_run" "$(q -r --arg r "$b_run" '.[] | select(.agentRunId == $r and .agent.state == "STARTED") | .agent.adoptedRunId')"
check "no SENSOR_DOWN gap" 0 "$(q '[.[] | select(.gap.kind == "SENSOR_DOWN")] | length')"

check_cmd "exec events were lost" test "$(cg_dropped exec)" -gt 0
check "exec: records + drops" $((n + 1)) $(($(in_cg_count exec) + $(cg_dropped exec)))
check "fork: records + drops" $((n + 2)) $(($(in_cg_count fork) + $(cg_dropped fork)))
check "exit: records + drops" $((n + 3)) $(($(in_cg_count exit) + $(cg_dropped exit)))
check "the cgroup's drops are B's gaps" 0 "$(q --arg cg "$CG_ID" --arg r "$b_run" "[.[] | select($LOSSY
	and .gap.cgroupId == \$cg and .agentRunId != \$r)] | length")"
check "drop gaps name the workload" "cgroup:$CG_ID" "$(q -r --arg cg "$CG_ID" "[.[] | select($LOSSY and .gap.cgroupId == \$cg)][0].gap.workloadKey")"
# Each run's STOPPED totals its own drop gaps: B did not report A's counts again.
check "each run's stop totals its drop gaps" true "$(q "[group_by(.agentRunId)[]
	| ([.[] | select($LOSSY) | .gap.count | tonumber] | add // 0)
	== ([.[] | select(.agent.state == \"STOPPED\")][0].agent.drops // \"0\" | tonumber)] | all")"
check "each run's seq has no holes" true "$(q '[group_by(.agentRunId)[] | [.[].seq | tonumber] | . == [range(1; length + 1)]] | all')"
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
check_cmd "the chain verifies with the node's key" "$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data"
finish
