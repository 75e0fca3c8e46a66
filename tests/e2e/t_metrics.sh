#!/usr/bin/env bash
# quick
# The Prometheus endpoint of a running agent: valid exposition (promtool), the node and
# run of the records, and drops shown while they happen; /healthz says ready; an address in use is an error
# when the operator asked for it.
. "$(dirname "$0")/../lib/e2e.sh"

agent_start --metrics-addr 127.0.0.1:0 --ring-size 16384
port=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$T/agent.err")
check_cmd "port announced" test -n "$port"
scrape() { curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics.txt"; }
check_cmd "scrape" scrape
check_cmd "promtool accepts it" promtool check metrics <"$T/metrics.txt"
# The probes' path: ready (every program attached) and draining.
check "/healthz" "200 ok: $(sed -n 's/.*ready: \([0-9]*\) programs attached.*/\1/p' "$T/agent.err") programs attached" \
	"$(curl -s -w '%{http_code} ' -o "$T/healthz" "http://127.0.0.1:$port/healthz"; cut -d, -f1 "$T/healthz")"
kill -STOP "$AGENT_PID"
"$HELPERS/fl-storm" -n 300 -p 2 -- /bin/true fl-metrics
kill -CONT "$AGENT_PID"
drops_seen() { scrape && awk '/^firstlight_drops_total\{event_type="exec"\}/ {exit !($2 > 0)}' "$T/metrics.txt"; }
check_cmd "drops show up in the metrics" wait_for 10 drops_seen
scraped_drops=$(awk '/^firstlight_drops_total\{event_type="exec"\}/ {print $2}' "$T/metrics.txt")
check "the 404 path" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")"
# A second agent asked for the same address fails with one clear line.
"$FIRSTLIGHT" run --data-dir "$T/data2" --metrics-addr "127.0.0.1:$port" >/dev/null 2>"$T/second.err"
check "address in use: exit status" 1 $?
check_cmd "address in use: message" grep -q "metrics-addr 127.0.0.1:$port: Address already in use" "$T/second.err"
agent_stop

node=$(q -r '.[0].node')
run=$(q -r '.[0].agentRunId')
check_cmd "build info names node and run" grep -q "firstlight_build_info{version=\"[^\"]*\",node=\"$node\",run_id=\"$run\"} 1" "$T/metrics.txt"
# The node's capabilities: one gauge each, 1 where the record says available, 0 where missing.
check "capability gauges match the nodeCapabilities record" \
	"$(q -r '.[] | select(.nodeCapabilities) | .nodeCapabilities |
	  [(.available // [])[] | "\(.) 1"] + [(.missing // [])[] | "\(.) 0"] | sort | join(";")')" \
	"$(sed -n 's/^firstlight_node_capability{capability="\([a-z0-9-]*\)"} \([01]\)$/\1 \2/p' "$T/metrics.txt" | LC_ALL=C sort | paste -sd';')"
# The metric counts both causes of loss: a full ring, and a workload beyond its ring share.
recorded=$(q '[.[] | select((.gap.kind == "RING_BUFFER_DROP" or .gap.kind == "SHARE_EXCEEDED")
	and .gap.eventType == "exec") | .gap.count | tonumber] | add // 0')
check_cmd "scraped exec drops ($scraped_drops) within the recorded ones ($recorded)" test "$scraped_drops" -gt 0 -a "$scraped_drops" -le "$recorded"
finish
