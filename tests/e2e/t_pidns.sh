#!/usr/bin/env bash
# quick
# A job in a new pid namespace (unshare): the record carries the host pid and the pid
# inside the namespace (1), and the namespace's inode.
. "$(dirname "$0")/../lib/e2e.sh"

agent_start
# dash's `read` is a builtin, so /proc/self is the shell itself; /proc is the host's
# mount, so it names the host pid.
unshare --pid --fork /bin/sh -c 'read s < /proc/self/stat; echo "${s%% *}" > "$1"; exit 0' \
	fl-pidns "$T/hostpid"
check "unshare exit status" 0 $?
agent_stop

hostpid=$(cat "$T/hostpid")
sel='.[] | select(.exec.process.pid == $p and .exec.process.args[3]? == "fl-pidns") | .exec.process'
check "exec recorded under the host pid" 1 "$(q --argjson p "$hostpid" "[$sel] | length")"
check "pid inside the namespace" 1 "$(q --argjson p "$hostpid" "$sel | .nsPid")"
hostns=$(stat -L -c %i /proc/self/ns/pid)
check "a different pid namespace" true "$(q --argjson p "$hostpid" --argjson ns "$hostns" "$sel | .namespaces.pid != \$ns and .namespaces.pid > 0")"
check "same mount namespace as the host" "$(stat -L -c %i /proc/self/ns/mnt)" "$(q --argjson p "$hostpid" "$sel | .namespaces.mnt")"
check "exit recorded" 0 "$(q --argjson p "$hostpid" '.[] | select(.exit.pid == $p) | .exit.exitCode // 0')"
finish
