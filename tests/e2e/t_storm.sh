#!/usr/bin/env bash
# 2,000 back-to-back short processes: every exec and every exit is recorded, and each
# exit pairs with its exec by exec id. Nothing may be lost at default settings. Every
# fork record's time is its child's start time (fl_fork reads no clock: issue 20).
. "$(dirname "$0")/../lib/e2e.sh"

marker="fl-storm-$$"
agent_start
"$HELPERS/fl-storm" -n 2000 -p 2 -- /bin/true "$marker"
check "storm exit status" 0 $?
agent_stop

check "exec records" 2000 "$(q --arg m "$marker" '[.[] | select(.exec.process.args[1]? == $m)] | length')"
check "distinct exec ids" 2000 "$(q --arg m "$marker" '[.[] | select(.exec.process.args[1]? == $m) | .exec.process.execId] | unique | length')"
check "exits paired by exec id, code 0" 2000 "$(q --arg m "$marker" '
  (reduce (.[] | select(.exit) | .exit) as $x ({}; .[$x.execId] = ($x.exitCode // 0))) as $exits |
  [.[] | select(.exec.process.args[1]? == $m) | .exec.process.execId | select($exits[.] == 0)] | length')"
# A fork's time is its child's start (the kernel reads no clock for it): the same instant.
check "fork records of the storm (at least one per process)" 1 "$(q '[.[] | select(.fork)] | length >= 2000 | if . then 1 else 0 end')"
check "every fork record's time is its process's start" 0 "$(q '[.[] | select(.fork and ((.fork.process.flags.preExisting // false) | not)) |
  select(.bootNano != .fork.process.startBootNano)] | length')"
check "no drops reported" 0 "$(q '[.[] | select(.gap.kind == "RING_BUFFER_DROP")] | length')"
finish
