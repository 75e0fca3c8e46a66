# NATS JetStream servers (Debian's nats-server) for the shipping tests: each on a loopback
# port (the server picks it, or the cluster's are picked free just before), its store under
# $T, stopped by cleanup. Source after e2e.sh.
# Also: the agent's metrics port, and the collector.

# nats_start NAME [PORT]: a JetStream server; sets NAME_port and NAME_url (NAME_pid).
# PORT given: that one (a restart keeps its clients' URL). NATS_ADDR: the address it
# listens on (default 127.0.0.1; a test's own namespace's veth for a pod to reach it).
nats_start() {
	local name=$1 port=${2:--1} dir=$T/nats-$1 log addr=${NATS_ADDR:-127.0.0.1}
	mkdir -p "$dir"
	log=$dir/log.$(date +%s%N)
	nats-server -a "$addr" -p "$port" -js -sd "$dir/js" -n "fl-$name" -l "$log" &
	eval "${name}_pid=$!"
	on_cleanup "kill -TERM $! 2>/dev/null; wait $! 2>/dev/null"
	if ! wait_for 20 grep -qs "Server is ready" "$log"; then
		echo "nats-server $name did not start:" >&2
		cat "$log" >&2
		return 1
	fi
	port=$(sed -n "s/.*Listening for client connections on $addr:\\([0-9]*\\).*/\\1/p" "$log" | tail -n1)
	eval "${name}_port=$port ${name}_url=nats://$addr:$port"
}

# nats_stop NAME: a clean stop (its store stays).
nats_stop() {
	local pid
	eval "pid=\$${1}_pid"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# nats_cluster NAME N: N servers in one JetStream cluster on free ports; NAME_url lists
# them all, NAMEi_pid / NAMEi_url each (i from 1).
nats_cluster() {
	local name=$1 n=$2 ports i routes="" url=""
	mapfile -t ports < <("$HELPERS/fl-net" free-ports 127.0.0.1 $((2 * n)))
	for ((i = 1; i <= n; i++)); do
		routes+="${routes:+, }nats-route://127.0.0.1:${ports[$((n + i - 1))]}"
		url+="${url:+,}nats://127.0.0.1:${ports[$((i - 1))]}"
	done
	for ((i = 1; i <= n; i++)); do
		local dir=$T/nats-$name$i
		mkdir -p "$dir"
		cat >"$dir/conf" <<-EOF
		server_name: fl-$name$i
		listen: 127.0.0.1:${ports[$((i - 1))]}
		jetstream { store_dir: "$dir/js" }
		cluster {
		  name: fl-$name
		  listen: 127.0.0.1:${ports[$((n + i - 1))]}
		  routes: [ $routes ]
		}
		EOF
		nats-server -c "$dir/conf" -l "$dir/log" &
		eval "${name}${i}_pid=$! ${name}${i}_url=nats://127.0.0.1:${ports[$((i - 1))]}"
		on_cleanup "kill -TERM $! 2>/dev/null; wait $! 2>/dev/null"
	done
	eval "${name}_url=$url"
	# Ready once JetStream has a meta leader: a stream can be made then.
	for ((i = 1; i <= n; i++)); do
		if ! wait_for 60 grep -qs "Server is ready" "$T/nats-$name$i/log"; then
			echo "nats-server $name$i did not start:" >&2
			cat "$T/nats-$name$i/log" >&2
			return 1
		fi
	done
	wait_for 60 grep -qsi "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" \
		"$T"/nats-"$name"*/log
}

# metrics_port: the agent's metrics port (started with --metrics-addr 127.0.0.1:0).
metrics_port() {
	sed -n 's/.*metrics on http:.*(port \([0-9]*\)).*/\1/p' "$T/agent.err" | tail -n1
}

# metric NAME: its value in the agent's metrics now.
metric() {
	curl -sf "http://127.0.0.1:$(metrics_port)/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# ship_drained: every batch the agent had written when this wait began is acked. A
# watermark (acked + backlog at the first call), not "the backlog is 0": the agent records
# the whole machine, whose own processes keep writing batches, and a batch may wait in a
# linger, so a backlog of 0 is a moment a poll may never see. Shipping goes in order, so
# acked >= the mark means all of those batches are in. Use as `wait_for 60 ship_drained`.
SHIP_MARK=
ship_drained() {
	local m acked backlog
	m=$(curl -sf "http://127.0.0.1:$(metrics_port)/metrics") || return 1
	acked=$(awk '$1 == "firstlight_ship_acked_batches_total" { print $2 }' <<<"$m")
	backlog=$(awk '$1 == "firstlight_ship_backlog_batches" { print $2 }' <<<"$m")
	[ -n "$acked" ] && [ -n "$backlog" ] || return 1
	[ -n "$SHIP_MARK" ] || SHIP_MARK=$((acked + backlog))
	[ "$acked" -ge "$SHIP_MARK" ] || return 1
	SHIP_MARK=
}

# collector_start URL [ARGS...]: the collector into $T/col (its key $T/col.key); waits for
# its ready file. COLLECTOR_PID.
collector_start() {
	local url=$1
	shift
	rm -f "$T/col.ready"
	"$FIRSTLIGHT" collect --from "$url" --store "$T/col" --key "$T/col.key" --metrics-addr off \
		--ready-file "$T/col.ready" "$@" >"$T/col.out" 2>>"$T/col.err" &
	COLLECTOR_PID=$!
	on_cleanup "kill -TERM $COLLECTOR_PID 2>/dev/null; wait $COLLECTOR_PID 2>/dev/null"
	if ! wait_for 30 test -e "$T/col.ready"; then
		echo "collector did not become ready:" >&2
		cat "$T/col.err" >&2
		return 1
	fi
}

collector_stop() {
	kill -TERM "$COLLECTOR_PID"
	wait "$COLLECTOR_PID"
	check "collector exit status" 0 $?
}

# batches_of DIR: the batch hashes of a store (a node's data dir or folder), in order.
batch_hashes() {
	local f
	for f in "$1"/*.seg.gz; do "$HELPERS/fl-segtool" hashes "$f"; done
}

# collected_all LOCAL NODE [STORE]: the collector's folder of NODE (in STORE, default $T/col)
# holds as many batches as LOCAL.
collected_all() {
	local node want got
	want=$(batch_hashes "$1" | wc -l)
	got=$(batch_hashes "${3:-$T/col}/$2" 2>/dev/null | wc -l)
	[ "$got" -ge "$want" ]
}

# collector_metric NAME NODE: the collector's metric NAME for NODE (it runs with
# --metrics-addr 127.0.0.1:0; the port is read from its log).
collector_metric() {
	local port
	port=$(sed -n 's/.*collect: metrics on http:.*(port \([0-9]*\)).*/\1/p' "$T/col.err" | tail -n1)
	curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1{node=\"$2\"}" '$1 == m { print $2 }'
}

# copy_matches NODE [STORE] (the collector stopped): its copy of NODE (in STORE, default
# $T/col) is $T/data batch for batch and verifies with the node's key, which is exported
# to $T/node.pub. verify's output is left in $T/verify-copy.out.
copy_matches() {
	local copy=${2:-$T/col}/$1
	check "the collector's copy is the node's, batch for batch" "$(batch_hashes "$T/data")" \
		"$(batch_hashes "$copy")"
	"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub"
	"$FIRSTLIGHT" verify --pubkey "$T/node.pub" "$copy" >"$T/verify-copy.out" 2>&1
	check "the copy verifies with the node's key" 0 $? || cat "$T/verify-copy.out" >&2
}

# copy_is_the_nodes NODE MARKER COUNT (the collector stopped): copy_matches NODE, its own
# chain holds no finding, and COUNT processes whose argv[1] starts with MARKER are in the
# copy (a new segment's restatement of live processes aside).
copy_is_the_nodes() {
	copy_matches "$1"
	check "no finding in the collector's chain" "" \
		"$("$FIRSTLIGHT" read "$T/col/@collector" 2>/dev/null | jq -r 'select(.gap) | .gap.kind')"
	check "every workload in the copy" "$3" "$("$FIRSTLIGHT" read "$T/col/$1" | jq -s --arg m "$2" \
		'[.[] | select((.snapshot | not) and (.exec.process.args[1]? // "" | startswith($m)))] | length')"
}
