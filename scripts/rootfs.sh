#!/usr/bin/env bash
# Builds a minimal busybox root filesystem for test containers (runc, crun, bubblewrap).
# usage: scripts/rootfs.sh DIR      (creates DIR/bin/busybox and an applet link for each)
# busybox-static is installed by scripts/deps.sh. Idempotent; the result is ~2 MB.
set -euo pipefail
dir=${1:?usage: rootfs.sh DIR}
bb=/bin/busybox
[ -x "$bb" ] || { echo "rootfs.sh: $bb missing (scripts/deps.sh installs busybox-static)" >&2; exit 1; }
if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked' && ldd "$bb" >/dev/null 2>&1; then
	echo "rootfs.sh: $bb is not static (install busybox-static)" >&2
	exit 1
fi
mkdir -p "$dir"/{bin,proc,sys,dev,tmp,etc,root}
cp "$bb" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
echo 'root:x:0:' >"$dir/etc/group"
