/* Unit tests for user/store/readback.c: bytes read back from the device match what was
 * written, or are told apart when they differ or the file is short; and the device that
 * lies, made for real (as root): a loop device on a full tmpfs, where a write that begins
 * in a block the backing file holds and runs on into a hole is reported whole and fsync
 * says 0, while the device reads back zeros. */
#include <errno.h>
#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/readback.h"

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static int make_dir(char *dir, size_t cap)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, cap, "%s/fl-readback-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

static void test_matches_and_differs(void **state)
{
	char dir[256];
	uint8_t data[10000];
	int dirfd, fd;

	(void)state;
	dirfd = make_dir(dir, sizeof(dir));
	assert_true(dirfd >= 0);
	fill_pattern(data, sizeof(data), 7);
	fd = openat(dirfd, "f", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, sizeof(data)), sizeof(data));
	assert_int_equal(fdatasync(fd), 0);
	close(fd);

	/* The whole file, and a range from an offset no block starts at. */
	assert_int_equal(readback__check(dirfd, "f", 0, sizeof(data), readback__crc(0, data, sizeof(data))), 0);
	assert_int_equal(readback__check(dirfd, "f", 5001, sizeof(data),
					 readback__crc(0, data + 5001, sizeof(data) - 5001)), 0);
	/* The CRC of bytes written in pieces is that of the whole. */
	assert_int_equal(readback__crc(readback__crc(0, data, 3000), data + 3000, 7000),
			 readback__crc(0, data, sizeof(data)));
	/* Other bytes, or more than the file holds. */
	data[6000] ^= 1;
	assert_int_equal(readback__check(dirfd, "f", 0, sizeof(data), readback__crc(0, data, sizeof(data))), -EIO);
	assert_int_equal(readback__check(dirfd, "f", 5001, 12000, readback__crc(0, data + 5001, 4999)), -EIO);
	assert_int_equal(readback__check(dirfd, "missing", 0, 10, 0), -ENOENT);
	assert_int_equal(readback__check(dirfd, "f", 10, 10, 12345), 0); /* nothing to read */

	unlinkat(dirfd, "f", 0);
	close(dirfd);
	rmdir(dir);
}

/* A free loop device bound to backing: its number, or -1. */
static int loop_attach(int backing, int *loop_fd)
{
	for (int tries = 0; tries < 10; tries++) {
		int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), n, fd;
		char path[32];

		if (ctl < 0)
			return -1;
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		close(ctl);
		if (n < 0)
			return -1;
		snprintf(path, sizeof(path), "/dev/loop%d", n);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -1;
		if (!ioctl(fd, LOOP_SET_FD, backing)) {
			*loop_fd = fd;
			return n;
		}
		close(fd); /* taken meanwhile by someone else: another one */
	}
	return -1;
}

/* What a loop test made, undone by its teardown whether it passed or not. */
struct loop_test {
	char dir[256];
	int mounted, dirfd, devfd, backing, loop_fd;
	uint8_t *block;
};
#define LOOP_TEST_NONE ((struct loop_test){ .dirfd = -1, .devfd = -1, .backing = -1, .loop_fd = -1 })
static struct loop_test lt = LOOP_TEST_NONE;

static int loop_teardown(void **state)
{
	(void)state;
	free(lt.block);
	if (lt.devfd >= 0)
		close(lt.devfd);
	if (lt.loop_fd >= 0) {
		ioctl(lt.loop_fd, LOOP_CLR_FD, 0);
		close(lt.loop_fd);
	}
	if (lt.backing >= 0)
		close(lt.backing);
	if (lt.dirfd >= 0)
		close(lt.dirfd);
	if (lt.mounted)
		umount2(lt.dir, MNT_DETACH);
	if (lt.dir[0])
		rmdir(lt.dir);
	lt = LOOP_TEST_NONE; /* the next test starts from nothing */
	return 0;
}

/*
 * A tmpfs of tmpfs_size (mount's size=) in a new directory, holding a disk image of
 * disk_bytes bound to a free loop device: the device's number, all of it in lt.
 */
static int loop_on_tmpfs(const char *tmpfs_size, off_t disk_bytes)
{
	char disk[300], opts[64];
	int n;

	if (geteuid()) {
		print_message("needs root (a tmpfs and a loop device)\n");
		fail();
	}
	lt.dirfd = make_dir(lt.dir, sizeof(lt.dir));
	assert_true(lt.dirfd >= 0);
	snprintf(opts, sizeof(opts), "size=%s,mode=0700", tmpfs_size);
	assert_int_equal(mount("tmpfs", lt.dir, "tmpfs", 0, opts), 0);
	lt.mounted = 1;
	snprintf(disk, sizeof(disk), "%s/disk", lt.dir);
	lt.backing = open(disk, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(lt.backing >= 0);
	assert_int_equal(ftruncate(lt.backing, disk_bytes), 0);
	n = loop_attach(lt.backing, &lt.loop_fd);
	assert_true(n >= 0);
	return n;
}

static void test_lying_loop_device(void **state)
{
	char filler[300], name[32];
	uint8_t data[8192];
	int n, fd, synced, check;

	(void)state;
	n = loop_on_tmpfs("1m", 4 << 20);
	snprintf(filler, sizeof(filler), "%s/filler", lt.dir);
	snprintf(name, sizeof(name), "loop%d", n);
	lt.devfd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(lt.devfd >= 0);

	/* Block 0 held by the backing file; then the tmpfs full. */
	assert_int_equal(posix_memalign((void **)&lt.block, 4096, 4096), 0);
	fill_pattern(lt.block, 4096, 1);
	assert_int_equal(pwrite(lt.loop_fd, lt.block, 4096, 0), 4096);
	assert_int_equal(fsync(lt.loop_fd), 0);
	fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	while (write(fd, lt.block, 4096) == 4096)
		;
	close(fd);

	/* 8 KiB from block 0 on: the second half has nowhere to go. */
	fill_pattern(data, sizeof(data), 2);
	assert_int_equal(pwrite(lt.loop_fd, data, sizeof(data), 0), sizeof(data));
	synced = fsync(lt.loop_fd);
	check = readback__check(lt.devfd, name, 0, sizeof(data), readback__crc(0, data, sizeof(data)));
	print_message("fsync said %d, the read-back %d\n", synced, check);
	/* A kernel that tells the truth fails the sync; this one says 0: the read-back tells. */
	assert_true(synced != 0 || check == -EIO);
	/* What did land reads back as written. */
	assert_int_equal(readback__check(lt.devfd, name, 0, 4096, readback__crc(0, data, 4096)), 0);

	/* Known for what it is: the loop device, not the tmpfs under it. */
	{
		struct stat dev, tmp;

		assert_int_equal(fstat(lt.loop_fd, &dev), 0);
		assert_int_equal(fstat(lt.dirfd, &tmp), 0);
		assert_int_equal(readback__device_may_lie(dev.st_rdev), 1);
		assert_int_equal(readback__device_may_lie(tmp.st_dev), 0);
	}
}

/*
 * A file system on a partition of a loop device (a disk image attached with losetup -P):
 * known for a loop device too, through the partition's disk in sysfs. The partition is
 * added with BLKPG, as addpart does: this kernel reads no partition table at all.
 */
static void test_partition_of_loop(void **state)
{
	struct loop_info64 info = { .lo_flags = LO_FLAGS_PARTSCAN };
	struct blkpg_partition part = { .start = 1 << 20, .length = 2 << 20, .pno = 1 };
	struct blkpg_ioctl_arg arg = { .op = BLKPG_ADD_PARTITION, .datalen = sizeof(part), .data = &part };
	char sys[96], dev[64];
	unsigned maj, min;
	struct stat st;
	FILE *f;
	int n;

	(void)state;
	n = loop_on_tmpfs("4m", 3 << 20);
	/* Partitions allowed on it (losetup -P), then one added. */
	assert_int_equal(ioctl(lt.loop_fd, LOOP_SET_STATUS64, &info), 0);
	assert_int_equal(ioctl(lt.loop_fd, BLKPG, &arg), 0);
	snprintf(sys, sizeof(sys), "/sys/block/loop%d/loop%dp1/dev", n, n);
	f = fopen(sys, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%u:%u", &maj, &min), 2);
	fclose(f);
	snprintf(dev, sizeof(dev), "/sys/dev/block/%u:%u/partition", maj, min);
	assert_int_equal(access(dev, F_OK), 0); /* a partition indeed, not the disk */
	assert_int_equal(readback__device_may_lie(makedev(maj, min)), 1);
	assert_int_equal(fstat(lt.loop_fd, &st), 0);
	assert_int_equal(readback__device_may_lie(st.st_rdev), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_and_differs),
		cmocka_unit_test_teardown(test_lying_loop_device, loop_teardown),
		cmocka_unit_test_teardown(test_partition_of_loop, loop_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
