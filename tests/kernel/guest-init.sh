#!/bin/sh
# PID 1 of the kernel-test guest (scripts/kernel-test.sh packs it as /init with busybox,
# the static agent and the static helpers). Runs the agent, runs workloads with known
# values, stops the agent and prints its records to the console between markers; the
# host asserts on them. Every line meant for the host starts with "FL-KT":
#   FL-KT-VAR name=value          values the host checks records against
#   FL-KT-LOG line                the agent's own log lines (not libbpf's)
#   FL-KT-AGENT-ERR-BEGIN/END     the agent's whole stderr, when it failed (verifier log)
#   FL-KT-RECORDS-BEGIN/END       `firstlight read` output, one JSON record a line
#   FL-KT-DONE                    the script ran to its end
# Workloads are started by absolute path: busybox sh runs a command named like an applet
# ("sh", "sleep") in-process or forked without exec, and the test wants real execs.

/bin/busybox mount -t devtmpfs dev /dev
# An external initramfs has no /dev/console for the kernel to open: connect it now.
exec </dev/console >/dev/console 2>&1
echo # the kernel's last console line may lack its newline: start ours on a fresh line
/bin/busybox --install -s /bin
export PATH=/bin

mkdir -p /proc /sys /tmp /data
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmp /tmp
mount -t tmpfs data /data

var() { echo "FL-KT-VAR $1=$2"; }
die() {
	echo "FL-KT-FAIL $*"
	poweroff -f
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
ready_or_dead() { [ -e /ready ] || ! agent_alive; }
dump_agent_err() {
	echo "FL-KT-AGENT-ERR-BEGIN"
	cat /tmp/agent.err
	echo "FL-KT-AGENT-ERR-END"
}

var kernel "$(uname -r)"
var boot_s "$(cut -d' ' -f1 /proc/uptime)"
# Effective capabilities (hex) of this shell, which its children inherit: the records'
# capEffective reads kernel_cap_t, u32[2] before 6.3.
var cap_eff "$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)"

# -v: the loader logs which sched_process_exit variant it chose; --heartbeat-interval 1
# so that a heartbeat (with the malformed-event count) is recorded within the run.
/bin/firstlight run -v --data-dir /data --ready-file /ready --heartbeat-interval 1 \
	2>/tmp/agent.err &
agent=$!
wait_for 120 ready_or_dead
if [ ! -e /ready ]; then
	agent_alive && kill -KILL "$agent"
	dump_agent_err
	die "agent did not become ready"
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
		/bin/fl-threads "$@" &
		pid=$!
		wait $pid
		rcs="$rcs $?" pids="$pids $pid" rounds=$((rounds - 1))
	done
	var "${name}_pids" "${pids# }"
	var "${name}_rcs" "${rcs# }"
}
run_threads threads 8 4 5 fl-kt-join
run_threads busy 4 4 3 busy fl-kt-busy

# A cgroup2 directory made while the agent runs, a process moved into it that then execs.
cg=/sys/fs/cgroup/fl-kt
mkdir $cg || die "mkdir $cg"
var cgroup_id "$(stat -c %i $cg)"
/bin/sh -c 'echo $$ > "$1/cgroup.procs" && exec /bin/fl-threads 2 4 fl-kt-cgroup' sh $cg &
pid=$!
wait $pid
var cgroup_rc $?
var cgroup_pid $pid
rmdir $cg || die "rmdir $cg"

# Stop once a heartbeat was written after the workloads (the agent writes one at
# readiness, then one a second): its malformed-event count covers them.
heartbeats() { /bin/firstlight read /data 2>/dev/null | grep -c '"heartbeat"'; }
n0=$(heartbeats)
more_heartbeats() { [ "$(heartbeats)" -gt "$n0" ]; }
wait_for 30 more_heartbeats || echo "FL-KT-WARN no heartbeat after the workloads"
if ! agent_alive; then
	dump_agent_err
	die "agent died during the workloads"
fi
kill -TERM "$agent"
wait "$agent"
var agent_rc $?
var done_s "$(cut -d' ' -f1 /proc/uptime)"

grep '^firstlight: ' /tmp/agent.err | sed 's/^/FL-KT-LOG /'
/bin/firstlight read /data >/tmp/records.jsonl 2>/tmp/read.err
var read_rc $?
sed 's/^/FL-KT-LOG read: /' /tmp/read.err
echo "FL-KT-RECORDS-BEGIN"
cat /tmp/records.jsonl
echo "FL-KT-RECORDS-END"
echo "FL-KT-DONE"
poweroff -f
