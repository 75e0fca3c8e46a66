/* Configuring and attaching the network programs; see loader_net.h. */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "firstlight.h"
#include "firstlight.skel.h"
#include "sensor/kcaps.h"
#include "sensor/loader_net.h"
#include "base/log.h"

int loader_net__configure(struct firstlight_bpf *skel, const struct kcaps *caps)
{
	struct bpf_program *cgroup_progs[] = {
		skel->progs.fl_connect4, skel->progs.fl_connect6, skel->progs.fl_udp_sendmsg4,
		skel->progs.fl_udp_sendmsg6, skel->progs.fl_unix_connect,
	};
	int err = 0;

	/* Attached by loader_net__attach, to the cgroup2 root: not by the skeleton. */
	for (size_t i = 0; i < sizeof(cgroup_progs) / sizeof(cgroup_progs[0]); i++)
		bpf_program__set_autoattach(cgroup_progs[i], false);

	if (!caps->sock_send_length) {
		bpf_program__set_autoload(skel->progs.fl_sock_send, false);
		bpf_program__set_autoload(skel->progs.fl_udp_sendmsg4, false);
		bpf_program__set_autoload(skel->progs.fl_udp_sendmsg6, false);
	}
	if (caps->unix_connect_type < 0) {
		bpf_program__set_autoload(skel->progs.fl_unix_connect, false);
	} else {
		err = bpf_program__set_expected_attach_type(skel->progs.fl_unix_connect,
							    (enum bpf_attach_type)caps->unix_connect_type);
		if (err)
			log_error("setting the unix connect attach type: %s", strerror(-err));
	}
	return err;
}

/* The first cgroup2 mount (/sys/fs/cgroup/unified on hybrid hosts). 0 or -ENOENT. */
static int cgroup2_root(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2") &&
		    snprintf(buf, len, "%s", m->mnt_dir) < (int)len) {
			err = 0;
			break;
		}
	}
	endmntent(f);
	return err;
}

void loader_net__lack_cgroup2(struct kcaps *caps)
{
	/* kcaps__log names each in a warning; the record lists them. */
	kcaps__lack(caps, KCAP_UDP_CONNECTS, "a cgroup2 mount (the cgroup hooks attach to its root)");
	kcaps__lack(caps, KCAP_UDP_DATAGRAMS, "a cgroup2 mount (the cgroup hooks attach to its root)");
	kcaps__lack(caps, KCAP_UNIX_CONNECTS, "a cgroup2 mount (the cgroup hooks attach to its root)");
	kcaps__lack(caps, KCAP_UNIX_PEERS, "a cgroup2 mount (the cgroup hooks attach to its root)");
}

int loader_net__attach(struct firstlight_bpf *skel, struct kcaps *caps, int *n_attached)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} progs[] = {
		{ skel->progs.fl_connect4, &skel->links.fl_connect4 },
		{ skel->progs.fl_connect6, &skel->links.fl_connect6 },
		{ skel->progs.fl_udp_sendmsg4, &skel->links.fl_udp_sendmsg4 },
		{ skel->progs.fl_udp_sendmsg6, &skel->links.fl_udp_sendmsg6 },
		{ skel->progs.fl_unix_connect, &skel->links.fl_unix_connect },
	};
	char root[4096];
	int fd, err, connect_hooks = 0;

	err = cgroup2_root(root, sizeof(root));
	if (err) {
		loader_net__lack_cgroup2(caps);
		return 0;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error("opening the cgroup2 root %s: %s", root, strerror(errno));
		return err;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_link *link;

		if (!bpf_program__autoload(progs[i].prog))
			continue;
		link = bpf_program__attach_cgroup(progs[i].prog, fd);
		if (!link) {
			err = -errno;
			log_error("attaching %s to the cgroup2 root %s: %s",
				  bpf_program__name(progs[i].prog), root, strerror(errno));
			break;
		}
		*progs[i].link = link; /* destroyed with the skeleton */
		(*n_attached)++;
		connect_hooks += progs[i].prog == skel->progs.fl_connect4 ||
				 progs[i].prog == skel->progs.fl_connect6;
	}
	close(fd);
	/* Both connect hooks in place: they record TCP connect owners from now on; not in
	 * the legacy map, whose entries only state changes may make (see fl_connect). */
	if (!err && connect_hooks == 2 && (caps->kfeat & FL_KFEAT_SK_STORAGE))
		__atomic_store_n(&skel->data->tcp_owner_in_tp, 0, __ATOMIC_RELEASE);
	return err;
}

int loader_net__skipped(const int fds[2], uint64_t *skipped)
{
	*skipped = 0;
	for (size_t i = 0; i < 2; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		if (fds[i] < 0)
			continue; /* not loaded on this kernel */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			return -errno;
		*skipped += info.recursion_misses;
	}
	return 0;
}
