/*
 * The network programs' part of the BPF lifecycle (see loader.h). Before load: programs
 * this kernel cannot run are left out (sock_send_length is 6.4+, cgroup/connect_unix
 * 6.7+; kcaps names what that costs), and the unix connect program gets its attach type,
 * which libbpf 1.1's section names cannot express. After load: the cgroup programs are
 * attached to the cgroup2 root as links, which the kernel detaches when the agent dies.
 * Errors: 0 or -errno, each logged as one line.
 */
#ifndef FL_LOADER_NET_H
#define FL_LOADER_NET_H

#include <stdint.h>

struct firstlight_bpf;

struct kcaps;

/* caps: what the kernel has (kcaps__probe). */
int loader_net__configure(struct firstlight_bpf *skel, const struct kcaps *caps);
/* Attaches the cgroup programs; adds the number attached to *n_attached. Without a
 * cgroup2 mount, marks what that costs in caps. */
int loader_net__attach(struct firstlight_bpf *skel, struct kcaps *caps, int *n_attached);

/*
 * Runs of the network programs the kernel skipped, in total since load: it does not run
 * a tracing program entered again on a CPU where it is running (an interrupt handling
 * packets while the program ran in process context), and counts that per program
 * (recursion_misses). Every skipped run is a state change, or a send, not seen.
 * fds: the programs fl_tcp_state and fl_sock_send (-1 for one not loaded).
 */
int loader_net__skipped(const int fds[2], uint64_t *skipped);
/* Marks in caps what a node without a cgroup2 mount cannot observe. */
void loader_net__lack_cgroup2(struct kcaps *caps);

#endif
