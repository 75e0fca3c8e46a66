#!/usr/bin/env bash
# quick
# A process with 8 threads is one process: one exec, one exit, no fork records for its
# threads, exit code of the process.
. "$(dirname "$0")/../lib/e2e.sh"

agent_start
"$HELPERS/fl-threads" 8 5 fl-threads &
pid=$!
wait $pid
check "workload exit status" 5 $?
agent_stop

check "one exec" 1 "$(q --argjson p "$pid" '[.[] | select(.exec.process.pid == $p)] | length')"
check "one exit" 1 "$(q --argjson p "$pid" '[.[] | select(.exit.pid == $p)] | length')"
check "exit code" 5 "$(q --argjson p "$pid" '.[] | select(.exit.pid == $p) | .exit.exitCode')"
check "no fork records from its threads" 0 "$(q --argjson p "$pid" '[.[] | select(.fork.process.ppid == $p)] | length')"
check "no records of other pids with its argv" 0 "$(q --argjson p "$pid" '[.[] | select((.exec.process.args[2]? == "fl-threads") and .exec.process.pid != $p)] | length')"

# exit() while 8 threads spin: exit_group ends all of them at once; still one exit.
agent_start
"$HELPERS/fl-threads" 8 3 busy &
pid=$!
wait $pid
check "busy: workload exit status" 3 $?
agent_stop
check "busy: one exec" 1 "$(q --argjson p "$pid" '[.[] | select(.exec.process.pid == $p)] | length')"
check "busy: one exit" 1 "$(q --argjson p "$pid" '[.[] | select(.exit.pid == $p)] | length')"
check "busy: exit code" 3 "$(q --argjson p "$pid" '.[] | select(.exit.pid == $p) | .exit.exitCode')"
finish
