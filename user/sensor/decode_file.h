/*
 * Watched-file opens (bpf/fileaccess.bpf.c) to FileAccess records, aggregated per
 * (process image, path, mode) per window as the kernel counts them (struct fl_file_key):
 * the first open of a key in a generation arrives through the ring with its path, the
 * rest is counted in the kernel map file_flows, which the agent drains one generation a
 * window (the one the kernel stopped writing a window ago) and then makes the kernel's
 * current one again. A record names the exec id and workload key; the path is checked
 * against the watched patterns again, which names the one it matched; the file's host
 * path is looked up (hostmounts.h) when its event arrives.
 * Errors: constructors NULL with errno set; int functions 0 or -errno.
 */
#ifndef FL_DECODE_FILE_H
#define FL_DECODE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "records/record.h"
#include "sensor/hostmounts.h"
#include "sensor/proctable.h"
#include "sensor/watchpaths.h"
#include "sensor/workload.h"

struct filedec_stats {
	uint64_t records;   /* FileAccess records written */
	uint64_t opens;     /* opens they count */
	uint64_t unmatched; /* events whose path no pattern matched (a hash collision) */
	uint64_t alone;     /* contributions recorded alone: no room to aggregate */
	uint64_t no_host_path; /* files whose host path was not found (hostmounts__lookup) */
};

struct filedec;

/*
 * watch: the patterns (not owned, outlives it); workloads may be NULL (no metric);
 * mounts: the host's mount table, for host paths (not owned, outlives it), may be NULL
 * (no host paths).
 */
struct filedec *filedec__new(struct recorder *rec, struct proctable *procs,
			     const struct watchpaths *watch, struct workloads *workloads,
			     struct hostmounts *mounts);
void filedec__free(struct filedec *f); /* NULL-safe */
/* A FL_EV_FILE event from the ring. */
int filedec__handle(struct filedec *f, const void *data, size_t size);
/*
 * Once per window, after the ring was drained: records the generation the kernel left a
 * window ago (from map_fd, file_flows) and flips *gen (the kernel's file_gen) to it.
 * all: at stop, both generations.
 */
int filedec__window(struct filedec *f, int map_fd, uint32_t *gen, int all);
const struct filedec_stats *filedec__stats(const struct filedec *f);

#endif
