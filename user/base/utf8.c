/* UTF-8 validation and reversible \xHH escaping. Kernel strings are raw bytes but proto3
 * strings must be UTF-8; escaping only the offending bytes keeps the readable parts
 * readable while letting consumers recover the exact original bytes. */
#include "base/utf8.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

static int is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the byte at p does not start
 * one. The lead-byte ranges and second-byte bounds follow RFC 3629's table, which rules
 * out overlongs, surrogates and values past U+10FFFF without decoding. */
static size_t seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		return n >= 2 && is_cont(p[1]) ? 2 : 0;
	if (c < 0xf0) {
		if (n < 3 || !is_cont(p[1]) || !is_cont(p[2]))
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (n < 4 || !is_cont(p[1]) || !is_cont(p[2]) || !is_cont(p[3]))
		return 0;
	if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return 4;
}

size_t utf8__char_len(const char *buf, size_t len)
{
	return len ? seq_len((const unsigned char *)buf, len) : 0;
}

int utf8__valid(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0, n;

	while (i < len) {
		uint64_t w;

		/* Eight ASCII bytes at a time: what nearly every argv, path and name is. */
		if (len - i >= sizeof(w)) {
			memcpy(&w, p + i, sizeof(w));
			if (!(w & 0x8080808080808080ull)) {
				i += sizeof(w);
				continue;
			}
		}
		n = seq_len(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int utf8__escape(const char *buf, size_t len, char *out, size_t out_cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0, o = 0, n, k;
	int bad;

	if (out_cap == 0)
		return -ENOSPC;
	while (i < len) {
		n = seq_len(p + i, len - i);
		/* An invalid byte is escaped alone and scanning resumes at the next byte, so
		 * a broken sequence never swallows a valid character that follows it. */
		bad = n == 0 || p[i] == '\0';
		if (bad)
			k = 4;
		else if (p[i] == '\\')
			k = 2;
		else
			k = n;
		if (o + k >= out_cap || o + k > INT_MAX)
			goto nospc;
		if (bad) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 0xf];
			i++;
		} else if (p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else {
			while (k--)
				out[o++] = (char)p[i++];
		}
	}
	out[o] = '\0';
	return (int)o;
nospc:
	out[0] = '\0';
	return -ENOSPC;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int utf8__unescape(const char *in, size_t len, char *out, size_t out_cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;
	int hi, lo, err;

	if (out_cap == 0)
		return -ENOSPC;
	while (i < len) {
		if (o + 1 >= out_cap || o + 1 > INT_MAX) {
			err = -ENOSPC;
			goto fail;
		}
		if (p[i] != '\\') {
			out[o++] = (char)p[i++];
			continue;
		}
		if (i + 1 < len && p[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
			continue;
		}
		if (len - i < 4 || p[i + 1] != 'x' || (hi = hexval(p[i + 2])) < 0 ||
		    (lo = hexval(p[i + 3])) < 0) {
			err = -EINVAL;
			goto fail;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 4;
	}
	out[o] = '\0';
	return (int)o;
fail:
	out[0] = '\0';
	return err;
}
