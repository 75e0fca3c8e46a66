/*
 * fl-bare-ring: loads and attaches the bench's reference programs (bpf/bench/bare_ring.bpf.c)
 * on the sensor's fork, exec and exit tracepoints, and drains their ring buffer every
 * DRAIN_MS (default 50, the agent's default drain), never woken per event.
 *
 *   fl-bare-ring READY [DRAIN_MS]
 *       Creates the file READY once attached, runs until SIGTERM/SIGINT or until its parent
 *       dies, then prints "records N drops M" (records drained, reservations that failed)
 *       on stdout. scripts/bench.sh reads the programs' bpf_stats by id from its fds.
 *
 * Exit status 0, or 1 with a message naming the problem.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "bare_ring.skel.h"

/* The number of arguments of a BTF tracepoint (its btf_trace_<name> typedef), -1 if
 * absent: as the agent's kcaps decides between its exit variants. */
static int tracepoint_args(const struct btf *btf, const char *typedef_name)
{
	int id = btf__find_by_name_kind(btf, typedef_name, BTF_KIND_TYPEDEF);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

	t = t ? btf__type_by_id(btf, t->type) : NULL; /* pointer */
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* func proto */
	return t && btf_is_func_proto(t) ? (int)btf_vlen(t) - 1 : -1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(uint64_t *)ctx)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct bare_ring_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct btf *kbtf;
	uint64_t records = 0;
	long drain_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	struct timespec tick;
	sigset_t set;
	int err, group_dead, fd, rc = 1;

	if (argc < 2 || argc > 3 || drain_ms < 1 || drain_ms > 10000) {
		fprintf(stderr, "usage: fl-bare-ring READY [DRAIN_MS]\n");
		return 2;
	}
	tick.tv_sec = drain_ms / 1000;
	tick.tv_nsec = drain_ms % 1000 * 1000000L;
	/* Stop signals taken synchronously; SIGTERM when the parent dies. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 0;

	kbtf = btf__load_vmlinux_btf();
	if (!kbtf) {
		fprintf(stderr, "fl-bare-ring: the kernel's BTF: %s\n", strerror(errno));
		return 1;
	}
	group_dead = tracepoint_args(kbtf, "btf_trace_sched_process_exit") >= 2;
	btf__free(kbtf);

	skel = bare_ring_bpf__open();
	if (!skel) {
		fprintf(stderr, "fl-bare-ring: open: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.bare_exit, group_dead);
	bpf_program__set_autoload(skel->progs.bare_exit_legacy, !group_dead);
	err = bare_ring_bpf__load(skel);
	if (!err)
		err = bare_ring_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "fl-bare-ring: load and attach: %s\n", strerror(-err));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.bare_events), on_record, &records, NULL);
	if (!rb) {
		fprintf(stderr, "fl-bare-ring: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "fl-bare-ring: %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	close(fd);
	/* Drain on the timer until a stop signal. */
	for (;;) {
		if (ring_buffer__consume(rb) < 0) {
			fprintf(stderr, "fl-bare-ring: consume failed\n");
			goto out;
		}
		if (sigtimedwait(&set, NULL, &tick) >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "fl-bare-ring: sigtimedwait: %s\n", strerror(errno));
			goto out;
		}
	}
	ring_buffer__consume(rb);
	printf("records %llu drops %llu\n", (unsigned long long)records,
	       (unsigned long long)skel->bss->bare_drops);
	rc = 0;
out:
	ring_buffer__free(rb);
	bare_ring_bpf__destroy(skel);
	return rc;
}
