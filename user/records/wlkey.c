/* Workload keys; see wlkey.h. */
#include <stdio.h>
#include <string.h>

#include "base/decimal.h"
#include "records/wlkey.h"

/* A key for every process record: written without snprintf (base/decimal.h). */
void wlkey__format(char key[WLKEY_MAX], uint64_t cgroup_id, uint64_t sandbox)
{
	static const char pidns[] = "sandbox:pidns:", mntns[] = "sandbox:mntns:", cg[] = "cgroup:";
	const char *prefix = cg;
	size_t plen = sizeof(cg) - 1;
	uint64_t v = cgroup_id;

	if (sandbox & (WLKEY_SANDBOX_PID | WLKEY_SANDBOX_MNT)) {
		prefix = sandbox & WLKEY_SANDBOX_PID ? pidns : mntns;
		plen = sizeof(pidns) - 1;
		v = sandbox & WLKEY_INODE_MASK;
	}
	/* 14 + 20 digits + NUL fit in WLKEY_MAX. */
	_Static_assert(sizeof(pidns) + DECIMAL_MAX <= WLKEY_MAX, "a key fits");
	memcpy(key, prefix, plen);
	*decimal__put(key + plen, v) = 0;
}

void wlkey__format_text(char key[WLKEY_MAX], const char *id)
{
	snprintf(key, WLKEY_MAX, "cgroup:%.20s", id);
}

const char *wlkey__cgroup_text(const char *key)
{
	return strncmp(key, "cgroup:", 7) ? NULL : key + 7;
}

const char *wlkey__of_record(char buf[WLKEY_MAX], const char *key, uint64_t cgroup_id)
{
	if (key && *key)
		return key;
	if (!cgroup_id)
		return NULL;
	wlkey__format(buf, cgroup_id, 0);
	return buf;
}
