/* Summing UDP contributions per (generation, process, peer); see flowagg.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sensor/flowagg.h"
#include "base/kvtable.h"

struct flowagg {
	struct kvtable *t;
};

struct flowagg *flowagg__new(size_t max_entries)
{
	struct flowagg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->t = kvtable__new(sizeof(struct fl_udp_key), sizeof(struct flowagg_entry), max_entries);
	if (!a->t) {
		int err = errno;

		free(a);
		errno = err;
		return NULL;
	}
	return a;
}

void flowagg__free(struct flowagg *a)
{
	if (!a)
		return;
	kvtable__free(a->t);
	free(a);
}

void flowagg__canon_key(struct fl_udp_key *out, const struct fl_udp_key *in)
{
	memset(out, 0, sizeof(*out));
	out->id.start_ns = in->id.start_ns;
	out->id.tgid = in->id.tgid;
	out->cgroup_id = in->cgroup_id;
	out->dport = in->dport;
	out->family = in->family;
	out->netns = in->netns;
	out->gen = in->gen & 1;
	memcpy(out->daddr, in->daddr, in->family == AF_INET ? 4 : sizeof(out->daddr));
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

int flowagg__add(struct flowagg *a, const struct fl_udp_key *key, const struct fl_udp_value *v,
		 const struct flowagg_proc *proc)
{
	struct fl_udp_key k;
	struct flowagg_entry *e;
	int created;

	flowagg__canon_key(&k, key);
	e = kvtable__put(a->t, &k, &created);
	if (!e)
		return -errno;
	if (created) {
		e->sum = *v;
	} else {
		/* Saturating: counts from a damaged input must not wrap into small numbers. */
		e->sum.datagrams = add_sat(e->sum.datagrams, v->datagrams);
		e->sum.bytes = add_sat(e->sum.bytes, v->bytes);
		e->sum.connects = add_sat(e->sum.connects, v->connects);
		if (v->first_ns && (!e->sum.first_ns || v->first_ns < e->sum.first_ns))
			e->sum.first_ns = v->first_ns;
		if (v->last_ns > e->sum.last_ns)
			e->sum.last_ns = v->last_ns;
		if (!e->sum.pid)
			e->sum.pid = v->pid;
		e->sum.flags |= v->flags;
	}
	if (proc && (proc->flags & FLOWAGG_PROC_KNOWN) && !(e->proc.flags & FLOWAGG_PROC_KNOWN))
		e->proc = *proc;
	e->contributions++;
	return 0;
}

struct flush_ctx {
	uint32_t gen;
	flowagg_emit_fn emit;
	void *ctx;
};

static int flush_one(void *ctx, const void *key, void *value)
{
	struct flush_ctx *f = ctx;
	const struct fl_udp_key *k = key;

	if (f->gen != FLOWAGG_ALL_GENS && k->gen != f->gen)
		return 0;
	f->emit(f->ctx, k, value);
	return 1;
}

size_t flowagg__flush(struct flowagg *a, uint32_t gen, flowagg_emit_fn emit, void *ctx)
{
	struct flush_ctx f = { .gen = gen, .emit = emit, .ctx = ctx };

	return kvtable__remove_if(a->t, flush_one, &f);
}

size_t flowagg__count(const struct flowagg *a)
{
	return kvtable__count(a->t);
}
