#!/usr/bin/env bash
# quick
# serial
# Retention: the oldest segments go once the store passes --retain-bytes, and, in a
# second run, once they pass --retain-age. Every removal is a record in the chain, so
# the store, starting after removed segments, verifies, and says why it starts there.
# A segment removed by hand instead is reported as such.
. "$(dirname "$0")/../lib/e2e.sh"

marker="fl-retain-$$"
i=0
# workloads_until COMMAND...: 20 processes at a time until COMMAND succeeds.
workloads_until() {
	for j in $(seq 20); do /bin/true "$marker-$i-$j"; done
	i=$((i + 1))
	"$@"
}
# removed N: the agent has removed at least N segments (it says so for each). Counted
# from its log, not the store: removal records live in segments, which retention prunes
# in turn on a busy store (with 4K segments, each opening with a snapshot of every live
# process, a few batches make a segment).
removed() {
	[ "$(grep -c 'retention: removed' "$T/agent.err")" -ge "$1" ]
}

agent_start --segment-bytes 4K --retain-bytes 40K
wait_for 60 workloads_until removed 3 || fail "retention by size removed nothing"
agent_stop

check_cmd "removals recorded" test "$(q '[.[] | select(.segmentRemoved)] | length')" -ge 1
check "removals say which limit" true "$(q '[.[] | select(.segmentRemoved) | .segmentRemoved.reason | startswith("--retain-bytes 40960")] | all')"
check "removals name the removed segment's last hash (32 bytes)" true \
	"$(q '[.[] | select(.segmentRemoved) | .segmentRemoved.lastHash | length == 44] | all')"
check "removed files are gone" "" "$(q -r '.[] | select(.segmentRemoved) | .segmentRemoved.file' |
	while read -r f; do [ -e "$T/data/$f" ] && echo "$f"; done)"
first_kept=$(basename "$(ls "$T"/data/*.seg.gz | head -1)")
check "the oldest went first" true "$(q --arg k "$first_kept" '[.[] | select(.segmentRemoved) | .segmentRemoved.file < $k] | all')"
check_cmd "the store is back under the limit but for the open segment" \
	test "$(du -cb "$T"/data/*.seg.gz | tail -1 | cut -f1)" -le $((40960 + 16384))

"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify.out" 2>&1
check "verify exit status" 0 $? || cat "$T/verify.out" >&2
check_cmd "verify: the start is policy" grep -q "note: the chain starts after segments removed by retention" "$T/verify.out"
# `gaps` reads the retention records too: the pruned seqs are policy, not holes.
"$FIRSTLIGHT" gaps --fail-on SEQUENCE_HOLE,MISSING_BEGINNING "$T/data" >"$T/gaps.out" 2>&1
check "gaps: no hole where retention removed records" 0 $? || cat "$T/gaps.out" >&2

# A second run by age: what it finds older than 1 s goes, recorded by this run.
agent_start --segment-bytes 4K --retain-age 1s
before=$(q '[.[] | select(.segmentRemoved)] | length')
aged() { "$FIRSTLIGHT" read "$T/data" 2>/dev/null | grep -q '"reason":"--retain-age 1s'; }
wait_for 60 workloads_until aged || fail "retention by age removed nothing"
agent_stop
check_cmd "removals by age" test "$(q '[.[] | select(.segmentRemoved.reason // "" | startswith("--retain-age 1s"))] | length')" -ge 1
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify.out" 2>&1
check "verify after age retention: exit status" 0 $? || cat "$T/verify.out" >&2

# The oldest segment deleted by hand: no record explains the new start.
rm -rf "$T/c" && cp -a "$T/data" "$T/c"
oldest=$(basename "$(ls "$T"/c/*.seg.gz | head -1)")
second=$(basename "$(ls "$T"/c/*.seg.gz | sed -n 2p)")
rm "$T/c/$oldest"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/c" >"$T/verify.out" 2>&1
check "oldest removed by hand: verify exit status" 1 $?
check_cmd "oldest removed by hand: FAIL at the new start, naming what is missing" \
	grep -qF "FAIL: $T/c/$second: batch 0 at byte 0 (" "$T/verify.out"
check_cmd "oldest removed by hand: no retention record" \
	grep -qF "after $oldest, which is not among the inputs, and no retention record" "$T/verify.out"
finish
