# Helpers for the network end-to-end tests: servers from tests/helpers/fl-net run in the
# background and say which port they bound in a ready file; records are picked by the
# pid of the helper process that made the traffic. Source after e2e.sh.

# serve NAME CMD...: starts CMD (whose ready file must be $T/NAME.ready) in the
# background, its output in $T/NAME.out; waits for the ready file; sets NAME_pid and
# NAME_port. The server is killed at cleanup if it is still running.
serve() {
	local name=$1 pid
	shift
	rm -f "$T/$name.ready"
	"$@" >"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	on_cleanup "kill $pid"
	if ! wait_for 10 test -e "$T/$name.ready"; then
		echo "$name did not become ready:" >&2
		cat "$T/$name.err" >&2
		exit 1
	fi
	printf -v "${name}_pid" %s "$pid"
	printf -v "${name}_port" %s "$(cat "$T/$name.ready")"
}

# kv FILE KEY: the value of the last KEY=value line of a helper's output.
kv() {
	sed -n "s/^$2=//p" "$1" | tail -1
}

# flows PID [JQ]: the Flow records of PID as a JSON array, or JQ applied to that array.
flows() {
	q --argjson p "$1" "[.[] | select(.flow.pid == \$p) | .flow] | ${2:-.}"
}

# exec_of PID FIELD: a field of PID's (last) exec record, e.g. execId, cgroupId.
exec_of() {
	q -r --argjson p "$1" --arg f "$2" '[.[] | select(.exec.process.pid == $p) | .exec.process[$f]] | last'
}

# netns_of_pid PID: the inode of a process's network namespace.
netns_of_pid() {
	stat -L -c %i "/proc/$1/ns/net"
}
