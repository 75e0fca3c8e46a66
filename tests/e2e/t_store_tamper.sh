#!/usr/bin/env bash
# quick
# The segment store is a signed hash chain. A store the agent wrote verifies; each way
# someone with write access (but without the node key) could alter it is detected, and
# verify names the file, the batch, its byte offset and why: a flipped byte in a record,
# a deleted batch, two batches swapped, a truncated file, a whole segment replaced by a
# re-hashed forgery signed with another key, a middle segment removed.
. "$(dirname "$0")/../lib/e2e.sh"

marker="fl-tamper-$$"
TAMPER="$HELPERS/fl-tamper"
agent_start --segment-bytes 16K
i=0
# Workloads until the store has five segments of a few batches each.
more_segments() {
	for j in $(seq 20); do /bin/true "$marker-$i-$j"; done
	i=$((i + 1))
	[ "$(ls "$T"/data/*.seg.gz | wc -l)" -ge 5 ]
}
wait_for 60 more_segments || fail "the store did not rotate to five segments"
agent_stop
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
check "key export exit status" 0 $?
check_cmd "key export is a PEM public key" grep -q "BEGIN PUBLIC KEY" "$T/node.pub"
node_hex=$(grep -o "public key [0-9a-f]*" "$T/agent.err" | awk '{print $3}')
check_cmd "the agent named the node key it generated" test ${#node_hex} -eq 64

mapfile -t segs < <(ls "$T"/data/*.seg.gz)
mid=${segs[2]}     # the segment the tests damage
name=$(basename "$mid")
check_cmd "the middle segment has at least 3 batches" test "$("$TAMPER" list "$mid" | wc -l)" -ge 3

# A rotated segment read alone restates the live workloads and processes (snapshot).
"$FIRSTLIGHT" read "$mid" >"$T/mid.jsonl"
check "segment read alone: exit status" 0 $?
mine() { jq -rs --argjson p $$ "$@" "$T/mid.jsonl"; }
check "snapshot: this shell, restated" 1 "$(mine '[.[] | select(.snapshot and .exec.process.pid == $p)] | length')"
check "snapshot: its workload restated in the same segment" 1 "$(mine '
	([.[] | select(.snapshot and .exec.process.pid == $p)][0].exec.process.workloadKey) as $k |
	[.[] | select(.snapshot and .workload.key == $k)] | length')"
check "snapshot: the node's capabilities restated first, as the run's first segment has them" \
	"$(jq -cs '[.[] | select(.nodeCapabilities)][0].nodeCapabilities' <("$FIRSTLIGHT" read "${segs[0]}"))" \
	"$(mine -c '.[0] | select(.snapshot) | .nodeCapabilities')"
check "snapshot: first, before the segment's new records" true "$(mine '
	(map(.snapshot // false) | index(false)) as $first_new |
	$first_new > 0 and ([.[$first_new:][] | select(.snapshot)] | length == 0)')"

# verify_copy NAME EXPECTED_STATUS [ARGS...]: verify a copy ($T/c) of the store.
verify_copy() {
	local what=$1 want=$2 rc
	shift 2
	"$FIRSTLIGHT" verify "$@" "$T/c" >"$T/verify.out" 2>&1
	rc=$?
	check "$what: verify exit status" "$want" "$rc" || cat "$T/verify.out" >&2
}
fresh_copy() { rm -rf "$T/c" && cp -a "$T/data" "$T/c"; }
# expect_failure NAME FILE WHERE WHY: the FAIL line names FILE, then WHERE, and says WHY.
expect_failure() {
	local what=$1 file=$2 where=$3 why=$4
	check_cmd "$what: FAIL names $(basename "$file") and $where" \
		grep -qF "FAIL: $file: $where" "$T/verify.out" || cat "$T/verify.out" >&2
	check_cmd "$what: says why ($why)" grep -qF -- "$why" "$T/verify.out"
}

# An untouched store verifies with the exported key; without it, the key the store names
# is pinned by nobody: UNPINNED, a status of its own (3), unless the caller accepts it.
fresh_copy
verify_copy "untouched" 0 --pubkey "$T/node.pub"
# Five segments or more: the agent may rotate once more between the wait and its stop.
check_cmd "untouched: OK with counts" grep -q "^OK: ${#segs[@]} segment files\?, [0-9]* batch\(es\)\?, [0-9]* records\?, 1 agent run:" "$T/verify.out"
check_cmd "untouched: the key is trusted" grep -q "trusted: --pubkey" "$T/verify.out"
verify_copy "untouched, key from the headers" 3
check_cmd "untouched, key from the headers: UNPINNED, naming the key" \
	grep -q "^UNPINNED: .* signed by key $node_hex" "$T/verify.out"
check_cmd "untouched, key from the headers: says to pin it" grep -qF "pinned by nobody: give --pubkey FILE" "$T/verify.out"
verify_copy "untouched, --trust-embedded-key" 0 --trust-embedded-key
check_cmd "untouched, --trust-embedded-key: OK" grep -q "^OK: .*accepted by --trust-embedded-key" "$T/verify.out"

# A flipped byte inside a record (one bit of an argv marker in the middle segment).
fresh_copy
target=$(zcat "$mid" | grep -ao "$marker-[0-9]*-[0-9]*" | tail -1)
where=$("$TAMPER" flip "$mid" "$T/c/$name" "$target")
verify_copy "flipped byte" 1 --pubkey "$T/node.pub"
expect_failure "flipped byte" "$T/c/$name" "$where (" "do not match its hash: modified"

# A batch deleted from the middle of the segment: the next one no longer follows.
fresh_copy
where=$("$TAMPER" delete "$mid" "$T/c/$name" 1)
verify_copy "deleted batch" 1 --pubkey "$T/node.pub"
expect_failure "deleted batch" "$T/c/$name" "$where (" "does not follow the batch before it"

# Two batches swapped.
fresh_copy
where=$("$TAMPER" swap "$mid" "$T/c/$name" 1 2)
verify_copy "swapped batches" 1 --pubkey "$T/node.pub"
expect_failure "swapped batches" "$T/c/$name" "$where (" "does not follow the batch before it"

# The file truncated in the middle of a batch: the batches after it are gone, that one
# cut. Where batches end depends on how records fell into them (the machine's speed):
# the cut goes halfway through the compressed bytes of the largest batch after the first.
# Not a small one: a cut among a batch's first compressed bytes (its block's code tables)
# yields no byte of it, and the reader rightly sees a clean end after the batch before.
fresh_copy
mapfile -t ends < <("$HELPERS/fl-segtool" batches "$mid" | awk '{print $5}')
k=1
for ((i = 2; i < ${#ends[@]}; i++)); do
	[ $((ends[i] - ends[i - 1])) -gt $((ends[k] - ends[k - 1])) ] && k=$i
done
check_cmd "truncated file: a batch with compressed bytes to cut" test $((ends[k] - ends[k - 1])) -ge 200
truncate -s $(((ends[k - 1] + ends[k]) / 2)) "$T/c/$name"
verify_copy "truncated file" 1 --pubkey "$T/node.pub"
expect_failure "truncated file" "$T/c/$name" "batch " "truncated batch at byte"

# The same segment replaced by a forgery: a record changed, the chain re-hashed from the
# segment's real link to its predecessor, every batch signed with the forger's own key.
fresh_copy
forged=$(echo "$target" | tr 'a-z' 'A-Z')
where=$("$TAMPER" forge "$mid" "$T/c/$name" "$target" "$forged")
verify_copy "forged segment" 1 --pubkey "$T/node.pub"
expect_failure "forged segment" "$T/c/$name" "$where (" "which is not a trusted key"
verify_copy "forged segment, key from the headers" 1
expect_failure "forged segment, key from the headers" "$T/c/$name" "$where (" "the signing key changes here"
# ... and the forger's story, were it believed, reads the changed record.
check_cmd "the forgery holds the changed record" sh -c "'$FIRSTLIGHT' read '$T/c/$name' | grep -q '$forged'"

# The first segment forged: only a key from outside the store can tell.
fresh_copy
first=$(basename "${segs[0]}")
"$TAMPER" forge "${segs[0]}" "$T/c/$first" >/dev/null
verify_copy "forged first segment" 1 --pubkey "$T/node.pub"
expect_failure "forged first segment" "$T/c/$first" "batch 0 at byte 0 (seq " "which is not a trusted key"
# A whole store re-signed end to end with the forger's key (here the forged first segment
# alone): intact by its own word, but no status 0 without a key from outside the store.
for s in "$T"/c/*.seg.gz; do [ "$(basename "$s")" = "$first" ] || rm "$s"; done
verify_copy "a store re-signed end to end, without --pubkey" 3
forger=$(grep -o "signed by key [0-9a-f]*" "$T/verify.out" | awk '{print $4}')
check_cmd "re-signed store: UNPINNED" grep -q "^UNPINNED: 1 segment file," "$T/verify.out"
check_cmd "re-signed store: the forger's key, not the node's" test -n "$forger" -a "$forger" != "$node_hex"
verify_copy "a store re-signed end to end, with --pubkey" 1 --pubkey "$T/node.pub"

# A middle segment removed: the one after it names what it continues from.
fresh_copy
rm "$T/c/$name"
next=$(basename "${segs[3]}")
verify_copy "removed segment" 1 --pubkey "$T/node.pub"
expect_failure "removed segment" "$T/c/$next" "batch 0 at byte 0 (" "continues from $name"
check_cmd "removed segment: says it is missing" grep -qF "which is not among the inputs" "$T/verify.out"

# Segments given out of order.
fresh_copy
"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/c/$(basename "${segs[1]}")" "$T/c/$(basename "${segs[0]}")" >"$T/verify.out" 2>&1
check "out of order: verify exit status" 1 $?
check_cmd "out of order: FAIL" grep -q "^FAIL: " "$T/verify.out"

# The reader still reads every untouched segment whole.
check "read of the untouched store" 0 "$("$FIRSTLIGHT" read "$T/data" >/dev/null 2>&1; echo $?)"
finish
