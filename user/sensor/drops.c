/* Kernel drop counters to gap records; see drops.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/kvtable.h"
#include "sensor/drops.h"
#include "firstlight.pb-c.h"
#include "sensor/evtypes.h"

/* What we reported for one workload: the kernel's counts at that time. */
struct cg_state {
	uint64_t count[FL_DROP_WHY][FL_EV_MAX];
	uint64_t last_ns;
	int seen;           /* present in the kernel map at the last walk */
};

struct drops {
	struct loader *loader;
	struct gaps *gaps;
	const struct wallclock *clock;
	struct kvtable *tab; /* cgroup id -> struct cg_state; pruned at each walk */
	uint64_t global_reported[FL_DROP_WHY][FL_EV_MAX]; /* per cause and type, all workloads */
	uint64_t vanished[FL_DROP_WHY][FL_EV_MAX];        /* reported for entries the kernel evicted */
	uint64_t kernel_sum[FL_DROP_WHY][FL_EV_MAX];      /* this walk: entries' counts */
	uint64_t unknown_reported[FL_DROP_WHY][FL_EV_MAX];
	uint64_t by_type[FL_EV_MAX]; /* reported, both causes */
	uint64_t by_why[FL_DROP_WHY];
	uint64_t total;
	uint64_t new_in_walk;
	uint64_t events_seen; /* loader__drop_events at the last walk */
};

struct drops *drops__new(struct loader *l, struct gaps *g, const struct wallclock *clock)
{
	struct drops *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->loader = l;
	d->gaps = g;
	d->clock = clock;
	/* As many workloads as the kernel's map holds: it is bounded, this follows it. */
	d->tab = kvtable__new(sizeof(uint64_t), sizeof(struct cg_state), SIZE_MAX / 2);
	if (!d->tab) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void drops__free(struct drops *d)
{
	if (!d)
		return;
	kvtable__free(d->tab);
	free(d);
}

uint64_t drops__total(const struct drops *d)
{
	return d->total;
}

const uint64_t *drops__by_type(const struct drops *d)
{
	return d->by_type;
}

uint64_t drops__share(const struct drops *d)
{
	return d->by_why[FL_DROP_SHARE];
}

/* The state of cgroup id, created (zeroed) if new. NULL: out of memory. */
static struct cg_state *state_of(struct drops *d, uint64_t id)
{
	int created;

	return kvtable__put(d->tab, &id, &created);
}

static int unmark(void *ctx, const void *key, void *value)
{
	struct cg_state *s = value;

	(void)ctx;
	(void)key;
	s->seen = 0;
	return 0;
}

/*
 * Forgets a workload the kernel no longer holds (evicted, or ended and aged out): what
 * we reported for it moves to `vanished`, so the totals still add up.
 */
static int forget_unseen(void *ctx, const void *key, void *value)
{
	struct drops *d = ctx;
	const struct cg_state *s = value;

	(void)key;
	if (s->seen)
		return 0;
	for (unsigned int w = 0; w < FL_DROP_WHY; w++)
		for (unsigned int t = 0; t < FL_EV_MAX; t++)
			d->vanished[w][t] += s->count[w][t];
	return 1;
}

/* Per cause (FL_DROP_*): the gap kind, its reason and what the detail says happened. */
static const struct {
	int kind;
	const char *reason, *what;
} causes[FL_DROP_WHY] = {
	[FL_DROP_RING] = { FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, "ring-full", "ring buffer full" },
	[FL_DROP_SHARE] = { FIRSTLIGHT__V1__GAP__KIND__SHARE_EXCEEDED, "workload-share",
			    "the workload queued more than its share of the ring buffer (--ring-share) "
			    "between two drains" },
	[FL_DROP_STATE] = { FIRSTLIGHT__V1__GAP__KIND__RING_BUFFER_DROP, "kernel-state",
			    "the kernel could not keep the state they needed (a UDP send's destination)" },
};

static void gap(struct drops *d, unsigned int why, uint64_t cgroup_id, unsigned int type, uint64_t n,
		uint64_t from_ns, uint64_t to_ns)
{
	char detail[200];
	struct gap_info gi = {
		.kind = causes[why].kind,
		.cgroup_id = cgroup_id,
		.start_unix_ns = from_ns ? wallclock__unix_ns(d->clock, from_ns) : 0,
		.end_unix_ns = to_ns ? wallclock__unix_ns(d->clock, to_ns) : 0,
		.count = n,
		.event_type = evtypes__name(type),
		.reason = causes[why].reason,
		.detail = detail,
	};

	snprintf(detail, sizeof(detail), "%" PRIu64 " %s events lost: %s%s", n, gi.event_type,
		 causes[why].what, cgroup_id ? "" : " (workload unknown)");
	gaps__emit(d->gaps, &gi);
	d->new_in_walk += n;
	d->by_type[type < FL_EV_MAX ? type : 0] += n;
	d->by_why[why] += n;
}

static void on_entry(void *ctx, uint64_t cgroup_id, const struct fl_cgroup_drops *k)
{
	struct drops *d = ctx;
	struct cg_state *s = state_of(d, cgroup_id);

	for (unsigned int w = 0; w < FL_DROP_WHY; w++)
		for (unsigned int t = 0; t < FL_EV_MAX; t++)
			d->kernel_sum[w][t] += k->count[w][t];
	if (!s)
		return; /* out of memory: these counts come out as "workload unknown" */
	s->seen = 1;
	for (unsigned int w = 0; w < FL_DROP_WHY; w++) {
		for (unsigned int t = 0; t < FL_EV_MAX; t++) {
			if (k->count[w][t] <= s->count[w][t])
				continue;
			/* Window: since the last drop we reported for it, to its latest drop. */
			gap(d, w, cgroup_id, t, k->count[w][t] - s->count[w][t],
			    s->last_ns ? s->last_ns : k->first_ns, k->last_ns);
			s->count[w][t] = k->count[w][t];
		}
	}
	s->last_ns = k->last_ns;
}

uint64_t drops__report(struct drops *d)
{
	struct fl_drop_counter global[FL_DROP_WHY][FL_EV_MAX];
	uint64_t events = loader__drop_events(d->loader);
	int changed = 0;

	/* The common case, every flush: no drop since the last walk, no syscall. Read
	 * before the maps, so a drop counted meanwhile moves it again for the next flush. */
	if (events == d->events_seen)
		return 0;
	if (loader__read_drops(d->loader, global))
		return 0;
	d->events_seen = events;
	for (unsigned int w = 0; w < FL_DROP_WHY; w++)
		for (unsigned int t = 0; t < FL_EV_MAX; t++)
			changed |= global[w][t].count != d->global_reported[w][t];
	if (!changed)
		return 0; /* no new drop since the walk: one map read per type, nothing else */

	d->new_in_walk = 0;
	memset(d->kernel_sum, 0, sizeof(d->kernel_sum));
	kvtable__remove_if(d->tab, unmark, NULL);
	loader__for_each_cgroup_drops(d->loader, on_entry, d);
	kvtable__remove_if(d->tab, forget_unseen, d);
	/* What the kernel counted but no workload entry accounts for. */
	for (unsigned int w = 0; w < FL_DROP_WHY; w++) {
		for (unsigned int t = 0; t < FL_EV_MAX; t++) {
			uint64_t attributed = d->kernel_sum[w][t] + d->vanished[w][t] + d->unknown_reported[w][t];
			const struct fl_drop_counter *g = &global[w][t];

			if (g->count > attributed) {
				uint64_t n = g->count - attributed;

				gap(d, w, 0, t, n, g->first_ns, g->last_ns);
				d->unknown_reported[w][t] += n;
			}
			d->global_reported[w][t] = g->count;
		}
	}
	d->total += d->new_in_walk;
	return d->new_in_walk;
}

static int save_cgroup(void *ctx, const void *key, void *value)
{
	FILE *f = ctx;
	const struct cg_state *c = value;
	uint64_t id;

	memcpy(&id, key, sizeof(id));
	fprintf(f, "drops.cgroup %" PRIu64 " %" PRIu64, id, c->last_ns);
	for (unsigned int w = 0; w < FL_DROP_WHY; w++)
		for (unsigned int t = 0; t < FL_EV_MAX; t++)
			fprintf(f, " %" PRIu64, c->count[w][t]);
	fputc('\n', f);
	return 0;
}

int drops__save(const struct drops *d, FILE *f)
{
	for (unsigned int w = 0; w < FL_DROP_WHY; w++)
		for (unsigned int t = 0; t < FL_EV_MAX; t++)
			if (d->global_reported[w][t] || d->vanished[w][t] || d->unknown_reported[w][t])
				fprintf(f, "drops.type %u %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", w, t,
					d->global_reported[w][t], d->vanished[w][t],
					d->unknown_reported[w][t]);
	kvtable__remove_if(d->tab, save_cgroup, f); /* removes none: a walk over the entries */
	return ferror(f) ? -EIO : 0;
}

/* Up to max unsigned decimal numbers separated by single spaces, the whole of s. */
static int parse_u64s(const char *s, uint64_t *out, int max)
{
	int n = 0;

	while (*s && n < max) {
		char *end;

		if (*s < '0' || *s > '9')
			return -EBADMSG;
		errno = 0;
		out[n++] = strtoull(s, &end, 10);
		if (errno || (*end && *end != ' '))
			return -EBADMSG;
		s = *end ? end + 1 : end;
	}
	return *s ? -EBADMSG : n;
}

int drops__restore(struct drops *d, const char *line)
{
	uint64_t v[2 + FL_DROP_WHY * FL_EV_MAX];
	int n;

	/* By cause and type: "drops.type WHY TYPE reported vanished unknown". */
	if (!strncmp(line, "drops.type ", 11)) {
		if (parse_u64s(line + 11, v, 5) != 5 || v[0] >= FL_DROP_WHY || v[1] >= FL_EV_MAX)
			return -EBADMSG;
		d->global_reported[v[0]][v[1]] = v[2];
		d->vanished[v[0]][v[1]] = v[3];
		d->unknown_reported[v[0]][v[1]] = v[4];
		return 0;
	}
	if (!strncmp(line, "drops.cgroup ", 13)) {
		struct cg_state *c;

		n = parse_u64s(line + 13, v, 2 + FL_DROP_WHY * FL_EV_MAX);
		if (n != 2 + FL_DROP_WHY * FL_EV_MAX || !v[0])
			return -EBADMSG;
		c = state_of(d, v[0]);
		if (!c)
			return -ENOMEM;
		c->last_ns = v[1];
		_Static_assert(sizeof(c->count) == FL_DROP_WHY * FL_EV_MAX * sizeof(uint64_t), "drops.cgroup");
		memcpy(c->count, v + 2, sizeof(c->count));
		return 0;
	}
	return -EBADMSG;
}
