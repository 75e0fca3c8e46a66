/* String-keyed open-addressing hash map; see strmap.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"

struct slot {
	const char *key; /* NULL: empty */
	void *value;
	uint64_t hash;
};

struct strmap {
	struct slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

/* FNV-1a, then a final mix so that the low bits (the index) depend on every byte. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

struct strmap *strmap__new(void)
{
	return calloc(1, sizeof(struct strmap));
}

void strmap__free(struct strmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static struct slot *find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && !strcmp(s->key, key)))
			return s;
	}
}

void *strmap__get(const struct strmap *m, const char *key)
{
	struct slot *s;

	if (!m->n)
		return NULL;
	s = find(m, key, hash_str(key));
	return s->key ? s->value : NULL;
}

static int grow(struct strmap *m)
{
	size_t old_cap = m->cap, cap = m->cap ? m->cap * 2 : 64;
	struct slot *old = m->slots, *slots;

	if (cap > SIZE_MAX / sizeof(*slots) || !(slots = calloc(cap, sizeof(*slots))))
		return -ENOMEM;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*find(m, old[i].key, old[i].hash) = old[i];
	free(old);
	return 0;
}

int strmap__put(struct strmap *m, const char *key, void *value)
{
	uint64_t h = hash_str(key);
	struct slot *s;

	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -ENOMEM;
	s = find(m, key, h);
	if (!s->key) {
		s->key = key;
		s->hash = h;
		m->n++;
	}
	s->value = value;
	return 0;
}

size_t strmap__count(const struct strmap *m)
{
	return m->n;
}
