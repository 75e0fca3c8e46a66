/*
 * A second holder of the links that are slow to release, so that the agent does not
 * wait for them at stop.
 *
 * A link on a syscall's own tracepoint (a perf event: the privilege, socket and
 * file-open programs) waits as it goes for RCU tasks-trace grace periods, under a mutex
 * the kernel holds across all of them (perf_event_detach_bpf_prog, then the perf event's
 * release): tens of milliseconds each, most of a second for the lot, whatever number of
 * threads close them. The agent has recorded everything by then (it stops draining
 * before it detaches: what the programs see afterwards is past its STOPPED record), so
 * nobody needs that wait. At start, before privileges are dropped (no new process can
 * be made after), a small process is made that holds copies of those links and nothing
 * else: the agent's binary again (exec'd, so it does not keep a copy of the agent's
 * memory), as `firstlight __linkhold`, named "fl-linkhold", with no capability and
 * no-new-privs. It waits for the end of a pipe the agent holds; then it closes the links,
 * and the releases are its wait. The agent's own closes are then quick, and a killed
 * agent's pipe ends just the same. Where it cannot be made (kernels before 5.11, no
 * /proc/self/exe), the agent releases the links itself, as before.
 */
#ifndef FL_SENSOR_LINKHOLD_H
#define FL_SENSOR_LINKHOLD_H

#include <stddef.h>

#define LINKHOLD_COMMAND "__linkhold"

/*
 * Makes the holder of fds[0..n) (link descriptors). Returns the descriptor whose close
 * lets it release them (close it after the agent's own copies), or -errno.
 */
int linkhold__start(const int *fds, size_t n);

/* The holder's main, `firstlight __linkhold` with the pipe's end at descriptor 3. */
int linkhold__main(void);

#endif
