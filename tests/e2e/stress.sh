#!/usr/bin/env bash
# `make test-stress`: the end-to-end suite on a busy machine. While it runs, a background
# exec storm (fl-storm in a loop, one worker, in a cgroup of its own) and a CPU hog (one
# busy loop per core, at normal priority) compete with the agent and the tests. Every test
# must pass as it does on a quiet machine: the suite asserts what the sensor must get
# right, never an interleaving or a speed. Arguments and environment as tests/e2e/run.sh
# (FL_E2E_ONLY, FL_E2E_QUICK); FL_STRESS_HOGS sets the number of busy loops (default: one
# per core).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${FIRSTLIGHT:?FIRSTLIGHT must point at the firstlight binary}"
: "${HELPERS:?HELPERS must point at the helper binaries}"
if [ "$(id -u)" -ne 0 ]; then
	echo "test-stress needs root (the e2e tests load BPF programs and create cgroups)" >&2
	exit 1
fi

root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
cg="$root/fl-stress-$$"
pids=()
stop_load() {
	local p
	for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	# The storm's last children may still be leaving the cgroup.
	for _ in $(seq 100); do rmdir "$cg" 2>/dev/null && break; sleep 0.05; done
}
trap stop_load EXIT
mkdir "$cg" || { echo "test-stress: cannot create $cg" >&2; exit 1; }

# Each load in its own process group (setsid), so stop_load ends it with its children.
setsid sh -c 'echo $$ > "$1/cgroup.procs" && while :; do "$2" -n 1000 -p 1 -- /bin/true fl-stress-storm >/dev/null 2>&1; done' \
	sh "$cg" "$HELPERS/fl-storm" &
pids+=($!)
for _ in $(seq "${FL_STRESS_HOGS:-$(nproc)}"); do
	setsid sh -c 'echo $$ > "$1/cgroup.procs" && exec sh -c "while :; do :; done"' sh "$cg" &
	pids+=($!)
done
echo "# test-stress: exec storm and ${FL_STRESS_HOGS:-$(nproc)} CPU hog(s) running in $cg"

"$here/run.sh"
rc=$?
stop_load
exit $rc
