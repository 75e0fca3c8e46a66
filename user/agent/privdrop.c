/* Least privilege at run time: capabilities, no-new-privs, seccomp; see privdrop.h. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "agent/privdrop.h"
#include "base/log.h"
#include "base/threadcaps.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#if defined(__x86_64__)
#define FL_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FL_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "privdrop: the seccomp filter knows x86_64 and arm64 only"
#endif

/* The sanitizer build's leak checker stops the world at exit from a child it clones,
 * which ptraces our threads: allowed there only. */
#if defined(__SANITIZE_ADDRESS__)
#define FL_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FL_SANITIZER 1
#endif
#endif

#define KEEP_CAPS ((1ull << CAP_BPF) | (1ull << CAP_DAC_READ_SEARCH))

/*
 * What the agent's threads call after the start: the event loop (epoll, timers, signals,
 * the ring buffer and maps through bpf()), the store (files in the data dir: write,
 * fsync, rename, unlink, directories), the shipper and the NATS client (sockets, poll,
 * reconnect threads, TLS files), the HTTP server (accept, poll), the resolver (openat,
 * getdents, fstat of bundles), memory, time, threads and futexes. A syscall missing
 * from here fails with EPERM, which every caller reports as an error: the e2e suite
 * runs with it.
 */
static const int allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_close,
	SYS_openat, SYS_fstat, SYS_newfstatat, SYS_statx, SYS_lseek, SYS_getdents64,
	SYS_readlinkat, SYS_faccessat, SYS_fstatfs, SYS_statfs, SYS_fcntl, SYS_ioctl, SYS_dup,
	SYS_dup3, SYS_pipe2, SYS_eventfd2, SYS_fsync, SYS_fdatasync, SYS_ftruncate,
	SYS_fallocate, SYS_renameat, SYS_unlinkat, SYS_mkdirat, SYS_fchmod, SYS_fchmodat,
	SYS_fchown, SYS_utimensat, SYS_flock, SYS_getcwd, SYS_umask, SYS_sync_file_range,
	SYS_mmap, SYS_munmap, SYS_mprotect, SYS_madvise, SYS_brk, SYS_mremap, SYS_membarrier,
	SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_pwait, SYS_ppoll, SYS_pselect6,
	SYS_timerfd_create, SYS_timerfd_settime, SYS_timerfd_gettime, SYS_signalfd4,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigtimedwait,
	SYS_sigaltstack, SYS_tgkill, SYS_restart_syscall,
	SYS_futex, SYS_set_robust_list, SYS_get_robust_list, SYS_rseq, SYS_set_tid_address,
	SYS_sched_yield, SYS_sched_getaffinity, SYS_exit, SYS_exit_group, SYS_gettid,
	SYS_getpid, SYS_getppid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
	SYS_getresuid, SYS_getresgid, SYS_capget, SYS_prctl, SYS_prlimit64, SYS_getrusage,
	SYS_uname, SYS_sysinfo, SYS_getrandom, SYS_clock_gettime, SYS_clock_getres,
	SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday, SYS_times,
	SYS_socket, SYS_socketpair, SYS_connect, SYS_accept4, SYS_bind, SYS_listen,
	SYS_shutdown, SYS_getsockname, SYS_getpeername, SYS_getsockopt, SYS_setsockopt,
	SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg,
	SYS_bpf,
#ifdef SYS_epoll_pwait2
	SYS_epoll_pwait2,
#endif
#ifdef SYS_faccessat2
	SYS_faccessat2,
#endif
#ifdef SYS_renameat2
	SYS_renameat2,
#endif
#ifdef SYS_close_range
	SYS_close_range,
#endif
#if defined(__x86_64__)
	SYS_open, SYS_stat, SYS_lstat, SYS_access, SYS_readlink, SYS_rename, SYS_unlink,
	SYS_mkdir, SYS_rmdir, SYS_poll, SYS_select, SYS_epoll_wait, SYS_epoll_create, SYS_dup2,
	SYS_pipe, SYS_arch_prctl, SYS_time, SYS_getdents, SYS_accept, SYS_chmod,
#endif
#ifdef FL_SANITIZER
	SYS_ptrace, SYS_wait4, SYS_waitid, SYS_sched_getparam, SYS_sched_getscheduler,
#endif
};

#define N_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))
#define PROG_MAX (12 + N_ALLOWED)
enum { TO_DENY = -1, TO_ALLOW = -2 };

struct prog {
	struct sock_filter f[PROG_MAX];
	int jt[PROG_MAX], jf[PROG_MAX]; /* TO_DENY, TO_ALLOW, or a relative offset */
	size_t n;
};

static void stmt(struct prog *p, unsigned short code, unsigned int k)
{
	p->f[p->n] = (struct sock_filter)BPF_STMT(code, k);
	p->jt[p->n] = p->jf[p->n] = 0;
	p->n++;
}

static void jump(struct prog *p, unsigned short code, unsigned int k, int jt, int jf)
{
	p->f[p->n] = (struct sock_filter)BPF_JUMP(code, k, 0, 0);
	p->jt[p->n] = jt;
	p->jf[p->n] = jf;
	p->n++;
}

/* The offsets to the two verdicts at the end, once the program's length is known. */
static int resolve(struct prog *p)
{
	size_t deny = p->n - 2, allow = p->n - 1;

	for (size_t i = 0; i < p->n; i++) {
		int *j[2] = { &p->jt[i], &p->jf[i] };
		unsigned char *out[2] = { &p->f[i].jt, &p->f[i].jf };

		for (int k = 0; k < 2; k++) {
			long off = *j[k] == TO_DENY ? (long)(deny - i - 1) :
				   *j[k] == TO_ALLOW ? (long)(allow - i - 1) : *j[k];

			if (off < 0 || off > 255)
				return -E2BIG;
			*out[k] = (unsigned char)off;
		}
	}
	return 0;
}

static int install_seccomp(void)
{
	struct prog p = { .n = 0 };
	struct sock_fprog prog;
	int err;

	/* Another architecture's numbers would mean other calls: killed. */
	stmt(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	jump(&p, BPF_JMP | BPF_JEQ | BPF_K, FL_AUDIT_ARCH, 1, 0);
	stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	stmt(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 system calls share the architecture's tag: refused. */
	jump(&p, BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, TO_DENY, 0);
#endif
	/* clone3 keeps its flags in memory, out of the filter's sight: ENOSYS makes glibc
	 * fall back to clone, whose flags it sees. */
	jump(&p, BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	/* clone: new threads only (a new process is what a compromised thread would want). */
	jump(&p, BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 2);
	stmt(&p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])); /* low word */
#ifdef FL_SANITIZER
	jump(&p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, TO_ALLOW, TO_ALLOW);
#else
	jump(&p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, TO_ALLOW, TO_DENY);
#endif
	for (size_t i = 0; i < N_ALLOWED; i++)
		jump(&p, BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)allowed[i], TO_ALLOW, 0);
	stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	stmt(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	err = resolve(&p);
	if (err)
		return err;
	prog = (struct sock_fprog){ .len = (unsigned short)p.n, .filter = p.f };
	/* TSYNC: every thread gets the filter (and no-new-privs) at once, or none does; a
	 * positive return is the thread that could not follow. */
	err = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (err > 0) {
		log_error("privileges: seccomp: thread %d cannot take the filter", err);
		return -EBUSY;
	}
	if (err) {
		err = -errno;
		log_error("privileges: seccomp: %s", strerror(errno));
		return err;
	}
	return 0;
}

int privdrop__apply(void)
{
	char why[160];
	int err;

	err = threadcaps__limit(KEEP_CAPS, why, sizeof(why));
	if (err) {
		log_error("privileges: lowering the capabilities of every thread: %s", why);
		return err;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		log_error("privileges: no-new-privs: %s", strerror(errno));
		return err;
	}
	return install_seccomp();
}
