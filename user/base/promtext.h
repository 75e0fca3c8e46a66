/*
 * The Prometheus text exposition format (0.0.4), written into a caller's buffer: HELP and
 * TYPE lines, samples, label values escaped. After the first overflow every append is a
 * no-op and promtext__end says -ENOSPC: the caller retries with a larger buffer.
 */
#ifndef FL_PROMTEXT_H
#define FL_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct promtext {
	char *buf;
	size_t cap;
	size_t len;
	int overflow;
};

void promtext__init(struct promtext *o, char *buf, size_t cap);
void promtext__str(struct promtext *o, const char *s);
/* "# HELP name help" and "# TYPE name type". */
void promtext__header(struct promtext *o, const char *name, const char *type, const char *help);
/* A header and one unlabelled sample. */
void promtext__u64(struct promtext *o, const char *name, const char *type, const char *help, uint64_t v);
void promtext__gauge(struct promtext *o, const char *name, const char *help, double v);
/* One sample with one label, whose value is escaped (label NULL: none). */
void promtext__labelled(struct promtext *o, const char *name, const char *label, const char *value,
			uint64_t v);
void promtext__labelled_double(struct promtext *o, const char *name, const char *label, const char *value,
			       double v);
/* A label value, escaped (bytes that are not UTF-8 first as \xHH), at most max bytes of s. */
void promtext__label_value(struct promtext *o, const char *s, size_t max);
/* NUL-terminates; the length, or -ENOSPC on overflow. */
int promtext__end(struct promtext *o);

#endif
