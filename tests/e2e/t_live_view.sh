#!/usr/bin/env bash
# quick
# The live view (`make run` is `run --live`): on a terminal, one line of text per record,
# the same line `read --text` prints for it; piped, JSON lines; --json / --text choose.
# The terminal is a pty made by script(1); the test's own exec is found by its marker.
. "$(dirname "$0")/../lib/e2e.sh"

marker=fl-live-$$
# live MODE_ARGS...: the agent with --live and the given options under a pty, until the
# marker's exec is on disk; its stdout to $T/live.out (the pty's CR LF made LF).
live() {
	rm -rf "$T/data" "$T/ready"
	script -qfec "'$FIRSTLIGHT' run --live --data-dir '$T/data' --key '$T/node.key' --ready-file '$T/ready' --metrics-addr off $*" \
		/dev/null >"$T/pty.out" 2>"$T/agent.err" </dev/null &
	local pid=$!
	wait_for 30 test -e "$T/ready" || { fail "agent did not become ready"; cat "$T/agent.err" >&2; }
	/bin/true "$marker" "two words"
	wait_for 10 sh -c "'$FIRSTLIGHT' read '$T/data' 2>/dev/null | grep -q '$marker'" || fail "the exec was not recorded"
	pkill -TERM -f -- "--ready-file $T/ready" || fail "no agent to stop"
	wait "$pid"
	check "agent under a pty: exit status" 0 $?
	tr -d '\r' <"$T/pty.out" | grep -v '^firstlight: ' >"$T/live.out"
}

# On a terminal: text, each line exactly as `read --text` has it.
live
"$FIRSTLIGHT" read --text "$T/data" >"$T/read.txt"
check "terminal: the exec's line" 1 "$(grep -c "exec pid=[0-9]* .* args=\[\"/bin/true\",\"$marker\",\"two words\"\]$" "$T/live.out")"
check "terminal: every line is read --text's" "$(cat "$T/read.txt")" "$(cat "$T/live.out")"
check "terminal: a line per record kind written" "agent heartbeat workload" \
	"$(awk '{print $3 == "snapshot" ? $4 : $3}' "$T/live.out" | grep -E '^(agent|workload|heartbeat)$' | sort -u | paste -sd' ')"

# --json on a terminal: JSON lines, the same as read.
live --json
"$FIRSTLIGHT" read "$T/data" >"$T/read.jsonl"
check "terminal --json: JSON lines as read prints them" "$(cat "$T/read.jsonl")" "$(cat "$T/live.out")"

# Piped: JSON lines, unless --text.
rm -rf "$T/data"
agent_start --live
kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=
check "piped: every line is JSON" 0 "$(jq -c . "$T/agent.out" >/dev/null 2>&1; echo $?)"
check "piped: the records" "$("$FIRSTLIGHT" read "$T/data" | wc -l)" "$(wc -l <"$T/agent.out")"
rm -rf "$T/data"
agent_start --stdout --text
kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=
check "piped --text: the first line" "agent STARTED" "$(head -n1 "$T/agent.out" | cut -d' ' -f3-4)"

# --text or --json without a stdout view: one line, status 2.
"$FIRSTLIGHT" run --text --data-dir "$T/x" >/dev/null 2>"$T/err"
check "--text alone: exit status" 2 $?
check "--text alone: one line naming it" "firstlight: error: --text: records go to stdout only with --stdout or --live" "$(cat "$T/err")"
finish
