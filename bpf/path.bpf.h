/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resolving a struct path to a string in the kernel. bpf_d_path is not allowed from
 * tracepoints, so we walk dentries and mounts up to the mount namespace's root, writing
 * components backwards into a scratch buffer. One step of the walk is a function of its
 * own: a bpf_loop callback where the kernel has bpf_loop (5.17+), else called from a
 * bounded loop (the exec program's bounded variant, chosen by the agent at load). Inlined
 * into an unrolled loop, the step made the verifier explore every iteration's branches
 * and exceed its 1M-instruction budget; as a call, each iteration costs it one visit of
 * the step. A path deeper than FL_PATH_DEPTH or longer than FL_PATH_MAX is reported
 * unresolved (with the tail that was read), never silently cut.
 */
#ifndef FL_PATH_BPF_H
#define FL_PATH_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>

struct fl_path_walk {
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root; /* vfsmnt's root, read once per mount, not per component */
	char *buf;   /* FL_PATH_MAX + FL_NAME_MAX bytes; path ends at buf[FL_PATH_MAX - 1] */
	__u32 off;   /* first byte of the path assembled so far; >= 1 */
	int resolved;
};

/*
 * The file itself is the top of its tree: the root "/", or a file on no path at all (a
 * memfd such as "memfd:crun", or the detached bind mount of its own binary that runc and
 * crun re-exec from). For the latter its name is the best description, unresolved.
 */
static __always_inline long fl_path_top(struct fl_path_walk *w, struct dentry *dentry)
{
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u32 len = name.len, off;
	char first = 0;

	bpf_probe_read_kernel(&first, 1, name.name);
	if (len == 1 && first == '/') {
		w->resolved = 1;
		return 1;
	}
	if (len == 0 || len >= FL_NAME_MAX)
		return 1;
	off = (FL_PATH_MAX - 1 - len) & (FL_PATH_MAX - 1);
	barrier_var(len);
	len &= FL_NAME_MAX - 1;
	bpf_probe_read_kernel(&w->buf[off], len, name.name);
	w->off = off;
	return 1;
}

/*
 * A dentry's parent and name. d_name follows d_parent in struct dentry on every kernel
 * we load on (5.10 to 6.18): then one probe read takes both, one helper call per
 * component fewer; a layout where it does not falls back to two.
 */
static __always_inline void fl_dentry_head(struct dentry *dentry, struct dentry **parent,
					   struct qstr *name)
{
	__u32 at = bpf_core_field_offset(struct dentry, d_parent);
	struct {
		struct dentry *parent;
		struct qstr name;
	} h;

	if (bpf_core_field_offset(struct dentry, d_name) == at + sizeof(h.parent)) {
		if (bpf_probe_read_kernel(&h, sizeof(h), (void *)dentry + at))
			__builtin_memset(&h, 0, sizeof(h)); /* as a failed BPF_CORE_READ leaves it */
		*parent = h.parent;
		*name = h.name;
		return;
	}
	*parent = BPF_CORE_READ(dentry, d_parent);
	*name = BPF_CORE_READ(dentry, d_name);
}

static __noinline long fl_path_step(__u32 i, struct fl_path_walk *w)
{
	/* Locals, not w->x inside BPF_CORE_READ: that would relocate our own struct too. */
	struct dentry *dentry = w->dentry;
	struct mount *mnt = w->mnt;
	struct dentry *mnt_root = w->mnt_root;
	struct dentry *parent;
	struct qstr name;
	__u32 len, off;

	fl_dentry_head(dentry, &parent, &name);

	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (dentry == mnt_root && mnt != mnt_parent) {
			/* Cross to the mount point in the parent mount. */
			w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			w->mnt = mnt_parent;
			w->mnt_root = BPF_CORE_READ(mnt_parent, mnt.mnt_root);
			return 0;
		}
		if (w->off == FL_PATH_MAX - 1)
			return fl_path_top(w, dentry);
		w->resolved = 1; /* the root of this mount namespace */
		return 1;
	}
	len = name.len;
	off = w->off;
	/* One component plus its '/', within what is left before buf[1]. */
	if (len == 0 || len >= FL_NAME_MAX || len + 1 >= off)
		return 1;
	off -= len;
	/* The masks prove to the verifier that the write stays inside buf. */
	barrier_var(off);
	off &= FL_PATH_MAX - 1;
	barrier_var(len);
	len &= FL_NAME_MAX - 1;
	bpf_probe_read_kernel(&w->buf[off], len, name.name);
	off--;
	off &= FL_PATH_MAX - 1;
	w->buf[off] = '/';
	w->off = off;
	w->dentry = parent;
	return 0;
}

/*
 * Runs the walk w (set up by the callers below) and copies the path, NUL included, to
 * dst (room for FL_PATH_MAX bytes). Returns the bytes copied, 0 when nothing could be
 * read; sets *unresolved when the walk did not reach the root.
 * bounded: walk with a bounded loop (kernels before 5.17), not bpf_loop; a constant,
 * so each program variant holds one of the two.
 */
static __always_inline __u32 fl_path_walk_copy(struct fl_path_walk *w, char *scratch, char *dst,
					       int *unresolved, const int bounded)
{
	__u32 len;

	scratch[FL_PATH_MAX - 1] = 0;
	if (bounded) {
		for (__u32 i = 0; i < FL_PATH_DEPTH; i++)
			if (fl_path_step(i, w))
				break;
	} else {
		bpf_loop(FL_PATH_DEPTH, fl_path_step, w, 0);
	}
	*unresolved = !w->resolved;
	if (w->resolved && w->off == FL_PATH_MAX - 1) {
		w->off--; /* the root itself */
		scratch[FL_PATH_MAX - 2] = '/';
	}
	len = FL_PATH_MAX - w->off;
	if (len <= 1)
		return 0;
	barrier_var(len);
	len &= FL_PATH_MAX - 1;
	if (bpf_probe_read_kernel(dst, len, &scratch[w->off & (FL_PATH_MAX - 1)]))
		return 0;
	return len;
}

/*
 * Resolves path into scratch (FL_PATH_MAX + FL_NAME_MAX bytes): see fl_path_walk_copy.
 * path is a typed (BTF) pointer: its fields are plain loads, not probe-read calls.
 */
static __always_inline __u32 fl_path_copy(const struct path *path, char *scratch, char *dst,
					  int *unresolved, const int bounded)
{
	struct vfsmount *vm = path->mnt;
	struct fl_path_walk w = {
		.dentry = path->dentry,
		.buf = scratch,
		.off = FL_PATH_MAX - 1,
	};

	w.mnt = container_of(vm, struct mount, mnt);
	w.mnt_root = vm->mnt_root;
	return fl_path_walk_copy(&w, scratch, dst, unresolved, bounded);
}

/*
 * The path of dentry from its superblock's root, mounts ignored (with no mount the walk
 * never crosses one: mnt_root NULL is no dentry): the terms of mountinfo's root field,
 * the kernel's dentry_path. A walk that ends at a root other than the superblock's (a
 * disconnected dentry, as of a file opened by handle) is unresolved.
 */
static __always_inline __u32 fl_dentry_path_copy(struct dentry *dentry, char *scratch, char *dst,
						 int *unresolved)
{
	struct fl_path_walk w = { .dentry = dentry, .buf = scratch, .off = FL_PATH_MAX - 1 };
	__u32 len = fl_path_walk_copy(&w, scratch, dst, unresolved, 0);

	if (w.dentry != BPF_CORE_READ(dentry, d_sb, s_root))
		*unresolved = 1;
	return len;
}

#endif /* FL_PATH_BPF_H */
