/*
 * The pin dir of a handover (`run --handover`, `firstlight unpin`): a directory on a bpffs
 * where an agent pins every map, program and link of its load, so that they outlive it and
 * the next agent can adopt them. Entries are named map_NAME, prog_NAME and link_NAME (bpffs
 * keeps names with dots for itself); the
 * last one written is "meta", a one-entry array map whose value (struct fl_pin_meta) says
 * which layout and build the pins are of and whether their agent handed over. A pin dir
 * without meta is an incomplete one: nobody adopts it.
 *
 * The dir is locked (flock) for as long as it is open, so that two agents, or an agent and
 * `unpin`, never work on one pin set. Removing a link's pin detaches its program unless
 * someone else holds the link.
 * Errors: 0 or -errno, each logged as one line naming the dir; constructors NULL with
 * errno set.
 */
#ifndef FL_PINS_H
#define FL_PINS_H

#include <stddef.h>
#include <stdint.h>

#define PINS_DEFAULT_DIR "/sys/fs/bpf/firstlight"

/* The layout of a pin dir: entry names, the meta value. Bump it with either. */
#define FL_PIN_LAYOUT 2 /* 2: the ring share and headroom in the meta */

#define FL_PIN_RUNNING 1  /* an agent runs with these programs */
#define FL_PIN_HANDOVER 2 /* its agent left them attached and writing, for the next one */

struct fl_pin_meta {
	uint32_t layout;            /* FL_PIN_LAYOUT of the agent that pinned */
	uint32_t state;             /* FL_PIN_* */
	uint8_t object_sha256[32];  /* the BPF object the programs were loaded from */
	uint32_t ring_bytes;        /* the load's configuration (run's options) */
	uint32_t args_max_bytes;
	uint32_t max_procs;
	uint32_t share_bytes;       /* --ring-share and --ring-headroom, in bytes of the ring: */
	uint32_t headroom_bytes;    /* read-only constants of the programs, kept by an adoption */
	uint32_t pad;
	uint64_t handover_boot_ns;  /* HANDOVER: CLOCK_BOOTTIME after the last drain */
	char run_id[40];            /* the run that pinned them */
};
_Static_assert(sizeof(struct fl_pin_meta) == 112, "the meta map's value is an ABI");

struct pins;

/*
 * Opens the pin dir and locks it. create: make it (0700, parents too) when absent, else
 * -ENOENT. The dir must be on a bpffs (-ENOTSUP otherwise); -EBUSY when another process
 * holds it (an agent running).
 */
struct pins *pins__open(const char *dir, int create);
/* Unlocks; the pins stay. NULL-safe. */
void pins__close(struct pins *p);
const char *pins__dir(const struct pins *p);

/* The meta of what is pinned: 0; -ENOENT when no meta is pinned; -EBADMSG when the meta
 * is not a struct fl_pin_meta (another program's map). */
int pins__read_meta(struct pins *p, struct fl_pin_meta *m);
/*
 * Whether pins of meta `theirs` can be adopted by an agent whose own would be `ours`
 * (layout, build and configuration). 1 if so; else 0 with the reason in why.
 */
int pins__compatible(const struct fl_pin_meta *theirs, const struct fl_pin_meta *ours,
		     char *why, size_t why_len);

/* Pins fd as name ("map_events", ...). */
int pins__pin(struct pins *p, const char *name, int fd);
/* A new fd of the object pinned as name, or -errno (-ENOENT: not pinned). */
int pins__get(struct pins *p, const char *name);
/* Whether name is pinned. */
int pins__has(struct pins *p, const char *name);
/* Removes every entry (meta first); returns how many, or -errno. */
int pins__clear(struct pins *p);

/*
 * Makes m the pins' meta, state FL_PIN_RUNNING: pinned last after a fresh load (the pin
 * set is complete), or written over the adopted one. The meta stays mapped in this
 * process, so that marking the handover later needs no system call.
 */
int pins__commit(struct pins *p, const struct fl_pin_meta *m);
/* Marks the committed pins as handed over at boot_ns: two stores into the mapped meta. */
void pins__mark_handover(struct pins *p, uint64_t boot_ns);

#endif
