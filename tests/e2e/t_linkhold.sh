#!/usr/bin/env bash
# quick
# The second holder of the slow links (sensor/linkhold.h): while the agent runs, one
# "fl-linkhold" process holds exactly the agent's links on syscall tracepoints (perf event
# links) and nothing else: /dev/null as 0 to 2, the pipe's end as 3, no capability,
# no-new-privs, no blocked signal. Once the agent stops, or is killed, the links are
# released. The helper's command, typed by hand, says what it is and exits 2.
. "$(dirname "$0")/../lib/e2e.sh"

# link_ids PID: the ids of the bpf links PID holds, sorted (their fdinfo names them).
link_ids() {
	grep -hs '^link_id:' /proc/"$1"/fdinfo/* | awk '{print $2}' | sort -n
}
# perf_links PID: of those, the ones on perf events (the syscalls' tracepoints).
perf_links() {
	bpftool -j link show | jq -r --argjson ids "[$(link_ids "$1" | paste -sd,)]" \
		'.[] | select(.type == "perf_event" and (.id as $i | $ids | index($i))) | .id' | sort -n
}
# holder_of PID: the fl-linkhold processes whose links are all PID's. The holder takes
# its name after it dropped its privileges: one that shows it is ready to be judged.
holder_of() {
	local h ours theirs
	ours=$(link_ids "$1")
	for h in $(pgrep -x fl-linkhold); do
		theirs=$(link_ids "$h")
		[ -n "$theirs" ] && [ -z "$(comm -13 <(echo "$ours") <(echo "$theirs"))" ] && echo "$h"
	done
}
# none_alive IDS...: no id among IDS names a link any more.
none_alive() {
	[ "$(bpftool -j link show | jq --argjson ids "[$(echo "$@" | tr ' ' ',')]" \
		'[.[] | select(.id as $i | $ids | index($i))] | length')" = 0 ]
}

# found_holder: sets holders to the agent's holders; true once there is one.
found_holder() { holders=$(holder_of "$AGENT_PID"); [ -n "$holders" ]; }

agent_start
wait_for 30 found_holder
check "one holder of the agent's links" 1 "$(echo "$holders" | grep -c .)"
h=$(echo "$holders" | head -1)
[ -n "$h" ] || fail "no holder"
expected=$(perf_links "$AGENT_PID")
check_cmd "the agent has links on syscall tracepoints" test -n "$expected"
check "the holder holds exactly those" "$(echo "$expected" | tr '\n' ' ')" "$(link_ids "$h" | tr '\n' ' ')"
held=$(link_ids "$h")
others=$(for fd in /proc/"$h"/fd/*; do
	n=${fd##*/} target=$(readlink "$fd")
	case "$n:$target" in
	[012]:/dev/null | 3:pipe:* | *:anon_inode:bpf_link) ;;
	*) echo "$n -> $target" ;;
	esac
done)
check "the holder holds nothing else" "" "$others"
check "the holder has no capability" 0000000000000000 "$(awk '/^CapEff:/ {print $2}' /proc/"$h"/status)"
check "the holder has no permitted capability" 0000000000000000 "$(awk '/^CapPrm:/ {print $2}' /proc/"$h"/status)"
check "the holder has no-new-privs" 1 "$(awk '/^NoNewPrivs:/ {print $2}' /proc/"$h"/status)"
check "the holder blocks no signal (a plain kill of it works)" 0000000000000000 "$(awk '/^SigBlk:/ {print $2}' /proc/"$h"/status)"
agent_stop
# shellcheck disable=SC2086 # one id per word
check_cmd "after the agent's stop, its links are released" wait_for 60 none_alive $held
check "records written as ever: the stop is recorded" 1 "$(q '[.[] | select(.agent.state == "STOPPED")] | length')"

# Killed: the pipe ends with the agent, and the holder lets the links go just the same.
agent_start
wait_for 30 found_holder
h=$(echo "$holders" | head -1)
held=$(link_ids "$h")
check_cmd "second run: a holder with links" test -n "$held"
{ kill -KILL "$AGENT_PID" && wait "$AGENT_PID"; } 2>/dev/null
AGENT_PID=
# shellcheck disable=SC2086
check_cmd "after a kill -9, the links are released" wait_for 60 none_alive $held

# By hand: not a command.
"$FIRSTLIGHT" __linkhold 3</dev/null >"$T/hand.out" 2>&1
check "typed by hand: exit status" 2 $?
check "typed by hand: says what it is" "firstlight: __linkhold is the agent's own helper, not a command" "$(cat "$T/hand.out")"
finish
