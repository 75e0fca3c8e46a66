#!/usr/bin/env bash
# serial
# The pictures, rendered by a real browser: `tree --html` of real runc jobs and `report
# --html` over a window the test made incomplete, loaded in headless Chromium (one
# browser for every page: tests/helpers/fl-browse), with the screenshots kept under
# build/ as the test's artifacts.
#   Job A: a runc container whose script starts four children: one connects to a TCP
#     server of the test, one is killed with SIGKILL, one exits 7, one carries hostile
#     argv ("</script><script>..." and a right-to-left override). Its page must have one
#     lane per process of the tree, show that argv as the characters it is, and hold no
#     script element.
#   Job B: the same job while the ring is overfilled (the agent SIGSTOPped, execs with
#     8 KiB of argv from a cgroup of the test): its page draws a band per gap of the tree.
#   Then the agent is killed with SIGKILL and started again: the report over a window from
#   before job A to after the restart is incomplete, and says why: the drops (with job B's
#   workload and counts as recorded), the run without STOPPED (the first run), the time no
#   agent ran (the down span of the strip; its SENSOR_DOWN gap is noted, not a reason, as
#   `gaps --fail-on incomplete` passes it); the chain verifies with the pinned key; the
#   node's kernel and what it lacked are the agent's NodeCapabilities record's, and job
#   A's workload names what its ENDED record says could not be observed. Its page shows
#   the strip, the verdict the JSON gives and the kernel's row.
# Processes, workloads and drops are the test's own, found by container id and cgroup;
# what other tests on the machine do may add gaps to the node's window, never remove ours.
. "$(dirname "$0")/../lib/e2e.sh"
. "$(dirname "$0")/../lib/net.sh"
. "$(dirname "$0")/../lib/container.sh"

command -v chromium >/dev/null || { echo "chromium is not installed: run scripts/deps.sh" >&2; exit 1; }
containers_setup || { echo "container set-up failed" >&2; exit 1; }
ART=${FL_ARTIFACTS:-$(dirname "$FIRSTLIGHT")/artifacts}/pictures
mkdir -p "$ART" || exit 1

EVIL1='</script><script>alert(1)</script>'
EVIL2=$(printf 'left\u202eright')

# The job waits at a gate (a FIFO the test writes) so that the test decides what the
# sensor sees while the children run; see t_tree.sh for why each step is as it is.
script='echo ready > /gate/ready
read go < /gate/go
busybox nc 127.0.0.1 "$1" > /dev/null &
busybox sleep 30 &
s=$!
n=0
until read c < /proc/$s/comm && [ "$c" = busybox ]; do n=$((n + 1)); [ $n -lt 1000000 ] || break; done
kill -9 $s
busybox sh -c "exit 7" &
busybox sh -c "exit 0" "$2" "$3" &
wait
exit 4'

# job RUN PORT: the job as container fl-pic-RUN-$$ in the background, up to its gate.
job() {
	local run=$1 port=$2 b=$T/b-$1 g=$T/gate-$1
	mkdir -p "$g" && mkfifo "$g/go" || exit 1
	bundle_make "$b" "$(jq -n --arg s "$script" --arg p "$port" --arg e1 "$EVIL1" --arg e2 "$EVIL2" \
		'["sh","-c",$s,"fl-job",$p,$e1,$e2]')" || exit 1
	jq --arg g "$g" '.mounts += [{"destination":"/gate","type":"bind","source":$g,"options":["rbind","rw"]}]' \
		"$b/config.json" >"$b/c.new" && mv "$b/c.new" "$b/config.json"
	job_id=fl-pic-$run-$$
	on_cleanup "runc delete -f $job_id"
	(cd "$b" && exec runc run "$job_id" </dev/null >"$T/job-$run.out" 2>"$T/job-$run.err") &
	job_pid=$!
	wait_for 20 test -s "$g/ready" || { cat "$T/job-$run.err" >&2; fail "job $run did not reach its gate"; finish; }
}

open_gate() {
	if ! timeout 40 sh -c 'echo go > "$1"' sh "$T/gate-$1/go"; then
		fail "gate $1: the job did not read it"
		runc kill "$job_id" KILL
	fi
	wait "$job_pid"
}

now() { date +%s.%N; }

# ---- the records ----------------------------------------------------------------------
# Shares off (--ring-share, --ring-headroom): the storm cgroup below must fill the whole
# ring so that the job's own events are lost as RING_BUFFER_DROP; with shares it could
# not (t_fair tests that).
agent_start --ring-size 262144 --ring-share off --ring-headroom 0
"$FIRSTLIGHT" key export --key "$T/node.key" >"$T/node.pub" || exit 1
since=$(now)

serve srv "$HELPERS/fl-net" tcp-greeter 127.0.0.1 "$T/srv.ready" 1
job a "$srv_port"
open_gate a
check "job A exit status" 4 $?
runc delete -f "$job_id" >/dev/null 2>&1
wait "$srv_pid"
id_a=$job_id

serve srv2 "$HELPERS/fl-net" tcp-greeter 127.0.0.1 "$T/srv2.ready" 1
job b "$srv2_port"
# The container's identity is recorded before the consumer stops: its runtime state is
# gone once the test deletes it, and a busy machine may still be behind on its birth.
wait_for 30 container_recorded "$job_id" || fail "container $job_id was not recorded before the drops"
kill -STOP "$AGENT_PID"
root=/sys/fs/cgroup/unified
[ -f "$root/cgroup.procs" ] || root=/sys/fs/cgroup
storm_cg="$root/fl-pic-storm-$$"
mkdir "$storm_cg" || exit 1
on_cleanup "rmdir '$storm_cg'"
filler=$(printf '%8000s' '' | tr ' ' x)
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -n 64 -p 2 -- /bin/true fl-pic-storm "$3"' \
	sh "$storm_cg" "$HELPERS/fl-storm" "$filler"
check "storm exit status" 0 $?
open_gate b
check "job B exit status" 4 $?
kill -CONT "$AGENT_PID"
runc delete -f "$job_id" >/dev/null 2>&1
wait "$srv2_pid"
id_b=$job_id
# The drops are counted in the kernel and written as gap records at the agent's next
# drain: wait for those of job B's workload, then for a marker exec after them, so that
# everything before it is in the store when the agent is killed.
drops_written() {
	"$FIRSTLIGHT" read "$T/data" 2>/dev/null | jq -se --arg id "$id_b" '
		(map(select(.workload.containerId == $id)) | .[0].workload.cgroupId) as $cg |
		$cg != null and any(.[]; .gap.kind == "RING_BUFFER_DROP" and .gap.cgroupId == $cg)' >/dev/null
}
wait_for 20 drops_written || fail "job B's drops were not recorded"
/bin/true "fl-pic-mark-$$"
marker_written() {
	"$FIRSTLIGHT" read "$T/data" 2>/dev/null | jq -se --arg m "fl-pic-mark-$$" \
		'any(.[]; .exec.process.args[1]? == $m)' >/dev/null
}
wait_for 20 marker_written || fail "the marker exec was not recorded"

# kill -9, a time without an agent, and a restart.
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
run1=$("$FIRSTLIGHT" read "$T/data" | jq -rs '[.[] | select(.agent.state == "STARTED")][0].agentRunId')
agent_start
until=$(now)
agent_stop

# ---- the pages --------------------------------------------------------------------------
for x in a b; do
	id=id_$x
	"$FIRSTLIGHT" tree --container "${!id}" --json "$T/data" >"$T/tree-$x.json"
	check "tree $x --json exit status" 0 $?
	"$FIRSTLIGHT" tree --container "${!id}" --html "$T/tree-$x.html" "$T/data" 2>"$T/tree-$x.err"
	check "tree $x --html exit status" 0 $? || cat "$T/tree-$x.err" >&2
done
"$FIRSTLIGHT" report --since "$since" --until "$until" --pubkey "$T/node.pub" --json "$T/data" >"$T/report.json"
check "report --json exit status: not complete" 3 $?
"$FIRSTLIGHT" report --since "$since" --until "$until" --pubkey "$T/node.pub" --html "$T/report.html" "$T/data"
check "report --html exit status: not complete" 3 $?
"$FIRSTLIGHT" report --since "$since" --until "$until" --pubkey "$T/node.pub" "$T/data" >"$T/report.txt"
check "report (text) exit status" 3 $?

# The record behind job A's first exit mark, shown by a click (its fragment).
rec=$(grep -o '<a href="#r[0-9]*"><circle class="end fail"' "$T/tree-a.html" | head -1 | sed -E 's/.*#(r[0-9]+).*/\1/')
check_cmd "job A: an exit mark links to its record" test -n "$rec"
SHOTS=$T/shots
mkdir -p "$SHOTS"
"$HELPERS/fl-browse" --timeout $((60 * ${FL_E2E_DEADLINE_SCALE:-4})) "$SHOTS" "$T/tree-a.html" "$T/tree-b.html" \
	"$T/report.html" "$T/tree-a.html#$rec" 2>"$T/browse.err"
check "chromium rendered every page" 0 $? || { cat "$T/browse.err" >&2; finish; }
rm -rf "$SHOTS/profile"
cp "$SHOTS/tree-a.html.png" "$ART/tree-job.png" && cp "$SHOTS/tree-b.html.png" "$ART/tree-job-drops.png" &&
	cp "$SHOTS/report.html.png" "$ART/report.png" && cp "$SHOTS/tree-a.html-$rec.png" "$ART/tree-job-record.png" &&
	cp "$T/tree-a.html" "$T/tree-b.html" "$T/report.html" "$ART/"
check "screenshots kept in $ART" 0 $?

# ---- job A's timeline, as the browser built it ------------------------------------------
dom=$SHOTS/tree-a.html.dom.html
txt=$SHOTS/tree-a.html.txt
procs=$(jq -r '.summary.processes' "$T/tree-a.json")
check "job A: one lane per process of the tree" "$procs" "$(grep -o '<g class="lane"' "$dom" | wc -l)"
check "job A: the lanes in tree order (pids)" \
	"$(jq -r '[.processes[] | recurse(.children[]) | .pid] | join(" ")' "$T/tree-a.json")" \
	"$(grep -o '<g class="lane" data-pid="[0-9]*"' "$dom" | grep -o '[0-9]*' | paste -sd' ')"
# Job A lost nothing; a gap of no workload may still meet it (the restart's SENSOR_DOWN
# starts at the first run's last heartbeat, which may be older than the job).
check "job A: no drop of its own" 0 "$(jq '[.gaps[] | select(.kind == "RING_BUFFER_DROP")] | length' "$T/tree-a.json")"
check "job A: a band for each gap of its tree" "$(jq -r '.summary.gaps' "$T/tree-a.json")" \
	"$(grep -o '<rect class="band" data-gap="[0-9]*"' "$dom" | sort -u | wc -l)"
check "job A: the killed child's mark" 1 "$(grep -c '>SIGKILL</text>' "$dom")"
check "job A: exit 7 and exit 4 marks" "1 1" "$(grep -c '>exit 7</text>' "$dom") $(grep -c '>exit 4</text>' "$dom")"
check "job A: the connection's mark" 1 "$(grep -c 'class="flow"' "$dom")"
check "job A: no script element in the page" 0 "$(grep -ci '<script' "$dom")"
check_cmd "job A: the hostile argv read as written" grep -qF "\"$EVIL1\",\"left\\u202eright\"" "$txt"
check "job A: no raw right-to-left override anywhere" 0 "$(grep -c "$(printf '\u202e')" "$dom")"
check_cmd "job A: the text tree beside the timeline" grep -qF "└─ " "$txt"
check_cmd "job A: the clicked mark's record (the script's exit 4), field by field" \
	grep -qE "^exit.exitCode"$'\t'"4$" "$SHOTS/tree-a.html-$rec.txt"

# ---- job B: the drops as bands -----------------------------------------------------------
dom=$SHOTS/tree-b.html.dom.html
gaps=$(jq -r '.summary.gaps' "$T/tree-b.json")
check_cmd "job B: the tree has gaps" test "$gaps" -gt 0
check "job B: a band for every gap of the tree" "$gaps" \
	"$(grep -o '<rect class="band" data-gap="[0-9]*"' "$dom" | sort -u | wc -l)"
check "job B: one lane per process" "$(jq -r '.summary.processes' "$T/tree-b.json")" \
	"$(grep -o '<g class="lane"' "$dom" | wc -l)"

# ---- the report ----------------------------------------------------------------------------
r() { jq -r "$@" "$T/report.json"; }
"$FIRSTLIGHT" read "$T/data" >"$T/records.jsonl"
cg_b=$(q -r --arg id "$id_b" '[.[] | select(.workload.containerId == $id)][-1].workload.cgroupId')
check "report: one node" 1 "$(r '.nodes | length')"
check "report: not complete" "false false" "$(r '"\(.complete) \(.nodes[0].complete)"')"
check "report: the verdict is the node's" "$(r '.nodes[0].verdict')" "$(r '.verdict')"
check "report: the chain verifies with the pinned key" "true true" \
	"$(r '.nodes[0].chain | "\(.verified) \(.keyPinned)"')"
check "report: the reasons the test made" "RING_BUFFER_DROP UNCLEAN_END DOWN" \
	"$(r '[.nodes[0].reasons[].kind | select(. == "RING_BUFFER_DROP" or . == "SENSOR_DOWN" or . == "UNCLEAN_END" or . == "DOWN")] | join(" ")')"
check "report: the restart's SENSOR_DOWN noted" 1 "$(r '[.nodes[0].notes[].kind | select(. == "SENSOR_DOWN")] | length')"
check_cmd "report: the verdict says each" \
	jq -e '.nodes[0].verdict | startswith("incomplete: ") and contains("UNCLEAN_END: ") and contains("RING_BUFFER_DROP: ") and contains("sensor down: ") and contains("; noted: ") and contains("SENSOR_DOWN: ")' "$T/report.json" >/dev/null
check "report: the node's kernel, as its NodeCapabilities record says" \
	"$(q -r '[.[] | select(.nodeCapabilities)][-1].nodeCapabilities | "\(.kernelRelease) \(.missing // [] | join(","))"')" \
	"$(r '.nodes[0].capabilities | "\(.kernel) \([.missing[].name] | join(","))"')"
check "report: job A's workload, what its node could not observe" \
	"$(q -c --arg id "$id_a" '[.[] | select(.workload.containerId == $id and .workload.state == "ENDED")][0].workload.unobserved // []')" \
	"$(r -c --arg id "$id_a" '.nodes[0].workloads[] | select(.containerId == $id) | "\(.coverageFrom) \(.unobserved)"' | sed 's/^ended //')"
check "report: job B's drops, each gap record with its count" \
	"$(q -r --arg cg "$cg_b" '[.[] | select(.gap.kind == "RING_BUFFER_DROP" and .gap.cgroupId == $cg) | "\(.gap.eventType) \(.gap.count)"] | sort | .[]')" \
	"$(r --arg k "cgroup:$cg_b" '[.nodes[0].gaps[] | select(.kind == "RING_BUFFER_DROP" and .workload == $k) | "\(.eventType) \(.count)"] | sort | .[]')"
check "report: job B's workload, its drops in the window" \
	"$(q --arg cg "$cg_b" '[.[] | select(.gap.kind == "RING_BUFFER_DROP" and .gap.cgroupId == $cg) | .gap.count | tonumber] | add')" \
	"$(r --arg k "cgroup:$cg_b" '.nodes[0].workloads[] | select(.key == $k) | .droppedInWindow')"
check "report: job A's workload, ended, its processes counted" \
	"true $(q -r --arg id "$id_a" '[.[] | select(.workload.containerId == $id and .workload.state == "ENDED")][0].workload.processCount')" \
	"$(r --arg id "$id_a" '.nodes[0].workloads[] | select(.containerId == $id) | "\(.ended) \(.processes)"')"
check "report: the killed run ended uncleanly" "$run1" \
	"$(r '[.nodes[0].gaps[] | select(.kind == "UNCLEAN_END")][0].runId')"
check "report: the restart names the run it follows" "$run1 crash" \
	"$(r '[.nodes[0].gaps[] | select(.kind == "SENSOR_DOWN")][0] | "\(.previousRunId) \(.reason)"')"
check "report: both runs meet the window" 2 "$(r '.nodes[0].runs | length')"
check "report: the strip has the time no agent ran" true \
	"$(r '[.nodes[0].strip[] | select(.state == "down")] | length > 0')"
check "report: the strip spans the window" "$(r '.sinceUnixNano') $(r '.untilUnixNano')" \
	"$(r '.nodes[0].strip | "\(.[0].startUnixNano) \(.[-1].endUnixNano)"')"
check_cmd "report (text): the same verdict" grep -qxF "verdict    $(r '.verdict')" "$T/report.txt"
check_cmd "report (text): the kernel's line" grep -q "^  kernel     $(r '.nodes[0].capabilities.kernel') .*, capabilities: " "$T/report.txt"
# The node's key pinned by its name (--keys DIR/<node>.pub, as for a collected store).
node=$(r -r '.nodes[0].node')
mkdir -p "$T/keys" && cp "$T/node.pub" "$T/keys/$node.pub"
check "report --keys: the same verdict, the key pinned by the node's name" "$(r '.verdict') true" \
	"$("$FIRSTLIGHT" report --since "$since" --until "$until" --keys "$T/keys" --json "$T/data" |
		jq -r '"\(.verdict) \(.nodes[0].chain.keyPinned)"')"

dom=$SHOTS/report.html.dom.html
check_cmd "report page: the verdict as the JSON says it" grep -qxF "$(r '.verdict')" "$SHOTS/report.html.txt"
check "report page: the verdict marked incomplete" 2 "$(grep -c '<p class="verdict incomplete"' "$dom")"
check "report page: one strip" 1 "$(grep -c '<svg xmlns="http://www.w3.org/2000/svg" class="strip"' "$dom")"
check "report page: a span per span of the strip" "$(r '.nodes[0].strip | length')" \
	"$(grep -o '<rect class="span [a-zA-Z]*"' "$dom" | wc -l)"
check "report page: down spans" "$(r '[.nodes[0].strip[] | select(.state == "down")] | length')" \
	"$(grep -c '<rect class="span down"' "$dom")"
check "report page: a tick per gap" "$(r '.nodes[0].gaps | length')" "$(grep -o '<rect class="gaptick"' "$dom" | wc -l)"
check "report page: the kernel's row, a line per capability missing" "1 $(r '.nodes[0].capabilities.missing | length')" \
	"$(grep -c '<tr class="capabilities">' "$dom") $(grep -o '<li data-capability=' "$dom" | wc -l)"

# ---- bad input -----------------------------------------------------------------------------
"$FIRSTLIGHT" report --since "$since" "$T/data" >/dev/null 2>"$T/bad.err"
check "report without --until: usage error" 2 $?
check "report without --until: one line" 1 "$(wc -l <"$T/bad.err")"
"$FIRSTLIGHT" report --since yesterday --until "$until" "$T/data" >/dev/null 2>"$T/bad.err"
check "report with a bad time: usage error, naming it" "2 1" "$? $(grep -c "invalid time 'yesterday'" "$T/bad.err")"
"$FIRSTLIGHT" report --since "$since" --until "$until" - <"$T/data/$(ls "$T/data" | grep -m1 'seg.gz$')" >/dev/null 2>"$T/bad.err"
check "report of stdin: usage error, one line" "2 1" "$? $(wc -l <"$T/bad.err")"
"$FIRSTLIGHT" tree --container "$id_a" --json --html "$T/x.html" "$T/data" 2>"$T/bad.err"
check "tree --html with --json: usage error" "2 1" "$? $(wc -l <"$T/bad.err")"
"$FIRSTLIGHT" tree --container "$id_a" --html "$T/no-such-dir/x.html" "$T/data" 2>"$T/bad.err"
check "tree --html into a missing directory: exit 1, one line naming it" "1 1" \
	"$? $(grep -c "no-such-dir/x.html: No such file or directory" "$T/bad.err")"
finish
