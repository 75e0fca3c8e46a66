#!/bin/sh
# PID 1 of the kernel-test guest (scripts/kernel-test.sh packs it as /init with busybox,
# the static agent, the static helpers and tests/kernel/workloads.sh). Mounts what a
# machine has, then runs the workloads, whose "FL-KT" lines on the console are what the
# host checks, and powers off.

/bin/busybox mount -t devtmpfs dev /dev
# An external initramfs has no /dev/console for the kernel to open: connect it now.
exec </dev/console >/dev/console 2>&1
echo # the kernel's last console line may lack its newline: start ours on a fresh line
/bin/busybox --install -s /bin
export PATH=/bin

mkdir -p /proc /sys /tmp /data
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmp /tmp
mount -t tmpfs data /data
# The TCP workload talks over loopback; the guest has no other interface.
ip link set lo up

FL_KT_AGENT=/bin/firstlight FL_KT_BIN=/bin FL_KT_WORK=/tmp FL_KT_DATA=/data \
	FL_KT_CGROUP=/sys/fs/cgroup /bin/sh /bin/workloads.sh
poweroff -f
