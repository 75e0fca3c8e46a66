/*
 * A bump allocator for data that lives and dies together (a reader's whole working set):
 * many small allocations, no individual free, one arena__free at the end. Memory is
 * zeroed. Errors: arena__new returns NULL with errno set; allocators return NULL with
 * errno = ENOMEM; arena__free(NULL) is a no-op.
 */
#ifndef FL_ARENA_H
#define FL_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena__new(void);
void arena__free(struct arena *a);

/* size bytes, zeroed, aligned for any type; valid until arena__free. */
void *arena__alloc(struct arena *a, size_t size);
/* A copy of s (NULL copies as ""). */
char *arena__strdup(struct arena *a, const char *s);
/* A copy of s[0..len) with a NUL after it. */
char *arena__memdup(struct arena *a, const char *s, size_t len);
/* Bytes handed out so far (for tests and limits). */
size_t arena__used(const struct arena *a);

#endif
