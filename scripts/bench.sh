#!/usr/bin/env bash
# Overhead of firstlight on an exec storm, measured against a baseline in the same run.
# Configurations alternate (A B A B ...) because this machine's baseline drifts ~10%
# between runs; medians are quoted. The sharper figures are the BPF programs' own run
# time (bpf_stats) and the agent's CPU, which do not depend on the drift.
#
# usage: scripts/bench.sh [-n PROCESSES] [-p WORKERS] [-r ROUNDS] [-a "AGENT OPTIONS"]
#        (as root, after make); e.g. -a "--fsync-ms 1000" for the store's interval sync
#
# A connect storm follows (FL_BENCH_PAIRS loopback TCP connect/close pairs, default
# 20000, 0 to skip; same workers, rounds and agent options): wall-time ratio, bpf_stats
# of the network programs, records captured against connections made; then a UDP burst
# (FL_BENCH_DATAGRAMS, default 100000) for the kernel cost per datagram.
set -euo pipefail
cd "$(dirname "$0")/.."
N=20000 P=2 ROUNDS=3 AGENT_OPTS=
while getopts "n:p:r:a:" o; do
	case $o in
	n) N=$OPTARG ;; p) P=$OPTARG ;; r) ROUNDS=$OPTARG ;; a) AGENT_OPTS=$OPTARG ;;
	*) echo "usage: $0 [-n PROCESSES] [-p WORKERS] [-r ROUNDS] [-a AGENT_OPTIONS]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root" >&2; exit 1; }
FL=$PWD/build/firstlight
STORM=$PWD/build/helpers/fl-storm
[ -x "$FL" ] && [ -x "$STORM" ] || { echo "bench.sh: run 'make all build/helpers/fl-storm' first" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench.sh: jq missing (scripts/deps.sh)" >&2; exit 1; }

W=$(mktemp -d /tmp/fl-bench.XXXXXX)
AGENT=
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled)
cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	echo "$stats_was" >/proc/sys/kernel/bpf_stats_enabled
	rm -rf "$W"
}
trap cleanup EXIT
echo 1 >/proc/sys/kernel/bpf_stats_enabled

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# run_time_ns and run_cnt of this agent's programs, as "name ns cnt" lines: its own by id
# (from its fds), not those of another agent running on the machine.
agent_prog_ids() {
	grep -hs '^prog_id:' /proc/"$AGENT"/fdinfo/* | awk '{print $2}' | sort -u | jq -sc .
}
prog_stats() {
	bpftool prog show -j | jq -r --argjson ids "$(agent_prog_ids)" '.[] |
		select((.id as $i | $ids | index($i)) and (.name | test("^fl_(fork|exec|exit)$"))) |
		"\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' | sort # join needs sorted input
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

storm() { # prints wall seconds
	local t0 t1
	t0=$(now)
	"$STORM" -n "$N" -p "$P" -- /bin/true "$1" >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}

hz=$(getconf CLK_TCK)
: >"$W/base" >"$W/fl" >"$W/cpu" >"$W/cpu_rec" >"$W/rss" >"$W/ns_exec" >"$W/ns_fork" >"$W/ns_exit" >"$W/captured"
for round in $(seq 1 "$ROUNDS"); do
	storm "fl-bench-base-$$-$round" >>"$W/base"

	rm -rf "$W/data" "$W/ready"
	# shellcheck disable=SC2086 # AGENT_OPTS is a list of options
	"$FL" run --data-dir "$W/data" --key "$W/node.key" --ready-file "$W/ready" $AGENT_OPTS 2>"$W/agent.err" &
	AGENT=$!
	for _ in $(seq 300); do [ -e "$W/ready" ] && break; sleep 0.02; done
	[ -e "$W/ready" ] || { cat "$W/agent.err" >&2; exit 1; }
	prog_stats >"$W/before"
	c0=$(cpu_ticks "$AGENT")
	storm "fl-bench-fl-$$-$round" >>"$W/fl"
	sleep 0.2 # the last drain tick
	c1=$(cpu_ticks "$AGENT")
	prog_stats >"$W/after"
	grep VmHWM "/proc/$AGENT/status" | awk '{print $2}' >>"$W/rss"
	kill -TERM "$AGENT"; wait "$AGENT"; AGENT=
	echo "($c1 - $c0) * 1000 / $hz / ($N / 1000)" | bc -l >>"$W/cpu"
	join "$W/before" "$W/after" | while read -r name ns0 cnt0 ns1 cnt1; do
		if [ "$cnt1" -gt "$cnt0" ]; then
			echo "($ns1 - $ns0) / ($cnt1 - $cnt0)" | bc -l >>"$W/ns_${name#fl_}"
		fi
	done
	"$FL" read "$W/data" | jq -r --arg m "fl-bench-fl-$$-$round" '
		select(.exec.process.args[1]? == $m) | .exec.process.execId' >"$W/ids"
	execs=$(wc -l <"$W/ids")
	exits=$("$FL" read "$W/data" | jq -r 'select(.exit) | .exit.execId' | sort | comm -12 - <(sort "$W/ids") | wc -l)
	echo "$execs $exits" >>"$W/captured"
	recs=$("$FL" read "$W/data" | wc -l)
	echo "($c1 - $c0) * 1000 / $hz / ($recs / 1000)" | bc -l >>"$W/cpu_rec"
	echo "round $round: baseline $(tail -1 "$W/base")s, firstlight $(tail -1 "$W/fl")s, captured exec/exit $execs/$exits of $N" >&2
done

base=$(median <"$W/base")
fl=$(median <"$W/fl")
printf '\n## firstlight exec-storm benchmark\n\n'
printf 'machine: %s, %s cores, kernel %s; %s processes x %s workers, %s alternating rounds, medians\n\n' \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)" "$(uname -r)" "$N" "$P" "$ROUNDS"
printf '| figure | value |\n|---|---|\n'
printf '| baseline wall time | %.3f s (%.0f proc/s) |\n' "$base" "$(echo "$N / $base" | bc -l)"
printf '| firstlight wall time | %.3f s (%.0f proc/s) |\n' "$fl" "$(echo "$N / $fl" | bc -l)"
printf '| wall-time ratio | %.3f |\n' "$(echo "$fl / $base" | bc -l)"
for k in exec fork exit; do
	[ -s "$W/ns_$k" ] && printf '| kernel ns per %s event (bpf_stats) | %.0f |\n' "$k" "$(median <"$W/ns_$k")"
done
printf '| agent CPU ms per 1,000 processes | %.2f |\n' "$(median <"$W/cpu")"
printf '| agent CPU ms per 1,000 records | %.2f |\n' "$(median <"$W/cpu_rec")"
printf '| agent peak RSS | %.1f MiB |\n' "$(echo "$(median <"$W/rss") / 1024" | bc -l)"
printf '| exec / exit captured (worst round) | %s |\n' "$(sort -n "$W/captured" | head -1 | awk -v n="$N" '{printf "%d/%d of %d", $1, $2, n}')"

# ---- connect storm ----------------------------------------------------------------------
PAIRS=${FL_BENCH_PAIRS:-20000}
DATAGRAMS=${FL_BENCH_DATAGRAMS:-100000}
NET=$PWD/build/helpers/fl-net
[ "$PAIRS" -gt 0 ] || exit 0
[ -x "$NET" ] || { echo "bench.sh: run 'make build/helpers/fl-net' first" >&2; exit 1; }

# run_time_ns and run_cnt of this agent's network programs, as "name ns cnt" lines.
net_stats() {
	bpftool prog show -j | jq -r --argjson ids "$(agent_prog_ids)" '.[] | select((.id as $i | $ids | index($i)) and
		(.name | test("^fl_(tcp_state|connect|udp_|sock_send|unix_)"))) |
		"\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"' | sort
}
connect_storm() { # sets secs (wall time, the helper's own clock) and port (its listener's)
	"$NET" storm 127.0.0.1 "$PAIRS" "$P" >"$W/storm.out" || { cat "$W/storm.out" >&2; exit 1; }
	secs=$(sed -n 's/^seconds=//p' "$W/storm.out")
	port=$(sed -n 's/^port=//p' "$W/storm.out")
}
agent_up() {
	rm -rf "$W/data" "$W/ready"
	# shellcheck disable=SC2086 # AGENT_OPTS is a list of options
	"$FL" run --data-dir "$W/data" --key "$W/node.key" --ready-file "$W/ready" $AGENT_OPTS \
		2>"$W/agent.err" &
	AGENT=$!
	for _ in $(seq 300); do [ -e "$W/ready" ] && break; sleep 0.02; done
	[ -e "$W/ready" ] || { cat "$W/agent.err" >&2; exit 1; }
}
agent_down() {
	kill -TERM "$AGENT"; wait "$AGENT"; AGENT=
}

: >"$W/cbase" >"$W/cfl" >"$W/ccpu" >"$W/ns_state" >"$W/ns_conn4" >"$W/ns_pair" >"$W/runs_pair" >"$W/ccaptured" >"$W/cdrops"
for round in $(seq 1 "$ROUNDS"); do
	connect_storm
	echo "$secs" >>"$W/cbase"

	agent_up
	net_stats >"$W/before"
	c0=$(cpu_ticks "$AGENT")
	connect_storm
	echo "$secs" >>"$W/cfl"
	sleep 0.2 # the last drain tick
	c1=$(cpu_ticks "$AGENT")
	net_stats >"$W/after"
	agent_down
	echo "($c1 - $c0) * 1000 / $hz / ($PAIRS / 1000)" | bc -l >>"$W/ccpu"
	join "$W/before" "$W/after" >"$W/delta"
	awk '$1 == "fl_tcp_state" && $5 > $3 {print ($4 - $2) / ($5 - $3)}' "$W/delta" >>"$W/ns_state"
	awk '$1 == "fl_connect4" && $5 > $3 {print ($4 - $2) / ($5 - $3)}' "$W/delta" >>"$W/ns_conn4"
	awk -v n="$PAIRS" '{ns += $4 - $2; runs += $5 - $3} END {print ns / n; print runs / n > "/dev/stderr"}' \
		"$W/delta" >>"$W/ns_pair" 2>>"$W/runs_pair"
	# Captured: the storm's connections, by the listener's port, kind by kind.
	"$FL" read "$W/data" | jq -r --argjson port "$port" '
		select(.flow and (.flow.dstPort == $port or .flow.srcPort == $port)) | .flow.kind' |
		sort | uniq -c | awk '{c[$2] = $1} END {printf "%d %d %d\n", c["CONNECT"], c["ACCEPT"], c["CLOSE"]}' >>"$W/ccaptured"
	"$FL" read "$W/data" | jq -r 'select(.gap.kind == "RING_BUFFER_DROP") | .gap.count' |
		awk '{n += $1} END {print n + 0}' >>"$W/cdrops"
	echo "round $round: connect storm baseline $(tail -1 "$W/cbase")s, firstlight $(tail -1 "$W/cfl")s," \
		"captured connect/accept/close $(tail -1 "$W/ccaptured" | tr ' ' /) of $PAIRS/$PAIRS/$((2 * PAIRS))" >&2
done

# UDP: one burst under the agent, for the kernel's cost per datagram and the records made.
agent_up
"$NET" udp-server 127.0.0.1 "$W/udp.ready" "$DATAGRAMS" >"$W/udp-rx.out" &
rx=$!
for _ in $(seq 300); do [ -e "$W/udp.ready" ] && break; sleep 0.02; done
net_stats >"$W/before"
t0=$(now)
"$NET" udp-client 127.0.0.1 "$(cat "$W/udp.ready")" "$DATAGRAMS" 64 sendto >/dev/null
t1=$(now)
net_stats >"$W/after"
wait $rx || true
agent_down
udp_ns=$(join "$W/before" "$W/after" | awk -v n="$DATAGRAMS" '$1 ~ /^fl_(udp_sendmsg4|sock_send)$/ {ns += $4 - $2} END {print ns / n}')
udp_records=$("$FL" read "$W/data" | jq -r --argjson port "$(cat "$W/udp.ready")" \
	'select(.flow.kind == "UDP" and .flow.dstPort == $port) | .flow.datagrams' | awk '{n++; d += $1} END {printf "%d records for %d datagrams", n, d}')

cbase=$(median <"$W/cbase")
cfl=$(median <"$W/cfl")
printf '\n## firstlight connect-storm benchmark\n\n'
printf '%s loopback TCP connect/close pairs x %s workers (fl-net storm), %s alternating rounds, medians\n\n' "$PAIRS" "$P" "$ROUNDS"
printf '| figure | value |\n|---|---|\n'
printf '| baseline wall time | %.3f s (%.0f pairs/s) |\n' "$cbase" "$(echo "$PAIRS / $cbase" | bc -l)"
printf '| firstlight wall time | %.3f s (%.0f pairs/s) |\n' "$cfl" "$(echo "$PAIRS / $cfl" | bc -l)"
printf '| wall-time ratio | %.3f |\n' "$(echo "$cfl / $cbase" | bc -l)"
printf '| kernel ns per TCP state change (fl_tcp_state, bpf_stats) | %.0f |\n' "$(median <"$W/ns_state")"
printf '| kernel ns per connect() hook run (fl_connect4: a TCP connect'"'"'s owner) | %.0f |\n' "$(median <"$W/ns_conn4")"
printf '| network program runs per pair | %.1f |\n' "$(median <"$W/runs_pair")"
printf '| kernel ns per pair, all network programs | %.0f |\n' "$(median <"$W/ns_pair")"
printf '| agent CPU ms per 1,000 pairs | %.2f |\n' "$(median <"$W/ccpu")"
printf '| connect / accept / close captured (worst round) | %s |\n' \
	"$(sort -n "$W/ccaptured" | head -1 | awk -v n="$PAIRS" '{printf "%d/%d/%d of %d/%d/%d", $1, $2, $3, n, n, 2 * n}')"
printf '| ring-buffer drops (worst round) | %s |\n' "$(sort -n "$W/cdrops" | tail -1)"
printf '| kernel ns per UDP datagram (sendmsg4 hook + sock_send_length) | %.0f |\n' "$udp_ns"
printf '| UDP datagrams at %.0f/s | %s |\n' "$(echo "$DATAGRAMS / ($t1 - $t0)" | bc -l)" "$udp_records"
