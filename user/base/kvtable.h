/*
 * A hash table of fixed-size keys and values, bounded: the agent's network state (UDP
 * aggregates, open connections, unix connects awaiting their peer) must not grow with
 * whatever the kernel sends. Keys are compared as bytes: callers zero any padding.
 * Open addressing with backward-shift deletion, load <= 1/2, grown on demand up to the
 * bound. Errors: constructors return NULL with errno set; int functions 0 or -errno.
 */
#ifndef FL_KVTABLE_H
#define FL_KVTABLE_H

#include <stddef.h>

struct kvtable;

/* NULL with errno EINVAL (a zero size) or ENOMEM. */
struct kvtable *kvtable__new(size_t key_size, size_t value_size, size_t max_entries);
void kvtable__free(struct kvtable *t); /* NULL-safe */

/* The value stored under key, or NULL. Valid until the next put or remove. */
void *kvtable__get(struct kvtable *t, const void *key);
/*
 * The value under key, created zeroed (*created = 1) if absent. NULL with errno ENOSPC
 * when the table holds max_entries, ENOMEM when it could not grow. Valid until the next
 * put or remove.
 */
void *kvtable__put(struct kvtable *t, const void *key, int *created);
/* 0, or -ENOENT. */
int kvtable__remove(struct kvtable *t, const void *key);
size_t kvtable__count(const struct kvtable *t);

/*
 * Calls fn for every entry, once each; an entry is removed when fn returns nonzero. fn
 * must not put or remove itself. Returns the number removed.
 */
size_t kvtable__remove_if(struct kvtable *t, int (*fn)(void *ctx, const void *key, void *value),
			  void *ctx);

#endif
