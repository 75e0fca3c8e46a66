#!/usr/bin/env bash
# quick
# A process placed in a fresh cgroup2 directory before it execs: the exec and exit
# records carry that directory's id (its inode).
. "$(dirname "$0")/../lib/e2e.sh"

root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
cg="$root/fl-e2e-$$"
mkdir "$cg" || { echo "cannot create $cg" >&2; exit 1; }
on_cleanup "rmdir '$cg'"

agent_start
sh -c 'echo $$ > "$1/cgroup.procs" && exec /bin/true fl-cgroup' sh "$cg" &
pid=$!
wait $pid
check "workload exit status" 0 $?
agent_stop

inode=$(stat -c %i "$cg")
check "exec in the cgroup" "$inode" "$(q --argjson p "$pid" '.[] | select(.exec.process.pid == $p and .exec.process.args == ["/bin/true","fl-cgroup"]) | .exec.process.cgroupId')"
check "exit in the cgroup" "$inode" "$(q --argjson p "$pid" '.[] | select(.exit.pid == $p) | .exit.cgroupId')"
finish
