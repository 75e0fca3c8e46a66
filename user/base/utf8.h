/* Lossless escaping of untrusted kernel-captured bytes (argv, paths) into the UTF-8 that
 * proto3 `string` fields require. Valid UTF-8 is kept as-is; otherwise the caller stores
 * utf8__escape() output and sets the matching *_escaped flag (see proto/firstlight.proto).
 * All functions work on caller-owned buffers: nothing is allocated or retained. */
#ifndef FIRSTLIGHT_UTF8_H
#define FIRSTLIGHT_UTF8_H

#include <stddef.h>

/* Returns 1 if buf[0..len) is valid UTF-8 (NUL bytes count as valid), else 0.
 * Overlong forms, surrogates (U+D800..U+DFFF), code points above U+10FFFF and
 * truncated sequences are invalid. */
int utf8__valid(const char *buf, size_t len);

/* Length (1..4) of the valid UTF-8 sequence that starts buf[0..len), 0 if none does
 * (an invalid or truncated sequence, or len == 0). */
size_t utf8__char_len(const char *buf, size_t len);

/* Escapes buf[0..len) into out (capacity out_cap including the terminating NUL):
 * bytes that are not part of a valid UTF-8 sequence become \xHH (lowercase hex), a
 * backslash becomes \\, and a NUL byte becomes \x00 so the result survives as a C
 * string. Escaping is unconditional: call it only when utf8__valid() returned 0.
 * Returns the length written (excluding NUL) or -ENOSPC if out_cap is too small (out is
 * then the empty string); out is always NUL-terminated when out_cap > 0.
 * Worst case needs 4*len+1. */
int utf8__escape(const char *buf, size_t len, char *out, size_t out_cap);

/* Inverse of utf8__escape: \\ becomes a backslash and \xHH (either case) the byte HH;
 * everything else is copied. Returns bytes written (excluding the NUL it appends when
 * out_cap > 0; the output may itself contain NULs), -EINVAL on a malformed escape or
 * -ENOSPC if out_cap < result + 1. len+1 always suffices. */
int utf8__unescape(const char *in, size_t len, char *out, size_t out_cap);

#endif
