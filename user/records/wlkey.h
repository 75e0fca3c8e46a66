/*
 * Workload keys: how every record names a workload (Workload.key, and workload_key in
 * Process, Flow and Gap). A cgroup is "cgroup:<cgroup2 directory inode>"; a sandbox
 * without a cgroup of its own (bubblewrap, unshare) is "sandbox:pidns:<inode>" or
 * "sandbox:mntns:<inode>", from the namespace that defines it. The one formatter.
 */
#ifndef FL_WLKEY_H
#define FL_WLKEY_H

#include <stdint.h>

#define WLKEY_MAX 48 /* a key and its NUL */

/* A sandbox's id: a tag bit, then its namespace's inode. */
#define WLKEY_SANDBOX_PID (UINT64_C(1) << 63)
#define WLKEY_SANDBOX_MNT (UINT64_C(1) << 62)
#define WLKEY_INODE_MASK UINT64_C(0xffffffff)

/* The key of a process in cgroup_id, or of the sandbox it is in when sandbox is not 0. */
void wlkey__format(char key[WLKEY_MAX], uint64_t cgroup_id, uint64_t sandbox);
/* The key of the cgroup whose id is the text id (a number someone typed, not parsed):
 * "cgroup:" and id's first 20 characters, as many digits as a uint64_t has. */
void wlkey__format_text(char key[WLKEY_MAX], const char *id);
/* The id text of a cgroup's key ("cgroup:<id>"), or NULL when key is not a cgroup's. */
const char *wlkey__cgroup_text(const char *key);
/* The key a record names: its own key string when it has one, else "cgroup:<cgroup_id>"
 * written into buf (a record may carry only the id); NULL when it has neither. */
const char *wlkey__of_record(char buf[WLKEY_MAX], const char *key, uint64_t cgroup_id);

#endif
