#!/usr/bin/env bash
# `make image`: the agent's OCI image, built offline with podman from what is on this
# machine: build/firstlight (the dynamic binary: the static one has neither libnats nor
# libmicrohttpd, so it could neither ship nor serve /healthz), and exactly the shared
# libraries `ldd` names for it, each taken from the installed Debian 12 package that owns
# it (dpkg -S). Nothing else: no shell, no package manager, no certificates (a
# `--ship tls://` needs --ship-tls-ca from a mounted secret). The image's version label
# is `firstlight --version`; the packages the libraries came from are listed in
# /usr/share/doc/firstlight/packages.txt inside it and in its label too.
# Usage: scripts/image.sh BINARY OUT_DIR   (writes OUT_DIR/rootfs, OUT_DIR/Containerfile,
# OUT_DIR/firstlight-image.tar (oci-archive) and OUT_DIR/image.ref: the tag it built)
set -euo pipefail

bin=${1:?usage: scripts/image.sh BINARY OUT_DIR}
out=${2:?usage: scripts/image.sh BINARY OUT_DIR}
command -v podman >/dev/null || { echo "image: podman not found; run scripts/deps.sh (as root)" >&2; exit 1; }
[ -x "$bin" ] || { echo "image: $bin: not an executable; run make first" >&2; exit 1; }

version=$("$bin" --version | awk '{ print $2 }')
[ -n "$version" ] || { echo "image: $bin --version printed no version" >&2; exit 1; }
ref=localhost/firstlight:$version

rm -rf "$out/rootfs"
mkdir -p "$out/rootfs/usr/bin" "$out/rootfs/usr/share/doc/firstlight"
install -m 0755 "$bin" "$out/rootfs/usr/bin/firstlight"

# Every library the loader will ask for, at the path it resolves it to here (Debian's
# merged /usr: /lib is /usr/lib), from the package that installed it.
pkgs=()
while read -r path; do
	[ -e "$path" ] || { echo "image: ldd names $path, which does not exist" >&2; exit 1; }
	real=$(readlink -f "$path")
	owner=$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || dpkg -S "$path" 2>/dev/null) ||
		{ echo "image: $path ($real) belongs to no installed Debian package: refusing to put it in the image" >&2; exit 1; }
	pkg=${owner%%: *}
	pkgs+=("$pkg=$(dpkg-query -W -f='${Version}' "$pkg")")
	mkdir -p "$out/rootfs$(dirname "$path")"
	cp -L "$path" "$out/rootfs$path"
done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
# Debian 12's paths: /lib and /lib64 are links into /usr in the host, plain dirs here.
printf '%s\n' "${pkgs[@]}" | sort -u >"$out/rootfs/usr/share/doc/firstlight/packages.txt"

cat >"$out/Containerfile" <<EOC
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="firstlight" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="firstlight agent: eBPF sensor for short-lived workloads" \\
      io.firstlight.debian-packages="$(paste -sd, "$out/rootfs/usr/share/doc/firstlight/packages.txt")"
USER 0:0
ENTRYPOINT ["/usr/bin/firstlight"]
CMD ["run"]
EOC

podman build --network=none --pull=never -q -f "$out/Containerfile" -t "$ref" "$out" >/dev/null
rm -f "$out/firstlight-image.tar"
podman save -q --format oci-archive -o "$out/firstlight-image.tar" "$ref" >/dev/null
echo "$ref" >"$out/image.ref"
echo "image: $ref ($(du -sh "$out/rootfs" | cut -f1) unpacked, $(wc -l <"$out/rootfs/usr/share/doc/firstlight/packages.txt") Debian packages; $out/firstlight-image.tar)"
