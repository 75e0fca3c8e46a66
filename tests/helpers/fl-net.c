/*
 * Network traffic of known shape for the end-to-end tests and the benchmark: every
 * mode prints what it did as key=value lines (ports, byte counts, errno) so that a test
 * can compare the records with exactly what happened. Servers bind port 0 and write
 * the port they got to a ready file (created atomically), so tests never guess a port.
 *
 * usage:
 *   fl-net tcp-server ADDR READY_FILE CONNS REPLY_BYTES  accept CONNS connections, read each
 *                                               to EOF, answer REPLY_BYTES, close
 *   fl-net tcp-greeter ADDR READY_FILE CONNS     accept CONNS connections, send "hi\n" and
 *                                               close at once (for clients that never
 *                                               half-close, such as busybox nc)
 *   fl-net tcp-client ADDR PORT SEND_BYTES      connect, send, half-close, read to EOF
 *   fl-net tcp-client ADDR PORT SEND_BYTES GO_FILE held|late
 *                                               the same, waiting for GO_FILE to exist
 *                                               after connecting (held) or before (late)
 *   fl-net tcp-refused ADDR                     connect to a port bound but not listening
 *   fl-net udp-server ADDR READY_FILE COUNT     receive COUNT datagrams
 *   fl-net udp-client ADDR PORT COUNT SIZE MODE send COUNT datagrams of SIZE bytes;
 *                                               MODE sendto | connect | mapped (an AF_INET6
 *                                               socket sending to ::ffff:ADDR) | paced
 *                                               (sendto, one every 20 ms)
 *   fl-net unix-server PATH READY_FILE          accept one, read to EOF, answer "ok"
 *   fl-net unix-client PATH SEND_BYTES          connect, send, half-close, read to EOF
 *   fl-net storm ADDR PAIRS WORKERS             PAIRS loopback connect/close pairs against
 *                                               a listener of its own; prints the rate
 *   fl-net udp-spray COUNT                      one 1-byte datagram to each of COUNT distinct
 *                                               loopback peers (127.x.y.z port 9): fills the
 *                                               sensor's UDP map, so its events spill into
 *                                               the ring
 *   fl-net udp-blocked COUNT                    two threads, one UDP socket: thread A's
 *                                               sendto blocks inside the kernel (its buffer is
 *                                               a userfaultfd page, resolved only later) while
 *                                               the main thread sends COUNT datagrams on the
 *                                               same socket; then A's send completes. Sends to
 *                                               a receiver of its own; prints its port, the
 *                                               datagrams sent and received
 *   fl-net free-ports ADDR N                    N TCP ports free now, one per line (for
 *                                               servers that must know each other's
 *                                               ports before they start: a cluster)
 * Exit status: 0 on success, 1 on any failure (with the errno printed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

static int fail(const char *what)
{
	int e = errno;

	printf("errno=%d\n", e);
	fprintf(stderr, "fl-net: %s: %s\n", what, strerror(e));
	return 1;
}

/* ADDR as a socket address of the right family (an IPv6 literal contains ':'). */
static socklen_t sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return 0;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
		return 0;
	return sizeof(*s4);
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Writes text to path atomically (a temporary file, then rename). */
static int write_ready(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

/*
 * No helper may hang a test: every blocking call on fd (accept, read, recv) gives up
 * after 60 s (a deadline for a slow, busy machine, not a wait), and a receiver gets a
 * buffer large enough for a test's burst of datagrams.
 */
static void guard(int fd)
{
	struct timeval tv = { .tv_sec = 60 };
	int rcvbuf = 16 << 20;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
}

/* A socket of ADDR's family bound to ADDR, port 0. */
static int bound_socket(const char *addr, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, 0, &ss);
	int fd;

	if (!len) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	guard(fd);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static long read_all(int fd)
{
	char buf[65536];
	long total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return n < 0 ? -1 : total;
}

static int write_n(int fd, long bytes)
{
	char buf[65536];

	memset(buf, 'x', sizeof(buf));
	while (bytes > 0) {
		ssize_t n = write(fd, buf, bytes < (long)sizeof(buf) ? (size_t)bytes : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		bytes -= n;
	}
	return 0;
}

static int tcp_server(const char *addr, const char *ready, int conns, long reply)
{
	int fd = bound_socket(addr, SOCK_STREAM);
	char text[64];

	if (fd < 0 || listen(fd, 128))
		return fail("listen");
	snprintf(text, sizeof(text), "%d\n", port_of(fd));
	printf("port=%d\n", port_of(fd));
	fflush(stdout);
	if (write_ready(ready, text))
		return fail("ready file");
	for (int i = 0; i < conns; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		long got;

		if (c < 0)
			return fail("accept");
		guard(c);
		got = read_all(c);
		if (got < 0 || write_n(c, reply))
			return fail("serve");
		printf("received=%ld\n", got);
		close(c);
	}
	close(fd);
	return 0;
}

static int tcp_greeter(const char *addr, const char *ready, int conns)
{
	int fd = bound_socket(addr, SOCK_STREAM);
	char text[64];

	if (fd < 0 || listen(fd, 128))
		return fail("listen");
	snprintf(text, sizeof(text), "%d\n", port_of(fd));
	printf("port=%d\n", port_of(fd));
	fflush(stdout);
	if (write_ready(ready, text))
		return fail("ready file");
	for (int i = 0; i < conns; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0 || write(c, "hi\n", 3) != 3)
			return fail("greet");
		close(c);
	}
	close(fd);
	return 0;
}

/* Waits up to 80 s for path to exist (a deadline, not a wait). */
static int wait_file(const char *path)
{
	for (int i = 0; i < 8000; i++) {
		if (access(path, F_OK) == 0)
			return 0;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* go: NULL, or a file to wait for, after connecting (held) or before (!held). */
static int tcp_client(const char *addr, int port, long send_bytes, const char *go, int held)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long got;

	if (!len || fd < 0)
		return fail("socket");
	guard(fd);
	if (go && !held && wait_file(go))
		return fail("waiting to connect");
	if (connect(fd, (struct sockaddr *)&ss, len))
		return fail("connect");
	printf("sport=%d\n", port_of(fd));
	if (go && held && wait_file(go))
		return fail("waiting to send");
	if (write_n(fd, send_bytes) || shutdown(fd, SHUT_WR))
		return fail("send");
	got = read_all(fd);
	if (got < 0)
		return fail("receive");
	printf("sent=%ld\nreceived=%ld\n", send_bytes, got);
	close(fd);
	return 0;
}

/* A port that is ours and closed: bound (so nobody else gets it), never listened on. */
static int tcp_refused(const char *addr)
{
	struct sockaddr_storage ss;
	int hold = bound_socket(addr, SOCK_STREAM), fd, port;
	socklen_t len;

	if (hold < 0)
		return fail("bind");
	port = port_of(hold);
	len = sockaddr_of(addr, port, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	printf("port=%d\n", port);
	if (fd < 0)
		return fail("socket");
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		fprintf(stderr, "fl-net: connect to a closed port succeeded\n");
		return 1;
	}
	printf("errno=%d\n", errno);
	close(fd);
	close(hold);
	return errno == ECONNREFUSED ? 0 : 1;
}

static int udp_server(const char *addr, const char *ready, int count)
{
	int fd = bound_socket(addr, SOCK_DGRAM);
	char text[64], buf[65536];
	long bytes = 0;

	if (fd < 0)
		return fail("bind");
	snprintf(text, sizeof(text), "%d\n", port_of(fd));
	printf("port=%d\n", port_of(fd));
	fflush(stdout);
	if (write_ready(ready, text))
		return fail("ready file");
	for (int i = 0; i < count; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0)
			return fail("recv");
		bytes += n;
	}
	printf("datagrams=%d\nbytes=%ld\n", count, bytes);
	return 0;
}

static int udp_spray(long count)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	long sent = 0;

	if (fd < 0)
		return fail("socket");
	for (long i = 0; i < count; i++) {
		uint32_t host = (uint32_t)(i % 0xfffffe) + 1; /* 127.0.0.1 .. 127.255.255.254 */

		sin.sin_addr.s_addr = htonl(0x7f000000u | host);
		/* A peer nobody listens on may answer with an ICMP error, which an unconnected
		 * socket does not report: every send counts. */
		if (sendto(fd, "s", 1, 0, (struct sockaddr *)&sin, sizeof(sin)) == 1)
			sent++;
	}
	printf("datagrams=%ld\n", sent);
	close(fd);
	return 0;
}

struct blocked_send {
	int fd;
	struct sockaddr_in to;
	char *buf;
	ssize_t ret;
	int err;
};

static void *blocked_sender(void *arg)
{
	struct blocked_send *b = arg;

	b->ret = sendto(b->fd, b->buf, 100, 0, (struct sockaddr *)&b->to, sizeof(b->to));
	b->err = errno;
	return NULL;
}

static int udp_blocked(int count)
{
	struct sockaddr_in rx = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t rlen = sizeof(rx);
	long page = sysconf(_SC_PAGESIZE);
	struct blocked_send b = { .ret = -1 };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffd_msg msg;
	struct pollfd pfd;
	pthread_t t;
	char *src, data[100];
	int rfd, uffd, got = 0;

	rfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (rfd < 0 || bind(rfd, (struct sockaddr *)&rx, sizeof(rx)) || getsockname(rfd, (struct sockaddr *)&rx, &rlen))
		return fail("receiver");
	b.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (b.fd < 0)
		return fail("socket");
	b.to = rx;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		return fail("userfaultfd");
	b.buf = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b.buf == MAP_FAILED)
		return fail("mmap");
	reg.range.start = (unsigned long)b.buf;
	reg.range.len = (unsigned long)page;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return fail("userfaultfd register");
	if (pthread_create(&t, NULL, blocked_sender, &b))
		return fail("thread");
	/* The fault means thread A is inside sendto, past the cgroup sendmsg hook (which runs
	 * before the payload is copied), and waits for us. */
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	if (poll(&pfd, 1, 60000) != 1 || read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return fail("waiting for the blocked send");
	memset(data, 'b', sizeof(data));
	for (int i = 0; i < count; i++)
		if (sendto(b.fd, data, sizeof(data), 0, (struct sockaddr *)&b.to, sizeof(b.to)) != sizeof(data))
			return fail("send");
	src = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return fail("mmap");
	memset(src, 'a', (size_t)page);
	{
		struct uffdio_copy copy = { .dst = (unsigned long)b.buf, .src = (unsigned long)src,
					    .len = (unsigned long)page };

		if (ioctl(uffd, UFFDIO_COPY, &copy))
			return fail("userfaultfd copy");
	}
	pthread_join(t, NULL);
	if (b.ret != 100) {
		errno = b.err;
		return fail("blocked send");
	}
	for (int i = 0; i < count + 1; i++)
		if (recv(rfd, data, sizeof(data), 0) == sizeof(data))
			got++;
	printf("port=%d\ndatagrams=%d\nreceived=%d\n", ntohs(rx.sin_port), count + 1, got);
	return got == count + 1 ? 0 : 1;
}

static int udp_client(const char *addr, int port, int count, int size, const char *mode)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char mapped[64], buf[65536];
	int fd;

	if (size < 0 || size > (int)sizeof(buf)) {
		errno = EINVAL;
		return fail("size");
	}
	memset(buf, 'u', (size_t)size);
	if (!strcmp(mode, "mapped")) {
		snprintf(mapped, sizeof(mapped), "::ffff:%s", addr);
		addr = mapped;
	}
	len = sockaddr_of(addr, port, &ss);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!len || fd < 0)
		return fail("socket");
	if (!strcmp(mode, "connect") && connect(fd, (struct sockaddr *)&ss, len))
		return fail("connect");
	for (int i = 0; i < count; i++) {
		ssize_t n;

		if (!strcmp(mode, "paced") && i)
			usleep(20000);
		if (!strcmp(mode, "connect"))
			n = send(fd, buf, (size_t)size, 0);
		else
			n = sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&ss, len);

		if (n != size)
			return fail("send");
	}
	printf("datagrams=%d\nbytes=%ld\n", count, (long)count * size);
	close(fd);
	return 0;
}

static int unix_server(const char *path, const char *ready)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c;
	long got;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return fail("path");
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 8))
		return fail("listen");
	guard(fd);
	if (write_ready(ready, "ok\n"))
		return fail("ready file");
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return fail("accept");
	guard(c);
	got = read_all(c);
	if (got < 0 || write_n(c, 2))
		return fail("serve");
	printf("received=%ld\n", got);
	close(c);
	close(fd);
	unlink(path);
	return 0;
}

static int unix_client(const char *path, long send_bytes)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long got;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return fail("path");
	}
	strcpy(sun.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		return fail("connect");
	guard(fd);
	if (write_n(fd, send_bytes) || shutdown(fd, SHUT_WR))
		return fail("send");
	got = read_all(fd);
	if (got < 0)
		return fail("receive");
	printf("received=%ld\n", got);
	close(fd);
	return 0;
}

/* ---- connect storm: a listener thread accepting and closing, workers connecting ------ */

struct storm {
	int lfd;
	long pairs;
};

static void *storm_acceptor(void *arg)
{
	struct storm *s = arg;

	for (long i = 0; i < s->pairs; i++) {
		int c = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				i--;
				continue;
			}
			return (void *)1;
		}
		close(c);
	}
	return NULL;
}

static int storm_worker(const struct sockaddr_storage *ss, socklen_t len, long pairs)
{
	for (long i = 0; i < pairs; i++) {
		int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len))
			return 1;
		close(fd);
	}
	return 0;
}

static int storm(const char *addr, long pairs, int workers)
{
	struct storm s = { .pairs = pairs };
	struct sockaddr_storage ss;
	struct timespec t0, t1;
	pthread_t th;
	socklen_t len;
	void *ret;
	int failed = 0;

	if (pairs < 1 || workers < 1 || workers > 256) {
		errno = EINVAL;
		return fail("arguments");
	}
	s.lfd = bound_socket(addr, SOCK_STREAM);
	if (s.lfd < 0 || listen(s.lfd, 4096))
		return fail("listen");
	len = sockaddr_of(addr, port_of(s.lfd), &ss);
	printf("port=%d\n", port_of(s.lfd));
	fflush(stdout);
	if (pthread_create(&th, NULL, storm_acceptor, &s))
		return fail("thread");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int w = 0; w < workers; w++) {
		pid_t pid = fork();

		if (pid < 0)
			return fail("fork");
		if (pid == 0)
			_exit(storm_worker(&ss, len, pairs / workers + (w < pairs % workers)));
	}
	for (int w = 0; w < workers; w++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	pthread_join(th, &ret);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("pairs=%ld\nseconds=%.6f\nrate=%.0f\n", pairs, secs, (double)pairs / secs);
	close(s.lfd);
	return failed || ret ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of tests/helpers/fl-net.c\n");
	return 2;
}

/* Binds n sockets to port 0 at once (so they differ), prints their ports, closes them. */
static int free_ports(const char *addr, int n)
{
	int fds[64];

	if (n < 1 || n > 64)
		return fail("free-ports: 1..64");
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		fds[i] = bound_socket(addr, SOCK_STREAM);
		if (fds[i] < 0 || getsockname(fds[i], (struct sockaddr *)&ss, &len))
			return fail("free-ports");
		printf("%u\n", ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
							  ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "tcp-server") && argc == 6)
		return tcp_server(argv[2], argv[3], atoi(argv[4]), atol(argv[5]));
	if (!strcmp(mode, "tcp-greeter") && argc == 5)
		return tcp_greeter(argv[2], argv[3], atoi(argv[4]));
	if (!strcmp(mode, "tcp-client") && argc == 5)
		return tcp_client(argv[2], atoi(argv[3]), atol(argv[4]), NULL, 0);
	if (!strcmp(mode, "tcp-client") && argc == 7)
		return tcp_client(argv[2], atoi(argv[3]), atol(argv[4]), argv[5],
				  !strcmp(argv[6], "held"));
	if (!strcmp(mode, "tcp-refused") && argc == 3)
		return tcp_refused(argv[2]);
	if (!strcmp(mode, "udp-server") && argc == 5)
		return udp_server(argv[2], argv[3], atoi(argv[4]));
	if (!strcmp(mode, "udp-client") && argc == 7)
		return udp_client(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argv[6]);
	if (!strcmp(mode, "unix-server") && argc == 4)
		return unix_server(argv[2], argv[3]);
	if (!strcmp(mode, "unix-client") && argc == 4)
		return unix_client(argv[2], atol(argv[3]));
	if (!strcmp(mode, "free-ports") && argc == 4)
		return free_ports(argv[2], atoi(argv[3]));
	if (!strcmp(mode, "udp-spray") && argc == 3)
		return udp_spray(atol(argv[2]));
	if (!strcmp(mode, "udp-blocked") && argc == 3)
		return udp_blocked(atoi(argv[2]));
	if (!strcmp(mode, "storm") && argc == 5)
		return storm(argv[2], atol(argv[3]), atoi(argv[4]));
	return usage();
}
