/*
 * A map from strings to pointers (open addressing, linear probing, load <= 1/2). Keys
 * are not copied: the caller keeps each key alive as long as the map (an arena does).
 * Used by readers to index records by exec id, workload key and the like.
 * Errors: strmap__new returns NULL with errno set; int functions 0 or -ENOMEM;
 * strmap__free(NULL) is a no-op.
 */
#ifndef FL_STRMAP_H
#define FL_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap__new(void);
void strmap__free(struct strmap *m);

/* The value under key, or NULL. */
void *strmap__get(const struct strmap *m, const char *key);
/* Sets key's value (replacing any). key must outlive the map. 0 or -ENOMEM. */
int strmap__put(struct strmap *m, const char *key, void *value);
size_t strmap__count(const struct strmap *m);

#endif
