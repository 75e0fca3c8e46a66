#!/usr/bin/env bash
# quick
# serial
# A workload that used up its ring share is still seen to end: with the agent stopped (no
# drain, so the share's epoch cannot turn), a storm in a cgroup of the test's own spends
# its share and loses the rest (SHARE_EXCEEDED); then the cgroup is removed, still with no
# drain, and the agent continued. The removal is not charged to the spent share: the
# workload's ENDED record is there, and its coverage counts every loss its gaps name.
. "$(dirname "$0")/../lib/e2e.sh"

own_cgroup "fl-share-end-$$"

agent_start --ring-size 512K --metrics-addr off
on_cleanup "kill -CONT $AGENT_PID 2>/dev/null"
kill -STOP "$AGENT_PID"
# 400 execs of about a kilobyte each: more than a quarter of the 512 KiB ring.
in_cg "$HELPERS/fl-storm" -n 400 -p 1 -- /bin/true "fl-share-end-$(head -c 900 /dev/zero | tr '\0' x)"
check "storm exit status" 0 $?
rmdir "$CG"
check "cgroup removed" 0 $?
kill -CONT "$AGENT_PID"
agent_stop

lost=$(q --arg cg "$CG_ID" '[.[] | select(.gap.kind == "SHARE_EXCEEDED" and .gap.cgroupId == $cg) | .gap.count | tonumber] | add // 0')
check_cmd "the storm spent its share: losses named SHARE_EXCEEDED ($lost)" test "$lost" -gt 0
check "its end recorded: one ENDED record" 1 \
	"$(q --arg cg "$CG_ID" '[.[] | select(.workload.cgroupId == $cg and .workload.state == "ENDED")] | length')"
check "the ENDED coverage counts the losses" "$lost" \
	"$(q --arg cg "$CG_ID" '[.[] | select(.workload.cgroupId == $cg and .workload.state == "ENDED")][0].workload.drops // "0" | tonumber')"
check "no cgroup_rmdir event lost" 0 \
	"$(q '[.[] | select(.gap.eventType == "cgroup_rmdir") | .gap.count | tonumber] | add // 0')"
finish
