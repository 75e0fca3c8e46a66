#include <time.h>

#include "base/clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clock__boot_ns(void)
{
	return read_ns(CLOCK_BOOTTIME);
}

uint64_t clock__mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t clock__unix_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}

void wallclock__sync(struct wallclock *c)
{
	uint64_t boot = read_ns(CLOCK_BOOTTIME);
	uint64_t real = read_ns(CLOCK_REALTIME);

	c->offset_ns = (int64_t)(real - boot);
}

uint64_t wallclock__unix_ns(const struct wallclock *c, uint64_t boot_ns)
{
	return boot_ns + (uint64_t)c->offset_ns;
}
