/* Process image ids as strings: see exec_id.h for the form and why. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/decimal.h"
#include "records/exec_id.h"

char *exec_id__format(char *buf, uint32_t boot_tag, const struct fl_exec_id *id)
{
	static const char hex[] = "0123456789abcdef";
	char *p = buf;

	if (!id->start_ns && !id->tgid) {
		buf[0] = 0;
		return buf;
	}
	for (int shift = 28; shift >= 0; shift -= 4)
		*p++ = hex[(boot_tag >> shift) & 0xf];
	*p++ = ':';
	p = decimal__put(p, id->start_ns);
	*p++ = ':';
	p = decimal__put(p, id->tgid);
	*p = 0; /* at most 8 + 1 + 20 + 1 + 10 + 1 = 41 <= EXEC_ID_STRLEN */
	return buf;
}

int exec_id__parse(const char *s, uint32_t *boot_tag, struct fl_exec_id *id)
{
	unsigned long long start;
	unsigned long tag, tgid;
	char *end;

	/* Exactly what exec_id__format writes: 8 lowercase hex digits, no sign or 0x. */
	for (int i = 0; i < 8; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -EINVAL;
	if (s[8] != ':')
		return -EINVAL;
	errno = 0;
	tag = strtoul(s, &end, 16);
	s = end + 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	start = strtoull(s, &end, 10);
	if (*end != ':' || errno)
		return -EINVAL;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	tgid = strtoul(s, &end, 10);
	if (*end || errno || tgid > UINT32_MAX)
		return -EINVAL;
	*boot_tag = tag;
	memset(id, 0, sizeof(*id));
	id->start_ns = start;
	id->tgid = tgid;
	return 0;
}

int exec_id__boot_tag(uint32_t *tag, char *boot_id, size_t boot_id_len)
{
	char buf[64] = "";
	unsigned int a;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%8x", &a) != 1)
		err = -EIO;
	fclose(f);
	if (err)
		return err;
	buf[strcspn(buf, "\n")] = 0;
	if (boot_id && boot_id_len)
		snprintf(boot_id, boot_id_len, "%s", buf);
	*tag = a;
	return 0;
}
