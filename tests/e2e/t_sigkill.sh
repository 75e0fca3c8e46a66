#!/usr/bin/env bash
# quick
# A process killed by SIGKILL: the exit record says signal 9, not an exit code.
. "$(dirname "$0")/../lib/e2e.sh"

agent_start
sleep 30 &
pid=$!
# Kill it once it runs sleep (not the shell's fork before exec).
wait_for 10 grep -q '^sleep' "/proc/$pid/cmdline" || fail "sleep did not start"
kill -KILL $pid
wait $pid
check "shell sees the signal" $((128 + 9)) $?
agent_stop

check "exit signal" 9 "$(q --argjson p "$pid" '.[] | select(.exit.pid == $p) | .exit.signal')"
# A killed process has no exit code: absent, never a 0 that select(.exitCode == 0) would find.
check "no exit code" false "$(q --argjson p "$pid" '.[] | select(.exit.pid == $p) | .exit | has("exitCode")')"
check "no core dump" false "$(q --argjson p "$pid" '.[] | select(.exit.pid == $p) | .exit.coreDumped // false')"
check "exit names the sleep image" "$(q --argjson p "$pid" '.[] | select(.exec.process.pid == $p) | .exec.process.execId')" \
	"$(q --argjson p "$pid" '.[] | select(.exit.pid == $p) | .exit.execId')"
finish
