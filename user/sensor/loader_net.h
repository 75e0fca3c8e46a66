/*
 * The network programs' part of the BPF lifecycle (see loader.h). Before load: programs
 * this kernel cannot run are left out, each named in a warning (sock_send_length is
 * 6.4+, cgroup/connect_unix 6.7+), and the unix connect program gets its attach type,
 * which libbpf 1.1's section names cannot express. After load: the cgroup programs are
 * attached to the cgroup2 root as links, which the kernel detaches when the agent dies.
 * Errors: 0 or -errno, each logged as one line.
 */
#ifndef FL_LOADER_NET_H
#define FL_LOADER_NET_H

#include <stdint.h>

struct firstlight_bpf;

/* btf_path: kernel BTF, NULL for the running kernel's. */
int loader_net__configure(struct firstlight_bpf *skel, const char *btf_path);
/* Attaches the cgroup programs; adds the number attached to *n_attached. */
int loader_net__attach(struct firstlight_bpf *skel, int *n_attached);

/*
 * Runs of the network programs the kernel skipped, in total since load: it does not run
 * a tracing program entered again on a CPU where it is running (an interrupt handling
 * packets while the program ran in process context), and counts that per program
 * (recursion_misses). Every skipped run is a state change, or a send, not seen.
 */
int loader_net__skipped(struct firstlight_bpf *skel, uint64_t *skipped);

#endif
