#!/usr/bin/env bash
# quick
# Finding what to select: `firstlight workloads` lists a real runc container (with
# Kubernetes annotations) by key, container id, name, pod, image, first/last seen,
# processes and gaps, as text and JSON; `tree` takes the key and id it shows; `tree -v`
# shows the exec ids `--exec-id` takes; a selection that matches nothing names what comes
# closest (a bare cgroup id its key).
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
id="fl-wl-$$-0123456789abcdef"
bundle_make "$T/b" '["sh","-c","(exit 0); busybox true fl-wl-child; exit 6"]' "$(jq -n '{
	"io.kubernetes.cri.container-type": "container",
	"io.kubernetes.cri.sandbox-name": "web-0",
	"io.kubernetes.cri.sandbox-namespace": "shop",
	"io.kubernetes.cri.sandbox-uid": "5b0c1e2d-3f4a-4b6c-8d9e-0f1a2b3c4d5e",
	"io.kubernetes.cri.container-name": "app",
	"io.kubernetes.cri.image-name": "registry.example/shop/app:1.2"}')"

agent_start
container_run runc "$id" "$T/b"
check "container exit status" 6 $?
agent_stop

cg=$(q -r --arg id "$id" '[.[] | select(.workload.containerId == $id)][-1].workload.cgroupId')
key="cgroup:$cg"
check_cmd "the container's workload was recorded" test -n "$cg" -a "$cg" != null

# JSON: one object per workload; the container's, exactly.
"$FIRSTLIGHT" workloads --json "$T/data" >"$T/wl.jsonl" 2>"$T/wl.err"
check "workloads --json: exit status" 0 $?
check "workloads --json: every line an object with every field" 21 \
	"$(jq -r 'keys | length' "$T/wl.jsonl" | sort -u | paste -sd' ')"
row=$(jq -c --arg k "$key" 'select(.key == $k)' "$T/wl.jsonl")
check "the container's row" \
	"CONTAINER $id app web-0 shop registry.example/shop/app:1.2 runc null true" \
	"$(jq -r '"\(.kind) \(.containerId) \(.containerName) \(.podName) \(.podNamespace) \(.image) \(.runtime) \(.owner) \(.ended)"' <<<"$row")"
# Processes: the distinct processes the records show in its cgroup (a fork and its exec
# are one); first and last seen: within the records that name it.
procs=$(q --arg cg "$cg" '[.[] | (.exec // .fork) | select(.process.cgroupId == $cg) | .process
	| "\(.pid)/\(.startBootNano)"] | unique | length')
check_cmd "processes recorded in it" test "$procs" -ge 3
check "processes" "$procs" "$(jq -r .processes <<<"$row")"
check "gaps" "$(q --arg k "$key" '[.[] | select(.gap.workloadKey == $k)] | length')" "$(jq -r .gaps <<<"$row")"
first=$(q -r --arg k "$key" --arg cg "$cg" '[.[] | select(.workload.key == $k) | .workload.firstSeenUnixNano] | min')
check "first seen: its STARTED record's" "$first" "$(jq -r .firstSeenUnixNano <<<"$row")"
last=$(q -r --arg k "$key" --arg cg "$cg" '[.[] | select(.workload.key == $k or (.exec // .fork).process.workloadKey == $k
	or .exit.cgroupId == $cg or .flow.workloadKey == $k or .gap.workloadKey == $k)
	| .timeUnixNano, (.workload.lastSeenUnixNano // empty)] | sort_by(length, .) | last')
check "last seen: its latest record's" "$last" "$(jq -r .lastSeenUnixNano <<<"$row")"

# Text: the same row, the id cut to the prefix tree takes.
"$FIRSTLIGHT" workloads --kind container "$T/data" >"$T/wl.txt" 2>"$T/wl.err"
check "workloads --kind container: exit status" 0 $?
check "text: header" "KEY KIND CONTAINER NAME POD IMAGE OWNER FIRST SEEN LAST SEEN PROCESSES GAPS" \
	"$(head -n 1 "$T/wl.txt" | tr -s ' ')"
check "text: the container's line" \
	"$key CONTAINER ${id:0:12} app shop/web-0 registry.example/shop/app:1.2 - $(jq -r '.firstSeen[0:23]' <<<"$row")Z $(jq -r '.lastSeen[0:23]' <<<"$row")Z $procs $(jq -r .gaps <<<"$row")" \
	"$(grep "^$key " "$T/wl.txt" | tr -s ' ')"
check "--kind container: only containers" 0 "$(tail -n +2 "$T/wl.txt" | awk '$2 != "CONTAINER"' | wc -l)"
check "the same from stdin (-)" "$(cat "$T/wl.txt")" \
	"$(cat "$T"/data/*.seg.gz | "$FIRSTLIGHT" workloads --kind CONTAINER -)"
"$FIRSTLIGHT" workloads --kind containr "$T/data" >/dev/null 2>"$T/wl.err"
check "--kind with a typo: usage error" 2 $?
check_cmd "--kind with a typo: names it" grep -q "workloads: --kind: unknown kind 'containr'" "$T/wl.err"

# What the list shows is what tree takes.
"$FIRSTLIGHT" tree --workload "$key" "$T/data" >"$T/t1" 2>&1
check "tree --workload KEY from the list" 0 $?
"$FIRSTLIGHT" tree --container "${id:0:12}" "$T/data" >"$T/t2" 2>&1
check "tree --container ID12 from the list" 0 $?
check "both select the same job" "$(cat "$T/t1")" "$(cat "$T/t2")"
# tree -v: the exec ids, as the records have them.
"$FIRSTLIGHT" tree -v --workload "$key" "$T/data" >"$T/tv" 2>&1
sh_id=$(q -r --arg cg "$cg" '.[] | select(.exec.process.cgroupId == $cg and .exec.process.args[0:2] == ["sh","-c"]) | .exec.process.execId')
check_cmd "tree -v shows the entrypoint's exec id" grep -qF "/bin/busybox [\"sh\",\"-c\",\"(exit 0); busybox true fl-wl-child; exit 6\"] [exec id $sh_id]" "$T/tv"
"$FIRSTLIGHT" tree --exec-id "$sh_id" "$T/data" >/dev/null 2>&1
check "the exec id it shows selects" 0 $?
check "without -v no exec id" 0 "$(grep -c '\[exec id ' "$T/t1")"

# Nothing matched: what comes closest, in the one error line.
"$FIRSTLIGHT" tree --workload "$cg" "$T/data" >/dev/null 2>"$T/e1"
check "tree --workload ID: exit status" 2 $?
check "tree --workload ID: suggests its key" \
	"firstlight: error: tree: no workload '$cg' in the input: the workload key of cgroup $cg is $key: write --workload $key" \
	"$(cat "$T/e1")"
"$FIRSTLIGHT" tree --container "fl-wl-$$-0123456789abcdeX" "$T/data" >/dev/null 2>"$T/e2"
check "tree --container typo: exit status" 2 $?
check "tree --container typo: one line" 1 "$(grep -c . "$T/e2")"
check_cmd "tree --container typo: closest is the container" grep -q "; closest: ${id:0:12} (app)" "$T/e2"
"$FIRSTLIGHT" tree --pod web-1 "$T/data" >/dev/null 2>"$T/e3"
check_cmd "tree --pod typo: closest is the pod" grep -q "no pod named 'web-1' .*; closest: shop/web-0" "$T/e3"
finish
