#!/usr/bin/env bash
# Runs every end-to-end test (tests/e2e/t_*.sh), each in its own process, and prints a
# TAP summary. Needs root: tests load the real BPF programs and make real workloads.
# FL_E2E_QUICK=1 runs the subset marked "# quick" (used with the sanitizer build).
# FL_E2E_ONLY=name[,name...] runs those tests.
# FL_E2E_JOBS=N runs N tests at a time, each test's output shown whole once it ends; the
# tests marked "# serial" then run alone, after the others (see run_parallel).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e tests need root (they load BPF programs and create cgroups)" >&2
	exit 1
fi
tests=()
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${FL_E2E_ONLY:-}" ] && case ",$FL_E2E_ONLY," in *",$name,"*) ;; *) continue ;; esac
	[ -n "${FL_E2E_QUICK:-}" ] && ! grep -q '^# quick' "$t" && continue
	tests+=("$t")
done
echo "1..${#tests[@]}"
n=0 failed=0

# A shell error in a test (a syntax error in $((...)), a command not found) skips the
# command it hit, often a check: such a test has not shown what it claims. (bash's job
# notices, "line N: PID Killed ...", share the prefix and are not errors.)
shell_error() {
	grep -qE '^[^ ]+\.sh: line [0-9]+: .*(syntax error|command not found|unbound variable|bad substitution|ambiguous redirect|integer expression expected|division by 0|bad array subscript|invalid number)' "$1"
}

# report NAME RC START: the test's TAP line.
report() {
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n - $1 ($(($(date +%s) - $3))s)"
	else
		echo "not ok $n - $1"
		failed=$((failed + 1))
	fi
}

run_one() {
	local t=$1 name start errs rc
	name=$(basename "$t" .sh)
	start=$(date +%s)
	errs=$(mktemp /tmp/fl-e2e-stderr.XXXXXX)
	{ bash "$t" 2>&1 1>&3 3>&- | tee "$errs" >&2; } 3>&1
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ] && shell_error "$errs"; then
		echo "  the test script itself failed (a shell error above): its checks are incomplete" >&2
		rc=1
	fi
	rm -f "$errs"
	report "$name" "$rc" "$start"
}

# Tests at a time. Each records the whole machine, so a test runs beside others only if
# nothing it asserts depends on what they do, and nothing it does changes what theirs
# assert. "# serial" marks the others, which run alone after the rest: tests that flood
# the ring or fill the kernel's tables (their loss would be charged to every agent
# beside them), that size a table or a ring to the machine's processes, that require a
# store with no gap at all (another test's container may end before a concurrent agent
# knows its identity), or that use podman's storage. crun's hybrid-cgroup set-up
# (tests/lib/container.sh) mounts hugetlb as a v1 hierarchy for a test and unmounts it
# after; here it is mounted once for the whole run, so no test unmounts it under another.
run_parallel() {
	local jobs=$1 t dir pid c ctl undo=""
	local -A name_of=() start_of=() dir_of=()
	local serial=() parallel=()
	for t in "${tests[@]}"; do
		if grep -q '^# serial' "$t"; then serial+=("$t"); else parallel+=("$t"); fi
	done
	ctl=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true)
	for c in $ctl; do
		mkdir -p "/sys/fs/cgroup/$c"
		if ! mountpoint -q "/sys/fs/cgroup/$c" && mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"; then
			undo+="umount /sys/fs/cgroup/$c; rmdir /sys/fs/cgroup/$c; "
		fi
	done
	[ -z "$undo" ] || trap "$undo" EXIT
	for t in "${parallel[@]}"; do
		while [ "${#name_of[@]}" -ge "$jobs" ]; do
			finish_one
		done
		dir=$(mktemp -d /tmp/fl-e2e-job.XXXXXX)
		bash "$t" >"$dir/log" 2>&1 &
		pid=$!
		name_of[$pid]=$(basename "$t" .sh)
		start_of[$pid]=$(date +%s)
		dir_of[$pid]=$dir
	done
	while [ "${#name_of[@]}" -gt 0 ]; do
		finish_one
	done
	for t in "${serial[@]}"; do
		run_one "$t"
	done
}

# Waits for one of run_parallel's tests to end, then shows its output and TAP line.
finish_one() {
	local pid rc
	wait -n -p pid
	rc=$?
	if [ -z "${pid:-}" ]; then
		# No child left to wait for, though some are listed: none can end any more.
		for pid in "${!name_of[@]}"; do
			echo "  lost track of the test's process $pid" >&2
			report "${name_of[$pid]}" 1 "${start_of[$pid]}"
		done
		name_of=()
		return 0
	fi
	[ -n "${name_of[$pid]:-}" ] || return 0
	cat "${dir_of[$pid]}/log" >&2
	if [ "$rc" -eq 0 ] && shell_error "${dir_of[$pid]}/log"; then
		echo "  the test script itself failed (a shell error above): its checks are incomplete" >&2
		rc=1
	fi
	rm -rf "${dir_of[$pid]}"
	report "${name_of[$pid]}" "$rc" "${start_of[$pid]}"
	unset "name_of[$pid]" "start_of[$pid]" "dir_of[$pid]"
}

if [ "${FL_E2E_JOBS:-1}" -gt 1 ]; then
	run_parallel "$FL_E2E_JOBS"
else
	for t in "${tests[@]}"; do
		run_one "$t"
	done
fi
echo "# $((n - failed)) passed, $failed failed"
# The runner itself failing must not read as a pass.
if [ "$n" -ne "${#tests[@]}" ]; then
	echo "# $n of the ${#tests[@]} tests ran" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
