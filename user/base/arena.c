/* Bump allocation in chunks; see arena.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"

#define CHUNK_BYTES (256u * 1024)
#define ALIGN 16u

struct chunk {
	struct chunk *next;
	size_t used, cap;
	/* Aligned like max_align_t so that data[] is too. */
	_Alignas(ALIGN) unsigned char data[];
};

struct arena {
	struct chunk *head; /* the chunk being filled; older ones follow */
	size_t used;
};

struct arena *arena__new(void)
{
	return calloc(1, sizeof(struct arena));
}

void arena__free(struct arena *a)
{
	if (!a)
		return;
	while (a->head) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
	free(a);
}

void *arena__alloc(struct arena *a, size_t size)
{
	struct chunk *c = a->head;
	size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	if (size > SIZE_MAX - ALIGN - sizeof(struct chunk)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!need)
		need = ALIGN;
	if (!c || c->cap - c->used < need) {
		/* A large request gets a chunk of its own, so one big string does not leave
		 * most of a regular chunk unused. */
		size_t cap = need > CHUNK_BYTES / 4 ? need : CHUNK_BYTES;

		c = malloc(sizeof(*c) + cap);
		if (!c) {
			errno = ENOMEM;
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		if (cap == need && a->head) {
			/* Behind the current chunk: its free space stays usable. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->data + c->used;
	c->used += need;
	a->used += need;
	memset(p, 0, need);
	return p;
}

char *arena__memdup(struct arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	p = arena__alloc(a, len + 1);
	if (p && len)
		memcpy(p, s, len);
	return p;
}

char *arena__strdup(struct arena *a, const char *s)
{
	return arena__memdup(a, s ? s : "", s ? strlen(s) : 0);
}

size_t arena__used(const struct arena *a)
{
	return a->used;
}
