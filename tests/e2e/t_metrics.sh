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
# The agent's CPU seconds (utime + stime, in clock ticks) as the kernel reports them.
cpu_ticks() { sed 's/.*) //' "/proc/$AGENT_PID/stat" | awk '{print $12 + $13}'; }
ticks_before=$(cpu_ticks)
check_cmd "scrape" scrape
ticks_after=$(cpu_ticks)
check_cmd "promtool accepts it" promtool check metrics <"$T/metrics.txt"
# The agent's CPU by role: every role listed, and at the first scrape they add up to the
# process's CPU time at that instant, between the kernel's figures before and after it
# (each of utime and stime is rounded down to a tick).
cpu_role() { awk -v r="firstlight_cpu_seconds_total{role=\"$1\"}" '$1 == r {print $2}' "$T/metrics.txt"; }
check "CPU roles listed" "record ship identity metrics other" \
	"$(sed -n 's/^firstlight_cpu_seconds_total{role="\([a-z]*\)"} .*/\1/p' "$T/metrics.txt" | paste -sd' ')"
cpu_sum=$(awk '/^firstlight_cpu_seconds_total\{/ {s += $2} END {printf "%.6f", s}' "$T/metrics.txt")
hz=$(getconf CLK_TCK)
check_cmd "CPU roles add up ($cpu_sum s) to the process's ($ticks_before to $ticks_after ticks of 1/$hz s)" \
	awk -v s="$cpu_sum" -v b="$ticks_before" -v a="$ticks_after" -v hz="$hz" \
	'BEGIN {exit !(s >= b / hz && s <= (a + 2) / hz)}'
check_cmd "the event loop's CPU is the record role's" awk -v v="$(cpu_role record)" 'BEGIN {exit !(v > 0)}'
check "no shipping, no shipping CPU" 0 "$(cpu_role ship)"
first_record=$(cpu_role record)
# The probes' path: ready (every program attached) and draining.
check "/healthz" "200 ok: $(sed -n 's/.*ready: \([0-9]*\) programs attached.*/\1/p' "$T/agent.err") programs attached" \
	"$(curl -s -w '%{http_code} ' -o "$T/healthz" "http://127.0.0.1:$port/healthz"; cut -d, -f1 "$T/healthz")"
kill -STOP "$AGENT_PID"
"$HELPERS/fl-storm" -n 300 -p 2 -- /bin/true fl-metrics
kill -CONT "$AGENT_PID"
drops_seen() { scrape && awk '/^firstlight_drops_total\{event_type="exec"\}/ {exit !($2 > 0)}' "$T/metrics.txt"; }
check_cmd "drops show up in the metrics" wait_for 10 drops_seen
scraped_drops=$(awk '/^firstlight_drops_total\{event_type="exec"\}/ {print $2}' "$T/metrics.txt")
check_cmd "the record role's CPU grew with the storm ($first_record -> $(cpu_role record) s)" \
	awk -v a="$first_record" -v b="$(cpu_role record)" 'BEGIN {exit !(b > a)}'
check_cmd "the server's own CPU is the metrics role's" awk -v v="$(cpu_role metrics)" 'BEGIN {exit !(v > 0)}'
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
