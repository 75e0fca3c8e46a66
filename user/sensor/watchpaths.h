/*
 * Watched paths (issue 18, secret access): the defaults (service-account tokens, cloud
 * credential files, SSH private keys, /etc/shadow, the container runtimes' sockets) and
 * those `run --watch-path` adds; what the kernel's filter and exact set are made of
 * (firstlight.h, "Watched files"); and the check of a path the kernel reported.
 * A pattern is a prefix of the resolved path: absolute ("/etc/shadow" also matches
 * "/etc/shadow-"), or "~/..." for every home: "/root/..." and "/home/<name>/...".
 * Errors: 0 or -errno; a refused pattern is logged as one line naming it.
 */
#ifndef FL_WATCHPATHS_H
#define FL_WATCHPATHS_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.h"

struct watchpaths {
	size_t n;
	size_t n_defaults; /* the first n_defaults are the defaults */
	char pattern[FL_WATCH_MAX][FL_WATCH_LEN];
};

/* The defaults only. */
void watchpaths__init(struct watchpaths *w);
/*
 * Adds a pattern as `--watch-path` gave it: absolute or "~/", not empty, shorter than
 * FL_WATCH_LEN bytes, no "." or ".." component nor "//" (a resolved path has none, so it
 * would never match), not the root itself. A pattern already present is not added twice.
 * -EINVAL (logged with the value and what to do), -E2BIG when FL_WATCH_MAX are in use.
 */
int watchpaths__add(struct watchpaths *w, const char *pattern);

/* The kernel filter (cfg_watch_bits, cfg_watch_heads, cfg_watch_lens of fileaccess.bpf.c). */
struct watch_filter {
	uint64_t bits[FL_WATCH_BITS / 64];
	uint32_t heads;
	uint64_t lens[2][FL_WATCH_LEN / 64];
};
void watchpaths__filter(const struct watchpaths *w, struct watch_filter *f);
/* Pattern i's key in the kernel's exact set. */
void watchpaths__key(const struct watchpaths *w, size_t i, struct fl_watch_key *k);

/* The first pattern the path starts with, or -1. */
int watchpaths__match(const struct watchpaths *w, const char *path);

#endif
