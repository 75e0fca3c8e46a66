/* Watched-file opens to FileAccess records; see decode_file.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "base/kvtable.h"
#include "base/log.h"
#include "base/utf8.h"
#include "records/exec_id.h"
#include "records/wlkey.h"
#include "sensor/decode_file.h"

typedef Firstlight__V1__FileAccess FileAccess;

#define FILEDEC_MAX 65536 /* aggregates held between two drains */

struct file_agg {
	struct fl_file_value sum;  /* count summed, first_ns the earliest, last_ns the latest */
	char *path;                /* owned; NULL when the ring's event was lost */
	char *host_path;           /* owned; NULL when unknown (no host mount shows it) */
	uint64_t ino;
	uint64_t sandbox;          /* the opener's sandbox when the event came, 0 if none */
	uint32_t dev;
	uint32_t flags;            /* FL_FILE_* */
};

struct filedec {
	struct recorder *rec;
	struct proctable *procs;
	const struct watchpaths *watch;
	struct workloads *workloads;
	struct hostmounts *mounts; /* not owned; NULL: no host paths */
	struct kvtable *aggs; /* struct fl_file_key -> struct file_agg */
	struct filedec_stats stats;
};

struct filedec *filedec__new(struct recorder *rec, struct proctable *procs,
			     const struct watchpaths *watch, struct workloads *workloads,
			     struct hostmounts *mounts)
{
	struct filedec *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->rec = rec;
	f->procs = procs;
	f->watch = watch;
	f->workloads = workloads;
	f->mounts = mounts;
	f->aggs = kvtable__new(sizeof(struct fl_file_key), sizeof(struct file_agg), FILEDEC_MAX);
	if (!f->aggs) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

static int free_one(void *ctx, const void *key, void *value)
{
	(void)ctx;
	(void)key;
	free(((struct file_agg *)value)->path);
	free(((struct file_agg *)value)->host_path);
	return 1;
}

void filedec__free(struct filedec *f)
{
	if (!f)
		return;
	kvtable__remove_if(f->aggs, free_one, NULL);
	kvtable__free(f->aggs);
	free(f);
}

const struct filedec_stats *filedec__stats(const struct filedec *f)
{
	return &f->stats;
}

static uint64_t sandbox_of(struct filedec *f, const struct fl_exec_id *id)
{
	const struct proc *p = proctable__get(f->procs, id->tgid);

	return p && p->id.start_ns == id->start_ns ? p->sandbox : 0;
}

/* s as a proto string: itself when UTF-8, else escaped into *escaped (caller frees). */
static int text_field(const char *s, char **field, protobuf_c_boolean *was_escaped, char **escaped)
{
	size_t len = strlen(s), cap = 4 * len + 1;

	if (utf8__valid(s, len)) {
		*field = (char *)s;
		return 0;
	}
	*escaped = malloc(cap);
	if (!*escaped)
		return -ENOMEM;
	utf8__escape(s, len, *escaped, cap);
	*field = *escaped;
	*was_escaped = 1;
	return 0;
}

static int emit(struct filedec *f, const struct fl_file_key *k, const struct file_agg *a)
{
	FileAccess m = FIRSTLIGHT__V1__FILE_ACCESS__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char exec_id[EXEC_ID_STRLEN], key[WLKEY_MAX];
	char *escaped = NULL, *host_escaped = NULL;
	int idx = -1, err;

	m.exec_id = exec_id__format(exec_id, f->rec->boot_tag, &k->id);
	m.pid = a->sum.pid;
	m.cgroup_id = k->cgroup_id;
	wlkey__format(key, k->cgroup_id, a->sandbox);
	m.workload_key = key;
	m.mode = (Firstlight__V1__FileAccess__Mode)k->mode;
	m.count = a->sum.count;
	m.start_boot_nano = a->sum.first_ns;
	m.duration_nano = a->sum.last_ns > a->sum.first_ns ? a->sum.last_ns - a->sum.first_ns : 0;
	m.inode = a->ino;
	m.device = a->dev;
	m.path_unresolved = !!(a->flags & FL_FILE_UNRESOLVED);
	m.path = (char *)"";
	m.host_path = (char *)"";
	if (a->host_path && text_field(a->host_path, &m.host_path, &m.host_path_escaped, &host_escaped))
		return -ENOMEM;
	if (a->path) {
		idx = watchpaths__match(f->watch, a->path);
		if (text_field(a->path, &m.path, &m.path_escaped, &escaped)) {
			free(host_escaped);
			return -ENOMEM;
		}
	} else if (a->sum.watch < f->watch->n) {
		idx = (int)a->sum.watch; /* the kernel's word: the path's event was lost */
	}
	m.watch = (char *)(idx >= 0 ? f->watch->pattern[idx] : "");
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_FILE_ACCESS;
	ev.file_access = &m;
	err = recorder__emit(f->rec, &ev, a->sum.first_ns);
	free(escaped);
	free(host_escaped);
	if (!err) {
		f->stats.records++;
		f->stats.opens += a->sum.count;
		if (f->workloads)
			workloads__note_file_access(f->workloads, k->cgroup_id, a->sandbox, a->sum.count);
	}
	return err;
}

static void sum_into(struct fl_file_value *s, const struct fl_file_value *v, int created)
{
	if (created || (v->first_ns && v->first_ns < s->first_ns))
		s->first_ns = v->first_ns;
	if (v->last_ns >= s->last_ns) {
		s->last_ns = v->last_ns;
		if (v->pid)
			s->pid = v->pid;
	}
	if (created)
		s->watch = v->watch;
	s->count += v->count;
}

/*
 * The host path of ev's file (hostmounts.h), at its arrival: the mounts may be gone by
 * the window's end. NULL when unknown: no table, no fs path, no host mount shows it.
 */
static char *host_path_of(struct filedec *f, const struct fl_file_event *ev)
{
	char out[FL_PATH_MAX];
	int err;

	if (!f->mounts || !ev->fs_path_len)
		return NULL;
	err = hostmounts__lookup(f->mounts, ev->mnt_id, ev->dev, ev->path + ev->path_len, out,
				 sizeof(out));
	if (err) {
		f->stats.no_host_path++;
		return NULL;
	}
	return strdup(out);
}

/* A contribution: from the ring (path set) or drained from the map (path NULL). */
static int add(struct filedec *f, const struct fl_file_key *k, const struct fl_file_value *v,
	       const struct fl_file_event *ev)
{
	int created = 0;
	struct file_agg *a = kvtable__put(f->aggs, k, &created);

	if (!a) {
		/* No room to aggregate: record this contribution alone rather than lose it. */
		struct file_agg alone = { .sum = *v };

		int err;

		f->stats.alone++;
		if (ev) {
			alone.path = (char *)ev->path;
			alone.host_path = host_path_of(f, ev);
			alone.ino = ev->ino;
			alone.dev = ev->dev;
			alone.flags = ev->flags;
		}
		alone.sandbox = sandbox_of(f, &k->id);
		err = emit(f, k, &alone);
		free(alone.host_path);
		return err;
	}
	if (created)
		a->sandbox = sandbox_of(f, &k->id);
	sum_into(&a->sum, v, created);
	if (ev && !a->path) {
		a->path = strndup(ev->path, ev->path_len);
		if (!a->path)
			return -ENOMEM;
		a->host_path = host_path_of(f, ev);
		a->ino = ev->ino;
		a->dev = ev->dev;
		a->flags = ev->flags;
	}
	return 0;
}

int filedec__handle(struct filedec *f, const void *data, size_t size)
{
	const struct fl_file_event *ev = data;
	struct fl_file_key k;

	if (size < offsetof(struct fl_file_event, path) || ev->path_len < 2 ||
	    ev->path_len > FL_PATH_MAX || size < offsetof(struct fl_file_event, path) + ev->path_len ||
	    ev->path[ev->path_len - 1] || ev->key.mode > FL_FILE_PATH)
		return -EINVAL;
	/* The fs path after it: absent, or NUL-terminated within the event. */
	if (ev->fs_path_len &&
	    (ev->fs_path_len < 2 || ev->fs_path_len > FL_PATH_MAX ||
	     size < offsetof(struct fl_file_event, path) + ev->path_len + ev->fs_path_len ||
	     ev->path[ev->path_len + ev->fs_path_len - 1]))
		return -EINVAL;
	if (watchpaths__match(f->watch, ev->path) < 0) {
		f->stats.unmatched++; /* the kernel's hash said yes, the string says no */
		return 0;
	}
	k = ev->key;
	return add(f, &k, &ev->value, ev);
}

struct flush_ctx {
	struct filedec *f;
	uint32_t gen; /* 2: both */
	int err;
};

static int flush_one(void *ctx, const void *key, void *value)
{
	struct flush_ctx *c = ctx;
	const struct fl_file_key *k = key;
	struct file_agg *a = value;
	int err;

	if (c->gen < 2 && k->gen != c->gen)
		return 0;
	err = a->sum.count ? emit(c->f, k, a) : 0;
	if (err && !c->err)
		c->err = err;
	free(a->path);
	free(a->host_path);
	return 1;
}

/* Keys first, then one lookup-and-delete each (as sensor/udpdrain does, and why). */
static int drain_gen(struct filedec *f, int fd, uint32_t gen)
{
	size_t n = 0, cap = 8192;
	struct fl_file_key *keys = malloc(cap * sizeof(*keys)), cur, next;
	struct fl_file_value v;
	int err, first_err = 0;

	if (!keys)
		return -ENOMEM;
	err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err && n < cap) {
		if (next.gen == gen)
			keys[n++] = next;
		cur = next;
		err = bpf_map_get_next_key(fd, &cur, &next);
	}
	for (size_t i = 0; i < n; i++) {
		struct fl_file_key k = keys[i];

		if (bpf_map_lookup_and_delete_elem(fd, &keys[i], &v))
			continue; /* cannot happen: only we delete */
		/* The key as the ring's event had it: its image id, mapped back if untracked. */
		err = v.count ? add(f, &k, &v, NULL) : 0;
		if (err && !first_err)
			first_err = err;
	}
	free(keys);
	return first_err;
}

int filedec__window(struct filedec *f, int map_fd, uint32_t *gen, int all)
{
	uint32_t cur = __atomic_load_n(gen, __ATOMIC_RELAXED) & 1;
	struct flush_ctx c = { .f = f, .gen = all ? 2 : cur ^ 1 };
	int err = drain_gen(f, map_fd, cur ^ 1);

	if (all) {
		int err2 = drain_gen(f, map_fd, cur);

		err = err ? err : err2;
	}
	kvtable__remove_if(f->aggs, flush_one, &c);
	if (!all)
		__atomic_store_n(gen, cur ^ 1, __ATOMIC_RELEASE);
	return err ? err : c.err;
}
