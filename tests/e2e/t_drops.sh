#!/usr/bin/env bash
# quick
# serial
# A ring buffer too small for the load while the consumer is paused (SIGSTOP): events
# are lost, and every loss is a gap naming the workload it blinded and the event type:
# RING_BUFFER_DROP when the ring was full, SHARE_EXCEEDED once the workload had queued its
# share of the ring (--ring-share) since the last drain. For the test's own cgroup conservation holds exactly:
# records captured + drops counted = events that happened, for exec, fork and exit.
. "$(dirname "$0")/../lib/e2e.sh"

root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
cg="$root/fl-drops-$$"
mkdir "$cg" || exit 1
on_cleanup "rmdir '$cg'"
n=500

agent_start --ring-size 16384
kill -STOP "$AGENT_PID"
# In the cgroup: one exec (fl-storm), 2 worker forks, n forks+execs of /bin/true, and
# n + 2 + 1 exits; then the late sleep below (one exec, one exit).
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -n "$3" -p 2 -- /bin/true fl-drops' sh "$cg" "$HELPERS/fl-storm" "$n"
check "storm exit status" 0 $?
# Started while the ring is full, ended after the agent resumed: an exit whose start
# was lost (one more exec and exit in the cgroup).
sh -c 'echo $$ > "$1/cgroup.procs" && exec sleep 0.5' sh "$cg" &
late=$!
wait_for 10 grep -q '^sleep' "/proc/$late/cmdline" || fail "sleep did not start"
kill -CONT "$AGENT_PID"
wait $late
agent_stop

id=$(stat -c %i "$cg")
captured() { q --arg cg "$id" "[.[] | select(.$1 and ((.$1.process // .$1).cgroupId == \$cg))] | length"; }
lossy='(.gap.kind == "RING_BUFFER_DROP" or .gap.kind == "SHARE_EXCEEDED")'
dropped() { q --arg cg "$id" --arg t "$1" "[.[] | select($lossy and .gap.cgroupId == \$cg and .gap.eventType == \$t) | .gap.count | tonumber] | add // 0"; }
check_cmd "exec events were lost" test "$(dropped exec)" -gt 0
check "exec: captured + dropped" $((n + 2)) $(($(captured exec) + $(dropped exec)))
check "fork: captured + dropped" $((n + 2)) $(($(captured fork) + $(dropped fork)))
check "exit: captured + dropped" $((n + 4)) $(($(captured exit) + $(dropped exit)))
check "drop gaps name the workload" "cgroup:$id" "$(q -r --arg cg "$id" "[.[] | select($lossy and .gap.cgroupId == \$cg)][0].gap.workloadKey")"
all_drops=$(q "[.[] | select($lossy) | .gap.count | tonumber] | add // 0")
check "the stop record totals the gaps" "$all_drops" "$(q '.[-1].agent.drops // "0" | tonumber')"
check "every drop gap has a window" 0 "$(q "[.[] | select($lossy) | select((.gap.startTimeUnixNano | tonumber) > (.gap.endTimeUnixNano | tonumber) or (.gap.startTimeUnixNano // \"0\") == \"0\")] | length")"
# The late sleep's exit is recorded, flagged, and counted as a missing start.
check "late exit: start not seen" false "$(q --argjson p "$late" '.[] | select(.exit.pid == $p) | .exit.startSeen // false')"
check_cmd "missing starts recorded for the workload" test "$(q --arg cg "$id" '[.[] | select(.gap.kind == "MISSING_START" and .gap.cgroupId == $cg) | .gap.count | tonumber] | add // 0')" -ge 1
check "seq has no holes" true "$(q '[.[].seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]')"
finish
