#!/usr/bin/env bash
# The agent's images, one per architecture (make image, make image ARCH=arm64), checked
# from their files, whichever the host: each is of its architecture (podman's config), its
# agent an ELF file for that machine linked against libnats and libmicrohttpd (the
# DaemonSet ships and is probed on /healthz: not the static agent), every ELF file in it
# finds each library it needs (NEEDED) inside the image, where the image's loader looks
# (/lib/<triplet>, then /usr/lib/<triplet>: no ld.so.cache), and the loader it names;
# every library came from a Debian package of that architecture; the version label is
# records/version.h's. Then the agent in it prints that version: in a chroot of the image
# for the host's architecture, under qemu-user with the image as its prefix (-L) for the
# other. (qemu falls back to the host's file for a path the prefix lacks, so it is the
# NEEDED check that proves nothing is missing; the run proves the files work together.)
# With --multiarch TAR (scripts/image-multiarch.sh): that archive's one index holds each
# image, as the platform of its architecture.
# Usage: tests/deploy/test-image.sh [--multiarch TAR] IMAGE_DIR...   (each by scripts/image.sh)
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
multiarch=
if [ "${1:-}" = --multiarch ]; then
	multiarch=${2:?usage: tests/deploy/test-image.sh [--multiarch TAR] IMAGE_DIR...}
	shift 2
fi
[ $# -gt 0 ] || { echo "usage: tests/deploy/test-image.sh [--multiarch TAR] IMAGE_DIR..." >&2; exit 2; }
for tool in podman readelf jq; do
	command -v "$tool" >/dev/null || { echo "test-image: $tool not found; run scripts/deps.sh (as root)" >&2; exit 1; }
done
version=$(sed -n 's/^#define FIRSTLIGHT_VERSION "\(.*\)"$/\1/p' "$here/user/records/version.h")
host_arch=$(dpkg --print-architecture)
fails=0
checks=0
mounted=()
trap 'for r in "${mounted[@]}"; do podman image unmount "$r" >/dev/null; done' EXIT

# check NAME EXPECTED ACTUAL
check() {
	checks=$((checks + 1))
	[ "$2" = "$3" ] && return 0
	echo "  FAIL: $1: expected '$2', got '$3'" >&2
	fails=$((fails + 1))
	return 1
}

# is_elf FILE: the file starts with ELF's magic.
is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
# needed FILE: its NEEDED sonames, one a line.
needed() { readelf -dW "$1" | sed -n 's/^.*(NEEDED) *Shared library: \[\(.*\)\]$/\1/p'; }

# blob TAR DIGEST: the content of an OCI archive's blob.
blob() { tar -xOf "$1" "blobs/${2/://}"; }

platforms=()
for dir in "$@"; do
	ref=$(cat "$dir/image.ref" 2>/dev/null) || { echo "test-image: no $dir/image.ref: run make image first" >&2; exit 1; }
	# One podman call (each costs a fraction of a second): architecture, os, id, version label.
	IFS='|' read -r arch os id label < <(podman image inspect \
		-f '{{.Architecture}}|{{.Os}}|{{.Id}}|{{index .Labels "org.opencontainers.image.version"}}' "$ref" 2>/dev/null)
	[ -n "${id:-}" ] || { echo "test-image: $ref: no such image (make image again)" >&2; exit 1; }
	platforms+=("$os/$arch sha256:$id")
	case $arch in
	amd64) machine="Advanced Micro Devices X86-64" triplet=x86_64-linux-gnu qemu=qemu-x86_64 ;;
	arm64) machine=AArch64 triplet=aarch64-linux-gnu qemu=qemu-aarch64 ;;
	*) check "$ref: architecture" "amd64 or arm64" "$arch"; continue ;;
	esac
	echo "test-image: $ref ($arch)"
	check "$ref: os" linux "$os"
	check "$ref: its tag says its architecture" \
		"localhost/firstlight:$version$([ "$arch" = "$host_arch" ] || echo "-$arch")" "$ref"
	check "$ref: version label" "$version" "$label"
	# The archive make image saves (what a registry push or a node loads) holds this image:
	# the same config (the image id is its digest).
	m=$(tar -xOf "$dir/firstlight-image.tar" index.json | jq -r '.manifests[0].digest')
	check "$ref: the OCI archive holds this image" "sha256:$id" \
		"$(blob "$dir/firstlight-image.tar" "$m" | jq -r .config.digest)"

	root=$(podman image mount "$ref") || { echo "test-image: podman image mount $ref failed" >&2; exit 1; }
	mounted+=("$ref")
	agent=$root/usr/bin/firstlight
	# An image of the other architecture's files: each file would fail, the first says it.
	check "$ref: the agent's machine" "$machine" "$(readelf -hW "$agent" | sed -n 's/^ *Machine: *//p')" || continue
	agent_needs=$(needed "$agent" | sort | paste -sd' ')
	for lib in libnats.so.3.4 libmicrohttpd.so.12; do
		check "$ref: the agent is linked against $lib (shipping, /healthz)" yes \
			"$(case " $agent_needs " in *" $lib "*) echo yes ;; *) echo "no: $agent_needs" ;; esac)"
	done
	interp=$(readelf -lW "$agent" | sed -n 's/^.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
	check "$ref: the loader $interp is in the image" yes "$([ -f "$root$interp" ] && echo yes || echo no)"

	# Every ELF file: its machine, and each NEEDED found in the image's own search path.
	elves=0
	while IFS= read -r -d '' f; do
		is_elf "$f" || continue
		elves=$((elves + 1))
		name=${f#"$root"}
		check "$ref: $name's machine" "$machine" "$(readelf -hW "$f" | sed -n 's/^ *Machine: *//p')"
		for lib in $(needed "$f"); do
			[ "$lib" = "${interp##*/}" ] && continue
			where=missing
			for d in "/lib/$triplet" "/usr/lib/$triplet"; do
				[ -f "$root$d/$lib" ] && { where=found; break; }
			done
			check "$ref: $name needs $lib" found "$where"
		done
	done < <(find "$root" -type f -print0)
	check "$ref: ELF files besides the agent" yes "$([ "$elves" -gt 5 ] && echo yes || echo "no ($elves)")"

	# Each library's package of this architecture (name:arch; unqualified is the host's own).
	bad=$(awk -F= -v a="$arch" -v h="$host_arch" '{ n = split($1, p, ":"); if ((n == 2 && p[2] != a) || (n == 1 && a != h)) print $1 }' \
		"$root/usr/share/doc/firstlight/packages.txt" | paste -sd' ')
	check "$ref: packages of another architecture" "" "$bad"

	if [ "$arch" = "$host_arch" ]; then
		out=$(chroot "$root" /usr/bin/firstlight --version 2>&1)
	elif command -v "$qemu" >/dev/null; then
		out=$("$qemu" -L "$root" "$agent" --version 2>&1)
	else
		out="$qemu not found; run scripts/deps.sh (as root)"
	fi
	check "$ref: the agent runs from the image" "firstlight $version" "$out"
done

# The multi-architecture archive: one index, an entry per image: its platform, its config.
if [ -n "$multiarch" ]; then
	index=$(tar -xOf "$multiarch" index.json | jq -r '.manifests[] | select(.mediaType == "application/vnd.oci.image.index.v1+json") | .digest')
	check "$multiarch: one image index" 1 "$(echo "$index" | grep -c .)"
	got=$(blob "$multiarch" "$index" | jq -r '.manifests[] | "\(.platform.os)/\(.platform.architecture) \(.digest)"' |
		while read -r platform digest; do
			echo "$platform $(blob "$multiarch" "$digest" | jq -r .config.digest)"
		done | sort | paste -sd' ')
	check "$multiarch: each image, as its platform" "$(printf '%s\n' "${platforms[@]}" | sort | paste -sd' ')" "$got"
fi

if [ "$fails" -gt 0 ]; then
	echo "test-image: $fails of $checks checks failed" >&2
	exit 1
fi
echo "test-image: $# images${multiarch:+ and their index}, $checks checks passed"
