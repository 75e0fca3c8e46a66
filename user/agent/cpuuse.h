/*
 * The agent's CPU time by role, for the metrics: what recording, shipping and the rest
 * each cost on a node, measured where it runs rather than in a bench. A thread's role
 * comes from its name (the shipper names its thread fl-ship, and the NATS client's
 * threads, started from it, carry that name too), the main thread's from its id.
 *
 * The totals are counters: a thread that ends keeps what it was last seen to use in its
 * role, and what no listed thread accounts for (a thread that ended between two scans,
 * unnamed threads) is "other", the process's own total less the roles'. So the roles add
 * up to the process's CPU time, and none of them ever goes down. A scan is not one
 * instant: a thread running meanwhile may be read short of what the total then holds,
 * and "other" holds that until the next scan (it is never taken back from "other", so
 * the sum may pass the total by what threads ran during a scan).
 */
#ifndef FL_AGENT_CPUUSE_H
#define FL_AGENT_CPUUSE_H

#include <stddef.h>
#include <stdint.h>

enum cpu_role { CPU_RECORD, CPU_SHIP, CPU_IDENTITY, CPU_METRICS, CPU_OTHER, CPU_ROLES };

/* "record", "ship", "identity", "metrics", "other". */
const char *cpuuse__role_name(enum cpu_role role);
/* The role of the thread tid named comm, in the process whose main thread is pid. */
enum cpu_role cpuuse__role_of(int tid, const char *comm, int pid);

/* The threads a scan lists; an agent has a handful (more are "other"). */
#define CPUUSE_THREADS_MAX 64

/* One thread as a scan saw it: its CPU time so far. */
struct cpuuse_sample {
	int tid;
	enum cpu_role role;
	uint64_t ns;
};

struct cpuuse_thread {
	int tid;
	enum cpu_role role;
	uint64_t base_ns; /* counted elsewhere: before a rename moved it to this role */
	uint64_t last_ns;
};

struct cpuuse {
	struct cpuuse_thread threads[CPUUSE_THREADS_MAX];
	size_t n;
	uint64_t ended_ns[CPU_ROLES]; /* of threads no longer listed, up to their last scan */
	uint64_t other_ns;            /* the last "other" given: it never goes down */
};

/*
 * Folds one scan into the account (zeroed before the first): samples of the threads
 * alive, then process_ns, the process's CPU time read after them (every thread's,
 * ended ones included). out[] gets each role's total, in ns.
 */
void cpuuse__fold(struct cpuuse *a, const struct cpuuse_sample *s, size_t n, uint64_t process_ns,
		  uint64_t out[CPU_ROLES]);

/*
 * Scans this process's threads (/proc/self/task) and folds them in; out[] as above.
 * Returns 0 or a negative errno (/proc not readable): out[] is then untouched.
 */
int cpuuse__measure(struct cpuuse *a, uint64_t out[CPU_ROLES]);

#endif /* FL_AGENT_CPUUSE_H */
