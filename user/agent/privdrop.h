/*
 * Least privilege at run time. Once the programs are attached and the processes that
 * were alive before us are recorded, the agent needs none of what root gives beyond
 * a few capabilities, and none of the system calls a compromised parser would want
 * (execve, ptrace, mount, module loading, new BPF programs, ...). privdrop__apply():
 *   - every thread keeps only CAP_BPF (bpf() on the maps and links it holds: kernels
 *     before 6.5 check it on every bpf() call when unprivileged BPF is disabled, and a
 *     handover pins them under /sys/fs/bpf) and CAP_DAC_READ_SEARCH (the identity
 *     resolver reads OCI bundles whoever owns them); the bounding set is cut to the same;
 *   - no-new-privs, so no exec could regain anything;
 *   - a seccomp allow-list on every thread (SECCOMP_FILTER_FLAG_TSYNC): any other system
 *     call fails with EPERM. Signing needs nothing more: the node key was read at start
 *     and is used in memory.
 * docs/deployment.md says what it keeps and why. 0, or -errno with the reason logged.
 */
#ifndef FL_PRIVDROP_H
#define FL_PRIVDROP_H

int privdrop__apply(void);

#endif
