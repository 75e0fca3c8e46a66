#!/usr/bin/env bash
# quick
# argv beyond the byte limit keeps its head and its tail, with the count of bytes cut
# between. With --args-max-bytes 1024 the kernel keeps the first 768 bytes and the last
# 256: /bin/true MARKER BIG end1 end2, BIG 2,000 characters of digits, is 2,038 bytes;
# the head holds /bin/true, the marker and BIG's first 741 characters, the tail BIG's
# last 245, end1 and end2; 1,014 bytes are cut between. A fork of it carries the same.
. "$(dirname "$0")/../lib/e2e.sh"

marker=fl-tail-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n') # 16 characters
big=$(for i in $(seq 200); do printf '%s' 0123456789; done)
big=${big:0:1000}$(for i in $(seq 100); do printf '%s' abcdefghij; done) # 2,000, not periodic at 10 only

agent_start --metrics-addr off --args-max-bytes 1024
/bin/true "$marker" "$big" end1 end2
check "exit status" 0 $?
agent_stop

ex='[.[] | select(.exec.process.args[1] == $m)][0].exec.process'
check "head: argv[0], the marker, BIG's first 741 characters" \
	"$(jq -cn --arg m "$marker" --arg h "${big:0:741}" '["/bin/true", $m, $h]')" \
	"$(q -c --arg m "$marker" "$ex.args")"
check "tail: BIG's last 245 characters, end1, end2" \
	"$(jq -cn --arg t "${big:1755}" '[$t, "end1", "end2"]')" \
	"$(q -c --arg m "$marker" "$ex.argsTail")"
check "bytes cut between" 1014 "$(q -r --arg m "$marker" "$ex.argsCutBytes")"
check "size, count, truncated" "2038 5 true" "$(q -r --arg m "$marker" "$ex | \"\(.argsSize) \(.argsCount) \(.argsTruncated)\"")"

# The readers show the tail too: read --text, tree's text and JSON.
eid=$(q -r --arg m "$marker" "$ex.execId")
cut_text="\"${big:0:741}\",<1014 bytes cut>,\"${big:1755}\",\"end1\",\"end2\"]"
"$FIRSTLIGHT" read --text "$T/data" > "$T/read.txt" 2>/dev/null
check "read --text: head, bytes cut, tail" 1 "$(grep -F "exec_id=$eid " "$T/read.txt" | grep -cF "$cut_text")"
"$FIRSTLIGHT" tree --exec-id "$eid" "$T/data" > "$T/tree.txt" 2>&1
check "tree: head, bytes cut, tail, of 5 arguments" 1 "$(grep -F "$cut_text" "$T/tree.txt" | grep -cF "(argv cut: 1014 bytes in the middle of 5 arguments)")"
"$FIRSTLIGHT" tree --exec-id "$eid" --json "$T/data" > "$T/tree.json" 2>&1
check "tree --json: argsTail, argsCutBytes" \
	"$(jq -cn --arg t "${big:1755}" '[[$t, "end1", "end2"], "1014"]')" \
	"$(jq -c --arg e "$eid" '[.. | objects | select(.execId? == $e and .kind? == "exec")][0] | [.argsTail, .argsCutBytes]' "$T/tree.json")"
finish
