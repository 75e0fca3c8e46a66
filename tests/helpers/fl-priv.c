/*
 * Test helper for privilege records (tests/e2e/t_privilege.sh).
 *   fl-priv calls MARKER   as root: setgroups({4242, 4243}), capset without CAP_NET_RAW,
 *                          setresuid(4242, 4243, 0), then setuid(777), which fails (EPERM);
 *                          prints "pid PID" and each call's result
 *   fl-priv id MARKER      prints "euid EUID", then setuid(0) and "uid UID" (a set-user-ID
 *                          root copy run by another user: euid 0, then uid 0)
 *   fl-priv as UID PROG ARGS...  drops every group, gid, uid and capability to UID, then
 *                          execs PROG (unlike setpriv, which keeps the capabilities)
 * MARKER only names the process in its argv. Exit 0 when every call did what it should.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int calls(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	gid_t groups[] = { 4242, 4243 };
	int r;

	printf("pid %d\n", getpid());
	r = setgroups(2, groups);
	printf("setgroups %d\n", r);
	if (r)
		return 1;
	if (syscall(SYS_capget, &hdr, data))
		return 1;
	/* CAP_NET_RAW (13) out of every set. */
	data[0].effective &= ~(1u << CAP_NET_RAW);
	data[0].permitted &= ~(1u << CAP_NET_RAW);
	data[0].inheritable &= ~(1u << CAP_NET_RAW);
	r = (int)syscall(SYS_capset, &hdr, data);
	printf("capset %d\n", r);
	if (r)
		return 1;
	r = setresuid(4242, 4243, 0);
	printf("setresuid %d\n", r);
	if (r)
		return 1;
	/* Neither the real (4242) nor the saved (0) uid, and no CAP_SETUID left: refused. */
	r = setuid(777);
	printf("setuid %d %s\n", r, r ? strerrorname_np(errno) : "");
	return r == -1 && errno == EPERM ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "calls"))
		return calls();
	if (argc >= 4 && !strcmp(argv[1], "as")) {
		/* Become UID (groups, gids and uids; no capability is kept), then exec. */
		uid_t id = (uid_t)atoi(argv[2]);

		if (setgroups(0, NULL) || setresgid(id, id, id) || setresuid(id, id, id))
			return 1;
		execv(argv[3], argv + 3);
		return 127;
	}
	if (argc == 3 && !strcmp(argv[1], "id")) {
		/* Set-user-ID root: euid 0; then the real uid too (privilege gained). */
		printf("euid %u\n", geteuid());
		if (setuid(0))
			return 1;
		printf("uid %u\n", getuid());
		return 0;
	}
	fprintf(stderr, "usage: fl-priv calls|id MARKER\n");
	return 2;
}
