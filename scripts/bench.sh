#!/usr/bin/env bash
# firstlight against its peers, side by side in one run: overhead, loss, cost per event.
#
# usage: scripts/bench.sh [options]          (as root, after `make all helpers`; make bench)
#   -n N        exec storm: processes (fork+exec+wait of /bin/true), default 20000
#   -p P        workers of every generator, default 2
#   -r ROUNDS   alternating rounds of the storm, container and connect workloads, default 5
#   -R ROUNDS   rounds of the fixed-rate sweep, default 3
#   -t SECONDS  sweep: seconds per rate, default 10;  -x "RATES" default "100 400 1600 6400"
#   -k K        container churn: runc containers per round, default 100
#   -l L        live processes held for the RSS figure, default 10000
#   -d SECONDS  long churn with RSS sampled, default 600
#   -c CONFIGS  comma list, default base,bare-ring,firstlight,firstlight+ship,bpftrace,auditd,forkstat
#               (bare-ring: the reference, fl-bare-ring's programs on the sensor's fork,
#               exec and exit tracepoints that only reserve, fill and submit a header;
#               exec storm only: firstlight's kernel cost per event as a ratio to it)
#               (firstlight+ship: firstlight with --ship to a JetStream server the bench
#               starts on loopback; after the runs, the collector ingests what was shipped)
#   -w LOADS    comma list, default storm,fair,sweep,publish,containers,connect,files,hold,churn
#               (fair: the exec storm under two agents at once, ring shares on and off,
#               for the kernel cost of the fairness bookkeeping per event; publish: what
#               one JetStream publish costs by size, back to back and after the shipper's
#               linger (with firstlight+ship); files: a file-open storm of a non-watched
#               and of a watched file, base and firstlight, for the BPF cost per openat)
#   -a OPTS     extra options for `firstlight run` (default: none, the agent's defaults)
#   -o FILE     the JSON results, default build/bench/bench-<UTC time>.json
#   -s          smoke run (make test): N=200, one round, one rate (400/s for 1 s), 3
#               containers, 200 held processes, 10 s churn, 200 connects; same code paths,
#               no targets judged on its numbers.
#
# Configurations alternate within each round (A B C ... A B C ...) because this machine's
# wall times drift ~10% between runs; medians are quoted. The sharper figures are the CPU
# of the sensor's own processes (schedstat, ns) and its BPF programs' run time
# (bpf_stats, turned on through BPF_ENABLE_STATS for the run), which do not depend on the
# drift. How each figure is measured: docs/benchmark.md.
#
# The machine is restored afterwards, also on failure or Ctrl-C: sensors, helpers and
# containers stopped, auditd's rules removed and a `-a never,task` rule left (once audit
# has been enabled, every new process otherwise takes the slow syscall-audit path), audit
# enabled flag as it was, tracefs unmounted if the bench mounted it.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

N=20000 P=2 ROUNDS=5 SWEEP_ROUNDS=3 SWEEP_SECS=10 RATES="100 400 1600 6400" CONTAINERS=100
LIVE=10000 CHURN_SECS=600 PAIRS=${FL_BENCH_PAIRS:-20000} DATAGRAMS=${FL_BENCH_DATAGRAMS:-100000}
OPENS=${FL_BENCH_OPENS:-200000}
PUBS=20 PUB_SIZES="1024 16384 65536 131072 262144"
CONFIGS=base,bare-ring,firstlight,firstlight+ship,bpftrace,auditd,forkstat
LOADS=storm,fair,sweep,publish,containers,connect,files,hold,churn
AGENT_OPTS='' JSON='' SMOKE=0
ARGS="$*"
usage() { sed -n '4,27p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "n:p:r:R:t:x:k:l:d:c:w:a:o:sh" o; do
	case $o in
	n) N=$OPTARG ;; p) P=$OPTARG ;; r) ROUNDS=$OPTARG ;; R) SWEEP_ROUNDS=$OPTARG ;;
	t) SWEEP_SECS=$OPTARG ;; x) RATES=$OPTARG ;; k) CONTAINERS=$OPTARG ;; l) LIVE=$OPTARG ;;
	d) CHURN_SECS=$OPTARG ;; c) CONFIGS=$OPTARG ;; w) LOADS=$OPTARG ;; a) AGENT_OPTS=$OPTARG ;;
	o) JSON=$OPTARG ;;
	s) SMOKE=1 N=200 ROUNDS=1 SWEEP_ROUNDS=1 SWEEP_SECS=1 RATES=400 CONTAINERS=3 LIVE=200 CHURN_SECS=10
	   PAIRS=200 DATAGRAMS=1000 OPENS=2000 PUBS=2 PUB_SIZES="1024 65536" ;;
	*) usage ;;
	esac
done
has() { case ",$1," in *",$2,"*) return 0 ;; esac; return 1; }
positive() { # OPTION VALUE...: each a whole number above 0
	local o=$1 v
	shift
	for v in "$@"; do
		[[ $v =~ ^[1-9][0-9]{0,8}$ ]] || { echo "bench.sh: $o: '$v' is not a whole number above 0" >&2; exit 2; }
	done
}
positive -n "$N"; positive -p "$P"; positive -r "$ROUNDS"; positive -R "$SWEEP_ROUNDS"
positive -t "$SWEEP_SECS"; positive -k "$CONTAINERS"; positive -l "$LIVE"; positive -d "$CHURN_SECS"
# shellcheck disable=SC2086 # the rates are a list
positive -x $RATES
[ -n "${RATES// /}" ] || { echo "bench.sh: -x: no rate given" >&2; exit 2; }
for c in ${CONFIGS//,/ }; do
	has base,bare-ring,firstlight,firstlight+ship,bpftrace,auditd,forkstat "$c" ||
		{ echo "bench.sh: -c: unknown configuration '$c' (base,bare-ring,firstlight,firstlight+ship,bpftrace,auditd,forkstat)" >&2; exit 2; }
done
for l in ${LOADS//,/ }; do
	has storm,fair,sweep,publish,containers,connect,files,hold,churn "$l" ||
		{ echo "bench.sh: -w: unknown workload '$l' (storm,fair,sweep,publish,containers,connect,files,hold,churn)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root" >&2; exit 1; }
scripts/deps.sh bench
# FL_BENCH_AGENT: another build of the agent (a before/after pair in one session: the
# binary holds its BPF programs, the helpers stay this tree's)
FL=${FL_BENCH_AGENT:-$ROOT/build/firstlight}
H=$ROOT/build/helpers
for b in "$FL" "$H/fl-storm" "$H/fl-net" "$H/fl-benchtool" "$H/fl-segtool" "$H/fl-open" "$H/fl-bare-ring" "$H/fl-pubcost"; do
	[ -x "$b" ] || { echo "bench.sh: $b missing: run 'make bench' (or make all and the helpers)" >&2; exit 1; }
done
# The sweep's configurations: the sensors (base and the bare-ring reference run the storm only).
SENSORS=$(echo "${CONFIGS//,/ }" | tr ' ' '\n' | grep -Ev '^(base|bare-ring)$' | tr '\n' ' ')
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
[ -n "$JSON" ] || JSON=$ROOT/build/bench/bench-$STAMP.json
mkdir -p "$(dirname "$JSON")"

W=$(mktemp -d /tmp/fl-bench.XXXXXX)
TAG=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n') # in every marker: this run's processes only
RESULTS=$W/results.jsonl COMMANDS=$W/commands
: >"$RESULTS"
: >"$COMMANDS"
SPID='' WPID='' STATSPID='' HOLDPID='' FAIRPIDS='' GENPID='' NATSPID='' COLPID='' MOUNTED_TRACEFS=0 AUDIT_TOUCHED=0
AUDIT_ENABLED_WAS=$( (auditctl -s 2>/dev/null || true) | awk '$1 == "enabled" {print $2}')

# ---- restoring the machine --------------------------------------------------------------
stop_pid() { # PID [SIGNAL]: stops one process this script started, and reaps it
	[ -n "$1" ] || return 0
	kill -"${2:-TERM}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
audit_restore() {
	[ "$AUDIT_TOUCHED" = 1 ] || return 0
	auditctl -D >/dev/null 2>&1 || true
	auditctl -a never,task >/dev/null 2>&1 || true
	[ -n "$AUDIT_ENABLED_WAS" ] && auditctl -e "$AUDIT_ENABLED_WAS" >/dev/null 2>&1 || true
}
cleanup() {
	local rc=$? id
	trap - EXIT INT TERM
	stop_pid "$GENPID" KILL
	for id in $FAIRPIDS; do stop_pid "$id"; done
	stop_pid "$HOLDPID"
	stop_pid "$SPID" INT
	stop_pid "$COLPID"
	stop_pid "$NATSPID"
	audit_restore
	stop_pid "$WPID"
	for id in $(runc list -q 2>/dev/null | grep "^flb-$TAG-" || true); do runc delete -f "$id" >/dev/null 2>&1 || true; done
	find /sys/fs/cgroup -depth -type d -name "flb-$TAG-*" -exec rmdir {} + 2>/dev/null || true
	stop_pid "$STATSPID"
	[ "$MOUNTED_TRACEFS" = 1 ] && umount /sys/kernel/tracing 2>/dev/null || true
	[ -n "${FL_BENCH_KEEP:-}" ] && echo "bench: kept $W" >&2 || rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# set -e stops at the first failing command: say which, or the run ends without a word.
trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR

# A run killed outright (SIGKILL, a lost session) cannot clean up: its stopped runc
# containers and their empty cgroups are removed here. Running ones are left alone.
# (runc's state directory, not `runc list`: a container killed half-made is not listed.)
for id in /run/runc/flb-*; do
	[ -d "$id" ] || continue
	id=${id##*/}
	if [ "$(runc state "$id" 2>/dev/null | jq -r .status 2>/dev/null || true)" != running ]; then
		runc delete -f "$id" >/dev/null 2>&1 || true
	fi
done
find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name 'flb-*' -exec rmdir {} + 2>/dev/null || true

# ---- small tools ------------------------------------------------------------------------
log() { echo "bench: $*" >&2; }
now_ns() { date +%s%N; }
wait_for() { # SECONDS COMMAND...: polls COMMAND every 50 ms
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}
# CPU time (ns) of processes, every thread (schedstat: precise, unlike clock ticks).
cpu_ns() {
	local p
	for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null || true; done | awk '{s += $1} END {printf "%.0f\n", s}'
}
# The BPF programs a process holds (by id, from its fds: not another agent's), with
# their bpf_stats counters, as a JSON array.
prog_stats() {
	local ids
	[ -n "$1" ] || { echo '[]'; return; }
	# None (the process already gone, or holding no program now) is an empty list, not a
	# failure: grep finding nothing must not end the run under pipefail.
	ids=$({ grep -hs '^prog_id:' /proc/"$1"/fdinfo/* || true; } | awk '{print $2}' | sort -u | jq -sc .)
	bpftool prog show -j | jq -c --argjson ids "$ids" '[.[] | select(.id as $i | $ids | index($i)) |
		{id, name, ns: (.run_time_ns // 0), cnt: (.run_cnt // 0)}]'
}
# After a workload: a marked /bin/true, and the sensor's output waited for until it holds
# it (60 s at most), then 100 ms for stragglers from the other CPU. Not "until the output
# stops growing": the machine's other processes (and the polling itself) never let it.
sensor_has() { # CONFIG DIR STRING
	case $1 in
	firstlight | firstlight+ship) { zcat -f "$2"/out/*.seg.gz 2>/dev/null || true; } | grep -aqF "$3" ;;
	*) grep -aqF "$3" "$2/out/$SOUT" ;;
	esac
}
end_probe() { # CONFIG DIR
	"$W/bin/flbend$TAG"
	wait_for 60 sensor_has "$1" "$2" "flbend$TAG" || log "$1 did not report the end probe within 60 s"
	sleep 0.1
}
note_cmd() { grep -qxF -- "$*" "$COMMANDS" || echo "$*" >>"$COMMANDS"; }
pct() { sort -g | awk -v q="$1" '{a[NR] = $1} END {if (!NR) print "null"; else {i = int(q * NR + 0.999999); if (i < 1) i = 1; print a[i]}}'; }

# ---- the peers' settings ----------------------------------------------------------------
# bpftrace: execsnoop's equivalent on the scheduler's tracepoints, to a file, line
# buffered (-B line, as on a terminal: with its default full buffering for a file, records
# wait seconds for 8 KiB to fill). Classic tracepoints need tracefs; the bench mounts it
# if nothing has.
cat >"$W/execsnoop.bt" <<'EOF'
tracepoint:sched:sched_process_exec
{
	printf("%llu exec %d %d %s %s\n", nsecs, pid, curtask->real_parent->tgid, comm, str(args->filename));
}
tracepoint:sched:sched_process_exit
/pid == tid/
{
	printf("%llu exit %d %d %s\n", nsecs, pid, curtask->real_parent->tgid, comm);
}
EOF
# auditd: Debian's auditd.conf as shipped, except the log in the run's directory and no
# rotation (so every record of a run can be counted; rotation costs nothing per event).
# Rules: Debian's default rules file (-b 8192, --backlog_wait_time 60000, -f 1) and the
# issue's execve rule.
AUDIT_RULES=$W/audit.rules
{
	grep -hv '^\s*#' /etc/audit/rules.d/audit.rules 2>/dev/null | grep -v '^\s*$' || printf -- '-D\n-b 8192\n'
	echo '-a always,exit -F arch=b64 -S execve'
} >"$AUDIT_RULES"
audit_conf() { # DIR LOGFILE
	mkdir -p "$1"
	sed -e "s|^log_file *=.*|log_file = $2|" -e 's|^max_log_file_action *=.*|max_log_file_action = IGNORE|' \
		/etc/audit/auditd.conf >"$1/auditd.conf"
	chmod 0640 "$1/auditd.conf"
}
KAUDITD=$( (grep -lx kauditd /proc/[0-9]*/comm 2>/dev/null || true) | head -1 | cut -d/ -f3)

# ---- sensors ----------------------------------------------------------------------------
# start_sensor CONFIG DIR: the sensor writes into DIR/out, watched by fl-benchtool (the
# time each write is noticed, for latency). Sets SPID (its main process), SCPU (every
# process whose CPU is its cost), SOUT (its output file, relative to DIR/out).
probe_seen() { grep -qs "flbprobe$TAG" "$1"; }
probe_until() { # FILE: runs a marked /bin/true until the sensor reports it
	local i
	for i in $(seq 300); do
		"$W/bin/flbprobe$TAG"
		probe_seen "$1" && return 0
		sleep 0.1
	done
	return 1
}
start_sensor() {
	local cfg=$1 d=$2
	mkdir -p "$d/out"
	SPID='' SCPU='' SOUT=''
	[ "$cfg" = base ] && return 0
	if [ "$cfg" = bare-ring ]; then
		# No output to watch: its records are drained and counted, nothing written.
		"$H/fl-bare-ring" "$d/ready" >"$d/bare.out" 2>"$d/err" &
		SPID=$! SCPU=$!
		note_cmd "bare-ring: fl-bare-ring READY (bpf/bench/bare_ring.bpf.c on sched_process_fork, exec and exit: reserve, fill and submit a 24-byte header with BPF_RB_NO_WAKEUP; 8 MiB ring drained every 100 ms)"
		wait_for 60 test -e "$d/ready" || { cat "$d/err" >&2; exit 1; }
		return 0
	fi
	"$H/fl-benchtool" watch "$d/wlog" "$d/out" >"$d/watch.out" &
	WPID=$!
	wait_for 10 grep -qs ready "$d/watch.out" || { log "watcher did not start"; exit 1; }
	case $cfg in
	firstlight)
		# shellcheck disable=SC2086 # AGENT_OPTS is a list of options
		"$FL" run --data-dir "$d/out" --key "$W/node.key" --ready-file "$d/ready" $AGENT_OPTS 2>"$d/err" &
		SPID=$!
		note_cmd "firstlight: $FL run --data-dir DIR --key KEY --ready-file FILE $AGENT_OPTS"
		wait_for 60 test -e "$d/ready" || { cat "$d/err" >&2; exit 1; }
		;;
	firstlight+ship)
		# shellcheck disable=SC2086 # AGENT_OPTS is a list of options
		NODE_NAME=flb-$TAG "$FL" run --data-dir "$d/out" --key "$W/node.key" --ready-file "$d/ready" \
			--ship "$SHIP_URL" --metrics-addr 127.0.0.1:0 $AGENT_OPTS 2>"$d/err" &
		SPID=$!
		note_cmd "firstlight+ship: $FL run --data-dir DIR --key KEY --ready-file FILE --ship nats://127.0.0.1:PORT $AGENT_OPTS (nats-server -js on loopback)"
		wait_for 60 test -e "$d/ready" || { cat "$d/err" >&2; exit 1; }
		;;
	bpftrace)
		SOUT=bt.txt
		bpftrace -B line "$W/execsnoop.bt" >"$d/out/bt.txt" 2>"$d/err" &
		SPID=$!
		note_cmd "bpftrace: bpftrace -B line execsnoop.bt > FILE  ($(tr '\n\t' '  ' <"$W/execsnoop.bt" | tr -s ' '))"
		probe_until "$d/out/bt.txt" || { cat "$d/err" >&2; exit 1; }
		;;
	auditd)
		SOUT=audit.log
		audit_conf "$d/conf" "$d/out/audit.log"
		AUDIT_TOUCHED=1
		auditd -n -c "$d/conf" 2>"$d/err" &
		SPID=$!
		wait_for 10 bash -c "auditctl -s | grep -q '^pid $SPID\$'" || { cat "$d/err" >&2; exit 1; }
		auditctl -R "$AUDIT_RULES" >/dev/null
		note_cmd "auditd: auditd -n -c CONF (Debian's auditd.conf; log_file in the run dir, max_log_file_action = IGNORE); auditctl -R RULES ($(tr '\n' ';' <"$AUDIT_RULES"))"
		probe_until "$d/out/audit.log" || { cat "$d/err" >&2; exit 1; }
		auditctl -s | awk '$1 == "lost" {print $2}' >"$d/lost0"
		;;
	forkstat)
		SOUT=fk.txt
		forkstat -e exec,exit -l >"$d/out/fk.txt" 2>"$d/err" &
		SPID=$!
		note_cmd "forkstat: forkstat -e exec,exit -l > FILE"
		probe_until "$d/out/fk.txt" || { cat "$d/err" >&2; exit 1; }
		;;
	esac
	SCPU=$SPID
	[ "$cfg" = auditd ] && SCPU="$SPID $KAUDITD"
	return 0
}
stop_sensor() { # CONFIG DIR
	local cfg=$1 d=$2
	[ "$cfg" = base ] && return 0
	case $cfg in
	auditd)
		auditctl -s | awk '$1 == "lost" {print $2}' >"$d/lost1"
		audit_restore
		stop_pid "$SPID"
		audit_restore # whatever the daemon did on its way out
		;;
	bpftrace | forkstat) stop_pid "$SPID" INT ;;
	*) stop_pid "$SPID" ;;
	esac
	SPID=
	stop_pid "$WPID"
	WPID=
}

# ---- shipping (config firstlight+ship)----------------------------------------------------------
# The agent's metrics (it serves them on a port of its choosing, named in its log).
ship_metrics() { # DIR
	curl -sf "http://127.0.0.1:$(sed -n 's/.*metrics on http:.*(port \([0-9]*\)).*/\1/p' "$1/err" | tail -n1)/metrics"
}
# Waits (60 s at most) until JetStream acked every batch written when the wait began: a
# watermark (acked + backlog then), not "the backlog is 0", which the machine's own
# records and a linger make a moment a poll may miss. Shipping goes in order.
ship_counts() { # DIR: "acked backlog"
	ship_metrics "$1" | awk '$1 == "firstlight_ship_acked_batches_total" {a = $2} $1 == "firstlight_ship_backlog_batches" {b = $2}
		END {if (a != "" && b != "") print a, b}'
}
ship_past() { # DIR MARK
	local c
	c=$(ship_counts "$1") && [ -n "$c" ] && [ "${c%% *}" -ge "$2" ]
}
ship_drained() { # DIR
	local c
	c=$(ship_counts "$1") && [ -n "$c" ] || { log "ship: no metrics"; return 0; }
	wait_for 60 ship_past "$1" $(( ${c%% *} + ${c##* } )) || log "ship: not all acked within 60 s"
}
# The CPU (ns) of the agent's shipping threads: the shipper is named fl-ship, and the NATS
# client's threads, started from it, carry its name. What shipping costs, measured
# directly: the difference between two configurations' agent CPU is the same figure
# buried in the noise of everything else the agent does.
ship_cpu_ns() { # PID
	local t
	for t in /proc/"$1"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = fl-ship ]; then cat "$t/schedstat" 2>/dev/null || true; fi
	done | awk '{s += $1} END {printf "%.0f\n", s}'
}
# The voluntary context switches of the agent's shipping threads: the waits a message
# costs, a count that, unlike CPU time, does not depend on the machine's speed (the
# involuntary ones, preemptions, depend on what else runs).
ship_ctxsw() { # PID
	local t
	for t in /proc/"$1"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = fl-ship ]; then cat "$t/status" 2>/dev/null || true; fi
	done | awk '$1 == "voluntary_ctxt_switches:" {s += $2} END {printf "%d\n", s}'
}
# The lag histogram's p50 and p99 (a bucket's upper bound) and the batches acked: JSON.
ship_lag() { # DIR
	ship_metrics "$1" | awk '
		/^firstlight_ship_lag_seconds_bucket/ {match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; b[n] = le; c[n] = $2}
		/^firstlight_ship_lag_seconds_count/ {total = $2}
		/^firstlight_ship_acked_batches_total/ {acked = $2}
		/^firstlight_ship_messages_total/ {msgs = $2}
		/^firstlight_ship_message_bytes_total/ {bytes = $2}
		END {p50 = "null"; p99 = "null"; if (bytes == "") bytes = "null"
			for (i = 1; i <= n; i++) {if (p50 == "null" && c[i] >= 0.5 * total && total) p50 = b[i]; if (p99 == "null" && c[i] >= 0.99 * total && total) p99 = b[i]}
			if (p50 == "+Inf") p50 = "1e9"; if (p99 == "+Inf") p99 = "1e9"
			printf "{\"ship_lag_p50_s\": %s, \"ship_lag_p99_s\": %s, \"ship_acked\": %d, \"ship_messages\": %d, \"ship_message_bytes\": %s}\n", p50, p99, acked, msgs, bytes}'
}

# ---- what each sensor recorded ----------------------------------------------------------
# count CONFIG DIR PATH: "execs exits drops" for the processes that ran PATH (their comm
# is its name): "-" where the sensor does not record that. Latencies (ms) to DIR/lat.
count() {
	local cfg=$1 d=$2 path=$3 name
	name=$(basename "$3")
	: >"$d/lat"
	case $cfg in
	base) echo "- - -" ;;
	bare-ring) awk '$1 == "records" {n = 1; printf "- - %d\n", $4} END {if (!n) print "- - -"}' "$d/bare.out" ;; # failed reservations
	firstlight | firstlight+ship)
		"$FL" read "$d/out" >"$d/recs.json"
		# Each batch's write time: the first size the watcher saw that holds the batch.
		for seg in "$d"/out/*.seg.gz; do
			"$H/fl-segtool" batches "$seg" | awk -v f="$(basename "$seg")" '{print "B", f, $3, $4, $5}'
		done >"$d/batches"
		jq -r '(select((.exec or .fork or .exit) and (.snapshot | not) and
			((.exec.process.flags.preExisting // false) | not)) | "R \(.seq) \(.bootNano)")' \
			"$d/recs.json" >"$d/kernrecs"
		awk 'BEGIN {j = 1}
			$1 == "W" {n[$5]++; sz[$5, n[$5]] = $6; t[$5, n[$5]] = $2; next}
			$1 == "B" {while (k[$2] < n[$2] && sz[$2, k[$2] + 1] < $5) k[$2]++
				if (k[$2] < n[$2]) {nb++; bf[nb] = $3; bl[nb] = $4; bt[nb] = t[$2, k[$2] + 1]}; next}
			$1 == "R" {while (j <= nb && bl[j] < $2) j++
				if (j <= nb && bf[j] <= $2) printf "%.3f\n", (bt[j] - $3) / 1e6}' \
			<(sed 's/^/W /' "$d/wlog") "$d/batches" "$d/kernrecs" >"$d/lat"
		jq -r --arg p "$path" 'if .exec.process.args[0]? == $p then "E \(.exec.process.execId)"
			elif .exit then "X \(.exit.execId)"
			elif .gap.kind? == "RING_BUFFER_DROP" then "D \(.gap.count)" else empty end' "$d/recs.json" |
			awk '$1 == "E" {e[$2] = 1; ne++} $1 == "X" {x[$2] = 1} $1 == "D" {dr += $2}
				END {for (i in x) if (i in e) nx++; printf "%d %d %d\n", ne, nx, dr}'
		;;
	bpftrace)
		# nsecs is CLOCK_MONOTONIC; a line's time is when the file first held all of it.
		LC_ALL=C awk 'FNR == NR {n++; sz[n] = $5; t[n] = $2; next}
			{off += length($0) + 1}
			$2 == "exec" || $2 == "exit" {while (k < n && sz[k + 1] < off) k++; if (k < n) printf "%.3f\n", (t[k + 1] - $1) / 1e6}' \
			"$d/wlog" "$d/out/bt.txt" >"$d/lat"
		awk -v p="$path" -v c="${name:0:15}" '$2 == "exec" && $6 == p {e++} $2 == "exit" && $5 == c {x++}
			/Lost [0-9]+ events/ {for (i = 1; i < NF; i++) if ($i == "Lost") dr += $(i + 1)}
			END {printf "%d %d %d\n", e, x, dr}' "$d/out/bt.txt" "$d/err"
		;;
	auditd)
		# msg=audit(SECONDS.MS:SERIAL) is the syscall's entry time (CLOCK_REALTIME, coarse:
		# a jiffy); an event is written when its last record is.
		LC_ALL=C awk '{off += length($0) + 1}
			match($0, /msg=audit\([0-9]+\.[0-9]+:[0-9]+\)/) {
				split(substr($0, RSTART + 10, RLENGTH - 11), a, ":"); ts[a[2]] = a[1]; end[a[2]] = off}
			END {for (s in end) printf "%d %s\n", end[s], ts[s]}' "$d/out/audit.log" | sort -n |
			awk 'FNR == NR {n++; sz[n] = $5; t[n] = $3; next}
				{while (k < n && sz[k + 1] < $1) k++; if (k < n) printf "%.3f\n", t[k + 1] / 1e6 - $2 * 1000}' \
				"$d/wlog" - >"$d/lat"
		grep -c "type=SYSCALL.* syscall=59 success=yes .* comm=\"${name:0:15}\"" "$d/out/audit.log" |
			awk -v l0="$(cat "$d/lost0")" -v l1="$(cat "$d/lost1")" '{printf "%d - %d\n", $1, l1 - l0}'
		;;
	forkstat)
		# No sub-second time in its output: no latency figure.
		awk -v c="${name:0:15}" '$2 == "exec" && index($0, c) {e++} $2 == "exit" && index($0, c) {x++}
			END {printf "%d %d -\n", e, x}' "$d/out/fk.txt"
		;;
	esac
}

# ---- one measured run -------------------------------------------------------------------
# measure WORKLOAD CONFIG ROUND GENERATED EXTRA_JSON COMMAND...: the sensor up, COMMAND
# timed, the sensor's CPU and BPF time over the window, what it recorded; one JSON line
# to RESULTS. MARK (the file every generated process runs) must be set; EXEC_PATH is the
# path they run it by, when not MARK (inside a container).
# shellcheck disable=SC2086 # SCPU is a list of pids
measure() {
	local load=$1 cfg=$2 round=$3 gen=$4 extra=$5 d s0=0 x0=0 c0 c1 t0 t1 w0 w1 p0 p1 rss=null counts lat50 lat99 latn
	shift 5
	d=$W/run/$load-$cfg-$round
	rm -rf "$d" && mkdir -p "$d"
	start_sensor "$cfg" "$d"
	p0=$(prog_stats "$SPID")
	w0=$(now_ns)
	c0=$(cpu_ns $SCPU)
	[ "$cfg" = firstlight+ship ] && s0=$(ship_cpu_ns "$SPID") && x0=$(ship_ctxsw "$SPID")
	t0=$(now_ns)
	"$@" >"$d/gen.out" 2>"$d/gen.err" || { cat "$d/gen.err" >&2; log "$load generator failed under $cfg"; exit 1; }
	t1=$(now_ns)
	case $cfg in base | bare-ring) ;; *) end_probe "$cfg" "$d" ;; esac
	[ "$cfg" = firstlight+ship ] && ship_drained "$d"
	c1=$(cpu_ns $SCPU)
	w1=$(now_ns)
	p1=$(prog_stats "$SPID")
	[ "$cfg" = firstlight+ship ] && extra=$(jq -c --argjson s "$(ship_lag "$d")" --argjson t "$(($(ship_cpu_ns "$SPID") - s0))" \
		--argjson x "$(($(ship_ctxsw "$SPID") - x0))" '. + $s + {ship_cpu_ns: $t, ship_ctxsw: $x}' <<<"$extra")
	[ -n "$SPID" ] && rss=$(awk '$1 == "VmHWM:" {print $2}' /proc/"$SPID"/status)
	stop_sensor "$cfg" "$d"
	counts=$(count "$cfg" "$d" "${EXEC_PATH:-$MARK}")
	lat50=$(pct 0.5 <"$d/lat") lat99=$(pct 0.99 <"$d/lat") latn=$(wc -l <"$d/lat")
	jq -nc --arg w "$load" --arg c "$cfg" --argjson r "$round" --argjson gen "$gen" \
		--argjson wall "$(((t1 - t0) / 1000))" --argjson win "$(((w1 - w0) / 1000))" \
		--argjson cpu "$((c1 - c0))" --argjson p0 "$p0" --argjson p1 "$p1" --argjson rss "$rss" \
		--arg counts "$counts" --argjson l50 "$lat50" --argjson l99 "$lat99" --argjson ln "$latn" \
		--argjson extra "$extra" '
		($counts | split(" ") | map(if . == "-" then null else tonumber end)) as $k |
		# bpftrace names both programs "sched_process_e" (15 characters): they are loaded
		# in the script'"'"'s order, exec then exit
		[$p1 | sort_by(.id) | to_entries[] | .key as $i | .value | . as $a | ($p0[] | select(.id == $a.id)) as $b |
			{name: (if $c == "bpftrace" then (["bt_exec", "bt_exit"][$i] // $a.name) else $a.name end),
			 ns: ($a.ns - $b.ns), cnt: ($a.cnt - $b.cnt)}] as $progs |
		{workload: $w, config: $c, round: $r, generated: $gen, wall_s: ($wall / 1e6),
		 window_s: ($win / 1e6), execs: $k[0], exits: $k[1], drops: $k[2],
		 cpu_ns: (if $c == "base" then null else $cpu end),
		 bpf_ns: (if $c == "base" or $c == "auditd" or $c == "forkstat" then null else ([$progs[].ns] | add // 0) end),
		 progs: [$progs[] | select(.cnt > 0) | . + {ns_per_run: (.ns / .cnt)}],
		 rss_kib: $rss, lat_p50_ms: $l50, lat_p99_ms: $l99, lat_n: $ln} + $extra' >>"$RESULTS"
	[ -n "${KEEP:-}${FL_BENCH_KEEP:-}" ] || rm -rf "$d"
	tail -1 "$RESULTS" | jq -r '"\(.workload) \(.config) round \(.round): \(.wall_s | . * 1000 | round / 1000) s, exec/exit \(.execs // "-")/\(.exits // "-") of \(.generated), cpu \((.cpu_ns // 0) / 1e6 | round) ms, bpf \((.bpf_ns // 0) / 1e6 | round) ms, p99 \(.lat_p99_ms // "-") ms"' >&2
}

# A fresh copy of /bin/true (or of PROGRAM) named by its role: every sensor can tell this
# run's processes from the machine's by their comm (at most 15 characters) and path.
letter() { case $1 in base) echo 0 ;; bare-ring) echo r ;; firstlight) echo f ;; firstlight+ship) echo j ;; bpftrace) echo t ;; auditd) echo a ;; forkstat) echo k ;; esac; }
mark() { # LETTERS [PROGRAM]: sets MARK
	MARK=$W/bin/flb$TAG$1
	cp "${2:-/bin/true}" "$MARK"
}

# ---- the machine, and what is needed for the peers --------------------------------------
mkdir -p "$W/bin" "$W/run"
cp /bin/true "$W/bin/flbprobe$TAG"
cp /bin/true "$W/bin/flbend$TAG"
if has "$CONFIGS" bpftrace && ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing && MOUNTED_TRACEFS=1
fi
if has "$CONFIGS" auditd && [ -n "$( (auditctl -s 2>/dev/null || true) | awk '$1 == "pid" && $2 != 0')" ]; then
	log "an audit daemon is already running: auditd left out (the bench will not disturb it)"
	CONFIGS=$(echo "$CONFIGS" | sed 's/,\{0,1\}auditd//')
	SENSORS=${SENSORS/auditd/}
fi
if has "$CONFIGS" firstlight+ship; then
	mkdir -p "$W/nats"
	nats-server -a 127.0.0.1 -p -1 -m -1 -js -sd "$W/nats/js" -l "$W/nats/log" &
	NATSPID=$!
	wait_for 20 grep -qs "Server is ready" "$W/nats/log" || { cat "$W/nats/log" >&2; log "nats-server did not start"; exit 1; }
	SHIP_URL=nats://127.0.0.1:$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$W/nats/log" | tail -n1)
fi
"$H/fl-benchtool" stats >"$W/stats.out" &
STATSPID=$!
wait_for 10 grep -qs ready "$W/stats.out" || { log "BPF_ENABLE_STATS failed"; exit 1; }
machine=$(jq -nc --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
	--arg kernel "$(uname -r)" --argjson cores "$(nproc)" --arg os "$(. /etc/os-release && echo "$PRETTY_NAME")" \
	--argjson mem "$(awk '$1 == "MemTotal:" {print int($2 / 1024)}' /proc/meminfo)" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--arg fl "$("$FL" version 2>&1 | head -1) $(if [ -n "${FL_BENCH_AGENT:-}" ]; then echo "($FL_BENCH_AGENT)"
		else git rev-parse --short HEAD 2>/dev/null || true; fi)" \
	--arg bt "$(bpftrace --version 2>&1 | head -1)" --arg au "$(auditctl -v 2>&1 | head -1)" \
	--arg fk "$(forkstat -h 2>&1 | grep -m1 version)" --arg runc "$(runc --version | head -1)" \
	'{cpu: $cpu, cores: $cores, kernel: $kernel, os: $os, memory_mib: $mem, loadavg_at_start: $load,
	  versions: {firstlight: $fl, bpftrace: $bt, auditd: $au, forkstat: $fk, runc: $runc}}')
log "machine: $(echo "$machine" | jq -r '"\(.cpu), \(.cores) cores, kernel \(.kernel), load \(.loadavg_at_start)"')"

# ---- 1. exec storm ----------------------------------------------------------------------
if has "$LOADS" storm; then
	for round in $(seq "$ROUNDS"); do
		for cfg in ${CONFIGS//,/ }; do
			mark "s$(letter "$cfg")$round"
			note_cmd "exec storm: fl-storm -n $N -p $P -- COPY_OF_/bin/true MARKER"
			measure storm "$cfg" "$round" "$N" '{}' "$H/fl-storm" -n "$N" -p "$P" -- "$MARK" "$(basename "$MARK")"
		done
	done
fi

# ---- 1b. the fairness bookkeeping: two agents at once, one with the ring shares on (the
# defaults), one with them off, both attached to the same tracepoints while the storm
# runs: every event runs both agents' programs on the same CPU in the same state, so the
# difference of their ns per run is the bookkeeping's cost, free of the machine's drift
# between runs. The agent started first runs first at each tracepoint and the second
# finds the task's lines warm, which biases the difference by the order: each round runs
# the storm twice, once in each order, and its figure is the mean of the two
# (bench-summary.jq), which cancels it.
if has "$LOADS" fair && has "$CONFIGS" firstlight; then
	for round in $(seq "$ROUNDS"); do
	for order in "on off" "off on"; do
		d=$W/run/fair-$round
		mkdir -p "$d"
		for fair in $order; do
			opts=$AGENT_OPTS
			[ "$fair" = off ] && opts="$opts --ring-share off --ring-headroom 0"
			# shellcheck disable=SC2086 # opts is a list of options
			"$FL" run --data-dir "$d/$fair" --key "$W/node.key" --ready-file "$d/$fair.ready" \
				--metrics-addr off $opts 2>"$d/$fair.err" &
			FAIRPIDS="$FAIRPIDS $!"
			printf -v "fair_$fair" %s "$!"
			wait_for 60 test -e "$d/$fair.ready" || { cat "$d/$fair.err" >&2; exit 1; }
		done
		note_cmd "fairness: fl-storm -n $N -p $P -- COPY_OF_/bin/true MARKER under two agents at once: firstlight run $AGENT_OPTS, and firstlight run $AGENT_OPTS --ring-share off --ring-headroom 0"
		mark "q$round"
		# shellcheck disable=SC2154 # fair_on, fair_off: set by printf -v above
		on0=$(prog_stats "$fair_on") off0=$(prog_stats "$fair_off")
		"$H/fl-storm" -n "$N" -p "$P" -- "$MARK" "$(basename "$MARK")" >/dev/null
		on1=$(prog_stats "$fair_on") off1=$(prog_stats "$fair_off")
		stop_pid "$fair_on"
		stop_pid "$fair_off"
		FAIRPIDS=''
		jq -nc --argjson r "$round" --argjson n "$N" --arg first "${order%% *}" \
			--argjson a0 "$on0" --argjson a1 "$on1" --argjson b0 "$off0" --argjson b1 "$off1" '
			def delta($p0; $p1): [$p1[] | . as $a | ($p0[] | select(.id == $a.id)) as $b |
				{name: $a.name, ns: ($a.ns - $b.ns), cnt: ($a.cnt - $b.cnt)} | select(.cnt > 0) |
				. + {ns_per_run: (.ns / .cnt)}];
			{workload: "fair", config: "firstlight", round: $r, generated: $n, first: $first,
			 progs_on: delta($a0; $a1), progs_off: delta($b0; $b1)}' >>"$RESULTS"
		tail -1 "$RESULTS" | jq -r '. as $x | "fair round \(.round) (\(.first) first): ns per run, shares on/off: \([.progs_on[] | . as $o | "\(.name) \(.ns_per_run | round)/\([$x.progs_off[] | select(.name == $o.name) | .ns_per_run | round][0] // "-")"] | join(", "))"' >&2
		rm -rf "$d"
	done
	done
fi

# ---- 2. fixed-rate sweep: CPU of each sensor, as % of one core --------------------------
if has "$LOADS" sweep; then
	for rate in $RATES; do
		for round in $(seq "$SWEEP_ROUNDS"); do
			for cfg in $SENSORS; do
				mark "r$(letter "$cfg")$round"
				n=$((rate * SWEEP_SECS))
				note_cmd "sweep: fl-storm -r RATE -n \$((RATE * $SWEEP_SECS)) -p $P -- COPY_OF_/bin/true MARKER for RATE in $RATES"
				measure sweep "$cfg" "$round" "$n" "{\"rate\": $rate}" \
					"$H/fl-storm" -r "$rate" -n "$n" -p "$P" -- "$MARK" "$(basename "$MARK")"
			done
		done
	done
fi

# ---- 2b. what one publish costs its publisher (with firstlight+ship's server) ----------
# fl-pubcost publishes through the agent's own JetStream code, by message size, back to
# back and after a pause of the shipper's default linger (500 ms), without the storm's
# load on the machine. The summary reads off what a message of the size a rate makes
# costs, and so what the shipping threads would cost per process at that rate.
if has "$LOADS" publish && has "$CONFIGS" firstlight+ship; then
	note_cmd "publish: fl-pubcost nats://127.0.0.1:PORT flbench.pubcost.SIZE-PAUSE SIZE $PUBS PAUSE for SIZE in $PUB_SIZES bytes, PAUSE in 0 500 ms"
	for pause in 0 500; do
		for size in $PUB_SIZES; do
			"$H/fl-pubcost" "$SHIP_URL" "flbench.pubcost.$size-$pause" "$size" "$PUBS" "$pause" >"$W/pubcost.out" ||
				{ log "fl-pubcost failed"; exit 1; }
			jq -c '{workload: "publish", config: "firstlight+ship"} + .' "$W/pubcost.out" >>"$RESULTS"
			tail -1 "$RESULTS" | jq -r '"publish \(.size) bytes after \(.pause_ms) ms: \(.cpu_us_median) us (median of \(.n))"' >&2
		done
	done
fi

# ---- 3. container churn: runc create, start, wait, delete, back to back -----------------
container_setup() { # the bundle's process: MARK's copy in the rootfs
	local b=$W/bundle
	jq --arg a "/$(basename "$MARK")" '.process.args = [$a]' "$b/config.tmpl" >"$b/config.json"
	cp "$MARK" "$b/rootfs/"
}
container_churn() { # K PREFIX: runs K containers of the bundle, one after another
	local i id b=$W/bundle
	for i in $(seq "$1"); do
		id=flb-$TAG-$2-$i
		runc run --bundle "$b" "$id" </dev/null >/dev/null
		runc delete -f "$id" >/dev/null 2>&1 || true
	done
}
container_bundle() {
	local b=$W/bundle
	mkdir -p "$b"
	scripts/rootfs.sh "$b/rootfs"
	(cd "$b" && rm -f config.json && runc spec)
	# As the e2e tests' bundles: read-only root, no terminal, the host's network.
	jq '.process.terminal = false | .root.readonly = true |
		.linux.namespaces |= map(select(.type != "network"))' "$b/config.json" >"$b/config.tmpl"
	# The container's process: a static no-op named by its marker (busybox would need
	# its applet's name as argv[0]), so every sensor can tell it apart.
	printf 'int main(void) { return 0; }\n' | ${CC:-gcc} -static -O2 -x c -o "$W/noop" -
}
if has "$LOADS" containers; then
	container_bundle
	for round in $(seq "$ROUNDS"); do
		for cfg in ${CONFIGS//,/ }; do
			[ "$cfg" = bare-ring ] && continue # a reference for the storm's events only
			mark "c$(letter "$cfg")$round" "$W/noop"
			container_setup
			note_cmd "container churn: $CONTAINERS x (runc run --bundle B ID; runc delete -f ID), busybox rootfs (scripts/rootfs.sh), process a static no-op"
			EXEC_PATH=/$(basename "$MARK") measure containers "$cfg" "$round" "$CONTAINERS" '{}' \
				container_churn "$CONTAINERS" "$cfg$round"
		done
	done
fi

# ---- 4. connect storm: loopback TCP connect/close pairs (firstlight only: the peers'
# configurations record no network events) ------------------------------------------------
connect_storm() {
	"$H/fl-net" storm 127.0.0.1 "$PAIRS" "$P"
}
if has "$LOADS" connect && [ "$PAIRS" -gt 0 ]; then
	for round in $(seq "$ROUNDS"); do
		for cfg in ${CONFIGS//,/ }; do
			case $cfg in base | firstlight) ;; *) continue ;; esac
			MARK=none
			note_cmd "connect storm: fl-net storm 127.0.0.1 $PAIRS $P"
			KEEP=1 measure connect "$cfg" "$round" "$PAIRS" '{}' connect_storm
			d=$W/run/connect-$cfg-$round
			if [ "$cfg" = firstlight ]; then
				port=$(sed -n 's/^port=//p' "$d/gen.out")
				flows=$(jq -r --argjson port "$port" 'select(.flow and (.flow.dstPort == $port or .flow.srcPort == $port)) | .flow.kind' "$d/recs.json" |
					sort | uniq -c | awk '{c[$2] = $1} END {printf "{\"connect\": %d, \"accept\": %d, \"close\": %d}", c["CONNECT"], c["ACCEPT"], c["CLOSE"]}')
				jq -c --argjson f "$flows" '.flows = $f' <(tail -1 "$RESULTS") >"$W/last" && sed -i '$d' "$RESULTS" && cat "$W/last" >>"$RESULTS"
			fi
			rm -rf "$d"
		done
	done
	if has "$CONFIGS" firstlight; then
		# UDP: one burst under the agent, for the kernel's cost per datagram.
		d=$W/run/udp
		mkdir -p "$d"
		start_sensor firstlight "$d"
		"$H/fl-net" udp-server 127.0.0.1 "$d/udp.ready" "$DATAGRAMS" >"$d/rx.out" &
		GENPID=$!
		wait_for 10 test -s "$d/udp.ready"
		p0=$(prog_stats "$SPID")
		t0=$(now_ns)
		"$H/fl-net" udp-client 127.0.0.1 "$(cat "$d/udp.ready")" "$DATAGRAMS" 64 sendto >/dev/null
		t1=$(now_ns)
		p1=$(prog_stats "$SPID")
		wait "$GENPID" || true
		GENPID=
		stop_sensor firstlight "$d"
		jq -nc --argjson p0 "$p0" --argjson p1 "$p1" --argjson n "$DATAGRAMS" --argjson t "$(((t1 - t0) / 1000))" '
			{workload: "udp", config: "firstlight", round: 1, generated: $n, wall_s: ($t / 1e6),
			 bpf_ns: ([$p1[] | . as $a | ($p0[] | select(.id == $a.id)) as $b |
				select($a.name | test("^fl_(udp_sendmsg4|sock_send)$")) | $a.ns - $b.ns] | add // 0)}' >>"$RESULTS"
		note_cmd "udp burst: fl-net udp-client 127.0.0.1 PORT $DATAGRAMS 64 sendto"
		rm -rf "$d"
	fi
fi

# ---- 4b. file-open storm: openat of a non-watched and of a watched file (/etc/shadow, a
# default), OPENS each, one process; base and firstlight alternate. The figure that
# matters is the BPF run time per openat of the file-access program (bpf_stats): what
# every open on the node pays. The wall ratio is the same run's, against base. --------------
if has "$LOADS" files; then
	echo plain >"$W/plain-file"
	for round in $(seq "$ROUNDS"); do
		for kind in plain watched; do
			file=$W/plain-file
			[ $kind = watched ] && file=/etc/shadow
			for cfg in ${CONFIGS//,/ }; do
				case $cfg in base | firstlight) ;; *) continue ;; esac
				d=$W/run/files-$cfg-$kind-$round
				mkdir -p "$d"
				start_sensor "$cfg" "$d"
				p0=$(prog_stats "$SPID")
				t0=$(now_ns)
				"$H/fl-open" "$file" "$OPENS" openat r "flbopen$TAG" >/dev/null
				t1=$(now_ns)
				p1=$(prog_stats "$SPID")
				stop_sensor "$cfg" "$d"
				recs=0
				if [ "$cfg" = firstlight ]; then
					recs=$("$FL" read "$d/out" 2>/dev/null | jq -s --arg f "$file" \
						'[.[] | .fileAccess // empty | select(.path == $f) | .count | tonumber] | add // 0')
				fi
				jq -nc --arg w "files-$kind" --arg c "$cfg" --argjson r "$round" --argjson n "$OPENS" \
					--argjson p0 "$p0" --argjson p1 "$p1" --argjson t "$(((t1 - t0) / 1000))" --argjson recs "$recs" '
					([$p1[] | . as $a | ($p0[] | select(.id == $a.id)) as $b | select($a.name == "fl_file_exit_openat") |
					  {ns: ($a.ns - $b.ns), cnt: ($a.cnt - $b.cnt)}][0] // {ns: 0, cnt: 0}) as $s |
					{workload: $w, config: $c, round: $r, generated: $n, wall_s: ($t / 1e6), bpf_ns: $s.ns,
					 bpf_runs: $s.cnt, opens_recorded: $recs,
					 ns_per_open: (if $s.cnt > 0 then ($s.ns / $s.cnt | round) else null end)}' >>"$RESULTS"
				rm -rf "$d"
			done
		done
	done
	note_cmd "file-open storm: fl-open FILE $OPENS openat r MARKER (FILE: a file of the run dir, not watched; /etc/shadow, watched by default)"
fi

# ---- 5. agent RSS with L live processes tracked -----------------------------------------
if has "$LOADS" hold && has "$CONFIGS" firstlight; then
	d=$W/run/hold
	mkdir -p "$d"
	mark h /bin/sleep
	start_sensor firstlight "$d"
	rss0=$(awk '$1 == "VmRSS:" {print $2}' /proc/"$SPID"/status)
	"$H/fl-benchtool" hold "$LIVE" "$d/held" "$MARK" 100000 &
	HOLDPID=$!
	note_cmd "live processes: fl-benchtool hold $LIVE READY COPY_OF_/bin/sleep 100000"
	wait_for 600 test -e "$d/held" || { log "could not start $LIVE processes"; exit 1; }
	end_probe firstlight "$d"
	rss1=$(awk '$1 == "VmRSS:" {print $2}' /proc/"$SPID"/status)
	hwm=$(awk '$1 == "VmHWM:" {print $2}' /proc/"$SPID"/status)
	stop_pid "$HOLDPID"
	HOLDPID=
	stop_sensor firstlight "$d"
	held=$(count firstlight "$d" "$MARK" | cut -d' ' -f1)
	jq -nc --argjson l "$LIVE" --argjson r0 "$rss0" --argjson r1 "$rss1" --argjson h "$hwm" --argjson e "$held" \
		'{workload: "hold", config: "firstlight", round: 1, generated: $l, execs: $e, rss_before_kib: $r0,
		  rss_kib_now: $r1, rss_kib: $h}' >>"$RESULTS"
	log "hold: $held of $LIVE live processes recorded, agent RSS $((rss0 / 1024)) MiB before, $((rss1 / 1024)) MiB with them, peak $((hwm / 1024)) MiB"
	rm -rf "$d"
fi

# ---- 6. long churn: agent RSS sampled while processes and containers come and go -------
if has "$LOADS" churn && has "$CONFIGS" firstlight; then
	d=$W/run/churn
	mkdir -p "$d"
	[ -d "$W/bundle" ] || container_bundle
	mark v "$W/noop"
	container_setup
	mark u
	start_sensor firstlight "$d"
	interval=$(((CHURN_SECS + 59) / 60))
	"$H/fl-storm" -r 100 -p 1 -n $((100 * CHURN_SECS)) -- "$MARK" "$(basename "$MARK")" >/dev/null &
	GENPID=$!
	note_cmd "long churn: fl-storm -r 100 -p 1 -n \$((100 * $CHURN_SECS)) -- COPY_OF_/bin/true MARKER, and runc containers back to back, for $CHURN_SECS s; agent VmRSS every $interval s"
	start=$(date +%s) next=0 conts=0
	: >"$d/rss"
	while [ $(($(date +%s) - start)) -lt "$CHURN_SECS" ]; do
		if [ $(($(date +%s) - start)) -ge "$next" ]; then
			echo "$(($(date +%s) - start)) $(awk '$1 == "VmRSS:" {print $2}' /proc/"$SPID"/status)" >>"$d/rss"
			next=$((next + interval))
		fi
		container_churn 1 "u$conts"
		conts=$((conts + 1))
	done
	wait "$GENPID" || true
	GENPID=
	echo "$(($(date +%s) - start)) $(awk '$1 == "VmRSS:" {print $2}' /proc/"$SPID"/status)" >>"$d/rss"
	stop_sensor firstlight "$d"
	jq -nc --argjson secs "$CHURN_SECS" --argjson c "$conts" --argjson n $((100 * CHURN_SECS)) \
		--argjson s "$(awk '{printf "%s[%d,%d]", (NR > 1 ? "," : "["), $1, $2} END {print "]"}' "$d/rss")" '
		($s | length) as $k | ($s[: (($k + 1) / 2 | floor)] | map(.[1]) | max) as $first |
		($s[(($k + 1) / 2 | floor):] | map(.[1]) | max) as $second |
		{workload: "churn", config: "firstlight", round: 1, seconds: $secs, processes: $n, containers: $c,
		 samples: $s, rss_first_half_max_kib: $first, rss_second_half_max_kib: $second,
		 growth_kib: ($second - $first)}' >>"$RESULTS"
	tail -1 "$RESULTS" | jq -r '"churn: \(.seconds) s, \(.containers) containers, RSS max \(.rss_first_half_max_kib) KiB in the first half, \(.rss_second_half_max_kib) KiB in the second"' >&2
	rm -rf "$d"
fi

# ---- 7. the collector's ingest rate over everything the runs shipped ---------------------
if has "$CONFIGS" firstlight+ship; then
	d=$W/run/collect
	mkdir -p "$d"
	t0=$(now_ns)
	"$FL" collect --from "$SHIP_URL" --store "$d/store" --key "$W/collector.key" --metrics-addr 127.0.0.1:0 2>"$d/err" &
	COLPID=$!
	note_cmd "collect: $FL collect --from nats://127.0.0.1:PORT --store DIR --key KEY (everything the runs shipped)"
	# Done when the collector's consumer has every message of the stream acked (the
	# server's monitoring says so): a message may carry many batches, so the collector's
	# batch count says nothing about the messages left.
	jsz() { curl -sf "http://127.0.0.1:$(sed -n 's/.*Starting http monitor on 127.0.0.1:\([0-9]*\).*/\1/p' "$W/nats/log" | tail -n1)/jsz?streams=true&consumers=true"; }
	collected() {
		jsz | jq -e '[.account_details[]?.stream_detail[]? | select(.name == "FIRSTLIGHT") | . as $s |
			.consumer_detail[]? | select(.num_pending == 0 and .num_ack_pending == 0 and .ack_floor.stream_seq >= $s.state.last_seq)] | length > 0' >/dev/null
	}
	wait_for 600 collected || log "collect: not every message collected within 600 s"
	t1=$(now_ns)
	msgs=$(jsz | jq '[.account_details[]?.stream_detail[]? | select(.name == "FIRSTLIGHT") | .state.messages] | add // 0')
	c1=$(cpu_ns "$COLPID")
	stop_pid "$COLPID"
	COLPID=
	records=$("$FL" read "$d/store/flb-$TAG" 2>/dev/null | wc -l)
	jq -nc --argjson m "$msgs" --argjson r "$records" --argjson t "$(((t1 - t0) / 1000))" --argjson c "$c1" \
		'{workload: "collect", config: "firstlight+ship", round: 1, generated: $r, messages: $m, wall_s: ($t / 1e6), cpu_ns: $c,
		  records_per_s: (if $t > 0 then $r / ($t / 1e6) else null end)}' >>"$RESULTS"
	tail -1 "$RESULTS" | jq -r '"collect: \(.generated) records in \(.messages) messages in \(.wall_s | . * 1000 | round / 1000) s: \(.records_per_s | round) records/s, collector CPU \(.cpu_ns / 1e6 | round) ms"' >&2
	rm -rf "$d"
fi

# ---- summary: medians, targets, the table -----------------------------------------------
machine=$(echo "$machine" | jq -c --arg l "$(cut -d' ' -f1-3 /proc/loadavg)" '.loadavg_at_end = $l')
jq -s --argjson machine "$machine" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--arg cmd "scripts/bench.sh $ARGS" --rawfile cmds "$COMMANDS" --argjson smoke "$SMOKE" \
	--argjson params "$(jq -nc --argjson n "$N" --argjson p "$P" --argjson r "$ROUNDS" --argjson rr "$SWEEP_ROUNDS" \
		--argjson t "$SWEEP_SECS" --arg x "$RATES" --argjson k "$CONTAINERS" --argjson l "$LIVE" \
		--argjson d "$CHURN_SECS" --argjson pairs "$PAIRS" --arg a "$AGENT_OPTS" \
		'{processes: $n, workers: $p, rounds: $r, sweep_rounds: $rr, sweep_seconds: $t, rates: ($x | split(" ") | map(tonumber)),
		  containers: $k, live_processes: $l, churn_seconds: $d, connect_pairs: $pairs, agent_options: $a}')" \
	-f scripts/bench-summary.jq "$RESULTS" >"$JSON"
jq -r -f scripts/bench-table.jq "$JSON"
log "results: $JSON"
