/*
 * A text table for people: a header line, then rows, columns aligned on their widest
 * cell, separated by two spaces, right-aligned where asked (numbers), no trailing blanks.
 * Cells are appended already made safe for a terminal (textesc.h): the table only counts
 * characters. Used by the readers' tables (gaps, workloads).
 * Zero-initialise, texttable__init, add cells row by row, texttable__render, then
 * texttable__fini. Errors: 0 or -ENOMEM.
 */
#ifndef FL_TEXTTABLE_H
#define FL_TEXTTABLE_H

#include <stddef.h>

#include "base/json.h"

struct texttable {
	const char *const *headers;
	size_t ncols;
	unsigned int right;      /* bit c: column c is right-aligned */
	struct json_buf text;    /* every cell's text, one after another */
	struct texttable_cell {
		size_t off, len;
	} *cells;                /* row-major */
	size_t n, cap;
	size_t open;             /* text.len when the open cell began */
};

/* headers: ncols names (kept, not copied); right: bit c right-aligns column c. */
void texttable__init(struct texttable *t, const char *const *headers, size_t ncols,
		     unsigned int right);
void texttable__fini(struct texttable *t);
/* The next cell: append its text to the returned buffer, then texttable__cell_end.
 * Rows fill left to right, top to bottom. */
struct json_buf *texttable__cell_begin(struct texttable *t);
int texttable__cell_end(struct texttable *t);
/* A whole cell at once. */
int texttable__cell(struct texttable *t, const char *s);
/* Complete rows so far. */
size_t texttable__rows(const struct texttable *t);
/* Appends the table to out; nothing at all when it has no row. */
int texttable__render(const struct texttable *t, struct json_buf *out);

#endif
