#!/usr/bin/env bash
# quick
# fileAccess records (bpf/fileaccess.bpf.c): a runc container reading a fake
# service-account token mounted at the real path (a projected volume's layout: token ->
# ..data/token, ..data -> a dated directory), bind-mounted from a kubelet-like host
# directory, is recorded with the container's workload and exec id, the resolved path
# and its host path; a file on a tmpfs mounted only in a container has no host path;
# the same token opened on the host through a
# symlink, a relative path from its directory, '..', /proc/self/root and openat2 is
# recorded each time with the resolved path; a non-watched open is not recorded; modes;
# the workload's metric; 10,000 opens in one window are one record with count 10000;
# bad --watch-path values are one-line errors naming them.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/container.sh"

# Bad values first: exit 2, one line naming the value, no store made.
for bad in '' 'relative/secret' "/$(printf 'a%.0s' $(seq 300))" '/a/../b'; do
	"$FIRSTLIGHT" run --data-dir "$T/bad-data" --key "$T/bad.key" --watch-path "$bad" \
		>"$T/bad.out" 2>"$T/bad.err"
	check "--watch-path '${bad:0:20}': exit status" 2 $?
	check "--watch-path '${bad:0:20}': one line" 1 "$(wc -l <"$T/bad.err")"
	check_cmd "--watch-path '${bad:0:20}': names it" grep -qF -- "--watch-path '${bad:0:40}" "$T/bad.err"
done
check_cmd "a refused --watch-path made no store" test ! -e "$T/bad-data"

# The resolved form of $T: the kernel reports paths with no link in them.
RT=$(realpath "$T")
dated=..2026_12_05_10_00_00.000000001
tokdir() { # tokdir DIR: a projected volume's layout, token "fake-token-$$"
	mkdir -p "$1/$dated" && echo "fake-token-$$" >"$1/$dated/token" &&
		ln -s "$dated" "$1/..data" && ln -s ..data/token "$1/token"
}
tokdir "$T/sa"
mkdir -p "$T/plain" "$T/watched" && echo x >"$T/plain/file" && echo y >"$T/watched/secret"
ln -s "$RT/sa/token" "$T/link-to-token"
# The container's token: a pod volume's directory on the host, as the kubelet has it.
kdir="kubelet/pods/0c3a1f9e-$$/volumes/kubernetes.io~projected/kube-api-access-x"
tokdir "$T/$kdir"

containers_setup || { echo "cannot prepare cgroups" >&2; exit 1; }
bundle_make "$T/b" '["cat","/var/run/secrets/kubernetes.io/serviceaccount/token"]'
jq --arg src "$RT/$kdir" '.mounts += [{"destination": "/var/run/secrets/kubernetes.io/serviceaccount",
	"type": "bind", "source": $src, "options": ["rbind", "ro"]}]' "$T/b/config.json" >"$T/b/c.json" &&
	mv "$T/b/c.json" "$T/b/config.json"
# A second container writes and reads a secret on a tmpfs of its own (under the default
# /run/secrets/): mounted in its namespace only, no host path shows it.
bundle_make "$T/b2" '["sh","-c","echo s >/run/secrets/app/key && cat /run/secrets/app/key"]'
jq '.mounts += [{"destination": "/run/secrets/app", "type": "tmpfs", "source": "tmpfs",
	"options": ["nosuid", "nodev", "mode=700"]}]' "$T/b2/config.json" >"$T/b2/c.json" &&
	mv "$T/b2/c.json" "$T/b2/config.json"

# The metric's workload: a cgroup of the test's own.
root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
cg="$root/fl-filecg-$$" # not the container's name: runc makes /<id> for it
mkdir "$cg" || { echo "cannot make $cg" >&2; exit 1; }
on_cleanup "rmdir $cg"
cg_key="cgroup:$(stat -c %i "$cg")"

agent_start --metrics-addr 127.0.0.1:0 --heartbeat-interval 1 --watch-path "$RT/sa/" \
	--watch-path "$RT/watched/"
port=$(sed -n 's/.*metrics on http:\/\/127.0.0.1:[0-9]*\/metrics (port \([0-9]*\)).*/\1/p' "$T/agent.err")
check "the node has file-access" true \
	"$("$FIRSTLIGHT" read "$T/data" | jq -s '[.[] | .nodeCapabilities.available // empty | index("file-access") != null] | first')"
cid="fl-file-$$"
out=$(cd "$T/b" && runc run "$cid" </dev/null)
check "container: exit status and the token read" "0 fake-token-$$" "$? $out"
runc delete -f "$cid" >/dev/null 2>&1
wait_for 30 container_recorded "$cid" || fail "the container's identity was not recorded"
cid2="fl-file2-$$"
out=$(cd "$T/b2" && runc run "$cid2" </dev/null)
check "tmpfs container: exit status and its secret read" "0 s" "$? $out"
runc delete -f "$cid2" >/dev/null 2>&1
wait_for 30 container_recorded "$cid2" || fail "the tmpfs container's identity was not recorded"

m="fl-file-$$"
F="$HELPERS/fl-open"
"$F" "$T/link-to-token" 1 openat r "$m-symlink" >/dev/null &&
	(cd "$T/sa/$dated" && "$F" token 1 openat r "$m-relative" >/dev/null) &&
	"$F" "$T/sa/$dated/../token" 1 openat r "$m-dotdot" >/dev/null &&
	"$F" "/proc/self/root$RT/sa/token" 1 openat r "$m-procroot" >/dev/null &&
	"$F" "$T/sa/token" 1 openat2 r "$m-openat2" >/dev/null &&
	"$F" "$T/sa/token" 2 open r "$m-open" >/dev/null &&
	"$F" "$T/plain/file" 5 openat r "$m-plain" >/dev/null &&
	"$F" "$T/watched/secret" 1 openat rw "$m-rw" >/dev/null &&
	"$F" "$T/watched/secret" 1 openat path "$m-opath" >/dev/null
check "the host's opens: exit status" 0 $?
sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" "$3" 7 openat r "$4"' sh "$cg" "$F" "$T/watched/secret" "$m-cg" >/dev/null
check "the cgroup's opens: exit status" 0 $?
metric() {
	curl -s "http://127.0.0.1:$port/metrics" |
		sed -n "s/^firstlight_workload_file_accesses_total{workload=\"$cg_key\",owner=\"\"} //p"
}
cg_counted() { test "$(metric)" = 7; }
wait_for 60 cg_counted || fail "metrics: $cg_key has '$(metric)' watched-file opens, not 7"
hb_counted() {
	"$FIRSTLIGHT" read "$T/data" 2>/dev/null | jq -se '[.[] | .heartbeat.fileAccessRecords // empty | tonumber] | max >= 10' >/dev/null
}
wait_for 60 hb_counted || fail "no heartbeat counted the fileAccess records"
agent_stop
# The records that matter here, once: on a busy machine the store holds every exec of it,
# and each check reads the file whole.
slim() {
	jq -c --arg m "$m" 'select(.fileAccess or .workload or (.exec and
		(.exec.process.args | tostring | contains($m) or contains("serviceaccount"))))' \
		"$T/records.jsonl" >"$T/slim.jsonl" && mv "$T/slim.jsonl" "$T/records.jsonl"
}
slim

token="$RT/sa/$dated/token"
# exec_of ARGS_JSON: the exec id of the process that ran these args.
exec_of() {
	q -r --argjson a "$1" '[.[] | select(.exec.process.args == $a) | .exec.process.execId] | first // ""'
}
# file_of EXEC_ID JQ: JQ over that image's fileAccess records, as one array.
file_of() {
	q -c --arg id "$1" "[.[] | .fileAccess // empty | select(.execId == \$id) | $2]"
}

# The container: its workload, its exec, the path as its mount namespace sees it.
ckey=$(q -r --arg id "$cid" '[.[] | select(.workload.containerId == $id) | .workload.key] | first')
cexec=$(exec_of '["cat","/var/run/secrets/kubernetes.io/serviceaccount/token"]')
check_cmd "container: its exec was recorded" test -n "$cexec"
check "container: one record, its workload, the resolved path, READ, once" \
	"[[\"$ckey\",\"/var/run/secrets/kubernetes.io/serviceaccount/$dated/token\",\"READ\",\"1\",\"/var/run/secrets/\"]]" \
	"$(file_of "$cexec" '[.workloadKey, .path, .mode, .count, .watch]')"
check "container: the host path, in the kubelet's directory" "[\"$RT/$kdir/$dated/token\"]" \
	"$(file_of "$cexec" '.hostPath')"
# The tmpfs container: its write and its read, each recorded, neither with a host path.
ckey2=$(q -r --arg id "$cid2" '[.[] | select(.workload.containerId == $id) | .workload.key] | first')
check "tmpfs container: its records, no host path" '[["/run/secrets/app/key","READ",""],["/run/secrets/app/key","WRITE",""]]' \
	"$(q -c --arg k "$ckey2" '[.[] | .fileAccess // empty | select(.workloadKey == $k) | [.path, .mode, .hostPath // ""]] | sort')"
check "container: the record's pid is the exec's" \
	"$(q -c --arg id "$cexec" '[.[] | select(.exec.process.execId == $id) | .exec.process.pid]')" \
	"$(file_of "$cexec" '.pid')"

# The host's ways to the same token: each recorded with the resolved path.
for how in symlink relative dotdot procroot openat2; do
	case $how in
	symlink) args="[\"$F\",\"$T/link-to-token\",\"1\",\"openat\",\"r\",\"$m-symlink\"]" ;;
	relative) args="[\"$F\",\"token\",\"1\",\"openat\",\"r\",\"$m-relative\"]" ;;
	dotdot) args="[\"$F\",\"$T/sa/$dated/../token\",\"1\",\"openat\",\"r\",\"$m-dotdot\"]" ;;
	procroot) args="[\"$F\",\"/proc/self/root$RT/sa/token\",\"1\",\"openat\",\"r\",\"$m-procroot\"]" ;;
	openat2) args="[\"$F\",\"$T/sa/token\",\"1\",\"openat2\",\"r\",\"$m-openat2\"]" ;;
	esac
	id=$(exec_of "$args")
	check_cmd "$how: the exec was recorded" test -n "$id"
	check "$how: one record of the resolved path, the host's own" "[[\"$token\",\"1\",\"READ\",\"$RT/sa/\",\"$token\"]]" \
		"$(file_of "$id" '[.path, .count, .mode, .watch, .hostPath]')"
done
check "open(2) twice: one record, count 2" "[[\"$token\",\"2\"]]" \
	"$(file_of "$(exec_of "[\"$F\",\"$T/sa/token\",\"2\",\"open\",\"r\",\"$m-open\"]")" '[.path, .count]')"
check "modes: O_RDWR and O_PATH" '["READ_WRITE","PATH"]' \
	"$(q -c --arg p "$RT/watched/secret" --arg m "$m" '[.[] | .fileAccess // empty | select(.path == $p and .count == "1") | .mode] | sort | reverse')"
plain=$(exec_of "[\"$F\",\"$T/plain/file\",\"5\",\"openat\",\"r\",\"$m-plain\"]")
check_cmd "non-watched: the exec was recorded" test -n "$plain"
check "non-watched: no record" "[]" "$(file_of "$plain" '.path')"
check "non-watched: no record of its path at all" 0 \
	"$(q --arg p "$RT/plain/file" '[.[] | .fileAccess // empty | select(.path == $p)] | length')"
check "the cgroup's seven opens: one record of its workload" "[[\"$cg_key\",\"7\"]]" \
	"$(file_of "$(exec_of "[\"$F\",\"$T/watched/secret\",\"7\",\"openat\",\"r\",\"$m-cg\"]")" '[.workloadKey, .count]')"
"$FIRSTLIGHT" read --text "$T/data" >"$T/text" 2>&1
# (quoted: "~" is not among the bytes printed bare)
check_cmd "read --text: the container's read" grep -qF " exec_id=$cexec workload=$ckey path=/var/run/secrets/kubernetes.io/serviceaccount/$dated/token host_path=\"$RT/$kdir/$dated/token\" watch=/var/run/secrets/ count=1 " "$T/text"
check_cmd "read --text: the container's read, its mode and pid" grep -qE " file-access READ pid=[0-9]+ exec_id=$cexec " "$T/text"
"$FIRSTLIGHT" tree --container "$cid" "$T/data" >"$T/tree" 2>&1
check "tree: exit status" 0 $?
check_cmd "tree: the read under the container's process, with its host path" grep -qE \
	"─ \+[^ ]+ file READ \"/var/run/secrets/kubernetes.io/serviceaccount/$dated/token\" on the host \"$RT/$kdir/$dated/token\" \(watched /var/run/secrets/\): 1 open$" "$T/tree" ||
	sed 's/^/    tree: /' "$T/tree" >&2
"$FIRSTLIGHT" tree --container "$cid" --json "$T/data" >"$T/tree.json" 2>&1
check "tree --json: the read in its process's fileAccess" \
	"$(jq -cn --arg p "/var/run/secrets/kubernetes.io/serviceaccount/$dated/token" --arg e "$cexec" \
		--arg h "$RT/$kdir/$dated/token" '[[$p, $h, "READ", "/var/run/secrets/", "1", $e]]')" \
	"$(jq -c '[.. | objects | .fileAccess? // empty | .[] | [.path, .hostPath, .mode, .watch, .count, .execId]]' "$T/tree.json")"

# 10,000 opens of a watched file: one window long enough for the loop (the record is
# written at the window's end, here at stop), one record, count 10000.
rm -rf "$T/data"
agent_start --net-window-ms 60000 --watch-path "$RT/watched/"
"$F" "$T/watched/secret" 10000 openat r "$m-loop" >/dev/null
check "the loop: exit status" 0 $?
agent_stop
check "no file events dropped" 0 "$(q '[.[] | .gap // empty | select(.kind == "RING_BUFFER_DROP" and .eventType == "file")] | length')"
slim
loop=$(exec_of "[\"$F\",\"$T/watched/secret\",\"10000\",\"openat\",\"r\",\"$m-loop\"]")
check_cmd "the loop: its exec was recorded" test -n "$loop"
check "the loop: one record, count 10000" "[[\"$RT/watched/secret\",\"10000\",\"READ\"]]" \
	"$(file_of "$loop" '[.path, .count, .mode]')"
finish
