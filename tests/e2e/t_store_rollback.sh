#!/usr/bin/env bash
# quick
# serial
# A deleted newest run cannot hide. Run 1 and run 2 stop cleanly; then the newest run's
# segments are deleted together with both state files (agent.state, chain.state): what
# remains verifies, as any cut-off store would. The next run finds segments without a
# run state and says so: a STATE_MISSING gap (reason run-state-missing, naming where
# the chain now goes on from and that chain.state is gone too), a SENSOR_DOWN gap of
# unknown start, and `verify` notes it; `gaps --fail-on incomplete` fails on it. Then
# each half alone: the newest run's segments deleted with the state files kept
# (segments-behind-state, naming the run and its seqs), and chain.state alone deleted
# (chain-state-missing). A normal restart writes no STATE_MISSING gap.
. "$(dirname "$0")/../lib/e2e.sh"

sm='[.[] | select(.gap.kind == "STATE_MISSING")]'
run_of() { sed -n "s/^run_id=\(.*\)/\1/p" "$T/data/agent.state"; }
agent_start
agent_stop
run1=$(run_of)
agent_start
/bin/true "fl-rollback-$$"
agent_stop
run2=$(run_of)
check "a normal restart: no STATE_MISSING gap" 0 "$(q "$sm | length")"
check "run 2's record is there" 1 "$(q --arg m "fl-rollback-$$" '[.[] | select(.exec.process.args[1]? == $m)] | length')"
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"

# The attack: run 2 erased, segments and state files alike.
check_cmd "run 2 has segments of its own" test -n "$(ls "$T/data"/seg-*-"${run2:0:8}".seg.gz)"
rm -f "$T/data"/seg-*-"${run2:0:8}".seg.gz "$T/data/agent.state" "$T/data/chain.state"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify0.out" 2>&1
check "what remains verifies on its own (why the next start must say it)" 0 $? || cat "$T/verify0.out" >&2

agent_start
agent_stop
run3=$(run_of)
check "one STATE_MISSING gap" 1 "$(q "$sm | length")"
check "reason" run-state-missing "$(q -r "$sm[0].gap.reason")"
check "written by run 3" "$run3" "$(q -r "$sm[0].agentRunId")"
check_cmd "it says where the chain goes on from: run 1's end" \
	grep -qF "the chain goes on from run ${run1:0:8}'s seq" <<<"$(q -r "$sm[0].gap.detail")"
check_cmd "and that chain.state is gone too" grep -qF "chain.state is missing too" <<<"$(q -r "$sm[0].gap.detail")"
down='[.[] | select(.gap.kind == "SENSOR_DOWN" and .agentRunId == $r)]'
check "a SENSOR_DOWN gap of unknown start" "unknown 0 $run1" \
	"$(q -r --arg r "$run3" "$down[0].gap | \"\(.reason) \(.startTimeUnixNano // 0) \(.previousRunId)\"")"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify.out" 2>&1
check "verify: the chain holds" 0 $? || cat "$T/verify.out" >&2
check_cmd "verify notes what run 3 found" grep -qF "run ${run3:0:8} found at its start" "$T/verify.out"
check_cmd "verify says what only a shipped copy can show" grep -qF "only a copy shipped off the node can show" "$T/verify.out"
"$FIRSTLIGHT" gaps --fail-on incomplete "$T/data" >"$T/gaps.out" 2>&1
check "gaps --fail-on incomplete fails on it" 3 $? || cat "$T/gaps.out" >&2
check_cmd "gaps lists it" grep -q STATE_MISSING "$T/gaps.out"

# The newest run's segments alone (state files kept): the state says more than they hold.
check_cmd "run 3 has segments of its own" test -n "$(ls "$T/data"/seg-*-"${run3:0:8}".seg.gz)"
last3=$(sed -n "s/^last_seq=\(.*\)/\1/p" "$T/data/agent.state")
rm -f "$T/data"/seg-*-"${run3:0:8}".seg.gz
agent_start
agent_stop
run4=$(run_of)
behind='[.[] | select(.gap.kind == "STATE_MISSING" and .agentRunId == $r)]'
check "segments behind the state: reason, run, seqs" "segments-behind-state $run3 1 $last3" \
	"$(q -r --arg r "$run4" "$behind[0].gap | \"\(.reason) \(.runId) \(.firstSeq) \(.lastSeq)\"")"

# chain.state alone.
rm -f "$T/data/chain.state"
agent_start
agent_stop
run5=$(run_of)
check "chain.state deleted: reason" chain-state-missing \
	"$(q -r --arg r "$run5" "$behind | map(.gap.reason) | join(\" \")")"
finish
