#!/usr/bin/env bash
# `make image` (and `make image ARCH=arm64`): the agent's OCI image for the architecture
# its binary is built for, built offline with podman from what is on this machine:
# BINARY is the dynamic agent (build/firstlight, or build/arm64/firstlight cross-built:
# the static one has neither libnats nor libmicrohttpd, so it could neither ship nor serve
# /healthz), and exactly the shared libraries the loader will map for it, each taken from
# the installed Debian 12 package that owns it (dpkg -S: the host's own packages, or the
# multiarch ones, libfoo:arm64, for the other architecture). Nothing else: no shell, no
# package manager, no certificates (a `--ship tls://` needs --ship-tls-ca from a mounted
# secret).
#
# The binary is never run (a cross-built one cannot run here). Its architecture is its ELF
# header's; its libraries are its NEEDED entries (readelf -d) and theirs, recursively, each
# resolved as the loader in the image resolves it: the image has no ld.so.cache, so Debian
# glibc's built-in search path, /lib/<triplet> then /usr/lib/<triplet>; the loader itself
# (PT_INTERP) at the path the binary names, and a NEEDED of its soname is the loader. The
# host's architecture's image is tagged localhost/firstlight:<version>, another one
# localhost/firstlight:<version>-<arch> (arm64, amd64). The version label is
# user/records/version.h's, the string `firstlight --version` prints; the packages the
# libraries came from are listed in /usr/share/doc/firstlight/packages.txt inside it and
# in its label too.
# Usage: scripts/image.sh BINARY OUT_DIR   (writes OUT_DIR/rootfs, OUT_DIR/Containerfile,
# OUT_DIR/firstlight-image.tar (oci-archive) and OUT_DIR/image.ref: the tag it built)
set -euo pipefail

bin=${1:?usage: scripts/image.sh BINARY OUT_DIR}
out=${2:?usage: scripts/image.sh BINARY OUT_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
die() {
	echo "image: $*" >&2
	exit 1
}
for tool in podman readelf dpkg; do
	command -v "$tool" >/dev/null || die "$tool not found; run scripts/deps.sh image (as root)"
done
[ -f "$bin" ] || die "$bin: no such file; run make first"

version=$(sed -n 's/^#define FIRSTLIGHT_VERSION "\(.*\)"$/\1/p' "$here/user/records/version.h")
[ -n "$version" ] || die "no FIRSTLIGHT_VERSION in user/records/version.h"

machine=$(readelf -hW "$bin" | sed -n 's/^ *Machine: *//p') || die "$bin: not an ELF file"
case $machine in
"Advanced Micro Devices X86-64") arch=amd64 triplet=x86_64-linux-gnu ;;
AArch64) arch=arm64 triplet=aarch64-linux-gnu ;;
*) die "$bin: an ELF file for '$machine': images are built for x86-64 and arm64" ;;
esac
ref=localhost/firstlight:$version
[ "$arch" = "$(dpkg --print-architecture)" ] || ref=$ref-$arch

interp=$(readelf -lW "$bin" | sed -n 's/^.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
[ -n "$interp" ] || die "$bin names no program interpreter: not the dynamic agent"

# needed FILE: the sonames FILE's dynamic section names, one a line.
needed() { readelf -dW "$1" | sed -n 's/^.*(NEEDED) *Shared library: \[\(.*\)\]$/\1/p'; }

# Breadth first from the binary: every soname once, at the path the loader finds it at.
declare -A found=(["${interp##*/}"]=$interp)
libs=("$interp")
queue=("$bin")
while [ ${#queue[@]} -gt 0 ]; do
	f=${queue[0]}
	queue=("${queue[@]:1}")
	names=$(needed "$f") || die "$f: readelf -d failed"
	for name in $names; do
		[ -z "${found[$name]:-}" ] || continue
		path=
		for d in "/lib/$triplet" "/usr/lib/$triplet"; do
			[ -e "$d/$name" ] && { path=$d/$name; break; }
		done
		[ -n "$path" ] || die "$f needs $name, in neither /lib/$triplet nor /usr/lib/$triplet: install its $arch package (scripts/deps.sh)"
		found[$name]=$path
		libs+=("$path")
		queue+=("$path")
	done
done

rm -rf "$out/rootfs"
mkdir -p "$out/rootfs/usr/bin" "$out/rootfs/usr/share/doc/firstlight"
install -m 0755 "$bin" "$out/rootfs/usr/bin/firstlight"

# Each library from the package that installed it. Debian's merged /usr: /lib is /usr/lib
# in the host (a plain dir in the image), and a package lists a file under either, so each
# library is asked for by its real path, that path without /usr, and the path found; in
# one dpkg -S for all of them (each call reads the whole file database).
declare -A real owner
for path in "${libs[@]}"; do
	real[$path]=$(readlink -f "$path")
done
while IFS= read -r line; do
	pkg=${line%%: /*}
	[ "$pkg" != "$line" ] && [ "${pkg#* }" = "$pkg" ] && owner[${line#"$pkg: "}]=$pkg # not "diversion by ..."
done < <(for path in "${libs[@]}"; do r=${real[$path]}; printf '%s\n' "$r" "${r#/usr}" "$path"; done |
	sort -u | xargs dpkg -S 2>/dev/null)
pkgs=()
for path in "${libs[@]}"; do
	r=${real[$path]}
	pkg=${owner[$r]:-${owner[${r#/usr}]:-${owner[$path]:-}}}
	[ -n "$pkg" ] || die "$path ($r) belongs to no installed Debian package: refusing to put it in the image"
	pkgs+=("$pkg=$(dpkg-query -W -f='${Version}' "$pkg")")
	mkdir -p "$out/rootfs$(dirname "$path")"
	cp -L "$path" "$out/rootfs$path"
done
printf '%s\n' "${pkgs[@]}" | sort -u >"$out/rootfs/usr/share/doc/firstlight/packages.txt"

cat >"$out/Containerfile" <<EOC
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="firstlight" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="firstlight agent: eBPF sensor for short-lived workloads" \\
      io.firstlight.debian-packages="$(paste -sd, "$out/rootfs/usr/share/doc/firstlight/packages.txt")" \\
      io.firstlight.binary-sha256="$(sha256sum "$bin" | cut -d' ' -f1)"
USER 0:0
ENTRYPOINT ["/usr/bin/firstlight"]
CMD ["run"]
EOC

# No RUN step: an image for another architecture needs no emulator, only its platform.
# No cache: podman 4.3's layer cache ignores --platform (measured: an arm64 rootfs built
# once without it came out as amd64 again with it, from the cache); and no intermediate
# image per instruction (--layers=false): a build leaves one image.
old=$(podman image inspect -f '{{.Id}}' "$ref" 2>/dev/null) || old=
podman build --network=none --pull=never --no-cache --layers=false --platform "linux/$arch" -q -f "$out/Containerfile" -t "$ref" "$out" >/dev/null
# The image this one replaces, now untagged (make test builds each image once a run), unless
# it is still used: another tag or a container keeps it.
[ -z "$old" ] || [ "$old" = "$(podman image inspect -f '{{.Id}}' "$ref")" ] || podman image rm "$old" >/dev/null 2>&1 || true
rm -f "$out/firstlight-image.tar"
podman save -q --format oci-archive -o "$out/firstlight-image.tar" "$ref" >/dev/null
echo "$ref" >"$out/image.ref"
echo "image: $ref, linux/$arch ($(du -sh "$out/rootfs" | cut -f1) unpacked, ${#libs[@]} libraries from $(wc -l <"$out/rootfs/usr/share/doc/firstlight/packages.txt") Debian packages; $out/firstlight-image.tar)"
