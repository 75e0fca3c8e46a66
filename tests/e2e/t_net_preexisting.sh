#!/usr/bin/env bash
# quick
# Flagged, not dropped: sockets and processes older than the sensor. A server listens
# and a client (A) connects before the agent starts; then A sends and both close, a new
# client (B) connects to the old listener, and an old process (C) makes a new connect.
# A's connection closes unattributed on both sides; B's accept is unattributed (its
# listener predates us) while B's connect is B's; C's connect is C's, marked
# pre-existing (its start was before the sensor).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

serve srv "$HELPERS/fl-net" tcp-server 127.0.0.1 "$T/srv.ready" 3 5
"$HELPERS/fl-net" tcp-client 127.0.0.1 "$srv_port" 111 "$T/go" held >"$T/a.out" &
a=$!
"$HELPERS/fl-net" tcp-client 127.0.0.1 "$srv_port" 333 "$T/go" late >"$T/c.out" &
c=$!
wait_for 10 grep -q sport= "$T/a.out" || { echo "client A did not connect" >&2; exit 1; }
agent_start
touch "$T/go"
wait $a
check "client A exit status" 0 $?
"$HELPERS/fl-net" tcp-client 127.0.0.1 "$srv_port" 222 >"$T/b.out" &
b=$!
wait $b
check "client B exit status" 0 $?
wait $c
check "client C exit status" 0 $?
wait "$srv_pid"
check "server exit status" 0 $?
agent_stop

sa=$(kv "$T/a.out" sport)
sb=$(kv "$T/b.out" sport)
port=$srv_port
conn() { q --argjson x "$1" --argjson y "$2" "[.[] | select(.flow and (.flow.srcPort == \$x and .flow.dstPort == \$y or .flow.srcPort == \$y and .flow.dstPort == \$x)) | .flow] | $3"; }

check "A: no connect or accept recorded (before the sensor)" 0 "$(conn $sa $port '[.[] | select(.kind == "CONNECT" or .kind == "ACCEPT")] | length')"
check "A: both ends' closes recorded, unattributed" "2 2" "$(conn $sa $port '"\(length) \([.[] | select(.kind == "CLOSE" and .ownerUnknown and (.execId // "") == "")] | length)"')"
check "A: client end's bytes" "111/5" "$(conn $sa $port '.[] | select(.srcPort == '"$sa"') | "\(.bytesSent)/\(.bytesReceived)"')"
check "A: server end's bytes" "5/111" "$(conn $sa $port '.[] | select(.dstPort == '"$sa"') | "\(.bytesSent)/\(.bytesReceived)"')"

check "B: connect is B's" "$(exec_of $b execId)" "$(conn $sb $port '.[] | select(.kind == "CONNECT") | .execId')"
check "B: accept on the old listener, unattributed, inbound" "true true 127.0.0.1:$sb" \
	"$(conn $sb $port '.[] | select(.kind == "ACCEPT") | "\(.ownerUnknown) \(.inbound) \(.srcAddr):\(.srcPort)"')"
check "B: the server end's close, unattributed, inbound" "true true 222" \
	"$(conn $sb $port '.[] | select(.kind == "CLOSE" and .inbound) | "\(.ownerUnknown) \(.inbound) \(.bytesReceived)"')"

seed=$(q --argjson p $c '[.[] | select(.exec.process.pid == $p and .exec.process.flags.preExisting) | .exec.process.execId] | first')
check_cmd "C was recorded as pre-existing" test "$seed" != null
check "C: connect attributed to its pre-existing image, flagged" "$seed true false" \
	"$(flows $c '.[] | select(.kind == "CONNECT") | "\(.execId) \(.preExisting) \(.startSeen // false)"')"
check "C: its close too" "$seed true 333" \
	"$(flows $c '.[] | select(.kind == "CLOSE") | "\(.execId) \(.preExisting) \(.bytesSent)"')"
finish
