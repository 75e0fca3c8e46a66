/*
 * A node's local store against the collector's copy of it (`verify --against`): every
 * batch the collector holds must still be in the local store. What is gone is named by
 * run and sequence range, and told apart from what retention removed and recorded (a
 * SegmentRemoved record covers it). This is what no check of the local store alone can
 * see: a root attacker who deletes the newest run with its state files leaves a store
 * that verifies, but not one that matches what was shipped off the node.
 * Errors: -errno, with a one-line reason in the result.
 */
#ifndef FL_AGAINST_H
#define FL_AGAINST_H

#include <stddef.h>
#include <stdint.h>

struct against_gone {
	char run_id[48];
	uint64_t first_seq, last_seq; /* 0: the batches held no records (headers only) */
	uint64_t batches, records;
	uint64_t first_ns, last_ns;   /* the records' times */
	int by_retention;             /* a SegmentRemoved record of the local store covers it */
};

struct against_result {
	char node[256];
	char folder[4096];            /* the node's folder in the collected store */
	uint64_t collected, local;    /* batches on each side */
	uint64_t unshipped;           /* local batches the collector does not hold (yet) */
	struct against_gone *gone;    /* in chain order, one per run and stretch */
	size_t n_gone;
	int deleted;                  /* some of it is gone without a retention record */
	char error[512];
};

/* Compares; 0 with *r filled (free it with against__free), or -errno (r->error says why). */
int against__compare(const char *collected, const char *local, struct against_result *r);
void against__free(struct against_result *r);

#endif
