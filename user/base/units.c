/* Numbers in options; see units.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/units.h"

#define NS_PER_S UINT64_C(1000000000)

static const char *const suffixes[] = { [UNITS_COUNT] = "", [UNITS_BYTES] = "KkMmGg", [UNITS_NS] = "smhd" };
static const uint64_t mult_bytes[] = { UINT64_C(1) << 10, UINT64_C(1) << 10, UINT64_C(1) << 20, UINT64_C(1) << 20, UINT64_C(1) << 30, UINT64_C(1) << 30 };
static const uint64_t mult_ns[] = { NS_PER_S, 60 * NS_PER_S, 3600 * NS_PER_S, 86400 * NS_PER_S };

static int scaled(const char *s, enum units u, uint64_t *out)
{
	unsigned long long v;
	const char *p;
	uint64_t m = u == UNITS_NS ? NS_PER_S : 1; /* a bare duration is seconds */
	char *end;

	if (s[0] < '0' || s[0] > '9') /* strtoull would take a sign and any white space */
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		if (!*suffixes[u] || !(p = strchr(suffixes[u], *end)) || end[1])
			return -EINVAL;
		m = u == UNITS_BYTES ? mult_bytes[p - suffixes[u]] : mult_ns[p - suffixes[u]];
	}
	if (v > UINT64_MAX / m)
		return -EINVAL;
	*out = v * m;
	return 0;
}

/* "1G" for 1 << 30, "90s" for 90 s: the bound as people would write it. */
static void bound_text(char *buf, size_t size, enum units u, uint64_t v)
{
	if (u == UNITS_BYTES && v && v % (1ull << 30) == 0)
		snprintf(buf, size, "%" PRIu64 "G", v >> 30);
	else if (u == UNITS_BYTES && v && v % (1ull << 20) == 0)
		snprintf(buf, size, "%" PRIu64 "M", v >> 20);
	else if (u == UNITS_BYTES && v && v % (1ull << 10) == 0)
		snprintf(buf, size, "%" PRIu64 "K", v >> 10);
	else if (u == UNITS_NS)
		snprintf(buf, size, "%" PRIu64 "s", v / NS_PER_S);
	else
		snprintf(buf, size, "%" PRIu64, v);
}

int units__parse(const char *opt, const char *s, enum units u, uint64_t min, uint64_t max,
		 unsigned int flags, uint64_t *out)
{
	static const char *const unit_help[] = {
		[UNITS_COUNT] = "", [UNITS_BYTES] = ", optional unit K, M or G", [UNITS_NS] = ", optional unit s, m, h or d",
	};
	char lo[32], hi[32];
	uint64_t v;

	if (!scaled(s, u, &v) && ((v >= min && v <= max) || (!v && (flags & UNITS_ZERO_OK)))) {
		*out = v;
		return 0;
	}
	if (flags & UNITS_QUIET)
		return -EINVAL;
	bound_text(lo, sizeof(lo), u, min);
	bound_text(hi, sizeof(hi), u, max);
	log_error("%s: invalid value '%s' (expected %s..%s%s%s)", opt, s, lo, hi, unit_help[u],
		  flags & UNITS_ZERO_OK ? ", or 0 for off" : "");
	return -EINVAL;
}

int units__parse_u32(const char *opt, const char *s, enum units u, uint64_t min, uint64_t max,
		     unsigned int flags, uint32_t *out)
{
	uint64_t v;
	int err = units__parse(opt, s, u, min, max > UINT32_MAX ? UINT32_MAX : max, flags, &v);

	if (!err)
		*out = (uint32_t)v;
	return err;
}
