/*
 * Network events (bpf/network.bpf.c) to Flow records. TCP events become records as they
 * come. UDP contributions are summed per (generation, process, peer) (flowagg.h) until
 * the agent drains that generation from the kernel map and flushes it. A unix connect
 * waits up to one window for its peer, reported by the kernel at the socket's first send.
 *
 * What the agent knows of the owner (whether its start was recorded, the sandbox it is in,
 * for its workload key) is taken while the owner is alive: at connect or accept for a TCP
 * connection (remembered by socket cookie until its close, which usually comes after the
 * process exited), at the first datagram for a UDP aggregate, at the connect for unix.
 * Errors: 0 or -errno; -EINVAL for a malformed event.
 */
#ifndef FL_DECODE_NET_H
#define FL_DECODE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.h"
#include "records/gaps.h"
#include "records/record.h"
#include "sensor/proctable.h"

struct netdec_stats {
	uint64_t flows;                /* Flow records written */
	uint64_t flows_without_start;  /* of which the owner's start was not recorded */
	uint64_t flows_unattributed;   /* of which the socket predates the sensor */
	uint64_t udp_alone;            /* UDP contributions recorded alone (aggregation full) */
	uint64_t conns_untracked;      /* connections not remembered (table full) */
	uint64_t conns_forgotten;      /* remembered ones dropped as stale (their close lost) */
	uint64_t unix_without_peer;    /* unix connects recorded with no peer */
	uint64_t unix_late_peers;      /* peers that came after their connect was recorded */
};

struct netdec_opts {
	uint64_t hold_ns;       /* how long a unix connect waits for its peer */
	size_t max_udp;         /* UDP aggregates held */
	size_t max_conns;       /* open TCP connections remembered */
	size_t max_unix;        /* unix connects waiting */
};

struct netdec;

/* Records go to rec; owners are looked up in procs (neither owned). NULL with errno
 * set. Defaults for zero fields of opts (opts may be NULL). */
struct netdec *netdec__new(struct recorder *rec, struct proctable *procs, const struct netdec_opts *opts);
/* Records the gaps flows reveal (owners whose start was not seen). */
void netdec__set_gaps(struct netdec *n, struct gaps *g);
void netdec__free(struct netdec *n); /* NULL-safe */
const struct netdec_stats *netdec__stats(const struct netdec *n);
void netdec__set_hold(struct netdec *n, uint64_t hold_ns);

/* Decodes one network event (FL_EV_TCP .. FL_EV_UNIX_PEER). -EINVAL when malformed. */
int netdec__handle(struct netdec *n, const void *data, size_t size);

/* A UDP aggregate read (and deleted) from the kernel map. */
int netdec__udp_drained(struct netdec *n, const struct fl_udp_key *key,
			    const struct fl_udp_value *value);
/* Records every UDP aggregate of generation gen (0, 1, or FLOWAGG_ALL_GENS). */
int netdec__udp_flush(struct netdec *n, uint32_t gen);
/* Records the unix connects whose peer did not come by now_boot_ns. */
int netdec__tick(struct netdec *n, uint64_t now_boot_ns);
/* At stop: records everything held. */
int netdec__flush(struct netdec *n);
/*
 * total: the kernel's count of network program runs it skipped (loader_net__skipped),
 * since load. Writes a RING_BUFFER_DROP gap (reason "program-reentered") for the runs
 * not reported yet, over the time since the previous report.
 */
int netdec__skipped(struct netdec *n, uint64_t total);
/* The kernel's skipped runs already in gap records: for a handover, whose next agent reads
 * the same programs' counts, and takes this back with netdec__set_skipped_reported. */
uint64_t netdec__skipped_reported(const struct netdec *n);
void netdec__set_skipped_reported(struct netdec *n, uint64_t reported);

#endif
