/*
 * The workloads of a record, for `firstlight workloads`: what there is to select with
 * `tree` (a key, a container id, a pod), each with its identity, when it was first and
 * last seen, how many processes ran in it and how many gaps named it.
 *
 * Fed records one at a time, from any number of files and agent runs in any order. A
 * workload is known from its Workload records (each restates it in full: the latest
 * wins) and from the records that name its key (processes, flows, gaps), so one whose
 * STARTED record was cut off is still listed. Keys are per node (records name theirs):
 * the records of several nodes (a collected store) list each node's workloads apart. Processes are counted once each (a fork
 * and its exec are one process; snapshots and records read twice count once), by pid
 * and start time; gaps once each, by run and seq. Memory grows with workloads and with
 * the processes seen, never with other records.
 * Input is untrusted: any string or number is taken without a crash; strings are
 * escaped by whoever shows them. Pure logic: unit tests feed constructed events.
 * Errors: 0 or -errno; wllist__new returns NULL with errno set; wllist__free(NULL) is a
 * no-op. Rows and their strings are valid until wllist__free.
 */
#ifndef FL_WLLIST_H
#define FL_WLLIST_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"

/* One workload of one node. Strings are never NULL ("" when unknown). */
struct wl_row {
	const char *node;          /* the records' node: a key is a node's own */
	const char *key;
	int kind;                  /* Workload.Kind; 0 when no Workload record was read */
	uint64_t cgroup_id;
	const char *runtime, *container_id, *container_name;
	const char *pod_name, *pod_namespace, *pod_uid, *image, *cgroup_path;
	const char *owner;         /* from the owners file (run --owners); "" when none named one */
	int identity_verified;
	int has_record;            /* a Workload record was read (else known by its key only) */
	int ended;                 /* an ENDED record was read */
	uint64_t first_ns, last_ns; /* unix ns, 0 unknown */
	uint64_t processes;        /* distinct processes recorded in it */
	uint64_t gaps;             /* distinct gap records that named it */
	/* Internal. */
	uint64_t record_ns;        /* time of the Workload record the fields are from */
	uint32_t index;            /* in input order */
};

struct wllist;

struct wllist *wllist__new(void);
void wllist__free(struct wllist *l);
/* Feeds one record; nothing of ev is kept but copies. 0, -EINVAL after finish, -ENOMEM. */
int wllist__add(struct wllist *l, const Firstlight__V1__Event *ev);
/* Sorts the rows: by node, then first seen (unknown last), then key. Once. 0. */
int wllist__finish(struct wllist *l);
size_t wllist__count(const struct wllist *l);
const struct wl_row *wllist__row(const struct wllist *l, size_t i);
/* The row of key on node ("" or NULL: records without a node), or NULL. */
const struct wl_row *wllist__find(const struct wllist *l, const char *node, const char *key);
/* After finish: how many nodes the rows are of. */
size_t wllist__nodes(const struct wllist *l);

#endif
