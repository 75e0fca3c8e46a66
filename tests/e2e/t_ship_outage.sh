#!/usr/bin/env bash
# The engine goes away for 30 s in the middle of a 5,000-process storm: the agent keeps
# recording (the segment files are the spool), says it cannot ship, its backlog metrics
# rise, its shipping thread waits without spinning; the server comes back (same port, same store) and the agent catches up by itself:
# the backlog falls to 0, and every batch is in the stream exactly once, so the collected
# copy verifies and holds all 5,000 processes.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

nats_start js || exit 1
marker=fl-outage-$$
node=outage-node-$$
export NODE_NAME=$node
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
port=$js_port

"$HELPERS/fl-storm" -n 5000 -p 2 -- /bin/true "$marker" >/dev/null &
storm=$!
# Some batches shipped first: the outage falls in the middle of the run.
check_cmd "shipping before the outage" wait_for 60 sh -c "[ \"\$(curl -sf http://127.0.0.1:$(metrics_port)/metrics |
	awk '\$1 == \"firstlight_ship_acked_batches_total\" { print \$2 }')\" -gt 2 ]"
nats_stop js
ship_cpu_before=$(thread_cpu_ticks "$AGENT_PID" fl-ship)
sleep 30 # the outage itself (not a wait for a condition)
ship_cpu=$(($(thread_cpu_ticks "$AGENT_PID" fl-ship) - ship_cpu_before))
# The shipping thread waits for the client to reconnect; it does not spin on it (a spin
# takes the whole outage, 3,000 ticks of a core; waiting, a few, the client's included).
check_cmd "while down: the shipping threads idle ($ship_cpu of 3000 ticks)" test "$ship_cpu" -lt 300
check "while down: not connected" 0 "$(metric firstlight_ship_connected)"
backlog_down=$(metric firstlight_ship_backlog_batches)
check_cmd "while down: the backlog rose" test "${backlog_down:-0}" -gt 0
oldest=$(metric firstlight_ship_oldest_unshipped_timestamp_seconds)
check_cmd "while down: the oldest unshipped batch is dated" test "${oldest%.*}" -gt 0
check_cmd "while down: the agent said it once, naming the URL" \
	test "$(grep -c "ship: $js_url: .*recording goes on" "$T/agent.err")" -ge 1
nats_start js "$port" || exit 1
wait "$storm"
check "storm exit status" 0 $?
check_cmd "back up: everything written is acked" wait_for 120 ship_drained
check "back up: connected" 1 "$(metric firstlight_ship_connected)"
agent_stop

check "every batch in the stream exactly once, in order" "$(batch_hashes "$T/data")" \
	"$("$HELPERS/fl-jsinfo" batches "$js_url" FIRSTLIGHT "firstlight.batches.$node")"
collector_start "$js_url" || exit 1
check_cmd "collected" wait_for 60 collected_all "$T/data" "$node"
collector_stop
copy_matches "$node"
check "all 5,000 processes, once each" 5000 \
	"$("$FIRSTLIGHT" read "$T/col/$node" | jq -c --arg m "$marker" 'select(.exec.process.args[1]? == $m) | .exec.process.execId' | sort -u | wc -l)"
check "no exec record twice" 5000 \
	"$("$FIRSTLIGHT" read "$T/col/$node" | jq -c --arg m "$marker" 'select(.exec.process.args[1]? == $m)' | wc -l)"
finish
