/* The process graph of a job's records; see jobgraph.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "readers/jobgraph.h"
#include "base/strmap.h"
#include "records/wlkey.h"

typedef Firstlight__V1__Event Event;

/* qsort, which must not be given a NULL base, even for nothing to sort. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

int jobgraph__init(struct jobgraph *g, int detail)
{
	memset(g, 0, sizeof(*g));
	g->detail = detail;
	g->a = arena__new();
	g->strs = strmap__new();
	g->img = strmap__new();
	g->exit = strmap__new();
	return g->a && g->strs && g->img && g->exit ? 0 : -ENOMEM;
}

void jobgraph__fini(struct jobgraph *g)
{
	arena__free(g->a);
	strmap__free(g->strs);
	strmap__free(g->img);
	strmap__free(g->exit);
	ptrvec__free(&g->images);
	ptrvec__free(&g->exits);
	ptrvec__free(&g->procs);
	ptrvec__free(&g->by_pid);
	memset(g, 0, sizeof(*g));
}

/* One copy of each distinct string. NULL on ENOMEM. */
static const char *intern(struct jobgraph *g, const char *s)
{
	char *c;

	if (!s || !*s)
		return "";
	c = strmap__get(g->strs, s);
	if (c)
		return c;
	c = arena__strdup(g->a, s);
	if (!c || strmap__put(g->strs, c, c))
		return NULL;
	return c;
}

/* A CLOCK_BOOTTIME instant as unix ns, by the clock offset of the record carrying it.
 * 0 when unknown or out of range. */
uint64_t jobgraph__wall_of(const Event *ev, uint64_t boot)
{
	uint64_t d;

	if (!boot || !ev->boot_nano || !ev->time_unix_nano)
		return 0;
	if (boot >= ev->boot_nano) {
		d = boot - ev->boot_nano;
		return d > UINT64_MAX - ev->time_unix_nano ? 0 : ev->time_unix_nano + d;
	}
	d = ev->boot_nano - boot;
	return d >= ev->time_unix_nano ? 0 : ev->time_unix_nano - d;
}

/* Exec ids are "<boot tag>:<start ns>:<pid>" (README): the same boot when the tags match. */
int jobgraph__same_boot(const char *a, const char *b)
{
	const char *ca = strchr(a, ':'), *cb = strchr(b, ':');

	return ca && cb && ca - a == cb - b && !memcmp(a, b, (size_t)(ca - a));
}

static const char *workload_key_of(struct jobgraph *g, const char *key, uint64_t cgroup_id)
{
	char buf[WLKEY_MAX];

	key = wlkey__of_record(buf, key, cgroup_id);
	return key ? intern(g, key) : "";
}

/* How much a record of an image is worth: a real record beats a seed of a later run,
 * which beats a snapshot's restatement. */
static int image_rank(enum jt_image_kind kind, unsigned int flags)
{
	if (flags & JT_IMG_SNAPSHOT)
		return 1;
	return kind == JT_IMAGE_SEEN ? 2 : 3;
}

static int copy_strings(struct jobgraph *g, char *const *from, size_t n, const char *const **to)
{
	char **copy = NULL;

	if (n) {
		if (n > SIZE_MAX / sizeof(*copy) || !(copy = arena__alloc(g->a, n * sizeof(*copy))))
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			if (!(copy[i] = arena__strdup(g->a, from[i])))
				return -ENOMEM;
	}
	*to = (const char *const *)copy;
	return 0;
}

static int copy_detail(struct jobgraph *g, struct jt_image *img, const Firstlight__V1__Process *p)
{
	img->binary = arena__strdup(g->a, p->binary);
	img->cwd = arena__strdup(g->a, p->cwd);
	if (!img->binary || !img->cwd || copy_strings(g, p->args, p->n_args, &img->args) ||
	    copy_strings(g, p->args_tail, p->n_args_tail, &img->args_tail))
		return -ENOMEM;
	img->n_args = p->n_args;
	img->n_args_tail = p->n_args_tail;
	img->args_cut_bytes = p->args_cut_bytes;
	return 0;
}

/* An exec, fork or restated image. Unusable records (no exec id) are skipped. */
int jobgraph__add_image(struct jobgraph *g, const Event *ev, const Firstlight__V1__Process *p,
			   enum jt_image_kind kind, const char *replaced, const char *record)
{
	const Firstlight__V1__ProcessFlags *f = p->flags;
	struct jt_image *img;
	unsigned int flags = 0;

	if (!p->exec_id || !*p->exec_id)
		return 0;
	if (ev->snapshot)
		flags |= JT_IMG_SNAPSHOT;
	if (f && f->pre_existing)
		flags |= JT_IMG_PRE_EXISTING;
	if (f && f->started_while_down)
		flags |= JT_IMG_STARTED_WHILE_DOWN;
	if (f && f->args_escaped)
		flags |= JT_IMG_ARGS_ESCAPED;
	if (f && f->binary_escaped)
		flags |= JT_IMG_BINARY_ESCAPED;
	if (f && f->cwd_escaped)
		flags |= JT_IMG_CWD_ESCAPED;
	if (f && f->from_procfs)
		flags |= JT_IMG_FROM_PROCFS;
	if (f && f->binary_unresolved)
		flags |= JT_IMG_BINARY_UNRESOLVED;
	if (p->args_truncated)
		flags |= JT_IMG_ARGS_TRUNCATED;
	img = strmap__get(g->img, p->exec_id);
	if (img) {
		/* The same image again: a restatement, or the same record read twice. */
		if (image_rank(kind, flags) <= image_rank(img->kind, img->flags))
			return 0;
	} else {
		const char *id = intern(g, p->exec_id);

		img = arena__alloc(g->a, sizeof(*img));
		if (!id || !img || strmap__put(g->img, id, img) || ptrvec__push(&g->images, img))
			return -ENOMEM;
		img->exec_id = id;
		img->order = g->order++;
	}
	img->kind = kind;
	img->flags = flags;
	img->parent_exec_id = intern(g, p->parent_exec_id);
	img->replaced_exec_id = intern(g, replaced);
	img->workload_key = workload_key_of(g, p->workload_key, p->cgroup_id);
	img->node = intern(g, ev->node);
	if (!img->parent_exec_id || !img->replaced_exec_id || !img->workload_key)
		return -ENOMEM;
	img->pid = p->pid;
	img->ppid = p->ppid;
	img->uid = p->uid;
	img->gid = p->gid;
	img->euid = p->euid;
	img->egid = p->egid;
	img->cgroup_id = p->cgroup_id;
	img->start_boot = p->start_boot_nano;
	img->proc_start_ns = jobgraph__wall_of(ev, p->start_boot_nano);
	/* A restatement's own time is when it was restated, not when the image began. */
	img->t_ns = kind == JT_IMAGE_FORK || kind == JT_IMAGE_EXEC ? ev->time_unix_nano : 0;
	img->record_ns = ev->time_unix_nano;
	img->record = record;
	img->args_count = p->args_count;
	return g->detail ? copy_detail(g, img, p) : 0;
}

int jobgraph__add_exit(struct jobgraph *g, const Event *ev, const char *record)
{
	const Firstlight__V1__ProcessExit *e = ev->exit;
	struct jt_exit *x;
	const char *id;

	if (!e->exec_id || !*e->exec_id || strmap__get(g->exit, e->exec_id))
		return 0; /* nothing to attach it to, or read twice */
	id = intern(g, e->exec_id);
	x = arena__alloc(g->a, sizeof(*x));
	if (!id || !x || strmap__put(g->exit, id, x) || ptrvec__push(&g->exits, x))
		return -ENOMEM;
	x->exec_id = id;
	x->pid = e->pid;
	x->code = e->exit_code;
	x->signal = e->signal;
	x->core_dumped = e->core_dumped;
	x->start_seen = e->start_seen;
	x->pre_existing = e->pre_existing;
	x->t_ns = ev->time_unix_nano;
	x->duration_ns = e->duration_nano;
	x->boot = ev->boot_nano;
	x->cgroup_id = e->cgroup_id;
	x->record = record;
	return 0;
}

/* Time order for images: their start, else their process's start; then input order. */
static uint64_t image_time(const struct jt_image *i)
{
	return i->t_ns ? i->t_ns : i->proc_start_ns;
}

static int cmp_image(const void *pa, const void *pb)
{
	const struct jt_image *a = *(struct jt_image *const *)pa, *b = *(struct jt_image *const *)pb;
	uint64_t ta = image_time(a), tb = image_time(b);

	if (ta != tb)
		return ta < tb ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int cmp_head_pid(const void *pa, const void *pb)
{
	const struct jt_image *a = *(struct jt_image *const *)pa, *b = *(struct jt_image *const *)pb;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->start_boot != b->start_boot)
		return a->start_boot < b->start_boot ? -1 : 1;
	return cmp_image(pa, pb);
}

static struct jt_image *tail_of(struct jt_image *i)
{
	while (i->next)
		i = i->next;
	return i;
}

/*
 * Images into chains: an exec follows the image it replaced (same pid). A seed of a later
 * agent run (pre-existing) continues the chain of the same process (same boot, pid and
 * start) when that chain has no exit: the agent restarted while it ran.
 */
static int link_chains(struct jobgraph *g)
{
	struct jt_image **im = (struct jt_image **)g->images.v;
	struct ptrvec heads = {};
	int err = 0;

	sort(im, g->images.n, sizeof(*im), cmp_image);
	for (size_t i = 0; i < g->images.n; i++) {
		im[i]->prev = im[i]->next = NULL;
		im[i]->mark = 0;
	}
	for (size_t i = 0; i < g->images.n; i++) {
		struct jt_image *img = im[i], *r;

		if (!*img->replaced_exec_id)
			continue;
		r = strmap__get(g->img, img->replaced_exec_id);
		/* The first exec that claims an image gets it; a second claim is not believed. */
		if (r && r != img && r->pid == img->pid && !r->next) {
			r->next = img;
			img->prev = r;
		}
	}
	/* Records that replace each other in a ring have no head: cut the ring at its
	 * earliest image, which makes it one. */
	for (size_t i = 0; i < g->images.n; i++)
		if (!im[i]->prev)
			for (struct jt_image *c = im[i]; c && !c->mark; c = c->next)
				c->mark = 1;
	for (size_t i = 0; i < g->images.n; i++) {
		if (im[i]->mark)
			continue;
		im[i]->prev->next = NULL;
		im[i]->prev = NULL;
		for (struct jt_image *c = im[i]; c && !c->mark; c = c->next)
			c->mark = 1;
	}
	for (size_t i = 0; i < g->images.n && !err; i++)
		if (!im[i]->prev)
			err = ptrvec__push(&heads, im[i]);
	if (err)
		goto cleanup;
	sort(heads.v, heads.n, sizeof(void *), cmp_head_pid);
	for (size_t i = 0; i < heads.n; i++) {
		struct jt_image *s = heads.v[i], *best = NULL;

		if (s->kind != JT_IMAGE_SEEN || !s->start_boot)
			continue;
		/* Earlier heads of the same (pid, start) sort just before it. */
		for (size_t j = i; j-- > 0;) {
			struct jt_image *h = heads.v[j], *tl;

			if (h->pid != s->pid || h->start_boot != s->start_boot)
				break;
			if (h->prev || !jobgraph__same_boot(h->exec_id, s->exec_id))
				continue;
			tl = tail_of(h);
			if (strmap__get(g->exit, tl->exec_id) || image_time(tl) > s->record_ns)
				continue;
			best = tl;
			break;
		}
		if (best) {
			best->next = s;
			s->prev = best;
		}
	}
cleanup:
	ptrvec__free(&heads);
	return err;
}

static int proc_append(struct jobgraph *g, struct jt_proc *p, struct jt_image *img)
{
	struct jt_image **n = arena__alloc(g->a, (p->n_images + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	if (p->n_images)
		memcpy(n, p->images, p->n_images * sizeof(*n));
	n[p->n_images++] = img;
	p->images = n;
	img->proc = p;
	return 0;
}

static struct jt_proc *new_proc(struct jobgraph *g)
{
	struct jt_proc *p = arena__alloc(g->a, sizeof(*p));

	if (p && ptrvec__push(&g->procs, p))
		return NULL;
	return p;
}

static int make_procs(struct jobgraph *g)
{
	struct jt_image **im = (struct jt_image **)g->images.v;
	size_t n = g->images.n; /* placeholders added later make their own */

	for (size_t i = 0; i < n; i++) {
		struct jt_proc *p;

		if (im[i]->prev)
			continue;
		p = new_proc(g);
		if (!p)
			return -ENOMEM;
		for (struct jt_image *c = im[i]; c; c = c->next) {
			int err = proc_append(g, p, c);

			if (err)
				return err;
		}
	}
	return 0;
}

/* An image known only by its id (an exit, flow or child names it). */
static struct jt_image *unrecorded(struct jobgraph *g, const char *exec_id, uint32_t pid)
{
	const char *id = intern(g, exec_id);
	struct jt_image *img = arena__alloc(g->a, sizeof(*img));

	if (!id || !img || strmap__put(g->img, id, img) || ptrvec__push(&g->images, img))
		return NULL;
	img->exec_id = id;
	img->kind = JT_IMAGE_UNRECORDED;
	img->parent_exec_id = img->replaced_exec_id = img->workload_key = img->node = "";
	img->pid = pid;
	img->order = g->order++;
	return img;
}

static int cmp_proc_pid(const void *pa, const void *pb)
{
	const struct jt_proc *a = *(struct jt_proc *const *)pa, *b = *(struct jt_proc *const *)pb;

	if (a->images[0]->pid != b->images[0]->pid)
		return a->images[0]->pid < b->images[0]->pid ? -1 : 1;
	if (a->images[0]->start_boot != b->images[0]->start_boot)
		return a->images[0]->start_boot < b->images[0]->start_boot ? -1 : 1;
	return a->images[0]->order < b->images[0]->order ? -1 : a->images[0]->order > b->images[0]->order;
}

int jobgraph__index_by_pid(struct jobgraph *g)
{
	g->by_pid.n = 0;
	for (size_t i = 0; i < g->procs.n; i++)
		if (ptrvec__push(&g->by_pid, g->procs.v[i]))
			return -ENOMEM;
	sort(g->by_pid.v, g->by_pid.n, sizeof(void *), cmp_proc_pid);
	return 0;
}

/* The first proc of pid in by_pid (binary search), or by_pid.n. */
size_t jobgraph__first_of_pid(const struct jobgraph *g, uint32_t pid)
{
	size_t lo = 0, hi = g->by_pid.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct jt_proc *p = g->by_pid.v[mid];

		if (p->images[0]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Exits to their process. An exit whose image was never recorded still belongs to a
 * recorded process when pid, boot and process start agree (its exec was lost): the
 * process gets that image, unrecorded. Exits that fit nowhere go to *rest.
 */
static int attach_exits(struct jobgraph *g, struct ptrvec *rest)
{
	struct jt_exit **xs = (struct jt_exit **)g->exits.v;
	int err = jobgraph__index_by_pid(g);

	for (size_t i = 0; i < g->exits.n && !err; i++) {
		struct jt_exit *x = xs[i];
		struct jt_image *img = strmap__get(g->img, x->exec_id);
		struct jt_proc *match = NULL;

		if (img) {
			if (!img->proc->exit) {
				img->proc->exit = x;
				x->used = 1;
			}
			continue;
		}
		if (x->boot > x->duration_ns) {
			uint64_t start = x->boot - x->duration_ns;

			for (size_t j = jobgraph__first_of_pid(g, x->pid); j < g->by_pid.n; j++) {
				struct jt_proc *p = g->by_pid.v[j];
				struct jt_image *h = p->images[0];

				if (h->pid != x->pid)
					break;
				if (h->start_boot == start && !p->exit && jobgraph__same_boot(h->exec_id, x->exec_id) &&
				    p->images[p->n_images - 1]->kind != JT_IMAGE_UNRECORDED) {
					match = p;
					break;
				}
			}
		}
		if (match) {
			img = unrecorded(g, x->exec_id, x->pid);
			err = img ? proc_append(g, match, img) : -ENOMEM;
			match->exit = x;
			match->flags |= JT_PROC_UNRECORDED_EXEC;
			x->used = 1;
			continue;
		}
		err = ptrvec__push(rest, x);
	}
	return err;
}

/* A process of which only an id is known, from an exit or a flow. */
struct jt_proc *jobgraph__placeholder(struct jobgraph *g, const char *exec_id, uint32_t pid)
{
	struct jt_image *img = unrecorded(g, exec_id, pid);
	struct jt_proc *p = img ? new_proc(g) : NULL;

	if (!p || proc_append(g, p, img))
		return NULL;
	return p;
}

int jobgraph__placeholder_for_exit(struct jobgraph *g, struct jt_exit *x)
{
	struct jt_proc *p = jobgraph__placeholder(g, x->exec_id, x->pid);

	if (!p)
		return -ENOMEM;
	p->exit = x;
	x->used = 1;
	if (x->start_seen)
		p->flags |= JT_PROC_START_ELSEWHERE;
	else if (x->pre_existing)
		p->flags |= JT_PROC_PRE_EXISTING;
	else
		p->flags |= JT_PROC_MISSING_START;
	return 0;
}

/*
 * Lineage: a process's parent is the process of the image its first image names. A loop
 * in those names (only bad records make one) is cut where it is found.
 */
int jobgraph__link_parents(struct jobgraph *g)
{
	struct jt_proc **ps = (struct jt_proc **)g->procs.v;
	struct ptrvec path = {};
	int err = 0;

	for (size_t i = 0; i < g->procs.n; i++) {
		struct jt_proc *p = ps[i];
		struct jt_image *h = p->images[0], *pi;

		p->parent = NULL;
		p->forked_by = NULL;
		p->mark = 0;
		p->parent_exec_id = h->parent_exec_id;
		if (h->kind == JT_IMAGE_UNRECORDED || !*h->parent_exec_id)
			continue;
		pi = strmap__get(g->img, h->parent_exec_id);
		if (pi && pi->proc != p) {
			p->parent = pi->proc;
			p->forked_by = pi;
		}
	}
	/* mark: 0 unvisited, 1 on the path being walked, 2 known to reach a root. */
	for (size_t i = 0; i < g->procs.n && !err; i++) {
		struct jt_proc *p = ps[i];

		path.n = 0;
		while (p && p->mark == 0 && !err) {
			p->mark = 1;
			err = ptrvec__push(&path, p);
			p = p->parent;
		}
		if (p && p->mark == 1) {
			p->parent = NULL;
			p->forked_by = NULL;
			p->flags |= JT_PROC_LINEAGE_LOOP;
		}
		for (size_t j = 0; j < path.n; j++)
			((struct jt_proc *)path.v[j])->mark = 2;
	}
	ptrvec__free(&path);
	return err;
}

/* Start, end, pid, who, flags: from the images and the exit. */
void jobgraph__proc_fields(struct jt_proc *p)
{
	struct jt_image *h = p->images[0], *last = NULL;

	p->pid = h->pid;
	p->start_ns = h->proc_start_ns ? h->proc_start_ns : h->t_ns;
	for (size_t i = 0; i < p->n_images; i++) {
		struct jt_image *img = p->images[i];

		if (img->kind == JT_IMAGE_UNRECORDED)
			continue;
		last = img;
		if (img->flags & JT_IMG_PRE_EXISTING)
			p->flags |= JT_PROC_PRE_EXISTING;
		if (img->flags & JT_IMG_STARTED_WHILE_DOWN)
			p->flags |= JT_PROC_STARTED_WHILE_DOWN;
		if (img->flags & JT_IMG_ARGS_TRUNCATED)
			p->flags |= JT_PROC_ARGS_TRUNCATED;
	}
	if (last) {
		p->ppid = last->ppid;
		p->workload_key = last->workload_key;
		p->cgroup_id = last->cgroup_id;
	} else {
		p->workload_key = "";
	}
	if (p->exit) {
		p->end_ns = p->exit->t_ns;
		if (!p->start_ns && p->exit->t_ns > p->exit->duration_ns)
			p->start_ns = p->exit->t_ns - p->exit->duration_ns;
		if (!p->cgroup_id)
			p->cgroup_id = p->exit->cgroup_id;
		p->state = p->exit->signal ? JT_KILLED : JT_EXITED;
	} else {
		p->state = JT_RUNNING;
	}
	if (p->start_ns || !p->first_ns)
		p->first_ns = p->start_ns;
}

int jobgraph__cmp_proc_time(const void *pa, const void *pb)
{
	const struct jt_proc *a = *(struct jt_proc *const *)pa, *b = *(struct jt_proc *const *)pb;

	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->images[0]->order < b->images[0]->order ? -1 : a->images[0]->order > b->images[0]->order;
}

int jobgraph__link(struct jobgraph *g, struct ptrvec *rest_exits)
{
	return link_chains(g) ?: make_procs(g) ?: attach_exits(g, rest_exits);
}
