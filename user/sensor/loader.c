/* Open, configure, load, attach: the fixed libbpf lifecycle, with causes named. */
#include <errno.h>
#include <pthread.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <openssl/evp.h>

#include "firstlight.skel.h"
#include "base/clock.h"
#include "sensor/linkhold.h"
#include "sensor/loader.h"
#include "sensor/loader_net.h"
#include "sensor/loader_priv.h"
#include "sensor/loader_file.h"
#include "base/log.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define SEED_READ_BYTES (64 * 1024)

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf is chatty (verifier logs run to thousands of lines): only with -v. The
	 * failures that matter are reported by us as one line each. */
	(void)level;
	if (log__level() < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Effective capabilities of this process, without a libcap dependency. */
static int effective_caps(uint64_t *caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*caps = (uint64_t)data[1].effective << 32 | data[0].effective;
	return 0;
}

/* libbpf's own error numbers (4000 and up) mean the file is not what it should be;
 * strerror would say "Unknown error 4001". */
static const char *btf_strerror(int e)
{
	return e >= 4000 ? "not a BTF file (neither raw BTF nor an ELF file with a .BTF section)" :
			   strerror(e);
}

/*
 * The least set the agent runs under (found by running it under exactly this set on 6.18,
 * docs/deployment.md): each capability with what fails without it. CAP_SYS_ADMIN is not
 * among them: CAP_BPF + CAP_PERFMON load and attach the tracing programs and iterators,
 * CAP_NET_ADMIN the cgroup socket programs.
 */
#define CAPS_NEEDED "CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_PTRACE"

int loader__check_host(const char *btf_path)
{
	static const struct {
		int cap;
		const char *name;
		const char *why;
	} need[] = {
		{ CAP_BPF, "CAP_BPF", "BPF maps, programs, links and pins" },
		{ CAP_PERFMON, "CAP_PERFMON", "tracing programs and iterators, reading kernel memory" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN", "the cgroup socket programs (connects, UDP, unix)" },
		{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
		  "the binary and cwd of processes alive at start, from /proc/PID/exe and cwd" },
	};
	uint64_t caps = 0;
	int err = effective_caps(&caps);

	if (err) {
		log_error("cannot read capabilities: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!(caps & (1ull << need[i].cap))) {
			log_error("missing capability %s (%s): run as root, or grant " CAPS_NEEDED,
				  need[i].name, need[i].why);
			return -EPERM;
		}
	}
	if (access(btf_path ? btf_path : BTF_PATH, R_OK)) {
		log_error("no kernel BTF at %s (%s): firstlight needs a kernel built with "
			  "CONFIG_DEBUG_INFO_BTF=y, or --btf FILE",
			  btf_path ? btf_path : BTF_PATH, strerror(errno));
		return -ENOENT;
	}
	/* A file given by hand is parsed now, before the data dir is touched: a wrong one
	 * must not leave a run of no records in the chain. The kernel's own needs no check. */
	if (btf_path) {
		struct btf *btf;
		struct stat st = {};
		int e;

		libbpf_set_print(libbpf_log); /* its complaint is ours to say, in one line */
		btf = stat(btf_path, &st) || S_ISREG(st.st_mode) ? btf__parse(btf_path, NULL) : NULL;
		e = btf ? 0 : S_ISDIR(st.st_mode) ? EISDIR : errno;

		if (!btf) {
			log_error("--btf %s: %s: give the target kernel's BTF (its "
				  "/sys/kernel/btf/vmlinux, or a vmlinux built with BTF)", btf_path,
				  btf_strerror(e));
			return -EINVAL;
		}
		btf__free(btf);
	}
	return 0;
}

/*
 * Program variants, chosen from what the kernel has (kcaps): exactly one of each set is
 * loaded. sched_process_exit: fl_exit uses group_dead (recent kernels; 6.18 has it, 6.1
 * does not), fl_exit_legacy and fl_exit_legacy_slots read signal->live, the second where
 * fl_exec claims live slots (it frees them with compare-and-exchange, which 5.10 refuses).
 * sched_process_exec: fl_exec walks paths with bpf_loop (5.17+), fl_exec_bounded with a
 * bounded loop.
 */
static void choose_variants(struct firstlight_bpf *skel, const struct kcaps *c)
{
	bpf_program__set_autoload(skel->progs.fl_exit, c->exit_group_dead);
	bpf_program__set_autoload(skel->progs.fl_exit_legacy, !c->exit_group_dead && !c->loop);
	bpf_program__set_autoload(skel->progs.fl_exit_legacy_slots, !c->exit_group_dead && c->loop);
	/* Only the legacy variant deduplicates its threads' reports through exit_claims. */
	bpf_map__set_autocreate(skel->maps.exit_claims, !c->exit_group_dead);
	log_debug("sched_process_exit %s group_dead: loading %s", c->exit_group_dead ? "has" : "lacks",
		  c->exit_group_dead ? "fl_exit" : c->loop ? "fl_exit_legacy_slots" : "fl_exit_legacy");
	bpf_program__set_autoload(skel->progs.fl_exec, c->loop);
	bpf_program__set_autoload(skel->progs.fl_exec_bounded, !c->loop);
	log_debug("bpf_loop %s: loading %s", c->loop ? "present" : "absent",
		  c->loop ? "fl_exec" : "fl_exec_bounded");
	skel->rodata->cfg_kfeat = c->kfeat;
}

/*
 * The live tables (bpf/maps.bpf.h) hold max_procs entries between them: the slots the
 * largest power of two not above half of it, the hash the rest, so that pids sharing a
 * slot have room. Only fl_exec claims slots (it needs bpf_loop, 5.17+); where
 * fl_exec_bounded runs, the hash holds them all and the slots get one unused entry.
 */
static int size_live_tables(struct firstlight_bpf *skel, uint32_t max_procs, bool claim)
{
	uint32_t slots = 1;
	int err;

	while (claim && slots <= max_procs / 4)
		slots *= 2;
	skel->rodata->cfg_live_slot_mask = slots - 1;
	err = bpf_map__set_max_entries(skel->maps.live_slots, slots);
	return err ? err : bpf_map__set_max_entries(skel->maps.live_procs,
						     max_procs - (claim ? slots : 0));
}

/* Opens the skeleton and configures it as opts say, variants chosen: what loading
 * afresh and adopting share, so that both decide alike on one kernel. */
static int open_configured(struct loader *l, const struct loader_opts *opts)
{
	struct firstlight_bpf *skel;
	struct bpf_program *prog;
	int err, ncpus;

	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = opts->btf_path);

	memset(l, 0, sizeof(*l));
	l->net_fds[0] = l->net_fds[1] = -1;
	libbpf_set_print(libbpf_log);
	err = kcaps__probe(&l->caps, opts->btf_path);
	if (err)
		return err;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		log_error("cannot count CPUs: %s", strerror(-ncpus));
		return ncpus;
	}
	skel = firstlight_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		log_error("opening the BPF object failed: %s", strerror(errno));
		return err;
	}
	l->skel = skel;
	skel->rodata->cfg_args_max = opts->args_max_bytes;
	skel->rodata->cfg_wakeup_bytes = opts->wakeup_bytes;
	skel->rodata->cfg_ring_bytes = opts->ring_bytes;
	skel->rodata->cfg_share_bytes = opts->share_bytes;
	skel->rodata->cfg_headroom_bytes = opts->headroom_bytes;
	err = bpf_map__set_max_entries(skel->maps.events, opts->ring_bytes);
	if (!err)
		err = size_live_tables(skel, opts->max_procs, l->caps.loop);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.exec_scratch, (uint32_t)ncpus);
	/* Socket state lives in socket storage where tracing programs may use it (5.11+). */
	if (!err && (l->caps.kfeat & FL_KFEAT_SK_STORAGE))
		err = bpf_map__set_max_entries(skel->maps.sock_state_legacy, 1);
	if (err) {
		log_error("configuring maps failed: %s", strerror(-err));
		return err;
	}
	choose_variants(skel, &l->caps);
	err = loader_net__configure(skel, &l->caps);
	if (err)
		return err;
	loader_priv__configure(skel, &l->caps);
	loader_file__configure(skel, &l->caps, opts->watch, opts->btf_path);
	/* The iterator runs on demand (loader__seed), not as a standing attachment. */
	bpf_program__set_autoattach(skel->progs.fl_seed, false);
	bpf_object__for_each_program(prog, skel->obj)
		if (bpf_program__autoload(prog) && l->n_progs < LOADER_MAX_PROGS)
			l->progs[l->n_progs++] = bpf_program__name(prog);
	return 0;
}

/*
 * A link on a syscall's tracepoint (a perf event link, or a bare perf event where the
 * kernel has no such link) is slow to release (sensor/linkhold.h). Not when pinned: then
 * the pin, not our descriptor, holds it.
 */
static int releases_slowly(struct bpf_link *link)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	if (bpf_link__pin_path(link))
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len))
		return 1;
	return info.type == BPF_LINK_TYPE_PERF_EVENT;
}

/* After attach, before privileges go: the second holder of the slow links. */
static void start_link_holder(struct loader *l)
{
	struct bpf_object_skeleton *s = l->skel->skeleton;
	int fds[LOADER_MAX_PROGS];
	size_t n = 0;

	for (int i = 0; i < s->prog_cnt && n < LOADER_MAX_PROGS; i++) {
		struct bpf_link **link = s->progs[i].link;

		if (link && *link && releases_slowly(*link))
			fds[n++] = bpf_link__fd(*link);
	}
	if (!n)
		return;
	l->hold_fd = linkhold__start(fds, n);
	l->holder = l->hold_fd >= 0;
	if (!l->holder)
		log_debug("no second holder of the %zu syscall tracepoint links (%s): stopping "
			  "waits for their release", n, strerror(-l->hold_fd));
}

int loader__start(struct loader *l, const struct loader_opts *opts)
{
	struct firstlight_bpf *skel;
	struct bpf_program *prog;
	int err;

	err = open_configured(l, opts);
	if (err)
		goto fail;
	skel = l->skel;
	err = firstlight_bpf__load(skel);
	if (err) {
		log_error("loading BPF programs failed: %s%s", strerror(-err),
			  err == -EPERM ? " (needs root or " CAPS_NEEDED ")"
					: " (rerun with -v for the verifier log)");
		goto fail;
	}
	if (kcaps__has(&l->caps, KCAP_FILE_ACCESS)) {
		err = loader_file__fill(skel, opts->watch);
		if (err)
			goto fail;
	}
	err = firstlight_bpf__attach(skel);
	if (err) {
		log_error("attaching BPF programs failed: %s", strerror(-err));
		goto fail;
	}
	bpf_object__for_each_program(prog, skel->obj)
		if (bpf_program__autoload(prog) && bpf_program__autoattach(prog))
			l->n_attached++;
	err = loader_net__attach(skel, &l->caps, &l->n_attached);
	if (err)
		goto fail;
	kcaps__log(&l->caps);
	start_link_holder(l);
	/* From here on every new process has a fork event: the iterator skips those. */
	skel->bss->seed_before_ns = clock__boot_ns();
	return 0;
fail:
	loader__stop(l);
	return err;
}

int loader__pin_meta(const struct loader_opts *opts, struct fl_pin_meta *m)
{
	size_t len;
	const void *elf = firstlight_bpf__elf_bytes(&len);
	unsigned int hlen = 0;

	memset(m, 0, sizeof(*m));
	m->layout = FL_PIN_LAYOUT;
	m->ring_bytes = opts->ring_bytes;
	m->args_max_bytes = opts->args_max_bytes;
	m->max_procs = opts->max_procs;
	m->share_bytes = (uint32_t)opts->share_bytes; /* at most the ring: 1 GiB */
	m->headroom_bytes = (uint32_t)opts->headroom_bytes;
	/* The object built into this binary, byte for byte: programs, maps, their BTF. */
	if (!EVP_Digest(elf, len, m->object_sha256, &hlen, EVP_sha256(), NULL) ||
	    hlen != sizeof(m->object_sha256))
		return -EIO;
	return 0;
}

/* "map_NAME", "prog_NAME", "link_NAME": bpffs refuses dots in names (reserved for its
 * own files), and internal maps' names have one (".bss"). */
static const char *pin_name(char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, "%s_%s", kind, name);
	for (char *c = buf; *c; c++)
		if (*c == '.')
			*c = '_';
	return buf;
}

int loader__pin(struct loader *l, struct pins *p, const struct loader_opts *opts, const char *run_id)
{
	struct bpf_object_skeleton *s = l->skel->skeleton;
	struct fl_pin_meta m;
	struct bpf_map *map;
	char name[128];
	int err = 0;

	bpf_object__for_each_map(map, l->skel->obj) {
		if (bpf_map__fd(map) < 0)
			continue; /* not created on this kernel */
		err = pins__pin(p, pin_name(name, sizeof(name), "map", bpf_map__name(map)), bpf_map__fd(map));
		if (err)
			return err;
	}
	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_program *prog = *s->progs[i].prog;
		struct bpf_link *link = *s->progs[i].link;

		if (bpf_program__fd(prog) < 0)
			continue;
		err = pins__pin(p, pin_name(name, sizeof(name), "prog", bpf_program__name(prog)),
				bpf_program__fd(prog));
		if (!err && link)
			err = pins__pin(p, pin_name(name, sizeof(name), "link", bpf_program__name(prog)),
					bpf_link__fd(link));
		if (err)
			return err;
	}
	err = loader__pin_meta(opts, &m);
	if (err) {
		log_error("hashing the BPF object: %s", strerror(-err));
		return err;
	}
	snprintf(m.run_id, sizeof(m.run_id), "%s", run_id);
	return pins__commit(p, &m);
}

int loader__adopt(struct loader *l, const struct loader_opts *opts, struct pins *p, const char *run_id)
{
	struct firstlight_bpf *skel;
	struct bpf_program *prog;
	struct bpf_map *map;
	struct fl_pin_meta m;
	char name[128];
	int err, fd, cgroup_links = 0;

	err = open_configured(l, opts);
	if (err)
		goto fail;
	skel = l->skel;
	/* Every map this kernel would have us create was pinned: take it. */
	bpf_object__for_each_map(map, skel->obj) {
		if (!bpf_map__autocreate(map))
			continue;
		fd = pins__get(p, pin_name(name, sizeof(name), "map", bpf_map__name(map)));
		if (fd < 0) {
			err = fd;
			log_error("pin dir %s: %s: %s", pins__dir(p), name, strerror(-err));
			goto fail;
		}
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err) {
			log_error("pin dir %s: taking %s: %s", pins__dir(p), name, strerror(-err));
			goto fail;
		}
	}
	/* The programs stay the previous agent's; only the iterator is ours to load. */
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog) || prog == skel->progs.fl_seed)
			continue;
		if (!pins__has(p, pin_name(name, sizeof(name), "prog", bpf_program__name(prog)))) {
			err = -ENOENT;
			log_error("pin dir %s: %s: not pinned", pins__dir(p), name);
			goto fail;
		}
		if (pins__has(p, pin_name(name, sizeof(name), "link", bpf_program__name(prog)))) {
			l->n_attached++;
			cgroup_links += !bpf_program__autoattach(prog);
		}
		bpf_program__set_autoload(prog, false);
	}
	/* The cgroup hooks were not attached: the node had no cgroup2 mount then. */
	if (!cgroup_links)
		loader_net__lack_cgroup2(&l->caps);
	l->net_fds[0] = pins__get(p, "prog_fl_tcp_state");
	l->net_fds[1] = pins__get(p, "prog_fl_sock_send");
	err = firstlight_bpf__load(skel);
	if (err) {
		log_error("loading the seeding iterator over the pinned maps failed: %s", strerror(-err));
		goto fail;
	}
	l->adopted = 1;
	kcaps__log(&l->caps);
	err = loader__pin_meta(opts, &m);
	if (err) {
		log_error("hashing the BPF object: %s", strerror(-err));
		goto fail;
	}
	snprintf(m.run_id, sizeof(m.run_id), "%s", run_id);
	err = pins__commit(p, &m);
	if (err)
		goto fail;
	return 0;
fail:
	loader__stop(l);
	return err;
}

uint64_t loader__first_load_ns(struct loader *l)
{
	return l->skel->bss->seed_before_ns;
}

int loader__skipped(struct loader *l, uint64_t *skipped)
{
	int fds[2] = { l->net_fds[0], l->net_fds[1] };

	if (!l->adopted) {
		fds[0] = bpf_program__fd(l->skel->progs.fl_tcp_state);
		fds[1] = bpf_program__fd(l->skel->progs.fl_sock_send);
	}
	return loader_net__skipped(fds, skipped);
}

/*
 * Without the second holder, a slow link's release is ours to wait for: from several
 * threads at once the waits overlap as far as the kernel lets them. A link pinned for a
 * handover stays attached either way (its pin holds it); what cannot get a thread is
 * detached here, in turn.
 */
#define DETACH_THREADS 8

struct detach_share {
	struct bpf_link **links;
	size_t n, from, step;
};

static void *detach_some(void *arg)
{
	struct detach_share *d = arg;

	for (size_t i = d->from; i < d->n; i += d->step)
		bpf_link__destroy(d->links[i]);
	return NULL;
}

static void detach_all(struct loader *l)
{
	struct bpf_object_skeleton *s = l->skel->skeleton;
	struct detach_share share[DETACH_THREADS];
	pthread_t th[DETACH_THREADS];
	int started[DETACH_THREADS] = { 0 };
	struct bpf_link **links;
	size_t n = 0;

	links = calloc((size_t)s->prog_cnt, sizeof(*links));
	if (!links)
		return; /* the skeleton detaches them itself */
	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_link **link = s->progs[i].link;

		if (link && *link) {
			links[n++] = *link;
			*link = NULL;
		}
	}
	if (l->holder) {
		/* Each close here is quick: the holder keeps the slow ones until it may go. */
		detach_some(&(struct detach_share){ links, n, 0, 1 });
		free(links);
		return;
	}
	for (size_t t = 0; t < DETACH_THREADS; t++) {
		share[t] = (struct detach_share){ links, n, t, DETACH_THREADS };
		started[t] = t < n && !pthread_create(&th[t], NULL, detach_some, &share[t]);
	}
	for (size_t t = 0; t < DETACH_THREADS; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			detach_some(&share[t]);
	}
	free(links);
}

void loader__stop(struct loader *l)
{
	if (l->skel)
		detach_all(l);
	if (l->holder)
		close(l->hold_fd); /* after our copies: the holder's closes are the last */
	l->holder = 0;
	firstlight_bpf__destroy(l->skel);
	for (int i = 0; i < 2; i++)
		if (l->adopted && l->net_fds[i] >= 0)
			close(l->net_fds[i]);
	l->skel = NULL;
	l->n_attached = 0;
	l->adopted = 0;
	l->net_fds[0] = l->net_fds[1] = -1;
}

int loader__ring_fd(struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

void loader__new_epoch(struct loader *l)
{
	/* Only we write it; the programs read it. */
	__atomic_store_n(&l->skel->bss->ring_epoch, l->skel->bss->ring_epoch + 1, __ATOMIC_RELEASE);
}

size_t loader__programs(struct loader *l, const char **names, size_t max)
{
	size_t n = 0;

	for (; n < l->n_progs && n < max; n++)
		names[n] = l->progs[n];
	return n;
}

int loader__seed(struct loader *l, int (*cb)(void *ctx, const struct fl_seed_event *ev),
		 void *ctx)
{
	struct bpf_link *link;
	struct fl_seed_event ev;
	size_t have = 0;
	char *buf;
	int fd, err = 0;

	link = bpf_program__attach_iter(l->skel->progs.fl_seed, NULL);
	if (!link) {
		err = -errno;
		log_error("attaching the task iterator failed: %s", strerror(errno));
		return err;
	}
	/* Adopted programs: every process, which the agent sorts (see fl_seed). */
	l->skel->bss->seed_all = !!l->adopted;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		log_error("creating the task iterator failed: %s", strerror(errno));
		goto out;
	}
	/*
	 * Records are fixed-size, but a read() returns whatever the iterator produced and
	 * may end mid-record: read in large chunks and reassemble. (A read smaller than
	 * what one show() produced loses nothing either, but costs a syscall per record.)
	 */
	buf = malloc(SEED_READ_BYTES);
	if (!buf) {
		err = -ENOMEM;
		goto close;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, SEED_READ_BYTES - have);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			log_error("reading the task iterator failed: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		for (; !err && have - off >= sizeof(ev); off += sizeof(ev)) {
			memcpy(&ev, buf + off, sizeof(ev));
			err = cb(ctx, &ev);
		}
		if (err)
			break;
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	free(buf);
close:
	close(fd);
out:
	l->skel->bss->seed_all = 0;
	bpf_link__destroy(link);
	return err;
}

int loader__read_drops(struct loader *l, struct fl_drop_counter out[FL_DROP_WHY][FL_EV_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	struct fl_drop_counter *per_cpu;
	int fd = bpf_map__fd(l->skel->maps.drops);

	if (ncpus < 0)
		return ncpus;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	memset(out, 0, sizeof(struct fl_drop_counter) * FL_DROP_WHY * FL_EV_MAX);
	for (uint32_t i = 0; i < FL_DROP_WHY * FL_EV_MAX; i++) {
		struct fl_drop_counter *o = &out[i / FL_EV_MAX][i % FL_EV_MAX];

		if (bpf_map_lookup_elem(fd, &i, per_cpu))
			continue;
		for (int c = 0; c < ncpus; c++) {
			struct fl_drop_counter *d = &per_cpu[c];

			if (!d->count)
				continue;
			o->count += d->count;
			if (!o->first_ns || d->first_ns < o->first_ns)
				o->first_ns = d->first_ns;
			if (d->last_ns > o->last_ns)
				o->last_ns = d->last_ns;
		}
	}
	free(per_cpu);
	return 0;
}

uint64_t loader__drop_events(struct loader *l)
{
	return __atomic_load_n(&l->skel->bss->drop_events, __ATOMIC_ACQUIRE);
}

int loader__for_each_cgroup_drops(struct loader *l,
				  void (*cb)(void *ctx, uint64_t cgroup_id,
					     const struct fl_cgroup_drops *d),
				  void *ctx)
{
	int fd = bpf_map__fd(l->skel->maps.cgroup_drops);
	uint64_t key, next;
	struct fl_cgroup_drops d;
	int err;

	/* get_next_key from no key gives the first; an entry evicted meanwhile just ends
	 * the walk early, its counts are still in the per-CPU totals. */
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &d))
			cb(ctx, key, &d);
	}
	return errno == ENOENT ? 0 : -errno;
}

int loader__ring_fill(struct loader *l, uint64_t *used, uint64_t *size)
{
	*size = bpf_map__max_entries(l->skel->maps.events);
	*used = l->skel->bss->ring_peak_bytes;
	l->skel->bss->ring_peak_bytes = 0; /* a peak per reporting interval */
	return 0;
}
