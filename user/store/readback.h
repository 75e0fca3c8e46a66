/*
 * Whether bytes a file was told to keep are on the device: read back past the page cache
 * (O_DIRECT) after fdatasync, and compared by CRC-32 with what was written.
 *
 * fdatasync's word is not always enough. A loop device whose backing file cannot grow
 * (a sparse file on a full tmpfs or file system: how thin volumes and many test rigs are
 * made) completes a write that it stored only in part as if it stored it all, when the
 * write began in blocks the backing file already held (seen on 6.18: an 8 KiB write whose
 * second half fell in a hole reported 8192 bytes written; fsync said 0; the device read
 * back zeros there). The page cache keeps the bytes, so every buffered read agrees, until
 * the cache is gone. Only a read from the device tells.
 *
 * Errors: 0 or -errno.
 */
#ifndef FL_STORE_READBACK_H
#define FL_STORE_READBACK_H

#include <stdint.h>
#include <sys/types.h>

/* The CRC of len more bytes after those crc covers (zlib's crc32: start from 0). */
uint32_t readback__crc(uint32_t crc, const void *data, size_t len);

/*
 * Reads bytes [from, to) of dirfd/name from the device and compares their CRC with crc.
 * 0 when they match; -EIO when they differ or the file ends before to; -EOPNOTSUPP when
 * the file system cannot read past its cache (no O_DIRECT: nothing can be told); another
 * -errno when the file cannot be opened or read.
 */
int readback__check(int dirfd, const char *name, off_t from, off_t to, uint32_t crc);

/* For a writer that checks one file again and again: dirfd/name opened to be read past
 * the cache (a descriptor, or -EOPNOTSUPP / -errno as above), and the check on it. */
int readback__open(int dirfd, const char *name);
int readback__check_fd(int fd, off_t from, off_t to, uint32_t crc);

/*
 * Whether block device dev is one known to report writes it did not make: a loop device,
 * a partition of one, or a device built on one (device-mapper, md), as /sys/dev/block
 * tells. 1 yes, 0 no or not known (dev 0: no block device, such as tmpfs).
 */
int readback__device_may_lie(dev_t dev);

#endif
