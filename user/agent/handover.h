/*
 * The handover between two agents on one node (`run --handover`): what the leaving agent
 * writes to the data dir so that the next one, adopting its pinned programs, goes on
 * counting exactly where it stopped. The kernel's drop counters and the network
 * programs' skipped runs are totals since the programs were loaded: the next agent must
 * know how much of them is already in gap records. The file (handover.state) names the
 * run that wrote it; it is written atomically (temp file, fsync, rename).
 * The pins themselves are sensor/pins; the SENSOR_DOWN policy when a handover could not
 * be taken, agent/sensordown.
 * Errors: 0 or -errno.
 */
#ifndef FL_HANDOVER_H
#define FL_HANDOVER_H

#include <stdint.h>

#include "sensor/drops.h"

#define HANDOVER_FILE "handover.state"

/* Writes run_id's counts: what d reported, the skipped network runs reported. */
int handover__save(const char *data_dir, const char *run_id, const struct drops *d,
		   uint64_t net_skipped_reported);
/*
 * Reads them back into a new d and *net_skipped_reported, if the file is run_id's.
 * -ENOENT: none; -ESTALE: another run's; -EBADMSG: damaged (d may then hold part of it:
 * the caller discards it).
 */
int handover__load(const char *data_dir, const char *run_id, struct drops *d,
		   uint64_t *net_skipped_reported);

#endif
