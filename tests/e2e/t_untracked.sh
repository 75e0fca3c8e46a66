#!/usr/bin/env bash
# serial
# More live exec'd processes than the kernel's live-process map holds (--max-procs 1024,
# 1,100 held here, beside whatever the machine runs): its tables never evict,
# so no other process loses its entry; the execs it has no room for are flagged
# `untracked` and counted as UNTRACKED_PROCESS gaps of their workload, and their later
# events, which the kernel can only give their pre-exec id, carry the right one: every
# exit, fork and exec of the test's processes names an image that was recorded.
# Each held process is `sh -c '/bin/true; exec sleep ...'`: a fork and a second exec.
# The kernel splits the 1,024 entries between 512 slots indexed by pid and a hash for the
# pids whose slot is taken: the held processes' pids span far more than 512, so both
# tables are filled and emptied.
# The tables themselves are read too (bpftool, the maps the agent holds open): every
# tracked sleep has its entry while held, and none of the test's images keeps one after
# its process ended. Then a storm of 1,100 short processes, more than --max-procs: every
# one tracked, so each removal gave its room back, in either table.
. "$(dirname "$0")/../lib/e2e.sh"

N=1100
root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
cg="$root/fl-untracked-$$"
mkdir "$cg" "$cg-after" || exit 1
on_cleanup "rmdir '$cg' '$cg-after'"
on_cleanup "[ -n \"\${holder:-}\" ] && kill \$holder"

# The entries of the agent's live tables, one "start_ns:tgid" line each.
live_entries() {
	local id
	for id in $(grep -h '^map_id:' /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u); do
		case "$(bpftool map show id "$id" -j | jq -r .name)" in
		live_slots) bpftool map dump id "$id" -j |
			jq -r '.[].formatted.value | select(.owner != 0 and .owner == .e.id.tgid) | "\(.e.id.start_ns):\(.e.id.tgid)"' ;;
		live_procs) bpftool map dump id "$id" -j | jq -r '.[].formatted.value | "\(.id.start_ns):\(.id.tgid)"' ;;
		esac
	done
}

agent_start --max-procs 1024 --metrics-addr off --heartbeat-interval 1
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" hold "$3" "$4" /bin/sh -c "/bin/true fl-untracked; exec /bin/sleep 100000"' \
	sh "$cg" "$HELPERS/fl-benchtool" "$N" "$T/held" &
holder=$!
wait_for 120 test -e "$T/held" || fail "the holder did not start $N processes"
sleeping() { [ "$(sed 's|.*|/proc/&/comm|' "$cg/cgroup.procs" | xargs cat 2>/dev/null | grep -c '^sleep$')" -eq "$N" ]; }
wait_for 120 sleeping || fail "not every held process reached its sleep"
live_entries >"$T/live-held"
kill -TERM $holder
wait $holder
check "holder exit status" 0 $?
holder=
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -n 1100 -p 2 -- /bin/true fl-untracked-after' sh "$cg-after" "$HELPERS/fl-storm" >/dev/null
check "storm exit status" 0 $?
live_entries >"$T/live-after"
id=$(stat -c %i "$cg")
after=$(stat -c %i "$cg-after")
agent_stop

check "heartbeats count untracked execs" true "$(q '[.[] | select(.heartbeat) | .heartbeat.untrackedProcesses // "0" | tonumber] | max >= 1')"
# An image's "start_ns:tgid", as the live tables hold it, from its execId (boot:start:tgid).
entry='(.exec.process.execId | split(":") | .[1:] | join(":"))'
check "the live tables held every tracked sleep" \
	"$(q '[.[] | select(.exec.process.args[0] == "/bin/sleep" and (.exec.process.flags.untracked | not))] | length')" \
	"$(jq -rs --rawfile live "$T/live-held" "(\$live | split(\"\\n\")) as \$l | [.[] | select(.exec.process.args[0] == \"/bin/sleep\") | $entry | select(. as \$e | \$l | index(\$e))] | length" "$T/records.jsonl")"
check "no image of the test outlived its process in the live tables" 0 \
	"$(jq -rs --rawfile live "$T/live-after" --arg a "$id" --arg b "$after" "(\$live | split(\"\\n\")) as \$l | [.[] | select(.exec.process.cgroupId == \$a or .exec.process.cgroupId == \$b) | $entry | select(. as \$e | \$l | index(\$e))] | length" "$T/records.jsonl")"
storm() { jq -s --arg cg "$after" "[.[] | select(.exec.process.cgroupId == \$cg)] | $1" "$T/records.jsonl"; }
check "the storm after: 1100 execs" 1100 "$(storm '[.[] | select(.exec.process.args[1] == "fl-untracked-after")] | length')"
check "the storm after: none untracked" 0 "$(storm '[.[] | select(.exec.process.flags.untracked)] | length')"
# Only the held processes' cgroup, read once.
jq -c --arg cg "$id" 'select(.exec.process.cgroupId == $cg or .fork.process.cgroupId == $cg or .exit.cgroupId == $cg or .gap.cgroupId == $cg)' \
	"$T/records.jsonl" >"$T/mine.jsonl" && mv "$T/mine.jsonl" "$T/records.jsonl"
untracked=$(q '[.[] | select(.exec.process.flags.untracked)] | length')
check_cmd "some execs found the map full" test "$untracked" -gt 0
check "the sleeps: $N execs" "$N" "$(q '[.[] | select(.exec.process.args[0] == "/bin/sleep")] | length')"
check "the UNTRACKED_PROCESS gaps count them" "$untracked" "$(q '[.[] | select(.gap.kind == "UNTRACKED_PROCESS") | .gap.count | tonumber] | add // 0')"
# No wrong id: every id the records name is an image recorded here.
ids='[.[] | select(.exec) | .exec.process.execId] as $ids'
check "every exit names a recorded image" 0 "$(q "$ids | [.[] | select(.exit and (.exit.execId as \$e | \$ids | index(\$e) | not))] | length")"
check "exits: one per held process, its true, and the holder" "$((2 * N + 1))" "$(q '[.[] | select(.exit)] | length')"
check "exits: all seen from their start" "$((2 * N + 1))" "$(q '[.[] | select(.exit.startSeen)] | length')"
check "every fork names a recorded parent image" 0 "$(q "$ids | [.[] | select(.fork and (.fork.parentExecId as \$e | \$ids | index(\$e) | not))] | length")"
check "every second exec names the image it replaced" 0 "$(q "$ids | [.[] | select(.exec.process.args[0] == \"/bin/sleep\" and (.exec.replacedExecId as \$e | \$ids | index(\$e) | not))] | length")"
check "the sleeps' exits name the sleeps" "$N" "$(q '[.[] | select(.exec.process.args[0] == "/bin/sleep") | .exec.process.execId] as $s | [.[] | select(.exit and (.exit.execId as $e | $s | index($e)))] | length')"
finish
