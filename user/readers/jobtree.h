/*
 * Rebuilding a job from its records, for `firstlight tree`: which processes ran (as a
 * tree by lineage, each process a chain of images: fork, then every exec), as whom, how
 * each ended, what it connected to, and where the record has holes.
 *
 * Two passes over the same records, so that memory grows with the job and not with the
 * store (a store holds weeks of a node):
 *   1. jobtree__scan every record: workloads are indexed (always) and, when the query
 *      follows lineage (--exec-id, --pid), the node's whole process graph without argv;
 *   2. jobtree__resolve: what the query names (the workloads, or the exec ids of the
 *      subtree); -ENOENT when nothing (jobtree__suggestion lists what comes closest),
 *      -ENOTUNIQ when a prefix or a pod name is ambiguous (jobtree__candidate lists them);
 *   3. jobtree__add every record again: the job's records are kept in full;
 *   4. jobtree__build: processes linked, flows joined, gaps placed; jobtree__job.
 * Records may come from several files and agent runs in any order; a record read twice
 * (same run and seq) and segment snapshots (restatements) count once.
 * Input is untrusted: any string, time or id gives a tree (loops in the lineage are cut)
 * without a crash. Pure logic, no files or clock: unit tests feed constructed events.
 * Errors: int functions return 0 or -errno; jobtree__new returns NULL with errno set;
 * jobtree__free(NULL) is a no-op. Every pointer handed out is valid until jobtree__free.
 */
#ifndef FL_JOBTREE_H
#define FL_JOBTREE_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"
#include "readers/jobtypes.h"

struct jobtree;

/* q is copied. NULL with errno = EINVAL (empty value) or ENOMEM. */
struct jobtree *jobtree__new(const struct jobtree_query *q);
void jobtree__free(struct jobtree *t);

/* Pass 1. Nothing of ev is kept but copies. 0, -EINVAL out of order, -ENOMEM. */
int jobtree__scan(struct jobtree *t, const Firstlight__V1__Event *ev);
/* Between the passes. 0, -ENOENT (nothing matched), -ENOTUNIQ (ambiguous), -ENOMEM. */
int jobtree__resolve(struct jobtree *t);
size_t jobtree__candidates(const struct jobtree *t);
const struct jt_candidate *jobtree__candidate(const struct jobtree *t, size_t i);
/* After -ENOENT: what comes closest, for the message (the containers, pods, workload
 * keys or exec ids nearest to the value; cgroup:<N> for a bare number N; the processes
 * that had the pid at other times, with first_ns and last_ns their lifetime). */
size_t jobtree__suggestions(const struct jobtree *t);
const struct jt_candidate *jobtree__suggestion(const struct jobtree *t, size_t i);
/* Workloads read in pass 1 (for "nothing matched" messages). */
size_t jobtree__workloads_seen(const struct jobtree *t);
/* Before pass 2: keep every record of the job as canonical JSON (jt_image.record and the
 * like), for renderers that show a record's every field. 0, -EINVAL after pass 2 began. */
int jobtree__keep_records(struct jobtree *t);
/* Pass 2. 0, -EINVAL out of order, -ENOMEM. */
int jobtree__add(struct jobtree *t, const Firstlight__V1__Event *ev);
/* Assembles the job. Once. 0, -EINVAL out of order, -ENOMEM. */
int jobtree__build(struct jobtree *t);
const struct jt_job *jobtree__job(const struct jobtree *t);

#endif
