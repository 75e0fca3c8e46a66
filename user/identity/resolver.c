/* One worker thread and two bounded queues; see resolver.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "identity/resolver.h"

#define RESOLVER_QUEUE 1024 /* requests in flight; beyond that a workload stays unresolved */

struct resolver {
	pthread_t thread;
	int started;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	struct resolve_req *reqs; /* ring of RESOLVER_QUEUE */
	unsigned int req_head, req_count;
	struct resolve_res *res;  /* ring of RESOLVER_QUEUE */
	unsigned int res_head, res_count;
	int signalled; /* efd written since take last reset it: under lock */
	unsigned int pending;     /* submitted, not yet taken */
};

static const struct resolve_root default_roots[] = {
	{ "runc", NULL }, { "crun", NULL }, { NULL, NULL },
};

static void resolve(const struct resolve_req *req, struct resolve_res *res)
{
	struct oci_state st;

	memset(res, 0, sizeof(*res));
	res->key = req->key;
	if (req->bundle[0]) {
		memcpy(res->bundle, req->bundle, sizeof(res->bundle));
		res->source = "oci-bundle";
	} else {
		const struct resolve_root *roots = req->roots ? req->roots : default_roots;
		struct resolve_root one = { req->runtime, req->state_root[0] ? req->state_root : NULL };

		res->source = "runtime-state";
		res->err = -ENOENT;
		if (!req->roots && req->runtime)
			roots = &one; /* one runtime named: only its state */
		for (size_t i = 0; res->err && roots[i].runtime; i++) {
			const char *dir = roots[i].dir;

			if (!req->roots && !req->runtime && req->state_root[0])
				dir = req->state_root;
			res->runtime = roots[i].runtime;
			res->err = oci__read_state(res->runtime, dir, req->id, &st);
			if (roots == &one)
				break;
		}
		if (res->err)
			return;
		memcpy(res->bundle, st.bundle, sizeof(res->bundle));
		if (req->verify) {
			res->tie = oci__state_ties(&st, req->key, req->cgroup_path, res->why,
						   sizeof(res->why));
			if (res->tie != 1)
				return; /* not that container's cgroup: its identity is not read */
		}
	}
	res->err = oci__read_bundle(res->bundle, req->owner_uid, &res->id);
}

static void *worker(void *arg)
{
	struct resolver *r = arg;
	struct resolve_req req;
	struct resolve_res res;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->stop && (!r->req_count || r->res_count == RESOLVER_QUEUE))
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop)
			break;
		req = r->reqs[r->req_head];
		r->req_head = (r->req_head + 1) % RESOLVER_QUEUE;
		r->req_count--;
		pthread_mutex_unlock(&r->lock);

		resolve(&req, &res);

		pthread_mutex_lock(&r->lock);
		r->res[(r->res_head + r->res_count) % RESOLVER_QUEUE] = res;
		r->res_count++;
		{
			uint64_t one = 1;

			if (write(r->efd, &one, sizeof(one)) < 0) {
				/* eventfd counter overflow cannot happen below 2^64 - 1 writes */
			}
			r->signalled = 1;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct resolver *resolver__new(void)
{
	struct resolver *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->efd = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->reqs = calloc(RESOLVER_QUEUE, sizeof(*r->reqs));
	r->res = calloc(RESOLVER_QUEUE, sizeof(*r->res));
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!r->reqs || !r->res || r->efd < 0) {
		err = r->efd < 0 ? errno : ENOMEM;
		goto fail;
	}
	err = pthread_create(&r->thread, NULL, worker, r);
	if (err)
		goto fail;
	pthread_setname_np(r->thread, "fl-resolve"); /* the identity role of the CPU metric (agent/cpuuse) */
	r->started = 1;
	return r;
fail:
	resolver__free(r);
	errno = err;
	return NULL;
}

void resolver__free(struct resolver *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stop = 1;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	if (r->efd >= 0)
		close(r->efd);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r->reqs);
	free(r->res);
	free(r);
}

int resolver__submit(struct resolver *r, const struct resolve_req *req)
{
	int err = 0;

	pthread_mutex_lock(&r->lock);
	if (r->req_count == RESOLVER_QUEUE || r->pending >= RESOLVER_QUEUE) {
		err = -EAGAIN;
	} else {
		r->reqs[(r->req_head + r->req_count) % RESOLVER_QUEUE] = *req;
		r->req_count++;
		r->pending++;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

int resolver__fd(const struct resolver *r)
{
	return r->efd;
}

int resolver__take(struct resolver *r, struct resolve_res *out)
{
	uint64_t n;
	int got = 0;

	pthread_mutex_lock(&r->lock);
	if (r->res_count) {
		*out = r->res[r->res_head];
		r->res_head = (r->res_head + 1) % RESOLVER_QUEUE;
		r->res_count--;
		r->pending--;
		got = 1;
		pthread_cond_signal(&r->cond); /* room for the worker again */
	} else if (r->signalled) {
		/* Drained: reset the eventfd so epoll reports only new results. Only when it
		 * was written: the agent polls on every tick, and a read that finds nothing
		 * is a system call per tick for nothing. */
		if (read(r->efd, &n, sizeof(n)) < 0) {
			/* EAGAIN: already reset */
		}
		r->signalled = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return got;
}

unsigned int resolver__pending(struct resolver *r)
{
	unsigned int n;

	pthread_mutex_lock(&r->lock);
	n = r->pending;
	pthread_mutex_unlock(&r->lock);
	return n;
}
