/*
 * The snapshot that opens every segment after the first of a run (rotation, or a new
 * segment after a write failure): the live workloads (workloads__snapshot), then one
 * exec record per process the agent knows to be alive, flagged `snapshot`, so that a
 * segment read alone still says what each process runs, as whom, under which parent, in
 * which workload. (The first segment of a run needs none: the seeding of pre-existing
 * processes plays that part.) Built from the process table; it holds what exec and fork
 * recorded, without namespaces or the v1 cgroup.
 */
#ifndef FL_SNAPSHOT_H
#define FL_SNAPSHOT_H

#include "sensor/proctable.h"
#include "records/record.h"

/* Emits the snapshot through rec. Returns the records emitted (those the sink refused
 * are counted by it, like any other). */
int snapshot__emit(struct recorder *rec, const struct proctable *procs);

#endif
