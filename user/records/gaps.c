/* Gap records and their aggregation; see gaps.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/gaps.h"
#include "base/array.h"
#include "records/wlkey.h"

_Static_assert(FIRSTLIGHT__V1__GAP__KIND__UNRECORDED_SOCKETS == GAPS_KINDS - 1, "GAPS_KINDS: the largest Gap.Kind + 1");

/* One pending aggregate: a kind in a workload, since the last flush. */
struct pending {
	int kind;
	uint64_t cgroup_id;
	char key[WLKEY_MAX];
	uint64_t count;
	uint64_t first_ns, last_ns;
};

struct gaps {
	struct recorder *rec;
	gaps_noted_fn *noted;
	void *noted_ctx;
	struct pending *pend;
	size_t n_pend, cap_pend;
	uint64_t by_kind[GAPS_KINDS];
};

struct gaps *gaps__new(struct recorder *rec)
{
	struct gaps *g = calloc(1, sizeof(*g));

	if (g)
		g->rec = rec;
	return g;
}

void gaps__free(struct gaps *g)
{
	if (!g)
		return;
	free(g->pend);
	free(g);
}

void gaps__set_observer(struct gaps *g, gaps_noted_fn *noted, void *ctx)
{
	g->noted = noted;
	g->noted_ctx = ctx;
}

const uint64_t *gaps__by_kind(const struct gaps *g)
{
	return g->by_kind;
}

int gaps__emit(struct gaps *g, const struct gap_info *gi)
{
	Firstlight__V1__Gap gap = FIRSTLIGHT__V1__GAP__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char key[WLKEY_MAX];
	int err;

	gap.kind = gi->kind;
	gap.cgroup_id = gi->cgroup_id;
	if (gi->workload_key) {
		gap.workload_key = (char *)gi->workload_key;
	} else if (gi->cgroup_id) {
		wlkey__format(key, gi->cgroup_id, 0);
		gap.workload_key = key;
	}
	gap.start_time_unix_nano = gi->start_unix_ns;
	gap.end_time_unix_nano = gi->end_unix_ns;
	gap.count = gi->count;
	gap.detail = (char *)gi->detail;
	gap.event_type = (char *)gi->event_type;
	gap.reason = (char *)gi->reason;
	gap.previous_run_id = (char *)gi->previous_run_id;
	gap.first_seq = gi->first_seq;
	gap.last_seq = gi->last_seq;
	gap.run_id = (char *)gi->run_id;
	gap.node = (char *)gi->node;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
	ev.gap = &gap;
	if (gi->kind > 0 && gi->kind < GAPS_KINDS)
		g->by_kind[gi->kind]++;
	err = recorder__emit(g->rec, &ev, 0);
	if (g->noted && gi->cgroup_id)
		g->noted(g->noted_ctx, gi->cgroup_id, gi->kind, gi->count);
	return err;
}

void gaps__count(struct gaps *g, int kind, uint64_t cgroup_id, const char *workload_key,
		 uint64_t unix_ns)
{
	struct pending *p = NULL;

	/* Few distinct workloads per interval: a linear scan beats a hash here. */
	for (size_t i = 0; i < g->n_pend; i++) {
		if (g->pend[i].kind == kind && g->pend[i].cgroup_id == cgroup_id &&
		    !strcmp(g->pend[i].key, workload_key ? workload_key : "")) {
			p = &g->pend[i];
			break;
		}
	}
	if (!p) {
		if (ARRAY_GROW(g->pend, g->cap_pend, g->n_pend + 1))
			return; /* the event itself was recorded; only its summary is lost */
		p = &g->pend[g->n_pend++];
		memset(p, 0, sizeof(*p));
		p->kind = kind;
		p->cgroup_id = cgroup_id;
		snprintf(p->key, sizeof(p->key), "%s", workload_key ? workload_key : "");
		p->first_ns = unix_ns;
	}
	p->count++;
	if (unix_ns < p->first_ns)
		p->first_ns = unix_ns;
	if (unix_ns > p->last_ns)
		p->last_ns = unix_ns;
}

static const char *describe(int kind)
{
	switch (kind) {
	case FIRSTLIGHT__V1__GAP__KIND__MISSING_START:
		return "processes ended whose start was never recorded: their exec and argv are unknown";
	case FIRSTLIGHT__V1__GAP__KIND__PRE_EXISTING:
		return "processes alive before the sensor attached: their history before is unknown";
	case FIRSTLIGHT__V1__GAP__KIND__ARGV_NOT_KEPT:
		return "processes whose argv was not kept in memory past --table-memory: their exec "
		       "records have it, their children's fork records and snapshots do not";
	case FIRSTLIGHT__V1__GAP__KIND__UNTRACKED_PROCESS:
		return "execs the kernel's live-process map had no room for (--max-procs): their "
		       "events carried their pre-exec id, mapped back by the agent while it knew "
		       "the process";
	default:
		return NULL;
	}
}

void gaps__flush(struct gaps *g)
{
	for (size_t i = 0; i < g->n_pend; i++) {
		struct pending *p = &g->pend[i];
		struct gap_info gi = {
			.kind = p->kind,
			.cgroup_id = p->cgroup_id,
			.workload_key = p->key[0] ? p->key : NULL,
			.start_unix_ns = p->first_ns,
			.end_unix_ns = p->last_ns,
			.count = p->count,
			.detail = describe(p->kind),
		};

		gaps__emit(g, &gi);
	}
	g->n_pend = 0;
}
