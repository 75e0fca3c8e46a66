#!/usr/bin/env bash
# serial
# The collector's pod template (deploy/kubernetes/collector.yaml) run in podman with
# exactly its settings (scripts/podman-args.py): its user and fsGroup, no capability, no
# new privileges, a read-only root, the runtime's default seccomp profile, its args with
# NATS_URL expanded; only NATS_URL (what an operator sets) and the volume's directory are
# the test's. Its network is a namespace of the test's own, joined to the host by a veth
# pair, where the test's JetStream server listens. An agent on the host ships to it; the
# pod becomes healthy, stores the node's batches, which verify with the node's key, made
# its key and store on its volume as its own user, and stops cleanly within the grace period.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/image.sh"
. "$(dirname "$0")/../lib/nats.sh"

here=$(cd "$(dirname "$0")/../.." && pwd)
manifest=$here/deploy/kubernetes/collector.yaml
image_setup || exit 1

# The pod's network: a namespace of the test's, joined to the host by a veth pair in a
# /30 of 10.253.0.0/16 picked by the test's pid (two runs at once rarely meet in one).
ns=flcol$$ veth=flc$$ net=10.253.$((($$ >> 6) % 256)).$((($$ % 64) * 4))
host_ip=${net%.*}.$((${net##*.} + 1)) pod_ip=${net%.*}.$((${net##*.} + 2))
on_cleanup "podman rm -f -t 0 fl-col-$$ >/dev/null 2>&1"
ip netns add "$ns" || { echo "cannot create netns" >&2; exit 1; }
on_cleanup "ip netns del $ns"
ip link add "${veth}h" type veth peer name "${veth}p" netns "$ns" || exit 1
on_cleanup "ip link del ${veth}h 2>/dev/null"
ip addr add "$host_ip/30" dev "${veth}h" && ip link set "${veth}h" up &&
	ip -n "$ns" addr add "$pod_ip/30" dev "${veth}p" && ip -n "$ns" link set "${veth}p" up &&
	ip -n "$ns" link set lo up || exit 1
NATS_ADDR=$host_ip nats_start js || exit 1

node=col-pod-node-$$
export NODE_NAME=$node
agent_start --ship "$js_url" --metrics-addr 127.0.0.1:0
"$HELPERS/fl-storm" -n 100 -p 2 -- /bin/true "fl-colpod-$$"
check_cmd "everything written is acked" wait_for 60 ship_drained

mapfile -t pod_args < <("$here/scripts/podman-args.py" "$manifest" --network "ns:/run/netns/$ns" \
	--map "pvc:evidence=$T/pvc" --set-env "NATS_URL=$js_url" --image "$image")
check_cmd "flags derived from the manifest" test "${#pod_args[@]}" -gt 10
check "the template runs with its pinned image" "$(sed -n 's/^ *image: //p' "$manifest")" "$image"
podman run -d --name "fl-col-$$" "${pod_args[@]}" >/dev/null || { echo "podman run failed" >&2; exit 1; }
pid=$(podman inspect -f '{{.State.Pid}}' "fl-col-$$")
# /healthz from inside the pod's network namespace, where a kubelet's probe arrives.
healthz() { ip netns exec "$ns" curl -s -o "$T/healthz" -w '%{http_code}' http://127.0.0.1:9465/healthz; }
consuming() { [ "$(healthz) $(cat "$T/healthz" 2>/dev/null)" = "200 ok: consuming" ]; }
if ! wait_for 60 consuming; then
	echo "the pod did not become healthy:" >&2
	podman logs "fl-col-$$" >&2
	exit 1
fi
check "healthy, consuming" "200 ok: consuming" "$(healthz) $(cat "$T/healthz")"
check "the pod runs as its user, with its fsGroup" "65532 65532 65532" \
	"$(awk '$1 == "Uid:" { u = $2 } $1 == "Gid:" { g = $2 } $1 == "Groups:" { s = $2 } END { print u, g, s }' "/proc/$pid/status")"
check "no capability, no new privileges, a seccomp filter" "0000000000000000 0000000000000000 1 2" \
	"$(awk '$1 == "CapEff:" { e = $2 } $1 == "CapPrm:" { p = $2 } $1 == "NoNewPrivs:" { n = $2 } $1 == "Seccomp:" { s = $2 } END { print e, p, n, s }' "/proc/$pid/status")"
check "the pod's root is read-only" ro "$(awk '$5 == "/" { split($6, o, ","); print o[1] }' "/proc/$pid/mountinfo")"
check_cmd "it holds the node's batches" wait_for 60 collected_all "$T/data" "$node" "$T/pvc/store"

agent_stop
check_cmd "and the last ones" wait_for 60 collected_all "$T/data" "$node" "$T/pvc/store"
podman stop -t "$(sed -n 's/^ *terminationGracePeriodSeconds: //p' "$manifest")" "fl-col-$$" >/dev/null
check "stopped within the grace period: exit status" 0 "$(podman inspect -f '{{.State.ExitCode}}' "fl-col-$$")"
podman logs "fl-col-$$" >"$T/pod.log" 2>&1

copy_matches "$node" "$T/pvc/store"
check "its key made on the volume: its user's, 0600" "65532 600" "$(stat -c '%u %a' "$T/pvc/collector.key")"
check "its store: its user's" 65532 "$(stat -c %u "$T/pvc/store")"
"$FIRSTLIGHT" key export --key "$T/pvc/collector.key" >"$T/col.pub"
check_cmd "its own chain verifies with its key" "$FIRSTLIGHT" verify --pubkey "$T/col.pub" "$T/pvc/store/@collector"
check "its own chain ends STOPPED" STOPPED \
	"$("$FIRSTLIGHT" read "$T/pvc/store/@collector" | jq -r 'select(.agent) | .agent.state' | tail -n1)"
finish
