#!/bin/sh
# The kernel test's workloads (scripts/kernel-test.sh): runs the agent, then workloads
# with known values, stops the agent and prints its records between markers. Runs as
# the PID 1 of a qemu guest (guest-init.sh) or, for the host's kernel, in a cgroup of
# its own on the host. POSIX sh: busybox in the guest, dash on the host.
# Every line meant for the checks starts with "FL-KT":
#   FL-KT-VAR name=value          values the checks compare the records with
#   FL-KT-LOG line                the agent's own log lines (not libbpf's)
#   FL-KT-AGENT-ERR-BEGIN/END     the agent's whole stderr, when it failed (verifier log)
#   FL-KT-RECORDS-BEGIN/END       `firstlight read` output, one JSON record a line
#   FL-KT-DONE                    the script ran to its end
#   FL-KT-FAIL reason             it could not
# Environment: FL_KT_AGENT (the agent), FL_KT_BIN (fl-threads, fl-net), FL_KT_WORK (a
# private scratch dir), FL_KT_DATA (the agent's data dir), FL_KT_CGROUP (a cgroup2
# directory to make the test's cgroup in), FL_KT_AGENT_ARGS (more agent options).
# Workloads are started by absolute path: busybox sh runs a command named like an applet
# ("sh", "sleep") in-process or forked without exec, and the test wants real execs.

: "${FL_KT_AGENT:?}" "${FL_KT_BIN:?}" "${FL_KT_WORK:?}" "${FL_KT_DATA:?}" "${FL_KT_CGROUP:?}"
w=$FL_KT_WORK
cd / || exit 1

var() { echo "FL-KT-VAR $1=$2"; }
fail() {
	echo "FL-KT-FAIL $*"
	exit 1
}
# wait_for SECONDS COMMAND...: polls the condition until the deadline.
wait_for() {
	n=$(($1 * 20))
	shift
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
}
agent_alive() { kill -0 "$agent" 2>/dev/null; }
ready_or_dead() { [ -e "$w/ready" ] || ! agent_alive; }
dump_agent_err() {
	echo "FL-KT-AGENT-ERR-BEGIN"
	cat "$w/agent.err"
	echo "FL-KT-AGENT-ERR-END"
}

var kernel "$(uname -r)"
var machine "$(uname -m)"
var boot_s "$(cut -d' ' -f1 /proc/uptime)"
# This shell: the parent of the workloads, alive before the agent (seeded pre-existing).
var shell_pid $$
var sh_binary "$(readlink -f /bin/sh)"
# Effective capabilities (hex) of this shell, which its children inherit: the records'
# capEffective reads kernel_cap_t, u32[2] before 6.3.
var cap_eff "$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)"

# -v: the loader logs which variants it chose; --heartbeat-interval 1 so that a
# heartbeat (with the malformed-event count) is recorded within the run.
# shellcheck disable=SC2086 # FL_KT_AGENT_ARGS holds several options
"$FL_KT_AGENT" run -v --data-dir "$FL_KT_DATA" --ready-file "$w/ready" --heartbeat-interval 1 \
	$FL_KT_AGENT_ARGS 2>"$w/agent.err" &
agent=$!
if ! wait_for 120 ready_or_dead || [ ! -e "$w/ready" ]; then
	agent_alive && kill -KILL "$agent"
	dump_agent_err
	fail "agent did not become ready"
fi
var ready_s "$(cut -d' ' -f1 /proc/uptime)"

# Exit code and argv.
/bin/sh -c 'exit 7' &
pid=$!
wait $pid
var exit7_rc $?
var exit7_pid $pid

# Killed by SIGKILL: the shell kills itself, so no timing is involved.
/bin/sh -c 'kill -KILL $$' &
pid=$!
wait $pid
var kill_rc $?
var kill_pid $pid

# Multi-threaded: threads that finish and are joined, then threads that spin while main
# calls exit(), so that exit_group() ends them all at once. Without group_dead, threads
# still inside do_exit() race to report the exit: several rounds give the race a chance.
# run_threads NAME ROUNDS ARGS...: prints NAME_pids and NAME_rcs, space-separated.
run_threads() {
	name=$1 rounds=$2 pids='' rcs=''
	shift 2
	while [ "$rounds" -gt 0 ]; do
		"$FL_KT_BIN/fl-threads" "$@" &
		pid=$!
		wait $pid
		rcs="$rcs $?" pids="$pids $pid" rounds=$((rounds - 1))
	done
	var "${name}_pids" "${pids# }"
	var "${name}_rcs" "${rcs# }"
}
run_threads threads "${FL_KT_THREAD_ROUNDS:-8}" 4 5 fl-kt-join
run_threads busy "${FL_KT_BUSY_ROUNDS:-4}" 4 3 busy fl-kt-busy

# A cgroup2 directory made while the agent runs, a process moved into it that then execs.
cg=$FL_KT_CGROUP/fl-kt
mkdir "$cg" || fail "mkdir $cg"
var cgroup_id "$(stat -c %i "$cg")"
var cgroup_path "${cg#"$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)"}"
var cgroup_parent_id "$(stat -c %i "$FL_KT_CGROUP")"
/bin/sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2/fl-threads" 2 4 fl-kt-cgroup' sh "$cg" "$FL_KT_BIN" &
pid=$!
wait $pid
var cgroup_rc $?
var cgroup_pid $pid
# The cgroup empties once its exited threads are released, which may trail the wait.
rm_cg() { rmdir "$cg" 2>/dev/null; }
wait_for 30 rm_cg || fail "rmdir $cg: $(rmdir "$cg" 2>&1)"

# TCP over loopback: a server on a port the kernel picks, one client connection that
# sends 7 bytes and gets 5 back. Under qemu on a loaded machine the exchange itself was
# seen to fail once (the client reset after its data, the server waiting for it): a failed
# exchange is said (FL-KT-WARN) and run again, the checks look at the last one by its pids.
tcp_exchange() {
	rm -f "$w/tcp.ready"
	"$FL_KT_BIN/fl-net" tcp-server 127.0.0.1 "$w/tcp.ready" 1 5 >"$w/tcp-server.out" &
	server=$!
	wait_for 60 test -s "$w/tcp.ready" || fail "the TCP server did not start"
	port=$(sed -n 's/^port=//p' "$w/tcp-server.out")
	"$FL_KT_BIN/fl-net" tcp-client 127.0.0.1 "$port" 7 >"$w/tcp-client.out" &
	client=$!
	wait $client
	client_rc=$?
	[ "$client_rc" -eq 0 ] || kill -TERM $server 2>/dev/null
	wait $server
	server_rc=$?
	[ "$client_rc" -eq 0 ] && [ "$server_rc" -eq 0 ]
}
tries=3
until tcp_exchange; do
	echo "FL-KT-WARN the TCP exchange failed (client $client_rc, server $server_rc): again"
	tries=$((tries - 1))
	[ "$tries" -gt 0 ] || break
done
var tcp_client_rc "$client_rc"
var tcp_server_rc "$server_rc"
var tcp_server_pid $server
var tcp_client_pid $client
var tcp_port "$port"
var tcp_sport "$(sed -n 's/^sport=//p' "$w/tcp-client.out")"
var tcp_received "$(sed -n 's/^received=//p' "$w/tcp-client.out")"

# Stop once a heartbeat was written after the workloads (the agent writes one at
# readiness, then one a second): its malformed-event count covers them.
heartbeats() { "$FL_KT_AGENT" read "$FL_KT_DATA" 2>/dev/null | grep -c '"heartbeat"'; }
n0=$(heartbeats)
more_heartbeats() { [ "$(heartbeats)" -gt "$n0" ]; }
wait_for 60 more_heartbeats || echo "FL-KT-WARN no heartbeat after the workloads"
if ! agent_alive; then
	dump_agent_err
	fail "agent died during the workloads"
fi
kill -TERM "$agent"
wait "$agent"
var agent_rc $?
var done_s "$(cut -d' ' -f1 /proc/uptime)"

grep '^firstlight: ' "$w/agent.err" | sed 's/^/FL-KT-LOG /'
"$FL_KT_AGENT" read "$FL_KT_DATA" >"$w/records.jsonl" 2>"$w/read.err"
var read_rc $?
sed 's/^/FL-KT-LOG read: /' "$w/read.err"
echo "FL-KT-RECORDS-BEGIN"
cat "$w/records.jsonl"
echo "FL-KT-RECORDS-END"
echo "FL-KT-DONE"
