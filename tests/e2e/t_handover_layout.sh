#!/usr/bin/env bash
# quick
# One handover taken (B adopts A's pins: the quick suite's run of the adopting path), then
# handovers that cannot be taken fall back to a fresh load and an honest SENSOR_DOWN gap
# (reason handover-failed, saying why): pins of another layout version (the meta's layout
# rewritten, as an older or newer agent would have left it), and pins that are gone
# (`firstlight unpin` between the two runs). In both cases the old programs are detached
# and replaced by the new run's own, pinned for the next handover; with nothing pinned
# any more, `unpin` says so. Last, pins of another --ring-share are not adopted either.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/handover.sh"

handover_setup
args=(--handover --pin-dir "$PIN" --metrics-addr off)

# down_gap RUN: the SENSOR_DOWN gaps of RUN, as "reason|detail" lines.
down_gap() {
	q -r --arg r "$1" '.[] | select(.agentRunId == $r and .gap.kind == "SENSOR_DOWN") | "\(.gap.reason)|\(.gap.detail)"'
}
nth_run() { q -r "[.[] | select(.agent.state == \"STARTED\")][$1].agentRunId"; }
# meta JQ: JQ over the pinned meta's bytes as numbers (bpftool prints them "0x01").
meta() {
	bpftool -j map lookup pinned "$PIN/meta" key 0 0 0 0 | jq -r '.value | map(ltrimstr("0x") | ascii_downcase
		| explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end))) | '"$1"
}

# 0. A hands over to A2, which adopts.
agent_start "${args[@]}"
agent_stop
agent_start "${args[@]}"
agent_stop
check "A2 adopted A's programs" "$(nth_run 0)" "$(q -r '[.[] | select(.agent.state == "STARTED")][1].agent.adoptedRunId')"
check "no SENSOR_DOWN gap" 0 "$(q '[.[] | select(.gap.kind == "SENSOR_DOWN")] | length')"

# 1. Another layout: the first word of the pinned meta (its layout) becomes 99.
a_run=$(nth_run 1)
old_link=$(bpftool -j link show pinned "$PIN/link_fl_exec" | jq -r .id)
value=$(bpftool -j map lookup pinned "$PIN/meta" key 0 0 0 0 | jq -r '.value | .[4:] | join(" ")')
check_cmd "the meta rewritten" bpftool map update pinned "$PIN/meta" key 0 0 0 0 value 0x63 0 0 0 $value
agent_start "${args[@]}"
check_cmd "B says why it loads afresh" grep -q "not adopting what is pinned: the pins are of layout 99, this agent's is 2" "$T/agent.err"
agent_stop
b_run=$(nth_run 2)
check "B adopted nothing" "" "$(q -r --arg r "$b_run" '.[] | select(.agentRunId == $r and .agent.state == "STARTED") | .agent.adoptedRunId // ""')"
check "a SENSOR_DOWN gap, reason handover-failed" \
	"handover-failed|no sensor ran: run $a_run handed over, but its pinned programs were not adopted: the pins are of layout 99, this agent's is 2" \
	"$(down_gap "$b_run")"
check_cmd "A's programs are detached" sh -c "! bpftool link show id $old_link >/dev/null 2>&1"
check "B pinned its own, of layout 2" 2 "$(meta '.[0]')"
# struct fl_pin_meta (sensor/pins.h): run_id at byte 72 since layout 2.
check "B's pins say B" "$b_run" "$(meta '.[72:108] | implode')"

# 2. Nothing pinned: unpin removes B's pins (and detaches its programs), C loads afresh.
"$FIRSTLIGHT" unpin --pin-dir "$PIN" >"$T/unpin.out"
check "unpin exit status" 0 $?
check_cmd "unpin says what it removed" grep -qE "^removed [0-9]+ pins of run $b_run \(handed over\) from $PIN\$" "$T/unpin.out"
check_cmd "the pin dir is gone" test ! -e "$PIN"
check "unpin again: nothing pinned" "nothing pinned at $PIN" "$("$FIRSTLIGHT" unpin --pin-dir "$PIN")"
agent_start "${args[@]}"
"$FIRSTLIGHT" unpin --pin-dir "$PIN" >/dev/null 2>"$T/unpin.err"
check "unpin while an agent runs: refused" 1 $?
check_cmd "unpin while an agent runs: says why" grep -q "$PIN" "$T/unpin.err"
agent_stop
c_run=$(nth_run 3)
check "C: SENSOR_DOWN, the pins are gone" \
	"handover-failed|no sensor ran: run $b_run handed over, but its pinned programs were not adopted: nothing is pinned in $PIN (firstlight unpin, or the bpffs was mounted anew)" \
	"$(down_gap "$c_run")"
check "C: no other SENSOR_DOWN" 2 "$(q '[.[] | select(.gap.kind == "SENSOR_DOWN")] | length')"

# 3. Another ring share: the pinned programs hold theirs as read-only constants, so D
# (--ring-share 50 of the default 8 MiB ring) loads afresh rather than keep C's 25%.
agent_start "${args[@]}" --ring-share 50
agent_stop
d_run=$(nth_run 4)
check "D: SENSOR_DOWN, another ring share" \
	"handover-failed|no sensor ran: run $c_run handed over, but its pinned programs were not adopted: the pinned programs keep 2097152 bytes of ring share and 838860 of headroom, this run asks for 4194304 and 838860 (--ring-share, --ring-headroom)" \
	"$(down_gap "$d_run")"
check "each run's seq has no holes" true "$(q '[group_by(.agentRunId)[] | [.[].seq | tonumber] | . == [range(1; length + 1)]] | all')"
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
check_cmd "the chain verifies with the node's key" "$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$T/data"
finish
