# A file system whose disk fails under it, for real: ext4 on a loop device whose backing
# file lives on a small tmpfs ($T/back). Filling the tmpfs (not the file system above it)
# makes the writeback of new blocks fail: fdatasync says ENOSPC, or the loop device
# reports a write it made only in part as whole and fdatasync says 0 (store/readback.h).
# Source after e2e.sh.

# loopdisk_mount DIR [HOLDER]: DIR becomes such a file system (empty, 0700); LOOPDISK is
# its device. At cleanup the process whose pid the variable HOLDER holds (it has files
# open there) is killed first; then DIR is unmounted, the device detached, the tmpfs
# unmounted.
loopdisk_mount() {
	local dir=$1 holder=${2:-} kill_holder=
	[ -n "$holder" ] && kill_holder="[ -n \"\$$holder\" ] && kill -KILL \$$holder && wait \$$holder;"
	mkdir -p "$T/back" "$dir"
	mount -t tmpfs -o size=48m,mode=0700 tmpfs "$T/back" || return 1
	LOOPDISK=
	on_cleanup "$kill_holder umount '$dir'; [ -n \"\$LOOPDISK\" ] && losetup -d \$LOOPDISK; umount '$T/back'"
	truncate -s 32M "$T/back/disk"
	LOOPDISK=$(losetup -f --show "$T/back/disk") || return 1
	# Every metadata block written now (no lazy init later): afterwards only the files
	# written there need new space on the tmpfs.
	mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$LOOPDISK" || return 1
	mount "$LOOPDISK" "$dir" || return 1
	rmdir "$dir/lost+found"
	chmod 0700 "$dir"
}

# backing_full: a filler file takes the tmpfs's last free pages (the file system above
# still has room).
backing_full() {
	dd if=/dev/zero of="$T/back/filler" bs=4k >/dev/null 2>&1
	[ "$(df -k --output=avail "$T/back" | tail -1)" -eq 0 ]
}

backing_room() { rm -f "$T/back/filler"; }

# loopdisk_remount DIR: mounted afresh, so that what is read is what the disk holds,
# nothing from the page cache.
loopdisk_remount() { umount "$1" && mount "$LOOPDISK" "$1"; }
