#!/usr/bin/env bash
# quick
# Bad input and a host that lacks something: one clear line naming the cause, a non-zero
# exit, never a crash; and `read` of damaged files keeps every record before the damage.
. "$(dirname "$0")/../lib/e2e.sh"

# expect_error NAME STATUS PATTERN COMMAND...: exit status and a one-line error message.
expect_error() {
	local name=$1 want=$2 pattern=$3 rc
	shift 3
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	check "$name: exit status" "$want" "$rc"
	check "$name: one line on stderr" 1 "$(grep -c . "$T/err")"
	check_cmd "$name: message names the cause" grep -q -- "$pattern" "$T/err" || cat "$T/err" >&2
}

expect_error "not root" 1 "missing capability CAP_BPF" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$FIRSTLIGHT" run --data-dir "$T/nobody"
expect_error "no BTF" 1 "no kernel BTF at $T/no-btf" "$FIRSTLIGHT" run --btf "$T/no-btf" --data-dir "$T/d1"
touch "$T/file"
expect_error "data dir is a file" 1 "data dir $T/file: Not a directory" "$FIRSTLIGHT" run --metrics-addr off --data-dir "$T/file"
mkdir "$T/real" && ln -s "$T/real" "$T/link"
expect_error "data dir is a symlink" 1 "data dir $T/link:" "$FIRSTLIGHT" run --metrics-addr off --data-dir "$T/link"
expect_error "ring size not a power of two" 2 "ring-size: .* not a power of two" "$FIRSTLIGHT" run --ring-size 12288
expect_error "ring size garbage" 2 "ring-size: invalid value 'lots'" "$FIRSTLIGHT" run --ring-size lots
expect_error "args bytes too large" 2 "args-max-bytes: invalid value '40000'" "$FIRSTLIGHT" run --args-max-bytes 40000
expect_error "unknown option" 2 "unknown option or missing value '--bogus'" "$FIRSTLIGHT" run --bogus
expect_error "missing value" 2 "missing value '--data-dir'" "$FIRSTLIGHT" run --data-dir
# An abbreviated long option is refused: where evidence goes is never a guess.
expect_error "abbreviated option" 2 "run: option '--data' is not complete: write --data-dir" \
	"$FIRSTLIGHT" run --data "$T/abbrev"
check "abbreviated option: nothing written there" "" "$(ls -d "$T/abbrev" 2>/dev/null)"
expect_error "ambiguous abbreviation" 2 "run: option '--ret' is not complete: write one of --retain-bytes, --retain-age" \
	"$FIRSTLIGHT" run --ret 1G
expect_error "read: abbreviated option" 2 "read: option '--js' is not complete: write --json" "$FIRSTLIGHT" read --js
expect_error "segment age out of range" 2 "segment-age: invalid value '0s' (expected 1s..31622400s, optional unit s, m, h or d)" \
	"$FIRSTLIGHT" run --segment-age 0s
expect_error "read: unknown option" 2 "read: unknown option '--bogus'" "$FIRSTLIGHT" read --bogus
expect_error "unknown command" 2 "unknown command 'frobnicate'" "$FIRSTLIGHT" frobnicate
expect_error "read: missing file" 1 "$T/missing.seg.gz: No such file" "$FIRSTLIGHT" read "$T/missing.seg.gz"
head -c 4096 /dev/urandom >"$T/garbage"
expect_error "read: garbage" 1 "$T/garbage: .*byte" "$FIRSTLIGHT" read "$T/garbage"

# A real segment, then damaged copies of it.
agent_start
seg=$(ls "$T"/data/*.seg.gz)
ready_size=$(stat -c %s "$seg") # all flushed at readiness: complete batches up to here
for i in $(seq 1 50); do /bin/true fl-errors-$i; done
agent_stop
total=$(wc -l <"$T/records.jsonl")
check_cmd "segment has records" test "$total" -gt 60

# Truncated in the middle of what came after readiness (a crashed writer, a cut copy).
size=$(stat -c %s "$seg")
head -c $((ready_size + (size - ready_size) / 2)) "$seg" >"$T/half.seg.gz"
"$FIRSTLIGHT" read "$T/half.seg.gz" >"$T/half.jsonl" 2>"$T/half.err"
check "read truncated: exit status" 1 $?
check_cmd "read truncated: error names the offset" grep -q "half.seg.gz: .*byte [0-9]" "$T/half.err"
got=$(wc -l <"$T/half.jsonl")
check_cmd "read truncated: records before the damage are printed" test "$got" -gt 0 -a "$got" -lt "$total"
check "read truncated: they are the first records" "$(head -n "$got" "$T/records.jsonl" | md5sum)" "$(md5sum <"$T/half.jsonl")"

# A flipped byte in the middle: corrupt data is an error, never a crash.
cp "$seg" "$T/flip.seg.gz"
# Flip every bit of the middle byte (writing a fixed value could leave it unchanged).
mid=$((size / 2))
byte=$(od -An -tu1 -j "$mid" -N1 "$T/flip.seg.gz" | tr -d ' ')
printf "\\$(printf '%03o' $((255 - byte)))" | dd of="$T/flip.seg.gz" bs=1 seek="$mid" conv=notrunc status=none
check_cmd "the byte changed" test "$(cmp -l "$seg" "$T/flip.seg.gz" | wc -l)" -eq 1
"$FIRSTLIGHT" read "$T/flip.seg.gz" >/dev/null 2>"$T/flip.err"
rc=$?
check "read corrupt: exit status" 1 "$rc"
check_cmd "read corrupt: message" grep -q "flip.seg.gz: " "$T/flip.err"

# stdin works too.
check "read from stdin" "$total" "$("$FIRSTLIGHT" read - <"$seg" | wc -l)"
finish
