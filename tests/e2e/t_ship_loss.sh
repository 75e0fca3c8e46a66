#!/usr/bin/env bash
# quick
# Retention and shipping. While the engine cannot be reached, segments that age past
# --retain-age are kept (they are not shipped yet); once shipped, they go. But the store's
# size limit (--retain-bytes) wins over shipping: then each unshipped segment removed is a
# SHIP_LOSS gap first, with the exact run and sequence range that never reached JetStream.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/nats.sh"

node=loss-node-$$
export NODE_NAME=$node
port=$("$HELPERS/fl-net" free-ports 127.0.0.1 1)
burst() { for i in $(seq 1 "$2"); do /bin/true "fl-loss-$1-$i-padding-padding-padding-padding"; done; }
segments() { ls "$T"/data/*.seg.gz 2>/dev/null | wc -l; }
removed() { "$FIRSTLIGHT" read "$T/data" 2>/dev/null | jq -r 'select(.segmentRemoved) | .segmentRemoved.reason' | grep -c "$1"; }

# ---- age: kept while unshipped, removed once shipped -------------------------------------
agent_start --ship "nats://127.0.0.1:$port" --metrics-addr 127.0.0.1:0 --segment-bytes 4K --retain-age 1s
burst age 60
check_cmd "several segments" wait_for 60 sh -c "[ \$(ls '$T'/data/*.seg.gz | wc -l) -ge 3 ]"
sleep 2 # past --retain-age (not a wait for a condition)
burst age-more 20 # a rotation: retention runs
check_cmd "rotated again" wait_for 60 sh -c "[ \$(ls '$T'/data/*.seg.gz | wc -l) -ge 4 ]"
check "unshipped: none removed by age" 0 "$(removed retain-age)"
nats_start js "$port" || exit 1
check_cmd "shipped once the engine is there" wait_for 60 ship_drained
burst age-after 20
check_cmd "shipped: removed by age now" wait_for 60 sh -c "[ \$('$FIRSTLIGHT' read '$T/data' 2>/dev/null | grep -c 'retain-age') -ge 1 ]"
agent_stop
nats_stop js

# ---- size: removed anyway, the loss on record -------------------------------------------
rm -rf "$T/data"
port2=$("$HELPERS/fl-net" free-ports 127.0.0.1 1)
agent_start --ship "nats://127.0.0.1:$port2" --metrics-addr 127.0.0.1:0 --segment-bytes 4K --retain-bytes 12K
burst size 150
check_cmd "the size limit removed unshipped segments" wait_for 60 sh -c "[ \$('$FIRSTLIGHT' read '$T/data' 2>/dev/null | grep -c 'retain-bytes') -ge 1 ]"
agent_stop
"$FIRSTLIGHT" read "$T/data" >"$T/records.jsonl"
run=$(q -r '.[0].agentRunId')
# Every removal of an unshipped segment comes after a SHIP_LOSS gap of exactly its range.
check "each removal has its SHIP_LOSS" "$(q -r '[.[] | select(.segmentRemoved) | "\(.segmentRemoved.firstSeq) \(.segmentRemoved.lastSeq)"] | join(",")')" \
	"$(q -r '[.[] | select(.gap.kind == "SHIP_LOSS") | "\(.gap.firstSeq) \(.gap.lastSeq)"] | join(",")')"
check "SHIP_LOSS: the run, the count, the reason" "true" \
	"$(q --arg r "$run" '[.[] | select(.gap.kind == "SHIP_LOSS")] | length > 0 and all(.gap.runId == $r and .gap.reason == "retention" and
		((.gap.count | tonumber) == (.gap.lastSeq | tonumber) - (.gap.firstSeq | tonumber) + 1))')"
check_cmd "SHIP_LOSS said" grep -q "removed by --retain-bytes before it was shipped" "$T/agent.err"
"$FIRSTLIGHT" gaps --json "$T/data" >"$T/gaps.json"
check "gaps lists them" "$(q '[.[] | select(.gap.kind == "SHIP_LOSS")] | length')" \
	"$(jq -r 'select(.kind == "SHIP_LOSS") | .kind' "$T/gaps.json" | wc -l)"
"$FIRSTLIGHT" verify --trust-embedded-key "$T/data" >"$T/verify.out" 2>&1
check "the store still verifies" 0 $? || cat "$T/verify.out" >&2
finish
