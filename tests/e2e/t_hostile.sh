#!/usr/bin/env bash
# quick
# serial
# Every string a reader prints comes from a store someone else wrote. A store whose every
# string field of every record kind (and the node and run ids) holds a C1 control, a
# bidirectional override, ESC sequences, CR, LF, BEL and DEL (tests/helpers/fl-hostile.c)
# is read by every reader that prints text: nothing of it reaches the terminal raw, and
# each reader shows the string escaped (so it did print the field).
. "$(dirname "$0")/../lib/e2e.sh"

mkdir -p "$T/h"
"$HELPERS/fl-hostile" "$T/h/data" "$T/h/key" 2>"$T/h/err"
check "the hostile store is written" 0 $? || cat "$T/h/err" >&2
hostile=$(printf 'h\xc2\x9b31m\xe2\x80\xaex\x1b[2J\x1b]0;t\x07\r\n\x7fz')
escaped='h\u009b31m\u202ex\x1b[2J\x1b]0;t\x07\r\n\x7fz'
D="$T/h/data"
# raw TEXT: any byte or character a terminal acts on or reorders by.
raw() { LC_ALL=C grep -c -P '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c' "$1"; }
run() {
	local name=$1 want=$2
	shift 2
	"$FIRSTLIGHT" "$@" >"$T/out" 2>&1
	check "$name: exit status" "$want" $? || head -c 800 "$T/out" >&2
	check "$name: nothing raw" 0 "$(raw "$T/out")"
	check_cmd "$name: the hostile string shown escaped" grep -qF "$1" "$T/out"
}
run_shows() {
	local name=$1 want=$2 shows=$3
	shift 3
	"$FIRSTLIGHT" "$@" >"$T/out" 2>&1
	check "$name: exit status" "$want" $? || head -c 800 "$T/out" >&2
	check "$name: nothing raw" 0 "$(raw "$T/out")"
	check_cmd "$name: shows the string escaped" grep -qF -- "$shows" "$T/out"
}
run_shows "read --text" 0 "binary=\"$escaped\"" read --text "$D"
check "read --text: one line per record" "$("$FIRSTLIGHT" read "$D" | wc -l)" "$("$FIRSTLIGHT" read --text "$D" | wc -l)"
# The last record's run id is hostile: verify refuses it, naming it.
run_shows "verify" 1 'belongs to run h\u009b\u202e\x1b[' verify "$D"
run_shows "gaps" 0 "$escaped" gaps "$D"
run_shows "workloads" 0 "$escaped" workloads "$D"
run_shows "tree" 0 "container  $escaped name $escaped" tree --workload "$hostile" "$D"
run_shows "report --text" 3 "node       $escaped" report --text --since 2020-01-01T00:00:00Z --until 2030-01-01T00:00:00Z "$D"
# An error naming a hostile input: the argument itself, escaped in the one error line.
run_shows "tree, an unknown hostile workload" 2 "'x${escaped}'" tree --workload "x$hostile" "$D"
finish
