#!/usr/bin/env bash
# Overhead of firstlight on an exec storm, measured against a baseline in the same run.
# Configurations alternate (A B A B ...) because this machine's baseline drifts ~10%
# between runs; medians are quoted. The sharper figures are the BPF programs' own run
# time (bpf_stats) and the agent's CPU, which do not depend on the drift.
#
# usage: scripts/bench.sh [-n PROCESSES] [-p WORKERS] [-r ROUNDS] [-a "AGENT OPTIONS"]
#        (as root, after make); e.g. -a "--fsync-ms 1000" for the store's interval sync
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
# run_time_ns and run_cnt of our programs, as "name ns cnt" lines.
prog_stats() {
	bpftool prog show -j | jq -r '.[] | select(.name | test("^fl_(fork|exec|exit)$")) |
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
		[ "$cnt1" -gt "$cnt0" ] && echo "($ns1 - $ns0) / ($cnt1 - $cnt0)" | bc -l >>"$W/ns_${name#fl_}"
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
