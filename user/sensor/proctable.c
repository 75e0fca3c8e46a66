/*
 * Open addressing with linear probing and backward-shift deletion (no tombstones), so a
 * table that churns through millions of short processes never degrades. Load kept <= 1/2.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/proctable.h"

struct proctable {
	struct proc *slots;
	size_t cap; /* power of two */
	size_t count;
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
	img->flags = flags;
	img->n_args = n_args;
	img->args_count = n_args;
	img->args_size = 0;
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
	if (img && --img->refs == 0)
		free(img);
}

static size_t slot_of(const struct proctable *pt, uint32_t tgid)
{
	/* Fibonacci hashing: consecutive pids spread over the table. */
	return (size_t)((tgid * 0x9E3779B97F4A7C15ull) >> 32) & (pt->cap - 1);
}

struct proctable *proctable__new(size_t capacity_hint)
{
	struct proctable *pt = calloc(1, sizeof(*pt));
	size_t cap = 64;

	if (!pt)
		return NULL;
	while (cap < capacity_hint * 2)
		cap <<= 1;
	pt->slots = calloc(cap, sizeof(*pt->slots));
	if (!pt->slots) {
		free(pt);
		errno = ENOMEM;
		return NULL;
	}
	pt->cap = cap;
	return pt;
}

void proctable__free(struct proctable *pt)
{
	if (!pt)
		return;
	for (size_t i = 0; i < pt->cap; i++)
		if (pt->slots[i].tgid)
			proc_image__put(pt->slots[i].image);
	free(pt->slots);
	free(pt);
}

struct proc *proctable__get(struct proctable *pt, uint32_t tgid)
{
	if (!tgid)
		return NULL; /* 0 marks a free slot; no process has it */
	for (size_t i = slot_of(pt, tgid);; i = (i + 1) & (pt->cap - 1)) {
		if (pt->slots[i].tgid == tgid)
			return &pt->slots[i];
		if (!pt->slots[i].tgid)
			return NULL;
	}
}

static int grow(struct proctable *pt)
{
	struct proc *old = pt->slots;
	size_t old_cap = pt->cap;
	struct proc *slots = calloc(old_cap * 2, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	pt->slots = slots;
	pt->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].tgid)
			continue;
		for (j = slot_of(pt, old[i].tgid); slots[j].tgid; j = (j + 1) & (pt->cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

struct proc *proctable__upsert(struct proctable *pt, uint32_t tgid, int *err)
{
	struct proc *p = proctable__get(pt, tgid);
	size_t i;

	if (p)
		return p;
	if (!tgid) {
		*err = -EINVAL;
		return NULL;
	}
	if ((pt->count + 1) * 2 > pt->cap && (*err = grow(pt)))
		return NULL;
	for (i = slot_of(pt, tgid); pt->slots[i].tgid; i = (i + 1) & (pt->cap - 1))
		;
	memset(&pt->slots[i], 0, sizeof(pt->slots[i]));
	pt->slots[i].tgid = tgid;
	pt->count++;
	return &pt->slots[i];
}

/* Empties slot i and shifts later members of the probe run back into the hole. */
static void remove_slot(struct proctable *pt, size_t i)
{
	size_t mask = pt->cap - 1, j = i;

	proc_image__put(pt->slots[i].image);
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!pt->slots[j].tgid)
			break;
		home = slot_of(pt, pt->slots[j].tgid);
		/* Move j into the hole unless its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		pt->slots[i] = pt->slots[j];
		i = j;
	}
	memset(&pt->slots[i], 0, sizeof(pt->slots[i]));
	pt->count--;
}

void proctable__remove(struct proctable *pt, uint32_t tgid)
{
	struct proc *p = proctable__get(pt, tgid);

	if (p)
		remove_slot(pt, (size_t)(p - pt->slots));
}

size_t proctable__count(const struct proctable *pt)
{
	return pt->count;
}

void proctable__for_each(const struct proctable *pt,
			 void (*fn)(void *ctx, const struct proc *p), void *ctx)
{
	for (size_t i = 0; i < pt->cap; i++)
		if (pt->slots[i].tgid)
			fn(ctx, &pt->slots[i]);
}

void proc__set_image(struct proc *p, struct proc_image *img)
{
	proc_image__put(p->image);
	p->image = img;
}

size_t proctable__sweep(struct proctable *pt, uint64_t before_mono_ns,
			void (*gone)(void *ctx, const struct proc *p), void *ctx)
{
	size_t removed = 0;

	for (size_t i = 0; i < pt->cap;) {
		struct proc *p = &pt->slots[i];

		if (p->tgid && p->last_seen_mono_ns < before_mono_ns && kill((pid_t)p->tgid, 0) &&
		    errno == ESRCH) {
			if (gone)
				gone(ctx, p);
			remove_slot(pt, i);
			removed++;
			continue; /* slot i now holds a shifted entry: look at it again */
		}
		i++;
	}
	return removed;
}
