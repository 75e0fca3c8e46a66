/*
 * What a process is, for `firstlight tree` (jobtree.h): image records (fork, exec, a
 * seed of a pre-existing process, a snapshot's restatement) and exits, linked into
 * processes. An exec follows the image it replaced (same pid); a seed of a later agent
 * run continues the same process (same boot, pid and start) when that has no exit; an
 * exit whose image was never recorded joins the recorded process of the same pid, boot
 * and start (its exec was lost) or becomes a process of its own; a process's parent is
 * the process of the image its first image names. Loops that only bad records make are
 * cut. Pass 1 of the tree builds one graph of the whole input without argv, pass 2 one of
 * the job in full: the same code links both, so both agree on what a process is.
 * Errors: int functions return 0 or -ENOMEM; jobgraph__fini is safe on a zeroed graph.
 * Every pointer is valid until jobgraph__fini.
 */
#ifndef FL_JOBGRAPH_H
#define FL_JOBGRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.pb-c.h"
#include "readers/jobtypes.h"
#include "base/ptrvec.h"

struct jobgraph {
	struct arena *a;         /* its images, exits, processes, strings */
	int detail;              /* keep binary, cwd, argv */
	struct strmap *strs;     /* interned strings: exec ids repeat as parents */
	struct strmap *img;      /* exec id -> jt_image */
	struct ptrvec images;
	struct strmap *exit;     /* exec id -> jt_exit */
	struct ptrvec exits;
	struct ptrvec procs;     /* after jobgraph__link */
	struct ptrvec by_pid;    /* procs sorted by (pid, start): jobgraph__index_by_pid */
	uint64_t order;          /* records added, for stable ties */
};

int jobgraph__init(struct jobgraph *g, int detail);
void jobgraph__fini(struct jobgraph *g);

/* An image record (skipped without an exec id); a restatement never replaces a real
 * record of the same image. kind from the record (jt_image_kind); record: the record as
 * JSON to keep with the image (jt_image.record; NULL: none; must outlive the graph). */
int jobgraph__add_image(struct jobgraph *g, const Firstlight__V1__Event *ev,
			const Firstlight__V1__Process *p, enum jt_image_kind kind, const char *replaced,
			const char *record);
/* An exit record (skipped without an exec id, or read twice); record as above. */
int jobgraph__add_exit(struct jobgraph *g, const Firstlight__V1__Event *ev, const char *record);

/* Chains of images into processes, exits to them; exits that fit none go to *rest. Once. */
int jobgraph__link(struct jobgraph *g, struct ptrvec *rest);
/* A process known only by an exec id (an exit, a flow); NULL on ENOMEM. */
struct jt_proc *jobgraph__placeholder(struct jobgraph *g, const char *exec_id, uint32_t pid);
/* Such a process for an exit of *rest, flagged by what the exit says of its start. */
int jobgraph__placeholder_for_exit(struct jobgraph *g, struct jt_exit *x);
/* Parents by lineage, loops cut (JT_PROC_LINEAGE_LOOP). After every process is made. */
int jobgraph__link_parents(struct jobgraph *g);
/* A process's pid, start, end, state (exited, killed, running), user and flags. */
void jobgraph__proc_fields(struct jt_proc *p);
/* by_pid: the processes sorted by (pid, start); first_of_pid: the first of pid in it,
 * or by_pid.n. */
int jobgraph__index_by_pid(struct jobgraph *g);
size_t jobgraph__first_of_pid(const struct jobgraph *g, uint32_t pid);

/* qsort order of processes (struct jt_proc * elements): start, pid, input order. */
int jobgraph__cmp_proc_time(const void *a, const void *b);
/* Exec ids "<boot tag>:<start ns>:<pid>" (README) of the same boot. */
int jobgraph__same_boot(const char *a, const char *b);
/* A CLOCK_BOOTTIME instant as unix ns, by the clock offset of the record carrying it;
 * 0 when unknown or out of range. */
uint64_t jobgraph__wall_of(const Firstlight__V1__Event *ev, uint64_t boot);

#endif
