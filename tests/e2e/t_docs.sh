#!/usr/bin/env bash
# The documentation says what the program does: the field tables of docs/records.md and
# docs/store.md are the schema's fields (proto/firstlight.proto), and every field
# `firstlight read` prints of a real run (a runc container that fetches a page, retention
# at work) is in them; docs/metrics.md is what the metrics endpoint serves (names, types,
# help texts, label values); `tree --help` lists exactly the fields `tree --json` prints,
# object by object, and `workloads --help` those of `workloads --json`; docs/gaps.md's
# "incomplete" set is the one `gaps --help` prints; the README keeps its two commands.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# ---- the schema and the field tables -----------------------------------------------------
# "Message.jsonName" of every field of every message of the proto.
proto_fields() {
	awk '
	function camel(n,   out, i, parts, k) {
		k = split(n, parts, "_"); out = parts[1]
		for (i = 2; i <= k; i++) out = out toupper(substr(parts[i], 1, 1)) substr(parts[i], 2)
		return out
	}
	/^[ \t]*\/\// { next }
	/^[ \t]*message [A-Za-z0-9_]+ *\{/ { match($0, /message [A-Za-z0-9_]+/); stack[++depth] = "m:" substr($0, RSTART + 8, RLENGTH - 8); next }
	/^[ \t]*enum [A-Za-z0-9_]+ *\{/ { stack[++depth] = "e"; next }
	/^[ \t]*oneof [A-Za-z0-9_]+ *\{/ { stack[++depth] = "o"; next }
	/^[ \t]*\}/ { depth--; next }
	depth > 0 && stack[depth] != "e" && /^[ \t]*(repeated[ \t]+)?[A-Za-z0-9_.]+[ \t]+[a-z_0-9]+[ \t]*=[ \t]*[0-9]+/ {
		for (d = depth; d > 0 && substr(stack[d], 1, 2) != "m:"; d--) ;
		line = $0; sub(/^[ \t]*(repeated[ \t]+)?/, "", line); split(line, w, /[ \t=]+/)
		print substr(stack[d], 3) "." camel(w[2])
	}' "$ROOT/proto/firstlight.proto" | sort
}
# "Message.field" of every row of every "### `Message`" table of the given docs.
doc_fields() {
	awk '
	/^#+ / { msg = ""; if (match($0, /^### `[A-Za-z0-9]+`$/)) msg = substr($0, RSTART + 5, RLENGTH - 6); next }
	msg != "" && /^\| `[A-Za-z0-9]+` \|/ { match($0, /`[A-Za-z0-9]+`/); print msg "." substr($0, RSTART + 1, RLENGTH - 2) }
	' "$@" | sort
}
proto_fields >"$T/proto.fields"
doc_fields "$ROOT/docs/records.md" "$ROOT/docs/store.md" >"$T/doc.fields"
check_cmd "the proto has fields (parsed)" test "$(wc -l <"$T/proto.fields")" -gt 150
check "docs/records.md and docs/store.md document every field of the proto, and no other" "" \
	"$(diff "$T/proto.fields" "$T/doc.fields" | grep '^[<>]' | tr '\n' ' ')"
check "no field documented twice" "" "$(uniq -d "$T/doc.fields" | tr '\n' ' ')"

# ---- a real run: every field read prints is documented ---------------------------------
# Run 1: a runc container that fetches the agent's metrics page (a flow), and a scrape.
containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
# (--ship to a loopback port nothing listens on: the agent serves its ship_* series too.)
agent_start --live --json --metrics-addr 127.0.0.1:0 --ship nats://127.0.0.1:1
port=$(sed -n 's/.*metrics on http:\/\/127.0.0.1:[0-9]*\/metrics (port \([0-9]*\)).*/\1/p' "$T/agent.err")
check_cmd "the metrics endpoint's port" test -n "$port"
bundle_make "$T/b" "[\"sh\",\"-c\",\"wget -q -O /dev/null http://127.0.0.1:$port/metrics; exit 4\"]"
container_run runc "fl-docs-$$" "$T/b"
check "container exit status" 4 $?
# Privilege changes (setgroups, capset, setresuid, a refused setuid): privilege records.
"$HELPERS/fl-priv" calls "fl-docs-$$" >/dev/null
check "privilege calls" 0 $?
# An open of a watched path (a default): a fileAccess record.
"$HELPERS/fl-open" /etc/shadow 3 openat r "fl-docs-$$" >/dev/null
check "watched open" 0 $?
curl -s "http://127.0.0.1:$port/metrics" >"$T/metrics"
check "scrape" 0 $?
at=$(date +%s.%N)
agent_stop
mv "$T/data" "$T/data1"
cp "$T/agent.out" "$T/all.jsonl"
# Run 2: rotation and retention at work, for segmentRemoved records.
agent_start --live --json --metrics-addr off --segment-bytes 8K --retain-bytes 32K
for i in $(seq 1 400); do /bin/true "fl-docs-$i"; done
wait_for 20 grep -q '"segmentRemoved"' "$T/agent.out" || fail "no segment removed by retention"
agent_stop
cat "$T/agent.out" >>"$T/all.jsonl"
# Every record the agents wrote, from their stdout (retention removed run 2's first segments).
jq -r '
	def k($m): keys[] | "\($m).\(.)";
	def proc: (k("Process"), (.flags // empty | k("ProcessFlags")), (.namespaces // empty | k("Namespaces")));
	k("Event"),
	(.exec // empty | k("ProcessExec"), (.process // empty | proc)),
	(.fork // empty | k("ProcessFork"), (.process // empty | proc)),
	(.exit // empty | k("ProcessExit")),
	(.flow // empty | k("Flow")),
	(.workload // empty | k("Workload"), (.namespaces // empty | k("Namespaces"))),
	(.gap // empty | k("Gap")),
	(.heartbeat // empty | k("Heartbeat")),
	(.agent // empty | k("AgentLifecycle")),
	(.segmentRemoved // empty | k("SegmentRemoved")),
	(.nodeCapabilities // empty | k("NodeCapabilities"), (.missingDetail[]? | k("Missing"))),
	(.privilege // empty | k("Privilege"), (.oldCreds, .newCreds | k("Creds"))),
	(.fileAccess // empty | k("FileAccess"))' "$T/all.jsonl" | sort -u >"$T/printed.fields"
check "every record kind was printed" "agent exec exit fileAccess flow fork gap heartbeat nodeCapabilities privilege segmentRemoved workload" \
	"$(grep '^Event\.' "$T/printed.fields" | sed 's/^Event\.//' | grep -vE '^(seq|timeUnixNano|bootNano|node|agentRunId|snapshot)$' | paste -sd' ')"
check "every field read prints is documented" "" \
	"$(comm -23 "$T/printed.fields" "$T/doc.fields" | tr '\n' ' ')"
check_cmd "many fields were printed" test "$(wc -l <"$T/printed.fields")" -gt 100

# ---- metrics: the table is what the endpoint serves ------------------------------------------
# "name|type|help" from the scrape and from the table.
sed -n 's/^# HELP \([a-z_]*\) \(.*\)$/\1|\2/p' "$T/metrics" | sort >"$T/m.help"
sed -n 's/^# TYPE \([a-z_]*\) \(.*\)$/\1|\2/p' "$T/metrics" | sort >"$T/m.type"
join -t'|' "$T/m.type" "$T/m.help" >"$T/m.served"
# A table row: | `name` | labels | type | help |
metric_rows() {
	awk -F'|' '/^\| `firstlight_/ {
		for (i = 2; i <= 5; i++) { gsub(/^ +| +$/, "", $i) }
		n = $2; gsub(/`/, "", n); print n "|" $3 "|" $4 "|" $5
	}' "$ROOT/docs/metrics.md"
}
metric_rows | awk -F'|' '{ print $1 "|" $3 "|" $4 }' | sort >"$T/m.doc"
check_cmd "metrics were served" test "$(wc -l <"$T/m.served")" -ge 14
check "docs/metrics.md: every metric with its type and help text, and no other" "" \
	"$(diff "$T/m.served" "$T/m.doc" | grep '^[<>]' | tr '\n' ' ')"
# Label values: "name label value" served, and as the table lists them.
sed -n 's/^\(firstlight_[a-z_]*\){\([a-z_]*\)="\([a-z_]*\)"} .*/\1 \2 \3/p' "$T/metrics" | sort >"$T/l.served"
metric_rows | awk -F'|' '$2 ~ /^`[a-z_]+`: / {
	l = $2; sub(/`: .*/, "", l); sub(/^`/, "", l)
	v = $2; sub(/^`[a-z_]+`: /, "", v); k = split(v, vs, /, /)
	for (i = 1; i <= k; i++) print $1, l, vs[i]
}' | sort >"$T/l.doc"
check "docs/metrics.md: every label value served, and no other" "" \
	"$(diff "$T/l.served" "$T/l.doc" | grep '^[<>]' | tr '\n' ' ')"

# ---- tree --help and tree --json --------------------------------------------------------------
# This shell's subtree while the agent ran: the runtime, the container and its flow, and
# the PRE_EXISTING gap of this shell's workload.
"$FIRSTLIGHT" tree --json --pid $$ --at "$at" "$T/data1" >"$T/tree.json" 2>"$T/tree.err"
check "tree --json of this shell's subtree" 0 $? || cat "$T/tree.err" >&2
jq -r '
	def k($o): keys[] | "\($o) \(.)";
	def tree: ., (.children[] | tree);
	def procs: .processes[] | tree;
	k("document"), (.query | k("query")), (.workloads[] | k("workload")), (.summary | k("summary")),
	(.gaps[] | k("gap")), (.flows[] | k("flow")), (.fileAccess[] | k("file")),
	([procs] | .[] | k("process"), (.flags | k("flags")), (.images[] | k("image")), (.flows[] | k("flow")),
		(.fileAccess[] | k("file")))
' "$T/tree.json" | sort -u >"$T/tree.printed"
"$FIRSTLIGHT" tree --help | awk '
	/^JSON:/ { on = 1; next }
	on && /^  [a-z]+ +[a-zA-Z]/ { obj = $1; line = $0; sub(/^  [a-z]+ +/, "", line) }
	on && /^            [a-zA-Z]/ { line = $0; sub(/^ +/, "", line) }
	on && /^ / { n = split(line, f, /, */); for (i = 1; i <= n; i++) if (f[i] != "") print obj, f[i]; next }
	on && !/^ / && obj != "" { on = 0 }
' | sort -u >"$T/tree.help"
check "tree --json printed every kind of object" "document file flags flow gap image process query summary workload" \
	"$(cut -d' ' -f1 "$T/tree.printed" | sort -u | paste -sd' ')"
check "tree --help lists exactly the fields tree --json prints" "" \
	"$(diff "$T/tree.help" "$T/tree.printed" | grep '^[<>]' | tr '\n' ' ')"

# ---- workloads --help and workloads --json -------------------------------------------------
"$FIRSTLIGHT" workloads --json "$T/data1" | jq -r 'keys[]' | sort -u >"$T/wl.printed"
"$FIRSTLIGHT" workloads --help | sed -n '/--json/,/--kind/p' | tr '\n' ' ' |
	sed 's/.*(--text): *//; s/;.*//' | tr -s ' ,' '\n' | grep . | sort -u >"$T/wl.help"
check "workloads --help lists exactly the fields workloads --json prints" "" \
	"$(diff "$T/wl.help" "$T/wl.printed" | grep '^[<>]' | tr '\n' ' ')"

# ---- gaps: the "incomplete" set -----------------------------------------------------------------
"$FIRSTLIGHT" gaps --help | sed -n '/incomplete  /,/(not what/p' | sed '1d;$d' | tr -s ' ,' '\n' | grep . |
	sort >"$T/inc.help"
# The first bullet of the section, continuation lines included.
sed -n '/^## Failing on lost evidence/,/^## /p' "$ROOT/docs/gaps.md" |
	awk '/^- / { n++ } n == 1 && /^(- |  )/ { print }' | grep -o '`[A-Z_]*`' | tr -d '`' | sort >"$T/inc.doc"
check_cmd "gaps --help lists the incomplete set" test "$(wc -l <"$T/inc.help")" -ge 6
check "docs/gaps.md's incomplete set is the one gaps --help prints" "$(paste -sd' ' "$T/inc.help")" \
	"$(paste -sd' ' "$T/inc.doc")"

# ---- the README keeps the two commands CI looks for -----------------------------------------------
check_cmd "README: make run" grep -q '^make run ' "$ROOT/README.md"
check_cmd "README: make test" grep -q '^make test ' "$ROOT/README.md"
check_cmd "README: at most ~150 lines" test "$(wc -l <"$ROOT/README.md")" -le 160
finish
