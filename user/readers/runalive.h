/*
 * Whether a run without its STOPPED record is still running on this machine: a live run
 * is not an unclean end. The run's STARTED record names its agent's pid and boot id; the
 * answer comes from /proc (the same boot, that pid alive and not a zombie, named like the
 * agent, started no later than the run).
 */
#ifndef FL_RUNALIVE_H
#define FL_RUNALIVE_H

#include <stddef.h>
#include <stdint.h>

/* 1 when that agent runs here now, else 0. A gapscan_env.run_is_live (ctx unused). */
int runalive__probe(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns);

#endif
