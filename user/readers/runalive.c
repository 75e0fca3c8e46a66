/* Is a run's agent still running here; see runalive.h. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/fdio.h"
#include "readers/runalive.h"

/*
 * A run without its STOPPED record is not over while its agent runs: the STARTED record
 * names the agent's pid and boot id. Same boot, that pid alive (not a zombie), named
 * like us or "firstlight", and started no later than the run did (not a reused pid):
 * then it is that agent.
 */
int runalive__probe(void *ctx, uint32_t pid, const char *boot_id, uint64_t started_boot_ns)
{
	char path[64], stat[1024], boot[64], self[32];
	const char *comm, *end, *p;
	unsigned long long start_ticks;
	long tck = sysconf(_SC_CLK_TCK);
	int field;

	(void)ctx;
	if (!pid || pid > INT_MAX || (pid_t)pid == getpid() || !boot_id[0] || tck <= 0)
		return 0;
	if (fdio__read_small(AT_FDCWD, "/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) < 0 ||
	    strcmp(boot, boot_id))
		return 0;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/stat", pid);
	if (fdio__read_small(AT_FDCWD, path, stat, sizeof(stat)) < 0 ||
	    fdio__read_small(AT_FDCWD, "/proc/self/comm", self, sizeof(self)) < 0)
		return 0;
	/* "pid (comm) state ... starttime(22nd field)": comm may hold spaces and ')'. */
	comm = strchr(stat, '(');
	end = strrchr(stat, ')');
	if (!comm || !end || end < comm)
		return 0;
	comm++;
	if (!((size_t)(end - comm) == strlen("firstlight") && !strncmp(comm, "firstlight", 10)) &&
	    !((size_t)(end - comm) == strlen(self) && !strncmp(comm, self, strlen(self))))
		return 0;
	p = end + 1;
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		if (field == 3 && (*p == 'Z' || *p == 'X'))
			return 0; /* killed, not yet reaped */
		if (field == 22)
			break;
		while (*p && *p != ' ')
			p++;
	}
	if (sscanf(p, "%llu", &start_ticks) != 1)
		return 0;
	/* starttime is in clock ticks of CLOCK_BOOTTIME, like STARTED's boot_nano. */
	if (started_boot_ns && start_ticks > started_boot_ns / (1000000000ull / (unsigned long long)tck))
		return 0;
	return 1;
}
