#!/usr/bin/env bash
# quick
# Shipping that cannot work: one clear line each, and recording goes on (the segment files
# are the spool): an unreachable URL, credentials the server refuses, a stream whose
# settings would lose batches. Options that cannot work are usage errors (status 2).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

marker=fl-shiperr-$$
# recorded_after_start: the test's own exec is in the store the agent writes.
recorded() { "$FIRSTLIGHT" read "$T/data" 2>/dev/null | grep -q "$1"; }

# An unreachable URL: a port nobody listens on.
port=$("$HELPERS/fl-net" free-ports 127.0.0.1 1)
agent_start --ship "nats://127.0.0.1:$port"
/bin/true "$marker-unreachable"
check_cmd "unreachable: recording goes on" wait_for 30 recorded "$marker-unreachable"
check_cmd "unreachable: said" wait_for 30 grep -q "ship: nats://127.0.0.1:$port: .*; recording goes on, batches wait in $T/data" "$T/agent.err"
sleep 2 # a few reconnection attempts (not a wait for a condition): still said once
check "unreachable: said once" 1 "$(grep -c "ship: nats://127.0.0.1:$port:" "$T/agent.err")"
agent_stop

# Credentials the server refuses.
rm -rf "$T/data"
mkdir -p "$T/auth"
nats-server -a 127.0.0.1 -p -1 -js -sd "$T/auth/js" --user fl --pass secret -l "$T/auth/log" &
auth_pid=$!
on_cleanup "kill $auth_pid; wait $auth_pid"
wait_for 20 grep -qs "Server is ready" "$T/auth/log" || { cat "$T/auth/log" >&2; exit 1; }
aport=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/auth/log")
agent_start --ship "nats://wrong:password@127.0.0.1:$aport"
/bin/true "$marker-auth"
check_cmd "refused credentials: recording goes on" wait_for 30 recorded "$marker-auth"
check_cmd "refused credentials: said, the password not shown" wait_for 30 grep -qi "ship: nats://\*\*\*@127.0.0.1:$aport: .*authoriz" "$T/agent.err"
check "refused credentials: no password in the log" 0 "$(grep -c password "$T/agent.err")"
agent_stop

# A stream that keeps batches in memory: refused, said, recording goes on.
rm -rf "$T/data"
nats_start js || exit 1
"$HELPERS/fl-jsinfo" memstream "$js_url" FIRSTLIGHT 'firstlight.batches.>' || exit 1
agent_start --ship "$js_url"
/bin/true "$marker-stream"
check_cmd "conflicting stream: recording goes on" wait_for 30 recorded "$marker-stream"
check_cmd "conflicting stream: said" wait_for 30 grep -q "ship: stream: stream FIRSTLIGHT keeps messages in memory" "$T/agent.err"
agent_stop

# The collector with that URL: it says so once and keeps trying, is healthy all the same
# (its loop turns: restarting it would not bring the engine back; the metric says it is not
# connected), and stops at once when told to, with its STOPPED record.
"$FIRSTLIGHT" collect --from "nats://127.0.0.1:$port" --store "$T/col" --key "$T/col.key" \
	--metrics-addr 127.0.0.1:0 >/dev/null 2>"$T/col.err" &
cpid=$!
on_cleanup "kill -9 $cpid 2>/dev/null"
check_cmd "collector, unreachable: said" wait_for 30 grep -q "collect: nats://127.0.0.1:$port: .*; trying again" "$T/col.err"
mport=$(sed -n 's/.*collect: metrics on http:.*(port \([0-9]*\)).*/\1/p' "$T/col.err")
check "collector, unreachable: healthy, not connected" "200 ok: not connected to JetStream, retrying" \
	"$(curl -s -o "$T/hz" -w '%{http_code}' "http://127.0.0.1:$mport/healthz") $(cat "$T/hz")"
check "collector, unreachable: the metric says so" "firstlight_collector_connected 0" \
	"$(curl -s "http://127.0.0.1:$mport/metrics" | grep '^firstlight_collector_connected ')"
sleep 1.5 # into a reconnection's backoff (not a wait for a condition): a stop must end it
check "collector, unreachable: said once" 1 "$(grep -c "collect: nats://127.0.0.1:$port:" "$T/col.err")"
kill -TERM "$cpid"
check_cmd "collector, unreachable: stops when told" wait_for 10 sh -c "! kill -0 $cpid 2>/dev/null" ||
	kill -9 "$cpid"
wait "$cpid"
check "collector, unreachable: exit status" 0 $?
check "collector, unreachable: its run ends STOPPED" STOPPED \
	"$("$FIRSTLIGHT" read "$T/col/@collector" | jq -r 'select(.agent) | .agent.state' | tail -n1)"

# Usage errors: one line, status 2, nothing started.
expect_usage() {
	local name=$1 pattern=$2
	shift 2
	"$FIRSTLIGHT" run --data-dir "$T/never" --metrics-addr off "$@" >/dev/null 2>"$T/err"
	check "$name: exit status" 2 $?
	check "$name: one line" 1 "$(grep -c . "$T/err")"
	check_cmd "$name: says why" grep -q -- "$pattern" "$T/err"
}
expect_usage "not a URL" "--ship 'localhost': expected nats://HOST:PORT" --ship localhost
expect_usage "no port" "--ship 'nats://127.0.0.1': expected nats://HOST:PORT" --ship nats://127.0.0.1
expect_usage "bad prefix" "--ship-subject-prefix 'fire light': not a NATS subject prefix" --ship nats://127.0.0.1:4222 --ship-subject-prefix "fire light"
expect_usage "with --stdout" "--ship ships the segment files: it does not go with --stdout" --ship nats://127.0.0.1:4222 --stdout
expect_usage "creds without --ship" "go with --ship URLS" --ship-creds /etc/hostname
check "nothing written" "" "$(ls -d "$T/never" 2>/dev/null)"
finish
