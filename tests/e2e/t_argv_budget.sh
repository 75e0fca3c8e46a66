#!/usr/bin/env bash
# serial
# The agent's memory for live processes is bounded by --table-memory, not by what the
# processes put in their argv: 4,000 live processes, each with 8,000 bytes of non-UTF-8
# argv (32,000 bytes escaped: ~128 MiB if every image were kept), held while the agent
# runs with --table-memory 4M. Its peak RSS stays under 96 MiB; each exec record still
# has its argv in full; the images past the budget are kept without argv, counted in the
# ARGV_NOT_KEPT gap records naming the workload and in the heartbeat (argvNotKept,
# imageBytes). (The machine is shared: the processes are the test's own, by marker, in a
# cgroup of the test's own: once the budget is spent, every other process on the node is
# kept without argv too, and its gaps name its own workload.)
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh" # metric

n=4000
marker=fl-argv-$$
junk=$(head -c 8000 /dev/zero | tr '\0' '\377')
own_cgroup "fl-argv-$$"
agent_start --table-memory 4M --metrics-addr 127.0.0.1:0
live0=$(metric firstlight_live_processes)
in_cg_bg "$HELPERS/fl-benchtool" hold "$n" "$T/held" "$HELPERS/fl-benchtool" pause "$marker" "$junk" 2>"$T/hold.err"
hold=$BG
on_cleanup "kill -TERM $hold 2>/dev/null; wait $hold 2>/dev/null"
check_cmd "the $n processes started" wait_for 300 test -e "$T/held" || cat "$T/hold.err" >&2
# Every one of them is in the agent's table (others' processes come and go meanwhile).
check_cmd "the agent tracks them" wait_for 300 sh -c \
	"[ \"\$(curl -sf http://127.0.0.1:$(metrics_port)/metrics | awk '\$1 == \"firstlight_live_processes\" { print \$2 }')\" -ge $((live0 + n - 100)) ]"
hwm=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$AGENT_PID"/status)
check_cmd "peak RSS under 96 MiB with $n processes held (was $((hwm / 1024)) MiB)" test "$hwm" -lt 98304
kill -TERM "$hold"
wait "$hold"
agent_stop

"$FIRSTLIGHT" read "$T/data" | jq -c --arg m "$marker" --arg cg "$CG_ID" '
	if .exec.process.args[2]? == $m then
		{e: 1, full: ((.exec.process.args[3] | length) == 32000 and (.exec.process.argsTruncated // false | not))}
	elif .gap.kind? == "ARGV_NOT_KEPT" and .gap.cgroupId == $cg then {g: .gap.count}
	elif .heartbeat then {h: .heartbeat}
	else empty end' >"$T/sel.jsonl"
check "an exec record for each process" "$n" "$(jq -s '[.[] | select(.e)] | length' "$T/sel.jsonl")"
check "each with its argv in full" "$n" "$(jq -s '[.[] | select(.full)] | length' "$T/sel.jsonl")"
gapped=$(jq -s '[.[] | select(.g) | .g | tonumber] | add // 0' "$T/sel.jsonl")
# Each process has two images, the fork's copy of its parent's (which holds the same
# argv) and its exec's: at most 2n.
check_cmd "most images were kept without argv, in ARGV_NOT_KEPT gaps ($gapped)" \
	test "$gapped" -gt $((n / 2)) -a "$gapped" -le $((2 * n))
# The heartbeat counts them as well: the node's (others' processes too; its last one may
# precede the last few).
hb=$(jq -s '[.[] | select(.h)][-1].h.argvNotKept // 0 | tonumber' "$T/sel.jsonl")
check_cmd "the heartbeat counts them ($hb)" test "$hb" -gt 0
max_bytes=$(jq -s '[.[] | select(.h) | .h.imageBytes // 0 | tonumber] | max' "$T/sel.jsonl")
check_cmd "image bytes held stayed near the budget ($max_bytes)" test "$max_bytes" -lt $((4 * 1048576 + n * 1024))
finish
