/* Kernel events to records; see decode.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "base/clock.h"
#include "sensor/decode.h"
#include "sensor/decode_priv.h"
#include "sensor/decode_file.h"
#include "sensor/decode_net.h"
#include "records/exec_id.h"
#include "base/log.h"
#include "base/utf8.h"
#include "records/wlkey.h"


int decoder__init(struct decoder *d, struct recorder *rec, struct proctable *procs,
		  uint32_t args_max_count)
{
	memset(d, 0, sizeof(*d));
	d->rec = rec;
	d->procs = procs;
	d->args_max_count = args_max_count;
	d->argv = calloc(args_max_count + 1, sizeof(char *));
	/* Worst case of one event: every byte escaped to 4, plus a NUL per string. */
	d->arena_cap = 4 * (FL_ARGS_MAX + 2 * FL_PATH_MAX) + args_max_count + 16;
	d->arena = malloc(d->arena_cap);
	d->net = netdec__new(rec, procs, NULL);
	if (!d->argv || !d->arena || !d->net) {
		decoder__fini(d);
		return -ENOMEM;
	}
	return 0;
}

void decoder__set_workloads(struct decoder *d, struct workloads *w)
{
	d->workloads = w;
}

void decoder__set_gaps(struct decoder *d, struct gaps *g, uint64_t down_since_unix_ns)
{
	d->gaps = g;
	d->down_since_unix_ns = down_since_unix_ns;
	netdec__set_gaps(d->net, g);
}

void decoder__set_adopted(struct decoder *d, uint64_t handover_boot_ns, uint64_t first_load_boot_ns)
{
	d->handover_boot_ns = handover_boot_ns;
	d->first_load_boot_ns = first_load_boot_ns;
}

/*
 * How the run before a handover saw a process it knew: its start recorded (an image id
 * that is not the process's start is an exec, which the programs recorded; a process
 * started after their first load had its fork recorded), or pre-existing.
 */
static uint32_t seen_before(const struct decoder *d, const struct fl_exec_id *id, uint64_t start_ns)
{
	return id->start_ns != start_ns || start_ns >= d->first_load_boot_ns ? PROC_START_SEEN
									     : PROC_PRE_EXISTING;
}

void decoder__fini(struct decoder *d)
{
	free(d->argv);
	free(d->arena);
	netdec__free(d->net);
	d->argv = NULL;
	d->arena = NULL;
	d->net = NULL;
}

/*
 * Copies s[0..len) into the arena as a NUL-terminated string, escaped (see utf8.h) when
 * escape is set. Returns the string, or NULL if out of room.
 */
static char *arena_str(struct decoder *d, size_t *used, const char *s, size_t len, int escape)
{
	char *out = d->arena + *used;
	size_t room = d->arena_cap - *used;
	int n;

	if (!escape) {
		if (len + 1 > room)
			return NULL;
		memcpy(out, s, len);
		out[len] = 0;
		n = (int)len;
	} else {
		n = utf8__escape(s, len, out, room);
		if (n < 0)
			return NULL;
	}
	*used += (size_t)n + 1;
	return out;
}

/* Strings from the kernel carry their NUL inside the length: it is not content. */
static size_t str_len(const char *s, size_t len)
{
	return strnlen(s, len);
}

/*
 * A reader must know which strings to unescape: the flag covers a whole field, so when
 * one argument is not UTF-8, every argument is written escaped (backslashes included).
 */
static int args_need_escape(const char *args, size_t args_len)
{
	for (size_t pos = 0; pos < args_len;) {
		size_t l = strnlen(args + pos, args_len - pos);

		if (!utf8__valid(args + pos, l))
			return 1;
		pos += l + 1;
	}
	return 0;
}

/* The pieces of NUL-separated argv bytes (a cut final one has no NUL but counts). */
static uint32_t count_pieces(const char *args, size_t len)
{
	uint32_t n = 0;

	for (size_t pos = 0; pos < len; n++)
		pos += strnlen(args + pos, len - pos) + 1;
	return n;
}

/* Adds the pieces of args[0..len) from the skip-th on, at most max, to d->argv from *n. */
static int add_pieces(struct decoder *d, size_t *used, const char *args, size_t len,
		      uint32_t skip, uint32_t max, int esc, uint32_t *n)
{
	uint32_t i = 0, added = 0;

	for (size_t pos = 0; pos < len; i++) {
		size_t l = strnlen(args + pos, len - pos);

		if (i >= skip && added < max) {
			d->argv[*n] = arena_str(d, used, args + pos, l, esc);
			if (!d->argv[*n])
				return -ENOMEM;
			(*n)++;
			added++;
		}
		pos += l + 1;
	}
	return 0;
}

struct proc_image *decoder__image(struct decoder *d, const char *binary, size_t binary_len,
				  const char *cwd, size_t cwd_len, const char *args,
				  size_t args_len, size_t tail_len, uint32_t flags)
{
	int bin_esc, cwd_esc, args_esc;
	size_t used = 0, head_len;
	uint32_t n = 0, head_total, tail_total, tail_keep = 0, head_keep;
	struct proc_image *img;
	char *b, *c;

	if (tail_len > args_len)
		tail_len = args_len;
	head_len = args_len - tail_len;
	binary_len = str_len(binary, binary_len);
	cwd_len = str_len(cwd, cwd_len);
	bin_esc = !utf8__valid(binary, binary_len);
	cwd_esc = !utf8__valid(cwd, cwd_len);
	args_esc = args_need_escape(args, head_len) || args_need_escape(args + head_len, tail_len);
	b = arena_str(d, &used, binary, binary_len, bin_esc);
	c = arena_str(d, &used, cwd, cwd_len, cwd_esc);
	if (!b || !c)
		return NULL;
	/*
	 * argv is NUL-separated; a cut final argument has no NUL but is still an argument.
	 * With a tail, the count limit leaves it a quarter of the entries (at least one):
	 * its last pieces; the head has the rest.
	 */
	head_total = count_pieces(args, head_len);
	tail_total = count_pieces(args + head_len, tail_len);
	if (tail_total) {
		tail_keep = d->args_max_count / 4 ? d->args_max_count / 4 : 1;
		if (tail_keep > tail_total)
			tail_keep = tail_total;
	}
	head_keep = d->args_max_count - tail_keep;
	if (head_keep > head_total)
		head_keep = head_total;
	if (add_pieces(d, &used, args, head_len, 0, head_keep, args_esc, &n) ||
	    add_pieces(d, &used, args + head_len, tail_len, tail_total - tail_keep, tail_keep,
		       args_esc, &n))
		return NULL;
	if (head_total + tail_total > n)
		flags |= IMG_ARGS_TRUNCATED;
	if (bin_esc)
		flags |= IMG_BINARY_ESCAPED;
	if (cwd_esc)
		flags |= IMG_CWD_ESCAPED;
	if (args_esc)
		flags |= IMG_ARGS_ESCAPED;
	img = proc_image__new(b, c, d->argv, n, flags);
	if (img) {
		img->args_count = head_total + tail_total;
		img->args_size = (uint32_t)args_len;
		img->n_args_tail = tail_keep;
	}
	return img;
}

/* Whether p is the process image id names (same start, so not an older pid user). */
static int proc_is(const struct proc *p, const struct fl_exec_id *id)
{
	return p && p->id.start_ns == id->start_ns;
}

/* The parts of a Process record every body shares; strings point into bufs/img. */
struct process_msg {
	Firstlight__V1__Process p;
	Firstlight__V1__Namespaces ns;
	Firstlight__V1__ProcessFlags flags;
	char exec_id[EXEC_ID_STRLEN];
	char parent_exec_id[EXEC_ID_STRLEN];
	char cgroup_v1_name[4 * FL_CGROUP_NAME_MAX + 1];
	char workload_key[WLKEY_MAX];
};

/* name: the v1 cgroup's name as the kernel sent it, name_len bytes (maybe NUL-ended). */
static void fill_process(struct decoder *d, struct process_msg *m, const struct fl_task *t,
			 const char *name, size_t name_len, const struct proc_image *img)
{
	uint32_t tag = d->rec->boot_tag;

	firstlight__v1__process__init(&m->p);
	firstlight__v1__namespaces__init(&m->ns);
	firstlight__v1__process_flags__init(&m->flags);
	m->p.exec_id = exec_id__format(m->exec_id, tag, &t->id);
	m->p.parent_exec_id = exec_id__format(m->parent_exec_id, tag, &t->parent_id);
	m->p.pid = t->pid;
	m->p.ppid = t->ppid;
	m->p.ns_pid = t->ns_pid;
	m->p.uid = t->creds.uid;
	m->p.gid = t->creds.gid;
	m->p.euid = t->creds.euid;
	m->p.egid = t->creds.egid;
	m->p.auid = t->creds.auid;
	m->p.session_id = t->creds.sessionid;
	m->p.cap_effective = t->creds.cap_effective;
	m->p.start_boot_nano = t->start_ns;
	m->p.cgroup_id = t->cgroup_id;
	m->p.cgroup_v1_id = t->cgroup_v1_id;
	/* A cgroup name is chosen by whoever made the cgroup: treat it like argv. */
	name_len = strnlen(name, name_len < FL_CGROUP_NAME_MAX ? name_len : FL_CGROUP_NAME_MAX);
	memcpy(m->cgroup_v1_name, name, name_len);
	m->cgroup_v1_name[name_len] = 0;
	if (!utf8__valid(m->cgroup_v1_name, name_len)) {
		utf8__escape(name, name_len, m->cgroup_v1_name, sizeof(m->cgroup_v1_name));
		m->flags.cgroup_v1_name_escaped = 1;
	}
	m->p.cgroup_v1_name = m->cgroup_v1_name;
	m->ns.pid = t->ns.pid;
	m->ns.mnt = t->ns.mnt;
	m->ns.net = t->ns.net;
	m->ns.uts = t->ns.uts;
	m->ns.ipc = t->ns.ipc;
	m->ns.user = t->ns.user;
	m->ns.cgroup = t->ns.cgroup;
	m->p.namespaces = &m->ns;
	m->p.flags = &m->flags;
	wlkey__format(m->workload_key, t->cgroup_id, 0);
	m->p.workload_key = m->workload_key;
	m->flags.missing_parent = !proc_is(proctable__get(d->procs, t->parent_id.tgid), &t->parent_id);
	if (img) {
		m->p.binary = img->binary;
		m->p.cwd = img->cwd;
		m->p.args = img->args;
		m->p.n_args = img->n_args - img->n_args_tail;
		m->p.args_tail = img->args + m->p.n_args;
		m->p.n_args_tail = img->n_args_tail;
		m->p.args_cut_bytes = img->args_cut;
		m->p.args_truncated = !!(img->flags & IMG_ARGS_TRUNCATED);
		m->p.args_count = img->args_count;
		m->p.args_size = img->args_size;
		m->flags.args_escaped = !!(img->flags & IMG_ARGS_ESCAPED);
		m->flags.binary_escaped = !!(img->flags & IMG_BINARY_ESCAPED);
		m->flags.cwd_escaped = !!(img->flags & IMG_CWD_ESCAPED);
		m->flags.binary_unresolved = !!(img->flags & IMG_BINARY_UNRESOLVED);
		m->flags.cwd_unresolved = !!(img->flags & IMG_CWD_UNRESOLVED);
		m->flags.from_procfs = !!(img->flags & IMG_FROM_PROCFS);
		m->flags.binary_memfd = !!(img->flags & IMG_BINARY_MEMFD);
		m->flags.binary_unlinked = !!(img->flags & IMG_BINARY_UNLINKED);
		m->p.binary_inode = img->binary_ino;
		m->p.binary_device = img->binary_dev;
		m->p.binary_mount_id = img->binary_mnt_id;
	} else {
		m->flags.binary_unresolved = 1;
		m->flags.cwd_unresolved = 1;
	}
}

/*
 * Counts the process in its workload (whose STARTED record, if new, goes out first) and
 * sets the record's workload key. Returns the sandbox the process is in, 0 if none.
 */
static uint64_t attribute(struct decoder *d, struct process_msg *m, const struct fl_task *t,
			  unsigned int what, const struct proc_image *creator, uint64_t boot_ns)
{
	struct proc *p = proctable__get(d->procs, t->pid);
	uint64_t prev = 0;

	if (!d->workloads)
		return 0;
	/* The same process seen again (its exec after its fork): its sandbox so far, and
	 * when still in the same cgroup, not a new process of that workload. */
	if (p && p->start_ns == t->start_ns) {
		prev = p->sandbox;
		if (p->cgroup_id == t->cgroup_id)
			what |= WL_PROC_AGAIN;
	}
	return workloads__on_process(d->workloads, t, what, creator, prev, boot_ns,
				     m->workload_key);
}

/* Records the task as the current image of its process; takes img's reference. */
/*
 * An image about to be held by the table, counted against the budget: a new one that
 * would pass it is replaced by one without argv (the record that needed its argv is
 * written), and the loss is a gap of its workload. Shared images are counted once.
 */
static struct proc_image *within_budget(struct decoder *d, const struct fl_task *t,
					struct proc_image *img)
{
	struct proc_image *lean;

	if (!img || img->account)
		return img;
	if (d->image_budget && img->n_args && d->image_bytes + img->bytes > d->image_budget) {
		lean = proc_image__new(img->binary, img->cwd, NULL, 0,
				       img->flags | IMG_ARGS_NOT_KEPT | IMG_ARGS_TRUNCATED);
		if (lean) {
			lean->args_count = img->args_count;
			lean->args_size = img->args_size;
			/* The file it runs is not argv: a child's fork record still names it. */
			lean->binary_ino = img->binary_ino;
			lean->binary_dev = img->binary_dev;
			lean->binary_mnt_id = img->binary_mnt_id;
			proc_image__put(img);
			img = lean;
			d->stats.args_not_kept++;
			if (d->gaps)
				gaps__count(d->gaps, FIRSTLIGHT__V1__GAP__KIND__ARGV_NOT_KEPT, t->cgroup_id,
					    NULL, wallclock__unix_ns(&d->rec->clock, clock__boot_ns()));
		}
	}
	img->account = &d->image_bytes;
	d->image_bytes += img->bytes;
	return img;
}

static int track(struct decoder *d, const struct fl_task *t, struct proc_image *img,
		 uint32_t flags, uint64_t sandbox)
{
	int err = 0;
	struct proc *p = proctable__upsert(d->procs, t->pid, &err);

	if (!p) {
		proc_image__put(img);
		return err;
	}
	p->flags = flags;
	p->id = t->id;
	p->parent = t->parent_id;
	p->start_ns = t->start_ns;
	p->cgroup_id = t->cgroup_id;
	p->ppid = t->ppid;
	p->ns_pid = t->ns_pid;
	p->creds = t->creds;
	p->last_seen_mono_ns = clock__mono_ns();
	p->sandbox = sandbox;
	p->euid = t->creds.euid;
	p->mnt_ns = t->ns.mnt;
	proc__set_image(p, within_budget(d, t, img));
	return 0;
}

/*
 * Programs that run a whole kernel of their own (microVM monitors, user-space kernels):
 * the host sees the monitor, never what runs inside it.
 */
static int opaque_sandbox(const char *binary)
{
	static const char *const names[] = { "firecracker", "cloud-hypervisor", "runsc", "crosvm",
					     "qemu-kvm", "kata-runtime", "containerd-shim-kata-v2",
					     "jailer", NULL };
	const char *b = strrchr(binary, '/');

	b = b ? b + 1 : binary;
	if (!strncmp(b, "qemu-system-", 12))
		return 1;
	for (const char *const *n = names; *n; n++)
		if (!strcmp(b, *n))
			return 1;
	return 0;
}

static void opaque_gap(struct decoder *d, const struct process_msg *m, uint64_t boot_ns)
{
	char detail[320];
	struct gap_info gi = {
		.kind = FIRSTLIGHT__V1__GAP__KIND__BLIND_WORKLOAD,
		.cgroup_id = m->p.cgroup_id,
		.workload_key = m->p.workload_key,
		.start_unix_ns = wallclock__unix_ns(&d->rec->clock, boot_ns),
		.count = 1,
		.reason = "opaque-sandbox",
		.detail = detail,
	};

	snprintf(detail, sizeof(detail),
		 "%.200s (exec %s) runs its own kernel: the host sees nothing inside it",
		 m->p.binary, m->p.exec_id);
	gaps__emit(d->gaps, &gi);
}

/*
 * Whether the exec raised privilege, against the image it replaced (whose credentials the
 * table holds): an effective uid or gid changed (a set-user-ID or set-group-ID binary),
 * or effective capabilities appeared (file capabilities, or set-user-ID root). The
 * kernel's exec path is left as it is: the comparison costs nothing there.
 */
static void exec_privilege(struct process_msg *m, const struct fl_creds *before,
			   const struct fl_creds *after)
{
	m->flags.setid_exec = after->euid != before->euid || after->egid != before->egid;
	m->flags.capabilities_gained = (after->cap_effective & ~before->cap_effective) != 0;
	m->flags.privilege_gained = m->flags.setid_exec || m->flags.capabilities_gained;
}

static int handle_exec(struct decoder *d, const struct fl_exec_event *ev, size_t size)
{
	const char *data = (const char *)(ev + 1);
	Firstlight__V1__ProcessExec body = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Event rec = FIRSTLIGHT__V1__EVENT__INIT;
	char replaced[EXEC_ID_STRLEN];
	struct fl_exec_id replaced_id;
	struct process_msg m;
	struct proc_image *img;
	struct fl_task task;
	struct proc *self;
	uint32_t flags = 0, pflags = PROC_START_SEEN;

	/* Each length within what the kernel can send, and all of them within the event. */
	if (size < sizeof(*ev) || ev->binary_len > FL_PATH_MAX || ev->cwd_len > FL_PATH_MAX ||
	    ev->args_len > FL_ARGS_MAX || ev->args_tail_len > ev->args_len ||
	    ev->cgroup_v1_name_len > FL_CGROUP_NAME_MAX ||
	    (uint64_t)ev->binary_len + ev->cwd_len + ev->args_len + ev->cgroup_v1_name_len >
		    size - sizeof(*ev))
		return -EINVAL;
	task = ev->task;
	replaced_id = ev->replaced;
	proctable__resolve(d->procs, &replaced_id);
	proctable__resolve(d->procs, &task.parent_id);
	/*
	 * Lineage: for a process that had not exec'd, the kernel names its real parent's
	 * image, which is the reaper after a reparenting; the fork we recorded names the
	 * process that created it. Prefer that.
	 */
	self = proctable__get(d->procs, task.pid);
	if (proc_is(self, &replaced_id))
		task.parent_id = self->parent;
	if (ev->flags & (FL_EXEC_ARGS_TRUNCATED | FL_EXEC_ARGS_FAULT) || ev->args_size > ev->args_len)
		flags |= IMG_ARGS_TRUNCATED;
	if (ev->flags & FL_EXEC_BINARY_UNRESOLVED)
		flags |= IMG_BINARY_UNRESOLVED;
	if (ev->flags & FL_EXEC_CWD_UNRESOLVED)
		flags |= IMG_CWD_UNRESOLVED;
	if (ev->flags & FL_EXEC_BINARY_MEMFD)
		flags |= IMG_BINARY_MEMFD;
	if (ev->flags & FL_EXEC_BINARY_UNLINKED)
		flags |= IMG_BINARY_UNLINKED;
	img = decoder__image(d, data, ev->binary_len, data + ev->binary_len, ev->cwd_len,
			     data + ev->binary_len + ev->cwd_len, ev->args_len, ev->args_tail_len,
			     flags);
	if (!img)
		return -ENOMEM;
	/* The kernel knows argc before truncation; the bytes we hold may show fewer. */
	/* A tail may start inside the argument the head ends in: only argc counts them. */
	if (ev->args_tail_len)
		img->args_count = ev->argc;
	if (ev->argc > img->args_count) {
		img->args_count = ev->argc;
		img->flags |= IMG_ARGS_TRUNCATED;
	}
	img->args_size = ev->args_size;
	if (ev->args_tail_len && ev->args_size > ev->args_len)
		img->args_cut = ev->args_size - ev->args_len; /* between the head and the tail */
	img->binary_ino = ev->binary_ino;
	/* The kernel's dev_t (major << 20 | minor) as stat(2) reports it. */
	img->binary_dev = makedev(ev->binary_dev >> 20, ev->binary_dev & 0xfffff);
	img->binary_mnt_id = ev->binary_mnt_id;
	if (img->flags & IMG_ARGS_TRUNCATED)
		d->stats.args_truncated++;

	fill_process(d, &m, &task, data + ev->binary_len + ev->cwd_len + ev->args_len,
		     ev->cgroup_v1_name_len, img);
	if (ev->flags & FL_EXEC_UNTRACKED) {
		/* Its later events will carry its pre-exec id: proctable__resolve maps them. */
		m.flags.untracked = 1;
		pflags |= PROC_UNTRACKED;
		d->stats.untracked++;
		if (d->gaps)
			gaps__count(d->gaps, FIRSTLIGHT__V1__GAP__KIND__UNTRACKED_PROCESS, task.cgroup_id,
				    m.workload_key, wallclock__unix_ns(&d->rec->clock, ev->hdr.boot_ns));
	}
	if (proc_is(self, &replaced_id))
		exec_privilege(&m, &self->creds, &task.creds);
	/* What ran before the exec (the fork image) made this process: it names sandboxes. */
	uint64_t sandbox = attribute(d, &m, &task,
				     WL_PROC_EXEC | (img->flags & IMG_ARGS_TRUNCATED ? WL_PROC_ARGS_TRUNCATED : 0),
				     proc_is(self, &replaced_id) ? self->image : NULL, ev->hdr.boot_ns);
	body.process = &m.p;
	body.replaced_exec_id = exec_id__format(replaced, d->rec->boot_tag, &replaced_id);
	rec.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	rec.exec = &body;
	int err = recorder__emit(d->rec, &rec, ev->hdr.boot_ns);
	if (d->workloads && !(img->flags & (IMG_BINARY_ESCAPED | IMG_BINARY_UNRESOLVED)))
		workloads__on_first_exec(d->workloads, task.cgroup_id, sandbox, task.creds.uid, img->binary);
	if (d->gaps && !(img->flags & IMG_BINARY_ESCAPED) && opaque_sandbox(img->binary))
		opaque_gap(d, &m, ev->hdr.boot_ns);
	int terr = track(d, &task, img, pflags, sandbox);

	return err ? err : terr;
}

static int handle_fork(struct decoder *d, const struct fl_fork_event *ev, size_t size)
{
	Firstlight__V1__ProcessFork body = FIRSTLIGHT__V1__PROCESS_FORK__INIT;
	Event rec = FIRSTLIGHT__V1__EVENT__INIT;
	struct proc *parent;
	struct proc_image *img = NULL;
	struct process_msg m;
	struct fl_task task;
	int err;

	/* Sent without the name's unused bytes (see struct fl_fork_event). */
	if (size < FL_FORK_EVENT_MIN || size > sizeof(*ev))
		return -EINVAL;
	task = ev->task;
	proctable__resolve(d->procs, &task.parent_id);
	/*
	 * A process forked in the instant between attach and the seeding walk is both
	 * seeded and forked: the seed record already describes it.
	 */
	struct proc *known = proctable__get(d->procs, task.pid);

	/* Adopted after a handover (its fork came late): nothing of it was recorded yet. */
	if (proc_is(known, &task.id) && !(known->flags & PROC_ADOPTED))
		return 0;
	/* The child runs what its parent ran when it forked: the parent's current image. */
	parent = proctable__get(d->procs, task.parent_id.tgid);
	if (proc_is(parent, &task.parent_id))
		img = proc_image__get(parent->image);
	fill_process(d, &m, &task, ev->cgroup_v1_name, size - FL_FORK_EVENT_MIN, img);
	uint64_t sandbox = attribute(d, &m, &task, 0, img, ev->hdr.boot_ns);
	body.process = &m.p;
	body.parent_exec_id = m.p.parent_exec_id;
	rec.body_case = FIRSTLIGHT__V1__EVENT__BODY_FORK;
	rec.fork = &body;
	err = recorder__emit(d->rec, &rec, ev->hdr.boot_ns);
	int terr = track(d, &task, img, PROC_START_SEEN, sandbox);

	return err ? err : terr;
}

static int recently_exited(const struct decoder *d, const struct fl_exec_id *id)
{
	if (!id->tgid)
		return 0; /* empty slots of the ring are all-zero ids */
	for (size_t i = 0; i < DECODER_RECENT_EXITS; i++)
		if (d->recent_exits[i].tgid == id->tgid && d->recent_exits[i].start_ns == id->start_ns)
			return 1;
	return 0;
}

static int handle_exit(struct decoder *d, const struct fl_exit_event *ev, size_t size)
{
	Firstlight__V1__ProcessExit body = FIRSTLIGHT__V1__PROCESS_EXIT__INIT;
	Event rec = FIRSTLIGHT__V1__EVENT__INIT;
	char id[EXEC_ID_STRLEN];
	struct fl_exec_id exec_id;
	struct proc *p;
	int err;

	if (size < sizeof(*ev))
		return -EINVAL;
	exec_id = ev->id;
	proctable__resolve(d->procs, &exec_id);
	p = proctable__get(d->procs, ev->id.tgid);
	if (!proc_is(p, &exec_id))
		p = NULL; /* an entry of an older image: not this one's start */
	if (!p && recently_exited(d, &exec_id)) {
		d->stats.duplicate_exits++;
		return 0; /* two threads reported the same end (kernels without group_dead) */
	}
	body.exec_id = exec_id__format(id, d->rec->boot_tag, &exec_id);
	body.pid = ev->id.tgid;
	/* Decode the wait status as WEXITSTATUS / WTERMSIG / WCOREDUMP would. */
	body.signal = ev->status & 0x7f;
	body.exit_code = body.signal ? 0 : (int32_t)((ev->status >> 8) & 0xff);
	body.core_dumped = !!(ev->status & 0x80);
	body.duration_nano = ev->hdr.boot_ns > ev->start_ns ? ev->hdr.boot_ns - ev->start_ns : 0;
	body.cgroup_id = ev->hdr.cgroup_id;
	body.start_seen = p && (p->flags & PROC_START_SEEN);
	body.pre_existing = p && (p->flags & PROC_PRE_EXISTING);
	/* Its file had a name at the exec we recorded (not a memfd, not already unlinked, not
	 * read from /proc) and none at the exit. */
	body.deleted_while_running =
		(ev->flags & FL_EXIT_EXE_CHECKED) && (ev->flags & FL_EXIT_EXE_UNLINKED) && p &&
		p->image && p->image->binary_ino &&
		!(p->image->flags & (IMG_BINARY_UNLINKED | IMG_BINARY_MEMFD | IMG_FROM_PROCFS));
	/* Alive at the handover, ended before this run's walk: the run before knew it. */
	if (!p && d->handover_boot_ns && exec_id.start_ns < d->handover_boot_ns) {
		uint32_t seen = seen_before(d, &exec_id, ev->start_ns);

		body.start_seen = seen == PROC_START_SEEN;
		body.pre_existing = seen == PROC_PRE_EXISTING;
	}
	if (!body.start_seen && !body.pre_existing) {
		d->stats.exits_without_start++;
		if (d->gaps) {
			char key[WLKEY_MAX];

			wlkey__format(key, ev->hdr.cgroup_id, 0);
			gaps__count(d->gaps, FIRSTLIGHT__V1__GAP__KIND__MISSING_START, ev->hdr.cgroup_id,
				    key, wallclock__unix_ns(&d->rec->clock, ev->hdr.boot_ns));
		}
	}
	rec.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXIT;
	rec.exit = &body;
	err = recorder__emit(d->rec, &rec, ev->hdr.boot_ns);
	if (d->workloads)
		workloads__on_exit(d->workloads, ev->hdr.cgroup_id, p ? p->sandbox : 0, ev->hdr.boot_ns);
	/* The process is gone whichever image we knew: a stale entry must not outlive it. */
	proctable__remove(d->procs, ev->id.tgid);
	d->recent_exits[d->recent_next++ % DECODER_RECENT_EXITS] = exec_id;
	return err;
}

/* A socket of a kind not recorded: counted in its workload (its process's sandbox, if
 * any), no record of its own. */
static int handle_socket(struct decoder *d, const struct fl_sock_event *ev, size_t size)
{
	struct fl_exec_id id;
	struct proc *p;

	if (size < sizeof(*ev) || ev->kind == 0 || ev->kind >= FL_SOCK_KINDS)
		return -EINVAL;
	id = ev->id;
	proctable__resolve(d->procs, &id);
	p = proctable__get(d->procs, ev->pid);
	d->stats.unrecorded_sockets++;
	if (d->workloads)
		workloads__note_socket(d->workloads, ev->hdr.cgroup_id,
				       proc_is(p, &id) ? p->sandbox : 0, ev->kind);
	return 0;
}

static int handle_cgroup(struct decoder *d, const struct fl_cgroup_event *ev, size_t size)
{
	if (size < sizeof(*ev) || ev->path_len < 1 || ev->path_len > FL_CGROUP_PATH_MAX ||
	    ev->path_len > size - sizeof(*ev))
		return -EINVAL;
	if (d->workloads)
		workloads__on_cgroup(d->workloads, ev, (const char *)(ev + 1));
	return 0;
}

int decoder__handle(struct decoder *d, const void *data, size_t size)
{
	const struct fl_event_hdr *hdr = data;
	int err;

	if (size < sizeof(*hdr) || hdr->size > size || hdr->type >= FL_EV_MAX) {
		d->stats.malformed++;
		return -EINVAL;
	}
	size = hdr->size;
	switch (hdr->type) {
	case FL_EV_EXEC:
		err = handle_exec(d, data, size);
		break;
	case FL_EV_FORK:
		err = handle_fork(d, data, size);
		break;
	case FL_EV_EXIT:
		err = handle_exit(d, data, size);
		break;
	case FL_EV_CGROUP_MKDIR:
	case FL_EV_CGROUP_RMDIR:
	case FL_EV_CGROUP_ATTACH:
		err = handle_cgroup(d, data, size);
		break;
	case FL_EV_TCP:
	case FL_EV_UDP:
	case FL_EV_UNIX_CONNECT:
	case FL_EV_UNIX_PEER:
		err = netdec__handle(d->net, data, size);
		break;
	case FL_EV_SOCKET:
		err = handle_socket(d, data, size);
		break;
	case FL_EV_PRIV:
		err = privdec__handle(d->rec, d->procs, data, size);
		if (!err && d->workloads) {
			const struct fl_priv_event *pe = data;
			struct proc *p = proctable__get(d->procs, pe->pid);

			workloads__note_privilege(d->workloads, pe->hdr.cgroup_id,
						  p && p->start_ns == pe->id.start_ns ? p->sandbox : 0);
		}
		break;
	case FL_EV_FILE:
		err = d->file ? filedec__handle(d->file, data, size) : 0;
		break;
	default:
		err = -EINVAL;
	}
	/* Decoded is decoded, whether or not the sink then took the record. */
	if (err == -EINVAL)
		d->stats.malformed++;
	else if (err == -ENOMEM)
		d->stats.nomem++;
	else
		d->stats.events[hdr->type]++;
	return err;
}

int decoder__adopt(struct decoder *d, const struct fl_seed_event *ev, struct proc_image *img)
{
	struct proc *known = proctable__get(d->procs, ev->task.pid);
	struct process_msg m;
	int err;

	/* Its fork or exec came through the ring: this run knows it better than /proc. */
	if (proc_is(known, &ev->task.id)) {
		proc_image__put(img);
		return 0;
	}
	fill_process(d, &m, &ev->task, ev->cgroup_v1_name, sizeof(ev->cgroup_v1_name), img);
	/* Counted in its workload as any process alive at a start, but no record: the run
	 * before wrote its start (or its pre-existing exec). */
	uint64_t sandbox = attribute(d, &m, &ev->task, 0, NULL, ev->hdr.boot_ns);
	err = track(d, &ev->task, img,
		    PROC_ADOPTED | seen_before(d, &ev->task.id, ev->task.start_ns), sandbox);
	return err ? err : 1;
}

int decoder__seed(struct decoder *d, const struct fl_seed_event *ev, struct proc_image *img)
{
	Firstlight__V1__ProcessExec body = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Event rec = FIRSTLIGHT__V1__EVENT__INIT;
	struct process_msg m;
	int err;

	fill_process(d, &m, &ev->task, ev->cgroup_v1_name, sizeof(ev->cgroup_v1_name), img);
	m.flags.pre_existing = 1;
	uint64_t start_unix = wallclock__unix_ns(&d->rec->clock, ev->task.start_ns);

	m.flags.started_while_down = d->down_since_unix_ns && start_unix >= d->down_since_unix_ns;
	uint64_t sandbox = attribute(d, &m, &ev->task, 0, NULL, ev->hdr.boot_ns);
	if (d->gaps)
		gaps__count(d->gaps, FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING, ev->task.cgroup_id,
			    m.workload_key, start_unix);
	body.process = &m.p;
	rec.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	rec.exec = &body;
	err = recorder__emit(d->rec, &rec, ev->hdr.boot_ns);
	d->stats.events[FL_EV_SEED]++;
	int terr = track(d, &ev->task, img, PROC_PRE_EXISTING, sandbox);

	return err ? err : terr;
}
