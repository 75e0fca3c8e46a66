/*
 * The cgroups that exist when the agent starts: a walk of the cgroup2 hierarchy and of
 * the v1 memory hierarchy (hybrid hosts), each directory handed to the workload table
 * (workloads__add_existing). The walk never follows a symlink, stays on the hierarchy's
 * own mount, and stops at a depth no real hierarchy reaches; names read here are
 * untrusted and never become paths we open but through the directory fd they came from.
 */
#ifndef FL_CGSCAN_H
#define FL_CGSCAN_H

#include "sensor/workload.h"

/* Either root may be NULL. 0, or the first -errno met (the walk goes on past it). */
int cgscan__existing(struct workloads *w, const char *cgroup2_root, const char *v1_memory_root);

#endif
