#!/usr/bin/env bash
# serial
# Fairness: a flooder workload (its own cgroup: an exec storm and a UDP spray to more
# peers than the UDP map holds, at full speed) beside a victim job of 300 processes in
# another cgroup, with a ring buffer the flood alone would overrun. Each workload gets
# a share of the ring per drain (--ring-share): the flooder's events beyond its share are
# dropped and recorded as SHARE_EXCEEDED gaps naming it, the victim's 300 execs and exits
# are all recorded, and no loss is charged to the victim.
. "$(dirname "$0")/../lib/e2e.sh"

root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
flood="$root/fl-flood-$$"
victim="$root/fl-victim-$$"
mkdir "$flood" "$victim" || exit 1
on_cleanup "rmdir '$flood' '$victim'"
stop=$T/stop
on_cleanup "touch '$stop'; wait"

# The default share (a quarter of the ring per drain): the spray alone queues megabytes
# between two drains, the victim a few kilobytes.
agent_start --ring-size 512K --metrics-addr off
# The flooder: storms and sprays until told to stop (each loop in the flooder's cgroup).
sh -c 'echo $$ > "$1/cgroup.procs" && while [ ! -e "$2" ]; do "$3" -n 200 -p 2 -- /bin/true fl-flood >/dev/null; done' \
	sh "$flood" "$stop" "$HELPERS/fl-storm" &
storm=$!
sh -c 'echo $$ > "$1/cgroup.procs" && while [ ! -e "$2" ]; do "$3" udp-spray 20000 >/dev/null; done' \
	sh "$flood" "$stop" "$HELPERS/fl-net" &
spray=$!
# The victim: 300 processes at 50 a second, while the flood runs.
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -n 300 -p 1 -r 50 -- /bin/true fl-victim' \
	sh "$victim" "$HELPERS/fl-storm"
check "victim exit status" 0 $?
touch "$stop"
wait $storm $spray
fid=$(stat -c %i "$flood")
vid=$(stat -c %i "$victim")
rmdir "$flood" "$victim" # their ends, while the agent watches: coverage in ENDED
agent_stop
# The flood leaves ~10^5 records: check the sequence on all of them, then keep only those
# the checks below read, so that each check does not parse them all again.
check "seq has no holes" true "$(jq -n '[inputs.seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]' "$T/records.jsonl")"
jq -c --arg f "$fid" --arg v "$vid" 'select(.heartbeat or .gap.cgroupId == $f or .gap.cgroupId == $v or .workload.cgroupId == $f or .exec.process.cgroupId == $v or .exit)' \
	"$T/records.jsonl" >"$T/kept.jsonl" && mv "$T/kept.jsonl" "$T/records.jsonl"

check "victim: 300 execs recorded" 300 "$(q --arg cg "$vid" '[.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[1] == "fl-victim")] | length')"
check "victim: 300 exits recorded" 300 "$(q --arg cg "$vid" '[.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[1] == "fl-victim") | .exec.process.execId] as $ids |
	[.[] | select(.exit and (.exit.execId as $e | $ids | index($e)))] | length')"
check "victim: no loss charged to it" 0 "$(q --arg cg "$vid" '[.[] | select(.gap.cgroupId == $cg and (.gap.kind == "RING_BUFFER_DROP" or .gap.kind == "SHARE_EXCEEDED"))] | length')"
shared=$(q --arg cg "$fid" '[.[] | select(.gap.kind == "SHARE_EXCEEDED" and .gap.cgroupId == $cg) | .gap.count | tonumber] | add // 0')
check_cmd "flooder: events beyond its share dropped" test "$shared" -gt 0
check "flooder: the gaps name it" "cgroup:$fid" "$(q -r --arg cg "$fid" '[.[] | select(.gap.kind == "SHARE_EXCEEDED" and .gap.cgroupId == $cg)][0].gap.workloadKey')"
check "flooder: the gaps say why" workload-share "$(q -r --arg cg "$fid" '[.[] | select(.gap.kind == "SHARE_EXCEEDED" and .gap.cgroupId == $cg)][0].gap.reason')"
check_cmd "flooder: the spray spilled into the ring" test "$(q --arg cg "$fid" '[.[] | select(.gap.kind == "SHARE_EXCEEDED" and .gap.cgroupId == $cg and .gap.eventType == "udp") | .gap.count | tonumber] | add // 0')" -gt 0
check "flooder: its coverage counts the losses" "$shared" "$(q --arg cg "$fid" '[.[] | select(.workload.cgroupId == $cg and .workload.state == "ENDED")][0].workload.drops // "0" | tonumber')"
check "heartbeats total the share drops" true "$(q '[.[] | select(.heartbeat) | .heartbeat.shareDrops // "0" | tonumber] | max >= 1')"
finish
