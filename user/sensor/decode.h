/*
 * Decoding kernel events (bpf/firstlight.h layouts) into records. Every input is checked
 * against its declared size before a field is read: the ring buffer is ours, but a
 * decoder that trusts lengths is one kernel bug away from reading past a record.
 * Keeps the process table current and hands each record to the recorder.
 */
#ifndef FL_DECODE_H
#define FL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.h"
#include "sensor/proctable.h"
#include "records/record.h"
#include "sensor/workload.h"
#include "records/gaps.h"
#include "sensor/decode_net.h"

struct decoder_stats {
	uint64_t events[FL_EV_MAX]; /* kernel events decoded, by type */
	uint64_t malformed;         /* events rejected by size checks */
	uint64_t nomem;             /* events not recorded for want of memory */
	uint64_t args_truncated;
	uint64_t unrecorded_sockets; /* sockets of kinds not recorded, counted in workloads */
	uint64_t exits_without_start;
	uint64_t duplicate_exits; /* second report of one process end (older kernels) */
	uint64_t args_not_kept;   /* images kept without their argv (the budget) */
	uint64_t untracked;       /* execs the kernel's live-process map had no room for */
};

#define DECODER_RECENT_EXITS 32


struct decoder {
	struct recorder *rec;    /* not owned */
	struct proctable *procs; /* not owned */
	struct workloads *workloads; /* not owned; NULL: keys only, no Workload records */
	struct gaps *gaps;           /* not owned; NULL: no gap records */
	uint64_t down_since_unix_ns; /* the sensor was down from then until this run */
	uint64_t handover_boot_ns;   /* adopted programs: the previous run drained until then */
	uint64_t first_load_boot_ns; /* adopted programs: their first load's seeding instant */
	uint32_t args_max_count; /* args kept per exec; more sets args_truncated */
	/*
	 * The process table's images (argv, binary, cwd: up to ~130 KiB escaped for one
	 * process) are held within image_budget bytes: an image that would pass it is kept
	 * without its argv once its exec (or seed) record is written, and an ARGV_NOT_KEPT
	 * gap names its workload. Memory then grows with the count of live processes, never
	 * with what they put in their argv. 0: no budget.
	 */
	uint64_t image_budget;
	uint64_t image_bytes;    /* held now */
	struct decoder_stats stats;
	struct netdec *net;      /* owned: network state, see decode_net.h */
	struct filedec *file;    /* not owned; NULL: watched-file events are dropped */
	struct fl_exec_id recent_exits[DECODER_RECENT_EXITS]; /* to drop duplicate exits */
	unsigned int recent_next;
	/* Reused per event, owned: */
	char **argv;   /* args_max_count + 1 pointers */
	char *arena;   /* escaped strings of one event */
	size_t arena_cap;
};

int decoder__init(struct decoder *d, struct recorder *rec, struct proctable *procs,
		  uint32_t args_max_count);
void decoder__fini(struct decoder *d);
/* Attributes processes to workloads (and lets cgroup events reach them). */
void decoder__set_workloads(struct decoder *d, struct workloads *w);
/*
 * Records the gaps events reveal (missing starts, pre-existing processes, opaque
 * sandboxes). down_since_unix_ns: when the previous run was last alive (0: unknown), so
 * that pre-existing processes started after it are flagged started_while_down.
 */
void decoder__set_gaps(struct decoder *d, struct gaps *g, uint64_t down_since_unix_ns);

/*
 * This run adopted the programs of the run before it (a handover): that run recorded
 * everything up to handover_boot_ns, when it drained the ring for the last time, and the
 * programs were first loaded, and their pre-existing processes seeded, at
 * first_load_boot_ns. An exit of a process this run never saw is then no missing start
 * when the process started before the handover: the run before recorded its start.
 */
void decoder__set_adopted(struct decoder *d, uint64_t handover_boot_ns, uint64_t first_load_boot_ns);

/* Decodes one ring-buffer event. 0, or -EINVAL for a malformed event (counted). */
int decoder__handle(struct decoder *d, const void *data, size_t size);

/*
 * Records a process that was alive before the sensor attached (a seed event from the
 * task iterator) with the image read from /proc by the caller. Takes img's reference;
 * img may be NULL when /proc no longer had the process.
 */
int decoder__seed(struct decoder *d, const struct fl_seed_event *ev, struct proc_image *img);

/*
 * After a handover: takes a process the walk found (with its image from /proc) into the
 * table without a record: the run before recorded it. Processes this run already knows
 * (from the ring) are left alone. Flagged PROC_ADOPTED, and PROC_START_SEEN or
 * PROC_PRE_EXISTING as the run before saw it. Takes img's reference. Returns 1 if taken,
 * 0 if already known, or -errno.
 */
int decoder__adopt(struct decoder *d, const struct fl_seed_event *ev, struct proc_image *img);

/* Builds an image from raw bytes as the kernel sends them (binary, cwd, NUL-separated
 * argv of args_len bytes, whose last tail_len bytes are argv's tail when it was cut
 * between head and tail), escaping non-UTF-8. Used for exec events and /proc reads. */
struct proc_image *decoder__image(struct decoder *d, const char *binary, size_t binary_len,
				  const char *cwd, size_t cwd_len, const char *args,
				  size_t args_len, size_t tail_len, uint32_t flags);

#endif
