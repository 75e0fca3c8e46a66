/* The privilege programs before load; see loader_priv.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "firstlight.skel.h"
#include "base/log.h"
#include "sensor/kcaps.h"
#include "sensor/loader_priv.h"

#define PRIV_PREFIX "fl_priv_"
#define SOCK_PREFIX "fl_socket_" /* bpf/socket.bpf.c (not fl_sock_send, a network program) */

/* Where the tracepoints are listed, in libbpf's order of preference (debugfs first). */
const char *loader_priv__events_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/debug/tracing", "/sys/kernel/tracing" };
	struct stat st;

	if (!stat(dirs[0], &st))
		return stat("/sys/kernel/debug/tracing/events", &st) ? NULL : "/sys/kernel/debug/tracing/events";
	if (stat("/sys/kernel/tracing/events", &st)) {
		/* Not mounted: the kernel offers the mount point when it has tracefs. */
		if (stat(dirs[1], &st) || mount("nodev", dirs[1], "tracefs", 0, NULL)) {
			log_debug("mounting tracefs on %s: %s", dirs[1], strerror(errno));
			return NULL;
		}
		log_info("mounted tracefs on %s (the syscalls' tracepoints are named there)", dirs[1]);
		if (stat("/sys/kernel/tracing/events", &st))
			return NULL;
	}
	return "/sys/kernel/tracing/events";
}

/*
 * Loads the programs named prefix* only if each of their syscall tracepoints is listed
 * under events; otherwise none of them, and kcaps names cap as missing.
 */
static void configure_group(struct firstlight_bpf *skel, struct kcaps *caps, const char *events,
			    const char *prefix, enum kcap cap)
{
	const char *why = events ? NULL : "tracefs (mounting it on /sys/kernel/tracing failed)";
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		char path[256];
		struct stat st;

		if (why || strncmp(bpf_program__name(prog), prefix, strlen(prefix)))
			continue;
		/* "tp/syscalls/sys_enter_setuid" -> EVENTS/syscalls/sys_enter_setuid */
		snprintf(path, sizeof(path), "%s/%s", events, strncmp(sec, "tp/", 3) ? sec : sec + 3);
		if (stat(path, &st))
			why = "the syscalls' tracepoints (CONFIG_FTRACE_SYSCALLS)";
	}
	if (!why)
		return;
	bpf_object__for_each_program(prog, skel->obj)
		if (!strncmp(bpf_program__name(prog), prefix, strlen(prefix)))
			bpf_program__set_autoload(prog, false);
	kcaps__lack(caps, cap, why);
}

void loader_priv__configure(struct firstlight_bpf *skel, struct kcaps *caps)
{
	const char *events = loader_priv__events_dir();

	configure_group(skel, caps, events, PRIV_PREFIX, KCAP_PRIVILEGE_CHANGES);
	configure_group(skel, caps, events, SOCK_PREFIX, KCAP_SOCKET_FAMILIES);
}
