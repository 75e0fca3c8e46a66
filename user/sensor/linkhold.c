/* A second holder of the links slow to release; see linkhold.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensor/linkhold.h"

#define PIPE_FD 3  /* where the holder finds the pipe's end */
#define FIRST_LINK_FD 4

/*
 * In the child of a process with threads: async-signal-safe calls only, up to execv.
 * Every descriptor is marked close-on-exec, then the links get copies without the mark,
 * the pipe's end goes to PIPE_FD and /dev/null to 0, 1 and 2 (a pipe the agent's output
 * goes to must end when the agent does, not when the holder does). A failure is said
 * with a byte on status (close-on-exec: a successful exec closes it unwritten).
 */
static void exec_holder(const int *fds, size_t n, int pipe_rd, int status, char *const argv[])
{
	int nul;

	if (close_range(PIPE_FD, ~0u, CLOSE_RANGE_CLOEXEC))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (fcntl(fds[i], F_DUPFD, FIRST_LINK_FD) < 0)
			goto fail;
	/* dup2 onto itself would keep the close-on-exec mark. */
	if (pipe_rd == PIPE_FD ? fcntl(PIPE_FD, F_SETFD, 0) < 0 : dup2(pipe_rd, PIPE_FD) < 0)
		goto fail;
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0)
		for (int fd = 0; fd <= 2; fd++)
			dup2(nul, fd);
	execv("/proc/self/exe", argv);
fail:
	(void)!write(status, "x", 1);
	_exit(1);
}

int linkhold__start(const int *fds, size_t n)
{
	static char arg0[] = "firstlight", arg1[] = LINKHOLD_COMMAND;
	char *const argv[] = { arg0, arg1, NULL };
	int pipefd[2], status_pipe[2] = { -1, -1 }, status = 0, err = 0;
	pid_t child;
	char c;

	if (!n)
		return -EINVAL;
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	if (pipe2(status_pipe, O_CLOEXEC)) {
		err = -errno;
		goto out;
	}
	/* Kernels before 5.11 cannot mark a range close-on-exec: no holder there. */
	if (close_range((unsigned int)status_pipe[0], (unsigned int)status_pipe[0], CLOSE_RANGE_CLOEXEC)) {
		err = -errno;
		goto out;
	}
	/* Through a child that exits at once: the holder is nobody's to reap. */
	child = fork();
	if (child == 0) {
		pid_t holder = fork();

		if (holder == 0)
			exec_holder(fds, n, pipefd[0], status_pipe[1], argv);
		_exit(holder < 0 ? 1 : 0);
	}
	if (child < 0) {
		err = -errno;
		goto out;
	}
	close(status_pipe[1]);
	status_pipe[1] = -1;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		err = -ECHILD;
		goto out;
	}
	/* End of file: the holder's exec closed its end; a byte: it failed before. */
	while ((err = (int)read(status_pipe[0], &c, 1)) < 0 && errno == EINTR)
		;
	err = err == 0 ? 0 : -ENOEXEC;
out:
	close(pipefd[0]);
	for (int i = 0; i < 2; i++)
		if (status_pipe[i] >= 0)
			close(status_pipe[i]);
	if (err) {
		close(pipefd[1]);
		return err;
	}
	return pipefd[1];
}

int linkhold__main(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2];
	struct stat st;
	sigset_t all;
	char c;

	if (fstat(PIPE_FD, &st) || !S_ISFIFO(st.st_mode)) {
		fprintf(stderr, "firstlight: " LINKHOLD_COMMAND " is the agent's own helper, "
				"not a command\n");
		return 2;
	}
	/* The agent's mask came through the exec (it takes SIGINT, SIGTERM and SIGHUP from a
	 * signalfd): unblocked, so that a plain kill of the holder works. */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* Closing a descriptor needs no privilege: keep none. */
	memset(none, 0, sizeof(none));
	syscall(SYS_capset, &hdr, none);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* Named last: a process that shows the name has given up all of the above. */
	prctl(PR_SET_NAME, "fl-linkhold", 0, 0, 0);
	/* End of file: the agent has closed its copies, or is gone. */
	while (read(PIPE_FD, &c, 1) < 0 && errno == EINTR)
		;
	close_range(0, ~0u, 0);
	return 0;
}
