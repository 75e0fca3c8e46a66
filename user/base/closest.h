/*
 * The strings nearest to one a user typed, for "no such X; closest: ..." messages: an
 * edit distance (insertions, deletions, substitutions of bytes), keeping the k best of
 * the candidates offered. With CLOSEST_PREFIX a candidate is compared by its first
 * characters only (as many as the query has), for ids people abbreviate: "3f9c2f" is
 * one edit from the id "3f9c2e81...". Ties keep the order offered. Pure; no allocation.
 */
#ifndef FL_CLOSEST_H
#define FL_CLOSEST_H

#include <stddef.h>

#define CLOSEST_MAX 8         /* at most this many kept */
#define CLOSEST_QUERY_MAX 128 /* characters of the query compared (and of candidates) */
#define CLOSEST_PREFIX 1u

struct closest {
	const char *query;
	size_t qlen;
	size_t k;
	unsigned int flags;
	size_t n;
	struct closest_item {
		const char *s;     /* as offered (not copied) */
		const void *data;  /* as offered */
		size_t dist;
	} best[CLOSEST_MAX];
};

/* k is capped at CLOSEST_MAX. The query is kept (not copied). */
void closest__init(struct closest *c, const char *query, size_t k, unsigned int flags);
/* Considers s (kept, not copied, with data); duplicates of a kept string are ignored. */
void closest__offer(struct closest *c, const char *s, const void *data);
/* The edit distance of a and b (each cut at CLOSEST_QUERY_MAX bytes). */
size_t closest__distance(const char *a, size_t alen, const char *b, size_t blen);

#endif
