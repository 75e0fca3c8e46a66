/*
 * Reading container identity off the ring-buffer path. A request names a workload and
 * where its identity may be read (a bundle dir, or a runtime state dir to find the
 * bundle in); a worker thread reads and parses it and posts the result, which the main
 * loop collects when resolver__fd() is readable. The consumer never waits on a file.
 * Errors: 0 or -errno; constructors NULL with errno set.
 */
#ifndef FL_RESOLVER_H
#define FL_RESOLVER_H

#include <stdint.h>
#include <sys/types.h>

#include "identity/oci.h"

/* A runtime's state dir: whose format, and where. */
struct resolve_root {
	const char *runtime;     /* "runc" or "crun"; NULL ends a list */
	const char *dir;
};

struct resolve_req {
	uint64_t key;            /* the workload's cgroup id */
	char bundle[4096];       /* bundle dir to read, or "" to look the id up in state */
	const char *runtime;     /* static; for a state lookup: "runc", "crun", NULL for both */
	char state_root[4096];   /* runtime --root, "" for the default */
	char id[256];            /* container id for the state lookup (validated) */
	uid_t owner_uid;         /* besides root, who may own the bundle ((uid_t)-1: root) */
	/* Where to look the id up instead of runtime and state_root: a static list, ended
	 * by a NULL runtime; the first state found decides. NULL: runtime, state_root. */
	const struct resolve_root *roots;
	/* A claim to check (a cgroup named like a container, seen only by the scan): the
	 * state found must tie the container to this cgroup, whose cgroup2 inode is key and
	 * whose path is cgroup_path; the bundle is read only if it does. */
	int verify;
	char cgroup_path[1024];
};

struct resolve_res {
	uint64_t key;
	int err;                 /* 0, or why the identity could not be read */
	const char *source;      /* static: "oci-bundle" or "runtime-state" */
	const char *runtime;     /* static: whose state named the bundle (state lookups) */
	char bundle[4096];
	struct oci_identity id;
	/* verify requests: 1 the state ties the container to the cgroup, 0 it puts it in
	 * another (why says where), -errno it could not tell; the identity is read only
	 * when tied */
	int tie;
	char why[256];
};

struct resolver;

struct resolver *resolver__new(void);
void resolver__free(struct resolver *r); /* stops the worker; NULL-safe */

/* Queues a copy of req. -EAGAIN when the queue is full (the caller counts it). */
int resolver__submit(struct resolver *r, const struct resolve_req *req);
/* Readable (eventfd) when results wait. */
int resolver__fd(const struct resolver *r);
/* Takes one result: 1 if out was filled, 0 if none is ready. */
int resolver__take(struct resolver *r, struct resolve_res *out);
/* Requests submitted and not yet taken back. */
unsigned int resolver__pending(struct resolver *r);

#endif
