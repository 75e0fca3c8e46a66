/* Workload keys; see wlkey.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "records/wlkey.h"

void wlkey__format(char key[WLKEY_MAX], uint64_t cgroup_id, uint64_t sandbox)
{
	if (sandbox & WLKEY_SANDBOX_PID)
		snprintf(key, WLKEY_MAX, "sandbox:pidns:%" PRIu64, sandbox & WLKEY_INODE_MASK);
	else if (sandbox & WLKEY_SANDBOX_MNT)
		snprintf(key, WLKEY_MAX, "sandbox:mntns:%" PRIu64, sandbox & WLKEY_INODE_MASK);
	else
		snprintf(key, WLKEY_MAX, "cgroup:%" PRIu64, cgroup_id);
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
