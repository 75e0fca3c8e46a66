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
# A file that is not BTF is refused before the data dir is touched: no run of no records.
echo "not btf" >"$T/not-btf"
expect_error "--btf not a BTF file" 1 "^firstlight: error: --btf $T/not-btf: not a BTF file .*: give the target kernel's BTF" \
	"$FIRSTLIGHT" run --btf "$T/not-btf" --metrics-addr off --data-dir "$T/d-btf" --key "$T/btf.key"
check "--btf not a BTF file: no data dir made" "" "$(ls -d "$T/d-btf" "$T/btf.key" 2>/dev/null)"
expect_error "--btf a directory" 1 "--btf $T: Is a directory: give" \
	"$FIRSTLIGHT" run --btf "$T" --metrics-addr off --data-dir "$T/d-btf" --key "$T/btf.key"
# Only numeric metrics addresses: say so, and how to write one.
expect_error "metrics address is a name" 2 "metrics-addr localhost:9464: the host is not a numeric IPv4 address (names are not resolved): write a numeric HOST:PORT such as 127.0.0.1:9464" \
	"$FIRSTLIGHT" run --metrics-addr localhost:9464 --data-dir "$T/d-metrics"
expect_error "metrics address unbracketed IPv6" 2 "metrics-addr ::1:9464: an IPv6 address goes in brackets" \
	"$FIRSTLIGHT" run --metrics-addr ::1:9464 --data-dir "$T/d-metrics"
check "metrics address: no data dir made" "" "$(ls -d "$T/d-metrics" 2>/dev/null)"
expect_error "data dir parent missing" 1 "data dir $T/no/such/dir: its parent directory $T/no/such does not exist: create it" \
	"$FIRSTLIGHT" run --metrics-addr off --key "$T/parent.key" --data-dir "$T/no/such/dir"
touch "$T/file"
expect_error "data dir is a file" 1 "data dir $T/file: Not a directory" "$FIRSTLIGHT" run --metrics-addr off --data-dir "$T/file"
mkdir "$T/real" && ln -s "$T/real" "$T/link"
expect_error "data dir is a symlink" 1 "data dir $T/link: is a symbolic link, which the store does not follow: give the directory it points to" \
	"$FIRSTLIGHT" run --metrics-addr off --data-dir "$T/link"
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
expect_error "store read-back not a mode" 2 "--store-readback 'maybe': expected auto, on or off" \
	"$FIRSTLIGHT" run --store-readback maybe
expect_error "read: unknown option" 2 "read: unknown option '--bogus'" "$FIRSTLIGHT" read --bogus
# An option where a value belongs: the value is missing, the option is not the value.
expect_error "tree: option as a value" 2 "tree: --container needs a value before --json" \
	"$FIRSTLIGHT" tree --container --json "$T"
expect_error "run: option as a value" 2 "run: --data-dir needs a value before --stdout" \
	"$FIRSTLIGHT" run --data-dir --stdout
# The input taken for the value: tree --container DIR.
expect_error "tree: a path as the container id" 2 "tree: --container '$T' is a path, not a container id: the value is missing (write tree --container VALUE \[DIR\]; firstlight workloads DIR lists the values)" \
	"$FIRSTLIGHT" tree --container "$T"
expect_error "tree: a path as the exec id" 2 "tree: --exec-id '$T/x.seg.gz' is a path, not an exec id" \
	"$FIRSTLIGHT" tree --exec-id "$T/x.seg.gz" "$T"
# A directory without segments is not an empty record: say so (every reader).
mkdir "$T/empty"
for cmd in read gaps verify; do
	expect_error "$cmd: a directory without segments" 1 "$T/empty: no segment files (\*.seg.gz) in this directory: name the agent's data dir" \
		"$FIRSTLIGHT" $cmd "$T/empty"
done
expect_error "tree: a directory without segments" 1 "$T/empty: no segment files" "$FIRSTLIGHT" tree --workload cgroup:1 "$T/empty"
# Records piped in without "-" are not silently replaced by the default data dir.
read_piped() { echo "records" | "$FIRSTLIGHT" "$@"; }
expect_error "read: piped stdin without -" 1 "no input named while stdin is a pipe or a file: write - to read the records piped in, or name the data dir" \
	read_piped read --text
expect_error "gaps: stdin a file without -" 1 "no input named while stdin is a pipe or a file" \
	"$FIRSTLIGHT" gaps <"$T/file"
expect_error "unknown command" 2 "unknown command 'frobnicate'" "$FIRSTLIGHT" frobnicate
expect_error "read: missing file" 1 "$T/missing.seg.gz: No such file" "$FIRSTLIGHT" read "$T/missing.seg.gz"
# Not a segment at all: say that, not "truncated batch at byte 0".
printf '\x0a\xff\xff\xff\x0fsome text that is no batch' >"$T/garbage"
expect_error "read: garbage" 1 "$T/garbage: not a segment file: it starts with neither a gzip header nor a record batch" \
	"$FIRSTLIGHT" read "$T/garbage"
echo "a log line" | gzip >"$T/log.gz"
expect_error "read: a gzip file that holds no records" 1 "$T/log.gz: not a segment file: a gzip stream, but what it holds does not start with a record batch" \
	"$FIRSTLIGHT" read "$T/log.gz"

# A real segment, then damaged copies of it.
agent_start
seg=$(ls "$T"/data/*.seg.gz)
ready_size=$(stat -c %s "$seg") # all flushed at readiness: complete batches up to here
for i in $(seq 1 50); do /bin/true fl-errors-$i; done
agent_stop
total=$(wc -l <"$T/records.jsonl")
check_cmd "segment has records" test "$total" -gt 60

# Truncated in the middle of a batch written after readiness (a crashed writer, a cut
# copy): halfway through the largest one's compressed bytes. Not at a fixed fraction of
# the file: a cut among a batch's first compressed bytes (its block's code tables) yields
# no byte of it, and the reader rightly sees a clean end after the batch before.
cut=$("$HELPERS/fl-segtool" batches "$seg" | awk -v ready="$ready_size" '
	$5 > ready && $5 - prev > span { span = $5 - prev; cut = prev + int(span / 2) }
	{ prev = $5 }
	END { print cut + 0 }')
check_cmd "a batch written after readiness to cut" test "$cut" -gt "$ready_size"
head -c "$cut" "$seg" >"$T/half.seg.gz"
"$FIRSTLIGHT" read "$T/half.seg.gz" >"$T/half.jsonl" 2>"$T/half.err"
check "read truncated: exit status" 1 $?
check_cmd "read truncated: error names the offset" grep -q "half.seg.gz: .*byte [0-9]" "$T/half.err"
got=$(wc -l <"$T/half.jsonl")
check_cmd "read truncated: records before the damage are printed" test "$got" -gt 0 -a "$got" -lt "$total"
check "read truncated: they are the first records" "$(head -n "$got" "$T/records.jsonl" | md5sum)" "$(md5sum <"$T/half.jsonl")"

# A flipped byte in the middle: corrupt data is an error, never a crash.
cp "$seg" "$T/flip.seg.gz"
# Flip every bit of the middle byte (writing a fixed value could leave it unchanged).
mid=$(($(stat -c %s "$seg") / 2))
byte=$(od -An -tu1 -j "$mid" -N1 "$T/flip.seg.gz" | tr -d ' ')
printf "\\$(printf '%03o' $((255 - byte)))" | dd of="$T/flip.seg.gz" bs=1 seek="$mid" conv=notrunc status=none
check_cmd "the byte changed" test "$(cmp -l "$seg" "$T/flip.seg.gz" | wc -l)" -eq 1
"$FIRSTLIGHT" read "$T/flip.seg.gz" >/dev/null 2>"$T/flip.err"
rc=$?
check "read corrupt: exit status" 1 "$rc"
check_cmd "read corrupt: message" grep -q "flip.seg.gz: " "$T/flip.err"

# stdin works too.
check "read from stdin" "$total" "$("$FIRSTLIGHT" read - <"$seg" | wc -l)"

# The store's other files are not segments: reading one says so and where to look.
expect_error "read chain.state" 1 "$T/data/chain.state: not a segment file: .*; segment files are the data dir's seg-\*.seg.gz: read one of them, or the data dir$" \
	"$FIRSTLIGHT" read "$T/data/chain.state"
# Counts in the singular when there is one.
"$FIRSTLIGHT" verify --trust-embedded-key "$T/data" >"$T/verify.out" 2>&1
check "verify one segment: exit status" 0 "$?"
check_cmd "verify one segment: '1 segment file,' and '1 agent run:'" grep -q "^OK: 1 segment file, [0-9]* batches, [0-9]* records, 1 agent run: " "$T/verify.out" ||
	cat "$T/verify.out" >&2
finish
