/*
 * UDP aggregation in the agent: contributions to one (generation, process, peer) key
 * (struct fl_udp_key) are summed until that generation is flushed. Contributions come
 * from the ring (the first datagram of a key in a generation, or one the kernel map had
 * no room for), decoded while the sending process is still in the process table, and
 * from the kernel map when the agent drains a generation. The ring's contribution carries
 * what the agent knew of the process then; the drained rest may come after it exited.
 * Errors: constructors return NULL with errno set; int functions 0 or -errno.
 */
#ifndef FL_FLOWAGG_H
#define FL_FLOWAGG_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.h"

/* flowagg_proc.flags */
#define FLOWAGG_PROC_KNOWN (1u << 0) /* determined: the other fields mean something */
#define FLOWAGG_START_SEEN (1u << 1)
#define FLOWAGG_PRE_EXISTING (1u << 2)

/* What the agent knew of the sending process when it met the key (opaque here). */
struct flowagg_proc {
	uint32_t flags;   /* FLOWAGG_* */
	uint32_t pad;
	uint64_t sandbox; /* its sandbox workload (workload.h), 0 if none */
};

#define FLOWAGG_ALL_GENS UINT32_MAX

struct flowagg_entry {
	struct fl_udp_value sum; /* counts summed; first_ns the earliest, last_ns the latest */
	struct flowagg_proc proc; /* flags 0: nobody knew */
	uint32_t contributions;
	uint32_t pad;
};

struct flowagg;

struct flowagg *flowagg__new(size_t max_entries);
void flowagg__free(struct flowagg *a); /* NULL-safe */

/*
 * Adds v to the aggregate of key (created if new). proc (NULL: nothing known), when it has
 * FLOWAGG_PROC_KNOWN, is kept if the aggregate has none yet. -ENOSPC when the table is
 * full (the caller records the contribution alone), -ENOMEM.
 */
int flowagg__add(struct flowagg *a, const struct fl_udp_key *key, const struct fl_udp_value *v,
		 const struct flowagg_proc *proc);

typedef void (*flowagg_emit_fn)(void *ctx, const struct fl_udp_key *key,
				const struct flowagg_entry *e);

/* Emits and forgets every aggregate of generation gen (0 or 1, or FLOWAGG_ALL_GENS). */
size_t flowagg__flush(struct flowagg *a, uint32_t gen, flowagg_emit_fn emit, void *ctx);
size_t flowagg__count(const struct flowagg *a);

/* The key in canonical form: padding zeroed, unused address bytes zeroed, gen 0 or 1. */
void flowagg__canon_key(struct fl_udp_key *out, const struct fl_udp_key *in);

#endif
