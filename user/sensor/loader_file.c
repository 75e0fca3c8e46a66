/* The file-access programs before and after load; see loader_file.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "firstlight.skel.h"
#include "base/log.h"
#include "sensor/kcaps.h"
#include "sensor/loader_file.h"
#include "sensor/loader_priv.h"
#include "sensor/watchpaths.h"

#define FILE_PREFIX "fl_file_"

/* Whether the kernel's BTF has the kfunc the programs call (bpf_rdonly_cast: 6.2+). */
static int has_rdonly_cast(const char *btf_path)
{
	struct btf *btf = btf_path ? btf__parse(btf_path, NULL) : btf__load_vmlinux_btf();
	int found;

	if (!btf)
		return 0;
	found = btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return found;
}

static const char *why_not(struct firstlight_bpf *skel, const struct kcaps *caps,
			   const char *btf_path)
{
	const char *events = loader_priv__events_dir();
	struct bpf_program *prog;

	if (!caps->loop)
		return "bpf_loop (5.17+)";
	if (!has_rdonly_cast(btf_path))
		return "the bpf_rdonly_cast kfunc (6.2+)";
	if (!events)
		return "tracefs (mounting it on /sys/kernel/tracing failed)";
	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		char path[256];
		struct stat st;

		if (strncmp(bpf_program__name(prog), FILE_PREFIX, strlen(FILE_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", events, strncmp(sec, "tp/", 3) ? sec : sec + 3);
		if (stat(path, &st))
			return "the open syscalls' tracepoints (CONFIG_FTRACE_SYSCALLS)";
	}
	return NULL;
}

void loader_file__configure(struct firstlight_bpf *skel, struct kcaps *caps,
			    const struct watchpaths *watch, const char *btf_path)
{
	const char *why = why_not(skel, caps, btf_path);
	struct watchpaths defaults;
	struct watch_filter f;
	struct bpf_program *prog;

	if (!watch) {
		watchpaths__init(&defaults);
		watch = &defaults;
	}
	if (!why) {
		watchpaths__filter(watch, &f);
		memcpy((void *)skel->rodata->cfg_watch_bits, f.bits, sizeof(f.bits));
		skel->rodata->cfg_watch_heads = f.heads;
		memcpy((void *)skel->rodata->cfg_watch_lens, f.lens, sizeof(f.lens));
		return;
	}
	bpf_object__for_each_program(prog, skel->obj)
		if (!strncmp(bpf_program__name(prog), FILE_PREFIX, strlen(FILE_PREFIX)))
			bpf_program__set_autoload(prog, false);
	kcaps__lack(caps, KCAP_FILE_ACCESS, why);
}

int loader_file__fill(struct firstlight_bpf *skel, const struct watchpaths *watch)
{
	int fd = bpf_map__fd(skel->maps.watch_exact);
	struct watchpaths defaults;

	if (!watch) {
		watchpaths__init(&defaults);
		watch = &defaults;
	}
	for (size_t i = 0; i < watch->n; i++) {
		struct fl_watch_key k;
		uint32_t idx = (uint32_t)i;
		int err;

		watchpaths__key(watch, i, &k);
		err = bpf_map_update_elem(fd, &k, &idx, BPF_ANY) ? -errno : 0;
		if (err) {
			log_error("watched path %s: into the kernel's set: %s", watch->pattern[i],
				  strerror(-err));
			return err;
		}
	}
	return 0;
}
