/*
 * The table is a kvtable (backward-shift deletion, no tombstones: a table that churns
 * through millions of short processes never degrades); this adds the images' references.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/kvtable.h"
#include "sensor/proctable.h"

struct proctable {
	struct kvtable *t; /* tgid -> struct proc */
};

struct proc_image *proc_image__new(const char *binary, const char *cwd, char *const *args,
				   uint32_t n_args, uint32_t flags)
{
	size_t blen = strlen(binary) + 1, clen = strlen(cwd) + 1, alen = 0, size;
	struct proc_image *img;
	char *p;

	for (uint32_t i = 0; i < n_args; i++)
		alen += strlen(args[i]) + 1;
	size = sizeof(*img) + n_args * sizeof(char *) + blen + clen + alen;
	img = malloc(size);
	if (!img)
		return NULL;
	img->refs = 1;
	img->bytes = (uint32_t)size;
	img->account = NULL;
	img->flags = flags;
	img->n_args = n_args;
	img->args_count = n_args;
	img->args_size = 0;
	img->binary_mnt_id = 0;
	img->n_args_tail = 0;
	img->args_cut = 0;
	img->binary_ino = 0;
	img->binary_dev = 0;
	img->args = (char **)(img + 1);
	p = (char *)(img->args + n_args);
	img->binary = memcpy(p, binary, blen);
	p += blen;
	img->cwd = memcpy(p, cwd, clen);
	p += clen;
	for (uint32_t i = 0; i < n_args; i++) {
		size_t l = strlen(args[i]) + 1;

		img->args[i] = memcpy(p, args[i], l);
		img->args_size += l;
		p += l;
	}
	return img;
}

struct proc_image *proc_image__get(struct proc_image *img)
{
	if (img)
		img->refs++;
	return img;
}

void proc_image__put(struct proc_image *img)
{
	if (img && --img->refs == 0) {
		if (img->account)
			*img->account -= img->bytes;
		free(img);
	}
}

struct proctable *proctable__new(size_t capacity_hint)
{
	struct proctable *pt = calloc(1, sizeof(*pt));

	(void)capacity_hint; /* the table grows as it needs */
	if (!pt)
		return NULL;
	/* Unbounded in practice: the kernel's own table (--max-procs) bounds what comes. */
	pt->t = kvtable__new(sizeof(uint32_t), sizeof(struct proc), SIZE_MAX / 2);
	if (!pt->t) {
		free(pt);
		errno = ENOMEM;
		return NULL;
	}
	return pt;
}

static int drop_entry(void *ctx, const void *key, void *value)
{
	(void)ctx;
	(void)key;
	proc_image__put(((struct proc *)value)->image);
	return 1;
}

void proctable__free(struct proctable *pt)
{
	if (!pt)
		return;
	kvtable__remove_if(pt->t, drop_entry, NULL);
	kvtable__free(pt->t);
	free(pt);
}

struct proc *proctable__get(struct proctable *pt, uint32_t tgid)
{
	if (!tgid)
		return NULL; /* no process has it */
	return kvtable__get(pt->t, &tgid);
}

int proctable__resolve(struct proctable *pt, struct fl_exec_id *id)
{
	const struct proc *p = proctable__get(pt, id->tgid);

	/* The derived id's start is the process's start; an exec'd image's is its exec. */
	if (!p || !(p->flags & PROC_UNTRACKED) || id->start_ns != p->start_ns ||
	    p->id.start_ns == p->start_ns)
		return 0;
	*id = p->id;
	return 1;
}

struct proc *proctable__upsert(struct proctable *pt, uint32_t tgid, int *err)
{
	struct proc *p;
	int created;

	if (!tgid) {
		*err = -EINVAL;
		return NULL;
	}
	p = kvtable__put(pt->t, &tgid, &created);
	if (!p) {
		*err = -errno;
		return NULL;
	}
	if (created)
		p->tgid = tgid;
	return p;
}

void proctable__remove(struct proctable *pt, uint32_t tgid)
{
	struct proc *p = proctable__get(pt, tgid);

	if (!p)
		return;
	proc_image__put(p->image);
	kvtable__remove(pt->t, &tgid);
}

size_t proctable__count(const struct proctable *pt)
{
	return kvtable__count(pt->t);
}

struct each {
	void (*fn)(void *ctx, const struct proc *p);
	void *ctx;
	uint64_t before_mono_ns; /* the sweep's */
};

static int visit(void *ctx, const void *key, void *value)
{
	struct each *e = ctx;

	(void)key;
	e->fn(e->ctx, value);
	return 0;
}

void proctable__for_each(const struct proctable *pt,
			 void (*fn)(void *ctx, const struct proc *p), void *ctx)
{
	struct each e = { .fn = fn, .ctx = ctx };

	kvtable__remove_if(pt->t, visit, &e);
}

void proc__set_image(struct proc *p, struct proc_image *img)
{
	proc_image__put(p->image);
	p->image = img;
}

static int sweep_one(void *ctx, const void *key, void *value)
{
	struct each *e = ctx;
	struct proc *p = value;

	(void)key;
	if (p->last_seen_mono_ns >= e->before_mono_ns || !kill((pid_t)p->tgid, 0) || errno != ESRCH)
		return 0;
	if (e->fn)
		e->fn(e->ctx, p);
	proc_image__put(p->image);
	return 1;
}

size_t proctable__sweep(struct proctable *pt, uint64_t before_mono_ns,
			void (*gone)(void *ctx, const struct proc *p), void *ctx)
{
	struct each e = { .fn = gone, .ctx = ctx, .before_mono_ns = before_mono_ns };

	return kvtable__remove_if(pt->t, sweep_one, &e);
}
