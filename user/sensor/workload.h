/*
 * Workloads: what each process belongs to (a container, a sandbox, a service, the host),
 * named from the cgroup it lives in and the runtime that made that cgroup, and recorded
 * as Workload records: STARTED when first seen, RESOLVED when more of its identity is
 * known, ENDED at its end. Identity is untrusted input: a cgroup path is only a claim
 * until the process that made the cgroup is shown to be a container runtime on the host.
 * Errors: 0 or -errno; constructors NULL with errno set; free is NULL-safe.
 */
#ifndef FL_WORKLOAD_H
#define FL_WORKLOAD_H

#include <stdint.h>

#include "firstlight.h"
#include "sensor/proctable.h"
#include "records/record.h"
#include "records/wlkey.h"
#include "identity/resolver.h"


struct gaps;

struct workloads_opts {
	struct recorder *rec;      /* not owned */
	struct gaps *gaps;         /* not owned; NULL: no gap records for workloads */
	struct proctable *procs;   /* not owned: the actors of cgroup events */
	struct resolver *resolver; /* not owned; NULL: no bundle reading */
	uint32_t host_mnt_ns;      /* the host's mount namespace inode */
	uint32_t host_pid_ns;      /* the host's pid namespace inode */
	/* Capabilities the node lacks (sensor/kcaps: static names, not owned), named in
	 * every ENDED record's coverage as what could not be observed of it. */
	const char *const *unobserved;
	size_t n_unobserved;
};

struct workload_stats {
	uint64_t started, resolved, ended;
	uint64_t unattributed;       /* container-like workloads that ended unnamed */
	uint64_t untrusted_claims;   /* paths claiming an identity nothing trusted confirmed */
	uint64_t resolve_dropped;    /* resolver queue full */
	uint64_t resolve_failed;
	uint64_t live;
	uint64_t blind;              /* workloads that lived and died with nothing seen inside */
	uint64_t unowned;            /* ended with an owners file applied and no rule matching */
};

struct workloads;

struct workloads *workloads__new(const struct workloads_opts *opts);
void workloads__free(struct workloads *w);

/*
 * A cgroup that existed before we attached (cgscan.h finds them), so that a process in
 * it still gets a path: kept dormant, no record until a process shows up in it. inode is
 * the directory's (v1: of the memory hierarchy); path is relative to the hierarchy's
 * root, untrusted: it only ever becomes a record string.
 */
void workloads__add_existing(struct workloads *w, uint64_t inode, const char *path, int v1);

/* A cgroup event from the kernel; path is the event's path (path_len bytes). */
void workloads__on_cgroup(struct workloads *w, const struct fl_cgroup_event *ev,
			  const char *path);

/*
 * A process record is about to be written (exec, fork, or pre-existing): counts it in its
 * workload, emitting the workload's STARTED record first if this is its first sight, and
 * writes the workload key into key (WLKEY_MAX). creator: the image the process ran before
 * (what forked it), which names a sandbox (bwrap, unshare). prev_sandbox: what
 * this returned for the process before (an exec after its fork), 0 if new. Returns the
 * sandbox the process is in (to pass back at its exit), 0 if none.
 */
#define WL_PROC_EXEC (1u << 0)           /* an exec (else a fork or a pre-existing process) */
#define WL_PROC_ARGS_TRUNCATED (1u << 1) /* its argv was cut */
#define WL_PROC_AGAIN (1u << 2)          /* a process already counted in this cgroup (its
					  * exec after its fork): an image, not a process */

uint64_t workloads__on_process(struct workloads *w, const struct fl_task *t, unsigned int what,
			       const struct proc_image *creator, uint64_t prev_sandbox,
			       uint64_t boot_ns, char *key);

/*
 * An exec in the workload of cgroup_id (or of sandbox, what workloads__on_process
 * returned): the first one names the workload's binary and uid for the owners file.
 */
void workloads__on_first_exec(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox,
			      uint32_t uid, const char *binary);

/*
 * The owners file (identity/owners.h; not owned, NULL: none) that names the owner of every
 * Workload record written from now on; fail_unowned: an UNOWNED_WORKLOAD gap for a
 * workload that ends with no rule matching it. The caller keeps owners alive until it
 * sets another (a reload) or frees the workloads.
 */
struct owners;
void workloads__set_owners(struct workloads *w, const struct owners *owners, int fail_unowned);

/* A privilege record of a process in the workload of cgroup_id (or of sandbox). */
void workloads__note_privilege(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox);
/* A socket of a kind the sensor does not record (FL_SOCK_*) made in the workload: counted
 * in its coverage, an UNRECORDED_SOCKETS gap at its end. */
void workloads__note_socket(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox,
			    uint32_t kind);

/* Opens of watched paths (FileAccess records' counts) by a process in the workload. */
void workloads__note_file_access(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox,
				 uint64_t opens);

/* Live workloads that made a privilege change or opened a watched path, for the metrics:
 * key, owner (valid until the next call into the workloads) and counts; at most max, the
 * rest summed in *other (privilege changes) and *other_files (watched-path opens). */
struct workload_privileged {
	char key[WLKEY_MAX];
	const char *owner; /* "" when none */
	uint64_t privilege_changes;
	uint64_t file_accesses;
};
size_t workloads__privileged(struct workloads *w, struct workload_privileged *out, size_t max,
			     uint64_t *other, uint64_t *other_files);

/* A gap record named the workload of cgroup_id: counted in its coverage at ENDED. */
void workloads__note_gap(struct workloads *w, uint64_t cgroup_id, int kind, uint64_t count);


/* A process ended; sandbox is what workloads__on_process returned for it. */
void workloads__on_exit(struct workloads *w, uint64_t cgroup_id, uint64_t sandbox,
			uint64_t boot_ns);

/* Collects resolver results and applies them (RESOLVED, and ENDED if it was waiting). */
void workloads__poll_resolver(struct workloads *w);

/* Ends workloads whose resolution timed out after their end. Call on every tick. */
void workloads__tick(struct workloads *w);

/* Agent stop: writes ENDED records for nothing (they live on), but resolves what is
 * pending within a short bound so the last container's identity is not lost. */
void workloads__stop(struct workloads *w);

const struct workload_stats *workloads__stats(const struct workloads *w);

/*
 * The segment store's snapshot (snapshot.h): restates every live workload already
 * recorded, as it is known now, flagged snapshot; counted in no statistic.
 */
void workloads__snapshot(struct workloads *w);

#endif
