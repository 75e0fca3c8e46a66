/*
 * The agent's table of live processes, keyed by tgid: the image each one runs, so that a
 * fork record can name what the child inherited and an exit record how long it lived.
 * Entries leave at exit; proctable__sweep removes those whose exit was never seen.
 * Errors: int functions return 0 or -errno; constructors return NULL with errno set.
 */
#ifndef FL_PROCTABLE_H
#define FL_PROCTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.h"

/* proc_image.flags: mirror the ProcessFlags / truncation fields of the record. */
#define IMG_ARGS_TRUNCATED (1u << 0)
#define IMG_ARGS_ESCAPED (1u << 1)
#define IMG_BINARY_ESCAPED (1u << 2)
#define IMG_CWD_ESCAPED (1u << 3)
#define IMG_BINARY_UNRESOLVED (1u << 4)
#define IMG_CWD_UNRESOLVED (1u << 5)
#define IMG_FROM_PROCFS (1u << 6)
#define IMG_ARGS_NOT_KEPT (1u << 7) /* argv dropped past the memory budget (decode.h) */
#define IMG_BINARY_MEMFD (1u << 8)    /* executed from a memfd */
#define IMG_BINARY_UNLINKED (1u << 9) /* its file had no link left at the exec */

/*
 * What a process runs: binary, argv, cwd, already UTF-8 (escaped where flagged). Shared,
 * reference-counted, between a process and the children it forked until they exec.
 * One allocation holds the struct, the strings and the args array.
 */
struct proc_image {
	uint32_t refs;
	uint32_t flags;      /* IMG_* */
	uint32_t n_args;     /* entries in args[] */
	uint32_t args_count; /* argc before truncation */
	uint32_t args_size;  /* argv bytes before truncation */
	uint32_t bytes;      /* the allocation's size */
	uint32_t binary_mnt_id; /* the executed file, as the kernel held it; 0: unknown */
	uint32_t n_args_tail; /* the last n_args_tail of args[] are argv's tail (cut between) */
	uint32_t args_cut;    /* argv bytes cut between head and tail */
	uint64_t *account;   /* counts bytes while the image lives (decode.h's budget), or NULL */
	uint64_t binary_ino;
	uint64_t binary_dev;    /* as stat(2)'s st_dev */
	char *binary;
	char *cwd;
	char **args;
};

/* proc.flags */
#define PROC_PRE_EXISTING (1u << 0) /* alive before the sensor attached */
#define PROC_START_SEEN (1u << 1)   /* its fork or exec was recorded */
#define PROC_ADOPTED (1u << 2)      /* known from the run before a handover, whose records
				       hold its start; this run recorded nothing of it yet */
#define PROC_UNTRACKED (1u << 3)    /* the kernel's live map was full at its exec: its events
				     * carry its pre-exec id (see proctable__resolve) */

struct proc {
	uint32_t tgid; /* 0: free slot */
	uint32_t flags;
	struct fl_exec_id id;
	struct fl_exec_id parent;
	uint64_t start_ns;
	uint64_t cgroup_id;
	uint64_t last_seen_mono_ns; /* for the sweep of processes whose exit we missed */
	uint64_t sandbox;           /* the sandbox workload it is in (workload.c), 0 if none */
	uint32_t euid;
	uint32_t mnt_ns;            /* to tell a runtime on the host from one in a container */
	struct proc_image *image;   /* owned reference, may be NULL */
	/* As last recorded, so a segment's snapshot can restate who runs it (snapshot.c). */
	uint32_t ppid, ns_pid;
	struct fl_creds creds;
};

/* Builds an image; copies every string. NULL with errno = ENOMEM on failure. */
struct proc_image *proc_image__new(const char *binary, const char *cwd, char *const *args,
				   uint32_t n_args, uint32_t flags);
struct proc_image *proc_image__get(struct proc_image *img); /* NULL-safe, returns img */
void proc_image__put(struct proc_image *img);              /* NULL-safe */

struct proctable;

struct proctable *proctable__new(size_t capacity_hint);
void proctable__free(struct proctable *pt); /* NULL-safe; drops every image reference */

/* The entry for tgid or NULL. Valid until the next proctable__upsert or __remove. */
struct proc *proctable__get(struct proctable *pt, uint32_t tgid);
/* The entry for tgid, created zeroed (tgid set) if absent. NULL with -ENOMEM in *err. */
struct proc *proctable__upsert(struct proctable *pt, uint32_t tgid, int *err);
/*
 * An id as the kernel sent it, made right: for a process the kernel could not track
 * after its exec (PROC_UNTRACKED), events carry the id derived from its start (the
 * pre-exec id); that becomes the id of its current image. Returns 1 if id was changed.
 */
int proctable__resolve(struct proctable *pt, struct fl_exec_id *id);
/* Removes tgid, dropping its image reference. */
void proctable__remove(struct proctable *pt, uint32_t tgid);
size_t proctable__count(const struct proctable *pt);
/* Calls fn for every entry; fn must not add or remove entries. */
void proctable__for_each(const struct proctable *pt,
			 void (*fn)(void *ctx, const struct proc *p), void *ctx);
/* Replaces p's image with img (takes the caller's reference). */
void proc__set_image(struct proc *p, struct proc_image *img);

/*
 * Removes entries not touched since before_mono_ns whose process no longer exists
 * (kill(pid, 0) fails with ESRCH); calls gone() for each first. Returns entries removed.
 */
size_t proctable__sweep(struct proctable *pt, uint64_t before_mono_ns,
			void (*gone)(void *ctx, const struct proc *p), void *ctx);

#endif
