/* Subjects and the stream; see subjects.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "transport/subjects.h"

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

int subjects__check_prefix(const char *prefix)
{
	size_t n = strlen(prefix), run = 0;

	if (!n || n >= SUBJECTS_PREFIX_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (prefix[i] == '.') {
			if (!run)
				return -EINVAL; /* an empty token */
			run = 0;
		} else if (plain((unsigned char)prefix[i])) {
			run++;
		} else {
			return -EINVAL;
		}
	}
	return run ? 0 : -EINVAL;
}

int subjects__token(const char *node, char out[SUBJECTS_TOKEN_MAX])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(node), o = 0;

	if (!n)
		return -EINVAL;
	if (n > 255)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)node[i];

		if (plain(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is not what subjects__token writes */
}

int subjects__node(const char *token, char *out, size_t size)
{
	size_t o = 0;

	if (!*token)
		return -EINVAL;
	for (const char *p = token; *p; p++) {
		int c = (unsigned char)*p;

		if (*p == '%') {
			int hi = unhex(p[1]), lo = hi < 0 ? -1 : unhex(p[2]);

			if (lo < 0)
				return -EINVAL;
			c = hi << 4 | lo;
			if (plain((unsigned char)c) || !c)
				return -EINVAL; /* not the one spelling */
			p += 2;
		} else if (!plain((unsigned char)c)) {
			return -EINVAL;
		}
		if (o + 1 >= size)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int fits(int n, size_t size)
{
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int subjects__batches(const char *prefix, const char *token, char *out, size_t size)
{
	return fits(snprintf(out, size, "%s.batches.%s", prefix, token), size);
}

int subjects__all_batches(const char *prefix, char *out, size_t size)
{
	return fits(snprintf(out, size, "%s.batches.>", prefix), size);
}

int subjects__stream(const char *prefix, char *out, size_t size)
{
	int err = fits(snprintf(out, size, "%s", prefix), size);

	for (char *p = out; !err && *p; p++)
		*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	return err;
}
