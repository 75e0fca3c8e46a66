# Shared helpers for the end-to-end tests: sourced by each tests/e2e/t_*.sh, which runs
# as its own process. Each test starts the real agent, runs real workloads, stops the
# agent and reads the records back with `firstlight read`. The machine is not quiet:
# tests select their own processes by pid, argv marker or cgroup.
# Environment: FIRSTLIGHT (agent binary), HELPERS (dir of tests/helpers binaries),
# FL_E2E_KEEP_FAILED (a folder: each failed test's files are kept there).

set -u
: "${FIRSTLIGHT:?FIRSTLIGHT must point at the firstlight binary}"
: "${HELPERS:?HELPERS must point at the helper binaries}"

T=$(mktemp -d /tmp/fl-e2e.XXXXXX)
AGENT_PID=
FAILS=0
CHECKS=0
CLEANUP=()

cleanup() {
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	for c in "${CLEANUP[@]}"; do eval "$c" 2>/dev/null; done
	# FL_E2E_KEEP_FAILED=DIR: a failed test's files (data, collector copy, logs) kept
	# there for a look; by default everything goes.
	if [ "$FAILS" -gt 0 ] && [ -n "${FL_E2E_KEEP_FAILED:-}" ]; then
		mkdir -p "$FL_E2E_KEEP_FAILED" && cp -a "$T" "$FL_E2E_KEEP_FAILED/$(basename "$0" .sh).$$"
	fi
	rm -rf "$T"
}
trap cleanup EXIT

on_cleanup() { CLEANUP+=("$1"); }

fail() {
	echo "  FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# check NAME EXPECTED ACTUAL: exact comparison, printing both on mismatch.
check() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$2', got '$3'"
		return 1
	fi
	return 0
}

# check_cmd NAME COMMAND...: the command must succeed.
check_cmd() {
	local name=$1
	shift
	CHECKS=$((CHECKS + 1))
	"$@" || { fail "$name: '$*' failed"; return 1; }
}

# wait_for DEADLINE_S COMMAND...: polls until the command succeeds (never a bare sleep).
# A deadline is only how long to wait before calling a failure: it is stretched by
# FL_E2E_DEADLINE_SCALE (default 4) so that a machine several times slower, or one busy
# with other work, passes too; a condition that holds returns at once either way.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * ${FL_E2E_DEADLINE_SCALE:-4} * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# own_cgroup NAME: a cgroup2 directory of the test's own, removed at cleanup; sets CG (its
# path) and CG_ID (its id, the records' cgroupId), so that its events and losses are
# charged to it alone on a shared machine.
own_cgroup() {
	local root=/sys/fs/cgroup/unified
	[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
	CG="$root/$1"
	mkdir "$CG" || { echo "cannot make the cgroup $CG" >&2; exit 1; }
	on_cleanup "rmdir '$CG' 2>/dev/null"
	CG_ID=$(stat -c %i "$CG")
}

# in_cg PROGRAM [ARGS...]: runs PROGRAM in the test's cgroup (moved there before exec).
in_cg() {
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG" "$@"
}

# in_cg_bg PROGRAM [ARGS...]: the same in the background; BG is its pid, which becomes
# PROGRAM's (a shell function sent to the background would be a subshell of its own).
in_cg_bg() {
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG" "$@" &
	BG=$!
}

# agent_start [ARGS...]: starts the agent on $T/data (node key $T/node.key, made on
# first use) and waits for its ready file.
agent_start() {
	rm -f "$T/ready"
	"$FIRSTLIGHT" run --data-dir "$T/data" --key "$T/node.key" --ready-file "$T/ready" "$@" \
		>"$T/agent.out" 2>"$T/agent.err" &
	AGENT_PID=$!
	if ! wait_for 30 test -e "$T/ready"; then
		echo "agent did not become ready; stderr:" >&2
		cat "$T/agent.err" >&2
		exit 1
	fi
}

# agent_stop: SIGTERM, wait, require a clean exit 0; then decode the records.
agent_stop() {
	local rc
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	check "agent exit status" 0 "$rc" || cat "$T/agent.err" >&2
	"$FIRSTLIGHT" read "$T/data" >"$T/records.jsonl" 2>"$T/read.err"
	check "firstlight read exit status" 0 "$?" || cat "$T/read.err" >&2
}

# q JQ_FILTER: runs a jq filter over all records as one array (slurped).
q() {
	jq -rs "$@" "$T/records.jsonl"
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "  $FAILS of $CHECKS checks failed" >&2
		echo "  agent stderr:" >&2
		sed 's/^/    /' "$T/agent.err" >&2 2>/dev/null
		exit 1
	fi
	echo "  $CHECKS checks passed"
	exit 0
}

# thread_cpu_ticks PID NAME: the CPU time (user + system, in clock ticks) that PID's
# threads named NAME have used so far, together (threads a library starts from a named
# one carry its name: the NATS client's from fl-ship); 0 if none has that name.
thread_cpu_ticks() {
	local f rest comm sum=0
	for f in /proc/"$1"/task/*/stat; do
		read -r rest <"$f" 2>/dev/null || continue
		comm=${rest#*(}
		comm=${comm%%)*}
		[ "$comm" = "$2" ] || continue
		rest=${rest##*) }
		# After the comm: state is field 3, utime 14 and stime 15 of the whole line.
		set -- $rest
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}
