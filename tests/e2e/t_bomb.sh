#!/usr/bin/env bash
# serial
# A reader's memory is bounded by the largest batch it may take, never by its input:
# three decompression bombs (tests/helpers/fl-bomb.c; each file under 100 KiB, each
# batch hashed and signed so that verify cannot refuse it for that) are read by every
# reader with its address space limited to 1 GiB and its peak RSS measured. Each reader
# refuses the bomb with one line naming the file, the byte and the limit, exits 1, and
# peaks under 64 MiB (the unpacking budget is 32 MiB; the bombs asked for 0.1 to 6 GB).
# Not under the sanitizers: ASan reserves more address space than any limit allows.
. "$(dirname "$0")/../lib/e2e.sh"

BOMB="$HELPERS/fl-bomb"
readers=("read" "read --text" "gaps" "workloads" "verify" "tree --workload cgroup:1"
	"report --since 2020-01-01T00:00:00Z --until 2030-01-01T00:00:00Z")
declare -A why=(
	[length]="batch at byte 0 claims 67108850 bytes decompressed (limit 4194304, which no agent reaches)"
	[events]="batch at byte 0 holds more than 65536 records"
	[args]="batch at byte 0 would take more than 32 MiB to unpack"
)
declare -A verify_why=(
	[length]="batch at byte 0 claims 67108850 bytes decompressed (limit 4194304"
	[events]="it holds more than 65536 records"
	[args]="it would take more memory to unpack than any agent's batch"
)
for kind in length events args; do
	f="$T/bomb-$kind.seg.gz"
	check_cmd "$kind: the bomb is written" "$BOMB" write "$kind" "$f"
	check_cmd "$kind: the bomb is small" test "$(stat -c %s "$f")" -lt 102400
	for r in "${readers[@]}"; do
		# shellcheck disable=SC2086 # a reader and its options
		"$BOMB" rss "$T/rss" 1024 "$FIRSTLIGHT" $r "$f" >"$T/out" 2>"$T/err"
		read -r kib status <"$T/rss"
		check "$kind, $r: exit status" 1 "$status" || head -c 600 "$T/out" "$T/err" >&2
		check_cmd "$kind, $r: peak RSS under 64 MiB (was $kib KiB)" test "$kib" -lt 65536
		if [ "$r" = verify ]; then
			check_cmd "$kind, $r: FAIL naming the file and why" grep -qF "FAIL: $f: batch 0" "$T/out"
			check_cmd "$kind, $r: says which limit" grep -qF "${verify_why[$kind]}" "$T/out"
		else
			check_cmd "$kind, $r: one line naming the file and the limit" \
				grep -qF "firstlight: error: $f: ${why[$kind]}" "$T/err"
		fi
	done
done
finish
