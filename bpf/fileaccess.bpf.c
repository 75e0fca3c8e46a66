// SPDX-License-Identifier: GPL-2.0
/*
 * Watched files: an open of a path under a watched pattern (firstlight.h, "Watched
 * files"), from the return of open, openat and openat2, each on its own syscall
 * tracepoint (tracefs events/syscalls/sys_exit_*): other syscalls pay nothing, and it
 * works where kprobes and BPF LSM do not. At the return the fd is installed: the struct
 * file is taken from the fd table, so the path is the one the kernel resolved (symlinks,
 * "..", relative paths, /proc/self/root and openat2's resolve flags are all behind it),
 * as the file's mount namespace sees it.
 *
 * The cost every open pays is the filter: a walk up the file's dentries (mounts crossed)
 * with plain loads through BTF pointers (no helper call per component), hashing each
 * component's first bytes against a bitmap. Only a component that passes builds the path
 * string (path.bpf.h) and looks its prefixes up in watch_exact.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "firstlight.h"
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "core_fixes.bpf.h"

#define FL_O_ACCMODE 03        /* include/uapi/asm-generic/fcntl.h, stable ABI */
#define FL_O_PATH 010000000

/* Weak: a kernel without it (before 6.2) loads the object, these programs left out. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* The filter and the pattern lengths, set by the agent before load (sensor/loader_file). */
const volatile __u64 cfg_watch_bits[FL_WATCH_BITS / 64] = {};
const volatile __u32 cfg_watch_heads = 0;       /* bit m: some fragment's head is m bytes */
const volatile __u64 cfg_watch_lens[2][FL_WATCH_LEN / 64] = {}; /* [home][len / 64] */

/* Patterns by {len, home, hash of the prefix}: filled by the agent after load, never changed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FL_WATCH_MAX);
	__type(key, struct fl_watch_key);
	__type(value, __u32);
} watch_exact SEC(".maps");

/*
 * Opens counted per (generation, process, path, mode); the agent deletes a generation's
 * entries when it drains it (sensor/decode_file). Not LRU: an eviction would lose counts
 * silently; when full, each open goes through the ring on its own.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct fl_file_key);
	__type(value, struct fl_file_value);
} file_flows SEC(".maps");

/* The event being built, path included (too large for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_file_event);
} file_scratch SEC(".maps");

/* The path walk's scratch (path.bpf.h writes backwards into it). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[FL_PATH_MAX + FL_NAME_MAX]);
} file_path_scratch SEC(".maps");

/* The generation the kernel writes; the agent flips it each window (bss, writable). */
__u32 file_gen = 0;

struct fl_filter_walk {
	struct dentry *d;
	struct mount *mnt;
	struct dentry *mnt_root;
	__u32 hit;
	__u32 pad;
};

static __always_inline int fl_watch_bit(__u64 h)
{
	__u32 i = (h ^ (h >> 32)) & (FL_WATCH_BITS - 1), word = i / 64;

	barrier_var(word);
	word &= FL_WATCH_BITS / 64 - 1;
	return (cfg_watch_bits[word] >> (i % 64)) & 1;
}

/* The first bytes of a component's name: inline in the dentry for short names. */
static __always_inline __u64 fl_name_head(struct dentry *d, __u32 len)
{
	struct dentry___614 *d614 = (void *)d;
	const unsigned char *name = d->d_name.name;
	__u64 word = 0;

	/* Short names live in the dentry (d_shortname since 6.14): a plain load. Others,
	 * and older kernels, take a probe read. */
	if (bpf_core_field_exists(struct dentry___614, d_shortname) &&
	    (unsigned long)name == (unsigned long)&d614->d_shortname)
		word = d614->d_shortname.words[0];
	else
		bpf_probe_read_kernel(&word, sizeof(word), name);
	if (len < 8)
		word &= (1ULL << (8 * len)) - 1;
	return word;
}

/* One component of the walk: 1 stops it (a hit, or the root). */
static long fl_filter_step(__u32 i, struct fl_filter_walk *w)
{
	struct dentry *d = w->d;
	struct dentry *parent;
	__u32 len;
	__u64 word, h = FL_FNV_OFFSET;

	if (!d)
		return 1;
	if (d == w->mnt_root) {
		struct mount *m = w->mnt, *mp = m->mnt_parent;

		if (m == mp || !mp)
			return 1; /* the root of the mount namespace */
		w->d = m->mnt_mountpoint;
		w->mnt = mp;
		w->mnt_root = mp->mnt.mnt_root;
		return 0;
	}
	parent = d->d_parent;
	if (parent == d)
		return 1;
	len = d->d_name.len;
	word = fl_name_head(d, len);
	/* FNV-1a over the first bytes; at each length a fragment head has, a bit test. */
	__u32 hit = 0;
#pragma unroll
	for (int j = 0; j < FL_WATCH_HEAD; j++) {
		h ^= (word >> (8 * j)) & 0xff;
		h *= FL_FNV_PRIME;
		if (j < len && ((cfg_watch_heads >> (j + 1)) & 1))
			hit |= fl_watch_bit(h);
	}
	if (hit) {
		w->hit = 1;
		return 1;
	}
	w->d = parent;
	return 0;
}

struct fl_exact_walk {
	const char *path; /* the event's path */
	__u32 len;        /* bytes of it, NUL excluded */
	__u32 start;      /* where hashing starts */
	__u32 home;
	__u32 watch;      /* the pattern found, or FL_WATCH_MAX */
	__u64 h;
};

/* One byte of the path: the prefix through it is looked up when a pattern is that long. */
static long fl_exact_step(__u32 i, struct fl_exact_walk *w)
{
	__u32 pos = w->start + i, n, word;
	struct fl_watch_key k = {};
	__u32 *idx;

	if (pos >= w->len || pos >= FL_PATH_MAX)
		return 1;
	/* The mask proves the read stays in the path (the compiler drops it otherwise). */
	barrier_var(pos);
	pos &= FL_PATH_MAX - 1;
	w->h ^= (unsigned char)w->path[pos];
	w->h *= FL_FNV_PRIME;
	/* A home pattern's length counts its "~" (hashed first), then the rest. */
	n = i + 1 + w->home;
	if (n >= FL_WATCH_LEN)
		return 1;
	word = (w->home ? FL_WATCH_LEN / 64 : 0) + n / 64;
	barrier_var(word);
	word &= 2 * FL_WATCH_LEN / 64 - 1; /* proves the read stays in cfg_watch_lens */
	if (!((((const volatile __u64 *)cfg_watch_lens)[word] >> (n % 64)) & 1))
		return 0;
	k.len = n;
	k.home = w->home;
	k.hash = w->h;
	idx = bpf_map_lookup_elem(&watch_exact, &k);
	if (idx) {
		w->watch = *idx;
		return 1;
	}
	return 0;
}

/* "/root/x" -> 5, "/home/u/x" -> 7: where "~" ends; 0 when the path is in no home. */
static __always_inline __u32 fl_home_end(const char *p, __u32 len)
{
	if (len > 6 && p[0] == '/' && p[1] == 'r' && p[2] == 'o' && p[3] == 'o' && p[4] == 't' &&
	    p[5] == '/')
		return 5;
	if (len > 7 && p[0] == '/' && p[1] == 'h' && p[2] == 'o' && p[3] == 'm' && p[4] == 'e' &&
	    p[5] == '/') {
		for (__u32 i = 6; i < FL_NAME_MAX + 6; i++) {
			if (i >= len)
				return 0;
			if (p[i & (FL_PATH_MAX - 1)] == '/')
				return i > 6 ? i : 0;
		}
	}
	return 0;
}

static __always_inline __u32 fl_watch_match(const char *path, __u32 len)
{
	struct fl_exact_walk w = { .path = path, .len = len, .watch = FL_WATCH_MAX, .h = FL_FNV_OFFSET };
	__u32 home;

	bpf_loop(FL_WATCH_LEN, fl_exact_step, &w, 0);
	if (w.watch < FL_WATCH_MAX)
		return w.watch;
	home = fl_home_end(path, len);
	if (!home)
		return FL_WATCH_MAX;
	w.start = home;
	w.home = 1;
	w.h = (FL_FNV_OFFSET ^ '~') * FL_FNV_PRIME;
	bpf_loop(FL_WATCH_LEN, fl_exact_step, &w, 0);
	return w.watch;
}

/* FNV-1a of the whole path: the key names the file, the first event carries its text. */
struct fl_hash_walk {
	const char *path;
	__u32 len;
	__u64 h;
};

static long fl_hash_step(__u32 i, struct fl_hash_walk *w)
{
	if (i >= w->len)
		return 1;
	barrier_var(i);
	i &= FL_PATH_MAX - 1;
	w->h ^= (unsigned char)w->path[i];
	w->h *= FL_FNV_PRIME;
	return 0;
}

static __always_inline void fl_file_count(struct fl_file_event *e, __u32 size)
{
	struct fl_file_value *v = bpf_map_lookup_elem(&file_flows, &e->key);
	struct fl_file_value empty = {};
	long err;

	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		v->last_ns = e->value.last_ns;
		v->pid = e->value.pid;
		return;
	}
	/* The first of its key in this generation: through the ring with its path, and an
	 * empty aggregate for the rest. */
	empty.first_ns = empty.last_ns = e->value.first_ns;
	empty.pid = e->value.pid;
	empty.watch = e->value.watch;
	err = fl_map_err(bpf_map_update_elem(&file_flows, &e->key, &empty, BPF_NOEXIST));
	if (err == -17 /* EEXIST: another CPU made it meanwhile */) {
		v = bpf_map_lookup_elem(&file_flows, &e->key);
		if (v) {
			__sync_fetch_and_add(&v->count, 1);
			v->last_ns = e->value.last_ns;
			return;
		}
	}
	/* Made (or no room: then every open of the key comes this way, each counting one). */
	fl_emit(e, size);
}

static __always_inline int fl_file_opened(long ret)
{
	struct task_struct *task;
	struct fdtable *fdt;
	struct file *f = NULL;
	struct path p = {};
	struct fl_filter_walk fw = {};
	struct fl_file_event *e;
	struct fl_current cur;
	struct fl_hash_walk hw;
	struct mount *mnt;
	__u32 zero = 0, len, fs_len, mode, flags;
	char *scratch;
	int unresolved = 0, fs_unresolved = 0;

	if (ret < 0)
		return 0;
	task = bpf_get_current_task_btf();
	fdt = task->files->fdt;
	if ((__u32)ret >= fdt->max_fds)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[ret]);
	if (!f)
		return 0;
	f = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
	if (!f)
		return 0;
	/* A copy of f_path: its pointers as numbers, to step back from the vfsmount to the
	 * struct mount around it (a BTF pointer refuses a negative offset). */
	bpf_probe_read_kernel(&p, sizeof(p), &f->f_path);
	fw.d = bpf_rdonly_cast(p.dentry, bpf_core_type_id_kernel(struct dentry));
	fw.mnt = bpf_rdonly_cast((void *)p.mnt - bpf_core_field_offset(struct mount, mnt),
				 bpf_core_type_id_kernel(struct mount));
	if (!fw.d || !p.mnt)
		return 0;
	fw.mnt_root = fw.mnt->mnt.mnt_root;
	bpf_loop(FL_PATH_DEPTH, fl_filter_step, &fw, 0);
	if (!fw.hit)
		return 0;

	/* A component passed the filter: the path, then the exact patterns. */
	e = bpf_map_lookup_elem(&file_scratch, &zero);
	scratch = bpf_map_lookup_elem(&file_path_scratch, &zero);
	if (!e || !scratch)
		return 0;
	len = fl_path_copy(&f->f_path, scratch, e->path, &unresolved, 0);
	if (len < 2)
		return 0;
	e->value.watch = fl_watch_match(e->path, len - 1);
	if (e->value.watch >= FL_WATCH_MAX)
		return 0;
	/* Watched (and only then): the mount it came through and its path in its
	 * filesystem, mounts ignored, after the path; the agent finds its host path with
	 * them (user/sensor/hostmounts.h). */
	mnt = bpf_rdonly_cast((void *)p.mnt - bpf_core_field_offset(struct mount, mnt),
			      bpf_core_type_id_kernel(struct mount));
	e->mnt_id = mnt ? mnt->mnt_id : 0;
	len &= FL_PATH_MAX - 1; /* proves the fs path's writes stay in e->path */
	fs_len = fl_dentry_path_copy(p.dentry, scratch, &e->path[len], &fs_unresolved);
	if (fs_unresolved)
		fs_len = 0;
	hw.path = e->path;
	hw.len = len - 1;
	hw.h = FL_FNV_OFFSET;
	bpf_loop(FL_PATH_MAX, fl_hash_step, &hw, 0);

	flags = f->f_flags;
	mode = flags & FL_O_PATH ? FL_FILE_PATH : (flags & FL_O_ACCMODE) == 1 ? FL_FILE_WRITE :
	       (flags & FL_O_ACCMODE) == 2 ? FL_FILE_READ_WRITE : FL_FILE_READ;
	fl_current(&cur);
	fl_current_image_of(&cur, &e->key.id);
	e->key.cgroup_id = cur.cgroup_id;
	e->key.path_hash = hw.h;
	e->key.mode = mode;
	e->key.gen = file_gen & 1;
	e->value.count = 1;
	e->value.first_ns = e->value.last_ns = bpf_ktime_get_boot_ns();
	e->value.pid = cur.tgid;
	e->ino = f->f_inode->i_ino;
	e->dev = f->f_inode->i_sb->s_dev;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->flags = (unresolved ? FL_FILE_UNRESOLVED : 0) | (fs_len ? 0 : FL_FILE_FS_UNRESOLVED);
	e->path_len = len;
	e->fd = (__s32)ret;
	e->fs_path_len = fs_len;
	e->pad = 0;
	fl_hdr(&e->hdr, FL_EV_FILE, 0, e->value.first_ns, cur.cgroup_id);
	fs_len &= FL_PATH_MAX - 1;
	e->hdr.size = offsetof(struct fl_file_event, path) + len + fs_len;
	fl_file_count(e, offsetof(struct fl_file_event, path) + len + fs_len);
	return 0;
}

/* The returns of the three open syscalls: the fd is installed, its file resolved. */
SEC("tp/syscalls/sys_exit_openat")
int fl_file_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return fl_file_opened(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int fl_file_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return fl_file_opened(ctx->ret);
}

SEC("tp/syscalls/sys_exit_open")
int fl_file_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return fl_file_opened(ctx->ret);
}
