#!/usr/bin/env bash
# quick
# A unix stream socket: the client's connect is recorded with the path, and with its
# peer, the server process that listened on it (SO_PEERCRED's process).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"

path="$T/fl.sock"
agent_start
serve srv "$HELPERS/fl-net" unix-server "$path" "$T/srv.ready"
"$HELPERS/fl-net" unix-client "$path" 10 >"$T/cli.out" &
cli=$!
wait $cli
check "client exit status" 0 $?
wait "$srv_pid"
check "server received" 10 "$(kv "$T/srv.out" received)"
agent_stop

check "one unix connect" 1 "$(flows $cli '[.[] | select(.kind == "UNIX_CONNECT")] | length')"
check "path" "$path" "$(flows $cli '.[] | select(.kind == "UNIX_CONNECT") | .dstAddr')"
check "stream socket" 1 "$(flows $cli '.[] | select(.kind == "UNIX_CONNECT") | .socketType')"
check "attributed to the client" "$(exec_of $cli execId) true" "$(flows $cli '.[] | select(.kind == "UNIX_CONNECT") | "\(.execId) \(.startSeen)"')"
check "peer is the server" "$srv_pid $(exec_of "$srv_pid" execId)" \
	"$(flows $cli '.[] | select(.kind == "UNIX_CONNECT") | "\(.peerPid) \(.peerExecId)"')"
check "no escaping needed" false "$(flows $cli '.[] | select(.kind == "UNIX_CONNECT") | .dstAddrEscaped // false')"
finish
