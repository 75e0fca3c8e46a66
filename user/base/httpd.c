/* The small HTTP server; see httpd.h. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/httpd.h"
#include "base/threadcaps.h"
#include "base/log.h"

#ifndef FL_NO_HTTP
#include <microhttpd.h>

/*
 * A scrape or a probe is a handful of small requests a minute: a few connections suffice.
 * The limit and the idle timeout bound what a slow or stuck client can hold; the polling
 * thread never blocks on one client, so it cannot stall the others meanwhile.
 */
#define HTTPD_CONN_LIMIT 16
#define HTTPD_CONN_TIMEOUT_S 10
#define HTTPD_BACKLOG 16

struct httpd {
	struct MHD_Daemon *daemon;
	const char *const *paths;
	char not_found[256];     /* "not found: the path is /metrics" */
	httpd_answer_fn *answer;
	void *ctx;
	int port;
};

static enum MHD_Result reply_static(struct MHD_Connection *conn, unsigned int status,
				    const char *body, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "text/plain; charset=utf-8") != MHD_YES ||
	    (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Called by MHD for each request (on its thread). Answers on the first call: no answer
 * depends on a request body, and MHD discards one it was not asked to read.
 */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **req_cls)
{
	struct httpd *h = cls;
	const char *type = "text/plain; charset=utf-8";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body = NULL;
	size_t len = 0;
	int status;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	/* An unknown path wins over a wrong method: there is nothing there to allow. */
	{
		int known = 0;

		for (const char *const *p = h->paths; *p && !known; p++)
			known = !strcmp(*p, url);
		if (!known)
			return reply_static(conn, MHD_HTTP_NOT_FOUND, h->not_found, NULL);
	}
	/* HEAD is GET without the body (RFC 9110 9.3.2); MHD drops the body itself. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
	status = h->answer(h->ctx, url, &body, &len, &type);
	if (status < 0)
		return MHD_NO; /* out of memory: MHD closes the connection */
	resp = MHD_create_response_from_buffer(len, body ? body : (void *)"", body ? MHD_RESPMEM_MUST_FREE :
								     MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* MHD's own diagnostics (a client that went away, and the like): debug level only, since
 * start-up failures reach the caller as -errno anyway. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("http: %s", line);
}

/*
 * "host:port" or "[v6]:port", numeric host only: a metrics bind address is a security
 * decision, so it should not depend on what a resolver answers today. Port 0..65535.
 * On -EINVAL, *why says what is wrong with it (a static string).
 */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen, const char **why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[INET6_ADDRSTRLEN + 32];
	const char *port, *colon;
	size_t hlen, i;
	int err;

	*why = "not HOST:PORT";
	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - addr - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, hlen);
		port = close + 2;
		hints.ai_family = AF_INET6;
	} else {
		colon = strrchr(addr, ':');
		/* An unbracketed v6 address ("::1:9464") is ambiguous: refuse it. */
		if (colon && memchr(addr, ':', (size_t)(colon - addr))) {
			*why = "an IPv6 address goes in brackets";
			return -EINVAL;
		}
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - addr);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr, hlen);
		port = colon + 1;
		hints.ai_family = AF_INET;
	}
	host[hlen] = '\0';
	/* getaddrinfo would take "+1", " 1" or "0x10": insist on 1 to 5 decimal digits. */
	*why = "the port is not a number from 0 to 65535";
	for (i = 0; port[i]; i++)
		if (port[i] < '0' || port[i] > '9')
			return -EINVAL;
	if (i == 0 || i > 5 || atoi(port) > 65535)
		return -EINVAL;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err == EAI_MEMORY)
		return -ENOMEM;
	if (err) {
		*why = hints.ai_family == AF_INET6 ? "not a numeric IPv6 address" :
			"the host is not a numeric IPv4 address (names are not resolved)";
		return -EINVAL;
	}
	if (ai->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(ai);
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int httpd__check_addr(const char *addr, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	return parse_addr(addr, &ss, &sslen, why);
}

/* Binds and listens ourselves rather than letting MHD do it, so that the caller gets the
 * exact errno (EADDRINUSE, EADDRNOTAVAIL, EACCES) and we learn the port that 0 picked. */
static int open_listener(const struct sockaddr_storage *ss, socklen_t sslen, int *port)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int fd, one = 1, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Lets a restarted agent rebind while the old connections sit in TIME_WAIT; on Linux
	 * it does not let two live listeners share the port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)ss, sslen) < 0 || listen(fd, HTTPD_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (bound.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	return fd;
}

struct httpd *httpd__start(const char *addr, const char *const *paths, httpd_answer_fn *answer, void *ctx,
			   int *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	const char *why;
	sigset_t all, old;
	struct httpd *m = NULL;
	int fd = -1, ret, saved;

	ret = parse_addr(addr, &ss, &sslen, &why);
	if (ret)
		goto cleanup;
	m = calloc(1, sizeof(*m));
	if (!m) {
		ret = -ENOMEM;
		goto cleanup;
	}
	m->answer = answer;
	m->ctx = ctx;
	m->paths = paths;
	{
		size_t n = 0;
		int w = snprintf(m->not_found, sizeof(m->not_found), "not found: the path%s ",
				 paths[0] && paths[1] ? "s are" : " is");

		for (const char *const *p = paths; *p && w > 0 && (size_t)w < sizeof(m->not_found); p++, n++)
			w += snprintf(m->not_found + w, sizeof(m->not_found) - (size_t)w, "%s%s", n ? ", " : "", *p);
		if (w > 0 && (size_t)w < sizeof(m->not_found) - 1)
			snprintf(m->not_found + w, sizeof(m->not_found) - (size_t)w, "\n");
	}
	fd = open_listener(&ss, sslen, &m->port);
	if (fd < 0) {
		ret = fd;
		goto cleanup;
	}

	/*
	 * The HTTP thread inherits the caller's signal mask. Block everything while it is
	 * created so that SIGTERM/SIGINT stay with the agent's signalfd even if the agent
	 * starts the server before it blocks them: a process-directed signal delivered to this
	 * thread would otherwise take its default action and kill the agent uncleanly.
	 */
	sigfillset(&all);
	sigdelset(&all, THREADCAPS_SIGNAL); /* how the agent lowers this thread's capabilities */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = 0;
	m->daemon = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_CONN_TIMEOUT_S,
		MHD_OPTION_END);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* From the call on the socket is MHD's: it closes it on stop and also when the start
	 * fails (seen in 0.9.75), so we must not close it again. */
	fd = -1;
	if (!m->daemon) {
		ret = saved ? -saved : -EIO;
		goto cleanup;
	}
	return m;

cleanup:
	if (fd >= 0)
		close(fd);
	free(m);
	if (err)
		*err = ret;
	errno = -ret;
	return NULL;
}

int httpd__port(const struct httpd *h)
{
	return h ? h->port : 0;
}

void httpd__stop(struct httpd *h)
{
	if (!h)
		return;
	/* Joins the HTTP thread and closes every connection and the listening socket. */
	MHD_stop_daemon(h->daemon);
	free(h);
}

#else /* FL_NO_HTTP */

/* The static build (make static) has no libmicrohttpd: Debian 12 ships no static p11-kit
 * for the GnuTLS it links. */
struct httpd *httpd__start(const char *addr, const char *const *paths, httpd_answer_fn *answer, void *ctx,
			   int *err)
{
	(void)addr, (void)paths, (void)answer, (void)ctx;
	if (err)
		*err = -ENOTSUP;
	errno = ENOTSUP;
	return NULL;
}

int httpd__port(const struct httpd *h)
{
	(void)h;
	return 0;
}

/* Nothing to check: this build serves no address (httpd__start says so). */
int httpd__check_addr(const char *addr, const char **why)
{
	(void)addr;
	*why = NULL;
	return 0;
}

void httpd__stop(struct httpd *h)
{
	(void)h;
}

#endif /* FL_NO_HTTP */
