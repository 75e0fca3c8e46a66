/*
 * The host's mount table, and a file's host path from what the kernel captured of it
 * (bpf/fileaccess.bpf.c: the mount it was opened through, its superblock's device and
 * its path from the superblock's root). The agent runs in the host's pid namespace, so
 * /proc/1/mountinfo is the host init's table. A file opened in a container through a
 * bind mount of a host directory (a pod's projected token) is shown on the host by the
 * mount of its device whose root is a prefix of the file's path in its filesystem: the
 * host path is that mount's point and the rest of the path. The file's own mount wins
 * when the host's table holds it (a host process); otherwise, of several, the one with
 * the longest root (the most specific: a kubelet directory's bind mount rather than the
 * disk's), the first in the table on a tie. A file no host mount shows (a tmpfs mounted
 * only in a container's namespace) has no host path.
 * The table is parsed once and read again when it may have changed: at a lookup, when
 * the kernel says so (poll's POLLPRI on a proc mountinfo: every mount or unmount of its
 * namespace), and after a miss for a file that is not proc's (a test's table).
 * Errors: constructors NULL with errno set; int functions 0 or -errno; free(NULL) no-op.
 */
#ifndef FL_HOSTMOUNTS_H
#define FL_HOSTMOUNTS_H

#include <stddef.h>
#include <stdint.h>

#define HOSTMOUNTS_PATH "/proc/1/mountinfo"

struct hostmounts;

/* path: a mountinfo file, opened now (before privileges are dropped) and kept open. */
struct hostmounts *hostmounts__new(const char *path);
void hostmounts__free(struct hostmounts *h);

/*
 * The host path of a file: mnt_id its mount's id, dev its superblock's device (the
 * kernel's dev_t, major << 20 | minor), fs_path its path from the superblock's root.
 * Writes it, NUL-terminated, to out (out_cap bytes): 0; -ENOENT when no host mount
 * shows it, -ENAMETOOLONG when it does not fit, -EINVAL for a fs_path not absolute,
 * another -errno when the table cannot be read (out "" in each case).
 */
int hostmounts__lookup(struct hostmounts *h, uint32_t mnt_id, uint32_t dev, const char *fs_path,
		       char *out, size_t out_cap);

/* Times the table was read (for tests and metrics). */
uint64_t hostmounts__reads(const struct hostmounts *h);

#endif
