#!/usr/bin/env bash
# Install the Debian 12 packages firstlight needs to build, run and test.
# Idempotent: installs only what is missing, so `make run` can call it every time.
# Usage: scripts/deps.sh [SET...]   (sets: build, test, cross, bench, image, all; default: all)
# bench: the peers scripts/bench.sh measures firstlight against (bpftrace, auditd,
# forkstat) and what its workloads use; installing auditd starts no daemon here (the
# bench starts and stops its own). chromium renders the HTML pages of `tree --html` and
# `report --html` in the tests (headless, no network).
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libdeflate-dev
	libprotobuf-c-dev protobuf-c-compiler libjansson-dev libmicrohttpd-dev libssl-dev libnats-dev)
test_pkgs=(libcmocka-dev jq bc file curl util-linux e2fsprogs procps iproute2 runc crun bubblewrap busybox-static
	libclang-rt-14-dev prometheus qemu-system-x86 qemu-system-arm cpio gzip nats-server chromium
	podman python3-kubernetes python3-yaml libcap2-bin qemu-user
	containerd)
# qemu-user: the image test runs the arm64 image's agent (tests/deploy/test-image.sh); it
# registers no binfmt handler (qemu-user-binfmt is only recommended).
# The arm64 build (make ARCH=arm64: the agent of the arm64 image, and the static agent of
# `make test-kernel`): Debian 12's cross toolchain and the libraries the agent links, for
# arm64, beside the host's (Debian multiarch; arm64 is added to dpkg first). Every one has
# an arm64 multiarch -dev package (libmicrohttpd-dev:arm64 brings GnuTLS's along).
cross_pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross libbpf-dev:arm64 libelf-dev:arm64
	zlib1g-dev:arm64 libdeflate-dev:arm64 libprotobuf-c-dev:arm64 libjansson-dev:arm64 libssl-dev:arm64
	libmicrohttpd-dev:arm64 libnats-dev:arm64)
# `make image` builds with podman; the DaemonSet test runs the image with it and checks the
# manifest against the Kubernetes API models of python3-kubernetes (and python3-yaml).
image_pkgs=(podman)
bench_pkgs=(jq bc runc busybox-static file bpftrace auditd forkstat nats-server curl)

want=()
for set in "${@:-all}"; do
	case "$set" in
	build) want+=("${build_pkgs[@]}") ;;
	test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${cross_pkgs[@]}") ;;
	cross) want+=("${build_pkgs[@]}" "${cross_pkgs[@]}") ;;
	bench) want+=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
	image) want+=("${build_pkgs[@]}" "${image_pkgs[@]}") ;;
	all) want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${cross_pkgs[@]}" "${bench_pkgs[@]}" "${image_pkgs[@]}") ;;
	*) echo "deps.sh: unknown set '$set' (expected build, test, cross, bench, image or all)" >&2; exit 2 ;;
	esac
done
mapfile -t want < <(printf '%s\n' "${want[@]}" | sort -u)

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
case " ${missing[*]}" in
*:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64 ||
	{ echo "deps.sh: dpkg --add-architecture arm64 failed" >&2; exit 1; } ;;
esac
apt-get update -qq >/dev/null || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
