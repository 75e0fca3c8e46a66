/*
 * Growing an array: the one place that doubles a capacity, with the check that the size
 * in bytes cannot overflow. ptrvec.h is the same for arrays of pointers.
 */
#ifndef FL_ARRAY_H
#define FL_ARRAY_H

#include <stddef.h>

/* Makes *p (of *cap elements of size bytes) hold at least need elements. 0, or -ENOMEM
 * with *p and *cap unchanged. */
int array__grow(void **p, size_t *cap, size_t need, size_t size);

#define ARRAY_GROW(arr, cap, need) array__grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

#endif
