/*
 * The segment store's write path alone: records as the agent makes them (an exec record:
 * ids, creds, namespaces, binary, 4 args, cwd) go through the recorder into the
 * segment sink, a batch every B records, with fdatasync after every batch or at most
 * every interval. Prints CPU (user + system, getrusage) and wall time per 1,000
 * records, the wall time of a batch's write and sync, and the chain's own cost per batch.
 *
 * usage: bench_store [-n RECORDS] [-b RECORDS_PER_BATCH] [-f FSYNC_MS] DIR
 *   DIR: where the store goes (a real disk: fdatasync is part of what is measured);
 *   -f 0 (default): fdatasync after every batch. Run by `make bench-store`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store/chain.h"
#include "store/keys.h"
#include "records/record.h"
#include "records/sink.h"
#include "store/sink_segment.h"

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void emit_exec(struct recorder *rec, uint64_t i)
{
	Firstlight__V1__ProcessExec body = FIRSTLIGHT__V1__PROCESS_EXEC__INIT;
	Firstlight__V1__Process p = FIRSTLIGHT__V1__PROCESS__INIT;
	Firstlight__V1__Namespaces ns = FIRSTLIGHT__V1__NAMESPACES__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char id[64], parent[64], arg[32];
	char *args[] = { "/usr/bin/python3", "-m", "worker", arg };

	snprintf(id, sizeof(id), "9f86d081:%llu:%llu", (unsigned long long)(1000000000ull + i * 7919),
		 (unsigned long long)(10000 + i % 30000));
	snprintf(parent, sizeof(parent), "9f86d081:%llu:%llu", 999999999ull, 9999ull);
	snprintf(arg, sizeof(arg), "--job=%llu", (unsigned long long)i);
	p.exec_id = id;
	p.parent_exec_id = parent;
	p.pid = 10000 + i % 30000;
	p.ppid = 9999;
	p.ns_pid = 1;
	p.uid = p.euid = 1000;
	p.gid = p.egid = 1000;
	p.auid = 4294967295u;
	p.session_id = 3;
	p.cap_effective = 0;
	p.binary = "/usr/bin/python3.11";
	p.args = args;
	p.n_args = 4;
	p.cwd = "/srv/app";
	p.start_boot_nano = 123456789000ull + i * 1000;
	p.cgroup_id = 4242;
	ns.pid = ns.mnt = ns.net = ns.uts = ns.ipc = ns.user = ns.cgroup = 4026531836u;
	p.namespaces = &ns;
	body.process = &p;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_EXEC;
	ev.exec = &body;
	recorder__emit(rec, &ev, 0);
}

/* The chain's own cost, per batch of a given size: SHA-256 and Ed25519. */
static void chain_cost(struct node_key *key, size_t batch_bytes)
{
	uint8_t *core = calloc(1, batch_bytes), trailer[CHAIN_TRAILER_LEN], hash[CHAIN_HASH_LEN];
	double t0, t1, t2;
	int n = 2000;

	for (size_t i = 0; i < batch_bytes; i++)
		core[i] = (uint8_t)(i * 31 + (i >> 7));
	t0 = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < n; i++)
		chain__hash(core, batch_bytes, hash);
	t1 = now_s(CLOCK_MONOTONIC);
	for (int i = 0; i < n; i++)
		chain__seal(key, core, batch_bytes, trailer, hash);
	t2 = now_s(CLOCK_MONOTONIC);
	printf("  the chain, per batch of %zu bytes: SHA-256 %.1f us, SHA-256 + Ed25519 signature "
	       "%.1f us\n", batch_bytes, (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6);
	free(core);
}

int main(int argc, char **argv)
{
	unsigned long n = 200000, per_batch = 100, fsync_ms = 0;
	struct segment_opts so = { 0 };
	struct recorder rec;
	struct node_key *key;
	struct sink *s;
	double c0, c1, w0, w1, sync_s = 0;
	uint64_t batches = 0;
	int c, err;

	while ((c = getopt(argc, argv, "n:b:f:")) != -1) {
		switch (c) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'b': per_batch = strtoul(optarg, NULL, 10); break;
		case 'f': fsync_ms = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_store [-n N] [-b PER_BATCH] [-f FSYNC_MS] DIR\n");
			return 2;
		}
	}
	if (optind != argc - 1 || !per_batch || recorder__init(&rec, NULL))
		return 2;
	key = keys__generate(&err);
	so.dir = argv[optind];
	so.run_id = rec.run_id;
	so.node = rec.node;
	so.key = key;
	so.flush_bytes = 64u << 20; /* batches are closed by the count, as by the agent's tick */
	so.fsync_interval_ns = fsync_ms * 1000000ull;
	s = sink_segment__new(&so, &err);
	if (!s) {
		fprintf(stderr, "bench_store: %s: %s\n", so.dir, strerror(-err));
		return 1;
	}
	rec.sink = s;
	c0 = cpu_s();
	w0 = now_s(CLOCK_MONOTONIC);
	for (unsigned long i = 1; i <= n; i++) {
		emit_exec(&rec, i);
		if (i % per_batch == 0) {
			double t = now_s(CLOCK_MONOTONIC);

			s->flush(s);
			sync_s += now_s(CLOCK_MONOTONIC) - t;
			batches++;
		}
	}
	s->flush(s);
	c1 = cpu_s();
	w1 = now_s(CLOCK_MONOTONIC);
	{
		struct segment_status st;

		sink_segment__status(s, &st);
		printf("%lu exec records in %llu batches of %lu, fdatasync %s: "
		       "CPU %.1f ms and wall %.1f ms per 1,000 records; a batch's write+sync "
		       "%.2f ms (wall); %.0f bytes/record on disk; lost %llu\n",
		       n, (unsigned long long)batches, per_batch,
		       fsync_ms ? "at most every interval" : "after every batch",
		       (c1 - c0) * 1e6 / (double)n, (w1 - w0) * 1e6 / (double)n,
		       sync_s * 1e3 / (double)batches, (double)st.bytes / (double)n,
		       (unsigned long long)s->lost);
	}
	sink__free(s);
	chain_cost(key, per_batch * 420);
	keys__free(key);
	recorder__fini(&rec);
	return 0;
}
