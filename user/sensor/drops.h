/*
 * Ring-buffer drops as gap records. The kernel counts every event it could not queue,
 * per CPU, cause and event type and per workload (cgroup). On every flush tick this turns
 * what is new since the last tick into gaps, one per (workload, cause, event type):
 * RING_BUFFER_DROP for a full ring, SHARE_EXCEEDED for a workload beyond its ring share;
 * and charges what no workload entry holds (LRU evictions) to "workload unknown", so
 * that the gap records always add up to the kernel's totals.
 * Errors: constructors NULL with errno set; free is NULL-safe.
 */
#ifndef FL_DROPS_H
#define FL_DROPS_H

#include <stdint.h>
#include <stdio.h>

#include "firstlight.h"
#include "records/gaps.h"
#include "sensor/loader.h"
#include "base/clock.h"

struct drops;

struct drops *drops__new(struct loader *l, struct gaps *g, const struct wallclock *clock);
void drops__free(struct drops *d);
/* Reports new drops as gaps; returns how many events were newly found lost. */
uint64_t drops__report(struct drops *d);
uint64_t drops__total(const struct drops *d);
/* Reported drops by event type (FL_EV_MAX entries), both causes. */
const uint64_t *drops__by_type(const struct drops *d);
/* Reported drops of workloads beyond their ring share (SHARE_EXCEEDED gaps). */
uint64_t drops__share(const struct drops *d);

/*
 * For a handover, whose next agent reads the same kernel counters: what has been
 * reported so far, as lines "drops.type ..." and "drops.cgroup ..." written to f.
 * drops__restore takes one such line back into a new d, so that its first report counts
 * only what the kernel lost after them. 0 or -errno (-EBADMSG: not such a line).
 */
int drops__save(const struct drops *d, FILE *f);
int drops__restore(struct drops *d, const char *line);

#endif
