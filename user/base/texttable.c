/* Aligned text tables; see texttable.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "base/texttable.h"

void texttable__init(struct texttable *t, const char *const *headers, size_t ncols,
		     unsigned int right)
{
	memset(t, 0, sizeof(*t));
	t->headers = headers;
	t->ncols = ncols;
	t->right = right;
}

void texttable__fini(struct texttable *t)
{
	json_buf__free(&t->text);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

struct json_buf *texttable__cell_begin(struct texttable *t)
{
	t->open = t->text.len;
	return &t->text;
}

int texttable__cell_end(struct texttable *t)
{
	/* reserve: data is never NULL once a cell exists, even an empty one. */
	if (json_buf__reserve(&t->text, 0) || ARRAY_GROW(t->cells, t->cap, t->n + 1)) {
		t->text.len = t->open; /* the cell is dropped, not half kept */
		return -ENOMEM;
	}
	t->cells[t->n].off = t->open;
	t->cells[t->n].len = t->text.len - t->open;
	t->n++;
	return 0;
}

int texttable__cell(struct texttable *t, const char *s)
{
	return json_buf__append_str(texttable__cell_begin(t), s) ?: texttable__cell_end(t);
}

size_t texttable__rows(const struct texttable *t)
{
	return t->ncols ? t->n / t->ncols : 0;
}

/* Characters (not bytes) of escaped text: everything in it is one column wide or close. */
static size_t text_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static int put_spaces(struct json_buf *b, size_t n)
{
	if (json_buf__reserve(b, n))
		return -ENOMEM;
	memset(b->data + b->len, ' ', n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* One line: column c's text is cells[c], lens[c] bytes. */
static int put_line(const struct texttable *t, struct json_buf *out, const size_t *width,
		    const char *const *cells, const size_t *lens)
{
	int err = 0;

	for (size_t c = 0; c < t->ncols && !err; c++) {
		size_t w = text_width(cells[c], lens[c]);
		size_t pad = width[c] > w ? width[c] - w : 0;
		int right = !!(t->right & (1u << c));

		if (c)
			err = json_buf__append_str(out, "  ");
		if (!err && right)
			err = put_spaces(out, pad);
		if (!err)
			err = json_buf__append(out, cells[c], lens[c]);
		/* No padding after the last column (trailing blanks are trimmed below too). */
		if (!err && !right && c + 1 < t->ncols)
			err = put_spaces(out, pad);
	}
	if (err)
		return err;
	while (out->len && out->data[out->len - 1] == ' ')
		out->len--;
	return json_buf__append_str(out, "\n");
}

int texttable__render(const struct texttable *t, struct json_buf *out)
{
	size_t rows = texttable__rows(t), *width, *lens;
	const char **cells;
	int err = -ENOMEM;

	if (!rows)
		return 0;
	width = calloc(t->ncols, sizeof(*width));
	lens = calloc(t->ncols, sizeof(*lens));
	cells = calloc(t->ncols, sizeof(*cells));
	if (!width || !lens || !cells)
		goto out;
	for (size_t c = 0; c < t->ncols; c++) {
		cells[c] = t->headers[c];
		lens[c] = strlen(t->headers[c]);
		width[c] = text_width(cells[c], lens[c]);
	}
	for (size_t i = 0; i < rows * t->ncols; i++) {
		size_t w = text_width(t->text.data + t->cells[i].off, t->cells[i].len);

		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	err = put_line(t, out, width, cells, lens);
	for (size_t r = 0; r < rows && !err; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			cells[c] = t->text.data + t->cells[r * t->ncols + c].off;
			lens[c] = t->cells[r * t->ncols + c].len;
		}
		err = put_line(t, out, width, cells, lens);
	}
out:
	free(width);
	free(lens);
	free(cells);
	return err;
}
