/*
 * The data directory of the segment store: opened without following a symlink, 0700,
 * and the names and listing of its segment files. Segment files are named
 *   seg-<number, 10 digits>-<UTC creation, YYYYMMDDTHHMMSSZ>-<run id, 8 hex>.seg.gz
 * where the number increases by one per segment across agent runs, so that name order
 * is chain order whatever the clock did. Errors: 0 or -errno.
 */
#ifndef FL_STORE_DIR_H
#define FL_STORE_DIR_H

#include <stddef.h>
#include <stdint.h>

/* Where the agent writes and the readers read when told nothing else. */
#define STORE_DEFAULT_DIR "/var/lib/firstlight"
#include <time.h>

#define SEGMENT_NAME_MAX 64 /* "seg-" 10 "-" 16 "-" 8 ".seg.gz" and its NUL fit */

/*
 * Opens dir (creating it 0700 when absent) without following a symlink; tightens a
 * directory others can read to 0700. Returns the fd or -errno.
 */
int store_dir__open(const char *dir);

/* Takes the agent's exclusive lock on the directory: -EBUSY when another agent holds it. */
int store_dir__lock(int dirfd);

/* Writes the name of segment number, created at t by run_id. */
void store_dir__segment_name(char out[SEGMENT_NAME_MAX], uint64_t number, time_t t,
			     const char *run_id);
/* 0 and the number when name is a segment name of this format, -EINVAL otherwise. */
int store_dir__segment_number(const char *name, uint64_t *number);

struct seg_entry {
	char name[SEGMENT_NAME_MAX];
	uint64_t number;
	uint64_t bytes;
	int64_t mtime_ns; /* CLOCK_REALTIME of the last write */
};

/* The segment files of dirfd, by number. *out is caller-freed (free()). */
int store_dir__list(int dirfd, struct seg_entry **out, size_t *n);

int store_dir__fsync(int dirfd);

/*
 * Gives back the blocks allocated past the end of segment name (what its writer reserved
 * ahead and, killed, never gave back itself): its content, size and time of last write
 * stay as they are.
 * Returns the bytes given back (0 when none were held) or -errno.
 */
int64_t store_dir__trim_reserved(int dirfd, const char *name);

/*
 * Replaces name in dirfd with data, atomically: written to name.tmp, synced, renamed,
 * the directory synced. Never through a symlink.
 */
int store_dir__write_atomic(int dirfd, const char *name, const void *data, size_t len);
/*
 * A file that only saves work, rewritten in place: one pwrite at offset 0, no new inode
 * (a rename per write costs an inode allocation, the most of what writing it cost), no
 * wait for the disk. A reader may find it torn, old, or empty: its content must carry
 * its own check, and writes of one file should keep one length. open_cache gives the
 * fd (or -errno) once; never through a symlink.
 */
int store_dir__open_cache(int dirfd, const char *name);
int store_dir__write_cache(int fd, const void *data, size_t len);
/* Reads at most cap - 1 bytes of name (NUL-terminated); the length or -errno. */
int store_dir__read_small(int dirfd, const char *name, char *buf, size_t cap);

#endif
