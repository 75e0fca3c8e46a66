#!/usr/bin/env bash
# The BPF programs on the kernels nodes run: a matrix of kernels, each running the same
# workloads (tests/kernel/workloads.sh) under the agent, whose records are checked here
# with jq, exact values only:
#   debian11-5.10-x86   Debian 11's 5.10 cloud kernel (bullseye), under qemu (TCG)
#   debian12-6.1-x86    Debian 12's 6.1 cloud kernel (bookworm), under qemu (TCG)
#   debian12-6.1-arm64  Debian 12's arm64 cloud kernel, under qemu-system-aarch64 (TCG),
#                       with the cross-built static agent (make ARCH=arm64 static)
#   host                the kernel this machine runs, in a cgroup of the test's own
# The qemu guests boot the kernel with a busybox initramfs (tests/kernel/guest-init.sh) and
# print the records on the serial console. Kernels (and arm64's busybox) come from Debian's
# archive through apt source lists of their own (the mirror is the one this machine's
# bookworm source names), cached in build/kernel/<name>/: an offline run uses the cache.
# Afterwards build/kernel/kernels.md is the table of what each kernel supports, made from
# these runs' NodeCapabilities records (`make kernels-doc` copies it to docs/kernels.md).
#
# Usage: scripts/kernel-test.sh [NAME...]   (default: every kernel; KT_KERNELS also works)
# Environment: FIRSTLIGHT_STATIC, FL_THREADS_STATIC, FL_NET_STATIC (x86 guests),
# FIRSTLIGHT_STATIC_ARM64, FL_THREADS_STATIC_ARM64, FL_NET_STATIC_ARM64 (arm64 guest),
# FIRSTLIGHT, HELPERS (host run), KT_DIR (default build/kernel), KT_TIMEOUT (seconds per
# guest, a deadline: a passing guest ends sooner; default 600).
# Output: per kernel build/kernel/<name>/console.log (or host.log) and summary.json; a
# TAP-like summary ending in "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
KT_DIR=${KT_DIR:-$here/build/kernel}
KT_TIMEOUT=${KT_TIMEOUT:-600}
ALL_KERNELS="debian11-5.10-x86 debian12-6.1-x86 debian12-6.1-arm64 host"
t0=$(date +%s%N)

die() {
	echo "kernel-test: $*" >&2
	exit 1
}
ms_since() { echo "$((($(date +%s%N) - $1) / 1000000))"; }

kernels=${*:-${KT_KERNELS:-$ALL_KERNELS}}
for k in $kernels; do
	case " $ALL_KERNELS " in *" $k "*) ;; *) die "unknown kernel '$k' (one of: $ALL_KERNELS)" ;; esac
done
for tool in cpio gzip jq dpkg-deb apt-get apt-cache timeout file bpftool; do
	command -v "$tool" >/dev/null || die "$tool not found; run scripts/deps.sh (as root)"
done
mkdir -p "$KT_DIR" || die "cannot make $KT_DIR"

# ---- fetching from Debian's archive ---------------------------------------------------
# The mirror this machine's apt uses for bookworm: older suites and other architectures
# are on the same archive.
mirror() {
	apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Identifier: Packages' 2>/dev/null |
		awk '$1 == "bookworm" {print $2; exit}'
}

# kt_apt SUITE ARCH ARGS...: apt-get or apt-cache (the first of ARGS) on a source list and
# package lists of their own under $KT_DIR/apt/SUITE-ARCH: the machine's apt is not touched.
kt_apt() {
	local suite=$1 arch=$2 tool=$3 d="$KT_DIR/apt/$1-$2"
	shift 3
	"$tool" -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::status=/dev/null \
		-o APT::Architectures="$arch" -o APT::Architecture="$arch" -o APT::Sandbox::User=root "$@"
}

# kt_apt_update SUITE ARCH: fetches that suite's package list once per run.
declare -A updated
kt_apt_update() {
	local d="$KT_DIR/apt/$1-$2" uri
	[ -n "${updated[$1-$2]:-}" ] && return 0
	uri=$(mirror)
	[ -n "$uri" ] || return 1
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" || return 1
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $1 main" >"$d/sources.list"
	kt_apt "$1" "$2" apt-get update -qq >/dev/null 2>&1 || return 1
	updated[$1-$2]=1
}

# fetch_deb SUITE ARCH PACKAGE PATTERN DIR: the newest PACKAGE (a metapackage is followed
# to the linux-image it depends on) downloaded to DIR; prints the .deb's path. Offline,
# the newest cached file matching PATTERN serves.
fetch_deb() {
	local suite=$1 arch=$2 pkg=$3 pattern=$4 dir=$5 dep ver deb tmp
	if kt_apt_update "$suite" "$arch"; then
		dep=$(kt_apt "$suite" "$arch" apt-cache depends "$pkg" 2>/dev/null |
			awk '/^ *Depends: linux-image-/ {print $2; exit}')
		[ -n "$dep" ] && pkg=$dep
		ver=$(kt_apt "$suite" "$arch" apt-cache show --no-all-versions "$pkg" 2>/dev/null |
			awk '/^Version:/ {print $2; exit}')
	fi
	if [ -z "${ver:-}" ]; then
		deb=$(ls -t "$dir"/$pattern 2>/dev/null | head -1)
		[ -n "$deb" ] || { echo "kernel-test: cannot resolve $pkg in $suite/$arch and nothing is cached in $dir" >&2; return 1; }
		echo "$deb"
		return 0
	fi
	deb="$dir/${pkg}_${ver//:/%3a}_$arch.deb"
	if [ ! -s "$deb" ]; then
		echo "kernel-test: downloading $pkg $ver ($suite, $arch)" >&2
		tmp=$(mktemp -d "$dir/dl.XXXXXX")
		(cd "$tmp" && kt_apt "$suite" "$arch" apt-get download -q=2 "$pkg=$ver") ||
			{ rm -rf "$tmp"; echo "kernel-test: apt-get download $pkg=$ver failed" >&2; return 1; }
		mv "$tmp"/*.deb "$deb" && rm -rf "$tmp"
	fi
	echo "$deb"
}

# extract DEB PATH_IN_DEB OUT: one file of a package, cached.
extract() {
	local x
	[ -s "$3" ] && return 0
	x=$(mktemp -d "$(dirname "$3")/x.XXXXXX")
	dpkg-deb -x "$1" "$x" && mv "$x/$2" "$3"
	local rc=$?
	rm -rf "$x"
	return $rc
}

# ---- checks ---------------------------------------------------------------------------
CHECKS=0 FAILS=0 TOTAL_CHECKS=0 TOTAL_FAILS=0
fail() {
	echo "  FAIL [$name]: $*" >&2
	FAILS=$((FAILS + 1))
}
check() {
	CHECKS=$((CHECKS + 1))
	[ "$2" == "$3" ] || { fail "$1: expected '$2', got '$3'"; return 1; }
}
check_cmd() {
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	"$@" || { fail "$what: '$*' failed"; return 1; }
}
q() { jq -rs "$@" "$out/records.jsonl"; }
v() { sed -n "s/^FL-KT-VAR $1=//p" "$log" | tail -1; }
mine() { q --argjson p "$p" "$@"; }

# version_lt RELEASE MAJOR.MINOR: the kernel release is older than MAJOR.MINOR.
version_lt() {
	local r=${1%%-*} a b
	IFS=. read -r a b _ <<<"$r"
	[ "$a" -lt "${2%.*}" ] || { [ "$a" -eq "${2%.*}" ] && [ "$b" -lt "${2#*.}" ]; }
}

# What a kernel of this release lacks, by the versions that brought each feature: the
# table the capability record must match (an oracle of its own, not the agent's probe).
# audit: whether the kernel has loginuid (CONFIG_AUDITSYSCALL; every Debian kernel does).
expected_missing() {
	local r=$1 audit=$2 m=()
	[ "$audit" = 1 ] || m+=(audit-loginuid)
	version_lt "$r" 5.11 && m+=(tcp-accept-owner)
	version_lt "$r" 5.12 && m+=(tcp-socket-cookie)
	version_lt "$r" 6.4 && m+=(udp-datagrams)
	version_lt "$r" 6.7 && m+=(unix-connects)
	version_lt "$r" 6.4 && m+=(unix-peers)
	version_lt "$r" 6.2 && m+=(file-access) # bpf_rdonly_cast (and bpf_loop, 5.17)
	jq -cn '$ARGS.positional' --args "${m[@]}"
}

# check_run: every check on one kernel's output ($log: its FL-KT lines; $out: its dir).
# exit_variant: the sched_process_exit program this kernel must get; host: 1 for the
# host run (its processes share the machine with others').
check_run() {
	local exit_variant=$1 host=$2 kver missing lines cap argv pids t rounds code extra cg
	sed -n 's/^FL-KT-LOG //p' "$log" >"$out/agent.err"
	sed -n '/^FL-KT-RECORDS-BEGIN$/,/^FL-KT-RECORDS-END$/p' "$log" | sed '1d;$d' >"$out/records.jsonl"
	kver=$(v kernel)
	# Without group_dead the legacy exit; its _slots form where fl_exec claims live slots
	# (bpf_loop, 5.17+), as the loader chooses.
	[ "$exit_variant" = fl_exit_legacy ] && ! version_lt "$kver" 5.17 && exit_variant=fl_exit_legacy_slots
	sed -n "s/^FL-KT-WARN /  [$name] warning: /p" "$log" >&2
	if ! grep -q '^FL-KT-DONE$' "$log"; then
		fail "the workloads did not finish; the log ($log) ends with:"
		# The agent ran with -v: when a program was rejected, its stderr ends with
		# libbpf's copy of the verifier log and the failing program's name.
		grep -v '^FL-KT-VAR' "$log" | tail -60 | sed 's/^/    /' >&2
		return
	fi

	check "agent loaded $exit_variant" 1 "$(grep -c "loading $exit_variant\$" "$out/agent.err")"
	check "agent exit status" 0 "$(v agent_rc)"
	check "firstlight read exit status" 0 "$(v read_rc)"

	# Every line is one JSON object with a seq; seq runs 1..N without holes.
	lines=$(wc -l <"$out/records.jsonl")
	check_cmd "records were printed" test "$lines" -gt 10
	check "every line is a JSON record" "$lines" \
		"$(jq -c 'select(type == "object" and has("seq"))' "$out/records.jsonl" 2>/dev/null | wc -l)"
	check "seq has no holes" true "$(q '[.[].seq | tonumber] as $s | $s == [range(1; ($s | length) + 1)]')"
	check "first record: agent started" STARTED "$(q -r '.[0].agent.state')"
	check "last record: agent stopped" STOPPED "$(q -r '.[-1].agent.state')"
	check "a heartbeat after the last workload's exit" true "$(q --argjson p "$(v tcp_client_pid)" '
	  ([.[] | select(.exit.pid == $p) | .seq | tonumber] | max) as $x |
	  ([.[] | select(.heartbeat) | .seq | tonumber] | max) as $h | $x != null and $h > $x')"
	check "no malformed kernel events" 0 "$(q '[.[] | select(.heartbeat)][-1].heartbeat.malformedEvents // 0')"
	if [ "$host" = 1 ]; then
		# Other processes share this machine: no loss may name this test's cgroups.
		check "no drops in the test's cgroups" 0 "$(q --arg a "$(v cgroup_parent_id)" --arg b "$(v cgroup_id)" \
			'[.[] | select(.gap.kind == "RING_BUFFER_DROP" and (.gap.cgroupId == $a or .gap.cgroupId == $b))] | length')"
	else
		check "no drops" 0 "$(q '.[-1].agent.drops // 0 | tonumber')"
	fi

	# What the kernel cannot give, as the second record: exactly the lacks its version has.
	missing=$(expected_missing "$kver" "$([ -e "$out/no-audit" ] && echo 0 || echo 1)")
	check "capabilities: the second record" true "$(q '.[1].nodeCapabilities != null')"
	check "capabilities: kernel release" "$kver" "$(q -r '.[1].nodeCapabilities.kernelRelease')"
	check "capabilities: machine" "$(v machine)" "$(q -r '.[1].nodeCapabilities.machine')"
	check "capabilities: missing" "$missing" "$(q -c '.[1].nodeCapabilities.missing // []')"
	check "capabilities: every missing one says why" "$(jq length <<<"$missing")" \
		"$(q '[.[1].nodeCapabilities.missingDetail // [] | .[] | select(.reason != "" and .unobserved != "")] | length')"
	check "capabilities: available and missing are the thirteen, once" 13 \
		"$(q '.[1].nodeCapabilities | (.available // []) + (.missing // []) | unique | length')"
	check "capabilities: the exec variant" \
		"$(version_lt "$kver" 5.17 && echo fl_exec_bounded || echo fl_exec)" \
		"$(q -r '.[1].nodeCapabilities.programs | map(select(startswith("fl_exec"))) | join(",")')"
	check "capabilities: the exit variant" "$exit_variant" \
		"$(q -r '.[1].nodeCapabilities.programs | map(select(startswith("fl_exit"))) | join(",")')"

	# `sh -c 'exit 7'`: one fork, one exec, one exit, exact argv and code, parent = the shell.
	p=$(v exit7_pid)
	check "exit 7: shell saw 7" 7 "$(v exit7_rc)"
	check "exit 7: fork records" 1 "$(mine '[.[] | select(.fork.process.pid == $p)] | length')"
	check "exit 7: exec records" 1 "$(mine '[.[] | select(.exec.process.pid == $p)] | length')"
	check "exit 7: exit records" 1 "$(mine '[.[] | select(.exit.pid == $p)] | length')"
	check "exit 7: argv" '["/bin/sh","-c","exit 7"]' "$(mine -c '.[] | select(.exec.process.pid == $p) | .exec.process.args')"
	check "exit 7: binary" "$(v sh_binary)" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.binary')"
	check "exit 7: cwd" / "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.cwd')"
	check "exit 7: ppid" "$(v shell_pid)" "$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.ppid')"
	cap=$(v cap_eff)
	check "exit 7: capEffective (kernel_cap_t)" "$((16#${cap:-0}))" \
		"$(mine -r '.[] | select(.exec.process.pid == $p) | .exec.process.capEffective')"
	check "exit 7: exit code" 7 "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode')"
	check "exit 7: no signal" 0 "$(mine '.[] | select(.exit.pid == $p) | .exit.signal // 0')"
	check "exit 7: exit names the exec'd image" \
		"$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.execId')" \
		"$(mine '.[] | select(.exit.pid == $p) | .exit.execId')"
	check "exit 7: parent is the shell, seeded as pre-existing" true \
		"$(mine --argjson s "$(v shell_pid)" '(.[] | select(.exec.process.pid == $s and .exec.process.flags.preExisting) | .exec.process.execId) as $i |
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
	for t in threads:5:fl-kt-join busy:3:busy,fl-kt-busy; do
		IFS=: read -r tname code extra <<<"$t"
		argv=$(jq -cn --arg b "$(v fl_bin)/fl-threads" --arg c "$code" --arg x "$extra" '[$b,"4",$c] + ($x | split(","))')
		pids=$(v "${tname}_pids")
		rounds=$(wc -w <<<"$pids")
		check_cmd "$tname: rounds run" test "$rounds" -gt 0
		check "$tname: process exit statuses" "$(printf "$code %.0s" $(seq "$rounds") | sed 's/ $//')" "$(v "${tname}_rcs")"
		for p in $pids; do
			check "$tname $p: exec records" 1 "$(mine '[.[] | select(.exec.process.pid == $p)] | length')"
			check "$tname $p: exit records" 1 "$(mine '[.[] | select(.exit.pid == $p)] | length')"
			check "$tname $p: exit code" "$code" "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode')"
			check "$tname $p: exit names the exec'd image" \
				"$(mine '.[] | select(.exec.process.pid == $p) | .exec.process.execId')" \
				"$(mine '.[] | select(.exit.pid == $p) | .exit.execId')"
			check "$tname $p: no fork records from its threads" 0 "$(mine '[.[] | select(.fork.process.ppid == $p)] | length')"
			check "$tname $p: argv" "$argv" "$(mine -c '.[] | select(.exec.process.pid == $p) | .exec.process.args')"
		done
	done

	# cgroup2: a directory the workloads made; the process moved there, then exec'd.
	p=$(v cgroup_pid)
	cg=$(v cgroup_id)
	check_cmd "cgroup: the workloads printed the directory's id" test -n "$cg"
	check "cgroup: process exit status" 4 "$(v cgroup_rc)"
	check "cgroup: exec in the directory" "$cg" \
		"$(mine '.[] | select(.exec.process.pid == $p and (.exec.process.args[0] | endswith("/fl-threads"))) | .exec.process.cgroupId')"
	check "cgroup: exit in the directory" "$cg" "$(mine '.[] | select(.exit.pid == $p) | .exit.cgroupId')"
	check "cgroup: exit code" 4 "$(mine '.[] | select(.exit.pid == $p) | .exit.exitCode')"
	check "cgroup: workload named by its path" "$(v cgroup_path)" \
		"$(q -r --arg c "$cg" '[.[] | select(.workload.cgroupId == $c) | .workload.cgroupPath] | unique | join(",")')"
	check "cgroup: parent (kernfs_node.parent before 6.15, __parent after)" "$(v cgroup_parent_id)" \
		"$(q -r --arg c "$cg" '[.[] | select(.workload.cgroupId == $c) | .workload.parentCgroupId] | unique | join(",")')"
	check "cgroup: its coverage names what the node could not observe" "$missing" \
		"$(q -c --arg c "$cg" '[.[] | select(.workload.cgroupId == $c and .workload.state == "ENDED") | .workload.unobserved // []] | if length == 1 then .[0] else . end')"

	# TCP over loopback: the connect, its accept and both closes, bytes and ports exact.
	p=$(v tcp_client_pid)
	local sp port sport
	sp=$(v tcp_server_pid) port=$(v tcp_port) sport=$(v tcp_sport)
	check "tcp: client and server exit statuses" "0 0" "$(v tcp_client_rc) $(v tcp_server_rc)"
	check "tcp: the client received the reply" 5 "$(v tcp_received)"
	check "tcp: connect record" "127.0.0.1:$sport -> 127.0.0.1:$port result 0" \
		"$(mine -r '[.[] | select(.flow.kind == "CONNECT" and .flow.pid == $p)] | map("\(.flow.srcAddr):\(.flow.srcPort) -> \(.flow.dstAddr):\(.flow.dstPort) result \(.flow.result // 0)") | join(";")')"
	check "tcp: client close: bytes sent and received" "7 5" \
		"$(mine -r '[.[] | select(.flow.kind == "CLOSE" and .flow.pid == $p)] | map("\(.flow.bytesSent // 0) \(.flow.bytesReceived // 0)") | join(";")')"
	check "tcp: connect and close share the socket cookie" true \
		"$(mine '[.[] | select(.flow.pid == $p and (.flow.kind == "CONNECT" or .flow.kind == "CLOSE")) | .flow.socketCookie] | length == 2 and .[0] == .[1] and .[0] != null')"
	if jq -e 'index("tcp-accept-owner")' <<<"$missing" >/dev/null; then
		check "tcp: accept without an owner (the kernel cannot tell)" "true 127.0.0.1:$sport" \
			"$(q -r --argjson port "$port" '[.[] | select(.flow.kind == "ACCEPT" and .flow.dstPort == $port)] | map("\(.flow.ownerUnknown // false) \(.flow.srcAddr):\(.flow.srcPort)") | join(";")')"
	else
		check "tcp: accept owned by the server" "$sp 127.0.0.1:$sport" \
			"$(q -r --argjson port "$port" '[.[] | select(.flow.kind == "ACCEPT" and .flow.dstPort == $port)] | map("\(.flow.pid) \(.flow.srcAddr):\(.flow.srcPort)") | join(";")')"
	fi
}

# summarize NAME ARCH: the run's facts for the kernels table, in $out/summary.json.
summarize() {
	q --arg name "$1" --arg arch "$2" --argjson checks "$CHECKS" --argjson fails "$FAILS" '
	  (.[1].nodeCapabilities // {}) as $c |
	  {name: $name, arch: $arch, kernel: ($c.kernelRelease // "?"), checks: $checks, fails: $fails,
	   available: ($c.available // []), missing: ($c.missing // []),
	   missingDetail: ($c.missingDetail // []), programs: ($c.programs // [])}' >"$out/summary.json" 2>/dev/null ||
		jq -n --arg name "$1" --arg arch "$2" '{name: $name, arch: $arch, kernel: "?", fails: 1}' >"$out/summary.json"
}

# ---- a guest under qemu ---------------------------------------------------------------
# run_guest NAME SUITE DEB_ARCH ARCH: fetch, pack, boot, check.
run_guest() {
	local name=$1 suite=$2 debarch=$3 arch=$4 deb kver vmlinuz busybox root initrd qrc boot0
	local agent threads net qemu console_dev machine_args tcg_threads
	out="$KT_DIR/$name"
	log="$out/console.log"
	mkdir -p "$out" || { fail "cannot make $out"; return; }
	case $arch in
	x86)
		agent=${FIRSTLIGHT_STATIC:-} threads=${FL_THREADS_STATIC:-} net=${FL_NET_STATIC:-}
		# One host thread for both vCPUs: QEMU 7.2's multi-threaded TCG can go on running
		# a stale translation of kernel text that the other vCPU just patched. The agent
		# attaching its first syscall tracepoint flips a static key (text_poke_bp: an int3
		# written, then the jump); a vCPU that keeps executing the old int3 while memory
		# holds the jump is sent back to it by the kernel's int3 handler forever, and both
		# vCPUs soft-lock (seen about one run in 30; one in two with tracefs flipping the
		# key in a loop, never with thread=single).
		qemu=qemu-system-x86_64 console_dev=ttyS0 machine_args=(-cpu max) tcg_threads=single
		;;
	arm64)
		agent=${FIRSTLIGHT_STATIC_ARM64:-} threads=${FL_THREADS_STATIC_ARM64:-} net=${FL_NET_STATIC_ARM64:-}
		# cortex-a57: no pointer authentication to emulate, the cheapest CPU under TCG
		# arm64 flips a static key by rewriting one instruction (a nop or a branch):
		# a stale translation runs the old one, no trap to loop on. Two host threads.
		qemu=qemu-system-aarch64 console_dev=ttyAMA0 machine_args=(-M virt -cpu cortex-a57) tcg_threads=multi
		;;
	esac
	command -v "$qemu" >/dev/null || { fail "$qemu not found; run scripts/deps.sh (as root)"; return; }
	for b in "$agent" "$threads" "$net"; do
		[ -n "$b" ] && file -L "$b" | grep -q 'statically linked' ||
			{ fail "'$b' is not a static $arch binary (make test-kernel builds them)"; return; }
	done

	deb=$(fetch_deb "$suite" "$debarch" "linux-image-cloud-$debarch" "linux-image-*-cloud-${debarch}_*.deb" "$out") ||
		{ fail "no kernel package"; return; }
	kver=$(dpkg-deb -f "$deb" Package | sed 's/^linux-image-//')
	vmlinuz="$out/vmlinuz-$kver"
	extract "$deb" "boot/vmlinuz-$kver" "$vmlinuz" || { fail "no /boot/vmlinuz-$kver in $deb"; return; }
	if [ "$arch" = arm64 ]; then
		deb=$(fetch_deb "$suite" "$debarch" busybox-static "busybox-static_*_${debarch}.deb" "$out") ||
			{ fail "no busybox-static for $debarch"; return; }
		busybox="$out/busybox"
		extract "$deb" bin/busybox "$busybox" || { fail "no /bin/busybox in $deb"; return; }
	else
		busybox=${BUSYBOX:-/bin/busybox}
	fi
	file -L "$busybox" | grep -q 'statically linked' || { fail "$busybox is not a static busybox (busybox-static)"; return; }

	root="$out/initramfs"
	rm -rf "$root" && mkdir -p "$root"/{bin,dev,proc,sys,tmp,data} &&
		cp "$busybox" "$root/bin/busybox" && ln -s busybox "$root/bin/sh" &&
		cp "$agent" "$root/bin/firstlight" && cp "$threads" "$root/bin/fl-threads" &&
		cp "$net" "$root/bin/fl-net" &&
		install -m 755 "$here/tests/kernel/guest-init.sh" "$root/init" &&
		install -m 755 "$here/tests/kernel/workloads.sh" "$root/bin/workloads.sh" ||
		{ fail "cannot lay out the initramfs in $root"; return; }
	initrd="$out/initramfs.cpio.gz"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$initrd" || { fail "cannot build the initramfs"; return; }

	echo "kernel-test: [$name] booting $kver under $qemu (TCG), at most ${KT_TIMEOUT}s" >&2
	boot0=$(date +%s%N)
	timeout -k 5 "$KT_TIMEOUT" "$qemu" "${machine_args[@]}" -accel "tcg,thread=$tcg_threads" \
		-m 1G -smp 2 -nographic -no-reboot -nic none \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=$console_dev panic=-1 loglevel=4" </dev/null >"$log" 2>&1
	qrc=$?
	tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
	[ "$qrc" -eq 124 ] && echo "kernel-test: [$name] the guest did not finish within ${KT_TIMEOUT}s" >&2
	check "qemu exit status (0: the guest powered off)" 0 "$qrc"
	echo "FL-KT-VAR fl_bin=/bin" >>"$log"
	check "guest kernel" "$kver" "$(v kernel)"
	# Debian's 5.10 and 6.1 kernels have no group_dead in sched_process_exit.
	check_run fl_exit_legacy 0
	echo "  [$name] guest: kernel up $(v boot_s)s, agent ready $(v ready_s)s, workloads done $(v done_s)s" \
		"(guest clock); qemu $(ms_since "$boot0") ms" >&2
}

# ---- the host's kernel ----------------------------------------------------------------
# What the host run made, removed at its end or on any exit (Ctrl-C, a failure).
HOST_CG='' HOST_CG_ROOT='' HOST_WORK=''
host_cleanup() {
	local pid
	if [ -n "$HOST_CG" ] && [ -d "$HOST_CG" ]; then
		# Move any process still there (timeout kills what did not end) to the root.
		while read -r pid; do echo "$pid" >"$HOST_CG_ROOT/cgroup.procs"; done <"$HOST_CG/cgroup.procs" 2>/dev/null
		rmdir "$HOST_CG/fl-kt" "$HOST_CG" 2>/dev/null
	fi
	[ -n "$HOST_WORK" ] && rm -rf "$HOST_WORK"
	HOST_WORK=''
}
trap host_cleanup EXIT
trap 'exit 130' INT TERM

run_host() {
	local name=host cg work rc exit_variant proto root
	out="$KT_DIR/host"
	log="$out/host.log"
	: "${FIRSTLIGHT:?FIRSTLIGHT must point at the agent for the host run}"
	: "${HELPERS:?HELPERS must point at the helpers (fl-threads, fl-net) for the host run}"
	rm -rf "$out" && mkdir -p "$out" || { fail "cannot make $out"; return; }
	[ -r /sys/kernel/btf/vmlinux ] || { fail "the host kernel has no BTF"; return; }
	[ -e /proc/self/loginuid ] || touch "$out/no-audit"
	# What the host's kernel passes to sched_process_exit, read from its BTF with bpftool
	# (not with the agent's libbpf probe that this checks): (void *, task, bool group_dead).
	proto=$(bpftool btf dump file /sys/kernel/btf/vmlinux format c | grep -m1 '(\*btf_trace_sched_process_exit)(')
	case $proto in *,*,*) exit_variant=fl_exit ;; *) exit_variant=fl_exit_legacy ;; esac
	# A cgroup and a scratch dir of our own: the machine is shared; both go at the end.
	# cgroup2 is /sys/fs/cgroup/unified on hybrid hosts (this project's machines).
	root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
	[ -n "$root" ] || { fail "no cgroup2 mount"; return; }
	cg=$root/fl-kt-host-$$
	work=$(mktemp -d /tmp/fl-kt-host.XXXXXX) || { fail "cannot make a scratch dir"; return; }
	HOST_WORK=$work HOST_CG_ROOT=$root
	mkdir "$cg" || { fail "cannot make $cg"; return; }
	HOST_CG=$cg
	echo "kernel-test: [host] $(uname -r) on this machine" >&2
	# The workloads' shell moves itself into the cgroup before anything starts.
	FL_KT_AGENT=$FIRSTLIGHT FL_KT_BIN=$HELPERS FL_KT_WORK=$work FL_KT_DATA=$work/data \
		FL_KT_CGROUP=$cg FL_KT_AGENT_ARGS="--key $work/node.key --metrics-addr off" \
		timeout -k 5 "$KT_TIMEOUT" sh -c 'echo $$ > "$1/cgroup.procs" && exec sh "$2"' sh "$cg" \
		"$here/tests/kernel/workloads.sh" >"$log" 2>&1
	rc=$?
	echo "FL-KT-VAR fl_bin=$HELPERS" >>"$log"
	check "workloads exit status" 0 "$rc"
	check_run "$exit_variant" 1
	host_cleanup
	[ -d "$cg" ] && fail "cannot remove $cg"
	HOST_CG=
}

# ---- the matrix -----------------------------------------------------------------------
for name in $kernels; do
	CHECKS=0 FAILS=0 run0=$(date +%s%N)
	case $name in
	debian11-5.10-x86) run_guest "$name" bullseye amd64 x86; arch=x86_64 ;;
	debian12-6.1-x86) run_guest "$name" bookworm amd64 x86; arch=x86_64 ;;
	debian12-6.1-arm64) run_guest "$name" bookworm arm64 arm64; arch=aarch64 ;;
	host) run_host; arch=$(uname -m) ;;
	esac
	summarize "$name" "$arch"
	if [ "$FAILS" -eq 0 ]; then
		echo "ok - $name: $CHECKS checks passed ($(ms_since "$run0") ms)"
	else
		echo "not ok - $name: $FAILS of $CHECKS checks failed ($(ms_since "$run0") ms)"
	fi
	TOTAL_CHECKS=$((TOTAL_CHECKS + CHECKS)) TOTAL_FAILS=$((TOTAL_FAILS + FAILS))
done

# ---- the kernels table ----------------------------------------------------------------
for name in $ALL_KERNELS; do
	[ -s "$KT_DIR/$name/summary.json" ] && cat "$KT_DIR/$name/summary.json"
done | jq -rs -f "$here/scripts/kernels-table.jq" >"$KT_DIR/kernels.md" ||
	echo "kernel-test: cannot write $KT_DIR/kernels.md" >&2
# Only a full matrix makes the whole table; the host's row names this machine's kernel.
if [ "$kernels" = "$ALL_KERNELS" ] && ! cmp -s "$KT_DIR/kernels.md" "$here/docs/kernels.md"; then
	echo "kernel-test: note: docs/kernels.md differs from this run's table ($KT_DIR/kernels.md):" \
		"make kernels-doc updates it" >&2
fi

echo "kernel-test: $((TOTAL_CHECKS - TOTAL_FAILS)) passed, $TOTAL_FAILS failed ($(ms_since "$t0") ms)"
[ "$TOTAL_FAILS" -eq 0 ]
