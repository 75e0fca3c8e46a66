/* Bounded fixed-size hash table; see kvtable.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/kvtable.h"

#define MIN_CAP 16

/* A slot: a used byte, padding, the key, the value, each at 8-byte alignment. */
struct kvtable {
	uint8_t *slots;
	size_t cap;   /* power of two */
	size_t count;
	size_t max;
	size_t key_size, value_size;
	size_t key_off, value_off, stride;
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint8_t *slot(const struct kvtable *t, size_t i)
{
	return t->slots + i * t->stride;
}

static int used(const struct kvtable *t, size_t i)
{
	return slot(t, i)[0];
}

/* FNV-1a, then a multiply to spread the low bits that index the table. Keys of 4 and 8
 * bytes (pids, ids, cookies: the per-event lookups) take one multiply instead. */
static size_t home_of(const struct kvtable *t, const void *key)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	if (t->key_size == 4 || t->key_size == 8) {
		uint64_t k = 0;

		if (t->key_size == 4) {
			uint32_t k32;

			memcpy(&k32, key, 4);
			k = k32;
		} else {
			memcpy(&k, key, 8);
		}
		/* Fibonacci hashing: consecutive pids spread over the table. */
		return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & (t->cap - 1);
	}
	for (size_t i = 0; i < t->key_size; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (size_t)h & (t->cap - 1);
}

struct kvtable *kvtable__new(size_t key_size, size_t value_size, size_t max_entries)
{
	struct kvtable *t;

	if (!key_size || !value_size || !max_entries || key_size > 4096 || value_size > 65536) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->key_size = key_size;
	t->value_size = value_size;
	t->max = max_entries;
	t->key_off = 8;
	t->value_off = t->key_off + align8(key_size);
	t->stride = t->value_off + align8(value_size);
	t->cap = MIN_CAP;
	t->slots = calloc(t->cap, t->stride);
	if (!t->slots) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void kvtable__free(struct kvtable *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static size_t find(const struct kvtable *t, const void *key, int *found)
{
	size_t i = home_of(t, key);

	for (;; i = (i + 1) & (t->cap - 1)) {
		if (!used(t, i)) {
			*found = 0;
			return i;
		}
		if (!memcmp(slot(t, i) + t->key_off, key, t->key_size)) {
			*found = 1;
			return i;
		}
	}
}

void *kvtable__get(struct kvtable *t, const void *key)
{
	int found;
	size_t i = find(t, key, &found);

	return found ? slot(t, i) + t->value_off : NULL;
}

static int grow(struct kvtable *t)
{
	size_t old_cap = t->cap, cap = old_cap * 2;
	uint8_t *old = t->slots, *slots = calloc(cap, t->stride);

	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	t->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		const uint8_t *s = old + i * t->stride;
		int found;

		if (s[0])
			memcpy(slot(t, find(t, s + t->key_off, &found)), s, t->stride);
	}
	free(old);
	return 0;
}

void *kvtable__put(struct kvtable *t, const void *key, int *created)
{
	int found, err;
	size_t i = find(t, key, &found);
	uint8_t *s;

	*created = 0;
	if (found)
		return slot(t, i) + t->value_off;
	if (t->count >= t->max) {
		errno = ENOSPC;
		return NULL;
	}
	if ((t->count + 1) * 2 > t->cap) {
		err = grow(t);
		if (err) {
			errno = -err;
			return NULL;
		}
		i = find(t, key, &found);
	}
	s = slot(t, i);
	memset(s, 0, t->stride);
	s[0] = 1;
	memcpy(s + t->key_off, key, t->key_size);
	t->count++;
	*created = 1;
	return s + t->value_off;
}

/* Empties slot i and shifts later members of its probe run back into the hole. */
static void remove_slot(struct kvtable *t, size_t i)
{
	size_t mask = t->cap - 1, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!used(t, j))
			break;
		home = home_of(t, slot(t, j) + t->key_off);
		/* j stays unless its home lies cyclically outside (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		memcpy(slot(t, i), slot(t, j), t->stride);
		i = j;
	}
	memset(slot(t, i), 0, t->stride);
	t->count--;
}

int kvtable__remove(struct kvtable *t, const void *key)
{
	int found;
	size_t i = find(t, key, &found);

	if (!found)
		return -ENOENT;
	remove_slot(t, i);
	return 0;
}

size_t kvtable__count(const struct kvtable *t)
{
	return t->count;
}

size_t kvtable__remove_if(struct kvtable *t, int (*fn)(void *ctx, const void *key, void *value),
			  void *ctx)
{
	size_t mask = t->cap - 1, start = 0, removed = 0;

	/*
	 * Start just after an empty slot (load <= 1/2: there is one). No probe run crosses
	 * it, so a removal only shifts entries we have not visited yet into the hole.
	 */
	while (used(t, start))
		start++;
	for (size_t n = 0, i = (start + 1) & mask; n < t->cap - 1;) {
		uint8_t *s = slot(t, i);

		if (s[0] && fn(ctx, s + t->key_off, s + t->value_off)) {
			remove_slot(t, i);
			removed++;
			continue; /* slot i holds the next entry of the run, or is empty */
		}
		i = (i + 1) & mask;
		n++;
	}
	return removed;
}
