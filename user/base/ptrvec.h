/* A growable array of pointers, for readers' working sets. Zero-initialise; free with
 * ptrvec__free (which zeroes it). ptrvec__push returns 0 or -ENOMEM. */
#ifndef FL_PTRVEC_H
#define FL_PTRVEC_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ptrvec {
	void **v;
	size_t n, cap;
};

static inline int ptrvec__push(struct ptrvec *v, void *p)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void **n = cap > SIZE_MAX / sizeof(*n) ? NULL : realloc(v->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->n++] = p;
	return 0;
}

static inline void ptrvec__free(struct ptrvec *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

#endif
