/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel drift, all in one place: each struct flavour names the kernels that have it.
 * libbpf strips the ___suffix and relocates against whichever shape this kernel has.
 */
#ifndef FL_CORE_FIXES_BPF_H
#define FL_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * Before 6.15 kernfs_node.parent was a plain pointer; 6.15 renamed it __parent (RCU,
 * "kernfs: Use RCU to access kernfs_node::parent"). Both names are flavours, so the code
 * builds against a vmlinux.h of either age (x86's is from 6.18, arm64's from 6.1).
 */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___615 {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *fl_kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___pre615, parent))
		return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
	return BPF_CORE_READ((struct kernfs_node___615 *)kn, __parent);
}

/*
 * The socket address length a cgroup sock_addr program sees, added in 6.7 with the unix
 * socket hooks (cgroup/connect_unix): only the unix connect program reads it, and the
 * loader loads that program only on kernels with those hooks.
 */
struct bpf_sock_addr_kern___67 {
	struct sockaddr *uaddr;
	u32 uaddrlen;
} __attribute__((preserve_access_index));

/*
 * The error of a map update or delete, for comparing with a negative errno. The verifier
 * turns these helpers into direct calls of the map's own op, and before 6.4 those
 * returned int (kernel commit d7ba4cc900bf, "bpf: return long from bpf_map_ops funcs"):
 * the error arrives zero-extended, so on 6.1 -EEXIST reads as 4294967279 in a 64-bit
 * compare. The low 32 bits, sign-extended, are right on every kernel.
 */
static __always_inline int fl_map_err(long ret)
{
	return (int)ret;
}

/*
 * 6.14 keeps a dentry's short name in d_shortname ("dcache: add struct shortname_store");
 * before, in d_iname. Flavours, so the code builds against either vmlinux.h (arm64's is
 * from 6.1) and the field is tested on the running kernel.
 */
union shortname_store___614 {
	unsigned long words[5];
} __attribute__((preserve_access_index));

struct dentry___614 {
	union shortname_store___614 d_shortname;
} __attribute__((preserve_access_index));

/*
 * kernel_cap_t is { u64 val } since 6.3 (kernel commit f122a08b197d, "capability: just
 * use a 'u64' instead of a 'u32[2]' array") and { u32 cap[2] } before: the same 8 bytes, read with plain loads
 * from the typed cred (a probe-read call per event before).
 */
struct kernel_cap___63 {
	__u64 val;
} __attribute__((preserve_access_index));

struct cred___63 {
	struct kernel_cap___63 cap_effective;
} __attribute__((preserve_access_index));

struct kernel_cap___pre63 {
	__u32 cap[2];
} __attribute__((preserve_access_index));

struct cred___pre63 {
	struct kernel_cap___pre63 cap_effective;
} __attribute__((preserve_access_index));

static __always_inline __u64 fl_cap_effective(const struct cred *cred)
{
	const struct cred___pre63 *old = (const void *)cred;

	if (bpf_core_field_exists(((struct cred___63 *)cred)->cap_effective.val))
		return ((const struct cred___63 *)cred)->cap_effective.val;
	return old->cap_effective.cap[0] | (__u64)old->cap_effective.cap[1] << 32;
}

#endif /* FL_CORE_FIXES_BPF_H */
