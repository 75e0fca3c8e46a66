#!/usr/bin/env bash
# quick
# The hash chain runs across agent runs: a clean stop and restart, then a run killed
# with SIGKILL and a restart. The store verifies, the kill shows as a note naming the
# killed run's last segment (not as an error), the restart gives back the disk space the
# killed run had reserved past that segment's end, every run counts from 1 without holes,
# and files, directory and key have the modes an evidence store needs.
. "$(dirname "$0")/../lib/e2e.sh"

marker="fl-restart-$$"
# recorded MARKER: the marker's exec is in the store (the live segment reads too).
recorded() { "$FIRSTLIGHT" read "$T/data" 2>/dev/null | grep -q "\"$1\""; }

agent_start
/bin/true "$marker-1"
agent_stop
agent_start
/bin/true "$marker-2"
wait_for 10 recorded "$marker-2" || fail "run 2: the workload was not written"
# A second agent on the same data dir is refused: two writers would fork the chain.
"$FIRSTLIGHT" run --data-dir "$T/data" --key "$T/node.key" >/dev/null 2>"$T/second.err"
check "second agent on the data dir: exit status" 1 $?
check_cmd "second agent: says the dir is in use, and what to do" \
	grep -q "data dir $T/data: in use by another firstlight agent (locked): stop it first, or give this one another --data-dir" "$T/second.err"
{ kill -KILL "$AGENT_PID" && wait "$AGENT_PID"; } 2>/dev/null
AGENT_PID=
killed_seg=$(basename "$(ls "$T"/data/*.seg.gz | tail -1)")
# The killed run could not give back the blocks its segment reserved ahead of its writes
# (a megabyte, on a file system with room); the next run does, the content untouched.
allocated() { echo $(($(stat -c '%b * %B' "$T/data/$killed_seg"))); }
killed_size=$(stat -c %s "$T/data/$killed_seg")
killed_sum=$(sha256sum <"$T/data/$killed_seg")
killed_mtime=$(stat -c %Y.%y "$T/data/$killed_seg")
check_cmd "the killed run's segment holds blocks reserved past its end" \
	test "$(allocated)" -gt $((killed_size + 512 * 1024))
agent_start
check_cmd "the next run gave them back" test "$(allocated)" -le $(((killed_size + 4095) / 4096 * 4096))
check_cmd "the next run said so" grep -q "store: gave back [0-9]* KiB reserved past the end of $killed_seg by a run that did not stop cleanly" "$T/agent.err"
check "the killed run's segment unchanged" "$killed_sum" "$(sha256sum <"$T/data/$killed_seg")"
check "its time of last write too (retention by age reads it)" "$killed_mtime" "$(stat -c %Y.%y "$T/data/$killed_seg")"
/bin/true "$marker-3"
agent_stop
check_cmd "run 3 found run 2 killed" grep -q "store: the hash chain goes on from $killed_seg (run [0-9a-f]*, seq [0-9]*; KILLED)" "$T/agent.err"

"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data" >"$T/verify.out" 2>&1
check "verify exit status" 0 $? || cat "$T/verify.out" >&2
check_cmd "verify: OK across 3 runs" grep -q "^OK: [0-9]* segment files, [0-9]* batches, [0-9]* records, 3 agent runs" "$T/verify.out"
check_cmd "verify: the kill is a note on the killed run's segment" \
	grep -q "note: $killed_seg ends without a clean close (KILLED)" "$T/verify.out"
check "verify: nothing else to note" 1 "$(grep -c "note:" "$T/verify.out")"

for n in 1 2 3; do
	check "workload of run $n recorded" 1 "$(q --arg m "$marker-$n" '[.[] | select(.exec.process.args[1]? == $m)] | length')"
done
check "three runs" 3 "$(q '[.[].agentRunId] | unique | length')"
check "every run counts from 1 without holes" true "$(q '
	group_by(.agentRunId) | map([.[].seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]) | all')"
check "runs 1 and 3 stopped, run 2 did not" 2 "$(q '[.[] | select(.agent.state == "STOPPED")] | length')"
check "three starts" 3 "$(q '[.[] | select(.agent.state == "STARTED")] | length')"

# Modes: the data dir 0700, every file in it 0600, the key 0600.
check "data dir mode" 700 "$(stat -c %a "$T/data")"
check "files are 0600" "" "$(find "$T/data" -type f ! -perm 600)"
check "key mode" 600 "$(stat -c %a "$T/node.key")"
check_cmd "chain.state names the newest segment" \
	grep -q "^segment $(basename "$(ls "$T"/data/*.seg.gz | tail -1)")$" "$T/data/chain.state"

# A key others can read is refused; a key behind a symlink too.
chmod 644 "$T/node.key"
"$FIRSTLIGHT" run --data-dir "$T/data" --key "$T/node.key" >/dev/null 2>"$T/key.err"
check "key readable by others: exit status" 1 $?
check_cmd "key readable by others: says so, and what to do" \
	grep -q "key $T/node.key: mode 0644 .*must be 0600 .*chmod 600 it)$" "$T/key.err"
chmod 600 "$T/node.key"
ln -s "$T/node.key" "$T/link.key"
"$FIRSTLIGHT" run --data-dir "$T/data" --key "$T/link.key" >/dev/null 2>"$T/key.err"
check "key behind a symlink: exit status" 1 $?
check_cmd "key behind a symlink: refused" grep -q "key $T/link.key: is a symlink (refused)" "$T/key.err"
finish
