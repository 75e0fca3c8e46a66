/* The nearest strings; see closest.h. */
#include <string.h>

#include "base/closest.h"

size_t closest__distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t row[CLOSEST_QUERY_MAX + 1];

	if (alen > CLOSEST_QUERY_MAX)
		alen = CLOSEST_QUERY_MAX;
	if (blen > CLOSEST_QUERY_MAX)
		blen = CLOSEST_QUERY_MAX;
	/* Levenshtein with one row: row[j] is the distance of a[0..i) and b[0..j). */
	for (size_t j = 0; j <= blen; j++)
		row[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[blen];
}

void closest__init(struct closest *c, const char *query, size_t k, unsigned int flags)
{
	memset(c, 0, sizeof(*c));
	c->query = query;
	c->qlen = strlen(query);
	c->k = k < CLOSEST_MAX ? k : CLOSEST_MAX;
	c->flags = flags;
}

void closest__offer(struct closest *c, const char *s, const void *data)
{
	size_t len, d, at;

	if (!s || !*s || !c->k)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->best[i].s, s))
			return;
	len = strlen(s);
	if ((c->flags & CLOSEST_PREFIX) && len > c->qlen)
		len = c->qlen;
	d = closest__distance(c->query, c->qlen, s, len);
	/* Sorted by distance; a tie goes after those already kept. */
	for (at = c->n; at > 0 && c->best[at - 1].dist > d; at--)
		;
	if (at >= c->k)
		return;
	if (c->n == c->k)
		c->n--;
	memmove(&c->best[at + 1], &c->best[at], (c->n - at) * sizeof(c->best[0]));
	c->best[at] = (struct closest_item){ s, data, d };
	c->n++;
}
