/*
 * Kernel events carry CLOCK_BOOTTIME; records also carry wall time. The offset between
 * the two moves with NTP and settimeofday, so it is re-read on every drain tick
 * (two clock_gettime calls, vDSO) rather than once at start.
 */
#ifndef FL_CLOCK_H
#define FL_CLOCK_H

#include <stdint.h>

struct wallclock {
	int64_t offset_ns; /* realtime - boottime */
};

void wallclock__sync(struct wallclock *c);
uint64_t wallclock__unix_ns(const struct wallclock *c, uint64_t boot_ns);
uint64_t clock__boot_ns(void);
uint64_t clock__mono_ns(void);
/* Unix time (CLOCK_REALTIME), ns: for what is compared with other machines' clocks. */
uint64_t clock__unix_ns(void);

#endif
