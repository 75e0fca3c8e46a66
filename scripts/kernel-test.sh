#!/usr/bin/env bash
# The BPF programs on a second kernel: Debian 12's stock 6.1 cloud kernel, booted under
# qemu (software emulation, no KVM) with an initramfs holding busybox, the static agent
# and the static helpers. The guest (tests/kernel/guest-init.sh) runs the agent and
# known workloads and prints the records to the serial console; this script checks them
# with jq, exact values only.
#
# The kernel package is the one Debian's linux-image-cloud-amd64 metapackage depends on,
# fetched with apt-get download and cached in build/kernel/ (an offline run uses the cache).
#
# Environment: FIRSTLIGHT_STATIC (static agent), FL_THREADS_STATIC (static fl-threads),
# KT_DIR (work dir, default build/kernel), KT_TIMEOUT (seconds for the guest, default 600: a deadline, a passing guest ends sooner),
# KT_META (metapackage, default linux-image-cloud-amd64).
# Output: build/kernel/console.log (the whole serial console), a TAP-like summary.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
: "${FIRSTLIGHT_STATIC:?FIRSTLIGHT_STATIC must point at the static agent (make static)}"
: "${FL_THREADS_STATIC:?FL_THREADS_STATIC must point at the static fl-threads helper}"
KT_DIR=${KT_DIR:-$here/build/kernel}
KT_TIMEOUT=${KT_TIMEOUT:-600}
KT_META=${KT_META:-linux-image-cloud-amd64}
BUSYBOX=${BUSYBOX:-/bin/busybox}
t0=$(date +%s%N)

die() {
	echo "kernel-test: $*" >&2
	exit 1
}
elapsed() { echo "$((($(date +%s%N) - t0) / 1000000))"; }

for tool in qemu-system-x86_64 cpio gzip jq dpkg-deb apt-get timeout; do
	command -v "$tool" >/dev/null || die "$tool not found; run scripts/deps.sh (as root)"
done
file -L "$BUSYBOX" | grep -q 'statically linked' || die "$BUSYBOX is not a static busybox (busybox-static)"
for b in "$FIRSTLIGHT_STATIC" "$FL_THREADS_STATIC"; do
	file -L "$b" | grep -q 'statically linked' || die "$b is not statically linked"
done
mkdir -p "$KT_DIR"

# ---- the kernel: the image package the metapackage names, cached --------------------
# Prints the kernel package name, e.g. linux-image-6.1.0-56-cloud-amd64.
kernel_package() {
	apt-cache depends "$KT_META" 2>/dev/null | awk '/^ *Depends: linux-image-/ {print $2; exit}'
}
fetch_kernel() {
	local pkg ver deb
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then
		apt-get update -qq >/dev/null 2>&1
		pkg=$(kernel_package)
	fi
	if [ -z "$pkg" ]; then
		# No package lists and no archive: a kernel fetched earlier still serves.
		deb=$(ls -t "$KT_DIR"/linux-image-6.1.*-cloud-amd64_*.deb 2>/dev/null | head -1)
		[ -n "$deb" ] || die "cannot resolve $KT_META (apt-get update failed?) and nothing is cached"
		echo "$deb"
		return
	fi
	case $pkg in
	linux-image-6.1.*-cloud-amd64) ;;
	*) die "$KT_META depends on $pkg, not a 6.1 cloud kernel" ;;
	esac
	ver=$(apt-cache show --no-all-versions "$pkg" | awk '/^Version:/ {print $2; exit}')
	deb="$KT_DIR/${pkg}_${ver}_amd64.deb"
	if [ ! -s "$deb" ]; then
		echo "kernel-test: downloading $pkg $ver" >&2
		# apt-get download names the file itself (epoch escaped); fetch into a temp dir.
		local tmp
		tmp=$(mktemp -d "$KT_DIR/dl.XXXXXX")
		(cd "$tmp" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg=$ver") ||
			{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
		mv "$tmp"/*.deb "$deb" && rm -rf "$tmp"
	fi
	echo "$deb"
}

deb=$(fetch_kernel) || exit 1
kver=$(dpkg-deb -f "$deb" Package | sed 's/^linux-image-//')
vmlinuz="$KT_DIR/vmlinuz-$kver"
if [ ! -s "$vmlinuz" ]; then
	x=$(mktemp -d "$KT_DIR/x.XXXXXX")
	dpkg-deb -x "$deb" "$x" || die "cannot extract $deb"
	mv "$x/boot/vmlinuz-$kver" "$vmlinuz" || die "no /boot/vmlinuz-$kver in $deb"
	rm -rf "$x"
fi

# ---- the initramfs: busybox, the agent, the helper, /init ---------------------------
root="$KT_DIR/initramfs"
rm -rf "$root" && mkdir -p "$root"/{bin,dev,proc,sys,tmp,data} &&
	cp "$BUSYBOX" "$root/bin/busybox" && ln -s busybox "$root/bin/sh" &&
	cp "$FIRSTLIGHT_STATIC" "$root/bin/firstlight" &&
	cp "$FL_THREADS_STATIC" "$root/bin/fl-threads" &&
	install -m 755 "$here/tests/kernel/guest-init.sh" "$root/init" ||
	die "cannot lay out the initramfs in $root"
initrd="$KT_DIR/initramfs.cpio.gz"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$initrd" || die "cannot build the initramfs"

# ---- boot ---------------------------------------------------------------------------
console="$KT_DIR/console.log"
echo "kernel-test: booting $kver under qemu (TCG), at most ${KT_TIMEOUT}s" >&2
boot0=$(date +%s%N)
timeout -k 5 "$KT_TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
	-m 1G -smp 2 -nographic -no-reboot -nic none \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4" </dev/null >"$console" 2>&1
qrc=$?
boot_ms=$((($(date +%s%N) - boot0) / 1000000))
tr -d '\r' <"$console" >"$console.tmp" && mv "$console.tmp" "$console"
[ "$qrc" -eq 124 ] && echo "kernel-test: the guest did not finish within ${KT_TIMEOUT}s" >&2

# ---- checks -------------------------------------------------------------------------
# tests/lib/e2e.sh provides check, check_cmd, q (over $T/records.jsonl) and finish; the
# agent it would start is the guest's, so FIRSTLIGHT and HELPERS only satisfy its checks.
HELPERS=$(dirname "$FL_THREADS_STATIC")
export FIRSTLIGHT=$FIRSTLIGHT_STATIC HELPERS
. "$here/tests/lib/e2e.sh"

v() { sed -n "s/^FL-KT-VAR $1=//p" "$console" | tail -1; }
# finish (tests/lib/e2e.sh) reports and exits; the summary line goes last, so that it
# closes `make test`'s output in the usual "N passed, N failed" form.
kt_finish() {
	(finish)
	local rc=$?
	echo "kernel-test: $((CHECKS - FAILS < 0 ? 0 : CHECKS - FAILS)) passed, $FAILS failed"
	exit "$rc"
}
sed -n 's/^FL-KT-LOG //p' "$console" >"$T/agent.err"
sed -n '/^FL-KT-RECORDS-BEGIN$/,/^FL-KT-RECORDS-END$/p' "$console" | sed '1d;$d' >"$T/records.jsonl"

check "qemu exit status (0: the guest powered off)" 0 "$qrc"
check "guest kernel" "$kver" "$(v kernel)"
if ! grep -q '^FL-KT-DONE$' "$console"; then
	fail "the guest did not finish; its console ($console) ends with:"
	# The agent ran with -v: when a program was rejected, its stderr ends with libbpf's
	# copy of the verifier log and the failing program's name.
	grep -v '^FL-KT-VAR' "$console" | tail -60 | sed 's/^/    /' >&2
	kt_finish
fi

check "agent loaded the legacy exit variant" 1 \
	"$(grep -c 'sched_process_exit lacks group_dead: loading fl_exit_legacy' "$T/agent.err")"
check "agent exit status" 0 "$(v agent_rc)"
check "firstlight read exit status" 0 "$(v read_rc)"

# Every line is one JSON object with a seq; seq runs 1..N without holes.
lines=$(wc -l <"$T/records.jsonl")
check_cmd "records were printed" test "$lines" -gt 10
check "every line is a JSON record" "$lines" \
	"$(jq -c 'select(type == "object" and has("seq"))' "$T/records.jsonl" 2>/dev/null | wc -l)"
check "seq has no holes" true "$(q '[.[].seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]')"
check "first record: agent started" STARTED "$(q -r '.[0].agent.state')"
check "last record: agent stopped" STOPPED "$(q -r '.[-1].agent.state')"
check "a heartbeat after the last workload's exit" true "$(q --argjson p "$(v cgroup_pid)" '
  ([.[] | select(.exit.pid == $p) | .seq | tonumber] | max) as $x |
  ([.[] | select(.heartbeat) | .seq | tonumber] | max) as $h | $x != null and $h > $x')"
check "no malformed kernel events" 0 "$(q '[.[] | select(.heartbeat)][-1].heartbeat.malformedEvents // 0')"
check "no drops" 0 "$(q '.[-1].agent.drops // 0 | tonumber')"

# `sh -c 'exit 7'`: one fork, one exec, one exit, exact argv and code, parent = init.
p=$(v exit7_pid)
mine() { q --argjson p "$p" "$@"; }
check "exit 7: shell saw 7" 7 "$(v exit7_rc)"
check "exit 7: fork records" 1 "$(mine '[.[] | select(.fork.process.pid == $p)] | length')"
check "exit 7: exec records" 1 "$(mine '[.[] | select(.exec.process.pid == $p)] | length')"
check "exit 7: exit records" 1 "$(mine '[.[] | select(.exit.pid == $p)] | length')"
check "exit 7: argv" '["/bin/sh","-c","exit 7"]' "$(mine -c '.[] | select(.exec.process.pid == $p) | .exec.process.args')"
check "exit 7: binary" /bin/busybox "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.binary')"
check "exit 7: cwd" / "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.cwd')"
check "exit 7: ppid" 1 "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.ppid')"
cap=$(v cap_eff)
check "exit 7: capEffective (kernel_cap_t)" "$((16#${cap:-0}))" \
	"$(mine -r '.[] | select(.exec.process.pid == $p) | .exec.process.capEffective')"
check "exit 7: exit code" 7 "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode')"
check "exit 7: no signal" 0 "$(mine '.[] | select(.exit.pid == $p) | .exit.signal // 0')"
check "exit 7: exit names the exec'd image" \
	"$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.execId')" \
	"$(mine '.[] | select(.exit.pid == $p) | .exit.execId')"
check "exit 7: parent is init, seeded as pre-existing" true \
	"$(mine '(.[] | select(.exec.process.pid == 1 and .exec.process.flags.preExisting) | .exec.process.execId) as $i |
	  [.[] | select(.exec.process.pid == $p) | .exec.process.parentExecId == $i] == [true]')"

# Killed by SIGKILL.
p=$(v kill_pid)
check "SIGKILL: shell saw 128+9" 137 "$(v kill_rc)"
check "SIGKILL: exit records" 1 "$(mine '[.[] | select(.exit.pid == $p)] | length')"
check "SIGKILL: signal" 9 "$(mine '.[] | select(.exit.pid == $p) | .exit.signal')"
check "SIGKILL: no exit code" 0 "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode // 0')"
check "SIGKILL: argv" '["/bin/sh","-c","kill -KILL $$"]' "$(mine -c '.[] | select(.exec.process.pid == $p) | .exec.process.args')"

# Threads: each round is one process: one exec, one exit naming the exec'd image, no
# fork records for its threads.
for t in threads:8:5:fl-kt-join busy:4:3:busy,fl-kt-busy; do
	IFS=: read -r name rounds code extra <<<"$t"
	argv=$(jq -cn --arg c "$code" --arg x "$extra" '["/bin/fl-threads","4",$c] + ($x | split(","))')
	pids=$(v "${name}_pids")
	check "$name: rounds run" "$rounds" "$(wc -w <<<"$pids")"
	check "$name: process exit statuses" "$(printf "$code %.0s" $(seq "$rounds") | sed 's/ $//')" "$(v "${name}_rcs")"
	for p in $pids; do
		check "$name $p: exec records" 1 "$(mine '[.[] | select(.exec.process.pid == $p)] | length')"
		check "$name $p: exit records" 1 "$(mine '[.[] | select(.exit.pid == $p)] | length')"
		check "$name $p: exit code" "$code" "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode')"
		check "$name $p: exit names the exec'd image" \
			"$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.execId')" \
			"$(mine '.[] | select(.exit.pid == $p) | .exit.execId')"
		check "$name $p: no fork records from its threads" 0 "$(mine '[.[] | select(.fork.process.ppid == $p)] | length')"
		check "$name $p: argv" "$argv" "$(mine -c '.[] | select(.exec.process.pid == $p) | .exec.process.args')"
	done
done

# cgroup2: a directory the guest made; the process moved there, then exec'd.
p=$(v cgroup_pid)
cg=$(v cgroup_id)
check_cmd "cgroup: the guest printed the directory's id" test -n "$cg"
check "cgroup: process exit status" 4 "$(v cgroup_rc)"
check "cgroup: exec in the directory" "$cg" \
	"$(mine '.[] | select(.exec.process.pid == $p and .exec.process.args[0] == "/bin/fl-threads") | .exec.process.cgroupId')"
check "cgroup: exit in the directory" "$cg" "$(mine '.[] | select(.exit.pid == $p) | .exit.cgroupId')"
check "cgroup: exit code" 4 "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode')"
check "cgroup: workload named by its path" /fl-kt \
	"$(q -r --arg c "$cg" '[.[] | select(.workload.cgroupId == $c) | .workload.cgroupPath] | unique | join(",")')"
check "cgroup: parent is the root (kernfs_node.parent before 6.15)" 1 \
	"$(q -r --arg c "$cg" '[.[] | select(.workload.cgroupId == $c) | .workload.parentCgroupId] | unique | join(",")')"

boot_s=$(v boot_s) ready_s=$(v ready_s) done_s=$(v done_s)
echo "  guest: kernel up ${boot_s}s, agent ready ${ready_s}s, workloads done ${done_s}s (guest clock);" \
	"qemu ${boot_ms} ms, test $(elapsed) ms"
kt_finish
