#!/usr/bin/env bash
# quick
# serial
# The DaemonSet's capabilities (deploy/kubernetes/firstlight.yaml), each one needed: the
# agent under the whole set becomes ready; with any one of them out of its bounding set it
# exits 1 with one line naming that capability and what it is for. (make test-caps runs
# the quick suite under exactly the set.)
. "$(dirname "$0")/../lib/e2e.sh"

here=$(cd "$(dirname "$0")/../.." && pwd)
caps=$("$here/scripts/podman-args.py" "$here/deploy/kubernetes/firstlight.yaml" --caps | tr 'A-Z,' 'a-z ')
check_cmd "the manifest names capabilities" test -n "$caps"
# The real binary, whatever FIRSTLIGHT wraps (make test-caps).
bin=${FL_CAPS_REAL:-$FIRSTLIGHT}

# under NAME CAPS...: the agent with only CAPS; ready or not, its exit status and stderr.
under() {
	local name=$1 set=-all c
	shift
	for c in "$@"; do set+=",+$c"; done
	rm -f "$T/$name.ready"
	setpriv --bounding-set "$set" --inh-caps -all "$bin" run --data-dir "$T/$name" --key "$T/$name.key" \
		--ready-file "$T/$name.ready" --metrics-addr off >/dev/null 2>"$T/$name.err" &
	local pid=$!
	wait_for 30 sh -c "test -e '$T/$name.ready' || ! kill -0 $pid 2>/dev/null"
	[ -e "$T/$name.ready" ] && kill -TERM "$pid"
	wait "$pid"
}

# shellcheck disable=SC2086
under all $caps
check "every capability: a clean run" 0 $?
check_cmd "every capability: ready" grep -q "ready: [0-9]* programs attached" "$T/all.err"
for c in $caps; do
	rest=$(echo " $caps " | sed "s/ $c / /")
	# shellcheck disable=SC2086
	under "no-$c" $rest
	check "without $c: exit status" 1 $?
	check "without $c: one line" 1 "$(grep -c . "$T/no-$c.err")"
	check_cmd "without $c: it names it" grep -q "missing capability CAP_$(echo "$c" | tr a-z A-Z) (" "$T/no-$c.err"
done
finish
